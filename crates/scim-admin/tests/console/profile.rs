//! The SCIM profile select on the Settings page and `"profile"` in
//! `PATCH /admin/api/organizations/{id}`: CSRF protected, an organization's admins change
//! only their own organization, a bad value is 400 and changes nothing, and the SCIM
//! endpoint follows the new profile from its next request (docs/profiles.md).

use crate::helpers::*;
use actix_web::test::TestRequest;
use scim_core::Profile;
use serde_json::json;

fn patch(org: &str, body: &str) -> TestRequest {
    TestRequest::patch()
        .uri(&format!("/admin/api/organizations/{org}"))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_string())
}

/// Okta's path-less deactivation: accepted by a lenient organization, 400 for a strict one.
fn okta_deactivation() -> serde_json::Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
           "Operations": [{"op": "replace", "value": {"active": false}}]})
}

#[actix_web::test]
async fn the_select_switches_the_profile() {
    let c = Console::new();
    let (org, token) = c.tenant_with_token("Acme");
    c.account("admin@acme.test", Some(&org));
    let mut admin = c.signed_in("admin@acme.test").await;
    let settings = format!("/admin/organizations/{org}/settings");
    let select = format!("{settings}/profile");
    let page = c.get(&mut admin, &settings).await;
    page.expect(200);
    assert!(page.body.contains("SCIM profile"));
    assert!(
        page.body.contains(r#"<option value="lenient" selected"#),
        "{}",
        page.body
    );
    let csrf = page.csrf();
    for bad in ["", "wrong"] {
        c.post_form(&mut admin, &select, &[("csrf", bad), ("profile", "strict")])
            .await
            .expect(403);
    }
    c.post_form(
        &mut admin,
        &select,
        &[("csrf", &csrf), ("profile", "relaxed")],
    )
    .await
    .expect(400);
    assert_eq!(
        c.store().get_tenant(&org).unwrap().profile,
        Profile::Lenient
    );

    let r = c
        .post_form(
            &mut admin,
            &select,
            &[("csrf", &csrf), ("profile", "strict")],
        )
        .await;
    r.expect(303);
    assert_eq!(r.location(), Some(settings.as_str()));
    assert_eq!(c.store().get_tenant(&org).unwrap().profile, Profile::Strict);
    let page = c.get(&mut admin, &settings).await;
    assert!(
        page.body.contains(r#"<option value="strict" selected"#),
        "{}",
        page.body
    );
    let spc = c
        .scim(
            &token,
            "GET",
            &format!("/scim/v2/{org}/ServiceProviderConfig"),
            None,
        )
        .await;
    spc.expect(200);
    assert_eq!(spc.json()["interopProfileConformant"], true);
    // A user to deactivate, created the conformant way.
    let user = c
        .scim(
            &token,
            "POST",
            &format!("/scim/v2/{org}/Users"),
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada@acme.test"})),
        )
        .await;
    user.expect(201);
    let uid = user.json()["id"].as_str().unwrap().to_string();
    let path = format!("/scim/v2/{org}/Users/{uid}");
    let r = c
        .scim(&token, "PATCH", &path, Some(okta_deactivation()))
        .await;
    r.expect(400);
    assert_eq!(r.json()["scimType"], "invalidSyntax");

    c.post_form(
        &mut admin,
        &select,
        &[("csrf", &csrf), ("profile", "lenient")],
    )
    .await
    .expect(303);
    c.scim(&token, "PATCH", &path, Some(okta_deactivation()))
        .await
        .expect(200);
}

#[actix_web::test]
async fn the_api_sets_the_profile_of_its_own_organization_only() {
    let c = Console::new();
    let (acme, _) = c.tenant_with_token("Acme");
    let (globex, _) = c.tenant_with_token("Globex");
    c.account("admin@acme.test", Some(&acme));
    let mut api = Client {
        bearer: Some(c.api_token("admin@acme.test")),
        ..Client::default()
    };
    c.send(&mut api, patch(&globex, r#"{"profile": "strict"}"#))
        .await
        .expect(404);
    assert_eq!(
        c.store().get_tenant(&globex).unwrap().profile,
        Profile::Lenient
    );
    for bad in [
        r#"{"profile": "relaxed"}"#,
        r#"{"profile": true}"#,
        r#"{"profile": "strict", "paused": "yes"}"#,
    ] {
        c.send(&mut api, patch(&acme, bad)).await.expect(400);
    }
    // Nothing of a refused body was written (the pause neither).
    let t = c.store().get_tenant(&acme).unwrap();
    assert_eq!((t.profile, t.paused_at), (Profile::Lenient, None));
    let r = c
        .send(&mut api, patch(&acme, r#"{"profile": "strict"}"#))
        .await;
    r.expect(200);
    assert_eq!(r.json()["profile"], "strict");
    assert_eq!(r.json()["paused"], false);
    let r = c
        .get(&mut api, &format!("/admin/api/organizations/{acme}"))
        .await;
    assert_eq!(r.json()["profile"], "strict");
    // Both at once.
    let r = c
        .send(
            &mut api,
            patch(&acme, r#"{"profile": "lenient", "paused": true}"#),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["profile"], "lenient");
    assert_eq!(r.json()["paused"], true);
    assert_eq!(
        c.store().get_tenant(&globex).unwrap().profile,
        Profile::Lenient
    );
}
