//! Deleting an organization from the console (Settings › Delete organization, operators
//! only, the id typed as confirmation, CSRF protected) and the admin API
//! (`DELETE /admin/api/organizations/{id}`): the organization's token fails at once, its
//! admins are gone, and another organization is untouched. An organization's own admin
//! cannot delete it (403) nor see another (404).

use crate::helpers::*;
use scim_store::StoreError;
use serde_json::json;

#[actix_web::test]
async fn operators_delete_organizations_and_nothing_else() {
    for backend in backends() {
        let c = Console::on(backend);
        let (acme, acme_token) = c.tenant_with_token("Acme");
        let (globex, globex_token) = c.tenant_with_token("Globex");
        let (initech, initech_token) = c.tenant_with_token("Initech");
        for (org, token) in [(&acme, &acme_token), (&globex, &globex_token)] {
            c.scim(
                token,
                "POST",
                &format!("/scim/v2/{org}/Users"),
                Some(json!({"userName": format!("u@{org}.test")})),
            )
            .await
            .expect(201);
        }
        c.account("ops@example.test", None);
        c.account("admin@acme.test", Some(&acme));

        // An organization's admin sees no Delete and may not delete, by form or API.
        let mut admin = c.signed_in("admin@acme.test").await;
        let settings = format!("/admin/organizations/{acme}/settings");
        let page = c.get(&mut admin, &settings).await;
        assert!(!page.body.contains("Delete organization"), "{backend:?}");
        let csrf = page.csrf();
        let delete = format!("{settings}/delete");
        c.post_form(&mut admin, &delete, &[("csrf", &csrf), ("confirm", &acme)])
            .await
            .expect(403);
        let mut admin_api = Client {
            bearer: Some(c.api_token("admin@acme.test")),
            ..Client::default()
        };
        c.api(
            &mut admin_api,
            "DELETE",
            &format!("/admin/api/organizations/{acme}"),
            None,
        )
        .await
        .expect(403);
        c.api(
            &mut admin_api,
            "DELETE",
            &format!("/admin/api/organizations/{globex}"),
            None,
        )
        .await
        .expect(404);
        assert!(c.store().get_tenant(&acme).is_ok());

        // The operator: a wrong confirmation or CSRF token deletes nothing.
        let mut ops = c.signed_in("ops@example.test").await;
        let page = c.get(&mut ops, &settings).await;
        page.expect(200);
        assert!(page.body.contains("Delete organization"), "{backend:?}");
        let csrf = page.csrf();
        c.post_form(&mut ops, &delete, &[("csrf", &csrf), ("confirm", &globex)])
            .await
            .expect(400);
        c.post_form(&mut ops, &delete, &[("csrf", "wrong"), ("confirm", &acme)])
            .await
            .expect(403);
        assert!(c.store().get_tenant(&acme).is_ok());
        let r = c
            .post_form(&mut ops, &delete, &[("csrf", &csrf), ("confirm", &acme)])
            .await;
        r.expect(303);
        assert_eq!(r.location(), Some("/admin/organizations"));
        assert!(matches!(
            c.store().get_tenant(&acme),
            Err(StoreError::NotFound)
        ));
        c.scim(&acme_token, "GET", &format!("/scim/v2/{acme}/Users"), None)
            .await
            .expect(401);
        // Its admin's API token went with it.
        c.api(&mut admin_api, "GET", "/admin/api/organizations", None)
            .await
            .expect(401);

        // The API: 204, then 404.
        let mut ops_api = c.operator_api("ops@example.test");
        let path = format!("/admin/api/organizations/{initech}");
        c.api(&mut ops_api, "DELETE", &path, None).await.expect(204);
        c.api(&mut ops_api, "DELETE", &path, None).await.expect(404);
        c.scim(
            &initech_token,
            "GET",
            &format!("/scim/v2/{initech}/Users"),
            None,
        )
        .await
        .expect(401);

        // Globex is as it was.
        let list = c
            .scim(
                &globex_token,
                "GET",
                &format!("/scim/v2/{globex}/Users"),
                None,
            )
            .await;
        list.expect(200);
        assert_eq!(list.json()["totalResults"], 1, "{backend:?}");
    }
}
