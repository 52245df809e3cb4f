//! Server-side sessions and hashed admin API tokens, on both backends: a session works on
//! every replica, signing out ends every session of the account on every replica at once,
//! sessions expire, a tampered or derived cookie is no session, a CSRF token belongs to its
//! session, an API token works until it is reissued, and the database holds neither a
//! cookie, a CSRF token nor an API token (only hashes of them).

use crate::helpers::*;
use sha2::Digest as _;

fn sha256_hex(s: &str) -> String {
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn session_of(c: &Client) -> String {
    c.cookies.get("scim_admin_session").cloned().unwrap()
}

fn with_cookie(value: &str) -> Client {
    let mut c = Client::default();
    c.cookies.insert("scim_admin_session".into(), value.into());
    c
}

/// Whether `client` is signed in on `console` (200), or sent to the sign-in page.
async fn signed_in(console: &Console, client: &Client) -> bool {
    let mut client = client.clone();
    let r = console.get(&mut client, "/admin/organizations").await;
    match r.status.as_u16() {
        200 => true,
        303 => {
            assert_eq!(r.location(), Some("/admin/sign-in"));
            false
        }
        other => panic!("unexpected {other}: {}", r.body),
    }
}

#[actix_web::test]
async fn sign_out_ends_every_session_of_the_account_on_every_replica() {
    for backend in backends() {
        let a = Console::on(backend);
        let b = a.replica();
        a.account("op@example.test", None);
        a.account("other@example.test", None);
        let mut first = a.signed_in("op@example.test").await;
        let second = b.signed_in("op@example.test").await;
        let other = b.signed_in("other@example.test").await;
        assert_ne!(session_of(&first), session_of(&second));
        // A session made by one replica works on the other.
        for client in [&first, &second, &other] {
            assert!(signed_in(&a, client).await, "{backend:?}");
            assert!(signed_in(&b, client).await, "{backend:?}");
        }
        let copy = first.clone();
        let csrf = a.get(&mut first, "/admin/organizations").await.csrf();
        a.post_form(&mut first, "/admin/sign-out", &[("csrf", &csrf)])
            .await
            .expect(303);
        assert!(!first.cookies.contains_key("scim_admin_session"));
        // On the very next request, on either replica: the copied cookie and the account's
        // other session are gone; another account's session is not.
        for console in [&a, &b] {
            assert!(!signed_in(console, &copy).await, "{backend:?}");
            assert!(!signed_in(console, &second).await, "{backend:?}");
            assert!(signed_in(console, &other).await, "{backend:?}");
        }
        // Signing in again right away works (no clock to wait for).
        let again = b.signed_in("op@example.test").await;
        assert!(signed_in(&a, &again).await);
    }
}

#[actix_web::test]
async fn sessions_expire_and_are_pruned() {
    for backend in backends() {
        let c = Console::on(backend);
        c.account("op@example.test", None);
        let op = c.signed_in("op@example.test").await;
        assert!(signed_in(&c, &op).await);
        // The cookie lasts as long as the session.
        let r = c
            .sign_in_as(&mut Client::default(), "op@example.test", PASSWORD)
            .await;
        let set = r.headers.get("set-cookie").unwrap().to_str().unwrap();
        assert!(set.contains("Max-Age=28800"), "{set}");
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        assert!(set.contains("Path=/admin"), "{set}");
        // Expiry is checked on the server: a session whose time is up is no session, even
        // with the cookie still in the browser.
        c.sql("UPDATE admin_sessions SET expires_at = created");
        assert!(!signed_in(&c, &op).await, "{backend:?}");
        // The next sign-in prunes the expired rows.
        let fresh = c.signed_in("op@example.test").await;
        assert!(signed_in(&c, &fresh).await);
        let sessions = c
            .store()
            .end_admin_sessions(
                &c.store()
                    .find_admin_by_email("op@example.test")
                    .unwrap()
                    .unwrap()
                    .id,
            )
            .unwrap();
        assert_eq!(sessions, 1, "{backend:?}: expired sessions were not pruned");
    }
}

#[actix_web::test]
async fn tampered_and_derived_cookies_are_no_session() {
    let c = Console::new();
    c.account("op@example.test", None);
    let mut op = c.signed_in("op@example.test").await;
    let cookie = session_of(&op);
    assert_eq!(cookie.len(), 43, "base64url of 32 bytes: {cookie}");
    let csrf = c.get(&mut op, "/admin/organizations").await.csrf();
    let mut flipped = cookie.clone().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let api = c.api_token("op@example.test");
    for forged in [
        flipped.as_str(),
        &cookie[..42],
        &format!("{cookie}A"),
        &format!("{cookie}="),
        &cookie.to_uppercase(),
        // What the database holds, and what is derived from the cookie.
        &sha256_hex(&cookie),
        &csrf,
        // An admin API token is no session.
        &api,
        &api["scimadm_".len()..],
        "",
    ] {
        assert!(!signed_in(&c, &with_cookie(forged)).await, "{forged}");
        // Nor is a session cookie (or anything derived) an API token.
        let mut bearer = Client {
            bearer: Some(forged.to_string()),
            ..Client::default()
        };
        if forged != api {
            c.api(&mut bearer, "GET", "/admin/api/organizations", None)
                .await
                .expect(401);
        }
    }
    for bearer in [cookie.clone(), format!("scimadm_{cookie}")] {
        let mut client = Client {
            bearer: Some(bearer),
            ..Client::default()
        };
        c.api(&mut client, "GET", "/admin/api/organizations", None)
            .await
            .expect(401);
    }
    assert!(signed_in(&c, &op).await);
}

#[actix_web::test]
async fn a_csrf_token_belongs_to_its_session_and_nothing_secret_is_stored() {
    let c = Console::new();
    let org = c.tenant("Acme");
    c.account("op@example.test", None);
    let mut one = c.signed_in("op@example.test").await;
    let mut two = c.signed_in("op@example.test").await;
    let csrf_one = c.get(&mut one, "/admin/organizations").await.csrf();
    let csrf_two = c.get(&mut two, "/admin/organizations").await.csrf();
    assert_ne!(csrf_one, csrf_two);
    // Stable within its session.
    assert_eq!(
        c.get(&mut one, "/admin/organizations").await.csrf(),
        csrf_one
    );
    let generate = format!("/admin/organizations/{org}/settings/token");
    c.post_form(&mut one, &generate, &[("csrf", &csrf_two)])
        .await
        .expect(403);
    c.post_form(&mut two, "/admin/sign-out", &[("csrf", &csrf_one)])
        .await
        .expect(403);
    assert!(c.store().get_tenant(&org).unwrap().token.is_none());
    c.post_form(&mut one, &generate, &[("csrf", &csrf_one)])
        .await
        .expect(200);
    // The database holds each session's hash, never the cookie or its CSRF token.
    let bytes = c.db_bytes();
    let holds = |s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
    for client in [&one, &two] {
        let cookie = session_of(client);
        assert!(!holds(&cookie), "a session cookie is stored");
        assert!(
            holds(&sha256_hex(&cookie)),
            "the session's hash is not stored"
        );
    }
    for csrf in [&csrf_one, &csrf_two] {
        assert!(!holds(csrf), "a CSRF token is stored");
    }
}

#[actix_web::test]
async fn an_api_token_works_until_it_is_reissued_and_is_stored_hashed() {
    for backend in backends() {
        let c = Console::on(backend);
        let replica = c.replica();
        c.account("op@example.test", None);
        let old = c.api_token("op@example.test");
        assert!(old.starts_with("scimadm_") && old.len() == 8 + 43, "{old}");
        let mut client = Client {
            bearer: Some(old.clone()),
            ..Client::default()
        };
        c.api(&mut client, "GET", "/admin/api/organizations", None)
            .await
            .expect(200);
        let new = c.api_token("op@example.test");
        assert_ne!(old, new);
        for console in [&c, &replica] {
            let mut stale = Client {
                bearer: Some(old.clone()),
                ..Client::default()
            };
            console
                .api(&mut stale, "GET", "/admin/api/organizations", None)
                .await
                .expect(401);
            let mut fresh = Client {
                bearer: Some(new.clone()),
                ..Client::default()
            };
            console
                .api(&mut fresh, "GET", "/admin/api/organizations", None)
                .await
                .expect(200);
        }
        if backend == Backend::Sqlite {
            let bytes = c.db_bytes();
            let holds = |s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
            assert!(!holds(&new) && !holds(&old["scimadm_".len()..]));
            assert!(holds(&sha256_hex(&new)));
        }
    }
}
