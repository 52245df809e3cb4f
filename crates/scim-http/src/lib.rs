//! `scim-http`: the actix-web layer of the SCIM server.
//!
//! It owns the `/scim/v2/{tenant_id}` routes, bearer-token authentication
//! ([`auth`], [`tokens`]), the per-tenant rate limit ([`limit`]), content negotiation
//! ([`request`]), the organization admins' request log ([`request_log`]) and the mapping
//! of every error to a SCIM error body ([`error`]). It is thin: it parses the request, calls `scim-core`
//! and `scim-store` (one store session per request, on the blocking pool, behind fair
//! queues sized to the connection pool), and shapes the response. It depends on
//! `scim-core` and `scim-store`, never on the binary.

pub mod auth;
pub mod cursor;
pub mod error;
pub mod legacy_tokens;
pub mod limit;
pub mod metrics;
pub mod openapi;
pub mod request;
pub mod request_log;
pub mod response;
pub mod routes;
pub mod service;
pub mod state;
pub mod telemetry;
pub mod tenant_schemas;
pub mod tokens;

pub use cursor::CursorKey;
pub use error::ApiError;
pub use limit::{RateLimit, TenantLimiter};
pub use request_log::RequestLog;
pub use routes::configure;
pub use state::{AppState, Limits};
pub use tokens::{TokenSigner, generate_token, rotate_token};
