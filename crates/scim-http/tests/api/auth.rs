//! Authentication: every bad credential is a 401 SCIM error with `WWW-Authenticate`;
//! tenants are isolated; tokens are stored only as hashes; rotation is a compare-and-set;
//! JWTs of earlier releases keep working after the start-up upgrade.

use crate::doubles::{Faults, spy};
use crate::helpers::{SIGNING_KEY, TestApp, backends};
use actix_web::test::TestRequest;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use scim_http::tokens::{self, TokenClaims, TokenSigner};
use scim_http::{Limits, legacy_tokens};
use serde_json::json;

async fn get_users(app: &TestApp, auth: Option<&str>) -> crate::helpers::Resp {
    let mut req = TestRequest::get().uri(&format!("{}/Users", app.base()));
    if let Some(a) = auth {
        req = req.insert_header(("Authorization", a));
    }
    app.send(req).await
}

fn sign(claims: &serde_json::Value, alg: Algorithm, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(key).unwrap(),
    )
    .unwrap()
}

#[actix_web::test]
async fn accepted_header_forms() {
    let app = TestApp::new().await;
    for auth in [
        format!("Bearer {}", app.token),
        format!("bearer {}", app.token),
        format!("BEARER  {}", app.token),
        app.token.clone(),
    ] {
        get_users(&app, Some(&auth)).await.expect(200);
    }
}

#[actix_web::test]
async fn bad_credentials_are_401() {
    let app = TestApp::new().await;
    let stored = app.state.store.get_tenant(&app.tenant).unwrap();
    let record = stored.token.unwrap();
    let hash = record.hash.clone().unwrap();
    // One character of the real token changed, and the same with a wrong prefix case.
    let mut flipped = app.token.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let claims = json!({"sub": app.tenant, "jti": record.id, "iat": 1});
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("empty", Some(String::new())),
        ("bearer only", Some("Bearer".into())),
        ("garbage", Some("Bearer garbage".into())),
        ("basic scheme", Some(format!("Basic {}", app.token))),
        ("non-token (Okta SPEC step 11)", Some("non-token".into())),
        (
            "well-formed but unknown",
            Some(tokens::new_token().unwrap()),
        ),
        ("one character changed", Some(flipped)),
        (
            "upper-case prefix",
            Some(app.token.replacen("scim_", "SCIM_", 1)),
        ),
        (
            "truncated",
            Some(app.token[..app.token.len() - 1].to_string()),
        ),
        ("extended", Some(format!("{}A", app.token))),
        ("the stored hash", Some(hash.clone())),
        ("the public id", Some(record.id.clone())),
        ("the tenant id", Some(app.tenant.clone())),
        (
            "a JWT of the old design",
            Some(sign(&claims, Algorithm::HS256, SIGNING_KEY)),
        ),
    ];
    for (name, auth) in cases {
        let r = get_users(&app, auth.as_deref()).await;
        assert_eq!(r.status.as_u16(), 401, "{name}");
        r.expect_error(401);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"scim\""),
            "{name}"
        );
    }
}

#[actix_web::test]
async fn malformed_tokens_cost_no_store_work() {
    let mut app = TestApp::new().await;
    let calls = spy(&mut app, Faults::default());
    let body = &app.token[tokens::TOKEN_PREFIX.len()..];
    for bad in [
        "Bearer garbage".to_string(),
        format!("Bearer scim_{}+", &body[..42]),
        format!("Bearer xcim_{body}"),
        format!("Bearer {}", "a".repeat(5000)),
        format!("Bearer a.{}.c", "b".repeat(2000)),
    ] {
        get_users(&app, Some(&bad)).await.expect_error(401);
    }
    assert!(
        calls.lock().unwrap().is_empty(),
        "{:?}",
        calls.lock().unwrap()
    );
    // A well-formed one is checked against the store.
    get_users(&app, Some(&tokens::new_token().unwrap()))
        .await
        .expect_error(401);
    assert!(!calls.lock().unwrap().is_empty());
}

#[actix_web::test]
async fn only_the_hash_and_a_public_id_are_stored() {
    let app = TestApp::new().await;
    let digest = tokens::TokenDigest::of(&app.token);
    let record = app
        .state
        .store
        .get_tenant(&app.tenant)
        .unwrap()
        .token
        .unwrap();
    assert_eq!(record.hash.as_deref(), Some(digest.to_hex().as_str()));
    assert_eq!(record.id, digest.public_id());
    assert_eq!(record.id.len(), 16);
    assert!(!record.id.contains(&app.token[5..]));
    // No signing key of any kind for tenant tokens in the settings.
    assert_eq!(
        app.state
            .store
            .get_setting(tokens::SIGNING_KEY_SETTING)
            .unwrap(),
        None
    );
}

