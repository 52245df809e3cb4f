//! Storage benchmark (a plain timing program, `harness = false`; not run by `cargo test`).
//!
//! Loads `SCIM_BENCH_USERS` users (default 100 000) into one tenant, beside 10 other
//! tenants with 500 users each, on SQLite (temp file) and, when `SCIM_TEST_DATABASE_URL`
//! is set, on PostgreSQL (a throw-away schema), and measures create throughput (the first
//! 1 000 one transaction each, the rest seeded with `create_many` batches of 1 000), the
//! `userName eq` lookup at 1 000 and at the full size, paged lists (at an `OFFSET`, after a
//! keyset hint, and RFC 9865 cursor pages, first and last), whole walks of the tenant by
//! `startIndex` and by cursor, and a PATCH-style update (get + replace). Prints a Markdown
//! table.
//!
//! ```text
//! source scripts/pg-up && cargo bench -p scim-store --bench store
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use diesel::{Connection, RunQueryDsl};
use scim_core::ResourceKind::User;
use scim_core::filter::{AttrPath, CompValue, CompareOp, Filter};
use scim_core::resource::{Attributes, parse_resource};
use scim_store::{
    Actor, DieselStore, Keyset, ListParams, Paging, ResourceRepo, StoreConfig, TenantRepo,
};
use serde_json::json;
use std::time::{Duration, Instant};

const OTHER_TENANTS: usize = 10;
const OTHER_USERS: usize = 500;
const LOAD_THREADS: usize = 4;
const SEED_BATCH: usize = 1_000;

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

fn median_us(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e6
}

/// A small deterministic PRNG (xorshift), so runs are comparable.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn load(store: &DieselStore, tenant: &str, from: usize, to: usize) -> Duration {
    let actor = Actor {
        token_id: Some("bench".into()),
        ..Default::default()
    };
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..LOAD_THREADS {
            let actor = &actor;
            s.spawn(move || {
                let mut i = from + t;
                while i < to {
                    store.create(actor, tenant, User, user(i)).unwrap();
                    i += LOAD_THREADS;
                }
            });
        }
    });
    start.elapsed()
}

/// Seeds users `from..to` with `create_many` batches of [`SEED_BATCH`] (one transaction
/// each), one batch at a time: SQLite has one writer anyway, and concurrent batches in one
/// tenant contend for its counter rows on PostgreSQL.
fn seed(store: &DieselStore, tenant: &str, from: usize, to: usize) -> Duration {
    let actor = Actor {
        token_id: Some("bench".into()),
        ..Default::default()
    };
    let start = Instant::now();
    let mut i = from;
    while i < to {
        let end = (i + SEED_BATCH).min(to);
        store
            .create_many(&actor, tenant, User, (i..end).map(user).collect())
            .unwrap();
        i = end;
    }
    start.elapsed()
}

fn lookup_median(store: &DieselStore, tenant: &str, n: usize, samples: usize) -> f64 {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let i = rng.below(n);
        let f = Filter::Compare(
            AttrPath::new("userName"),
            CompareOp::Eq,
            CompValue::String(format!("USER{i}@example.com")),
        );
        let params = ListParams {
            filter: Some(f),
            ..Default::default()
        };
        let t = Instant::now();
        let page = store.list(tenant, User, &params).unwrap();
        times.push(t.elapsed());
        assert_eq!(page.total_results, 1);
    }
    median_us(times)
}

/// Creates and deletes a throwaway user: the tenant's counters change, so every keyset hint
/// recorded so far is stale and the `OFFSET` figures below are `OFFSET` figures.
fn invalidate_hints(store: &DieselStore, tenant: &str) {
    let actor = Actor::default();
    let u = store
        .create(&actor, tenant, User, user(usize::MAX))
        .unwrap();
    store.delete(&actor, tenant, User, &u.id, None).unwrap();
}

