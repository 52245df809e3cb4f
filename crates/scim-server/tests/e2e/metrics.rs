//! Prometheus metrics (issue 12 item 1): with `--metrics-bind`, `/metrics` is served on its
//! own address (and not on the SCIM address), and real traffic moves the request,
//! provisioning, rate-limit and database-queue series. Labels are route patterns, never
//! ids; the tenant label appears only with `--metrics-per-tenant`, and never for a tenant
//! id nobody authenticated as.

use crate::harness::{Backend, Server, free_port, try_request};
use serde_json::json;

fn scrape(addr: &str) -> String {
    let r = try_request(addr, "GET", "/metrics", &[], None).unwrap();
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("text/plain"),
        "{:?}",
        r.headers
    );
    String::from_utf8(r.body).unwrap()
}

/// The value of the first series of `name` whose labels include every one of `labels`.
fn value(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_move_with_real_traffic_on_their_own_address() {
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let Some(s) = Server::start_with(
        Backend::Sqlite,
        &[
            ("SCIM_METRICS_BIND", metrics_addr.as_str()),
            ("SCIM_METRICS_PER_TENANT", "true"),
            // A burst of 2 so the third quick request is refused with 429.
            ("SCIM_RATE_LIMIT_PER_TENANT", "1"),
            ("SCIM_RATE_LIMIT_BURST", "2"),
        ],
        None,
    ) else {
        return;
    };
    let t = s.tenant("Metered");
    let before = scrape(&metrics_addr);
    let created = s.call(
        &t,
        "POST",
        "/Users",
        Some(&json!({"userName": "m@metrics.test"})),
    );
    created.expect(201);
    s.call(
        &t,
        "GET",
        "/Users?filter=userName%20eq%20%22m%40metrics.test%22",
        None,
    );
    let limited = s.call(&t, "GET", "/Users", None);
    assert_eq!(limited.status, 429, "the burst of 2 is spent");
    // A made-up tenant id: 401, and no series may carry it.
    let r = try_request(
        &s.addr,
        "GET",
        "/scim/v2/made-up-tenant-id/Users",
        &[("Authorization", "Bearer scim_nope")],
        None,
    )
    .unwrap();
    assert_eq!(r.status, 401);

    let text = scrape(&metrics_addr);
    let route = r#"route="/scim/v2/{tenant_id}/Users""#;
    assert!(
        value(
            &text,
            "scim_http_requests_total",
            &[route, r#"method="POST""#, r#"status="2xx""#]
        )
        .is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(
        value(
            &text,
            "scim_http_requests_total",
            &[route, r#"status="4xx""#]
        )
        .is_some_and(|v| v >= 2.0),
        "the 429 and the 401: {text}"
    );
    assert!(
        value(
            &text,
            "scim_http_request_duration_seconds_count",
            &[route, r#"method="GET""#]
        )
        .is_some_and(|v| v >= 3.0),
        "{text}"
    );
    let tenant = format!(r#"tenant="{}""#, t.id);
    assert_eq!(
        value(
            &text,
            "scim_provisioning_operations_total",
            &[
                r#"resource="User""#,
                r#"operation="create""#,
                r#"outcome="success""#,
                &tenant
            ]
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        value(
            &text,
            "scim_rate_limit_rejections_total",
            &[r#"scope="tenant""#]
        )
        .is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(
        value(
            &text,
            "scim_db_queue_wait_seconds_count",
            &[r#"access="write""#]
        )
        .is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "scim_db_connections_in_use", &[r#"access="write""#]),
        Some(0.0),
        "every connection is given back: {text}"
    );
    assert!(!text.contains("made-up-tenant-id"), "{text}");
    assert!(
        !text.contains("m@metrics.test"),
        "no values in labels: {text}"
    );
    // The counters moved between the two scrapes.
    assert!(
        value(
            &before,
            "scim_provisioning_operations_total",
            &[r#"operation="create""#]
        )
        .is_none(),
        "{before}"
    );
    // Not on the SCIM and console address.
    let r = try_request(&s.addr, "GET", "/metrics", &[], None).unwrap();
    assert_eq!(r.status, 404);
}

#[test]
fn no_metrics_endpoint_unless_asked() {
    let Some(s) = Server::start(Backend::Sqlite) else {
        return;
    };
    let r = try_request(&s.addr, "GET", "/metrics", &[], None).unwrap();
    assert_eq!(r.status, 404);
}
