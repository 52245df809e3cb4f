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
    assert_eq!(routes.len(), 22, "{routes:?}");
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
    assert_ne!(post.status.as_u16(), 200);
}
