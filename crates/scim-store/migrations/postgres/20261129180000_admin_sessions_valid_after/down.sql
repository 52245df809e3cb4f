ALTER TABLE admin_accounts DROP COLUMN sessions_valid_after;
