//! The request log through the real binary: on by default, a write's entry and a refused
//! token's entry land in `request_log` (the latter through the background writer), a
//! made-up tenant id leaves no row, `--request-log off` records nothing, and the
//! retention option is accepted.

use crate::harness::{Backend, Server, db_count, try_request};
use serde_json::json;
use std::time::{Duration, Instant};

/// Polls until `count()` reaches `want` (the background writer inserts asynchronously).
fn eventually(want: i64, count: impl Fn() -> i64) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = count();
        if n >= want || Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn requests_are_logged_by_default_and_not_when_off() {
    let Some(s) = Server::start_with(
        Backend::Sqlite,
        &[("SCIM_REQUEST_LOG_RETENTION_DAYS", "30")],
        None,
    ) else {
        return;
    };
    let t = s.tenant("Logged");
    s.call(
        &t,
        "POST",
        "/Users",
        Some(&json!({"userName": "e2e@log.test", "password": "pw-e2e-secret"})),
    )
    .expect(201);
    let refused = try_request(
        &s.addr,
        "GET",
        &format!("{}/Users", t.base),
        &[
            ("Authorization", "Bearer scim_nope"),
            ("User-Agent", "Okta SCIM Client 1.0.0"),
        ],
        None,
    )
    .unwrap();
    assert_eq!(refused.status, 401);
    let ghost = try_request(
        &s.addr,
        "GET",
        "/scim/v2/made-up-tenant/Users",
        &[("Authorization", "Bearer scim_nope")],
        None,
    )
    .unwrap();
    assert_eq!(ghost.status, 401);
    let url = &s.db.url;
    let tenant_rows = format!(
        "SELECT count(*) AS n FROM request_log WHERE tenant_id = '{}'",
        t.id
    );
    assert_eq!(eventually(2, || db_count(url, &tenant_rows)), 2);
    let created = format!(
        "SELECT count(*) AS n FROM request_log WHERE tenant_id = '{}' AND action = 'create_user' AND status = 201",
        t.id
    );
    assert_eq!(db_count(url, &created), 1);
    let okta_401 = format!(
        "SELECT count(*) AS n FROM request_log WHERE tenant_id = '{}' AND status = 401 AND client = 'okta'",
        t.id
    );
    assert_eq!(db_count(url, &okta_401), 1);
    assert_eq!(
        db_count(
            url,
            "SELECT count(*) AS n FROM request_log WHERE tenant_id = 'made-up-tenant'"
        ),
        0
    );
    assert_eq!(
        db_count(
            url,
            "SELECT count(*) AS n FROM request_log WHERE summary LIKE '%pw-e2e-secret%'"
        ),
        0
    );
    drop(s);

    let Some(off) = Server::start_with(Backend::Sqlite, &[("SCIM_REQUEST_LOG", "off")], None)
    else {
        return;
    };
    let t = off.tenant("Unlogged");
    off.call(
        &t,
        "POST",
        "/Users",
        Some(&json!({"userName": "off@log.test"})),
    )
    .expect(201);
    off.call(&t, "GET", "/Users", None).expect(200);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        db_count(&off.db.url, "SELECT count(*) AS n FROM request_log"),
        0
    );
}
