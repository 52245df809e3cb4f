//! Request logging: a [`tracing_actix_web::RootSpanBuilder`] whose root span carries the
//! request id and the tenant id, so every log line of a request names both. Headers are
//! never recorded (the `Authorization` header holds the tenant's secret).

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder, root_span};

/// The root span builder used by the server: the default fields plus `tenant_id`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScimRootSpanBuilder;

/// The tenant id of a request path `/scim/v2/<tenant id>/...`, if it is one.
pub fn tenant_of_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/scim/v2/")?;
    let tenant = rest.split('/').next()?;
    (!tenant.is_empty()).then_some(tenant)
}

impl RootSpanBuilder for ScimRootSpanBuilder {
    fn on_request_start(request: &ServiceRequest) -> Span {
        // Routing has not run yet, so the tenant comes from the path itself.
        let tenant_id = tenant_of_path(request.path()).unwrap_or("-").to_string();
        root_span!(request, tenant_id = %tenant_id)
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.status().as_u16(),
            Err(e) => e.as_response_error().status_code().as_u16(),
        };
        // One line per request, inside the root span (so it carries the request id, the
        // tenant id, the method and the route).
        span.in_scope(|| tracing::info!(status, "request finished"));
        DefaultRootSpanBuilder::on_request_end(span, outcome);
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
}
