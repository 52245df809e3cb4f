-- scim-store initial schema (SQLite). Every resource table is keyed by tenant first.
-- Ids are TEXT, timestamps TIMESTAMP (UTC, millisecond precision, stored as text by
-- diesel), SCIM documents TEXT (JSON). The `*_lower` columns are lower-cased in Rust.
-- `user_emails` and `group_members` rows are written and deleted by the store in the same
-- transaction as their user/group; they carry no composite foreign key (a generic plan of
-- the FK check on an unanalysed PostgreSQL table walked a whole tenant per row).

CREATE TABLE tenants (
    id                  TEXT NOT NULL PRIMARY KEY,
    name                TEXT NOT NULL,
    created             TIMESTAMP NOT NULL,
    current_token_id    TEXT,
    token_generated_at  TIMESTAMP,
    token_last_used_at  TIMESTAMP
);

CREATE TABLE users (
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                  TEXT NOT NULL,
    user_name           TEXT NOT NULL,
    user_name_lower     TEXT NOT NULL,
    external_id         TEXT,
    active              BOOLEAN,
    display_name        TEXT,
    display_name_lower  TEXT,
    given_name          TEXT,
    family_name         TEXT,
    document            TEXT NOT NULL,
    version             BIGINT NOT NULL,
    created             TIMESTAMP NOT NULL,
    last_modified       TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX users_user_name_lower_key ON users (tenant_id, user_name_lower);
CREATE INDEX users_external_id_idx ON users (tenant_id, external_id, created, id);
CREATE INDEX users_display_name_lower_idx ON users (tenant_id, display_name_lower, created, id);
CREATE INDEX users_created_idx ON users (tenant_id, created, id);
CREATE INDEX users_last_modified_idx ON users (tenant_id, last_modified);

CREATE TABLE user_emails (
    tenant_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    position     INTEGER NOT NULL,
    value        TEXT NOT NULL,
    value_lower  TEXT NOT NULL,
    email_type   TEXT,
    is_primary   BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, user_id, position)
);
CREATE INDEX user_emails_value_lower_idx ON user_emails (tenant_id, value_lower);
CREATE INDEX user_emails_type_idx ON user_emails (tenant_id, email_type);

CREATE TABLE "groups" (
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                  TEXT NOT NULL,
    display_name        TEXT NOT NULL,
    display_name_lower  TEXT NOT NULL,
    external_id         TEXT,
    document            TEXT NOT NULL,
    version             BIGINT NOT NULL,
    created             TIMESTAMP NOT NULL,
    last_modified       TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX groups_display_name_lower_key ON "groups" (tenant_id, display_name_lower);
CREATE INDEX groups_external_id_idx ON "groups" (tenant_id, external_id, created, id);
CREATE INDEX groups_created_idx ON "groups" (tenant_id, created, id);
CREATE INDEX groups_last_modified_idx ON "groups" (tenant_id, last_modified);

CREATE TABLE group_members (
    tenant_id    TEXT NOT NULL,
    group_id     TEXT NOT NULL,
    member_id    TEXT NOT NULL,
    member_type  TEXT NOT NULL CHECK (member_type IN ('User', 'Group')),
    PRIMARY KEY (tenant_id, group_id, member_id)
);
CREATE INDEX group_members_member_idx ON group_members (tenant_id, member_id);

CREATE TABLE server_settings (
    key    TEXT NOT NULL PRIMARY KEY,
    value  TEXT NOT NULL
);

CREATE TABLE provisioning_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    at             TIMESTAMP NOT NULL,
    token_id       TEXT,
    operation      TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    summary        TEXT NOT NULL
);
CREATE INDEX provisioning_log_tenant_idx ON provisioning_log (tenant_id, id);