fn measure(store: &DieselStore, tenant: &str, n: usize, label: &str, rows: &mut Vec<String>) {
    invalidate_hints(store, tenant);
    let hits = store.keyset_hint_hits();
    for (sort, what) in [
        (None, "default order"),
        (Some(AttrPath::new("userName")), "sortBy=userName"),
    ] {
        for start in [
            1_u64,
            1_001,
            (n as u64 / 2) + 1,
            (n as u64).saturating_sub(99).max(1),
        ] {
            let params = ListParams {
                start_index: start,
                count: 100,
                sort_by: sort.clone(),
                ..Default::default()
            };
            let times: Vec<Duration> = (0..15)
                .map(|_| {
                    let t = Instant::now();
                    let page = store.list(tenant, User, &params).unwrap();
                    assert_eq!(page.total_results as usize, n);
                    t.elapsed()
                })
                .collect();
            rows.push(format!(
                "| {label} | list count=100, startIndex={start}, {what} (median of 15) | {:.1} ms |",
                median_us(times) / 1000.0
            ));
        }
    }
    assert_eq!(
        store.keyset_hint_hits(),
        hits,
        "the OFFSET figures used no hint"
    );
    keyset_pages(store, tenant, n, label, rows);
    // PATCH-style: read the user, change one attribute, replace with the version read.
    let ids: Vec<String> = store
        .list(
            tenant,
            User,
            &ListParams {
                count: 1_000,
                start_index: (n as u64 / 3).max(1),
                ..Default::default()
            },
        )
        .unwrap()
        .resources
        .into_iter()
        .map(|r| r.id)
        .collect();
    let actor = Actor::default();
    let times: Vec<Duration> = ids
        .iter()
        .enumerate()
        .map(|(k, id)| {
            let t = Instant::now();
            let current = store.get(tenant, User, id).unwrap();
            let mut attrs = current.attributes.clone();
            attrs.remove("groups");
            attrs.insert("title".into(), json!(format!("{label} {k}")));
            store
                .replace(&actor, tenant, User, id, attrs, Some(current.meta.version))
                .unwrap();
            t.elapsed()
        })
        .collect();
    rows.push(format!(
        "| {label} | PATCH-style update: get + replace (median of {}) | {:.0} µs |",
        times.len(),
        median_us(times)
    ));
}

fn median_ms_of_15(mut f: impl FnMut()) -> f64 {
    let times: Vec<Duration> = (0..15)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    median_us(times) / 1000.0
}

fn index_page(store: &DieselStore, tenant: &str, start_index: u64) -> scim_store::Page {
    store
        .list(
            tenant,
            User,
            &ListParams {
                start_index,
                count: 100,
                ..Default::default()
            },
        )
        .unwrap()
}

fn cursor_page(store: &DieselStore, tenant: &str, after: Option<Keyset>) -> scim_store::Page {
    store
        .list(
            tenant,
            User,
            &ListParams {
                count: 100,
                paging: Paging::Cursor { after },
                ..Default::default()
            },
        )
        .unwrap()
}

/// Index pages after a keyset hint, cursor pages, and whole walks of the tenant.
fn keyset_pages(store: &DieselStore, tenant: &str, n: usize, label: &str, rows: &mut Vec<String>) {
    let n64 = n as u64;
    for start in [101_u64, n64.saturating_sub(99).max(101)] {
        // Serving the page before leaves the hint; a hint survives its use.
        index_page(store, tenant, start - 100);
        let hits = store.keyset_hint_hits();
        let ms = median_ms_of_15(|| {
            let page = index_page(store, tenant, start);
            assert_eq!(page.total_results, n64);
        });
        assert_eq!(
            store.keyset_hint_hits(),
            hits + 15,
            "every sample used the hint"
        );
        rows.push(format!(
            "| {label} | list count=100, startIndex={start}, default order, after the previous page (keyset hint; median of 15) | {ms:.1} ms |"
        ));
    }
    let ms = median_ms_of_15(|| {
        let page = cursor_page(store, tenant, None);
        assert!(page.next.is_some());
    });
    rows.push(format!(
        "| {label} | cursor page count=100, first page (median of 15) | {ms:.1} ms |"
    ));
    let before_last = &index_page(store, tenant, n64.saturating_sub(100).max(1)).resources[0];
    let after = Keyset {
        created: before_last.meta.created,
        id: before_last.id.clone(),
    };
    let ms = median_ms_of_15(|| {
        let page = cursor_page(store, tenant, Some(after.clone()));
        assert_eq!(page.resources.len(), 100.min(n - 1));
        assert!(page.next.is_none());
    });
    rows.push(format!(
        "| {label} | cursor page count=100, last page (median of 15) | {ms:.1} ms |"
    ));
    // Whole walks, as an import does them.
    let t = Instant::now();
    let (mut start, mut seen) = (1_u64, 0_usize);
    loop {
        let page = index_page(store, tenant, start);
        if page.resources.is_empty() {
            break;
        }
        seen += page.resources.len();
        start += page.resources.len() as u64;
    }
    assert_eq!(seen, n);
    rows.push(format!(
        "| {label} | whole walk by startIndex, count=100 ({} pages) | {:.2} s |",
        n.div_ceil(100),
        t.elapsed().as_secs_f64()
    ));
    let t = Instant::now();
    let (mut after, mut seen) = (None, 0_usize);
    loop {
        let page = cursor_page(store, tenant, after);
        seen += page.resources.len();
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, n);
    rows.push(format!(
        "| {label} | whole walk by cursor, count=100 ({} pages) | {:.2} s |",
        n.div_ceil(100),
        t.elapsed().as_secs_f64()
    ));
}

