//! Create, read, replace and delete: statuses, headers and bodies.

use crate::helpers::TestApp;
use actix_web::test::TestRequest;
use serde_json::json;

#[actix_web::test]
async fn create_read_replace_delete_user() {
    let app = TestApp::new().await;
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "ada@example.com",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
        "password": "secret-123",
        "active": true
    });
    let r = app.call("POST", "/Users", Some(&body)).await;
    let created = r.expect(201);
    let id = created["id"].as_str().unwrap().to_string();
    let location = format!("https://scim.example.com/scim/v2/{}/Users/{id}", app.tenant);
    assert_eq!(r.header("location"), Some(location.as_str()));
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    assert_eq!(created["meta"]["location"], location.as_str());
    assert_eq!(created["meta"]["version"], "W/\"1\"");
    assert!(created.get("password").is_none());

    let r = app.call("GET", &format!("/Users/{id}"), None).await;
    assert_eq!(r.expect(200)["userName"], "ada@example.com");
    assert_eq!(r.header("etag"), Some("W/\"1\""));

    // If-None-Match with the current version → 304.
    let r = app
        .send(
            TestRequest::get()
                .uri(&format!("{}/Users/{id}", app.base()))
                .insert_header(("Authorization", format!("Bearer {}", app.token)))
                .insert_header(("If-None-Match", "W/\"1\"")),
        )
        .await;
    assert_eq!(r.status.as_u16(), 304);

    // PUT echoing id/meta (Okta's read-modify-write); id in the body is ignored.
    let mut current = app
        .call("GET", &format!("/Users/{id}"), None)
        .await
        .expect(200);
    current["name"]["givenName"] = json!("Augusta");
    current["id"] = json!("client-chosen");
    let r = app
        .call("PUT", &format!("/Users/{id}"), Some(&current))
        .await;
    let updated = r.expect(200);
    assert_eq!(updated["id"], id.as_str());
    assert_eq!(updated["name"]["givenName"], "Augusta");
    assert_eq!(r.header("etag"), Some("W/\"2\""));

    // Stale If-Match → 412.
    let r = app
        .send(
            TestRequest::put()
                .uri(&format!("{}/Users/{id}", app.base()))
                .insert_header(("Authorization", format!("Bearer {}", app.token)))
                .insert_header(("If-Match", "W/\"1\""))
                .set_payload(current.to_string()),
        )
        .await;
    r.expect_error(412);
    // Current If-Match → 200.
    let r = app
        .send(
            TestRequest::put()
                .uri(&format!("{}/Users/{id}", app.base()))
                .insert_header(("Authorization", format!("Bearer {}", app.token)))
                .insert_header(("If-Match", "W/\"2\""))
                .set_payload(current.to_string()),
        )
        .await;
    r.expect(200);

    // attributes / excludedAttributes on single resources.
    let v = app
        .call("GET", &format!("/Users/{id}?attributes=userName"), None)
        .await
        .expect(200);
    assert_eq!(v["userName"], "ada@example.com");
    assert!(v.get("name").is_none());
    assert_eq!(v["id"], id.as_str());
    let v = app
        .call(
            "GET",
            &format!("/Users/{id}?excludedAttributes=name,emails"),
            None,
        )
        .await
        .expect(200);
    assert!(v.get("name").is_none() && v.get("emails").is_none());
    assert_eq!(v["userName"], "ada@example.com");

    // DELETE with a stale If-Match → 412; then 204, then 404.
    let r = app
        .send(
            TestRequest::delete()
                .uri(&format!("{}/Users/{id}", app.base()))
                .insert_header(("Authorization", format!("Bearer {}", app.token)))
                .insert_header(("If-Match", "W/\"1\"")),
        )
        .await;
    r.expect_error(412);
    let r = app.call("DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!(r.status.as_u16(), 204);
    assert!(r.body.is_empty());
    app.call("GET", &format!("/Users/{id}"), None)
        .await
        .expect_error(404);
    app.call("DELETE", &format!("/Users/{id}"), None)
        .await
        .expect_error(404);
    app.call("PUT", &format!("/Users/{id}"), Some(&current))
        .await
        .expect_error(404);
}

