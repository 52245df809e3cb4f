//! Crash safety (issue 10 item 6): a write load (user creates, PATCHes and deletes, group
//! member adds and removes, from several clients) while the server is `kill -9`ed
//! [`KILLS`] times at random moments and restarted each time on the same database, on
//! SQLite and on PostgreSQL. The moments come from a seed that is printed and can be
//! replayed (`SCIM_CRASH_SEED`). Afterwards:
//!
//! - every acknowledged write is there: an acknowledged user exists (or is gone, if its
//!   delete was acknowledged), its PATCHed value is at least the acknowledged one (and no
//!   newer than the last one tried), and its membership is what the last acknowledged
//!   change made it, or what a later unanswered one asked for;
//! - nothing is half-written, checked on the database itself: no user without its e-mail
//!   rows or its create log row, no membership of a missing user or group, no event
//!   outside a log row's event range, no log row whose range misses an event;
//! - every restart was clean: `/readyz` answered 200, and the log has no error, panic,
//!   "database is locked" or migration line.
//!
//! Each client owns its users and one group, so the order of its own requests is the
//! order of its writes; nothing it was told is ambiguous except what a kill cut off.

use crate::harness::{Backend, Resp, Rng, Server, Tenant, db_count, failure_lines, try_request};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Kills per backend.
const KILLS: usize = 20;
const CLIENTS: usize = 3;
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Alive,
    /// Its delete was acknowledged.
    Deleted,
    /// Its delete got no answer (the server died): it may or may not have committed.
    MaybeDeleted,
}

/// What a client was told about one of its users.
#[derive(Debug)]
struct UserState {
    id: String,
    /// The newest `title` sequence number acknowledged (0: none).
    acked_seq: u64,
    /// The newest one sent.
    tried_seq: u64,
    fate: Fate,
    /// Membership in the client's group after the last acknowledged change.
    member: bool,
    /// What unanswered changes after it asked for (each may have committed).
    member_unanswered: Vec<bool>,
}

/// One client's view of everything it wrote.
#[derive(Debug)]
struct Client {
    tag: usize,
    group: String,
    users: Vec<UserState>,
    created: usize,
    acknowledged: usize,
    /// Creates that got no answer (a user may exist that nobody knows of).
    unanswered_creates: usize,
    /// Answers other than the expected 2xx: must stay empty.
    refused: Vec<String>,
}

fn send(addr: &str, t: &Tenant, method: &str, path: &str, body: &Value) -> std::io::Result<Resp> {
    let auth = format!("Bearer {}", t.token);
    let body = body.to_string();
    try_request(
        addr,
        method,
        &format!("{}{path}", t.base),
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/scim+json"),
            ("Accept", "application/scim+json"),
        ],
        (method != "DELETE").then_some(body.as_str()),
    )
}

impl Client {
    /// Writes until `stop`, or until a request gets no answer (the server was killed).
    fn run(&mut self, addr: &str, t: &Tenant, rng: &mut Rng, stop: &AtomicBool) {
        while !stop.load(Ordering::SeqCst) {
            let live: Vec<usize> = (0..self.users.len())
                .filter(|i| self.users[*i].fate == Fate::Alive)
                .collect();
            let r = rng.below(100);
            let answered = if live.len() < 3 || r < 20 {
                self.create(addr, t)
            } else {
                let i = live[rng.below(live.len() as u64) as usize];
                if r < 50 {
                    self.patch(addr, t, i)
                } else if r < 92 {
                    self.toggle_membership(addr, t, i, rng)
                } else {
                    self.delete(addr, t, i)
                }
            };
            if !answered {
                return;
            }
        }
    }

    fn refuse(&mut self, what: &str, r: &Resp) {
        self.refused.push(format!(
            "{what}: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ));
    }

    fn create(&mut self, addr: &str, t: &Tenant) -> bool {
        self.created += 1;
        let n = self.created;
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("c{}-{n}-{}@crash.test", self.tag, uuid::Uuid::new_v4().simple()),
            "emails": [
                {"value": format!("c{}-{n}@work.crash.test", self.tag), "type": "work", "primary": true},
                {"value": format!("c{}-{n}@home.crash.test", self.tag), "type": "home"}
            ],
            "active": true
        });
        match send(addr, t, "POST", "/Users", &body) {
            Ok(r) if r.status == 201 => {
                self.acknowledged += 1;
                self.users.push(UserState {
                    id: r.json()["id"].as_str().unwrap().to_string(),
                    acked_seq: 0,
                    tried_seq: 0,
                    fate: Fate::Alive,
                    member: false,
                    member_unanswered: Vec::new(),
                });
                true
            }
            Ok(r) => {
                self.refuse("create", &r);
                true
            }
            Err(_) => {
                self.unanswered_creates += 1;
                false
            }
        }
    }

