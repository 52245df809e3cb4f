//! `ApiError`: every failure a handler can meet, rendered as a SCIM error body
//! (RFC 7644 §3.12) with `Content-Type: application/scim+json`.
//!
//! Store errors are mapped here once: `NotFound` → 404, `Conflict` → 409 `uniqueness`,
//! `VersionMismatch` → 412, `InvalidReference` → 400 `invalidValue`, `Unavailable` and
//! `Busy` → 503 (with `Retry-After`), `Rejected(e)` → `e` (the change function's own SCIM
//! error, e.g. a failed `If-Match`), `Unsupported` → 400 `invalidValue`, `TooMany` → 400
//! `tooMany`, `Timeout` → 503, `TokenChanged` → 409, anything else → 500 with a generic
//! detail (the source chain goes to the log, never to the client). A tenant over its rate
//! limit is 429; a paused tenant is 403 with [`PAUSED_DETAIL`].

use crate::response::SCIM_JSON;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use scim_core::ScimError;
use scim_store::StoreError;
use std::error::Error as _;
use std::fmt::Write as _;

/// The realm announced in `WWW-Authenticate` on every 401.
pub const WWW_AUTHENTICATE: &str = "Bearer realm=\"scim\"";

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A SCIM protocol error, shown to the client as is.
    #[error(transparent)]
    Scim(#[from] ScimError),
    /// A storage error, mapped to a SCIM error.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Authentication failed; the reason is for the log only (the client sees a generic
    /// message so that it learns nothing about tenants or tokens).
    #[error("authentication failed: {0}")]
    Unauthorized(&'static str),
    /// The tenant is over its rate limit (429 with `Retry-After` and `RateLimit-*`).
    #[error("rate limited")]
    Throttled(crate::limit::Throttled),
    /// The tenant's administrator paused provisioning (403, with a detail an identity
    /// provider's admin can act on). Only ever after a successful token check.
    #[error("provisioning is paused")]
    Paused,
}

/// The log-only reason of the 401 for a tenant id that does not exist (such requests are
/// not request-logged: no tenant to log them under).
pub const UNKNOWN_TENANT: &str = "tenant does not exist";

/// The `detail` of the 403 a paused tenant gets (shown by Okta's "Test API Credentials"
/// and in Entra's provisioning logs).
pub const PAUSED_DETAIL: &str = "Provisioning for this organization is paused by its \
     administrator. Resume it in the SCIM server's console (Settings) or with \
     `scim-server tenant resume`.";

impl ApiError {
    /// The SCIM error the client sees.
    pub fn to_scim(&self) -> ScimError {
        match self {
            ApiError::Scim(e) => e.clone(),
            ApiError::Unauthorized(_) => ScimError::unauthorized(
                "Authentication failed: send this organization's secret token as \
                 'Authorization: Bearer <token>'",
            ),
            ApiError::Paused => ScimError::forbidden(PAUSED_DETAIL),
            ApiError::Throttled(t) => ScimError::too_many_requests(format!(
                "This organization is over its rate limit of {} requests per second; retry \
                 after {} s",
                t.limit.per_second, t.retry_after_secs
            )),
            ApiError::Store(e) => match e {
                StoreError::NotFound => ScimError::not_found("Resource not found"),
                StoreError::Conflict { attribute } => ScimError::uniqueness(format!(
                    "{attribute} is already in use by another resource of this organization"
                )),
                StoreError::VersionMismatch => ScimError::precondition_failed(
                    "The resource was changed by another request (version mismatch)",
                ),
                StoreError::InvalidReference { value } => ScimError::invalid_value(format!(
                    "'{value}' is not a user or group of this organization"
                )),
                StoreError::Unavailable(_) => {
                    ScimError::unavailable("The database is unavailable; retry later")
                }
                StoreError::Busy(_) => {
                    ScimError::unavailable("The database is busy; retry shortly")
                }
                StoreError::Rejected(e) => e.clone(),
                StoreError::TokenChanged => {
                    ScimError::conflict("The token was generated again elsewhere; reload")
                }
                StoreError::Unsupported(what) => ScimError::invalid_value(*what),
                StoreError::TooMany(detail) => ScimError::too_many(detail.clone()),
                StoreError::Timeout(_) => ScimError::unavailable(
                    "The database took too long to answer and the request was cancelled; \
                     retry later",
                ),
                StoreError::Migration(_) | StoreError::Config(_) | StoreError::Backend(_) => {
                    ScimError::internal("Internal server error")
                }
            },
        }
    }

    /// Whether this is the 401 for a tenant id that does not exist.
    pub fn is_unknown_tenant(&self) -> bool {
        matches!(self, ApiError::Unauthorized(r) if *r == UNKNOWN_TENANT)
    }

    /// A 404 naming the resource that was not found.
    pub fn not_found(kind: scim_core::ResourceKind, id: &str) -> Self {
        ApiError::Scim(ScimError::not_found(format!(
            "{} {} not found",
            kind.as_str(),
            truncate(id, 100)
        )))
    }
}

/// Maps a store error, turning `NotFound` into a 404 that names the resource.
pub fn store_error_for(kind: scim_core::ResourceKind, id: &str, e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found(kind, id),
        other => ApiError::Store(other),
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        ApiError::Scim(ScimError::unavailable(
            "The server is overloaded (blocking pool shut down); retry later",
        ))
    }
}

