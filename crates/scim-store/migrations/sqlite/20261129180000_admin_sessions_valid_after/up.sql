-- Sign-out ends every session of the account issued before this time.
ALTER TABLE admin_accounts ADD COLUMN sessions_valid_after TIMESTAMP;
