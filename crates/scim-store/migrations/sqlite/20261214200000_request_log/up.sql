-- The request log (issue 12 §3): one row per SCIM request to an existing organization,
-- including rejected tokens and every 4xx, for the organization's admins. Writes commit
-- their row in the write's own transaction; reads and refused requests are inserted in
-- batches by a background writer. No foreign key to tenants: the batch writer inserts
-- only rows of tenants that exist, and TenantRepo::delete_tenant deletes the rows.
-- `summary` is masked JSON (never a value a client sent, see scim-http request_log).
CREATE TABLE request_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL,
    at           TIMESTAMP NOT NULL,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    status       INTEGER NOT NULL,
    action       TEXT NOT NULL,
    scim_type    TEXT,
    latency_ms   INTEGER NOT NULL,
    client       TEXT NOT NULL,
    resource_id  TEXT,
    summary      TEXT NOT NULL
);
-- Newest-first keyset pages of one tenant, time-range filters, and the retention prune.
CREATE INDEX request_log_tenant_at_idx ON request_log (tenant_id, at, id);
