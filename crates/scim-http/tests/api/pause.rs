//! Pausing a tenant: after the token check, every SCIM endpoint of a paused tenant (the
//! discovery documents too) is 403 with a detail an identity provider's admin can act on;
//! the data is kept, other tenants are unaffected, and resuming restores service at once.

use crate::helpers::{PATCH_URN, TestApp, backends};
use actix_web::test::TestRequest;
use chrono::Utc;
use scim_http::Limits;
use scim_http::error::PAUSED_DETAIL;
use serde_json::{Value, json};

/// Every route a tenant's token reaches, with a body where one is needed.
fn routes(uid: &str, gid: &str) -> Vec<(&'static str, String, Option<Value>)> {
    let patch = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]});
    vec![
        ("GET", "/Users".into(), None),
        (
            "POST",
            "/Users".into(),
            Some(json!({"userName": "new@example.com"})),
        ),
        ("POST", "/Users/.search".into(), Some(search.clone())),
        ("GET", format!("/Users/{uid}"), None),
        (
            "PUT",
            format!("/Users/{uid}"),
            Some(json!({"userName": "ada@example.com"})),
        ),
        ("PATCH", format!("/Users/{uid}"), Some(patch.clone())),
        ("DELETE", format!("/Users/{uid}"), None),
        ("GET", "/Groups".into(), None),
        (
            "POST",
            "/Groups".into(),
            Some(json!({"displayName": "New"})),
        ),
        ("GET", format!("/Groups/{gid}"), None),
        ("PATCH", format!("/Groups/{gid}"), Some(patch)),
        ("DELETE", format!("/Groups/{gid}"), None),
        ("POST", "/.search".into(), Some(search)),
        ("GET", "/ServiceProviderConfig".into(), None),
        ("GET", "/ResourceTypes".into(), None),
        ("GET", "/ResourceTypes/User".into(), None),
        ("GET", "/Schemas".into(), None),
        (
            "GET",
            "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User".into(),
            None,
        ),
    ]
}

#[actix_web::test]
async fn a_paused_tenant_gets_403_everywhere_and_resumes_at_once() {
    for backend in backends() {
        let app = TestApp::on(backend, Limits::default());
        let uid = app.user("ada@example.com").await;
        let gid = app
            .call("POST", "/Groups", Some(&json!({"displayName": "Eng"})))
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (other, other_token) = app.other_tenant("Beta");
        let store = app.state.store.as_ref();
        let t = store.set_paused(&app.tenant, true, Utc::now()).unwrap();
        assert!(t.paused_at.is_some());
        for (method, path, body) in routes(&uid, &gid) {
            let r = app.call(method, &path, body.as_ref()).await;
            let v = r.expect_error(403);
            assert_eq!(v["detail"], PAUSED_DETAIL, "{backend:?} {method} {path}");
        }
        // The token check comes first: a wrong or missing token learns nothing.
        let r = app
            .send(
                TestRequest::get()
                    .uri(&format!("{}/Users", app.base()))
                    .insert_header(("Authorization", "Bearer scim_wrong")),
            )
            .await;
        r.expect_error(401);
        let r = app
            .send(TestRequest::get().uri(&format!("{}/ServiceProviderConfig", app.base())))
            .await;
        r.expect_error(401);
        // Another tenant is unaffected.
        let r = app
            .send(
                TestRequest::get()
                    .uri(&format!("/scim/v2/{other}/Users"))
                    .insert_header(("Authorization", format!("Bearer {other_token}"))),
            )
            .await;
        r.expect(200);
        // Pausing twice keeps the first time.
        let again = store.set_paused(&app.tenant, true, Utc::now()).unwrap();
        assert_eq!(again.paused_at, t.paused_at);
        // Resume: the data is all there, nothing was written while paused.
        let resumed = store.set_paused(&app.tenant, false, Utc::now()).unwrap();
        assert_eq!(resumed.paused_at, None);
        let users = app.call("GET", "/Users", None).await.expect(200);
        assert_eq!(users["totalResults"], 1, "{backend:?}");
        let user = app
            .call("GET", &format!("/Users/{uid}"), None)
            .await
            .expect(200);
        assert_eq!(user["active"], true);
        app.call("GET", &format!("/Groups/{gid}"), None)
            .await
            .expect(200);
        app.call("GET", "/ServiceProviderConfig", None)
            .await
            .expect(200);
        assert!(matches!(
            store.set_paused("no-such-tenant", true, Utc::now()),
            Err(scim_store::StoreError::NotFound)
        ));
    }
}
