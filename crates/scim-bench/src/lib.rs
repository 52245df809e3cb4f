//! `scim-bench`: helpers for `scripts/bench-compare`, never used by the server.
//!
//! Two binaries live here: `bare-responder` (an actix-web server that answers every
//! request with a fixed SCIM user, the ceiling of the HTTP stack on the machine) and
//! `seed` (fills a database quickly through the store, in batches, never over HTTP).
//! The library holds the parts both the binaries and a tiny test can reach.

pub mod bare;
pub mod seed;
