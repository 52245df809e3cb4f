//! The crate's error type.

use scim_store::StoreError;

/// What can go wrong outside a delivery attempt (an attempt's failure is not an error: it
/// is recorded and retried).
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    /// The store failed or refused (e.g. an unknown subscription is `NotFound`).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The operating system's random source failed.
    #[error("no randomness: {0}")]
    Random(String),
    /// The shared event signing key in the settings table is not 32 bytes of base64.
    #[error("the stored event signing key is malformed")]
    BadSigningKey,
    /// The configured event signing key (`SCIM_EVENT_SIGNING_KEY`) is not base64 of 32
    /// bytes.
    #[error("the configured event signing key must be base64 of 32 bytes")]
    BadConfiguredKey,
    /// Signing a SET failed.
    #[error("signing a SET failed: {0}")]
    Signing(String),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Http(String),
    /// A blocking store call could not be run (the runtime is shutting down).
    #[error("background task failed: {0}")]
    Task(String),
}
