//! Who may do what: anonymous requests, organization isolation, CSRF, the sign-in limit,
//! the set-up link.

use crate::helpers::*;
use actix_web::test::TestRequest;

fn page_paths(org: &str) -> Vec<String> {
    let o = format!("/admin/organizations/{org}");
    vec![
        "/admin".into(),
        "/admin/organizations".into(),
        o.clone(),
        format!("{o}/settings"),
        format!("{o}/users"),
        format!("{o}/users?q=ada&page=2"),
        format!("{o}/users/some-user"),
        format!("{o}/groups"),
        format!("{o}/groups/some-group"),
        format!("{o}/activity"),
        format!("{o}/activity?operation=create&kind=User"),
        format!("{o}/requests"),
        format!("{o}/requests?status=4xx&action=lookup"),
        format!("{o}/requests/some-entry"),
        format!("{o}/requests/export?format=csv"),
        "/admin/no-such-page".into(),
    ]
}

fn api_paths(org: &str) -> Vec<(&'static str, String)> {
    let o = format!("/admin/api/organizations/{org}");
    vec![
        ("GET", "/admin/api/organizations".into()),
        ("POST", "/admin/api/organizations".into()),
        ("GET", o.clone()),
        ("POST", format!("{o}/token")),
        ("GET", format!("{o}/users")),
        ("GET", format!("{o}/users/u1")),
        ("GET", format!("{o}/groups")),
        ("GET", format!("{o}/groups/g1")),
        ("GET", format!("{o}/log")),
        ("GET", format!("{o}/requests")),
        ("GET", format!("{o}/requests?limit=5&status=4xx")),
        ("GET", format!("{o}/requests/1")),
        ("GET", "/admin/api/nothing-here".into()),
    ]
}

#[actix_web::test]
async fn anonymous_requests_are_refused() {
    let c = Console::new();
    let org = c.tenant("Acme");
    c.account("op@example.test", None);
    let mut anon = Client::default();
    for p in page_paths(&org) {
        let r = c.get(&mut anon, &p).await;
        assert_eq!(r.status.as_u16(), 303, "{p}");
        assert_eq!(r.location(), Some("/admin/sign-in"), "{p}");
    }
    let o = format!("/admin/organizations/{org}");
    for p in [
        "/admin/organizations".to_string(),
        format!("{o}/settings/token"),
        "/admin/sign-out".into(),
    ] {
        let r = c
            .post_form(&mut anon, &p, &[("csrf", "x"), ("name", "Evil")])
            .await;
        assert_eq!(r.status.as_u16(), 303, "{p}");
        assert_eq!(r.location(), Some("/admin/sign-in"), "{p}");
    }
    // A garbage, forged or tenant token is no session either.
    let scim_token = scim_http::generate_token(c.store(), &org).unwrap().token;
    for cookie in ["garbage", scim_token.as_str(), ""] {
        let mut forged = Client::default();
        forged
            .cookies
            .insert("scim_admin_session".into(), cookie.into());
        let r = c.get(&mut forged, "/admin/organizations").await;
        assert_eq!(r.status.as_u16(), 303);
    }
    for (m, p) in api_paths(&org) {
        for bearer in [None, Some("garbage".to_string()), Some(scim_token.clone())] {
            let mut client = Client {
                bearer,
                ..Client::default()
            };
            let req = TestRequest::default().method(m.parse().unwrap()).uri(&p);
            let r = c.send(&mut client, req).await;
            assert_eq!(r.status.as_u16(), 401, "{m} {p}: {}", r.body);
            assert_eq!(r.json()["status"], 401);
        }
    }
    // A session cookie is not an API token, and an API token is not a session.
    let mut op = c.signed_in("op@example.test").await;
    let session = op.cookies.get("scim_admin_session").cloned().unwrap();
    let mut as_bearer = Client {
        bearer: Some(session),
        ..Client::default()
    };
    c.get(&mut as_bearer, "/admin/api/organizations")
        .await
        .expect(401);
    let api = c.api_token("op@example.test");
    let mut as_cookie = Client::default();
    as_cookie.cookies.insert("scim_admin_session".into(), api);
    c.get(&mut as_cookie, "/admin/organizations")
        .await
        .expect(303);
    c.get(&mut op, "/admin/organizations").await.expect(200);
}

