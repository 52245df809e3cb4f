//! Every error class as a SCIM error body with `application/scim+json`, and malformed
//! input that never yields a 5xx.

use crate::helpers::{PATCH_URN, TestApp};
use actix_web::test::TestRequest;
use scim_http::Limits;
use serde_json::json;

fn authed(app: &TestApp, req: TestRequest) -> TestRequest {
    req.insert_header(("Authorization", format!("Bearer {}", app.token)))
}

#[actix_web::test]
async fn unknown_paths_are_scim_404() {
    let app = TestApp::new().await;
    for path in ["/", "/nowhere", "/scim/v2", "/scim/v2/"] {
        app.send(TestRequest::get().uri(path))
            .await
            .expect_error(404);
    }
    for path in ["/Nope", "/Users/a/b", "/Groupz"] {
        app.call("GET", path, None).await.expect_error(404);
    }
    // Unknown ids of any shape.
    for id in [
        "010101001010101011001010101011",
        "00919288221112222",
        "not-a-uuid",
        "%20",
        "..%2F..",
    ] {
        let v = app
            .call("GET", &format!("/Users/{id}"), None)
            .await
            .expect_error(404);
        assert!(v.get("scimType").is_none());
        app.call("GET", &format!("/Groups/{id}"), None)
            .await
            .expect_error(404);
    }
}

