//! The pause switch on the Settings page and `PATCH /admin/api/organizations/{id}`: CSRF
//! protected, an organization's admins pause only their own organization (another is not
//! found), and a paused organization's SCIM endpoint is 403 until it is resumed.

use crate::helpers::*;
use actix_web::test::TestRequest;

fn patch(org: &str, body: &str) -> TestRequest {
    TestRequest::patch()
        .uri(&format!("/admin/api/organizations/{org}"))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_string())
}

#[actix_web::test]
async fn the_switch_pauses_and_resumes_provisioning() {
    let c = Console::new();
    let (org, token) = c.tenant_with_token("Acme");
    c.account("admin@acme.test", Some(&org));
    let mut admin = c.signed_in("admin@acme.test").await;
    let settings = format!("/admin/organizations/{org}/settings");
    let switch = format!("{settings}/paused");
    let users = format!("/scim/v2/{org}/Users");
    let page = c.get(&mut admin, &settings).await;
    page.expect(200);
    assert!(page.body.contains("Pause provisioning"));
    // The confirmation says what pausing does.
    assert!(page.body.contains("fail with 403"));
    assert!(page.body.contains("Nothing is deleted"));
    let csrf = page.csrf();
    // Without a valid CSRF token nothing changes.
    for bad in ["", "wrong"] {
        c.post_form(&mut admin, &switch, &[("csrf", bad), ("paused", "true")])
            .await
            .expect(403);
    }
    assert!(c.store().get_tenant(&org).unwrap().paused_at.is_none());
    c.scim(&token, "GET", &users, None).await.expect(200);

    let r = c
        .post_form(&mut admin, &switch, &[("csrf", &csrf), ("paused", "true")])
        .await;
    r.expect(303);
    assert_eq!(r.location(), Some(settings.as_str()));
    assert!(c.store().get_tenant(&org).unwrap().paused_at.is_some());
    let r = c.scim(&token, "GET", &users, None).await;
    r.expect(403);
    assert!(r.json()["detail"].as_str().unwrap().contains("paused"));
    let page = c.get(&mut admin, &settings).await;
    assert!(page.body.contains("Paused") && page.body.contains("Resume provisioning"));

    let r = c
        .post_form(&mut admin, &switch, &[("csrf", &csrf), ("paused", "false")])
        .await;
    r.expect(303);
    assert!(c.store().get_tenant(&org).unwrap().paused_at.is_none());
    c.scim(&token, "GET", &users, None).await.expect(200);
}

#[actix_web::test]
async fn admins_pause_only_their_own_organization() {
    let c = Console::new();
    let (acme, acme_token) = c.tenant_with_token("Acme");
    let (globex, globex_token) = c.tenant_with_token("Globex");
    c.account("admin@acme.test", Some(&acme));
    let mut admin = c.signed_in("admin@acme.test").await;
    let csrf = c
        .get(&mut admin, &format!("/admin/organizations/{acme}/settings"))
        .await
        .csrf();
    // Another organization's switch is not found, with or without a valid form.
    let other = format!("/admin/organizations/{globex}/settings/paused");
    c.post_form(&mut admin, &other, &[("csrf", &csrf), ("paused", "true")])
        .await
        .expect(404);
    let mut api = Client {
        bearer: Some(c.api_token("admin@acme.test")),
        ..Client::default()
    };
    c.send(&mut api, patch(&globex, r#"{"paused": true}"#))
        .await
        .expect(404);
    assert!(c.store().get_tenant(&globex).unwrap().paused_at.is_none());
    c.scim(
        &globex_token,
        "GET",
        &format!("/scim/v2/{globex}/Users"),
        None,
    )
    .await
    .expect(200);

    // Its own, through the API.
    for bad in ["", "{", r#"{"paused": "yes"}"#, r#"{}"#] {
        c.send(&mut api, patch(&acme, bad)).await.expect(400);
    }
    let r = c.send(&mut api, patch(&acme, r#"{"paused": true}"#)).await;
    r.expect(200);
    let v = r.json();
    assert_eq!(v["id"], acme.as_str());
    assert_eq!(v["paused"], true);
    assert!(v["pausedAt"].is_string());
    c.scim(&acme_token, "GET", &format!("/scim/v2/{acme}/Users"), None)
        .await
        .expect(403);
    let r = c
        .get(&mut api, &format!("/admin/api/organizations/{acme}"))
        .await;
    assert_eq!(r.json()["paused"], true);
    let r = c.send(&mut api, patch(&acme, r#"{"paused": false}"#)).await;
    r.expect(200);
    assert_eq!(r.json()["paused"], false);
    c.scim(&acme_token, "GET", &format!("/scim/v2/{acme}/Users"), None)
        .await
        .expect(200);
    // An operator may pause any organization.
    let mut op_api = {
        c.account("op@example.test", None);
        c.operator_api("op@example.test")
    };
    c.send(&mut op_api, patch(&globex, r#"{"paused": true}"#))
        .await
        .expect(200);
    c.scim(
        &globex_token,
        "GET",
        &format!("/scim/v2/{globex}/Users"),
        None,
    )
    .await
    .expect(403);
}
