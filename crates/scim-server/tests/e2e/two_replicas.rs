//! Two replicas on one PostgreSQL (issue 10 item 7): two `serve` processes started at the
//! same moment on an empty database both come up (migrations take turns under an advisory
//! lock), a token generated through the CLI is refused by both on the very next request,
//! what one writes the other reads, one userName in any letter case is created exactly
//! once across both, and membership PATCHes through both lose nothing. Also the guards
//! around them: a second `serve` on one SQLite file, and `--no-migrate` on an old schema.

use crate::harness::{Backend, Rng, Server, Tenant, cli_output, enc, failure_lines, try_request};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Barrier;

const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

#[test]
fn two_replicas_started_at_once_share_one_database() {
    let logs = tempfile::tempdir().unwrap();
    let Some((a, b)) = Server::start_pair(Backend::Postgres, &[], logs.path()) else {
        return;
    };
    let replicas = [&a, &b];
    for s in replicas {
        assert_eq!(s.raw("GET", "/readyz", None, &[], None).status, 200);
    }
    let t = a.tenant("Pair");
    tokens_rotate_on_both(&a, &b, t.clone());
    let t = Tenant {
        token: a.new_token(&t.id),
        ..t
    };
    writes_of_one_are_read_by_the_other(&a, &b, &t);
    one_user_name_in_any_case_is_created_once(&a, &b, &t);
    membership_changes_through_both_lose_nothing(&a, &b, &t);
    for s in replicas {
        let log = std::fs::read_to_string(s.log_file().unwrap()).unwrap();
        assert_eq!(failure_lines(&log), Vec::<&str>::new(), "{}", s.addr);
    }
}

/// After `token generate`, the old token gets 401 on both replicas on the very next
/// request, and the new one works on both.
fn tokens_rotate_on_both(a: &Server, b: &Server, old: Tenant) {
    for s in [a, b] {
        s.call(&old, "GET", "/Users?count=1", None).expect(200);
    }
    let new = Tenant {
        token: a.new_token(&old.id),
        ..old.clone()
    };
    for s in [b, a] {
        let r = s.call(&old, "GET", "/Users?count=1", None);
        r.expect_error(401);
        s.call(&new, "GET", "/Users?count=1", None).expect(200);
    }
}

fn writes_of_one_are_read_by_the_other(a: &Server, b: &Server, t: &Tenant) {
    let body = json!({"schemas": [USER], "userName": "grace@pair.test", "active": true});
    let created = a.call(t, "POST", "/Users", Some(&body));
    let created_json = created.expect(201);
    let id = created_json["id"].as_str().unwrap();
    let read = b.call(t, "GET", &format!("/Users/{id}"), None);
    assert_eq!(read.expect(200)["userName"], "grace@pair.test");
    assert_eq!(read.header("etag"), created.header("etag"));
    let filter = enc("userName eq \"GRACE@pair.test\"");
    let found = b
        .call(t, "GET", &format!("/Users?filter={filter}"), None)
        .expect(200);
    assert_eq!(found["totalResults"], 1, "{found}");
    // And the other way round: a change through B is what A answers.
    let op =
        json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": false}}]});
    b.call(t, "PATCH", &format!("/Users/{id}"), Some(&op))
        .expect(200);
    assert_eq!(
        a.call(t, "GET", &format!("/Users/{id}"), None).expect(200)["active"],
        false
    );
}

/// The letter-case spellings of `name` (every letter upper or lower, by the bits of `k`).
fn spelling(name: &str, k: usize) -> String {
    let mut bit = 0;
    name.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                bit += 1;
                if k >> (bit - 1) & 1 == 1 {
                    return c.to_ascii_uppercase();
                }
            }
            c
        })
        .collect()
}