#[actix_web::test]
async fn wrong_methods_are_scim_405() {
    let app = TestApp::new().await;
    let cases = [
        ("DELETE", "/Users"),
        ("PUT", "/Groups"),
        ("POST", "/Users/some-id"),
        ("GET", "/Users/.search"),
        ("GET", "/.search"),
        ("POST", "/ServiceProviderConfig"),
        ("PUT", "/ResourceTypes"),
        ("PATCH", "/Schemas"),
        (
            "DELETE",
            "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        ),
        ("POST", "/ResourceTypes/User"),
    ];
    for (method, path) in cases {
        let r = app.call(method, path, Some(&json!({}))).await;
        assert_eq!(r.status.as_u16(), 405, "{method} {path}");
        r.expect_error(405);
        assert!(r.header("allow").is_some());
    }
}

#[actix_web::test]
async fn me_is_501_and_an_empty_bulk_is_400() {
    let app = TestApp::new().await;
    app.call("POST", "/Bulk", Some(&json!({})))
        .await
        .expect_error(400);
    app.call("GET", "/Me", None).await.expect_error(501);
}

#[actix_web::test]
async fn content_types() {
    let app = TestApp::new().await;
    let body = json!({"userName": "ct@example.com"}).to_string();
    for (i, ct) in [
        Some("application/scim+json"),
        Some("application/scim+json; charset=utf-8"),
        Some("application/json"),
        Some("application/json;charset=UTF-8"),
        None,
    ]
    .into_iter()
    .enumerate()
    {
        let b = body.replace("ct@", &format!("ct{i}@"));
        let mut req = authed(
            &app,
            TestRequest::post().uri(&format!("{}/Users", app.base())),
        )
        .set_payload(b);
        if let Some(ct) = ct {
            req = req.insert_header(("Content-Type", ct));
        }
        app.send(req).await.expect(201);
    }
    for ct in [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
    ] {
        let req = authed(
            &app,
            TestRequest::post().uri(&format!("{}/Users", app.base())),
        )
        .insert_header(("Content-Type", ct))
        .set_payload(body.clone());
        app.send(req).await.expect_error(415);
    }
}

#[actix_web::test]
async fn body_limits_are_413() {
    let app = TestApp::with_limits(Limits {
        max_body_bytes: 2048,
        ..Limits::default()
    })
    .await;
    let big = json!({"userName": "big@example.com", "title": "x".repeat(5000)});
    app.call("POST", "/Users", Some(&big))
        .await
        .expect_error(413);
    let id = app.user("small@example.com").await;
    app.call("PUT", &format!("/Users/{id}"), Some(&big))
        .await
        .expect_error(413);
}

#[actix_web::test]
async fn syntax_and_value_errors_are_400() {
    let app = TestApp::new().await;
    let id = app.user("s@example.com").await;
    let raw = |method: &str, path: String, body: &str| {
        authed(
            &app,
            TestRequest::default()
                .method(method.parse().unwrap())
                .uri(&path),
        )
        .insert_header(("Content-Type", "application/scim+json"))
        .set_payload(body.to_string())
    };
    let users = format!("{}/Users", app.base());
    for body in ["", "{", "not json", "{\"userName\": }", "\u{feff}{}"] {
        let v = app
            .send(raw("POST", users.clone(), body))
            .await
            .expect_error(400);
        assert_eq!(v["scimType"], "invalidSyntax", "{body:?}");
    }
    let v = app
        .send(raw("POST", users.clone(), "[1,2]"))
        .await
        .expect_error(400);
    assert_eq!(v["scimType"], "invalidSyntax");
    for body in [
        json!({"userName": 42}),
        json!({"userName": "a@x", "active": "yes"}),
        json!({"name": {"givenName": "no userName"}}),
    ] {
        let v = app
            .call("POST", "/Users", Some(&body))
            .await
            .expect_error(400);
        assert_eq!(v["scimType"], "invalidValue", "{body}");
    }
    let v = app
        .call("GET", "/Users?filter=userName%20eq", None)
        .await
        .expect_error(400);
    assert_eq!(v["scimType"], "invalidFilter");
    // Grammatically valid, but the schema forbids ordering on a boolean.
    for (method, path, body) in [
        ("GET", "/Users?filter=active%20gt%20true", None),
        (
            "POST",
            "/Users/.search",
            Some(json!({"filter": "active gt true"})),
        ),
        (
            "POST",
            "/.search",
            Some(json!({"filter": "active gt true"})),
        ),
    ] {
        let v = app
            .call(method, path, body.as_ref())
            .await
            .expect_error(400);
        assert_eq!(v["scimType"], "invalidFilter", "{method} {path}");
    }
    let v = app
        .call(
            "PATCH",
            &format!("/Users/{id}"),
            Some(&json!({"Operations": "nope"})),
        )
        .await
        .expect_error(400);
    assert!(v["scimType"].is_string());
    app.call("GET", "/Users?startIndex=abc", None)
        .await
        .expect_error(400);
}

#[actix_web::test]
async fn duplicates_are_409_uniqueness() {
    let app = TestApp::new().await;
    app.user("dup@example.com").await;
    let v = app
        .call(
            "POST",
            "/Users",
            Some(&json!({"userName": "DUP@example.com"})),
        )
        .await
        .expect_error(409);
    assert_eq!(v["scimType"], "uniqueness");
    app.call("POST", "/Groups", Some(&json!({"displayName": "G"})))
        .await
        .expect(201);
    let v = app
        .call("POST", "/Groups", Some(&json!({"displayName": "G"})))
        .await
        .expect_error(409);
    assert_eq!(v["scimType"], "uniqueness");
}

#[actix_web::test]
async fn discovery_filter_is_403() {
    let app = TestApp::new().await;
    app.call("GET", "/Schemas?filter=id%20eq%20%22x%22", None)
        .await
        .expect_error(403);
}

#[actix_web::test]
async fn malformed_input_never_5xx() {
    let app = TestApp::new().await;
    let id = app.user("m@example.com").await;
    let queries = [
        "filter=%28%28%28%28",
        "filter=userName%20eq%20%22unterminated",
        "filter=emails%5Btype%20eq%20%22work%22%5D.value%20eq%20%22x%22",
        "filter=meta.lastModified%20gt%20%222020-01-01T00%3A00%3A00Z%22",
        "filter=nope%20pr",
        "filter=userName%20xx%20%22a%22",
        // Valid grammar the schema rejects: ordering on booleans and complex attributes,
        // a dateTime that does not parse.
        "filter=active%20gt%20true",
        "filter=name%20gt%20%22x%22",
        "filter=meta.created%20gt%20%22yesterday%22",
        "filter=emails%5Bprimary%20lt%20true%5D",
        "count=-1",
        "count=99999999999999999999999",
        "startIndex=-5",
        "startIndex=0&count=0",
        "sortBy=%5B%5D",
        "sortBy=name.familyName&sortOrder=sideways",
        "attributes=%5B%5D",
        "attributes=,,,",
        "excludedAttributes=urn:x:y",
        "%ZZ=%ZZ",
    ];
    for q in queries {
        let r = app.call("GET", &format!("/Users?{q}"), None).await;
        assert!(
            r.status.as_u16() < 500,
            "GET /Users?{q} → {}: {:?}",
            r.status,
            r.body
        );
        assert_eq!(
            r.header("content-type"),
            Some("application/scim+json"),
            "{q}"
        );
        let r = app.call("GET", &format!("/Groups?{q}"), None).await;
        assert!(r.status.as_u16() < 500, "GET /Groups?{q} → {}", r.status);
    }
    let bodies = [
        json!(null),
        json!(1),
        json!("str"),
        json!({"schemas": 5}),
        json!({"schemas": [PATCH_URN], "Operations": [{"op": "explode"}]}),
        json!({"schemas": [PATCH_URN], "Operations": [{"op": "add", "path": "members[value eq", "value": 1}]}),
        json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "emails[type eq \"work\"].value", "value": {"a": 1}}]}),
        json!({"schemas": [PATCH_URN], "Operations": [{"op": "remove"}]}),
        json!({"userName": {"nested": true}}),
        json!({"userName": "x", "emails": "not-an-array"}),
        json!({"userName": "x", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "str"}),
        json!({"members": [{"value": 1}]}),
    ];
    for body in &bodies {
        for (method, path) in [
            ("POST", "/Users".to_string()),
            ("POST", "/Groups".to_string()),
            ("PUT", format!("/Users/{id}")),
            ("PATCH", format!("/Users/{id}")),
            ("POST", "/Users/.search".to_string()),
            ("POST", "/.search".to_string()),
        ] {
            let r = app.call(method, &path, Some(body)).await;
            assert!(
                r.status.as_u16() < 500,
                "{method} {path} {body} → {}: {:?}",
                r.status,
                r.body
            );
        }
    }
}
