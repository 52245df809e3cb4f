//! Events end to end: the event command line's contract (output shapes, errors, exit
//! codes).

use crate::feed::{QUICK_DELIVERY, add_webhook, all_events, events_page, list_webhooks};
use crate::harness::{Backend, Server, cli_output};
use serde_json::{Value, json};
use std::collections::HashSet;

/// Runs `f` on a server with quick delivery, its log in a file, on SQLite and (when
/// available) PostgreSQL.
fn on_both_logged(f: impl Fn(&Server, &std::path::Path)) {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        if let Some(s) = Server::start_with(backend, QUICK_DELIVERY, Some(&log)) {
            eprintln!("-- backend {backend:?}");
            f(&s, &log);
        }
    }
}

/// Runs the CLI; returns (exit code, stdout, stderr).
fn run(s: &Server, args: &[&str]) -> (i32, String, String) {
    let out = cli_output(&s.db.url, &s.public_url, args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Asserts a refusal: `code`, a message on stderr, nothing on stdout.
#[track_caller]
fn refused(s: &Server, args: &[&str], code: i32, message: &str) {
    let (got, stdout, stderr) = run(s, args);
    assert_eq!(got, code, "{args:?}: stderr {stderr}");
    assert_eq!(stdout, "", "{args:?} printed on stdout");
    assert!(
        stderr.contains(message),
        "{args:?}: stderr {stderr:?} should mention {message:?}"
    );
}

#[test]
fn the_event_command_line_keeps_its_contract() {
    on_both_logged(|s, _| {
        let t = s.tenant("Acme");
        let tid = t.id.as_str();
        assert!(list_webhooks(s, tid).is_empty());
        let (code, text, _) = run(s, &["webhook", "list", "--tenant", tid]);
        assert_eq!(code, 0);
        assert!(text.contains("no event subscriptions"), "{text}");

        // add: the JSON shapes.
        let (id, secret) = add_webhook(s, tid, "https://rx.example.com/scim-events", &[]);
        let (nid, nsecret) = add_webhook(
            s,
            tid,
            "nats:scim.events.acme",
            &["--mode", "notice", "--events", "prov:deactivate, FEED:ADD"],
        );
        assert_ne!(secret, nsecret);
        let list = list_webhooks(s, tid);
        assert_eq!(list.len(), 2);
        let keys: HashSet<&str> = list[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let want_keys: HashSet<&str> = [
            "id",
            "url",
            "mode",
            "events",
            "enabled",
            "disabled_reason",
            "cursor",
            "failing_since",
            "last_error",
            "created",
        ]
        .into();
        assert_eq!(keys, want_keys);
        assert_eq!(list[0]["id"], id.as_str());
        assert_eq!(list[0]["url"], "https://rx.example.com/scim-events");
        assert_eq!(list[0]["mode"], "full");
        assert_eq!(list[0]["events"], Value::Null);
        assert_eq!(list[0]["enabled"], true);
        assert_eq!(list[0]["disabled_reason"], Value::Null);
        assert_eq!(list[0]["cursor"], "0");
        assert_eq!(list[0]["failing_since"], Value::Null);
        assert_eq!(list[0]["last_error"], Value::Null);
        assert!(
            list[0]["created"].as_str().unwrap().starts_with("20"),
            "{}",
            list[0]
        );
        assert_eq!(list[1]["id"], nid.as_str());
        assert_eq!(list[1]["url"], "nats:scim.events.acme");
        assert_eq!(list[1]["mode"], "notice");
        assert_eq!(list[1]["events"], json!(["prov:deactivate", "feed:add"]));
        // The secrets are shown once: never by list, in either form.
        let (_, text, _) = run(s, &["webhook", "list", "--tenant", tid]);
        assert!(
            text.contains("https://rx.example.com/scim-events") && text.contains(&nid),
            "{text}"
        );
        let (_, json_text, _) = run(s, &["webhook", "list", "--tenant", tid, "--json"]);
        for out in [&text, &json_text] {
            assert!(!out.contains(&secret) && !out.contains(&nsecret) && !out.contains("whsec_"));
        }
        // Without --json: readable, with the secret.
        let (code, text, _) = run(
            s,
            &[
                "webhook",
                "add",
                "--tenant",
                tid,
                "--url",
                "https://b.example.com/h",
            ],
        );
        assert_eq!(code, 0);
        assert!(
            text.contains("whsec_") && text.contains("https://b.example.com/h"),
            "{text}"
        );
        assert_eq!(list_webhooks(s, tid).len(), 3);

        // Bad input: exit code 2, a message, nothing on stdout, nothing created.
        let add = |url: &'static str, extra: &[&'static str]| {
            let mut a = vec!["webhook", "add", "--tenant", tid, "--url", url, "--json"];
            a.extend_from_slice(extra);
            a
        };
        refused(s, &add("ftp://rx.example.com", &[]), 2, "--url");
        refused(s, &add("rx.example.com/hook", &[]), 2, "--url");
        refused(s, &add("nats:scim.*", &[]), 2, "--url");
        refused(
            s,
            &add("https://rx.example.com", &["--mode", "both"]),
            2,
            "--mode",
        );
        refused(
            s,
            &add(
                "https://rx.example.com",
                &["--events", "prov:create,prov:frobnicate"],
            ),
            2,
            "prov:frobnicate",
        );
        refused(
            s,
            &[
                "webhook",
                "add",
                "--tenant",
                "nope",
                "--url",
                "https://rx.example.com",
                "--json",
            ],
            2,
            "no organization",
        );
        refused(
            s,
            &["webhook", "add", "--tenant", tid, "--json"],
            2,
            "--url",
        );
        assert_eq!(
            list_webhooks(s, tid).len(),
            3,
            "nothing created by bad input"
        );
        refused(
            s,
            &["webhook", "list", "--tenant", "nope", "--json"],
            2,
            "no organization",
        );
        for bad in [
            &["--after", "-1"][..],
            &["--after", "abc"],
            &["--after", "1.5"],
            &["--limit", "0"],
            &["--limit", "1001"],
            &["--limit", "ten"],
        ] {
            let mut a = vec!["events", "list", "--tenant", tid, "--json"];
            a.extend_from_slice(bad);
            refused(s, &a, 2, bad[0]);
        }
        refused(
            s,
            &["events", "list", "--tenant", "nope", "--json"],
            2,
            "no organization",
        );
        // The largest page is allowed; an empty feed pages to an empty list.
        assert_eq!(events_page(s, tid, None, Some(1000)), (vec![], "0".into()));
        assert!(all_events(s, tid).is_empty());

        // remove: unknown → exit 1; known → gone; again → 1.
        refused(
            s,
            &["webhook", "remove", "--id", "no-such-id"],
            1,
            "no-such-id",
        );
        let (code, out, _) = run(s, &["webhook", "remove", "--id", &nid]);
        assert_eq!(code, 0);
        assert!(out.contains(&nid), "{out}");
        let left: Vec<Value> = list_webhooks(s, tid);
        assert_eq!(left.len(), 2);
        assert!(left.iter().all(|w| w["id"] != nid.as_str()));
        refused(s, &["webhook", "remove", "--id", &nid], 1, nid.as_str());
    });
}