#[actix_web::test]
async fn rotation_revokes_the_old_token() {
    let app = TestApp::new().await;
    let old = app.token.clone();
    let new = scim_http::generate_token(app.state.store.as_ref(), &app.tenant)
        .unwrap()
        .token;
    get_users(&app, Some(&format!("Bearer {old}")))
        .await
        .expect_error(401);
    get_users(&app, Some(&format!("Bearer {new}")))
        .await
        .expect(200);
    let t = app.state.store.get_tenant(&app.tenant).unwrap();
    assert!(
        t.token.unwrap().last_used.is_some(),
        "token use is recorded"
    );
}

#[actix_web::test]
async fn a_rotation_from_a_stale_state_changes_nothing() {
    let app = TestApp::new().await;
    let store = app.state.store.as_ref();
    let seen = store.get_tenant(&app.tenant).unwrap().token.unwrap().id;
    let winner = scim_http::rotate_token(store, &app.tenant, Some(&seen)).unwrap();
    let loser = scim_http::rotate_token(store, &app.tenant, Some(&seen));
    assert!(
        matches!(
            loser,
            Err(tokens::TokenError::Store(
                scim_store::StoreError::TokenChanged
            ))
        ),
        "{loser:?}"
    );
    // The winner's token is the one that works.
    get_users(&app, Some(&winner.token)).await.expect(200);
    let stored = store.get_tenant(&app.tenant).unwrap().token.unwrap();
    assert_eq!(stored.id, winner.token_id);
}

#[actix_web::test]
async fn tenants_are_isolated() {
    let app = TestApp::new().await;
    let uid = app.user("ada@example.com").await;
    let (b, b_token) = app.other_tenant("Beta");
    // A's token on B's URL.
    let r = app
        .send(
            TestRequest::get()
                .uri(&format!("/scim/v2/{b}/Users"))
                .insert_header(("Authorization", format!("Bearer {}", app.token))),
        )
        .await;
    r.expect_error(401);
    // B's token on A's URL.
    get_users(&app, Some(&format!("Bearer {b_token}")))
        .await
        .expect_error(401);
    // A's ids via B: 404 for every method.
    for method in ["GET", "PUT", "PATCH", "DELETE"] {
        let mut req = TestRequest::default()
            .method(method.parse().unwrap())
            .uri(&format!("/scim/v2/{b}/Users/{uid}"))
            .insert_header(("Authorization", format!("Bearer {b_token}")));
        if method == "PUT" {
            req = req.set_payload(json!({"userName": "x"}).to_string());
        }
        if method == "PATCH" {
            req = req.set_payload(
                json!({"schemas": [crate::helpers::PATCH_URN], "Operations": [{"op": "replace", "path": "active", "value": false}]})
                    .to_string(),
            );
        }
        let r = app.send(req).await;
        assert_eq!(r.status.as_u16(), 404, "{method}: {:?}", r.body);
    }
    // B's list does not show A's user; A's still does.
    let list = app
        .send(
            TestRequest::get()
                .uri(&format!("/scim/v2/{b}/Users"))
                .insert_header(("Authorization", format!("Bearer {b_token}"))),
        )
        .await
        .expect(200);
    assert_eq!(list["totalResults"], 0);
    app.call("GET", &format!("/Users/{uid}"), None)
        .await
        .expect(200);
    // Unknown tenant → 401 (no tenant enumeration).
    let r = app
        .send(
            TestRequest::get()
                .uri("/scim/v2/does-not-exist/Users")
                .insert_header(("Authorization", format!("Bearer {}", app.token))),
        )
        .await;
    r.expect_error(401);
}

