//! Tenant isolation and token rotation over real HTTP.

use crate::harness::on_both;
use serde_json::json;

#[test]
fn tenants_are_isolated_and_tokens_rotate() {
    on_both(|s| {
        let a = s.tenant("A");
        let b = s.tenant("B");
        let user = s
            .call(
                &a,
                "POST",
                "/Users",
                Some(&json!({"userName": "same@example.com"})),
            )
            .expect(201);
        let uid = user["id"].as_str().unwrap().to_string();
        // The same userName in another tenant is fine.
        s.call(
            &b,
            "POST",
            "/Users",
            Some(&json!({"userName": "same@example.com"})),
        )
        .expect(201);

        // A's token on B's URL → 401.
        let r = s.raw(
            "GET",
            &format!("{}/Users", b.base),
            Some(&format!("Bearer {}", a.token)),
            &[],
            None,
        );
        r.expect_error(401);
        // A's ids via B → 404.
        s.call(&b, "GET", &format!("/Users/{uid}"), None)
            .expect_error(404);
        s.call(&b, "DELETE", &format!("/Users/{uid}"), None)
            .expect_error(404);
        s.call(&a, "GET", &format!("/Users/{uid}"), None)
            .expect(200);

        // Rotation through the CLI while the server runs: the old token fails at once.
        let old = a.token.clone();
        let new = s.new_token(&a.id);
        let r = s.raw(
            "GET",
            &format!("{}/Users", a.base),
            Some(&format!("Bearer {old}")),
            &[],
            None,
        );
        r.expect_error(401);
        let r = s.raw(
            "GET",
            &format!("{}/Users", a.base),
            Some(&format!("Bearer {new}")),
            &[],
            None,
        );
        r.expect(200);

        // Unknown tenant, missing and garbage tokens → 401; health endpoints are open.
        s.raw(
            "GET",
            "/scim/v2/no-such-tenant/Users",
            Some(&format!("Bearer {new}")),
            &[],
            None,
        )
        .expect_error(401);
        s.raw("GET", &format!("{}/Users", a.base), None, &[], None)
            .expect_error(401);
        s.raw(
            "GET",
            &format!("{}/Users", a.base),
            Some("Bearer garbage"),
            &[],
            None,
        )
        .expect_error(401);
        assert_eq!(s.raw("GET", "/healthz", None, &[], None).status, 200);
        assert_eq!(s.raw("GET", "/readyz", None, &[], None).status, 200);
        s.raw("GET", "/nowhere", None, &[], None).expect_error(404);
    });
}

#[test]
fn cli_text_output_guides_the_admin() {
    let db = crate::harness::TestDb::new(crate::harness::Backend::Sqlite).unwrap();
    let out = crate::harness::cli(
        &db.url,
        "https://scim.example.com",
        &["tenant", "create", "--name", "Acme"],
    );
    assert!(out.contains("https://scim.example.com/scim/v2/"), "{out}");
    assert!(out.contains("token generate --tenant"), "{out}");
    let list = crate::harness::cli(
        &db.url,
        "https://scim.example.com",
        &["tenant", "list", "--json"],
    );
    let v: serde_json::Value = serde_json::from_str(list.trim()).unwrap();
    let id = v[0]["id"].as_str().unwrap().to_string();
    assert_eq!(v[0]["name"], "Acme");
    let out = crate::harness::cli(
        &db.url,
        "https://scim.example.com",
        &["token", "generate", "--tenant", &id],
    );
    assert!(
        out.contains("API Token") && out.contains("Base URL"),
        "{out}"
    );
    let text = crate::harness::cli(&db.url, "https://scim.example.com", &["tenant", "list"]);
    assert!(text.contains("Acme"), "{text}");
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let Some(mut s) = crate::harness::Server::start(crate::harness::Backend::Sqlite) else {
        return;
    };
    let t = s.tenant("Shutdown");
    s.call(&t, "GET", "/Users", None).expect(200);
    let status = s.terminate();
    assert!(status.success(), "exit status {status}");
}

/// JSON logs: every request line carries the request id and the tenant id; no token,
/// password or Authorization header ever appears.
#[test]
fn json_logs_name_request_and_tenant_and_never_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let Some(mut s) = crate::harness::Server::start_with(
        crate::harness::Backend::Sqlite,
        &[("SCIM_LOG_FORMAT", "json"), ("SCIM_LOG_LEVEL", "debug")],
        Some(&log),
    ) else {
        return;
    };
    let t = s.tenant("Logs");
    let password = "Sup3r-Secret-Passw0rd";
    s.call(
        &t,
        "POST",
        "/Users",
        Some(&json!({"userName": "log@example.com", "password": password})),
    )
    .expect(201);
    s.call(
        &t,
        "GET",
        "/Users?filter=userName%20eq%20%22log%40example.com%22",
        None,
    )
    .expect(200);
    let forged = format!("{}x", t.token);
    s.raw(
        "GET",
        &format!("{}/Users", t.base),
        Some(&format!("Bearer {forged}")),
        &[],
        None,
    )
    .expect_error(401);
    s.raw(
        "GET",
        &format!("{}/Users", t.base),
        Some(&t.token),
        &[],
        None,
    )
    .expect(200);
    assert!(s.terminate().success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(&t.token), "a token was logged");
    assert!(!text.contains(password), "a password was logged");
    assert!(
        !text.to_ascii_lowercase().contains("bearer "),
        "an Authorization header was logged"
    );
    let finished: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "request finished")
        .filter(|v| v["span"]["http.route"] != "/healthz")
        .collect();
    assert!(finished.len() >= 4, "{text}");
    for line in &finished {
        assert!(line["span"]["request_id"].is_string(), "{line}");
        assert_eq!(line["span"]["tenant_id"], t.id.as_str(), "{line}");
    }
}