#[actix_web::test]
async fn groups_with_members() {
    let app = TestApp::new().await;
    let u1 = app.user("u1@example.com").await;
    let u2 = app.user("u2@example.com").await;
    let g = app
        .call(
            "POST",
            "/Groups",
            Some(&json!({"displayName": "Eng", "members": [{"value": u1, "display": "u1"}]})),
        )
        .await
        .expect(201);
    let gid = g["id"].as_str().unwrap().to_string();
    assert_eq!(g["members"][0]["value"], u1.as_str());
    // PUT replaces the member list (AIW apps push the full list).
    let v = app
        .call(
            "PUT",
            &format!("/Groups/{gid}"),
            Some(&json!({"displayName": "Eng", "members": [{"value": u2}]})),
        )
        .await
        .expect(200);
    assert_eq!(v["members"].as_array().unwrap().len(), 1);
    assert_eq!(v["members"][0]["value"], u2.as_str());
    // A member from nowhere → 400 invalidValue.
    let v = app
        .call(
            "POST",
            "/Groups",
            Some(&json!({"displayName": "Bad", "members": [{"value": "ghost"}]})),
        )
        .await
        .expect_error(400);
    assert_eq!(v["scimType"], "invalidValue");
    // Deleting a group leaves its users.
    assert_eq!(
        app.call("DELETE", &format!("/Groups/{gid}"), None)
            .await
            .status
            .as_u16(),
        204
    );
    app.call("GET", &format!("/Users/{u2}"), None)
        .await
        .expect(200);
}

#[actix_web::test]
async fn discovery_endpoints() {
    let app = TestApp::new().await;
    let spc = app
        .call("GET", "/ServiceProviderConfig", None)
        .await
        .expect(200);
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], true);
    assert_eq!(spc["bulk"]["maxOperations"], 1000);
    // RFC 9967 §4: the security events this server emits, every one of them.
    assert_eq!(spc["securityEvents"]["asyncRequest"], "none");
    let uris: Vec<&str> = spc["securityEvents"]["eventUris"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    for uri in [
        "urn:ietf:params:scim:event:prov:create:full",
        "urn:ietf:params:scim:event:prov:create:notice",
        "urn:ietf:params:scim:event:prov:patch:full",
        "urn:ietf:params:scim:event:prov:patch:notice",
        "urn:ietf:params:scim:event:prov:put:full",
        "urn:ietf:params:scim:event:prov:put:notice",
        "urn:ietf:params:scim:event:prov:delete",
        "urn:ietf:params:scim:event:prov:activate",
        "urn:ietf:params:scim:event:prov:deactivate",
        "urn:ietf:params:scim:event:feed:add",
        "urn:ietf:params:scim:event:feed:remove",
    ] {
        assert!(uris.contains(&uri), "{uri} missing from {uris:?}");
    }
    assert_eq!(uris.len(), 11, "{uris:?}");
    let rts = app.call("GET", "/ResourceTypes", None).await.expect(200);
    // User, Group, and Okta Identity Governance's Role and Entitlement.
    assert_eq!(rts["totalResults"], 4);
    let user = app
        .call("GET", "/ResourceTypes/User", None)
        .await
        .expect(200);
    assert_eq!(user["endpoint"], "/Users");
    app.call("GET", "/ResourceTypes/Nope", None)
        .await
        .expect_error(404);
    let schemas = app.call("GET", "/Schemas", None).await.expect(200);
    // User, Group, Enterprise User, Role and Entitlement under Okta's and the IETF URNs.
    assert_eq!(schemas["totalResults"], 7);
    app.call(
        "GET",
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        None,
    )
    .await
    .expect(200);
    app.call("GET", "/Schemas/urn:nope", None)
        .await
        .expect_error(404);
    // Discovery needs the token too.
    let r = app
        .send(TestRequest::get().uri(&format!("{}/ServiceProviderConfig", app.base())))
        .await;
    r.expect_error(401);
}

#[actix_web::test]
async fn health_endpoints() {
    let app = TestApp::new().await;
    let r = app.send(TestRequest::get().uri("/healthz")).await;
    assert_eq!(r.status.as_u16(), 200);
    let r = app.send(TestRequest::get().uri("/readyz")).await;
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(r.json()["database"], "sqlite");
}
