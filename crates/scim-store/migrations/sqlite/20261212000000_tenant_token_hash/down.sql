ALTER TABLE tenants DROP COLUMN paused_at;
ALTER TABLE tenants DROP COLUMN token_hash;
