//! Prometheus metrics of the HTTP layer, recorded into the [`metrics`] facade (a no-op until
//! the binary installs a recorder, so tests and embedders pay nothing).
//!
//! Every label has a bounded set of values: routes are actix's matched *patterns*
//! (`/scim/v2/{tenant_id}/Users/{id}`, or `unmatched`), methods are the standard ones or
//! `other`, statuses are classes (`2xx` ... `5xx`). The tenant id is a label only when the
//! operator asks for it ([`RequestMetrics::per_tenant`]), and only on requests whose token
//! was accepted (any status but 401), so a client inventing tenant ids in paths cannot
//! create series.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `scim_http_requests_total` | counter | `route`, `method`, `status` |
//! | `scim_http_request_duration_seconds` | histogram | `route`, `method` |
//! | `scim_provisioning_operations_total` | counter | `resource`, `operation`, `outcome` (+ `tenant`) |
//! | `scim_rate_limit_rejections_total` | counter | `scope` (`tenant` or `admin`) |
//! | `scim_db_queue_wait_seconds` | histogram | `access` (`read`, `write`) |
//! | `scim_db_connections_in_use` | gauge | `access` |
//! | `scim_db_queue_timeouts_total` | counter | `access` |
//! | `scim_request_log_written_total` | counter | (none; [`crate::request_log`]) |
//! | `scim_request_log_dropped_total` | counter | `reason` (`queue_full`, `write_failed`) |

use crate::telemetry::tenant_of_path;
use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use std::time::Instant;

/// Requests by route, method and status class.
pub const REQUESTS_TOTAL: &str = "scim_http_requests_total";
/// Request latency by route and method, in seconds.
pub const REQUEST_DURATION_SECONDS: &str = "scim_http_request_duration_seconds";
/// SCIM provisioning operations (create, replace, patch, delete, get, list, bulk) by
/// resource type and outcome.
pub const PROVISIONING_OPERATIONS_TOTAL: &str = "scim_provisioning_operations_total";
/// Requests refused with 429 by a rate limit.
pub const RATE_LIMIT_REJECTIONS_TOTAL: &str = "scim_rate_limit_rejections_total";
/// How long a request waited for a database connection, in seconds.
pub const DB_QUEUE_WAIT_SECONDS: &str = "scim_db_queue_wait_seconds";
/// Database connections held by requests right now.
pub const DB_CONNECTIONS_IN_USE: &str = "scim_db_connections_in_use";
/// Requests that gave up waiting for a database connection (503).
pub const DB_QUEUE_TIMEOUTS_TOTAL: &str = "scim_db_queue_timeouts_total";

/// The request-metrics middleware's settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestMetrics {
    /// Adds a `tenant` label to `scim_provisioning_operations_total` (one series per tenant,
    /// resource, operation and outcome: turn it on only for a bounded number of tenants).
    pub per_tenant: bool,
}

/// The method label: the standard methods by name, anything else `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The status label: its class.
pub fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The provisioning operation a SCIM route and method perform, as `(resource, operation)`,
/// or `None` for discovery, the console and everything else.
pub fn provisioning_operation(
    route: &str,
    method: &Method,
) -> Option<(&'static str, &'static str)> {
    let rest = route.strip_prefix("/scim/v2/{tenant_id}/")?;
    let (collection, item) = match rest.split_once('/') {
        Some((c, _)) => (c, true),
        None => (rest, false),
    };
    let resource = match collection {
        "Users" => "User",
        "Groups" => "Group",
        "Bulk" => return (*method == Method::POST).then_some(("Bulk", "bulk")),
        _ => return None,
    };
    let operation = match (method.clone(), item) {
        (Method::GET, true) => "get",
        (Method::GET, false) => "list",
        (Method::POST, false) => "create",
        (Method::POST, true) => "search",
        (Method::PUT, true) => "replace",
        (Method::PATCH, true) => "patch",
        (Method::DELETE, true) => "delete",
        _ => return None,
    };
    Some((resource, operation))
}

fn outcome(status: StatusCode) -> &'static str {
    if status.is_success() {
        "success"
    } else if status.is_client_error() {
        "client_error"
    } else {
        "server_error"
    }
}

