-- Console sessions and admin API tokens at rest: nothing stored here is enough to
-- authenticate. A session is a random cookie value of which only the SHA-256 is kept
-- (looked up by it, valid until `expires_at`, gone with its account); an admin API token is
-- kept as its SHA-256 too. Signing out deletes the account's rows, so it needs no clock
-- comparison between replicas (`sessions_valid_after` goes). The key that signed the old
-- JWT sessions and API tokens goes as well: console users sign in again and API tokens
-- must be reissued after this upgrade.

CREATE TABLE admin_sessions (
    id_sha256   TEXT NOT NULL PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES admin_accounts (id) ON DELETE CASCADE,
    created     TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);
CREATE INDEX admin_sessions_account_idx ON admin_sessions (account_id);
CREATE INDEX admin_sessions_expires_idx ON admin_sessions (expires_at);

ALTER TABLE admin_accounts ADD COLUMN api_token_sha256 TEXT;
CREATE UNIQUE INDEX admin_accounts_api_token_key ON admin_accounts (api_token_sha256);
ALTER TABLE admin_accounts DROP COLUMN api_token_id;
ALTER TABLE admin_accounts DROP COLUMN sessions_valid_after;

DELETE FROM server_settings WHERE key = 'admin_session_key';
