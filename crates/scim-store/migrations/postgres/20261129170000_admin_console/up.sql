-- Admin console: accounts (operators have no tenant) and failed sign-ins (rate limiting
-- shared by every replica). Passwords are argon2id PHC strings; API tokens are never
-- stored, only the current token's id.

CREATE TABLE admin_accounts (
    id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    email          TEXT NOT NULL,
    email_lower    TEXT COLLATE "C" NOT NULL,
    password_hash  TEXT NOT NULL,
    tenant_id      TEXT COLLATE "C" REFERENCES tenants (id) ON DELETE CASCADE,
    created        TIMESTAMP NOT NULL,
    last_sign_in   TIMESTAMP,
    api_token_id   TEXT
);
CREATE UNIQUE INDEX admin_accounts_email_lower_key ON admin_accounts (email_lower);

CREATE TABLE admin_sign_in_failures (
    id           BIGSERIAL PRIMARY KEY,
    email_lower  TEXT COLLATE "C" NOT NULL,
    at           TIMESTAMP NOT NULL
);
CREATE INDEX admin_sign_in_failures_email_idx ON admin_sign_in_failures (email_lower, at);
CREATE INDEX admin_sign_in_failures_at_idx ON admin_sign_in_failures (at);
