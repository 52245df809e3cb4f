//! The Schemas page and `/admin/api/organizations/{id}/schemas[/{urn}]`: list, upload,
//! replace, remove; CSRF protected; an organization's admins manage only their own
//! organization; a refused document is 400 with the reason and changes nothing; the SCIM
//! endpoint publishes the result from its next request (docs/schemas.md).

use crate::helpers::*;
use serde_json::{Value, json};

const URN: &str = "urn:example:entra:ext:User";

fn doc() -> Value {
    json!({"id": URN, "name": "EntraExtension", "attributes": [
        {"name": "extension_abc_department", "type": "string"},
        {"name": "extension_abc_level", "type": "integer"}]})
}

#[actix_web::test]
async fn the_api_lists_puts_and_removes() {
    for backend in backends() {
        let c = Console::on(backend);
        let (acme, token) = c.tenant_with_token("Acme");
        let globex = c.tenant("Globex");
        c.account("admin@acme.test", Some(&acme));
        let mut api = Client {
            bearer: Some(c.api_token("admin@acme.test")),
            ..Client::default()
        };
        let base = format!("/admin/api/organizations/{acme}/schemas");
        let r = c.api(&mut api, "GET", &base, None).await;
        r.expect(200);
        assert_eq!(r.json(), json!({"schemas": []}));
        let body = json!({"extends": "User", "document": doc()}).to_string();
        let r = c
            .api(&mut api, "PUT", &format!("{base}/{URN}"), Some(&body))
            .await;
        r.expect(200);
        assert_eq!(r.json()["id"], URN);
        assert_eq!(r.json()["active"], true);
        let r = c.api(&mut api, "GET", &base, None).await;
        assert_eq!(
            r.json()["schemas"][0]["attributes"],
            json!(["extension_abc_department", "extension_abc_level"])
        );
        let r = c.api(&mut api, "GET", &format!("{base}/{URN}"), None).await;
        r.expect(200);
        assert_eq!(r.json()["extends"], "User");
        // The SCIM endpoint publishes it at once.
        let spc = c
            .scim(
                &token,
                "GET",
                &format!("/scim/v2/{acme}/Schemas/{URN}"),
                None,
            )
            .await;
        spc.expect(200);
        // Refusals: 400 with the reason, nothing changed.
        let mut bad = doc();
        bad["attributes"][1]["type"] = json!("number");
        for (path, body) in [
            (
                base.clone(),
                json!({"extends": "User", "document": bad}).to_string(),
            ),
            (
                base.clone(),
                json!({"extends": "Role", "document": doc()}).to_string(),
            ),
            (base.clone(), json!({"extends": "User"}).to_string()),
            (
                format!("{base}/urn:other:x"),
                json!({"extends": "User", "document": doc()}).to_string(),
            ),
            (base.clone(), "not json".to_string()),
        ] {
            let r = c.api(&mut api, "PUT", &path, Some(&body)).await;
            r.expect(400);
        }
        let r = c
            .api(
                &mut api,
                "PUT",
                &base,
                Some(&json!({"extends": "User", "document": bad}).to_string()),
            )
            .await;
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("extension_abc_level"),
            "{}",
            r.body
        );
        // An incompatible change needs force.
        let mut changed = doc();
        changed["attributes"][1]["type"] = json!("string");
        let r = c
            .api(
                &mut api,
                "PUT",
                &base,
                Some(&json!({"extends": "User", "document": changed}).to_string()),
            )
            .await;
        r.expect(400);
        assert!(
            r.json()["error"].as_str().unwrap().contains("force"),
            "{}",
            r.body
        );
        c.api(
            &mut api,
            "PUT",
            &base,
            Some(&json!({"extends": "User", "document": changed, "force": true}).to_string()),
        )
        .await
        .expect(200);
        // Another organization: not visible to this admin.
        let other = format!("/admin/api/organizations/{globex}/schemas");
        c.api(&mut api, "GET", &other, None).await.expect(404);
        c.api(
            &mut api,
            "PUT",
            &other,
            Some(&json!({"extends": "User", "document": doc()}).to_string()),
        )
        .await
        .expect(404);
        assert!(c.store().list_tenant_schemas(&globex).unwrap().is_empty());
        // Remove: 204, then 404; listed as inactive.
        c.api(&mut api, "DELETE", &format!("{base}/{URN}"), None)
            .await
            .expect(204);
        c.api(&mut api, "DELETE", &format!("{base}/{URN}"), None)
            .await
            .expect(404);
        let r = c.api(&mut api, "GET", &base, None).await;
        assert_eq!(r.json()["schemas"][0]["active"], false);
        c.scim(
            &token,
            "GET",
            &format!("/scim/v2/{acme}/Schemas/{URN}"),
            None,
        )
        .await
        .expect(404);
    }
}

#[actix_web::test]
async fn the_page_uploads_and_removes() {
    let c = Console::new();
    let org = c.tenant("Acme");
    c.account("admin@acme.test", Some(&org));
    let mut admin = c.signed_in("admin@acme.test").await;
    let path = format!("/admin/organizations/{org}/schemas");
    let page = c.get(&mut admin, &path).await;
    page.expect(200);
    assert!(
        page.body.contains("No extension schema yet."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"href="/admin/organizations/"#) && page.body.contains(">Schemas<")
    );
    let csrf = page.csrf();
    let text = doc().to_string();
    // CSRF.
    c.post_form(
        &mut admin,
        &path,
        &[("csrf", "wrong"), ("extends", "User"), ("document", &text)],
    )
    .await
    .expect(403);
    assert!(c.store().list_tenant_schemas(&org).unwrap().is_empty());
    // A refused document is shown again with the reason.
    let r = c
        .post_form(&mut admin, &path, &[("csrf", &csrf), ("extends", "User"), ("document", "{\"id\": \"urn:ietf:params:scim:schemas:core:2.0:User\", \"name\": \"x\", \"attributes\": [{\"name\": \"a\", \"type\": \"string\"}]}")])
        .await;
    r.expect(400);
    assert!(r.body.contains("reserved"), "{}", r.body);
    let r = c
        .post_form(
            &mut admin,
            &path,
            &[
                ("csrf", &csrf),
                ("extends", "Group"),
                ("document", &text),
                ("required", "on"),
            ],
        )
        .await;
    r.expect(303);
    assert_eq!(r.location(), Some(path.as_str()));
    let rows = c.store().list_tenant_schemas(&org).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].required);
    assert_eq!(rows[0].extends, scim_core::ResourceKind::Group);
    let page = c.get(&mut admin, &path).await;
    assert!(
        page.body.contains(URN) && page.body.contains("active"),
        "{}",
        page.body
    );
    c.post_form(
        &mut admin,
        &format!("{path}/remove"),
        &[("csrf", "wrong"), ("id", URN)],
    )
    .await
    .expect(403);
    c.post_form(
        &mut admin,
        &format!("{path}/remove"),
        &[("csrf", &csrf), ("id", URN)],
    )
    .await
    .expect(303);
    assert!(!c.store().list_tenant_schemas(&org).unwrap()[0].active);
    let page = c.get(&mut admin, &path).await;
    assert!(
        page.body.contains("removed (values withheld)"),
        "{}",
        page.body
    );
    // Another organization's page is not found.
    let globex = c.tenant("Globex");
    c.get(
        &mut admin,
        &format!("/admin/organizations/{globex}/schemas"),
    )
    .await
    .expect(404);
}
