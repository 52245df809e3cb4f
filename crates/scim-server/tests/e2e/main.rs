//! End-to-end tests: the real `scim-server` binary over real HTTP, tenants and tokens made
//! through its CLI, on SQLite and (when `SCIM_TEST_DATABASE_URL` is set) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin_cli;
mod config_file;
mod console_browser;
mod crash;
mod crash_loop;
mod db_copy;
mod db_copy_console;
mod entitlements;
mod entra;
mod event_key;
mod events;
mod feed;
mod harness;
mod isolation;
mod limits;
mod load;
mod logs;
mod metrics;
mod nats;
mod okta;
mod pause;
mod profile;
mod receiver;
mod replicas;
mod request_log;
mod schemas;
mod tenant_lifecycle;
mod two_replicas;
