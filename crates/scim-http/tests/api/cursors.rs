//! RFC 9865 cursor paging end to end: a cursor walk sees exactly what an index walk sees;
//! cursors are bound to their tenant and query, tamper-evident and short-lived; `count`
//! above the maximum is `invalidCount`; the ServiceProviderConfig advertises it all.

use crate::helpers::TestApp;
use scim_http::Limits;
use serde_json::{Value, json};
use std::time::Duration;

fn ids(page: &Value) -> Vec<String> {
    page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// Walks `path` (which has no `?` yet or ends with `&`-ready parameters) by cursor.
async fn cursor_walk(app: &TestApp, path: &str, count: u64) -> (Vec<String>, usize) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut cursor = String::new();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = app
            .call(
                "GET",
                &format!("{path}{sep}count={count}&cursor={cursor}"),
                None,
            )
            .await
            .expect(200);
        pages += 1;
        assert!(page.get("startIndex").is_none(), "{page}");
        assert_eq!(
            page["itemsPerPage"],
            page["Resources"].as_array().unwrap().len()
        );
        seen.extend(ids(&page));
        match page.get("nextCursor").and_then(Value::as_str) {
            Some(next) => {
                assert!(
                    next.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)),
                    "{next}"
                );
                cursor = next.to_string();
            }
            None => break,
        }
        assert!(pages < 100, "the walk does not end");
    }
    (seen, pages)
}

async fn index_walk(app: &TestApp, path: &str, count: u64) -> Vec<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let page = app
            .call(
                "GET",
                &format!("{path}{sep}startIndex={start}&count={count}"),
                None,
            )
            .await
            .expect(200);
        let got = ids(&page);
        if got.is_empty() {
            break;
        }
        start += got.len();
        seen.extend(got);
    }
    seen
}

async fn users(app: &TestApp, n: usize) {
    for i in 0..n {
        app.user(&format!("walker{i:02}@example.com")).await;
    }
}

#[actix_web::test]
async fn cursor_walk_equals_index_walk() {
    let app = TestApp::new().await;
    users(&app, 23).await;
    app.call("POST", "/Groups", Some(&json!({"displayName": "G"})))
        .await
        .expect(201);
    let by_index = index_walk(&app, "/Users", 5).await;
    assert_eq!(by_index.len(), 23);
    let (by_cursor, pages) = cursor_walk(&app, "/Users", 5).await;
    assert_eq!(by_cursor, by_index);
    assert_eq!(
        pages, 5,
        "4 full pages and a last one of 3, without nextCursor"
    );
    // A page size that divides the total: the last full page may carry a cursor to an
    // empty page, but nothing is seen twice or missed.
    let (exact, _) = cursor_walk(&app, "/Users", 23).await;
    assert_eq!(exact, by_index);
    // A filter and a projection stay the same from page to page.
    let filtered = "/Users?filter=userName%20sw%20%22walker1%22&attributes=userName";
    let (by_cursor, _) = cursor_walk(&app, filtered, 3).await;
    assert_eq!(by_cursor, index_walk(&app, filtered, 3).await);
    assert_eq!(by_cursor.len(), 10);
    // totalResults is the total over all pages.
    let first = app
        .call("GET", "/Users?cursor=&count=2", None)
        .await
        .expect(200);
    assert_eq!(first["totalResults"], 23);
    // count=0: only the total.
    let zero = app
        .call("GET", "/Users?cursor=&count=0", None)
        .await
        .expect(200);
    assert_eq!(zero["totalResults"], 23);
    assert_eq!(zero["Resources"], json!([]));
}

#[actix_web::test]
async fn search_body_carries_the_cursor() {
    let app = TestApp::new().await;
    users(&app, 7).await;
    let mut cursor = String::new();
    let mut seen = Vec::new();
    loop {
        let page = app
            .call(
                "POST",
                "/Users/.search",
                Some(&json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "count": 3,
                    "cursor": cursor,
                })),
            )
            .await
            .expect(200);
        seen.extend(ids(&page));
        match page.get("nextCursor").and_then(Value::as_str) {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
        assert!(seen.len() <= 7, "the walk repeats");
    }
    assert_eq!(seen, index_walk(&app, "/Users", 100).await);
}

async fn next_cursor(app: &TestApp, path: &str) -> String {
    let page = app.call("GET", path, None).await.expect(200);
    page["nextCursor"]
        .as_str()
        .unwrap_or_else(|| panic!("no nextCursor: {page}"))
        .to_string()
}

