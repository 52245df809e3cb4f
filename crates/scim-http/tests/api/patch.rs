//! PATCH: users answer 200 + resource, groups 204 (200 with a projection).

use crate::helpers::{PATCH_URN, TestApp};
use serde_json::json;

#[actix_web::test]
async fn user_patch_returns_the_resource() {
    let app = TestApp::new().await;
    let id = app.user("p@example.com").await;
    let off = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let r = app.call("PATCH", &format!("/Users/{id}"), Some(&off)).await;
    let v = r.expect(200);
    assert_eq!(v["active"], false);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    // Same change again: nothing changes, version stays.
    let r = app.call("PATCH", &format!("/Users/{id}"), Some(&off)).await;
    r.expect(200);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
}

#[actix_web::test]
async fn group_patch_is_204_unless_projected() {
    let app = TestApp::new().await;
    let u = app.user("gm@example.com").await;
    let g = app
        .call("POST", "/Groups", Some(&json!({"displayName": "PG"})))
        .await
        .expect(201);
    let gid = g["id"].as_str().unwrap().to_string();
    let add = json!({"schemas": [PATCH_URN], "Operations": [{"op": "add", "path": "members", "value": [{"value": u}]}]});
    let r = app
        .call("PATCH", &format!("/Groups/{gid}"), Some(&add))
        .await;
    assert_eq!(r.status.as_u16(), 204);
    assert!(r.body.is_empty());
    let r = app
        .call(
            "PATCH",
            &format!("/Groups/{gid}?excludedAttributes=members"),
            Some(&add),
        )
        .await;
    let v = r.expect(200);
    assert_eq!(v["displayName"], "PG");
    assert!(v.get("members").is_none());
    app.call("PATCH", "/Groups/ghost", Some(&add))
        .await
        .expect_error(404);
}