/// The whole `source` chain of an error, for logs.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(out, ": {s}");
        source = s.source();
    }
    out
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.to_scim().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let scim = self.to_scim();
        match self {
            ApiError::Store(e) if scim.status() >= 500 => {
                tracing::error!(error = %error_chain(e), source = ?e.source().map(|s| s.to_string()), "store failure");
            }
            ApiError::Unauthorized(reason) => {
                tracing::info!(reason, "authentication failed");
            }
            _ if scim.status() >= 500 => tracing::error!(error = %scim, "request failed"),
            // The client gets the detail; it can quote the request's values (personal
            // data), so the log keeps the status and the scimType.
            _ => tracing::debug!(
                status = scim.status(),
                scim_type = scim.scim_type().map(|t| t.as_str()).unwrap_or(""),
                "request rejected"
            ),
        }
        let mut response = scim_error_response(&scim);
        if let ApiError::Throttled(t) = self {
            throttled_headers(response.headers_mut(), t);
        }
        if scim.status() == 408 {
            // The rest of a body that came too slowly is not waited for.
            response
                .head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close);
        }
        response
    }
}

/// The headers of a 429: `Retry-After` and the draft-ietf-httpapi-ratelimit-headers
/// fields (the limit is the per-second rate, so `RateLimit-Reset` is the same wait).
fn throttled_headers(
    headers: &mut actix_web::http::header::HeaderMap,
    t: &crate::limit::Throttled,
) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(header::HeaderName::from_static(name), v);
        }
    };
    set("retry-after", t.retry_after_secs.to_string());
    set("ratelimit-limit", t.limit.per_second.to_string());
    set("ratelimit-remaining", "0".into());
    set("ratelimit-reset", t.retry_after_secs.to_string());
    set(
        "ratelimit-policy",
        format!("{};w=1;burst={}", t.limit.per_second, t.limit.burst),
    );
}

/// The HTTP response for a SCIM error (adds `WWW-Authenticate` on 401).
pub fn scim_error_response(err: &ScimError) -> HttpResponse {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    builder.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON)));
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
        builder.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
    }
    if status == StatusCode::UNAUTHORIZED {
        builder.insert_header((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(WWW_AUTHENTICATE),
        ));
    }
    builder.body(err.to_json().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_scim_statuses() {
        let cases: Vec<(StoreError, u16)> = vec![
            (StoreError::NotFound, 404),
            (
                StoreError::Conflict {
                    attribute: "userName".into(),
                },
                409,
            ),
            (StoreError::VersionMismatch, 412),
            (StoreError::TokenChanged, 409),
            (StoreError::InvalidReference { value: "x".into() }, 400),
            (StoreError::Unavailable("pool timeout".into()), 503),
            (StoreError::Backend("syntax error at SELECT".into()), 500),
            (StoreError::Migration("m".into()), 500),
            (StoreError::Busy("deadlock detected in SELECT".into()), 503),
            (
                StoreError::Rejected(ScimError::precondition_failed("If-Match")),
                412,
            ),
            (StoreError::Unsupported("sorted cursor paging"), 400),
            (
                StoreError::TooMany("the filter reads too many rows".into()),
                400,
            ),
            (
                StoreError::Timeout("canceling statement due to statement timeout".into()),
                503,
            ),
        ];
        for (e, status) in cases {
            let api = ApiError::from(e);
            let scim = api.to_scim();
            assert_eq!(scim.status(), status);
            assert!(!scim.detail().contains("SELECT"));
        }
        let conflict = ApiError::from(StoreError::Conflict {
            attribute: "userName".into(),
        });
        assert_eq!(conflict.to_scim().to_json()["scimType"], "uniqueness");
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate("ééé", 2), "éé");
        assert_eq!(truncate("ab", 5), "ab");
    }
}
