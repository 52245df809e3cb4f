//! Ids of any shape in console and admin API URLs (NUL, 10 KB, dot segments, invalid
//! UTF-8, ...), on SQLite and PostgreSQL: 404, never a 5xx; and NUL in query values,
//! sign-in e-mails and the console's own writes never a 5xx either.

use crate::helpers::*;
use actix_web::test::TestRequest;

/// Percent-encoded ids that name nothing.
fn bad_ids() -> Vec<String> {
    vec![
        "%00".into(),
        "a%00b".into(),
        "%2500".into(),
        "x".repeat(10_000),
        "..".into(),
        "%FF%FE".into(),
        "%C0%AF".into(),
        "%E2%80%AE".into(),
        "'%20OR%201=1--".into(),
    ]
}

#[actix_web::test]
async fn bad_ids_in_console_and_api_urls_are_404() {
    for backend in backends() {
        let c = Console::on(backend);
        let org = c.tenant("Acme");
        c.account("op@example.test", None);
        let mut api = c.operator_api("op@example.test");
        let mut op = c.signed_in("op@example.test").await;
        let csrf = c
            .get(&mut op, &format!("/admin/organizations/{org}/webhooks"))
            .await
            .expect(200)
            .csrf();
        for bad in bad_ids() {
            let a = "/admin/api/organizations";
            let api_calls = [
                ("GET", format!("{a}/{bad}")),
                ("POST", format!("{a}/{bad}/token")),
                ("GET", format!("{a}/{bad}/users")),
                ("GET", format!("{a}/{bad}/users/{bad}")),
                ("GET", format!("{a}/{org}/users/{bad}")),
                ("GET", format!("{a}/{org}/groups/{bad}")),
                ("GET", format!("{a}/{bad}/log")),
                ("GET", format!("{a}/{bad}/events")),
                ("GET", format!("{a}/{bad}/webhooks")),
                ("GET", format!("{a}/{org}/webhooks/{bad}")),
                ("PATCH", format!("{a}/{org}/webhooks/{bad}")),
                ("DELETE", format!("{a}/{org}/webhooks/{bad}")),
                ("POST", format!("{a}/{org}/webhooks/{bad}/rotate-secret")),
                ("POST", format!("{a}/{org}/webhooks/{bad}/replay")),
                ("GET", format!("{a}/{org}/webhooks/{bad}/deliveries")),
                (
                    "POST",
                    format!("{a}/{org}/webhooks/{bad}/deliveries/1/redeliver"),
                ),
            ];
            for (method, path) in api_calls {
                let body = (method != "GET" && method != "DELETE").then_some("{}");
                let r = c.api(&mut api, method, &path, body).await;
                let shown: String = path.chars().take(120).collect();
                assert_eq!(
                    r.status.as_u16(),
                    404,
                    "[{backend:?}] {method} {shown}: {}",
                    r.body
                );
            }
            let o = "/admin/organizations";
            for path in [
                format!("{o}/{bad}"),
                format!("{o}/{bad}/settings"),
                format!("{o}/{bad}/users"),
                format!("{o}/{org}/users/{bad}"),
                format!("{o}/{org}/groups/{bad}"),
                format!("{o}/{bad}/activity"),
                format!("{o}/{bad}/webhooks"),
                format!("{o}/{org}/webhooks/{bad}"),
            ] {
                let r = c.get(&mut op, &path).await;
                let shown: String = path.chars().take(120).collect();
                assert_eq!(r.status.as_u16(), 404, "[{backend:?}] GET {shown}");
            }
            for path in [
                format!("{o}/{org}/webhooks/{bad}/delete"),
                format!("{o}/{org}/webhooks/{bad}/replay"),
                format!("{o}/{bad}/settings/token"),
            ] {
                let r = c.post_form(&mut op, &path, &[("csrf", &csrf)]).await;
                let shown: String = path.chars().take(120).collect();
                assert!(
                    (400..500).contains(&r.status.as_u16()),
                    "[{backend:?}] POST {shown}: {}",
                    r.status
                );
            }
        }
        // NUL in the values of the console's own writes: a 4xx, never a 5xx.
        let nul_bodies = [
            (
                "POST",
                "/admin/api/organizations".to_string(),
                r#"{"name": "a\u0000b"}"#,
            ),
            (
                "POST",
                format!("/admin/api/organizations/{org}/webhooks"),
                r#"{"target": "https://example.com/\u0000", "mode": "full"}"#,
            ),
            (
                "POST",
                format!("/admin/api/organizations/{org}/webhooks"),
                r#"{"target": "https://example.com/hook", "events": ["prov:create\u0000"]}"#,
            ),
        ];
        for (method, path, body) in nul_bodies {
            let r = c.api(&mut api, method, &path, Some(body)).await;
            assert!(
                (400..500).contains(&r.status.as_u16()),
                "[{backend:?}] {method} {path} {body}: {} {}",
                r.status,
                r.body
            );
        }
        for email in ["op@example.test\u{0}", "\u{0}"] {
            let mut anon = Client::default();
            let r = c.sign_in_as(&mut anon, email, PASSWORD).await;
            assert!(
                r.status.as_u16() < 500,
                "[{backend:?}] sign-in {email:?}: {}",
                r.status
            );
            assert!(!anon.cookies.contains_key("scim_admin_session"));
        }
        // Hostile query values: never a 5xx.
        for q in ["q=%00", "q=a%00b", "page=%00", "q=%FF"] {
            for page in ["users", "groups", "activity"] {
                let p = format!("/admin/organizations/{org}/{page}?{q}");
                let r = c.get(&mut op, &p).await;
                assert!(r.status.as_u16() < 500, "[{backend:?}] {p}: {}", r.status);
            }
        }
        for q in ["before=%00", "limit=%00", "types=%00", "after=%00"] {
            for path in ["log", "events"] {
                let p = format!("/admin/api/organizations/{org}/{path}?{q}");
                let req = TestRequest::get().uri(&p);
                let r = c.send(&mut api, req).await;
                assert!(r.status.as_u16() < 500, "[{backend:?}] {p}: {}", r.status);
            }
        }
    }
}
