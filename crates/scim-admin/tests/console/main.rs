//! In-process HTTP tests of the admin console and its API over a real `DieselStore`
//! (temporary SQLite file), wired exactly as `serve` wires them (console first, then the
//! SCIM routes): anonymous refusal, organization isolation, CSRF, server-side sessions and
//! hashed API tokens, the sign-in limits (per client, per e-mail address, under parallel
//! guesses), the token shown once, the set-up link, malformed input, and the events API and
//! webhook pages (with a real receiver and delivery worker).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;
mod receiver;

mod access;
mod delete_org;
mod delivery;
mod entitlements;
mod events;
mod ids;
mod limits;
mod openapi;
mod pages;
mod pause;
mod profile;
mod requests;
mod schemas;
mod sessions;
mod tokens;
mod webhook_access;
mod webhooks;
