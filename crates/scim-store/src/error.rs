//! The storage error type. Messages are safe to show to clients: no SQL, diesel or r2d2
//! text ever reaches them (that stays in the `source` chain, for logs).

/// The result type of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The tenant, resource or record does not exist (or belongs to another tenant).
    #[error("not found")]
    NotFound,
    /// A uniqueness constraint was violated; `attribute` names the SCIM attribute
    /// (`userName`, `displayName`, `externalId`, ...).
    #[error("{attribute} is already in use")]
    Conflict {
        /// The SCIM attribute whose value is taken.
        attribute: String,
    },
    /// An optimistic update expected a version that is no longer current.
    #[error("the resource was changed by another request (version mismatch)")]
    VersionMismatch,
    /// A token rotation expected a current token that is no longer current: another
    /// rotation won (see [`TenantRepo::set_current_token`](crate::TenantRepo::set_current_token)).
    #[error("the token was generated again elsewhere; reload")]
    TokenChanged,
    /// A group member (or manager) reference names no user or group of the same tenant.
    #[error("'{value}' is not a user or group of this organization")]
    InvalidReference {
        /// The referenced id.
        value: String,
    },
    /// The database cannot be reached (pool timeout, connection refused).
    #[error("the database is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database schema is newer than this binary, or a migration failed.
    #[error("database migration problem: {0}")]
    Migration(String),
    /// The configuration (e.g. the database URL) is invalid.
    #[error("invalid store configuration: {0}")]
    Config(String),
    /// The caller's change function refused the change (a SCIM error such as a failed
    /// `If-Match` or an invalid PATCH); nothing was written.
    #[error(transparent)]
    Rejected(scim_core::ScimError),
    /// The database is busy or the transaction lost a conflict it could not retry
    /// (lock timeout, deadlock, serialization failure); the request may be retried.
    #[error("the database is busy")]
    Busy(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Cursor paging was asked together with something it cannot serve (a `sortBy`).
    #[error("{0}")]
    Unsupported(&'static str),
    /// The request needs more work than the server is willing to do: a filter that cannot
    /// use an index would read more rows than the scan budget, or a list statement ran
    /// past the statement timeout (RFC 7644 `tooMany`). The message says which.
    #[error("{0}")]
    TooMany(String),
    /// A statement ran past the statement timeout and was cancelled (PostgreSQL
    /// `query_canceled`); the request may be retried.
    #[error("the statement timed out")]
    Timeout(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Any other backend failure. The message shown to clients stays generic.
    #[error("internal storage error")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}
