//! The Entitlements page and `/admin/api/organizations/{id}/entitlements…`: values and
//! custom types defined, listed and removed by the organization's admins (console) and by
//! the host application (API token), CSRF protected, another organization 404, refusals
//! shown with their reason; and the SCIM endpoints and catalog check follow at once.

use crate::helpers::*;
use scim_core::entitlements::EntitlementKind;
use serde_json::json;

#[actix_web::test]
async fn the_page_defines_lists_and_removes_values_and_types() {
    let c = Console::new();
    let (org, token) = c.tenant_with_token("Acme");
    let (other, _) = c.tenant_with_token("Globex");
    c.account("admin@acme.test", Some(&org));
    let mut admin = c.signed_in("admin@acme.test").await;
    let page_path = format!("/admin/organizations/{org}/entitlements");
    let page = c.get(&mut admin, &page_path).await;
    page.expect(200);
    assert!(
        page.body.contains("No roles or entitlements yet"),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"href="/admin/organizations/"#));
    let csrf = page.csrf();
    // Without the CSRF token nothing is defined.
    c.post_form(
        &mut admin,
        &page_path,
        &[("csrf", "wrong"), ("kind", "role"), ("value", "admin")],
    )
    .await
    .expect(403);
    let r = c
        .post_form(
            &mut admin,
            &page_path,
            &[
                ("csrf", &csrf),
                ("kind", "role"),
                ("value", "admin"),
                ("display", "Administrator"),
            ],
        )
        .await;
    r.expect(303);
    assert_eq!(r.location(), Some(page_path.as_str()));
    // The same value again: the page with the reason, 409.
    let r = c
        .post_form(
            &mut admin,
            &page_path,
            &[("csrf", &csrf), ("kind", "role"), ("value", "admin")],
        )
        .await;
    r.expect(409);
    assert!(r.body.contains("value is already in use"), "{}", r.body);
    // A custom type, then a value of it.
    c.post_form(
        &mut admin,
        &format!("{page_path}/types"),
        &[
            ("csrf", &csrf),
            ("id", "License"),
            ("name", "License"),
            ("endpoint", "/Licenses"),
        ],
    )
    .await
    .expect(303);
    let r = c
        .post_form(
            &mut admin,
            &format!("{page_path}/types"),
            &[("csrf", &csrf), ("id", "Seat"), ("endpoint", "/Users")],
        )
        .await;
    r.expect(400);
    assert!(r.body.contains("already served"), "{}", r.body);
    c.post_form(
        &mut admin,
        &page_path,
        &[
            ("csrf", &csrf),
            ("kind", "License"),
            ("value", "pro"),
            ("display", "Pro"),
        ],
    )
    .await
    .expect(303);
    let page = c.get(&mut admin, &page_path).await;
    page.expect(200);
    for text in [
        "Administrator",
        "<code>pro</code>",
        "/Licenses",
        r#"<option value="License">"#,
    ] {
        assert!(page.body.contains(text), "{text}: {}", page.body);
    }
    // The SCIM side sees them at once.
    let roles = c
        .scim(
            &token,
            "GET",
            &format!("/scim/v2/{org}/Roles?count=1&startIndex=1"),
            None,
        )
        .await;
    roles.expect(200);
    assert_eq!(roles.json()["itemsPerPage"], 1);
    assert_eq!(roles.json()["Resources"][0]["displayName"], "Administrator");
    c.scim(&token, "GET", &format!("/scim/v2/{org}/Licenses"), None)
        .await
        .expect(200);
    // A type with values is refused removal, with the reason.
    let r = c
        .post_form(
            &mut admin,
            &format!("{page_path}/types/License/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    r.expect(409);
    assert!(r.body.contains("remove them first"), "{}", r.body);
    let values = c
        .store()
        .list_entitlement_values(&org, &scim_store::ValueQuery::default())
        .unwrap();
    let pro = values
        .values
        .iter()
        .find(|v| v.kind == EntitlementKind::Custom("License".into()))
        .unwrap();
    c.post_form(
        &mut admin,
        &format!("{page_path}/{}/delete", pro.id),
        &[("csrf", &csrf)],
    )
    .await
    .expect(303);
    c.post_form(
        &mut admin,
        &format!("{page_path}/types/License/delete"),
        &[("csrf", &csrf)],
    )
    .await
    .expect(303);
    assert!(c.store().list_entitlement_types(&org).unwrap().is_empty());
    // Another organization's page and forms are 404, and change nothing.
    let foreign = format!("/admin/organizations/{other}/entitlements");
    c.get(&mut admin, &foreign).await.expect(404);
    c.post_form(
        &mut admin,
        &foreign,
        &[("csrf", &csrf), ("kind", "role"), ("value", "x")],
    )
    .await
    .expect(404);
    assert_eq!(
        c.store()
            .list_entitlement_values(&other, &scim_store::ValueQuery::default())
            .unwrap()
            .total_results,
        0
    );
}

#[actix_web::test]
async fn the_api_is_the_host_applications_path() {
    let c = Console::new();
    let (org, token) = c.tenant_with_token("Acme");
    let (other, _) = c.tenant_with_token("Globex");
    c.account("admin@acme.test", Some(&org));
    let mut api = Client {
        bearer: Some(c.api_token("admin@acme.test")),
        ..Client::default()
    };
    let base = format!("/admin/api/organizations/{org}/entitlements");
    let r = c
        .api(
            &mut api,
            "POST",
            &base,
            Some(r#"{"kind":"role","value":"admin","display":"Admin"}"#),
        )
        .await;
    r.expect(201);
    let admin = r.json();
    assert_eq!(admin["kind"], "role");
    assert_eq!(admin["value"], "admin");
    assert!(admin["id"].is_string());
    c.api(
        &mut api,
        "POST",
        &base,
        Some(r#"{"kind":"role","value":"admin"}"#),
    )
    .await
    .expect(409);
    for bad in [
        r#"{"kind":"License","value":"pro"}"#,
        r#"{"kind":"role","value":""}"#,
        r#"{"kind":"role"}"#,
        r#"{"kind":"role","value":"x","extra":1}"#,
        "not json",
    ] {
        c.api(&mut api, "POST", &base, Some(bad)).await.expect(400);
    }
    let r = c
        .api(
            &mut api,
            "POST",
            &format!("{base}/types"),
            Some(r#"{"id":"License"}"#),
        )
        .await;
    r.expect(201);
    assert_eq!(r.json()["endpoint"], "/Licenses");
    c.api(
        &mut api,
        "POST",
        &base,
        Some(r#"{"kind":"license","value":"pro"}"#),
    )
    .await
    .expect(201);
    let r = c
        .api(&mut api, "GET", &format!("{base}?kind=License"), None)
        .await;
    r.expect(200);
    assert_eq!(r.json()["totalResults"], 1);
    assert_eq!(r.json()["entitlements"][0]["kind"], "License");
    let r = c.api(&mut api, "GET", &base, None).await;
    assert_eq!(r.json()["totalResults"], 2);
    let r = c.api(&mut api, "GET", &format!("{base}/types"), None).await;
    assert_eq!(r.json()["types"][0]["id"], "License");
    c.api(&mut api, "DELETE", &format!("{base}/types/License"), None)
        .await
        .expect(409);
    // The catalog now applies to SCIM writes.
    let bad = json!({"userName": "ada@acme.test", "roles": [{"value": "root"}]});
    let r = c
        .scim(&token, "POST", &format!("/scim/v2/{org}/Users"), Some(bad))
        .await;
    r.expect(400);
    assert_eq!(r.json()["scimType"], "invalidValue");
    // Another organization: 404 for every route, nothing written.
    let foreign = format!("/admin/api/organizations/{other}/entitlements");
    for (method, path, body) in [
        ("GET", foreign.clone(), None),
        (
            "POST",
            foreign.clone(),
            Some(r#"{"kind":"role","value":"x"}"#),
        ),
        ("GET", format!("{foreign}/types"), None),
        ("POST", format!("{foreign}/types"), Some(r#"{"id":"X"}"#)),
        (
            "DELETE",
            format!("{foreign}/{}", admin["id"].as_str().unwrap()),
            None,
        ),
    ] {
        c.api(&mut api, method, &path, body).await.expect(404);
    }
    // Removal by id, then gone.
    let id = admin["id"].as_str().unwrap();
    let r = c
        .api(&mut api, "DELETE", &format!("{base}/{id}"), None)
        .await;
    r.expect(200);
    assert_eq!(r.json()["removed"]["value"], "admin");
    c.api(&mut api, "DELETE", &format!("{base}/{id}"), None)
        .await
        .expect(404);
    // Without a token: 401.
    c.api(&mut Client::default(), "GET", &base, None)
        .await
        .expect(401);
}
