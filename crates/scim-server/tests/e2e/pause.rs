//! Pausing a tenant (issue 10 item 9): `tenant pause` through the CLI makes the very next
//! request to either replica 403 with a detail an Okta admin can read, discovery included;
//! `tenant list` shows it; `tenant resume` restores service on both at once, with the data
//! kept. An unknown tenant is one error line and a non-zero exit.

use crate::harness::{Backend, Server, cli, cli_output};
use serde_json::{Value, json};

fn paused_and_resumed(servers: &[&Server]) {
    let a = servers[0];
    let t = a.tenant("Pausable");
    let user = json!({"userName": "kept@pause.test", "active": true});
    a.call(&t, "POST", "/Users", Some(&user)).expect(201);
    let run = |args: &[&str]| -> Value {
        let out = cli(&a.db.url, &a.public_url, args);
        serde_json::from_str(out.trim()).unwrap()
    };
    let v = run(&["tenant", "pause", "--tenant", &t.id, "--json"]);
    assert_eq!(v["paused"], true, "{v}");
    for s in servers.iter().rev() {
        for path in ["/Users", "/Groups", "/ServiceProviderConfig", "/Schemas"] {
            let r = s.call(&t, "GET", path, None);
            let e = r.expect_error(403);
            let detail = e["detail"].as_str().unwrap();
            assert!(detail.contains("paused"), "{detail}");
            assert!(detail.contains("scim-server tenant resume"), "{detail}");
        }
        let r = s.call(
            &t,
            "POST",
            "/Users",
            Some(&json!({"userName": "new@pause.test"})),
        );
        r.expect_error(403);
        // The token check comes first.
        let r = s.raw(
            "GET",
            &format!("{}/Users", t.base),
            Some("Bearer scim_nope"),
            &[],
            None,
        );
        r.expect_error(401);
    }
    let list = run(&["tenant", "list", "--json"]);
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == t.id.as_str())
        .unwrap();
    assert_eq!(row["paused"], true, "{row}");
    let text = cli(&a.db.url, &a.public_url, &["tenant", "list"]);
    assert!(text.contains("PAUSED"), "{text}");

    let v = run(&["tenant", "resume", "--tenant", &t.id, "--json"]);
    assert_eq!(v["paused"], false, "{v}");
    for s in servers {
        let list = s.call(&t, "GET", "/Users", None).expect(200);
        assert_eq!(list["totalResults"], 1, "the data is kept: {list}");
        s.call(&t, "GET", "/ServiceProviderConfig", None)
            .expect(200);
    }
    let out = cli_output(
        &a.db.url,
        &a.public_url,
        &["tenant", "pause", "--tenant", "nope"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no organization with id 'nope'"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn pause_and_resume_through_the_cli_on_sqlite() {
    if let Some(s) = Server::start(Backend::Sqlite) {
        paused_and_resumed(&[&s]);
    }
}

#[test]
fn pause_and_resume_reach_both_postgres_replicas_at_once() {
    let logs = tempfile::tempdir().unwrap();
    if let Some((a, b)) = Server::start_pair(Backend::Postgres, &[], logs.path()) {
        paused_and_resumed(&[&a, &b]);
    }
}
