DROP TABLE admin_sign_in_failures;
DROP TABLE admin_accounts;
