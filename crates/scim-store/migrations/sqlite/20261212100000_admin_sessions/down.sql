-- Back to JWT sessions: every session and API token is gone (sign in again, reissue).
ALTER TABLE admin_accounts ADD COLUMN sessions_valid_after TIMESTAMP;
ALTER TABLE admin_accounts ADD COLUMN api_token_id TEXT;
DROP INDEX admin_accounts_api_token_key;
ALTER TABLE admin_accounts DROP COLUMN api_token_sha256;
DROP TABLE admin_sessions;
