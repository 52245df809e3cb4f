-- The event outbox (RFC 9967 security events) and its subscribers. Every table is keyed
-- by tenant first.
--
-- `events` is each tenant's feed: one row per event, appended in the write transaction
-- of the change that produced it. `position` is gap-free and in commit order per tenant:
-- it is allocated from `event_sequences` by an upsert that is the last statement before
-- the log row and the commit, so the counter row's lock serialises the numbering (a
-- later transaction waits for it and can never commit a lower position after a reader
-- saw a higher one). The counter row stays when events are pruned: positions are never
-- reused. "After position N, limit L" is a range scan of the primary key. (SQLite: WITHOUT
-- ROWID, so the key is the table's own B-tree: an append writes one B-tree, not a rowid
-- table plus a key index, which matters because every page a commit dirties goes to the
-- WAL in full.)
CREATE TABLE events (
    tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    position           BIGINT NOT NULL,
    jti                TEXT NOT NULL,
    txn                TEXT NOT NULL,
    event_type         TEXT NOT NULL,
    resource_type      TEXT NOT NULL CHECK (resource_type IN ('User', 'Group')),
    resource_id        TEXT NOT NULL,
    external_id        TEXT,
    version            BIGINT,
    data               TEXT,
    attributes         TEXT NOT NULL,
    group_id           TEXT,
    group_external_id  TEXT,
    created_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, position)
) WITHOUT ROWID;
-- No index on `jti`: it is a random 128-bit UUID (a collision is negligible), nothing looks
-- an event up by it, and the index cost a page write per event.

CREATE TABLE event_sequences (
    tenant_id      TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    last_position  BIGINT NOT NULL
) WITHOUT ROWID;
-- Every tenant has its counter row, so allocating is an UPDATE (the store upserts for a
-- tenant without one).
INSERT INTO event_sequences (tenant_id, last_position) SELECT id, 0 FROM tenants;

-- A tenant's webhook / NATS subscribers: target (`Sink::target()`), mode, filter (JSON
-- array of short event names, NULL: all), the cursor (last position given or skipped),
-- the backoff state and the worker's lease. The secret is never stored: it is derived
-- from the server's key, the id and `secret_version`.
CREATE TABLE event_subscriptions (
    id               TEXT NOT NULL,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    target           TEXT NOT NULL,
    mode             TEXT NOT NULL CHECK (mode IN ('full', 'notice')),
    events           TEXT,
    enabled          BOOLEAN NOT NULL,
    disabled_reason  TEXT,
    secret_version   BIGINT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    cursor           BIGINT NOT NULL,
    attempts         BIGINT NOT NULL,
    failing_since    TIMESTAMP,
    next_attempt     TIMESTAMP,
    last_error       TEXT,
    lease_owner      TEXT,
    lease_until      TIMESTAMP,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX event_subscriptions_id_key ON event_subscriptions (id);
CREATE INDEX event_subscriptions_created_idx ON event_subscriptions (tenant_id, created_at, id);

-- One row per delivery attempt (the console's delivery log).
CREATE TABLE event_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        TEXT NOT NULL,
    subscription_id  TEXT NOT NULL,
    position         BIGINT NOT NULL,
    jti              TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    attempt          BIGINT NOT NULL,
    redelivery       BOOLEAN NOT NULL,
    at               TIMESTAMP NOT NULL,
    outcome          TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed')),
    status_code      INTEGER,
    error            TEXT,
    duration_ms      BIGINT NOT NULL,
    next_try         TIMESTAMP
);
CREATE INDEX event_deliveries_subscription_idx ON event_deliveries (tenant_id, subscription_id, id DESC);
CREATE INDEX event_deliveries_position_idx ON event_deliveries (tenant_id, position);

-- Events queued for one more delivery to one subscription, out of band.
CREATE TABLE event_redeliveries (
    subscription_id  TEXT NOT NULL,
    position         BIGINT NOT NULL,
    tenant_id        TEXT NOT NULL,
    queued_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (subscription_id, position)
);

-- The positions of the events a logged change produced (NULL: none).
ALTER TABLE provisioning_log ADD COLUMN event_first BIGINT;
ALTER TABLE provisioning_log ADD COLUMN event_last BIGINT;
