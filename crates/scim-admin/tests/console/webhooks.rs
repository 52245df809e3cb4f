//! Webhook subscriptions through the API and the pages: the API's shapes, the pages'
//! list, edit and remove, and the signing secret appearing only in the create and rotate
//! answers (never in another body, nor in the database). Who may reach them: in
//! `webhook_access.rs`.

use crate::helpers::*;
use serde_json::{Value, json};

/// The signing secret on a create or rotate page (the `signing-secret` input).
fn secret_in(html: &str) -> String {
    input_value(html, "signing-secret")
}

/// An operator, an organization with one event and a subscription made through the API.
pub async fn set_up() -> (Console, String, Client, Client, Value) {
    set_up_on(Backend::Sqlite).await
}

/// [`set_up`] on `b`.
pub async fn set_up_on(b: Backend) -> (Console, String, Client, Client, Value) {
    let c = Console::on(b);
    let (org, token) = c.tenant_with_token("Acme");
    c.account("op@example.test", None);
    let op = c.signed_in("op@example.test").await;
    let mut api = c.operator_api("op@example.test");
    c.scim(
        &token,
        "POST",
        &format!("/scim/v2/{org}/Users"),
        Some(json!({"userName": "ada", "active": true})),
    )
    .await
    .expect(201);
    let r = c
        .api(
            &mut api,
            "POST",
            &format!("/admin/api/organizations/{org}/webhooks"),
            Some(r#"{"url": "https://rx.example.test/hook", "mode": "notice", "events": ["prov:deactivate", "prov:create"]}"#),
        )
        .await;
    r.expect(201);
    (c, org, op, api, r.json())
}

#[actix_web::test]
async fn api_shapes() {
    for b in backends() {
        api_shapes_on(b).await;
    }
}

async fn api_shapes_on(b: Backend) {
    let (c, org, _op, mut api, created) = set_up_on(b).await;
    let base = format!("/admin/api/organizations/{org}/webhooks");
    let id = created["id"].as_str().unwrap().to_string();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(created["url"], "https://rx.example.test/hook");
    assert_eq!(created["mode"], "notice");
    assert_eq!(created["events"], json!(["prov:create", "prov:deactivate"]));
    assert_eq!(created["enabled"], true);
    assert_eq!(created["disabled_reason"], Value::Null);
    // A new subscription starts after the newest event: the user created before is not sent.
    assert_eq!(created["cursor"], "1");
    assert_eq!(created["backlog"], 0);
    assert_eq!(created["failing_since"], Value::Null);
    assert_eq!(created["last_error"], Value::Null);
    assert!(created["created"].as_str().is_some());
    // The secret is the derived one (server key, id, version), not a stored value.
    let sub = c.store().get_subscription(&org, &id).unwrap();
    let key = scim_events::signing_key(c.db.as_ref()).unwrap();
    assert_eq!(scim_events::subscription_secret(&key, &sub), secret);

    let list = c.get(&mut api, &base).await;
    list.expect(200);
    let hooks = list.json()["webhooks"].as_array().unwrap().clone();
    assert_eq!(hooks.len(), 1);
    let mut without_secret = created.clone();
    without_secret.as_object_mut().unwrap().remove("secret");
    assert_eq!(hooks[0], without_secret);
    let one = c.get(&mut api, &format!("{base}/{id}")).await;
    one.expect(200);
    assert_eq!(one.json(), without_secret);

    // PATCH: every field, then back to every event type with null.
    let r = c
        .api(
            &mut api,
            "PATCH",
            &format!("{base}/{id}"),
            Some(r#"{"url": "nats:scim.acme", "mode": "full", "events": "feed:add", "enabled": false}"#),
        )
        .await;
    r.expect(200);
    let v = r.json();
    assert_eq!(
        (&v["url"], &v["mode"], &v["events"], &v["enabled"]),
        (
            &json!("nats:scim.acme"),
            &json!("full"),
            &json!(["feed:add"]),
            &json!(false)
        )
    );
    let r = c
        .api(
            &mut api,
            "PATCH",
            &format!("{base}/{id}"),
            Some(r#"{"events": null, "enabled": true}"#),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["events"], Value::Null);
    assert_eq!(r.json()["enabled"], true);
    assert_eq!(r.json()["url"], "nats:scim.acme", "untouched fields stay");
    assert!(r.json().get("secret").is_none());

    // Bad bodies: 400 with a JSON error, nothing changed.
    for (method, path, body) in [
        ("POST", base.clone(), "{"),
        ("POST", base.clone(), r#"{"url": "ftp://x"}"#),
        (
            "POST",
            base.clone(),
            r#"{"url": "https://x", "mode": "loud"}"#,
        ),
        (
            "POST",
            base.clone(),
            r#"{"url": "https://x", "events": ["prov:nope"]}"#,
        ),
        (
            "POST",
            base.clone(),
            r#"{"url": "https://x", "after": "999"}"#,
        ),
        (
            "POST",
            base.clone(),
            r#"{"url": "https://x", "secret": "mine"}"#,
        ),
        ("PATCH", format!("{base}/{id}"), r#"{"enabled": "no"}"#),
        ("PATCH", format!("{base}/{id}"), r#"{"url": "not a url"}"#),
        ("PATCH", format!("{base}/{id}"), "[]"),
        ("POST", format!("{base}/{id}/replay"), r#"{"after": "-1"}"#),
        ("POST", format!("{base}/{id}/replay"), r#"{"after": "999"}"#),
        ("POST", format!("{base}/{id}/replay"), r#"{}"#),
    ] {
        let r = c.api(&mut api, method, &path, Some(body)).await;
        assert_eq!(r.status.as_u16(), 400, "{method} {path} {body}: {}", r.body);
        assert_eq!(r.json()["status"], 400);
    }
    for p in [
        format!("{base}/{id}/deliveries?limit=0"),
        format!("{base}/{id}/deliveries?before=x"),
    ] {
        c.get(&mut api, &p).await.expect(400);
    }
    for p in ["0", "-1", "x", "999"] {
        let r = c
            .api(
                &mut api,
                "POST",
                &format!("{base}/{id}/deliveries/{p}/redeliver"),
                None,
            )
            .await;
        assert!(
            matches!(r.status.as_u16(), 400 | 404),
            "{p}: {} {}",
            r.status,
            r.body
        );
    }
    assert_eq!(c.store().list_subscriptions(&org).unwrap().len(), 1);

    // Replay and redelivery answer what they did.
    let r = c
        .api(
            &mut api,
            "POST",
            &format!("{base}/{id}/replay"),
            Some(r#"{"after": "0"}"#),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["cursor"], "0");
    assert_eq!(r.json()["backlog"], 1);
    let r = c
        .api(
            &mut api,
            "POST",
            &format!("{base}/{id}/deliveries/1/redeliver"),
            None,
        )
        .await;
    r.expect(202);
    assert_eq!(r.json(), json!({"queued": true, "position": "1"}));
    let r = c.get(&mut api, &format!("{base}/{id}/deliveries")).await;
    r.expect(200);
    assert_eq!(r.json(), json!({"deliveries": [], "next_before": null}));

    // Without a delivery worker in this process, a test event is 503 with a reason.
    let r = c
        .api(&mut api, "POST", &format!("{base}/{id}/test"), None)
        .await;
    r.expect(503);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("delivery worker")
    );

    // Rotation: a new secret, shown in that answer.
    let r = c
        .api(
            &mut api,
            "POST",
            &format!("{base}/{id}/rotate-secret"),
            None,
        )
        .await;
    r.expect(200);
    let rotated = r.json()["secret"].as_str().unwrap().to_string();
    assert_ne!(rotated, secret);
    assert_eq!(r.json()["id"], id.as_str());

    // Remove: gone, and 404 afterwards.
    let r = c
        .api(&mut api, "DELETE", &format!("{base}/{id}"), None)
        .await;
    r.expect(200);
    assert_eq!(r.json()["removed"], id.as_str());
    c.get(&mut api, &format!("{base}/{id}")).await.expect(404);
    c.api(&mut api, "DELETE", &format!("{base}/{id}"), None)
        .await
        .expect(404);
    assert!(c.store().list_subscriptions(&org).unwrap().is_empty());
}

#[actix_web::test]
async fn the_secret_is_shown_only_by_create_and_rotate() {
    let (c, org, mut op, mut api, created) = set_up().await;
    let o = format!("/admin/organizations/{org}");
    let a = format!("/admin/api/organizations/{org}");
    let api_id = created["id"].as_str().unwrap().to_string();
    let mut secrets = vec![created["secret"].as_str().unwrap().to_string()];
    // Add through the page: the secret is on the result page, with a copy button.
    let csrf = c.get(&mut op, &format!("{o}/webhooks")).await.csrf();
    let r = c
        .post_form(
            &mut op,
            &format!("{o}/webhooks"),
            &[
                ("csrf", &csrf),
                ("url", "https://rx.example.test/page"),
                ("mode", "full"),
                ("events", "prov:deactivate"),
            ],
        )
        .await;
    r.expect(200);
    assert!(r.body.contains("shown only this once"));
    assert!(r.body.contains("data-copy=\"signing-secret\""));
    secrets.push(secret_in(&r.body));
    let page_id = c
        .store()
        .list_subscriptions(&org)
        .unwrap()
        .into_iter()
        .find(|s| s.sink.target() == "https://rx.example.test/page")
        .unwrap()
        .id;
    // Rotate through the page and through the API.
    let r = c
        .post_form(
            &mut op,
            &format!("{o}/webhooks/{page_id}/rotate-secret"),
            &[("csrf", &csrf)],
        )
        .await;
    r.expect(200);
    assert!(r.body.contains("previous secret has stopped working"));
    secrets.push(secret_in(&r.body));
    let r = c
        .api(
            &mut api,
            "POST",
            &format!("{a}/webhooks/{api_id}/rotate-secret"),
            None,
        )
        .await;
    r.expect(200);
    secrets.push(r.json()["secret"].as_str().unwrap().to_string());
    let distinct: std::collections::HashSet<&String> = secrets.iter().collect();
    assert_eq!(distinct.len(), 4, "{secrets:?}");
    // Exercise every other route once, then scan every body.
    let mut bodies = Vec::new();
    for p in [
        format!("{o}/webhooks"),
        format!("{o}/webhooks/{api_id}"),
        format!("{o}/webhooks/{page_id}"),
        format!("{o}/activity"),
        format!("{o}/settings"),
    ] {
        let r = c.get(&mut op, &p).await;
        r.expect(200);
        bodies.push(r.body);
    }
    for (p, form) in [
        (
            format!("{o}/webhooks/{page_id}"),
            vec![
                ("url", "https://rx.example.test/page2"),
                ("mode", "notice"),
                ("enabled", "yes"),
            ],
        ),
        (
            format!("{o}/webhooks/{page_id}/replay"),
            vec![("after", "0")],
        ),
        (
            format!("{o}/webhooks/{page_id}/deliveries/1/redeliver"),
            vec![],
        ),
        (format!("{o}/webhooks/{page_id}/test"), vec![]),
    ] {
        let mut f = form;
        f.push(("csrf", &csrf));
        let r = c.post_form(&mut op, &p, &f).await;
        assert!(
            matches!(r.status.as_u16(), 200 | 303 | 503),
            "{p}: {} {}",
            r.status,
            r.body
        );
        if let Some(to) = r.location() {
            bodies.push(c.get(&mut op, to).await.body);
        }
        bodies.push(r.body);
    }
    for (m, p, body) in [
        ("GET", format!("{a}/webhooks"), None),
        ("GET", format!("{a}/webhooks/{api_id}"), None),
        (
            "PATCH",
            format!("{a}/webhooks/{api_id}"),
            Some(r#"{"mode": "full"}"#),
        ),
        ("GET", format!("{a}/webhooks/{api_id}/deliveries"), None),
        (
            "POST",
            format!("{a}/webhooks/{api_id}/replay"),
            Some(r#"{"after": "0"}"#),
        ),
        (
            "POST",
            format!("{a}/webhooks/{api_id}/deliveries/1/redeliver"),
            None,
        ),
        ("POST", format!("{a}/webhooks/{api_id}/test"), None),
        ("GET", format!("{a}/events"), None),
        ("GET", format!("{a}/log"), None),
        ("GET", a.clone(), None),
    ] {
        let r = c.api(&mut api, m, &p, body).await;
        assert!(
            r.status.as_u16() < 500 || r.status.as_u16() == 503,
            "{m} {p}"
        );
        bodies.push(r.body);
    }
    for body in &bodies {
        for s in &secrets {
            assert!(!body.contains(s.as_str()), "secret leaked: {body}");
        }
        assert!(!body.contains("whsec_"), "a secret leaked: {body}");
    }
    // The database holds no usable secret either: only the version it is derived with.
    let db = c.db_bytes();
    for s in &secrets {
        assert!(
            !db.windows(s.len()).any(|w| w == s.as_bytes()),
            "secret stored in the database"
        );
    }
}

#[actix_web::test]
async fn webhooks_pages_list_edit_and_remove() {
    let (c, org, mut op, _api, created) = set_up().await;
    let o = format!("/admin/organizations/{org}");
    let id = created["id"].as_str().unwrap();
    // The organization's nav links to Webhooks.
    let settings = c.get(&mut op, &format!("{o}/settings")).await;
    assert!(settings.body.contains(&format!("href=\"{o}/webhooks\"")));
    let list = c.get(&mut op, &format!("{o}/webhooks")).await;
    list.expect(200);
    assert!(list.body.contains("https://rx.example.test/hook"));
    assert!(list.body.contains("notice"));
    assert!(list.body.contains("prov:create, prov:deactivate"));
    assert!(list.body.contains("Active"));
    assert!(list.body.contains("aria-current=\"page\""));
    let csrf = list.csrf();
    // Bad input on the add form: 400 with the message and the list, nothing created.
    let r = c
        .post_form(
            &mut op,
            &format!("{o}/webhooks"),
            &[("csrf", &csrf), ("url", "ftp://nope"), ("mode", "full")],
        )
        .await;
    r.expect(400);
    assert!(r.body.contains("role=\"alert\""));
    assert!(r.body.contains("https://rx.example.test/hook"));
    assert_eq!(c.store().list_subscriptions(&org).unwrap().len(), 1);
    // Disable via the edit form: the list says so.
    let r = c
        .post_form(
            &mut op,
            &format!("{o}/webhooks/{id}"),
            &[
                ("csrf", &csrf),
                ("url", "https://rx.example.test/hook"),
                ("mode", "notice"),
            ],
        )
        .await;
    r.expect(303);
    let page = c.get(&mut op, r.location().unwrap()).await;
    assert!(page.body.contains("Saved."));
    assert!(page.body.contains("Disabled"));
    // Every event type ticked is the same as none: every type.
    let all: Vec<(&str, &str)> = [
        "prov:create",
        "prov:patch",
        "prov:put",
        "prov:delete",
        "prov:activate",
        "prov:deactivate",
        "feed:add",
        "feed:remove",
    ]
    .into_iter()
    .map(|t| ("events", t))
    .collect();
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("url", "https://rx.example.test/hook"),
        ("mode", "notice"),
        ("enabled", "yes"),
    ];
    form.extend(all);
    c.post_form(&mut op, &format!("{o}/webhooks/{id}"), &form)
        .await
        .expect(303);
    let s = c.store().get_subscription(&org, id).unwrap();
    assert!(s.enabled && s.events.is_none());
    // An unknown event type or a bad cursor is 400 on the subscription's page.
    let r = c
        .post_form(
            &mut op,
            &format!("{o}/webhooks/{id}"),
            &[
                ("csrf", &csrf),
                ("url", "https://x.test"),
                ("events", "prov:nope"),
            ],
        )
        .await;
    r.expect(400);
    let r = c
        .post_form(
            &mut op,
            &format!("{o}/webhooks/{id}/replay"),
            &[("csrf", &csrf), ("after", "abc")],
        )
        .await;
    r.expect(400);
    assert!(r.body.contains("cursor"));
    // Remove needs the confirmation box.
    let r = c
        .post_form(
            &mut op,
            &format!("{o}/webhooks/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    r.expect(400);
    assert_eq!(c.store().list_subscriptions(&org).unwrap().len(), 1);
    let r = c
        .post_form(
            &mut op,
            &format!("{o}/webhooks/{id}/delete"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    r.expect(303);
    assert_eq!(r.location(), Some(format!("{o}/webhooks").as_str()));
    assert!(c.store().list_subscriptions(&org).unwrap().is_empty());
    let list = c.get(&mut op, &format!("{o}/webhooks")).await;
    assert!(list.body.contains("No subscriptions yet."));
    // Send test without a worker in this process: 503 with the reason on the page.
    let r = c
        .api(
            &mut c.operator_api("op@example.test"),
            "POST",
            &format!("/admin/api/organizations/{org}/webhooks"),
            Some(r#"{"url": "https://rx.example.test/t"}"#),
        )
        .await;
    let tid = r.json()["id"].as_str().unwrap().to_string();
    let r = c
        .post_form(
            &mut op,
            &format!("{o}/webhooks/{tid}/test"),
            &[("csrf", &csrf)],
        )
        .await;
    r.expect(503);
    assert!(r.body.contains("without a delivery worker"));
}
