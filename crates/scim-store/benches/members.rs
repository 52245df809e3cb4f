//! Membership benchmark (a plain timing program, `harness = false`; not run by `cargo test`).
//!
//! Seeds users with `create_many` (batches of 1 000, and reports the rate), makes groups of
//! 1 000 and of `SCIM_BENCH_MEMBERS` (default 100 000) members, and times
//! `Session::change_members` adding 1 and 50 members (each followed by removing them, so
//! the size stays put) on SQLite (temp file) and, when `SCIM_TEST_DATABASE_URL` is set, on
//! PostgreSQL (a throw-away schema). The cost must not depend on the group's size.
//!
//! ```text
//! source scripts/pg-up && cargo bench -p scim-store --bench members
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use diesel::{Connection, RunQueryDsl};
use scim_core::ResourceKind::{Group, User};
use scim_core::patch::MemberDelta;
use scim_core::resource::{Attributes, parse_resource};
use scim_store::{Access, Actor, DieselStore, ResourceRepo, Store, StoreConfig, TenantRepo};
use serde_json::json;
use std::time::{Duration, Instant};

const SAMPLES: usize = 60;

fn user(i: usize) -> Attributes {
    parse_resource(
        User,
        &json!({
            "userName": format!("member{i}@example.com"),
            "externalId": format!("00u{i:08}"),
            "name": {"givenName": format!("Given{i}"), "familyName": "Family"},
            "emails": [{"value": format!("member{i}@example.com"), "type": "work", "primary": true}],
            "active": true
        }),
    )
    .unwrap()
}

fn percentile_ms(mut v: Vec<Duration>, p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1e3
}

fn run(label: &str, store: &DieselStore, members: usize) {
    let actor = Actor {
        token_id: Some("bench".into()),
        ..Default::default()
    };
    let t = store.create_tenant("bench").unwrap().id;
    let total = members + 1_000 + 100;
    let start = Instant::now();
    let mut ids = Vec::with_capacity(total);
    for chunk in (0..total).collect::<Vec<_>>().chunks(1_000) {
        let batch = chunk.iter().map(|&i| user(i)).collect();
        ids.extend(store.create_many(&actor, &t, User, batch).unwrap());
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    println!("| {label} | create_many, {total} users | {rate:.0} users/s |");
    let group_of = |name: &str, member_ids: &[String]| {
        let values: Vec<_> = member_ids.iter().map(|id| json!({"value": id})).collect();
        let attrs =
            parse_resource(Group, &json!({"displayName": name, "members": values})).unwrap();
        store.create(&actor, &t, Group, attrs).unwrap().id
    };
    let spare = &ids[total - 100..];
    let small = group_of("small", &ids[..1_000]);
    let start = Instant::now();
    let big = group_of("big", &ids[1_000..1_000 + members]);
    println!(
        "| {label} | create a group of {members} members | {:.0} ms |",
        start.elapsed().as_secs_f64() * 1e3
    );
    for (name, group, size) in [("1 000", &small, 1_000), ("big", &big, members)] {
        for k in [1usize, 50] {
            let mut times = Vec::with_capacity(SAMPLES);
            for s in 0..SAMPLES {
                let added: Vec<String> = (0..k)
                    .map(|j| spare[(s + j) % spare.len()].clone())
                    .collect();
                let add = MemberDelta {
                    add: added.clone(),
                    ..MemberDelta::default()
                };
                let remove = MemberDelta {
                    remove: added,
                    ..MemberDelta::default()
                };
                let began = Instant::now();
                store
                    .session(Access::Write)
                    .unwrap()
                    .change_members(&actor, &t, group, &add, &mut |_| Ok(None))
                    .unwrap();
                times.push(began.elapsed());
                store
                    .session(Access::Write)
                    .unwrap()
                    .change_members(&actor, &t, group, &remove, &mut |_| Ok(None))
                    .unwrap();
            }
            println!(
                "| {label} | add {k} to a group of {size} ({name}) | p50 {:.2} ms, p99 {:.2} ms |",
                percentile_ms(times.clone(), 0.5),
                percentile_ms(times, 0.99)
            );
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let members: usize = std::env::var("SCIM_BENCH_MEMBERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    println!("| backend | operation | result |\n| --- | --- | --- |");
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    run(
        "SQLite",
        &DieselStore::open(&StoreConfig::new(url)).unwrap(),
        members,
    );
    if let Ok(base) = std::env::var("SCIM_TEST_DATABASE_URL") {
        let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&base).unwrap();
        diesel::sql_query(format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
        run(
            "PostgreSQL",
            &DieselStore::open(&StoreConfig::new(url)).unwrap(),
            members,
        );
        diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&mut admin)
            .unwrap();
    }
}