/// Many threads, split across both replicas, create one userName in different letter
/// cases at once: one 201, and `409 uniqueness` for every other, never a 5xx.
fn one_user_name_in_any_case_is_created_once(a: &Server, b: &Server, t: &Tenant) {
    const THREADS: usize = 16;
    for round in 0..3 {
        let name = format!("ada{round}@x.test");
        let start = Barrier::new(THREADS);
        let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|k| {
                    let (start, name) = (&start, &name);
                    let server = if k % 2 == 0 { a } else { b };
                    s.spawn(move || {
                        let body =
                            json!({"schemas": [USER], "userName": spelling(name, k * 5 + 1)});
                        start.wait();
                        let r = server.call(t, "POST", "/Users", Some(&body));
                        (r.status, r.json())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let created: Vec<&(u16, Value)> = answers.iter().filter(|(s, _)| *s == 201).collect();
        assert_eq!(created.len(), 1, "round {round}: {answers:?}");
        for (status, body) in answers.iter().filter(|(s, _)| *s != 201) {
            assert_eq!(*status, 409, "round {round}: {body}");
            assert_eq!(body["scimType"], "uniqueness", "{body}");
        }
        let filter = enc(&format!("userName eq \"{}\"", name.to_uppercase()));
        for s in [a, b] {
            let found = s
                .call(t, "GET", &format!("/Users?filter={filter}"), None)
                .expect(200);
            assert_eq!(found["totalResults"], 1, "{found}");
        }
    }
}

/// Threads PATCH one group's membership through both replicas at once: each thread owns
/// some users and adds or removes them (one, or one in and one out per request), so the
/// last acknowledged operation on each user says whether it is a member. Every PATCH must
/// be acknowledged, and the final membership equals what they say, on both replicas.
fn membership_changes_through_both_lose_nothing(a: &Server, b: &Server, t: &Tenant) {
    const THREADS: usize = 6;
    const USERS_EACH: usize = 4;
    const OPS_EACH: usize = 15;
    let mut rng = Rng::from_env("SCIM_REPLICA_SEED");
    let group = a
        .call(
            t,
            "POST",
            "/Groups",
            Some(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Hot"})),
        )
        .expect(201);
    let gid = group["id"].as_str().unwrap().to_string();
    let owned: Vec<Vec<String>> = (0..THREADS)
        .map(|k| {
            (0..USERS_EACH)
                .map(|i| {
                    let body =
                        json!({"schemas": [USER], "userName": format!("m{k}-{i}@pair.test")});
                    let server = if i % 2 == 0 { a } else { b };
                    let u = server.call(t, "POST", "/Users", Some(&body)).expect(201);
                    u["id"].as_str().unwrap().to_string()
                })
                .collect()
        })
        .collect();
    let seeds: Vec<u64> = (0..THREADS).map(|_| rng.next_u64()).collect();
    let start = Barrier::new(THREADS);
    let expected: BTreeMap<String, bool> = std::thread::scope(|s| {
        let handles: Vec<_> = owned
            .iter()
            .zip(&seeds)
            .enumerate()
            .map(|(k, (users, seed))| {
                let (start, gid) = (&start, &gid);
                s.spawn(move || {
                    let mut rng = Rng::new(*seed);
                    let mut member: BTreeMap<String, bool> =
                        users.iter().map(|u| (u.clone(), false)).collect();
                    start.wait();
                    for n in 0..OPS_EACH {
                        let u = &users[rng.below(users.len() as u64) as usize];
                        let mut ops = vec![member_op(u, !member[u])];
                        let mut changes = vec![(u.clone(), !member[u])];
                        // Sometimes a second user of this thread in the same request.
                        let v = &users[rng.below(users.len() as u64) as usize];
                        if v != u && rng.below(2) == 0 {
                            ops.push(member_op(v, !member[v]));
                            changes.push((v.clone(), !member[v]));
                        }
                        let server = if (k + n) % 2 == 0 { a } else { b };
                        let body = json!({"schemas": [PATCH], "Operations": ops});
                        let r = server.call(t, "PATCH", &format!("/Groups/{gid}"), Some(&body));
                        assert!(
                            r.status == 204 || r.status == 200,
                            "PATCH {body}: {} {}",
                            r.status,
                            String::from_utf8_lossy(&r.body)
                        );
                        member.extend(changes);
                    }
                    member
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let want: BTreeSet<String> = expected
        .iter()
        .filter(|(_, m)| **m)
        .map(|(u, _)| u.clone())
        .collect();
    for s in [a, b] {
        let g = s
            .call(t, "GET", &format!("/Groups/{gid}"), None)
            .expect(200);
        let have: BTreeSet<String> = g["members"]
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|x| x["value"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(have, want, "membership through {}", s.addr);
    }
    eprintln!(
        "{} membership PATCHes, {} members at the end",
        THREADS * OPS_EACH,
        want.len()
    );
}

fn member_op(user: &str, add: bool) -> Value {
    if add {
        json!({"op": "add", "path": "members", "value": [{"value": user}]})
    } else {
        json!({"op": "remove", "path": format!("members[value eq \"{user}\"]")})
    }
}

/// A SQLite file serves one process: a second `serve` on it stops at once with one line
/// that says so (and the first keeps serving). A CLI command beside it still works.
#[test]
fn a_second_server_on_one_sqlite_file_stops_with_one_line() {
    let Some(first) = Server::start(Backend::Sqlite) else {
        return;
    };
    let addr = format!("127.0.0.1:{}", crate::harness::free_port());
    let out = std::process::Command::new(crate::harness::BIN)
        .arg("serve")
        .env("SCIM_DATABASE_URL", &first.db.url)
        .env("SCIM_BIND", &addr)
        .env("SCIM_PUBLIC_URL", format!("http://{addr}"))
        .env("SCIM_LOG_LEVEL", "warn")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0]
            .starts_with("error: another `scim-server serve` is running on the SQLite database")
            && lines[0].contains("PostgreSQL"),
        "{stderr}"
    );
    assert!(try_request(&addr, "GET", "/healthz", &[], None).is_err());
    assert_eq!(first.raw("GET", "/readyz", None, &[], None).status, 200);
    first.tenant("Beside");
}

/// `--no-migrate` on a database nobody migrated: `serve` stops with a message naming
/// `scim-server migrate` and changes nothing; after `migrate`, it starts.
#[test]
fn no_migrate_needs_a_migrated_schema() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = crate::harness::TestDb::new(backend) else {
            continue;
        };
        let out = cli_output(&db.url, "http://unused", &["serve", "--no-migrate"]);
        assert!(!out.status.success());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.contains("older than this binary") && stderr.contains("scim-server migrate"),
            "{stderr}"
        );
        let out = cli_output(&db.url, "http://unused", &["migrate"]);
        assert!(out.status.success());
        assert!(String::from_utf8(out.stdout).unwrap().contains("Applied"));
        let db = std::sync::Arc::new(db);
        let s = Server::on(db, &[("SCIM_NO_MIGRATE", "true")]);
        assert_eq!(s.raw("GET", "/readyz", None, &[], None).status, 200);
    }
}
