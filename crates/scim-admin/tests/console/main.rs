//! In-process HTTP tests of the admin console and its API over a real `DieselStore`
//! (temporary SQLite file), wired exactly as `serve` wires them (console first, then the
//! SCIM routes): anonymous refusal, organization isolation, CSRF, the failed sign-in
//! limit, the token shown once, the set-up link, and malformed input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod access;
mod pages;
mod tokens;
