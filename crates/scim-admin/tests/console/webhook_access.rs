//! Who may reach the events and webhooks routes: anonymous callers are refused on every
//! one (401 JSON / redirect to sign-in), another organization is 404 on every one (also its
//! subscription through one's own organization), and every new form needs the session's
//! CSRF token and this server's Origin.

use crate::helpers::*;
use crate::webhooks::set_up;
use actix_web::test::TestRequest;

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

#[actix_web::test]
async fn anonymous_requests_to_the_new_routes_are_refused() {
    let (c, org, _op, _api, created) = set_up().await;
    let id = created["id"].as_str().unwrap();
    let before = c.store().get_subscription(&org, id).unwrap();
    let scim_token = scim_http::generate_token(c.store(), &org).unwrap().token;
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
