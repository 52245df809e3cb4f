-- Organization-defined extension schemas (issue 11 §3, docs/schemas.md). `document` is the
-- canonical RFC 7643 §7 schema document scim-core produced when it was put; `active` is
-- false once removed: the row stays so that values stored under the URN keep being withheld
-- (never returned, filterable or accepted) and putting the URN again brings them back under
-- the same change rules. `tenants.schema_version` is bumped in the transaction of every put
-- and remove; requests read it with the tenant row and cache the tenant's resource types
-- per (tenant, version), so a tenant with version 0 costs no extra query.
ALTER TABLE tenants ADD COLUMN schema_version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE tenant_schemas (
    tenant_id     TEXT NOT NULL,
    id            TEXT NOT NULL,
    extends       TEXT NOT NULL CHECK (extends IN ('User', 'Group')),
    required      BOOLEAN NOT NULL DEFAULT FALSE,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    document      TEXT NOT NULL,
    created       TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