fn run(label: &str, config: &StoreConfig, n: usize, out: &mut Vec<String>) {
    let store = DieselStore::open(config).unwrap();
    for k in 0..OTHER_TENANTS {
        let t = store.create_tenant(&format!("other-{k}")).unwrap();
        seed(&store, &t.id, 0, OTHER_USERS);
    }
    let tenant = store.create_tenant("bench").unwrap().id;
    let small = 1_000.min(n);
    let first = load(&store, &tenant, 0, small);
    let lookup_small = lookup_median(&store, &tenant, small, 2_000);
    let rest = seed(&store, &tenant, small, n);
    let rate = small as f64 / first.as_secs_f64();
    let seed_rate = (n - small) as f64 / rest.as_secs_f64();
    let lookup_full = lookup_median(&store, &tenant, n, 2_000);
    let mut rows = vec![
        format!(
            "| {label} | create ({LOAD_THREADS} threads, one transaction each: user + e-mail row + log row) | {rate:.0} users/s ({small} in {:.1} s) |",
            first.as_secs_f64()
        ),
        format!(
            "| {label} | seed with create_many ({SEED_BATCH} users per transaction, one at a time) | {seed_rate:.0} users/s ({} in {:.1} s) |",
            n - small,
            rest.as_secs_f64()
        ),
        format!(
            "| {label} | `userName eq` lookup, {small} users in the tenant (median of 2 000) | {lookup_small:.0} µs |"
        ),
        format!(
            "| {label} | `userName eq` lookup, {n} users in the tenant (median of 2 000) | {lookup_full:.0} µs |"
        ),
    ];
    measure(&store, &tenant, n, label, &mut rows);
    if store.backend() == "postgres" {
        // This machine runs PostgreSQL with autovacuum off, so the tables above had no
        // statistics and no visibility map; measure again after what autovacuum does.
        store
            .with_connection(|c| {
                // One statement each: VACUUM cannot run in the implicit transaction of a
                // multi-statement query.
                for table in ["users", "user_emails", "group_members", "provisioning_log"] {
                    c.execute_sql(&format!("VACUUM ANALYZE {table}"))?;
                }
                Ok(())
            })
            .unwrap();
        let label = format!("{label} (after VACUUM ANALYZE)");
        let lookup = lookup_median(&store, &tenant, n, 2_000);
        rows.push(format!("| {label} | `userName eq` lookup, {n} users in the tenant (median of 2 000) | {lookup:.0} µs |"));
        measure(&store, &tenant, n, &label, &mut rows);
    }
    for r in &rows {
        println!("{r}");
    }
    out.extend(rows);
}

fn main() {
    // `cargo test --all-targets` builds benches but runs them only under `cargo bench`
    // (which passes `--bench`); do nothing otherwise.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n: usize = std::env::var("SCIM_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut out = Vec::new();
    println!("| backend | measurement | result |\n| --- | --- | --- |");
    let dir = tempfile::tempdir().unwrap();
    let sqlite = StoreConfig {
        pool_size: 8,
        ..StoreConfig::new(format!(
            "sqlite://{}",
            dir.path().join("bench.db").display()
        ))
    };
    run("SQLite", &sqlite, n, &mut out);
    match std::env::var("SCIM_TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
            let mut c = diesel::PgConnection::establish(&admin).unwrap();
            diesel::sql_query(format!("CREATE SCHEMA {schema}"))
                .execute(&mut c)
                .unwrap();
            let sep = if admin.contains('?') { '&' } else { '?' };
            let pg = StoreConfig {
                pool_size: 8,
                ..StoreConfig::new(format!("{admin}{sep}options=-csearch_path%3D{schema}"))
            };
            run("PostgreSQL", &pg, n, &mut out);
            diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&mut c)
                .unwrap();
        }
        _ => eprintln!("SCIM_TEST_DATABASE_URL is not set: PostgreSQL skipped"),
    }
}