#[actix_web::test]
async fn organization_admins_see_only_their_organization() {
    let c = Console::new();
    let mine = c.tenant("Mine");
    let other = c.tenant("Other");
    c.account("admin@mine.test", Some(&mine));
    let mut me = c.signed_in("admin@mine.test").await;
    // Home goes to the own organization's settings.
    let r = c.get(&mut me, "/admin").await;
    assert_eq!(
        r.location(),
        Some(format!("/admin/organizations/{mine}/settings").as_str())
    );
    let list = c.get(&mut me, "/admin/organizations").await;
    list.expect(200);
    assert!(list.body.contains("Mine") && !list.body.contains("Other"));
    assert!(!list.body.contains("Create an organization"));
    for p in page_paths(&mine).into_iter().skip(2) {
        if p.contains("some-") || p.contains("no-such") {
            continue;
        }
        let r = c.get(&mut me, &p).await;
        assert!(
            r.status.is_success() || r.status.as_u16() == 303,
            "{p}: {}",
            r.status
        );
    }
    for p in page_paths(&other).into_iter().skip(2) {
        let r = c.get(&mut me, &p).await;
        assert_eq!(r.status.as_u16(), 404, "{p}");
        assert!(!r.body.contains("Other"), "{p}");
    }
    let csrf = c.get(&mut me, "/admin/organizations").await.csrf();
    // Another organization's Generate: 404, and its token is unchanged.
    let r = c
        .post_form(
            &mut me,
            &format!("/admin/organizations/{other}/settings/token"),
            &[("csrf", &csrf)],
        )
        .await;
    r.expect(404);
    assert!(c.store().get_tenant(&other).unwrap().token.is_none());
    // Organization admins cannot create organizations.
    c.post_form(
        &mut me,
        "/admin/organizations",
        &[("csrf", &csrf), ("name", "New")],
    )
    .await
    .expect(403);
    // The API: same rules.
    let mut api = Client {
        bearer: Some(c.api_token("admin@mine.test")),
        ..Client::default()
    };
    let orgs = c.get(&mut api, "/admin/api/organizations").await;
    orgs.expect(200);
    let listed = orgs.json()["organizations"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], mine.as_str());
    for (m, p) in api_paths(&other)
        .into_iter()
        .skip(2)
        .filter(|(_, p)| !p.contains("nothing"))
    {
        let req = TestRequest::default().method(m.parse().unwrap()).uri(&p);
        let r = c.send(&mut api, req).await;
        assert_eq!(r.status.as_u16(), 404, "{m} {p}: {}", r.body);
    }
    assert!(c.store().get_tenant(&other).unwrap().token.is_none());
    c.get(&mut api, &format!("/admin/api/organizations/{mine}/users"))
        .await
        .expect(200);
    let req = TestRequest::post()
        .uri("/admin/api/organizations")
        .insert_header(("Content-Type", "application/json"))
        .set_payload(r#"{"name":"New"}"#);
    c.send(&mut api, req).await.expect(403);
}

