//! Lists and searches: filters, paging, projection, `.search`.

use crate::helpers::TestApp;
use serde_json::json;

#[actix_web::test]
async fn okta_test_api_configuration_and_filters() {
    let app = TestApp::new().await;
    let v = app
        .call("GET", "/Users?startIndex=1&count=2", None)
        .await
        .expect(200);
    assert_eq!(
        v["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    assert_eq!(v["totalResults"], 0);
    assert_eq!(v["itemsPerPage"], 0);
    assert_eq!(v["startIndex"], 1);
    assert_eq!(v["Resources"], json!([]));
    app.call("GET", "/Groups?startIndex=1&count=100", None)
        .await
        .expect(200);

    for i in 0..5 {
        app.user(&format!("user{i}@example.com")).await;
    }
    let v = app
        .call("GET", "/Users?startIndex=1&count=2", None)
        .await
        .expect(200);
    assert_eq!(
        (v["totalResults"].as_u64(), v["itemsPerPage"].as_u64()),
        (Some(5), Some(2))
    );
    let v = app
        .call("GET", "/Users?startIndex=5&count=100", None)
        .await
        .expect(200);
    assert_eq!(v["itemsPerPage"], 1);
    let v = app.call("GET", "/Users?count=0", None).await.expect(200);
    assert_eq!(
        (v["totalResults"].as_u64(), v["itemsPerPage"].as_u64()),
        (Some(5), Some(0))
    );

    // `+` decodes as a space; userName is case-insensitive; unknown params are ignored.
    let v = app
        .call(
            "GET",
            "/Users?filter=userName+eq+%22USER3@example.com%22&aadOptscim062020&x=1",
            None,
        )
        .await
        .expect(200);
    assert_eq!(v["totalResults"], 1);
    assert_eq!(v["Resources"][0]["userName"], "user3@example.com");

    // Projection on lists; sorting.
    let v = app
        .call(
            "GET",
            "/Users?attributes=userName&sortBy=userName&sortOrder=descending",
            None,
        )
        .await
        .expect(200);
    assert_eq!(v["Resources"][0]["userName"], "user4@example.com");
    assert!(v["Resources"][0].get("emails").is_none());
}

#[actix_web::test]
async fn search_endpoints() {
    let app = TestApp::new().await;
    app.user("s1@example.com").await;
    app.user("s2@example.com").await;
    app.call("POST", "/Groups", Some(&json!({"displayName": "G1"})))
        .await
        .expect(201);
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName sw \"s\"",
        "attributes": ["userName"],
        "startIndex": 1,
        "count": 10
    });
    let v = app
        .call("POST", "/Users/.search", Some(&body))
        .await
        .expect(200);
    assert_eq!(v["totalResults"], 2);
    // Root search: users then groups.
    let v = app
        .call(
            "POST",
            "/.search",
            Some(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]})),
        )
        .await
        .expect(200);
    assert_eq!(v["totalResults"], 3);
    assert_eq!(v["Resources"][2]["displayName"], "G1");
    let v = app
        .call(
            "POST",
            "/.search",
            Some(&json!({"startIndex": 3, "count": 1})),
        )
        .await
        .expect(200);
    assert_eq!(v["itemsPerPage"], 1);
    assert_eq!(v["Resources"][0]["displayName"], "G1");
    // A filter on an attribute only Users have: Groups simply do not match.
    let v = app
        .call(
            "POST",
            "/.search",
            Some(&json!({"filter": "userName eq \"s1@example.com\""})),
        )
        .await
        .expect(200);
    assert_eq!(v["totalResults"], 1);
    let v = app
        .call(
            "POST",
            "/.search",
            Some(&json!({"filter": "displayName eq \"G1\""})),
        )
        .await
        .expect(200);
    assert_eq!(v["totalResults"], 1);
    // Groups without members (Entra).
    let v = app
        .call(
            "GET",
            "/Groups?excludedAttributes=members&filter=displayName+eq+%22G1%22",
            None,
        )
        .await
        .expect(200);
    assert_eq!(v["totalResults"], 1);
}

#[actix_web::test]
async fn disabled_users_stay_visible() {
    let app = TestApp::new().await;
    let id = app.user("off@example.com").await;
    let mut u = app
        .call("GET", &format!("/Users/{id}"), None)
        .await
        .expect(200);
    u["active"] = json!(false);
    app.call("PUT", &format!("/Users/{id}"), Some(&u))
        .await
        .expect(200);
    let v = app
        .call("GET", "/Users?filter=active+eq+false", None)
        .await
        .expect(200);
    assert_eq!(v["totalResults"], 1);
    assert_eq!(v["Resources"][0]["active"], false);
}
