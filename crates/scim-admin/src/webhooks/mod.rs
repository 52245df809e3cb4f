//! An organization's event subscriptions (webhooks and NATS subjects) and its event feed,
//! as the console and the JSON API manage them: the operations ([`service`]), the JSON
//! shapes ([`json`]), the API routes ([`api`]), the console pages ([`pages`]) and their
//! templates ([`views`]).
//!
//! A subscription's signing secret is never stored: it is derived from the server's event
//! key, the subscription's id and its secret version (`scim_events::subscription_secret`),
//! and shown exactly twice in its life: in the answer that creates it, and in the answer
//! that rotates it. Every other answer (lists, details, edits, delivery logs, test results)
//! leaves it out, and no log line carries it, nor the target URL (which may embed a token).

pub mod api;
pub mod json;
pub mod pages;
pub mod service;
mod views;

pub(crate) use views::delivery_state;
