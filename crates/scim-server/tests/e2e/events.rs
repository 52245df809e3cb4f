//! Events end to end: Okta's lifecycle over real SCIM HTTP reaches webhook receivers that
//! the command line subscribed (full, notice and filtered), as signed SETs in order, one
//! `txn` per request; `events list --json` shows the same feed; and the event command
//! line's contract (output shapes, errors, exit codes).

use crate::feed::{QUICK_DELIVERY, add_webhook, all_events, events_page, list_webhooks};
use crate::harness::{Backend, Server, Tenant, cli_output, free_port};
use crate::receiver::{Delivery, Receiver, event_of};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const EVENT: &str = "urn:ietf:params:scim:event:";
const WAIT: Duration = Duration::from_secs(30);

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

/// The ETag of a response, which the SET's `version` must equal.
fn etag(r: &crate::harness::Resp) -> String {
    r.header("etag").expect("an ETag").to_string()
}

/// One expected SET: which request made it, its event (short name, with `:full` /
/// `:notice` added where the type has a mode), its subject, its version.
struct Expected {
    request: usize,
    event: &'static str,
    subject: String,
    version: Option<String>,
}

fn moded(event: &str) -> bool {
    ["prov:create", "prov:patch", "prov:put"].contains(&event)
}

/// Checks `got` (deliveries or `events list` sets) against `want` in `mode`.
fn check_sets(got: &[Value], want: &[Expected], mode: &str, issuer: &str) {
    let uris: Vec<String> = got.iter().map(|c| event_of(c).0.to_string()).collect();
    let want_uris: Vec<String> = want
        .iter()
        .map(|e| {
            if moded(e.event) {
                format!("{EVENT}{}:{mode}", e.event)
            } else {
                format!("{EVENT}{}", e.event)
            }
        })
        .collect();
    assert_eq!(uris, want_uris, "event order ({mode})");
    let jtis: HashSet<&str> = got.iter().map(|c| c["jti"].as_str().unwrap()).collect();
    assert_eq!(jtis.len(), got.len(), "distinct jtis");
    for (c, w) in got.iter().zip(want) {
        assert_eq!(c["iss"], issuer, "{c}");
        assert!(c["iat"].is_i64(), "{c}");
        assert_eq!(c["sub_id"]["format"], "scim", "{c}");
        assert_eq!(c["sub_id"]["uri"], w.subject.as_str(), "{c}");
        let payload = event_of(c).1;
        assert_eq!(
            payload.get("version").and_then(Value::as_str),
            w.version.as_deref(),
            "version = the response's ETag: {c}"
        );
        if moded(w.event) {
            match mode {
                "full" => {
                    assert!(payload.get("attributes").is_none(), "{c}");
                    let data = &payload["data"];
                    assert_eq!(
                        format!(
                            "/{}s/{}",
                            data["meta"]["resourceType"].as_str().unwrap(),
                            data["id"].as_str().unwrap()
                        ),
                        w.subject
                    );
                    assert_eq!(
                        data["meta"]["location"],
                        format!("{issuer}{}", w.subject),
                        "{c}"
                    );
                    // No relations, no password, ever.
                    for absent in ["members", "groups", "password"] {
                        assert!(data.get(absent).is_none(), "{absent} in {c}");
                    }
                }
                _ => {
                    assert!(payload.get("data").is_none(), "{c}");
                    assert!(payload["attributes"].is_array(), "{c}");
                }
            }
        }
    }
    // One txn per request, another for every other request.
    for (i, a) in want.iter().enumerate() {
        for (j, b) in want.iter().enumerate() {
            let same = got[i]["txn"] == got[j]["txn"];
            assert_eq!(
                same,
                a.request == b.request,
                "txn of events {i} and {j}: {} / {}",
                got[i],
                got[j]
            );
        }
    }
}

fn claims(deliveries: &[Delivery]) -> Vec<Value> {
    deliveries.iter().map(|d| d.claims.clone()).collect()
}

fn without_aud(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("aud");
    v
}

