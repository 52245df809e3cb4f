//! The per-tenant rate limit: a tenant over its burst gets 429 with a SCIM error body,
//! `Retry-After` and the `RateLimit-*` headers, on every endpoint (resources, lists,
//! discovery); other tenants are unaffected; a wrong or foreign token never spends a
//! tenant's budget. (The body-read timeout is tested against the real binary, in the
//! end-to-end `limits` tests.)

use crate::helpers::*;
use actix_web::test::TestRequest;
use scim_http::{Limits, RateLimit};
use serde_json::json;

/// One request per second sustained, bursts of `BURST`: the bucket does not refill
/// noticeably while a test runs.
const BURST: u32 = 4;

fn limited() -> Limits {
    Limits {
        rate_limit: RateLimit::new(1, BURST),
        ..Limits::default()
    }
}

#[track_caller]
fn assert_throttled(r: &Resp) {
    let v = r.expect_error(429);
    assert!(v.get("scimType").is_none(), "{v}");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(r.header("ratelimit-limit"), Some("1"));
    assert_eq!(r.header("ratelimit-remaining"), Some("0"));
    let reset: u64 = r.header("ratelimit-reset").unwrap().parse().unwrap();
    assert_eq!(reset, retry);
    assert_eq!(
        r.header("ratelimit-policy"),
        Some(format!("1;w=1;burst={BURST}").as_str())
    );
}

#[actix_web::test]
async fn a_tenant_over_its_burst_gets_429_and_others_do_not() {
    let app = TestApp::with_limits(limited()).await;
    let (other, other_token) = app.other_tenant("Other");
    for _ in 0..BURST {
        app.call("GET", "/Users", None).await.expect(200);
    }
    // Every kind of request of this tenant is refused now, without touching the data.
    assert_throttled(&app.call("GET", "/Users", None).await);
    assert_throttled(
        &app.call(
            "POST",
            "/Users",
            Some(&json!({"userName": "late@example.com"})),
        )
        .await,
    );
    assert_throttled(&app.call("GET", "/ServiceProviderConfig", None).await);
    assert_throttled(&app.call("GET", "/Users/nope", None).await);
    // The other tenant has its whole burst.
    for _ in 0..BURST {
        let r = app
            .send(
                TestRequest::get()
                    .uri(&format!("/scim/v2/{other}/Users"))
                    .insert_header(("Authorization", format!("Bearer {other_token}"))),
            )
            .await;
        r.expect(200);
    }
    // The refused create wrote nothing.
    let page = app
        .state
        .store
        .list(
            &app.tenant,
            scim_core::ResourceKind::User,
            &Default::default(),
        )
        .unwrap();
    assert_eq!(page.total_results, 0);
}

#[actix_web::test]
async fn bad_tokens_never_spend_a_tenants_budget() {
    let app = TestApp::with_limits(limited()).await;
    let (_, other_token) = app.other_tenant("Other");
    let stale = app.token.clone();
    // A rotated token (validly signed, no longer current), a forged one, another tenant's
    // and none at all: many more than the burst, all 401.
    let fresh = scim_http::generate_token(app.state.store.as_ref(), &app.tenant)
        .unwrap()
        .token;
    for auth in [
        Some(format!("Bearer {stale}")),
        Some(format!("Bearer {stale}x")),
        Some(format!("Bearer {other_token}")),
        Some("Bearer nonsense".to_string()),
        None,
    ] {
        for _ in 0..BURST * 2 {
            let mut req = TestRequest::get().uri(&format!("{}/Users", app.base()));
            if let Some(a) = &auth {
                req = req.insert_header(("Authorization", a.clone()));
            }
            app.send(req).await.expect_error(401);
        }
    }
    // The tenant's own requests still have the whole burst.
    for _ in 0..BURST {
        let r = app
            .send(
                TestRequest::get()
                    .uri(&format!("{}/Users", app.base()))
                    .insert_header(("Authorization", format!("Bearer {fresh}"))),
            )
            .await;
        r.expect(200);
    }
    let r = app
        .send(
            TestRequest::get()
                .uri(&format!("{}/Users", app.base()))
                .insert_header(("Authorization", format!("Bearer {fresh}"))),
        )
        .await;
    assert_throttled(&r);
}

#[actix_web::test]
async fn no_limit_by_default_in_the_library() {
    let app = TestApp::new().await;
    for _ in 0..50 {
        app.call("GET", "/Users", None).await.expect(200);
    }
}
