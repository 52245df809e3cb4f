//! `scim-events`: delivers each tenant's outbox events to its subscribers.
//!
//! The store keeps every committed change's events in a per-tenant outbox
//! (`scim_store::EventRepo`); this crate renders them as RFC 9967 Security Event Tokens,
//! signs them (HS256 JWS, one secret per subscription) and delivers them:
//!
//! - **webhooks**: an RFC 8935 push, `POST` of the JWS with
//!   `Content-Type: application/secevent+jwt`; any 2xx acknowledges it;
//! - **NATS JetStream**: the JWS published to the subscription's subject, acknowledged by
//!   the stream's PubAck, with `Nats-Msg-Id: <jti>` so JetStream drops duplicates.
//!
//! A [`Deliverer`] runs the background loop on any number of replicas: it leases due
//! subscriptions in the database (one worker per subscription at a time), sends each one's
//! events strictly in order, one at a time, records every attempt, retries failures with
//! exponential backoff and full jitter, and disables a subscription that kept failing for
//! the retry window, with a visible reason. Delivery is at least once: receivers
//! de-duplicate on `jti`.
//!
//! The pure parts ([`resolve_signing_key`], [`signing_key`], [`subscription_secret`], [`issuer`], [`render_set`],
//! [`sign_set`]) are what the console and the command line share with the worker.

mod backoff;
mod config;
mod deliverer;
mod error;
mod nats;
mod secret;
mod set;
mod webhook;
mod worker;

pub use backoff::{backoff, disable_reason, random_unit};
pub use config::DeliveryConfig;
pub use deliverer::{Deliverer, WorkerHandle};
pub use error::EventsError;
pub use secret::{
    EventSigningKey, SIGNING_KEY_SETTING, resolve_signing_key, signing_key, subscription_secret,
};
pub use set::{
    JWS_CONTENT_TYPE, SET_TYP, TEST_EVENT_URI, audience, issuer, render_set, render_test_set,
    sign_set,
};