#[test]
fn okta_lifecycle_reaches_signed_webhooks_in_order_and_the_feed() {
    on_both_logged(|s, log| {
        let t = s.tenant("Acme");
        let other = s.tenant("Other");
        let rx = Receiver::start();
        let mut secrets = Vec::new();
        for (path, extra) in [
            ("/full", &[][..]),
            ("/notice", &["--mode", "notice"][..]),
            ("/deact", &["--events", "prov:deactivate"][..]),
        ] {
            let (_, secret) = add_webhook(s, &t.id, &rx.url(path), extra);
            rx.expect_secret(path, &secret);
            secrets.push(secret);
        }
        let (_, other_secret) = add_webhook(s, &other.id, &rx.url("/other"), &[]);
        rx.expect_secret("/other", &other_secret);
        secrets.push(other_secret);

        let expected = walk_lifecycle(s, &t);
        let issuer = format!("{}/scim/v2/{}", s.public_url, t.id);

        let full = rx.wait_for("/full", expected.len(), WAIT);
        let notice = rx.wait_for("/notice", expected.len(), WAIT);
        let deact = rx.wait_for("/deact", 1, WAIT);
        check_sets(&claims(&full), &expected, "full", &issuer);
        check_sets(&claims(&notice), &expected, "notice", &issuer);
        // The same events (same jti) in both modes.
        let jtis = |d: &[Delivery]| d.iter().map(|d| d.jti().to_string()).collect::<Vec<_>>();
        assert_eq!(jtis(&full), jtis(&notice));
        // Payload details a receiver relies on.
        assert_eq!(full[0].payload()["data"]["userName"], "ada@example.com");
        assert_eq!(full[0].claims["sub_id"]["externalId"], "00u-ada");
        assert_eq!(full[1].payload()["data"]["active"], false);
        assert_eq!(notice[1].payload()["attributes"], json!(["active"]));
        let created_attrs = notice[0].payload()["attributes"].as_array().unwrap();
        for a in ["id", "userName", "active", "emails"] {
            assert!(
                created_attrs.contains(&json!(a)),
                "{a} in {created_attrs:?}"
            );
        }
        let group_uri = &expected[5].subject;
        for feed in [&full[6], &full[7]] {
            assert_eq!(
                feed.payload()["group"]["uri"],
                group_uri.as_str(),
                "{:?}",
                feed.claims
            );
            assert_eq!(feed.payload()["group"]["format"], "scim");
        }
        assert_eq!(full[8].payload(), &json!({}), "prov:delete carries nothing");
        // The filtered subscription got only the deactivation, the same event.
        assert_eq!(deact.len(), 1, "{:?}", claims(&deact));
        assert_eq!(deact[0].event_uri(), format!("{EVENT}prov:deactivate"));
        assert_eq!(deact[0].jti(), full[2].jti());

        // The pull feed is the same, in the same order, cursors 1..n.
        let feed = all_events(s, &t.id);
        let cursors: Vec<String> = feed.iter().map(|(c, _)| c.clone()).collect();
        let want_cursors: Vec<String> = (1..=expected.len()).map(|i| i.to_string()).collect();
        assert_eq!(cursors, want_cursors);
        let sets: Vec<Value> = feed.iter().map(|(_, set)| set.clone()).collect();
        check_sets(&sets, &expected, "full", &issuer);
        assert_eq!(
            sets.into_iter().map(without_aud).collect::<Vec<_>>(),
            claims(&full)
                .into_iter()
                .map(without_aud)
                .collect::<Vec<_>>(),
            "events list shows what was delivered"
        );
        // Paging: limit, next, the empty page keeps the cursor.
        let (page, next) = events_page(s, &t.id, None, Some(4));
        assert_eq!(page.len(), 4);
        assert_eq!((page[0].0.as_str(), next.as_str()), ("1", "4"));
        let (page, next) = events_page(s, &t.id, Some("4"), Some(4));
        assert_eq!((page[0].0.as_str(), next.as_str()), ("5", "8"));
        let last = expected.len().to_string();
        assert_eq!(
            events_page(s, &t.id, Some(&last), None),
            (vec![], last.clone())
        );
        assert_eq!(
            events_page(s, &t.id, Some("999"), Some(1)),
            (vec![], "999".into())
        );

        // The other tenant saw nothing of this; its own change reaches only its receiver.
        assert!(rx.received("/other").is_empty());
        assert_eq!(events_page(s, &other.id, None, None), (vec![], "0".into()));
        let u = json!({"schemas": [USER_URN], "userName": "bob@other.example"});
        s.call(&other, "POST", "/Users", Some(&u)).expect(201);
        let got = rx.wait_for("/other", 1, WAIT);
        assert_eq!(
            got[0].claims["iss"],
            format!("{}/scim/v2/{}", s.public_url, other.id)
        );
        let (page, _) = events_page(s, &other.id, None, None);
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].0, "1", "positions are per tenant");

        // Nothing more arrived meanwhile (exactly the expected SETs), nothing was refused,
        // never two at once, and no secret reached the log.
        assert_eq!(rx.received("/full").len(), expected.len());
        assert_eq!(rx.received("/notice").len(), expected.len());
        assert_eq!(rx.received("/deact").len(), 1);
        assert_eq!(rx.rejected(), Vec::<String>::new());
        assert_eq!(rx.overlaps(), Vec::<String>::new());
        let logged = std::fs::read_to_string(log).unwrap_or_default();
        for secret in &secrets {
            assert!(
                !logged.contains(secret.as_str()),
                "a webhook secret in the log"
            );
        }
        assert!(!logged.contains("eyJ"), "a JWS (or token) in the log");
    });
}