impl RequestMetrics {
    /// Records one finished request.
    pub fn record(&self, route: &str, method: &Method, path: &str, status: StatusCode, secs: f64) {
        let method_name = method_label(method);
        let route = route.to_string();
        metrics::counter!(REQUESTS_TOTAL, "route" => route.clone(), "method" => method_name, "status" => status_class(status))
            .increment(1);
        metrics::histogram!(REQUEST_DURATION_SECONDS, "route" => route.clone(), "method" => method_name)
            .record(secs);
        if status == StatusCode::TOO_MANY_REQUESTS {
            let scope = if route.starts_with("/scim/") {
                "tenant"
            } else {
                "admin"
            };
            metrics::counter!(RATE_LIMIT_REJECTIONS_TOTAL, "scope" => scope).increment(1);
        }
        if let Some((resource, operation)) = provisioning_operation(&route, method) {
            let tenant = tenant_of_path(path)
                .filter(|_| self.per_tenant && status != StatusCode::UNAUTHORIZED);
            match tenant {
                Some(tenant) => metrics::counter!(PROVISIONING_OPERATIONS_TOTAL,
                    "resource" => resource, "operation" => operation, "outcome" => outcome(status),
                    "tenant" => tenant.to_string())
                .increment(1),
                None => metrics::counter!(PROVISIONING_OPERATIONS_TOTAL,
                    "resource" => resource, "operation" => operation, "outcome" => outcome(status))
                .increment(1),
            }
        }
    }

    /// The middleware (for [`actix_web::middleware::from_fn`]): times the request and
    /// records it once the response is ready.
    pub async fn middleware(
        self,
        req: ServiceRequest,
        next: Next<impl MessageBody>,
    ) -> Result<ServiceResponse<impl MessageBody>, Error> {
        let started = Instant::now();
        let route = req
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_string());
        let method = req.method().clone();
        let path = req.path().to_string();
        let response = next.call(req).await;
        let status = match &response {
            Ok(r) => r.status(),
            Err(e) => e.as_response_error().status_code(),
        };
        self.record(
            &route,
            &method,
            &path,
            status,
            started.elapsed().as_secs_f64(),
        );
        response
    }
}

/// Records a finished wait for a database connection of `access` (`read` or `write`).
pub fn record_queue_wait(access: &'static str, secs: f64, timed_out: bool) {
    metrics::histogram!(DB_QUEUE_WAIT_SECONDS, "access" => access).record(secs);
    if timed_out {
        metrics::counter!(DB_QUEUE_TIMEOUTS_TOTAL, "access" => access).increment(1);
    }
}

/// A held database connection of `access`, counted in `scim_db_connections_in_use` until
/// dropped.
pub struct ConnectionInUse(&'static str);

impl ConnectionInUse {
    /// Counts one more connection of `access` in use.
    pub fn new(access: &'static str) -> Self {
        metrics::gauge!(DB_CONNECTIONS_IN_USE, "access" => access).increment(1.0);
        ConnectionInUse(access)
    }
}

impl Drop for ConnectionInUse {
    fn drop(&mut self) {
        metrics::gauge!(DB_CONNECTIONS_IN_USE, "access" => self.0).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_come_from_route_patterns() {
        let t = "/scim/v2/{tenant_id}";
        type Case = (&'static str, Method, Option<(&'static str, &'static str)>);
        let cases: &[Case] = &[
            ("/Users", Method::POST, Some(("User", "create"))),
            ("/Users", Method::GET, Some(("User", "list"))),
            ("/Users/{id}", Method::GET, Some(("User", "get"))),
            ("/Users/{id}", Method::PUT, Some(("User", "replace"))),
            ("/Users/{id}", Method::PATCH, Some(("User", "patch"))),
            ("/Users/{id}", Method::DELETE, Some(("User", "delete"))),
            ("/Groups/{id}", Method::PATCH, Some(("Group", "patch"))),
            ("/Users/.search", Method::POST, Some(("User", "search"))),
            ("/Bulk", Method::POST, Some(("Bulk", "bulk"))),
            ("/Schemas", Method::GET, None),
            ("/Users", Method::DELETE, None),
        ];
        for (suffix, method, want) in cases {
            let route = format!("{t}{suffix}");
            assert_eq!(
                provisioning_operation(&route, method),
                *want,
                "{method} {route}"
            );
        }
        assert_eq!(
            provisioning_operation("/admin/api/organizations", &Method::GET),
            None
        );
        assert_eq!(provisioning_operation("unmatched", &Method::GET), None);
    }

    #[test]
    fn labels_are_bounded() {
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        assert_eq!(status_class(StatusCode::NOT_FOUND), "4xx");
        assert_eq!(status_class(StatusCode::SERVICE_UNAVAILABLE), "5xx");
        assert_eq!(outcome(StatusCode::CREATED), "success");
        assert_eq!(outcome(StatusCode::CONFLICT), "client_error");
    }
}
