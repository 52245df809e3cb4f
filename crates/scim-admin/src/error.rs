//! The console's error type and how it is shown: an HTML page for the console, a JSON
//! object for the API. Store and internal failures are logged and shown generically.

use actix_web::http::StatusCode;
use scim_store::StoreError;

/// Why a console or API request failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No valid session or API token.
    #[error("sign-in required")]
    Unauthenticated,
    /// The organization, user, group or page does not exist or is not visible to the
    /// signed-in admin.
    #[error("not found")]
    NotFound,
    /// A CSRF or Origin check failed, or the action is reserved to operators.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Too many failed sign-ins for this e-mail address.
    #[error("too many failed sign-in attempts; try again in 15 minutes")]
    TooManyAttempts,
    /// Too many sign-ins from this client's address (per process).
    #[error("too many sign-in attempts from your network; try again in {retry_after_secs} seconds")]
    RateLimited {
        /// Whole seconds until the next attempt is allowed.
        retry_after_secs: u64,
    },
    /// Every argon2 permit stayed taken for too long: the server is busy checking
    /// passwords.
    #[error("the server is busy checking other sign-ins; try again in a moment")]
    Busy {
        /// Whole seconds to wait.
        retry_after_secs: u64,
    },
    /// The path exists but not with this method; the value is the `Allow` header.
    #[error("method not allowed; allowed: {0}")]
    MethodNotAllowed(String),
    /// The request is malformed (the message is safe to show).
    #[error("{0}")]
    BadRequest(String),
    /// The e-mail address (or another unique value, named) is taken.
    #[error("{0} is already in use")]
    Conflict(String),
    /// The change conflicts with the current state (e.g. removing an entitlement type that
    /// still has values); the message says what to do.
    #[error("{0}")]
    Refused(String),
    /// The page was out of date: what it showed changed elsewhere (a token generated
    /// again from another window or replica). The message says what to do.
    #[error("{0}")]
    Stale(&'static str),
    /// This process cannot do it (e.g. it runs no delivery worker); the message says why.
    #[error("{0}")]
    Unavailable(&'static str),
    /// Anything else (logged; shown generically).
    #[error("internal error")]
    Internal(String),
}

impl AdminError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AdminError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AdminError::NotFound => StatusCode::NOT_FOUND,
            AdminError::Forbidden(_) => StatusCode::FORBIDDEN,
            AdminError::TooManyAttempts | AdminError::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AdminError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AdminError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AdminError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AdminError::Conflict(_) | AdminError::Stale(_) | AdminError::Refused(_) => {
                StatusCode::CONFLICT
            }
            AdminError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AdminError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `Retry-After` of a refusal that passes with time, in seconds.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AdminError::RateLimited { retry_after_secs }
            | AdminError::Busy { retry_after_secs } => Some(*retry_after_secs),
            AdminError::TooManyAttempts => {
                Some(u64::try_from(crate::sign_in::FAILURE_WINDOW_MINUTES * 60).unwrap_or(900))
            }
            _ => None,
        }
    }

    /// The message shown to the user (never internal details).
    pub fn public_message(&self) -> String {
        match self {
            AdminError::Internal(_) => "Something went wrong on the server.".into(),
            other => other.to_string(),
        }
    }

    /// Logs internal errors (their detail never reaches the response).
    pub(crate) fn log(&self) {
        if let AdminError::Internal(detail) = self {
            tracing::error!(error = %detail, "admin console request failed");
        }
    }
}

/// What a Generate that lost to another one is told.
pub const TOKEN_CHANGED: &str = "The token was generated again elsewhere (another window, \
     admin or the command line) since this page was loaded; nothing was changed. Reload the \
     page to see the current token.";

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AdminError::NotFound,
            StoreError::Conflict { attribute } => AdminError::Conflict(attribute),
            StoreError::TokenChanged => AdminError::Stale(TOKEN_CHANGED),
            // A rule of the request refused it (an entitlement definition): its SCIM detail
            // is written for people.
            StoreError::Rejected(e) if e.status() == 409 => AdminError::Refused(e.detail().into()),
            StoreError::Rejected(e) if e.status() == 400 => {
                AdminError::BadRequest(e.detail().into())
            }
            other => {
                let mut detail = other.to_string();
                let mut src = std::error::Error::source(&other);
                while let Some(s) = src {
                    detail.push_str(": ");
                    detail.push_str(&s.to_string());
                    src = s.source();
                }
                AdminError::Internal(detail)
            }
        }
    }
}

impl From<scim_http::tokens::TokenError> for AdminError {
    fn from(e: scim_http::tokens::TokenError) -> Self {
        match e {
            scim_http::tokens::TokenError::Store(s) => s.into(),
            other => AdminError::Internal(other.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for AdminError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        AdminError::Internal("the blocking pool is gone".into())
    }
}