/// Okta's lifecycle as it sends it; returns the events it must produce, in order.
fn walk_lifecycle(s: &Server, t: &Tenant) -> Vec<Expected> {
    let user = json!({
        "schemas": [USER_URN],
        "userName": "ada@example.com",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"primary": true, "value": "ada@example.com", "type": "work"}],
        "displayName": "Ada Lovelace",
        "externalId": "00u-ada",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    });
    let r = s.call(t, "POST", "/Users", Some(&user));
    let uid = r.expect(201)["id"].as_str().unwrap().to_string();
    let u = format!("/Users/{uid}");
    let mut want = vec![Expected {
        request: 0,
        event: "prov:create",
        subject: u.clone(),
        version: Some(etag(&r)),
    }];
    let patch = |value: Value| json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": value}]});
    // Deactivate, then a password push (changes nothing stored: no event), reactivate.
    for (request, active, state) in [(1, false, "prov:deactivate"), (2, true, "prov:activate")] {
        let r = s.call(t, "PATCH", &u, Some(&patch(json!({"active": active}))));
        r.expect(200);
        for event in ["prov:patch", state] {
            want.push(Expected {
                request,
                event,
                subject: u.clone(),
                version: Some(etag(&r)),
            });
        }
        if !active {
            s.call(
                t,
                "PATCH",
                &u,
                Some(&patch(json!({"password": "n3w-Secret"}))),
            )
            .expect(200);
        }
    }
    let group = json!({"schemas": [GROUP_URN], "displayName": "Engineering", "members": []});
    let r = s.call(t, "POST", "/Groups", Some(&group));
    let gid = r.expect(201)["id"].as_str().unwrap().to_string();
    let g = format!("/Groups/{gid}");
    want.push(Expected {
        request: 3,
        event: "prov:create",
        subject: g.clone(),
        version: Some(etag(&r)),
    });
    let add = json!({"schemas": [PATCH_URN], "Operations": [{"op": "add", "path": "members",
        "value": [{"value": uid, "display": "ada@example.com"}]}]});
    assert_eq!(s.call(t, "PATCH", &g, Some(&add)).status, 204);
    want.push(Expected {
        request: 4,
        event: "feed:add",
        subject: u.clone(),
        version: None,
    });
    let remove = json!({"schemas": [PATCH_URN], "Operations": [{"op": "remove",
        "path": format!("members[value eq \"{uid}\"]")}]});
    assert_eq!(s.call(t, "PATCH", &g, Some(&remove)).status, 204);
    want.push(Expected {
        request: 5,
        event: "feed:remove",
        subject: u.clone(),
        version: None,
    });
    assert_eq!(s.call(t, "DELETE", &u, None).status, 204);
    want.push(Expected {
        request: 6,
        event: "prov:delete",
        subject: u,
        version: None,
    });
    want
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