#[actix_web::test]
async fn foreign_altered_and_forged_cursors_are_invalid() {
    let app = TestApp::new().await;
    users(&app, 4).await;
    let cursor = next_cursor(&app, "/Users?cursor=&count=1").await;
    let invalid = |v: Value| assert_eq!(v["scimType"], "invalidCursor", "{v}");

    // Another filter, another projection, another endpoint.
    for path in [
        format!("/Users?cursor={cursor}&filter=userName%20pr"),
        format!("/Users?cursor={cursor}&attributes=userName"),
        format!("/Groups?cursor={cursor}"),
    ] {
        invalid(app.call("GET", &path, None).await.expect_error(400));
    }
    // The same query with another count is fine (count is not bound).
    app.call("GET", &format!("/Users?cursor={cursor}&count=2"), None)
        .await
        .expect(200);

    // One character changed, cut short, junk.
    let mut altered: Vec<char> = cursor.chars().collect();
    let mid = altered.len() / 2;
    altered[mid] = if altered[mid] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    for bad in [
        altered.as_str(),
        &cursor[..cursor.len() - 4],
        "not-a-cursor",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        invalid(
            app.call("GET", &format!("/Users?cursor={bad}"), None)
                .await
                .expect_error(400),
        );
    }

    // Another tenant of the same server replays it.
    let (other, token) = app.other_tenant("Other");
    let r = app
        .send(
            actix_web::test::TestRequest::get()
                .uri(&format!("/scim/v2/{other}/Users?cursor={cursor}"))
                .insert_header(("Authorization", format!("Bearer {token}"))),
        )
        .await;
    invalid(r.expect_error(400));
}

#[actix_web::test]
async fn cursors_expire() {
    // A zero timeout: every cursor is already too old when it comes back.
    let app = TestApp::with_limits(Limits {
        cursor_timeout: Duration::ZERO,
        ..Limits::default()
    })
    .await;
    users(&app, 3).await;
    let cursor = next_cursor(&app, "/Users?cursor=&count=1").await;
    let v = app
        .call("GET", &format!("/Users?cursor={cursor}&count=1"), None)
        .await
        .expect_error(400);
    assert_eq!(v["scimType"], "expiredCursor", "{v}");
    // The empty cursor (a new walk) always works.
    app.call("GET", "/Users?cursor=", None).await.expect(200);
}

#[actix_web::test]
async fn bad_cursor_requests_are_400() {
    let app = TestApp::new().await;
    let cases = [
        ("/Users?cursor=&count=1001", "invalidCount"),
        ("/Users?count=99999999999&cursor=", "invalidCount"),
        ("/Users?cursor=&startIndex=1", "invalidValue"),
        ("/Users?cursor=&sortBy=userName", "invalidValue"),
    ];
    for (path, scim_type) in cases {
        let v = app.call("GET", path, None).await.expect_error(400);
        assert_eq!(v["scimType"], scim_type, "{path}: {v}");
    }
    // Index paging keeps clamping.
    app.call("GET", "/Users?count=1001", None).await.expect(200);
    let v = app
        .call(
            "POST",
            "/.search",
            Some(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "cursor": ""})),
        )
        .await
        .expect_error(400);
    assert!(v["detail"].as_str().unwrap().contains("/.search"), "{v}");
}

#[actix_web::test]
async fn a_revoked_token_cannot_continue_a_walk() {
    let app = TestApp::new().await;
    users(&app, 3).await;
    let cursor = next_cursor(&app, "/Users?cursor=&count=1").await;
    scim_http::generate_token(app.state.store.as_ref(), &app.tenant).unwrap();
    app.call("GET", &format!("/Users?cursor={cursor}&count=1"), None)
        .await
        .expect_error(401);
}

#[actix_web::test]
async fn service_provider_config_advertises_pagination() {
    let app = TestApp::with_limits(Limits {
        max_page_size: 500,
        default_page_size: 50,
        cursor_timeout: Duration::from_secs(600),
        ..Limits::default()
    })
    .await;
    let v = app
        .call("GET", "/ServiceProviderConfig", None)
        .await
        .expect(200);
    assert_eq!(
        v["pagination"],
        json!({
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": 50,
            "maxPageSize": 500,
            "cursorTimeout": 600
        })
    );
    assert_eq!(v["filter"]["maxResults"], 500);
}
