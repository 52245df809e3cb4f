//! The delivery worker against a real HTTP receiver: the scenarios of `scenarios` on the
//! in-memory double and on both real stores, plus the store-only walks.

// Test code: failing loudly is the point (clippy.toml's allow-*-in-tests covers only
// `#[test]` functions, not the shared helpers of an integration-test crate).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod db_feed;
mod lifecycle;
mod memory_feed;
mod nats_sink;
mod replicas;
mod scenarios;
mod support;
mod webhook_rules;