#[test]
fn a_receiver_that_is_not_there_shows_as_failing() {
    on_both_logged(|s, _| {
        let t = s.tenant("Acme");
        let tid = t.id.as_str();
        // A receiver that is not there: the list shows the failure (still enabled) and
        // the cursor has not moved.
        let dead = format!("http://127.0.0.1:{}/gone", free_port());
        let (dead_id, _) = add_webhook(s, tid, &dead, &[]);
        s.call(
            &t,
            "POST",
            "/Users",
            Some(&json!({"schemas": [USER_URN], "userName": "x@example.com"})),
        )
        .expect(201);
        let end = Instant::now() + WAIT;
        let failing = loop {
            let w = list_webhooks(s, tid)
                .into_iter()
                .find(|w| w["id"] == dead_id.as_str())
                .unwrap();
            if !w["last_error"].is_null() {
                break w;
            }
            assert!(Instant::now() < end, "no failure recorded: {w}");
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(failing["enabled"], true, "{failing}");
        assert!(failing["failing_since"].as_str().is_some(), "{failing}");
        assert_eq!(failing["cursor"], "0", "{failing}");
        let (_, text, _) = run(s, &["webhook", "list", "--tenant", tid]);
        assert!(text.contains("failing since"), "{text}");
        let (code, text, _) = run(s, &["events", "list", "--tenant", tid]);
        assert_eq!(code, 0);
        assert!(
            text.contains("prov:create") && text.contains("next: 1"),
            "{text}"
        );
    });
}

/// The admin events API answers the same document as `events list --json`, and the
/// console's "send test event" goes through the server's own worker (503 on a
/// `--no-delivery` process).
#[test]
fn the_events_api_matches_the_cli_and_test_events_use_the_worker() {
    on_both_logged(|s, _| {
        let t = s.tenant("Acme");
        let token = crate::feed::admin_api_token(s);
        let auth = format!("Bearer {token}");
        let rx = Receiver::start();
        let (wid, secret) = add_webhook(s, &t.id, &rx.url("/api"), &[]);
        rx.expect_secret("/api", &secret);
        let user = json!({"schemas": [USER_URN], "userName": "ada@example.com"});
        let id = s.call(&t, "POST", "/Users", Some(&user)).expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let off = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"active": false}}]});
        s.call(&t, "PATCH", &format!("/Users/{id}"), Some(&off))
            .expect(200);
        rx.wait_for("/api", 3, WAIT);

        let api = |query: &str| {
            s.raw(
                "GET",
                &format!("/admin/api/organizations/{}/events{query}", t.id),
                Some(&auth),
                &[],
                None,
            )
            .expect(200)
        };
        for (query, after, limit) in [
            ("", None, None),
            ("?after=1&limit=1", Some("1"), Some(1)),
            ("?after=3", Some("3"), None),
        ] {
            let mut args = vec!["events", "list", "--tenant", t.id.as_str(), "--json"];
            if let Some(a) = after {
                args.extend(["--after", a]);
            }
            let limit_text = limit.map(|l: u64| l.to_string());
            if let Some(l) = &limit_text {
                args.extend(["--limit", l.as_str()]);
            }
            let (code, out, _) = run(s, &args);
            assert_eq!(code, 0);
            let cli: Value = serde_json::from_str(out.trim()).unwrap();
            assert_eq!(api(query), cli, "events API{query} = events list {args:?}");
        }

        let test = s
            .raw(
                "POST",
                &format!("/admin/api/organizations/{}/webhooks/{wid}/test", t.id),
                Some(&auth),
                &[],
                None,
            )
            .expect(200);
        assert_eq!(test["attempt"]["outcome"], "delivered", "{test}");
        let got = rx.wait_for("/api", 4, WAIT);
        assert!(
            got.iter()
                .any(|d| d.event_uri() == format!("{EVENT}misc:test")),
            "{:?}",
            claims(&got)
        );

        // A second process on the database: PostgreSQL only (a SQLite file serves one).
        if s.db.url.starts_with("sqlite") {
            return;
        }
        let quiet = s.replica(&[("SCIM_NO_DELIVERY", "true")]);
        let r = quiet.raw(
            "POST",
            &format!("/admin/api/organizations/{}/webhooks/{wid}/test", t.id),
            Some(&auth),
            &[],
            None,
        );
        assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    });
}