/// Sets the tenant's row as a release before opaque tokens left it: the JWT id, no hash,
/// and (when `stored_key`) the signing key in the settings. Returns the JWT that release
/// issued, signed by the old code path ([`TokenSigner::sign`] with the old claims).
fn make_legacy(app: &TestApp, tenant: &str, stored_key: bool) -> String {
    let jti = uuid::Uuid::new_v4().simple().to_string();
    // The old `generate_token`: `now`, `iat = now.timestamp()`, the row at millisecond
    // precision.
    let now = Utc::now();
    let signer = TokenSigner::from_secret(SIGNING_KEY).unwrap();
    let jwt = signer
        .sign(&TokenClaims {
            sub: tenant.to_string(),
            jti: jti.clone(),
            iat: now.timestamp(),
            exp: None,
        })
        .unwrap();
    let at = now.format("%Y-%m-%d %H:%M:%S%.3f");
    let key = std::str::from_utf8(SIGNING_KEY).unwrap();
    app.db
        .with_connection(|c| {
            c.execute_sql(&format!(
                "UPDATE tenants SET current_token_id = '{jti}', token_hash = NULL, \
                 token_generated_at = '{at}', token_last_used_at = NULL WHERE id = '{tenant}'"
            ))?;
            if stored_key {
                c.execute_sql(&format!(
                    "DELETE FROM server_settings WHERE key = 'token_signing_key'; \
                     INSERT INTO server_settings (key, value) VALUES ('token_signing_key', '{key}')"
                ))?;
            }
            Ok(())
        })
        .unwrap();
    jwt
}

#[actix_web::test]
async fn jwt_era_tokens_keep_working_after_the_upgrade() {
    for backend in backends() {
        let app = TestApp::on(backend, Limits::default());
        let store = app.state.store.as_ref();
        let (b, _) = app.other_tenant("Beta");
        let jwt_a = make_legacy(&app, &app.tenant, true);
        let jwt_b = make_legacy(&app, &b, true);
        // Before the upgrade the old token authenticates nothing.
        get_users(&app, Some(&jwt_a)).await.expect_error(401);
        assert_eq!(
            legacy_tokens::upgrade(store, None).unwrap(),
            2,
            "{backend:?}"
        );
        get_users(&app, Some(&format!("Bearer {jwt_a}")))
            .await
            .expect(200);
        let r = app
            .send(
                TestRequest::get()
                    .uri(&format!("/scim/v2/{b}/Users"))
                    .insert_header(("Authorization", jwt_b.clone())),
            )
            .await;
        r.expect(200);
        // A's JWT on B's URL is still refused.
        let r = app
            .send(
                TestRequest::get()
                    .uri(&format!("/scim/v2/{b}/Users"))
                    .insert_header(("Authorization", jwt_a.clone())),
            )
            .await;
        r.expect_error(401);
        // The key is gone; the row holds the JWT's hash and a new public id.
        assert_eq!(
            store.get_setting(tokens::SIGNING_KEY_SETTING).unwrap(),
            None
        );
        let rec = store.get_tenant(&app.tenant).unwrap().token.unwrap();
        let digest = tokens::TokenDigest::of(&jwt_a);
        assert_eq!(rec.hash, Some(digest.to_hex()));
        assert_eq!(rec.id, digest.public_id());
        // Idempotent: a second replica finds nothing to do, and the token still works.
        assert_eq!(legacy_tokens::upgrade(store, None).unwrap(), 0);
        get_users(&app, Some(&jwt_a)).await.expect(200);
        // Generate replaces it like any token.
        let new = scim_http::generate_token(store, &app.tenant).unwrap();
        get_users(&app, Some(&jwt_a)).await.expect_error(401);
        get_users(&app, Some(&new.token)).await.expect(200);
    }
}

#[actix_web::test]
async fn the_upgrade_uses_a_configured_key_and_refuses_a_short_one() {
    let app = TestApp::new().await;
    let store = app.state.store.as_ref();
    let jwt = make_legacy(&app, &app.tenant, false);
    assert!(legacy_tokens::upgrade(store, Some("too-short")).is_err());
    get_users(&app, Some(&jwt)).await.expect_error(401);
    let key = std::str::from_utf8(SIGNING_KEY).unwrap();
    assert_eq!(legacy_tokens::upgrade(store, Some(key)).unwrap(), 1);
    get_users(&app, Some(&jwt)).await.expect(200);
    // Without any key, a legacy row is left alone (and its token refused).
    let (b, _) = app.other_tenant("Beta");
    let _ = make_legacy(&app, &b, false);
    assert_eq!(legacy_tokens::upgrade(store, None).unwrap(), 0);
    let rec = store.get_tenant(&b).unwrap().token.unwrap();
    assert_eq!(rec.hash, None);
}
