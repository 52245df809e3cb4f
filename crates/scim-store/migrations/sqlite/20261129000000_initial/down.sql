DROP TABLE provisioning_log;
DROP TABLE server_settings;
DROP TABLE group_members;
DROP TABLE "groups";
DROP TABLE user_emails;
DROP TABLE users;
DROP TABLE tenants;
