//! Console accounts from the command line and the one-time set-up link, against the real
//! binary (no browser needed): `admin create` (operators and organization admins, duplicate
//! e-mail addresses and short passwords refused), the set-up link `serve` logs while no
//! account exists, and `admin token` (a new one replaces the old, and the log never shows
//! it).

use crate::console_browser::{EMAIL, PASSWORD, cli_with_input};
use crate::harness::{Backend, Server, cli, try_request};
use serde_json::Value;
use std::sync::Arc;

fn get(server: &Server, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<u8>) {
    let r = try_request(&server.addr, "GET", path, headers, None).unwrap();
    (r.status, r.body)
}

#[test]
fn admin_accounts_from_the_command_line_and_the_set_up_link() {
    let dir = tempfile::tempdir().unwrap();
    // With no account, serve logs a one-time set-up link that opens the set-up form.
    let log = dir.path().join("serve.log");
    let server =
        Server::start_with(Backend::Sqlite, &[("SCIM_LOG_LEVEL", "info")], Some(&log)).unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/admin/setup?code="))
        .unwrap_or_else(|| panic!("no set-up link in the log:\n{text}"));
    let path = link.split_once(&server.addr).unwrap().1.to_string();
    assert_eq!(get(&server, &path, &[]).0, 200);
    assert_eq!(get(&server, "/admin/setup?code=wrong", &[]).0, 404);
    let db = Arc::clone(&server.db);
    drop(server);

    // admin create: operator; duplicate (case-insensitive) and short passwords refused.
    let out = cli_with_input(
        &db.url,
        &["admin", "create", "--email", EMAIL],
        &format!("{PASSWORD}\n"),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Created operator"), "{stdout}");
    for (email, password) in [
        (EMAIL.to_uppercase(), PASSWORD),
        ("other@example.test".into(), "short"),
    ] {
        let out = cli_with_input(
            &db.url,
            &["admin", "create", "--email", &email],
            &format!("{password}\n"),
        );
        assert!(
            !out.status.success(),
            "{email} with {password:?} was accepted"
        );
    }
    let org: Value = serde_json::from_str(&cli(
        &db.url,
        "http://unused",
        &["tenant", "create", "--name", "Acme", "--json"],
    ))
    .unwrap();
    let org_id = org["id"].as_str().unwrap();
    let out = cli_with_input(
        &db.url,
        &[
            "admin",
            "create",
            "--email",
            "it@acme.test",
            "--tenant",
            org_id,
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(org_id));

    // admin token: works against the running server's API; a new one replaces it.
    let log2 = dir.path().join("serve2.log");
    let server = Server::on_logging(db.clone(), &[("SCIM_LOG_LEVEL", "info")], &log2);
    let token = cli(
        &db.url,
        "http://unused",
        &["admin", "token", "--email", "it@acme.test"],
    )
    .trim()
    .to_string();
    let auth = format!("Bearer {token}");
    let (status, body) = get(
        &server,
        "/admin/api/organizations",
        &[("Authorization", &auth)],
    );
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["organizations"][0]["id"], org_id);
    let _newer = cli(
        &db.url,
        "http://unused",
        &["admin", "token", "--email", "it@acme.test"],
    );
    let (status, _) = get(
        &server,
        "/admin/api/organizations",
        &[("Authorization", &auth)],
    );
    assert_eq!(status, 401);
    // The server's log (info level) shows the requests but never the API token.
    drop(server);
    let text = std::fs::read_to_string(&log2).unwrap();
    assert!(text.contains("/admin/api/organizations"), "{text}");
    assert!(!text.contains(&token));
}
