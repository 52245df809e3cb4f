-- Okta Identity Governance roles and entitlements (issue 11 §4). The values an
-- organization defines (kind 'role', 'entitlement' or the id of one of its own
-- entitlement_types), served read-only at /Roles, /Entitlements and the types' endpoints,
-- and checked against a user's roles and entitlements once a kind has values. Both tables
-- are emptied by TenantRepo::delete_tenant.
CREATE TABLE entitlement_types (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    -- Lower-cased in Rust: ids and endpoints are unique per tenant ignoring letter case.
    id_lower    TEXT NOT NULL,
    name        TEXT NOT NULL,
    endpoint    TEXT NOT NULL,
    endpoint_lower TEXT NOT NULL,
    created     TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX entitlement_types_id_lower_key ON entitlement_types (tenant_id, id_lower);
CREATE UNIQUE INDEX entitlement_types_endpoint_lower_key ON entitlement_types (tenant_id, endpoint_lower);

CREATE TABLE entitlement_values (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    display     TEXT NOT NULL,
    created     TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX entitlement_values_value_key ON entitlement_values (tenant_id, kind, value);
-- The list order of one kind's endpoint.
CREATE INDEX entitlement_values_created_idx ON entitlement_values (tenant_id, kind, created, id);
