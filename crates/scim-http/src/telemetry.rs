//! Request logging: a [`tracing_actix_web::RootSpanBuilder`] whose root span carries the
//! request id and the tenant id, so every log line of a request names both, and one
//! `request finished` line per request.
//!
//! What the span never records:
//!
//! * **headers** other than `User-Agent` (the `Authorization` header holds the tenant's
//!   secret, the `Cookie` header the console session);
//! * **query values**, except those of [`LOGGED_QUERY_PARAMETERS`] (paging, sorting,
//!   projection): Okta's `filter=userName eq "ada@example.com"`, the console's `q=` search
//!   and the one-time `/admin/setup?code=…` are personal data or a credential. Any other
//!   parameter is logged by name with its value replaced by [`REDACTED`]: an allowlist, so
//!   a parameter added later is redacted until someone decides otherwise;
//! * **error details**: the client gets them in its SCIM error body, but they can quote
//!   the request's values, so the log keeps the status (and `scimType`) only.
//!
//! Paths are logged: every path segment the server routes is a server-generated id
//! (tenant, resource, subscription), never a userName or a secret. A client can put
//! anything in a path it makes up, so the logged target is cut at [`MAX_TARGET_CHARS`].

use actix_web::Error;
use actix_web::HttpMessage as _;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use std::fmt::Write as _;
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{RequestId, RootSpanBuilder};

/// The query parameters whose values are logged (case-insensitively): they steer paging,
/// sorting and projection and carry no personal data.
pub const LOGGED_QUERY_PARAMETERS: &[&str] = &[
    "startIndex",
    "count",
    "sortBy",
    "sortOrder",
    "attributes",
    "excludedAttributes",
    "page",
    "limit",
    "types",
];

/// What a redacted query value is logged as.
pub const REDACTED: &str = "***";

/// The logged request target is cut after this many characters.
pub const MAX_TARGET_CHARS: usize = 512;

/// The root span builder used by the server (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct ScimRootSpanBuilder;

/// The tenant id of a request path `/scim/v2/<tenant id>/...`, if it is one.
pub fn tenant_of_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/scim/v2/")?;
    let tenant = rest.split('/').next()?;
    (!tenant.is_empty()).then_some(tenant)
}

/// The request target as logged: the path, then the query with every value not in
/// [`LOGGED_QUERY_PARAMETERS`] replaced by [`REDACTED`], cut at [`MAX_TARGET_CHARS`].
pub fn loggable_target(path: &str, query: &str) -> String {
    let mut out = String::with_capacity(path.len() + query.len().min(64) + 1);
    out.push_str(path);
    let mut first = true;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        out.push(if first { '?' } else { '&' });
        first = false;
        let (name, value) = match pair.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (pair, None),
        };
        out.push_str(name);
        if let Some(value) = value {
            out.push('=');
            // Names are compared raw: a percent-encoded name is not one of ours, so its
            // value is redacted.
            if LOGGED_QUERY_PARAMETERS
                .iter()
                .any(|p| p.eq_ignore_ascii_case(name))
            {
                out.push_str(value);
            } else {
                out.push_str(REDACTED);
            }
        }
        if out.len() > MAX_TARGET_CHARS {
            break;
        }
    }
    if let Some((cut, _)) = out.char_indices().nth(MAX_TARGET_CHARS) {
        out.truncate(cut);
        let _ = write!(out, "…");
    }
    out
}

fn http_flavor(version: actix_web::http::Version) -> &'static str {
    use actix_web::http::Version;
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2.0",
        Version::HTTP_3 => "3.0",
        _ => "other",
    }
}

impl RootSpanBuilder for ScimRootSpanBuilder {
    fn on_request_start(request: &ServiceRequest) -> Span {
        // Routing has not run yet, so the tenant comes from the path itself.
        let tenant_id = tenant_of_path(request.path()).unwrap_or("-");
        let user_agent = request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .map(|h| h.to_str().unwrap_or(""))
            .unwrap_or("");
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let route = request.match_pattern();
        let route = route.as_deref().unwrap_or("default");
        let method = request.method().as_str();
        let info = request.connection_info();
        tracing::info_span!(
            "HTTP request",
            http.method = %method,
            http.route = %route,
            http.flavor = http_flavor(request.version()),
            http.scheme = %info.scheme(),
            http.host = %info.host(),
            http.client_ip = %info.realip_remote_addr().unwrap_or(""),
            http.user_agent = %user_agent,
            http.target = %loggable_target(request.path(), request.query_string()),
            http.status_code = Empty,
            otel.name = %format_args!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = Empty,
            request_id = %request_id,
            tenant_id = %tenant_id,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(e) => e.as_response_error().status_code(),
        };
        span.record("http.status_code", status.as_u16());
        span.record(
            "otel.status_code",
            if status.is_server_error() {
                "ERROR"
            } else {
                "OK"
            },
        );
        // One line per request, inside the root span (so it carries the request id, the
        // tenant id, the method, the route and the redacted target).
        span.in_scope(|| tracing::info!(status = status.as_u16(), "request finished"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_from_path() {
        assert_eq!(tenant_of_path("/scim/v2/abc/Users"), Some("abc"));
        assert_eq!(tenant_of_path("/scim/v2/abc"), Some("abc"));
        assert_eq!(tenant_of_path("/scim/v2/"), None);
        assert_eq!(tenant_of_path("/healthz"), None);
    }

    #[test]
    fn query_values_are_redacted_unless_allowed() {
        assert_eq!(
            loggable_target(
                "/scim/v2/t/Users",
                "filter=userName%20eq%20%22ada%40example.com%22&startIndex=1&count=100"
            ),
            "/scim/v2/t/Users?filter=***&startIndex=1&count=100"
        );
        assert_eq!(
            loggable_target("/admin/setup", "code=0123456789abcdef"),
            "/admin/setup?code=***"
        );
        assert_eq!(
            loggable_target("/admin/organizations/o/users", "q=ada&page=2"),
            "/admin/organizations/o/users?q=***&page=2"
        );
        // Any parameter not on the list, in any letter case or encoding, is redacted.
        assert_eq!(
            loggable_target(
                "/x",
                "FILTER=a&access_token=t&token=u&cursor=c&%66ilter=v&sortby=userName&flag"
            ),
            "/x?FILTER=***&access_token=***&token=***&cursor=***&%66ilter=***&sortby=userName&flag"
        );
        assert_eq!(loggable_target("/healthz", ""), "/healthz");
    }

    #[test]
    fn long_targets_are_cut() {
        let path = format!("/scim/v2/t/Users/{}", "é".repeat(2000));
        let logged = loggable_target(&path, "");
        assert_eq!(logged.chars().count(), MAX_TARGET_CHARS + 1);
        assert!(logged.ends_with('…'));
        let logged = loggable_target("/x", &"count=1&".repeat(1000));
        assert!(logged.chars().count() <= MAX_TARGET_CHARS + 1);
    }
}