    fn patch(&mut self, addr: &str, t: &Tenant, i: usize) -> bool {
        let u = &mut self.users[i];
        u.tried_seq += 1;
        let seq = u.tried_seq;
        let body = json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "value": {"title": format!("seq-{seq}")}}
        ]});
        match send(addr, t, "PATCH", &format!("/Users/{}", u.id), &body) {
            Ok(r) if r.status == 200 => {
                u.acked_seq = seq;
                self.acknowledged += 1;
                true
            }
            Ok(r) => {
                self.refuse("patch", &r);
                true
            }
            Err(_) => false,
        }
    }

    fn toggle_membership(&mut self, addr: &str, t: &Tenant, i: usize, rng: &mut Rng) -> bool {
        let u = &mut self.users[i];
        let add = if u.member_unanswered.is_empty() {
            !u.member
        } else {
            rng.below(2) == 0
        };
        let op = if add {
            json!({"op": "add", "path": "members", "value": [{"value": u.id}]})
        } else {
            json!({"op": "remove", "path": format!("members[value eq \"{}\"]", u.id)})
        };
        let body = json!({"schemas": [PATCH], "Operations": [op]});
        match send(addr, t, "PATCH", &format!("/Groups/{}", self.group), &body) {
            Ok(r) if r.status == 204 || r.status == 200 => {
                u.member = add;
                u.member_unanswered.clear();
                self.acknowledged += 1;
                true
            }
            Ok(r) => {
                self.refuse("membership", &r);
                true
            }
            Err(_) => {
                u.member_unanswered.push(add);
                false
            }
        }
    }

    fn delete(&mut self, addr: &str, t: &Tenant, i: usize) -> bool {
        let u = &mut self.users[i];
        match send(addr, t, "DELETE", &format!("/Users/{}", u.id), &Value::Null) {
            Ok(r) if r.status == 204 => {
                u.fate = Fate::Deleted;
                self.acknowledged += 1;
                true
            }
            Ok(r) => {
                self.refuse("delete", &r);
                true
            }
            Err(_) => {
                u.fate = Fate::MaybeDeleted;
                false
            }
        }
    }
}

#[test]
fn kill_9_twenty_times_under_write_load_loses_no_acknowledged_write() {
    let mut rng = Rng::from_env("SCIM_CRASH_SEED");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let seed = rng.next_u64();
        let logs = tempfile::tempdir().unwrap();
        let log = logs.path().join("server.log");
        let Some(mut s) = Server::start_with(backend, &[], Some(&log)) else {
            continue;
        };
        eprintln!("-- backend {backend:?}, seed {seed}");
        let began = Instant::now();
        crash_loop(&mut s, Rng::new(seed));
        eprintln!("-- backend {backend:?}: {:?}", began.elapsed());
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            failure_lines(&text),
            Vec::<&str>::new(),
            "{backend:?}: the server logged a failure"
        );
    }
}

fn crash_loop(s: &mut Server, mut rng: Rng) {
    let t = s.tenant("Crash");
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|tag| {
            let g = s
                .call(
                    &t,
                    "POST",
                    "/Groups",
                    Some(&json!({
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                        "displayName": format!("Crash {tag}")
                    })),
                )
                .expect(201);
            Client {
                tag,
                group: g["id"].as_str().unwrap().to_string(),
                users: Vec::new(),
                created: 0,
                acknowledged: 0,
                unanswered_creates: 0,
                refused: Vec::new(),
            }
        })
        .collect();
    for kill in 0..KILLS {
        let stop = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = clients
            .drain(..)
            .map(|mut c| {
                let (addr, t, stop) = (s.addr.clone(), t.clone(), stop.clone());
                let mut crng = Rng::new(rng.next_u64());
                std::thread::spawn(move || {
                    c.run(&addr, &t, &mut crng, &stop);
                    c
                })
            })
            .collect();
        // A random moment into the load.
        std::thread::sleep(Duration::from_millis(40 + rng.below(260)));
        s.kill9();
        stop.store(true, Ordering::SeqCst);
        clients = handles.into_iter().map(|h| h.join().unwrap()).collect();
        s.restart();
        assert_eq!(
            s.raw("GET", "/readyz", None, &[], None).status,
            200,
            "restart {kill}: not ready"
        );
    }
    for c in &clients {
        assert_eq!(c.refused, Vec::<String>::new(), "client {}", c.tag);
        check_client(s, &t, c);
    }
    check_database(&s.db.url);
    let acknowledged: usize = clients.iter().map(|c| c.acknowledged).sum();
    let unanswered: usize = clients.iter().map(|c| c.unanswered_creates).sum();
    let users: usize = clients.iter().map(|c| c.users.len()).sum();
    eprintln!(
        "{KILLS} kills: {acknowledged} writes acknowledged, {users} users known, {unanswered} creates cut off"
    );
}

