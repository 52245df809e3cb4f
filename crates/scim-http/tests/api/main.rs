//! In-process HTTP tests of `scim-http` over a real `DieselStore` (temporary SQLite file):
//! status codes, content types, SCIM error bodies, authentication, tenant isolation, and
//! malformed input that must never produce a 5xx; the txn and PUT/PATCH each request gives
//! its events.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod bulk;
mod crud;
mod cursors;
mod doubles;
mod entitlements;
mod errors;
mod events;
mod failures;
mod helpers;
mod hostile;
mod limits;
mod lists;
mod openapi;
mod patch;
mod pause;
mod profiles;
mod request_log;
mod tenant_schemas;
