//! `/openapi.json`: the committed snapshot `docs/openapi.json` is the generated document
//! (refresh it with `UPDATE_SNAPSHOT=1 cargo test -p scim-admin --test console openapi`),
//! the admin API's documented paths are exactly its registered routes, and the document is
//! served without authentication.

use crate::helpers::{Client, Console};
use actix_web::test::TestRequest;
use scim_admin::openapi::document;
use scim_http::openapi::operations;

fn snapshot_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[test]
fn the_committed_snapshot_is_the_generated_document() {
    let generated = format!("{}\n", document().to_pretty_json().unwrap());
    let path = snapshot_path();
    if std::env::var("UPDATE_SNAPSHOT").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(committed.lines().count().min(generated.lines().count()));
        panic!(
            "docs/openapi.json differs from the generated document (first at line {}: \
             committed {:?}, generated {:?}).\nIf the change is intended, refresh it with:\n  \
             UPDATE_SNAPSHOT=1 cargo test -p scim-admin --test console openapi\nand commit it.",
            first + 1,
            committed.lines().nth(first),
            generated.lines().nth(first),
        );
    }
}

#[test]
fn the_admin_paths_are_exactly_the_registered_admin_routes() {
    let mut routes: Vec<(String, String)> = scim_admin::api::route_table()
        .iter()
        .map(|(m, p)| (format!("/admin/api{p}"), m.to_ascii_uppercase()))
        .collect();
    routes.sort();
    let documented: Vec<(String, String)> = operations(&document())
        .into_iter()
        .filter(|(p, _)| p.starts_with("/admin/"))
        .collect();
    assert_eq!(documented, routes);
    assert_eq!(routes.len(), 35, "{routes:?}");
    // The SCIM part is there too, with both security schemes.
    let doc = serde_json::to_value(document()).unwrap();
    assert!(doc["paths"]["/scim/v2/{tenant_id}/Users"]["post"].is_object());
    assert!(doc["components"]["securitySchemes"]["scimToken"].is_object());
    assert!(doc["components"]["securitySchemes"]["adminToken"].is_object());
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path.starts_with("/admin/") {
            for (method, op) in item.as_object().unwrap() {
                assert_eq!(
                    op["security"][0]["adminToken"],
                    serde_json::json!([]),
                    "{method} {path}"
                );
                assert!(op["responses"]["401"].is_object(), "{method} {path}");
            }
        }
    }
}

#[actix_web::test]
async fn openapi_json_is_served_without_a_token() {
    let console = Console::new();
    let resp = console
        .send(
            &mut Client::default(),
            TestRequest::get().uri("/openapi.json"),
        )
        .await;
    resp.expect(200);
    assert_eq!(
        resp.headers.get("content-type").unwrap().to_str().unwrap(),
        "application/json"
    );
    let doc = resp.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["servers"][0]["url"],
        crate::helpers::PUBLIC.trim_end_matches('/')
    );
    let mut expected = serde_json::to_value(document()).unwrap();
    expected["servers"] = doc["servers"].clone();
    assert_eq!(doc, expected);
    // Another method is not a document.
    let post = console
        .send(
            &mut Client::default(),
            TestRequest::post().uri("/openapi.json"),
        )
        .await;
    post.expect(405);
    assert_eq!(post.headers.get("allow").unwrap(), "GET");
}

/// Each admin API path answers its own methods, and any other with 405 and an `Allow`
/// naming them (after authentication: anonymous callers get 401 either way).
#[actix_web::test]
async fn admin_paths_answer_405_with_allow_for_other_methods() {
    let console = Console::new();
    console.account("ops@example.com", None);
    let mut operator = console.operator_api("ops@example.com");
    let org = console.tenant("Acme");
    let mut by_path: Vec<(String, Vec<String>)> = Vec::new();
    for (method, path) in scim_admin::api::route_table() {
        let path = format!("/admin/api{path}");
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, methods)) => methods.push(method.to_ascii_uppercase()),
            None => by_path.push((path, vec![method.to_ascii_uppercase()])),
        }
    }
    for (pattern, methods) in by_path {
        let uri = pattern
            .replace("{org}", &org)
            .replace("{wid}", "nope")
            .replace("{id}", "nope")
            .replace("{urn}", "urn:example:nope")
            .replace("{vid}", "nope")
            .replace("{tid}", "nope")
            .replace("{entry}", "1")
            .replace("{position}", "1");
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "TRACE"] {
            if methods.iter().any(|m| m == method) {
                continue;
            }
            let req = || {
                TestRequest::default()
                    .method(method.parse().unwrap())
                    .uri(&uri)
            };
            let resp = console.send(&mut operator, req()).await;
            resp.expect(405);
            let allow = resp.headers.get("allow").unwrap().to_str().unwrap();
            assert_eq!(allow, methods.join(", "), "{method} {uri}");
            assert_eq!(resp.json()["status"], 405);
            let anonymous = console.send(&mut Client::default(), req()).await;
            anonymous.expect(401);
        }
    }
}
