-- Per-tenant, per-kind counters, kept by the store in the same transaction as every create
-- and delete, so an unfiltered list's totalResults is O(1) instead of a COUNT(*) over the
-- tenant. `inserted` and `deleted` only grow: their difference is the total, and a change
-- of `deleted` tells the index-paging keyset hints that earlier offsets moved. Writers
-- spread over 16 shards (random per transaction) so concurrent creates in one tenant do
-- not queue on one row lock; readers sum the shards.
CREATE TABLE resource_counts (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    resource_type  TEXT NOT NULL CHECK (resource_type IN ('User', 'Group')),
    shard          INTEGER NOT NULL,
    inserted       BIGINT NOT NULL,
    deleted        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, resource_type, shard)
);
INSERT INTO resource_counts (tenant_id, resource_type, shard, inserted, deleted)
    SELECT tenant_id, 'User', 0, COUNT(*), 0 FROM users GROUP BY tenant_id;
INSERT INTO resource_counts (tenant_id, resource_type, shard, inserted, deleted)
    SELECT tenant_id, 'Group', 0, COUNT(*), 0 FROM groups GROUP BY tenant_id;
