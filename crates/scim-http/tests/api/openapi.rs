//! The OpenAPI document against the routes: every registered path and method is
//! documented and nothing else is, and the running app answers exactly the documented
//! methods (any other is 405 with an `Allow` naming them).

use crate::helpers::TestApp;
use actix_web::test::TestRequest;
use scim_http::openapi::{document, operations};
use scim_http::routes::{CUSTOM_ENDPOINT, SCIM_PREFIX, route_table};
use scim_store::EntitlementRepo;

/// `(path, METHOD)` of every route the table registers, sorted.
fn registered() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = route_table()
        .iter()
        .flat_map(|spec| {
            spec.ops
                .iter()
                .map(|(m, _)| (spec.path.clone(), m.as_str().to_string()))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_document_lists_exactly_the_registered_routes() {
    let doc = operations(&document());
    let routes = registered();
    let undocumented: Vec<_> = routes.iter().filter(|r| !doc.contains(r)).collect();
    let unrouted: Vec<_> = doc.iter().filter(|d| !routes.contains(d)).collect();
    assert!(
        undocumented.is_empty(),
        "registered but not documented: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not registered: {unrouted:?}"
    );
    assert!(routes.len() >= 25, "the table looks truncated: {routes:?}");
}

#[test]
fn every_operation_has_an_id_a_summary_and_responses() {
    let doc = serde_json::to_value(document()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut ids = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}"));
            ids.push(id.to_string());
            assert!(op["summary"].is_string(), "{method} {path}");
            assert!(
                !op["responses"].as_object().unwrap().is_empty(),
                "{method} {path}"
            );
            if path.starts_with("/scim/v2/") {
                // Every SCIM operation needs the token and names the token's refusal.
                assert_eq!(
                    op["security"][0]["scimToken"],
                    serde_json::json!([]),
                    "{method} {path}"
                );
                assert!(op["responses"]["401"].is_object(), "{method} {path}");
            }
        }
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "operation ids must be unique");
}

/// A concrete URL for a path pattern of the table (the custom entitlement type's
/// endpoint is the one [`the_app_answers_the_documented_methods_and_405_for_the_others`]
/// defines).
fn concrete(app: &TestApp, pattern: &str) -> String {
    pattern
        .replace("{tenant_id}", &app.tenant)
        .replace(&format!("{{{CUSTOM_ENDPOINT}}}"), "Licenses")
        .replace("{id}", "not-there")
}

#[test]
fn the_custom_endpoint_parameter_excludes_every_fixed_endpoint() {
    // A fixed endpoint matched by `{entitlementEndpoint}` would be documented twice, with
    // two different answers; the pattern must name every first segment of the table.
    let doc = serde_json::to_value(document()).unwrap();
    let pattern = doc["components"]["parameters"][CUSTOM_ENDPOINT]["schema"]["pattern"]
        .as_str()
        .unwrap()
        .to_string();
    let prefix = format!("{SCIM_PREFIX}/");
    for spec in route_table() {
        let Some(rest) = spec.path.strip_prefix(&prefix) else {
            continue;
        };
        let first = rest.split('/').next().unwrap();
        if first.starts_with('{') || first.starts_with('.') {
            continue;
        }
        assert!(
            pattern.contains(&format!("|{first}|"))
                || pattern.contains(&format!("({first}|"))
                || pattern.contains(&format!("|{first})")),
            "{first} is not excluded by {pattern}"
        );
    }
    assert!(pattern.contains("|Me|"), "/Me (501) must be excluded too");
}

#[actix_web::test]
async fn the_app_answers_the_documented_methods_and_405_for_the_others() {
    let app = TestApp::new().await;
    // `/{entitlementEndpoint}` answers for the tenant's own types only (else 404).
    app.db
        .add_entitlement_type(&app.tenant, "License", "License", "/Licenses")
        .unwrap();
    let all = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    for spec in route_table() {
        let uri = concrete(&app, &spec.path);
        for method in all {
            let documented = spec.ops.iter().any(|(m, _)| m.as_str() == method);
            let req = TestRequest::default()
                .method(method.parse().unwrap())
                .uri(&uri)
                .insert_header(("Authorization", format!("Bearer {}", app.token)))
                .insert_header(("Content-Type", "application/scim+json"))
                .set_payload("{}");
            let resp = app.send(req).await;
            if documented {
                assert_ne!(resp.status.as_u16(), 405, "{method} {uri}");
                let body = String::from_utf8_lossy(&resp.body);
                assert!(!body.contains("Unknown endpoint"), "{method} {uri}: {body}");
            } else {
                assert_eq!(resp.status.as_u16(), 405, "{method} {uri}");
                assert_eq!(
                    resp.header("allow"),
                    Some(spec.allow().as_str()),
                    "{method} {uri}"
                );
                assert_eq!(resp.header("content-type"), Some("application/scim+json"));
            }
        }
    }
}
