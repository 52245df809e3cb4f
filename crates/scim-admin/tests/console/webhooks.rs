//! Webhook subscriptions through the API and the pages: the API's shapes, who may reach
//! every new route (anonymous: refused; another organization: 404), CSRF on every new
//! form, and the signing secret appearing only in the create and rotate answers (never in
//! another body, nor in the database).

use crate::helpers::*;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

/// The signing secret on a create or rotate page (the `signing-secret` input).
fn secret_in(html: &str) -> String {
    let marker = "id=\"signing-secret\" type=\"text\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no secret in {html}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

fn api_routes(org: &str, wid: &str) -> Vec<(&'static str, String, Option<&'static str>)> {
    let o = format!("/admin/api/organizations/{org}");
    let w = format!("{o}/webhooks/{wid}");
    vec![
        ("GET", format!("{o}/events"), None),
        ("GET", format!("{o}/events?after=0&limit=5"), None),
        ("GET", format!("{o}/webhooks"), None),
        (
            "POST",
            format!("{o}/webhooks"),
            Some(r#"{"url": "https://rx.example.test/hook"}"#),
        ),
        ("GET", w.clone(), None),
        ("PATCH", w.clone(), Some(r#"{"enabled": false}"#)),
        ("POST", format!("{w}/rotate-secret"), None),
        ("POST", format!("{w}/test"), None),
        ("GET", format!("{w}/deliveries"), None),
        ("POST", format!("{w}/deliveries/1/redeliver"), None),
        ("POST", format!("{w}/replay"), Some(r#"{"after": "0"}"#)),
        // Last: it removes the subscription.
        ("DELETE", w, None),
    ]
}

fn page_gets(org: &str, wid: &str) -> Vec<String> {
    let o = format!("/admin/organizations/{org}");
    vec![
        format!("{o}/webhooks"),
        format!("{o}/webhooks/{wid}"),
        format!("{o}/webhooks/{wid}?before=10"),
    ]
}

fn page_posts(org: &str, wid: &str) -> Vec<(String, Vec<(&'static str, &'static str)>)> {
    let o = format!("/admin/organizations/{org}/webhooks");
    let w = format!("{o}/{wid}");
    vec![
        (
            o,
            vec![("url", "https://rx.example.test/evil"), ("mode", "full")],
        ),
        (
            w.clone(),
            vec![("url", "https://rx.example.test/evil"), ("mode", "notice")],
        ),
        (format!("{w}/rotate-secret"), vec![]),
        (format!("{w}/test"), vec![]),
        (format!("{w}/replay"), vec![("after", "0")]),
        (format!("{w}/deliveries/1/redeliver"), vec![]),
        (format!("{w}/delete"), vec![("confirm", "yes")]),
    ]
}

/// An operator, an organization with one event and a subscription made through the API.
async fn set_up() -> (Console, String, Client, Client, Value) {
    let c = Console::new();
    let org = c.tenant("Acme");
    c.account("op@example.test", None);
    let op = c.signed_in("op@example.test").await;
    let mut api = c.operator_api("op@example.test");
    let token = scim_http::generate_token(c.store(), &c.admin.app.signer, &org)
        .unwrap()
        .token;
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
    let (c, org, _op, mut api, created) = set_up().await;
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
async fn anonymous_requests_to_the_new_routes_are_refused() {
    let (c, org, _op, _api, created) = set_up().await;
    let id = created["id"].as_str().unwrap();
    let before = c.store().get_subscription(&org, id).unwrap();
    let scim_token = scim_http::generate_token(c.store(), &c.admin.app.signer, &org)
        .unwrap()
        .token;
    for (m, p, body) in api_routes(&org, id) {
        for bearer in [None, Some("garbage".to_string()), Some(scim_token.clone())] {
            let mut client = Client {
                bearer,
                ..Client::default()
            };
            let r = c.api(&mut client, m, &p, body).await;
            assert_eq!(r.status.as_u16(), 401, "{m} {p}: {}", r.body);
            assert_eq!(r.json()["status"], 401);
        }
    }
    let mut anon = Client::default();
    for p in page_gets(&org, id) {
        let r = c.get(&mut anon, &p).await;
        assert_eq!(r.status.as_u16(), 303, "{p}");
        assert_eq!(r.location(), Some("/admin/sign-in"), "{p}");
    }
    for (p, mut form) in page_posts(&org, id) {
        form.push(("csrf", "x"));
        let r = c.post_form(&mut anon, &p, &form).await;
        assert_eq!(r.status.as_u16(), 303, "{p}");
        assert_eq!(r.location(), Some("/admin/sign-in"), "{p}");
    }
    // Nothing changed.
    assert_eq!(c.store().list_subscriptions(&org).unwrap(), vec![before]);
}

#[actix_web::test]
async fn another_organization_is_not_found_on_every_new_route() {
    let (c, org, _op, mut op_api, created) = set_up().await;
    let theirs = created["id"].as_str().unwrap().to_string();
    let before = c.store().get_subscription(&org, &theirs).unwrap();
    // An admin of another organization, with a subscription of its own.
    let mine = c.tenant("Mine");
    c.account("admin@mine.test", Some(&mine));
    let mut api = c.operator_api("admin@mine.test");
    let mut me = c.signed_in("admin@mine.test").await;
    let r = c
        .api(
            &mut api,
            "POST",
            &format!("/admin/api/organizations/{mine}/webhooks"),
            Some(r#"{"url": "https://mine.example.test/hook"}"#),
        )
        .await;
    r.expect(201);
    let own = r.json()["id"].as_str().unwrap().to_string();
    // The other organization's routes, and its subscription through my organization: 404.
    for (m, p, body) in api_routes(&org, &theirs)
        .into_iter()
        .chain(api_routes(&mine, &theirs).into_iter().skip(4))
    {
        let r = c.api(&mut api, m, &p, body).await;
        assert_eq!(r.status.as_u16(), 404, "{m} {p}: {}", r.body);
        assert!(!r.body.contains("rx.example.test"), "{m} {p}");
        assert!(!r.body.contains("whsec_"), "{m} {p}");
    }
    for p in page_gets(&org, &theirs)
        .into_iter()
        .chain(page_gets(&mine, &theirs).into_iter().skip(1))
    {
        let r = c.get(&mut me, &p).await;
        assert_eq!(r.status.as_u16(), 404, "{p}");
        assert!(!r.body.contains("rx.example.test"), "{p}");
    }
    let csrf = c
        .get(&mut me, &format!("/admin/organizations/{mine}/webhooks"))
        .await
        .csrf();
    for (p, mut form) in page_posts(&org, &theirs)
        .into_iter()
        .chain(page_posts(&mine, &theirs).into_iter().skip(1))
    {
        form.push(("csrf", &csrf));
        let r = c.post_form(&mut me, &p, &form).await;
        assert_eq!(r.status.as_u16(), 404, "{p}: {}", r.body);
    }
    // Untouched, and the other organization still has exactly its one subscription.
    assert_eq!(c.store().get_subscription(&org, &theirs).unwrap(), before);
    assert_eq!(c.store().list_subscriptions(&org).unwrap().len(), 1);
    assert_eq!(c.store().list_subscriptions(&mine).unwrap().len(), 1);
    // My own subscription works, and the operator sees both organizations' lists.
    c.get(
        &mut api,
        &format!("/admin/api/organizations/{mine}/webhooks/{own}"),
    )
    .await
    .expect(200);
    c.get(
        &mut me,
        &format!("/admin/organizations/{mine}/webhooks/{own}"),
    )
    .await
    .expect(200);
    for o in [&org, &mine] {
        c.get(
            &mut op_api,
            &format!("/admin/api/organizations/{o}/webhooks"),
        )
        .await
        .expect(200);
    }
}

#[actix_web::test]
async fn every_new_form_needs_the_csrf_token_and_our_origin() {
    let (c, org, mut op, _api, created) = set_up().await;
    let id = created["id"].as_str().unwrap();
    let before = c.store().get_subscription(&org, id).unwrap();
    let csrf = c
        .get(&mut op, &format!("/admin/organizations/{org}/webhooks"))
        .await
        .csrf();
    for (p, form) in page_posts(&org, id) {
        for bad in ["", "wrong", &csrf[..csrf.len() - 1]] {
            let mut f = form.clone();
            f.push(("csrf", bad));
            let r = c.post_form(&mut op, &p, &f).await;
            assert_eq!(r.status.as_u16(), 403, "{p} with {bad:?}: {}", r.body);
        }
        let r = c.post_form(&mut op, &p, &form).await;
        assert_eq!(r.status.as_u16(), 403, "{p} without a token");
        // The right token from another site.
        let mut body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect();
        body.push(format!("csrf={csrf}"));
        for origin in ["https://evil.test", "null"] {
            let req = TestRequest::post()
                .uri(&p)
                .insert_header(("Origin", origin))
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(body.join("&"));
            let r = c.send(&mut op, req).await;
            assert_eq!(r.status.as_u16(), 403, "{p} from {origin}");
        }
    }
    assert_eq!(c.store().get_subscription(&org, id).unwrap(), before);
    assert_eq!(c.store().list_subscriptions(&org).unwrap().len(), 1);
    // With the token and our Origin, the edit works.
    let req = TestRequest::post()
        .uri(&format!("/admin/organizations/{org}/webhooks/{id}"))
        .insert_header(("Origin", PUBLIC))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(format!(
            "csrf={csrf}&url={}&mode=full&events=feed%3Aadd&events=feed%3Aremove",
            enc("https://rx.example.test/new")
        ));
    let r = c.send(&mut op, req).await;
    r.expect(303);
    let after = c.store().get_subscription(&org, id).unwrap();
    assert_eq!(after.sink.target(), "https://rx.example.test/new");
    assert!(!after.enabled, "an unticked Enabled box disables");
    assert_eq!(after.events.as_ref().unwrap().len(), 2);
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
