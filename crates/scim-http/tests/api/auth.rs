//! Authentication: every bad credential is a 401 SCIM error with `WWW-Authenticate`;
//! tenants are isolated.

use crate::helpers::{SIGNING_KEY, TestApp};
use actix_web::test::TestRequest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use scim_http::tokens::TokenClaims;
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
    let claims = app.state.signer.verify(&app.token).unwrap();
    let mut expired = claims.clone();
    expired.exp = Some(1_000_000);
    let mut other_jti = claims.clone();
    other_jti.jti = "not-the-current-token".into();
    let none_token = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
    );
    let claims_json = serde_json::to_value(&claims).unwrap();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("empty", Some(String::new())),
        ("bearer only", Some("Bearer".into())),
        ("garbage", Some("Bearer garbage".into())),
        ("basic scheme", Some(format!("Basic {}", app.token))),
        ("non-token (Okta SPEC step 11)", Some("non-token".into())),
        (
            "forged signature",
            Some(sign(
                &claims_json,
                Algorithm::HS256,
                b"another-key-that-is-32-bytes-long!!",
            )),
        ),
        ("alg none", Some(none_token)),
        (
            "HS512 with the right key",
            Some(sign(&claims_json, Algorithm::HS512, SIGNING_KEY)),
        ),
        ("expired", Some(app.state.signer.sign(&expired).unwrap())),
        (
            "unknown jti",
            Some(app.state.signer.sign(&other_jti).unwrap()),
        ),
        (
            "tampered payload",
            Some({
                let mut parts: Vec<String> = app.token.split('.').map(str::to_string).collect();
                let mut c = claims_json.clone();
                c["iat"] = json!(1);
                parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap());
                parts.join(".")
            }),
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
async fn rotation_revokes_the_old_token() {
    let app = TestApp::new().await;
    let old = app.token.clone();
    let new = scim_http::generate_token(app.state.store.as_ref(), &app.state.signer, &app.tenant)
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

#[actix_web::test]
async fn claims_are_what_the_design_says() {
    let app = TestApp::new().await;
    let claims: TokenClaims = app.state.signer.verify(&app.token).unwrap();
    assert_eq!(claims.sub, app.tenant);
    assert!(claims.exp.is_none());
    let header = jsonwebtoken::decode_header(&app.token).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
}

#[actix_web::test]
async fn generated_signing_key_is_shared_through_the_store() {
    let app = TestApp::new().await;
    let store = app.state.store.as_ref();
    // Two "replicas" without a configured key get the same key from the settings.
    let a = scim_http::load_signer(store, None).unwrap();
    let b = scim_http::load_signer(store, None).unwrap();
    let token = scim_http::generate_token(store, &a, &app.tenant)
        .unwrap()
        .token;
    assert_eq!(b.verify(&token).unwrap().sub, app.tenant);
    // A configured key wins, and must be long enough.
    let configured = scim_http::load_signer(store, Some("c".repeat(40).as_str())).unwrap();
    assert!(configured.verify(&token).is_err());
    assert!(scim_http::load_signer(store, Some("too-short")).is_err());
}