#[actix_web::test]
async fn forms_need_a_valid_csrf_token() {
    let c = Console::new();
    let org = c.tenant("Acme");
    c.account("op@example.test", None);
    let mut op = c.signed_in("op@example.test").await;
    let csrf = c.get(&mut op, "/admin/organizations").await.csrf();
    let generate = format!("/admin/organizations/{org}/settings/token");
    for bad in ["", "wrong", &csrf[..csrf.len() - 1]] {
        c.post_form(
            &mut op,
            "/admin/organizations",
            &[("csrf", bad), ("name", "X")],
        )
        .await
        .expect(403);
        c.post_form(&mut op, &generate, &[("csrf", bad)])
            .await
            .expect(403);
        c.post_form(&mut op, "/admin/sign-out", &[("csrf", bad)])
            .await
            .expect(403);
    }
    // No field at all.
    c.post_form(&mut op, &generate, &[]).await.expect(403);
    assert!(c.store().get_tenant(&org).unwrap().token.is_none());
    assert_eq!(c.store().list_tenants().unwrap().len(), 1);
    // Another session's token does not work either.
    let mut second = c.signed_in("op@example.test").await;
    let other_csrf = c.get(&mut second, "/admin/organizations").await.csrf();
    assert_ne!(other_csrf, csrf);
    c.post_form(&mut op, &generate, &[("csrf", &other_csrf)])
        .await
        .expect(403);
    // A foreign Origin is refused even with the right token.
    let req = TestRequest::post()
        .uri(&generate)
        .insert_header(("Origin", "https://evil.test"))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(format!("csrf={csrf}"));
    c.send(&mut op, req).await.expect(403);
    // `Origin: null` (a sandboxed or privacy-stripped post) is refused too.
    let req = TestRequest::post()
        .uri(&generate)
        .insert_header(("Origin", "null"))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(format!("csrf={csrf}"));
    c.send(&mut op, req).await.expect(403);
    assert!(c.store().get_tenant(&org).unwrap().token.is_none());
    // Pages send a Referrer-Policy that keeps Origin on same-site posts.
    let page = c.get(&mut op, "/admin/organizations").await;
    assert_eq!(page.headers.get("referrer-policy").unwrap(), "same-origin");
    // The sign-in form needs its form token too.
    let mut fresh = Client::default();
    c.get(&mut fresh, "/admin/sign-in").await.expect(200);
    let r = c
        .post_form(
            &mut fresh,
            "/admin/sign-in",
            &[
                ("form_token", "nope"),
                ("email", "op@example.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    r.expect(403);
    assert!(!fresh.cookies.contains_key("scim_admin_session"));
    // The right token with our own Origin works.
    let req = TestRequest::post()
        .uri("/admin/organizations")
        .insert_header(("Origin", PUBLIC))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(format!("csrf={csrf}&name=Beta"));
    c.send(&mut op, req).await.expect(303);
    assert_eq!(c.store().list_tenants().unwrap().len(), 2);
    // Sign-out with the token ends the session, also for a copy of the cookie, and
    // every other session of the account; signing in again works at once.
    let copy = op.clone();
    c.post_form(&mut op, "/admin/sign-out", &[("csrf", &csrf)])
        .await
        .expect(303);
    assert!(!op.cookies.contains_key("scim_admin_session"));
    c.get(&mut op, "/admin/organizations").await.expect(303);
    for mut old in [copy, second] {
        let r = c.get(&mut old, "/admin/organizations").await;
        assert_eq!(r.location(), Some("/admin/sign-in"));
    }
    let mut again = c.signed_in("op@example.test").await;
    c.get(&mut again, "/admin/organizations").await.expect(200);
}

#[actix_web::test]
async fn failed_sign_ins_are_limited() {
    let c = Console::new();
    c.account("op@example.test", None);
    let mut client = Client::default();
    for _ in 0..5 {
        let r = c
            .sign_in_as(&mut client, "OP@example.test", "wrong password!")
            .await;
        r.expect(401);
        assert!(r.body.contains("Wrong e-mail address or password"));
    }
    // Now even the right password is refused for a while.
    let r = c.sign_in_as(&mut client, "op@example.test", PASSWORD).await;
    r.expect(429);
    assert!(!client.cookies.contains_key("scim_admin_session"));
    // Unknown addresses answer like known ones.
    let r = c
        .sign_in_as(&mut client, "nobody@example.test", PASSWORD)
        .await;
    r.expect(401);
    // Other accounts are not affected.
    c.account("other@example.test", None);
    c.signed_in("other@example.test").await;
}

#[actix_web::test]
async fn the_set_up_link_creates_the_first_operator_once() {
    let c = Console::new();
    let link = scim_admin::prepare_setup_link(c.store(), PUBLIC)
        .unwrap()
        .unwrap();
    let path = link.strip_prefix(PUBLIC).unwrap().to_string();
    let code = path.split("code=").nth(1).unwrap().to_string();
    let mut anon = Client::default();
    c.get(&mut anon, "/admin/setup?code=wrong")
        .await
        .expect(404);
    c.get(&mut anon, "/admin/setup").await.expect(404);
    let form = c.get(&mut anon, &path).await;
    form.expect(200);
    let ft = hidden(&form.body, "form_token").unwrap();
    // Mismatched passwords and short passwords are refused with the form again.
    let r = c
        .post_form(
            &mut anon,
            "/admin/setup",
            &[
                ("form_token", &ft),
                ("code", &code),
                ("email", "first@example.test"),
                ("password", PASSWORD),
                ("confirm", "different"),
            ],
        )
        .await;
    r.expect(400);
    let r = c
        .post_form(
            &mut anon,
            "/admin/setup",
            &[
                ("form_token", &ft),
                ("code", &code),
                ("email", "first@example.test"),
                ("password", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    r.expect(400);
    let r = c
        .post_form(
            &mut anon,
            "/admin/setup",
            &[
                ("form_token", &ft),
                ("code", &code),
                ("email", "first@example.test"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    r.expect(303);
    assert!(anon.cookies.contains_key("scim_admin_session"));
    c.get(&mut anon, "/admin/organizations").await.expect(200);
    // Spent.
    let mut again = Client::default();
    c.get(&mut again, &path).await.expect(404);
    assert!(
        scim_admin::prepare_setup_link(c.store(), PUBLIC)
            .unwrap()
            .is_none()
    );
    c.signed_in("first@example.test").await;
}

/// Two replicas starting at once each print a link: both work (neither start replaces the
/// other's code), and creating the first operator through one spends both.
#[actix_web::test]
async fn every_replicas_set_up_link_works_until_the_first_operator_exists() {
    let c = Console::new();
    let paths: Vec<String> = (0..2)
        .map(|_| {
            let link = scim_admin::prepare_setup_link(c.store(), PUBLIC)
                .unwrap()
                .unwrap();
            link.strip_prefix(PUBLIC).unwrap().to_string()
        })
        .collect();
    assert_ne!(paths[0], paths[1]);
    let mut anon = Client::default();
    for path in &paths {
        c.get(&mut anon, path).await.expect(200);
    }
    let form = c.get(&mut anon, &paths[1]).await;
    let ft = hidden(&form.body, "form_token").unwrap();
    let code = paths[1].split("code=").nth(1).unwrap().to_string();
    c.post_form(
        &mut anon,
        "/admin/setup",
        &[
            ("form_token", &ft),
            ("code", &code),
            ("email", "first@example.test"),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ],
    )
    .await
    .expect(303);
    let mut again = Client::default();
    for path in &paths {
        c.get(&mut again, path).await.expect(404);
    }
}
