-- Tenant tokens become opaque random strings: the row keeps only the SHA-256 of the
-- current one (lowercase hex), never the token or a key that could mint it.
-- `current_token_id` stays as the token's public id (derived from the digest; it
-- authenticates nothing). Tokens of the JWT era have no hash until the server's start-up
-- upgrade recomputes it (scim-http legacy_tokens). `paused_at` set: provisioning for the
-- tenant is paused by its administrator (403 on every SCIM endpoint, data kept).
ALTER TABLE tenants ADD COLUMN token_hash TEXT;
ALTER TABLE tenants ADD COLUMN paused_at TIMESTAMP;
