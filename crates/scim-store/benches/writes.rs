//! Write-cost benchmark (a plain timing program, `harness = false`; not run by `cargo test`):
//! the latency of one write transaction of each kind the identity providers send, one at
//! a time, so a change of the per-write cost (the event outbox's) shows directly:
//!
//! - `create`: a user with an e-mail (`Session::create`);
//! - `patch`: PATCH of one attribute (`Session::update`, `title`);
//! - `deactivate`: `active` flipped (`Session::update`; half deactivations, half
//!   reactivations; two events each with the outbox);
//! - `add-member`: one user added to a group (`Session::change_members`).
//!
//! Each kind runs `SCIM_BENCH_WRITES` times (default 2 000) in a tenant seeded with 5 000
//! users, on SQLite (temp file) and, when `SCIM_TEST_DATABASE_URL` is set, PostgreSQL (a
//! throw-away schema; once as configured and once with `synchronous_commit=off`, which
//! takes the commit's WAL flush out and leaves statements and round trips). The kinds are
//! interleaved in rounds of 100, so a load change on the
//! machine hits every kind alike. Prints a Markdown table of medians and means.
//!
//! It uses only the public API of `main` before the outbox too, so both can be built and
//! run side by side (see `docs/benchmarks.md`):
//!
//! ```text
//! source scripts/pg-up && cargo bench -p scim-store --bench writes
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use diesel::{Connection, RunQueryDsl};
use scim_core::ResourceKind::{Group, User};
use scim_core::events::UpdateMethod;
use scim_core::patch::MemberDelta;
use scim_core::resource::{Attributes, parse_resource};
use scim_store::{Access, Actor, DieselStore, ResourceRepo, Store, StoreConfig, TenantRepo};
use serde_json::json;
use std::time::{Duration, Instant};

const SEED: usize = 5_000;
const ROUND: usize = 100;
const KINDS: [&str; 4] = ["create", "patch", "deactivate", "add-member"];

fn user(i: usize) -> Attributes {
    parse_resource(
        User,
        &json!({
            "userName": format!("user{i}@example.com"),
            "externalId": format!("00u{i:08}"),
            "name": {"givenName": format!("Given{i}"), "familyName": format!("Family{}", i % 997)},
            "displayName": format!("User {i}"),
            "emails": [{"value": format!("user{i}@example.com"), "type": "work", "primary": true}],
            "active": true
        }),
    )
    .unwrap()
}

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let median = v[v.len() / 2].as_secs_f64() * 1e6;
    let mean = v.iter().map(Duration::as_secs_f64).sum::<f64>() / v.len() as f64 * 1e6;
    (median, mean)
}

fn run(label: &str, config: &StoreConfig, writes: usize) {
    let store = DieselStore::open(config).unwrap();
    let tenant = store.create_tenant("bench").unwrap().id;
    let actor = Actor {
        token_id: Some("bench".into()),
        txn: None,
        method: UpdateMethod::Patch,
        request: None,
    };
    let ids = store
        .create_many(&actor, &tenant, User, (0..SEED).map(user).collect())
        .unwrap();
    let group = store
        .create(
            &actor,
            &tenant,
            Group,
            parse_resource(Group, &json!({"displayName": "Everyone"})).unwrap(),
        )
        .unwrap()
        .id;
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(writes); KINDS.len()];
    let mut next_user = SEED;
    let mut done = 0;
    while done < writes {
        let n = ROUND.min(writes - done);
        for (k, kind) in KINDS.iter().enumerate() {
            for j in done..done + n {
                let id = &ids[j % ids.len()];
                let start = Instant::now();
                match *kind {
                    "create" => {
                        store
                            .create(&actor, &tenant, User, user(next_user))
                            .unwrap();
                        next_user += 1;
                    }
                    "patch" => {
                        store
                            .session(Access::Write)
                            .unwrap()
                            .update(&actor, &tenant, User, id, false, &mut |c| {
                                let mut a = c.attributes.clone();
                                a.insert("title".into(), json!(format!("title {j}")));
                                Ok(Some(a))
                            })
                            .unwrap();
                    }
                    "deactivate" => {
                        store
                            .session(Access::Write)
                            .unwrap()
                            .update(&actor, &tenant, User, id, false, &mut |c| {
                                let mut a = c.attributes.clone();
                                let active = a.get("active") == Some(&json!(true));
                                a.insert("active".into(), json!(!active));
                                Ok(Some(a))
                            })
                            .unwrap();
                    }
                    _ => {
                        let delta = MemberDelta {
                            add: vec![id.clone()],
                            ..Default::default()
                        };
                        store
                            .session(Access::Write)
                            .unwrap()
                            .change_members(&actor, &tenant, &group, &delta, &mut |_| Ok(None))
                            .unwrap();
                    }
                }
                times[k].push(start.elapsed());
            }
        }
        done += n;
    }
    for (kind, t) in KINDS.iter().zip(times) {
        let (median, mean) = stats(t);
        println!("| {label} | {kind} | {median:.0} µs | {mean:.0} µs |");
    }
}

fn main() {
    // `cargo test --all-targets` builds benches but runs them only under `cargo bench`
    // (which passes `--bench`); do nothing otherwise.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let writes: usize = std::env::var("SCIM_BENCH_WRITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
        .min(SEED);
    println!("| backend | write | median | mean |\n| --- | --- | --- | --- |");
    let dir = tempfile::tempdir().unwrap();
    let sqlite = StoreConfig::new(format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ));
    run("SQLite", &sqlite, writes);
    match std::env::var("SCIM_TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
            let mut c = diesel::PgConnection::establish(&admin).unwrap();
            diesel::sql_query(format!("CREATE SCHEMA {schema}"))
                .execute(&mut c)
                .unwrap();
            let sep = if admin.contains('?') { '&' } else { '?' };
            let pg = StoreConfig::new(format!("{admin}{sep}options=-csearch_path%3D{schema}"));
            run("PostgreSQL", &pg, writes);
            // The commit's WAL flush dominates above; without waiting for it, what remains
            // is statements and round trips (the outbox's own cost). A second schema, so
            // both runs start from the same tables.
            let schema2 = format!("{schema}_async");
            diesel::sql_query(format!("CREATE SCHEMA {schema2}"))
                .execute(&mut c)
                .unwrap();
            let pg = StoreConfig::new(format!(
                "{admin}{sep}options=-csearch_path%3D{schema2}%20-csynchronous_commit%3Doff"
            ));
            run("PostgreSQL, synchronous_commit=off", &pg, writes);
            diesel::sql_query(format!("DROP SCHEMA {schema2} CASCADE"))
                .execute(&mut c)
                .unwrap();
            diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&mut c)
                .unwrap();
        }
        _ => eprintln!("SCIM_TEST_DATABASE_URL is not set: PostgreSQL skipped"),
    }
}