/// Every acknowledged write of `c` is in the database, seen through SCIM.
fn check_client(s: &Server, t: &Tenant, c: &Client) {
    let g = s
        .call(t, "GET", &format!("/Groups/{}", c.group), None)
        .expect(200);
    let members: BTreeSet<String> = g["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|x| x["value"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    let known: BTreeSet<String> = c.users.iter().map(|u| u.id.clone()).collect();
    assert!(
        members.is_subset(&known),
        "client {}: members it never added: {:?}",
        c.tag,
        members.difference(&known).collect::<Vec<_>>()
    );
    for u in &c.users {
        let r = s.call(t, "GET", &format!("/Users/{}", u.id), None);
        let exists = match (u.fate, r.status) {
            (Fate::Deleted, 404) => false,
            (Fate::MaybeDeleted, 404) => false,
            (Fate::Alive | Fate::MaybeDeleted, 200) => true,
            (fate, status) => panic!("user {} ({fate:?}): GET answered {status}", u.id),
        };
        if !exists {
            assert!(
                !members.contains(&u.id),
                "deleted user {} is a member",
                u.id
            );
            continue;
        }
        let doc = r.json();
        let seq: u64 = doc["title"]
            .as_str()
            .map_or(0, |v| v.trim_start_matches("seq-").parse().unwrap());
        assert!(
            (u.acked_seq..=u.tried_seq).contains(&seq),
            "user {}: title seq-{seq}, acknowledged seq-{}, last sent seq-{}",
            u.id,
            u.acked_seq,
            u.tried_seq
        );
        let emails = doc["emails"].as_array().map_or(0, Vec::len);
        assert_eq!(emails, 2, "user {}: {doc}", u.id);
        let is_member = members.contains(&u.id);
        let allowed = is_member == u.member || u.member_unanswered.contains(&is_member);
        assert!(
            allowed,
            "user {}: member {is_member}, acknowledged {}, unanswered {:?}",
            u.id, u.member, u.member_unanswered
        );
    }
}

/// Nothing half-written, checked on the tables themselves.
fn check_database(url: &str) {
    let checks = [
        (
            "users without their e-mail rows",
            "SELECT count(*) AS n FROM users u WHERE NOT EXISTS \
             (SELECT 1 FROM user_emails e WHERE e.tenant_id = u.tenant_id AND e.user_id = u.id)",
        ),
        (
            "users without their create log row",
            "SELECT count(*) AS n FROM users u WHERE NOT EXISTS (SELECT 1 FROM provisioning_log l \
             WHERE l.tenant_id = u.tenant_id AND l.resource_id = u.id AND l.operation = 'create')",
        ),
        (
            "e-mail rows of missing users",
            "SELECT count(*) AS n FROM user_emails e WHERE NOT EXISTS \
             (SELECT 1 FROM users u WHERE u.tenant_id = e.tenant_id AND u.id = e.user_id)",
        ),
        (
            "memberships of missing members",
            "SELECT count(*) AS n FROM group_members m WHERE NOT EXISTS \
             (SELECT 1 FROM users u WHERE u.tenant_id = m.tenant_id AND u.id = m.member_id) \
             AND NOT EXISTS (SELECT 1 FROM groups g WHERE g.tenant_id = m.tenant_id AND g.id = m.member_id)",
        ),
        (
            "memberships of missing groups",
            "SELECT count(*) AS n FROM group_members m WHERE NOT EXISTS \
             (SELECT 1 FROM groups g WHERE g.tenant_id = m.tenant_id AND g.id = m.group_id)",
        ),
        (
            "events outside every log row's range",
            "SELECT count(*) AS n FROM events e WHERE NOT EXISTS (SELECT 1 FROM provisioning_log l \
             WHERE l.tenant_id = e.tenant_id AND e.position BETWEEN l.event_first AND l.event_last)",
        ),
        (
            "log rows whose event range misses events",
            "SELECT count(*) AS n FROM provisioning_log l WHERE l.event_first IS NOT NULL AND \
             (SELECT count(*) FROM events e WHERE e.tenant_id = l.tenant_id \
              AND e.position BETWEEN l.event_first AND l.event_last) <> l.event_last - l.event_first + 1",
        ),
        (
            "resource changes logged without events",
            "SELECT count(*) AS n FROM provisioning_log \
             WHERE resource_type IN ('User', 'Group') AND event_first IS NULL",
        ),
    ];
    for (what, sql) in checks {
        assert_eq!(db_count(url, sql), 0, "{what}");
    }
    // And the checks see rows at all.
    assert!(db_count(url, "SELECT count(*) AS n FROM events") > 0);
    assert!(
        db_count(
            url,
            "SELECT count(*) AS n FROM provisioning_log WHERE operation = 'group-membership'"
        ) > 0
    );
}
