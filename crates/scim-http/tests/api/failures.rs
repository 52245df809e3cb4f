//! Store failures: `Unavailable` and `Busy` → 503 with `Retry-After`, `Unsupported` → 400,
//! any other backend failure → 500 with a generic detail (no database text), `/readyz` →
//! 503. A test double wraps the real store's sessions and fails chosen operations; a
//! second SQLite connection holding the write lock makes a real `Busy`.

use crate::doubles::{Faults, spy, take};
use crate::helpers::{PATCH_URN, TestApp};
use actix_web::test::TestRequest;
use scim_store::StoreError;
use serde_json::json;

#[actix_web::test]
async fn store_failures_map_to_503_and_500() {
    let mut app = TestApp::new().await;
    spy(
        &mut app,
        Faults {
            list: Some(|| StoreError::Unavailable("timed out waiting for connection".into())),
            get: Some(|| StoreError::Backend("syntax error at or near \"SELECT\"".into())),
            ping: Some(|| StoreError::Unavailable("connection refused".into())),
            ..Faults::default()
        },
    );
    let r = app.call("GET", "/Users?startIndex=1&count=2", None).await;
    r.expect_error(503);
    assert_eq!(r.header("retry-after"), Some("1"));
    let r = app.call("GET", "/Users/some-id", None).await;
    let v = r.expect_error(500);
    let detail = v["detail"].as_str().unwrap();
    assert!(
        !detail.contains("SELECT") && !detail.contains("syntax"),
        "{detail}"
    );
    let r = app.send(TestRequest::get().uri("/readyz")).await;
    assert_eq!(r.status.as_u16(), 503);
    // Liveness does not depend on the database.
    let r = app.send(TestRequest::get().uri("/healthz")).await;
    assert_eq!(r.status.as_u16(), 200);
}

#[actix_web::test]
async fn busy_is_503_and_unsupported_is_400() {
    let mut app = TestApp::new().await;
    let id = app.user("busy@example.com").await;
    spy(
        &mut app,
        Faults {
            update: Some(|| StoreError::Busy("deadlock detected".into())),
            list: Some(|| StoreError::Unsupported("cursor paging cannot be sorted")),
            ..Faults::default()
        },
    );
    let off = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let r = app.call("PATCH", &format!("/Users/{id}"), Some(&off)).await;
    let v = r.expect_error(503);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(!v["detail"].as_str().unwrap().contains("deadlock"), "{v}");
    let r = app.call("GET", "/Users?cursor=", None).await;
    let v = r.expect_error(400);
    assert_eq!(v["scimType"], "invalidValue");
    assert_eq!(v["detail"], "cursor paging cannot be sorted");
}

#[actix_web::test]
async fn a_revoked_token_does_no_work_beyond_the_tenant_read() {
    let mut app = TestApp::new().await;
    let id = app.user("rev@example.com").await;
    let calls = spy(&mut app, Faults::default());
    scim_http::generate_token(app.state.store.as_ref(), &app.tenant).unwrap();
    let off = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    app.call("PATCH", &format!("/Users/{id}"), Some(&off))
        .await
        .expect_error(401);
    app.call("GET", &format!("/Users/{id}"), None)
        .await
        .expect_error(401);
    app.call("GET", "/Users", None).await.expect_error(401);
    assert_eq!(take(&calls), vec!["tenant", "tenant", "tenant"]);
    // A token of the wrong shape costs no store work at all.
    let r = app
        .send(
            TestRequest::get()
                .uri(&format!("{}/Users", app.base()))
                .insert_header(("Authorization", "Bearer not-a-token!")),
        )
        .await;
    assert_eq!(r.status.as_u16(), 401);
    assert!(take(&calls).is_empty());
}

#[actix_web::test]
async fn waiting_too_long_for_a_connection_is_503() {
    let mut app = TestApp::with_limits(scim_http::Limits {
        queue_timeout: std::time::Duration::from_millis(50),
        ..scim_http::Limits::default()
    })
    .await;
    let (entered, release) = crate::doubles::gate(&mut app);
    let holder = app.call("GET", "/Users", None);
    let waiter = async {
        // The holder has its connection (the only one) and keeps it.
        entered.await.unwrap();
        let r = app.call("GET", "/Users", None).await;
        release.send(()).unwrap();
        r
    };
    let (held, waited) = futures_util::future::join(holder, waiter).await;
    held.expect(200);
    let v = waited.expect_error(503);
    assert_eq!(waited.header("retry-after"), Some("1"));
    assert!(v["detail"].as_str().unwrap().contains("busy"), "{v}");
    // Once the connection is back, requests go through again.
    app.call("GET", "/Users", None).await.expect(200);
}

#[actix_web::test]
async fn a_locked_sqlite_is_503_with_retry_after_and_writes_nothing() {
    use diesel::{Connection, RunQueryDsl};
    let app = TestApp::with_busy_timeout(std::time::Duration::from_millis(100));
    let id = app.user("held@example.com").await;
    // Another process (a backup, an operator's sqlite3 shell) holds the write lock past
    // busy_timeout.
    let path = app.sqlite_path();
    let mut other = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    diesel::sql_query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .unwrap();
    let off = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let user = format!("/Users/{id}");
    for (method, path, body) in [
        (
            "POST",
            "/Users",
            Some(json!({"userName": "blocked@example.com"})),
        ),
        ("POST", "/Groups", Some(json!({"displayName": "Blocked"}))),
        ("PATCH", user.as_str(), Some(off.clone())),
        (
            "PUT",
            user.as_str(),
            Some(json!({"userName": "renamed@example.com"})),
        ),
        ("DELETE", user.as_str(), None),
    ] {
        let r = app.call(method, path, body.as_ref()).await;
        let v = r.expect_error(503);
        assert_eq!(r.header("retry-after"), Some("1"), "{method} {path}");
        assert!(!v["detail"].as_str().unwrap().contains("locked"), "{v}");
    }
    // Reads go on meanwhile.
    let v = app.call("GET", &user, None).await.expect(200);
    assert_eq!(v["active"], true);
    diesel::sql_query("ROLLBACK").execute(&mut other).unwrap();
    app.call("PATCH", &user, Some(&off)).await.expect(200);
    let v = app.call("GET", "/Users", None).await.expect(200);
    assert_eq!(v["totalResults"], 1, "none of the refused writes landed");
    let v = app.call("GET", "/Groups", None).await.expect(200);
    assert_eq!(v["totalResults"], 0);
}
