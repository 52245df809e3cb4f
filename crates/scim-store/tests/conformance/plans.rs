//! Query plans: the store's own statements for `userName eq`, `externalId eq` and
//! `emails.value eq` use their indexes on each backend (a hit is one statement plus the
//! relations, a miss one statement); the keyset page of an index walk and of a cursor walks
//! `users_created_idx` from the keyset on, without a sort; a cursor page under a pushed-down
//! filter uses an index. The statements are captured from diesel's instrumentation while
//! the store runs the list, then explained (SQLite `EXPLAIN QUERY PLAN`; PostgreSQL
//! `EXPLAIN EXECUTE` of the prepared statement with the captured parameters and the
//! store's session settings). On PostgreSQL the lookups are also explained as *generic*
//! plans on an ANALYZEd table, since the store leaves `plan_cache_mode` at its default and
//! a prepared statement switches to the generic plan after five executions.

use crate::support::*;
use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};
use scim_core::ResourceKind::User;
use scim_core::filter::parse_filter;
use scim_store::{DieselStore, Keyset, ListParams, Page, Paging, ResourceRepo};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

/// Statements started while some test is [`recording`] (every test's: callers keep the
/// ones bound to their own tenant). Never cleared, so concurrent tests keep their marks.
static CAPTURED: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// How many tests are recording now.
static RECORDING: AtomicUsize = AtomicUsize::new(0);

fn capture() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event
            && RECORDING.load(Ordering::SeqCst) > 0
        {
            CAPTURED.lock().unwrap().push(query.to_string());
        }
    }))
}

/// A second store on the test database whose connections are instrumented.
fn instrumented(db: &TestDb) -> DieselStore {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        set_default_instrumentation(capture).unwrap();
    });
    // A store opened now gets instrumented connections.
    DieselStore::open(&db.config).unwrap()
}

/// Runs `f` and returns what it returned with the statements it ran that are bound to
/// `tenant` (other tests run concurrently on other tenants).
fn recording<T>(tenant: &str, f: impl FnOnce() -> T) -> (T, Vec<String>) {
    RECORDING.fetch_add(1, Ordering::SeqCst);
    let mark = CAPTURED.lock().unwrap().len();
    let out = f();
    RECORDING.fetch_sub(1, Ordering::SeqCst);
    let statements = CAPTURED.lock().unwrap()[mark..]
        .iter()
        .filter(|q| q.contains(tenant))
        .cloned()
        .collect();
    (out, statements)
}

fn analyze(store: &DieselStore) {
    if store.backend() == "postgres" {
        store
            .with_connection(|c| c.execute_sql("ANALYZE users; ANALYZE user_emails;"))
            .unwrap();
    }
}

fn fill(store: &DieselStore, t: &str) {
    let batch = (0..2000)
        .map(|i| {
            user_attrs(json!({"userName": format!("user{i}@example.com"), "externalId": format!("ext{i}"),
                              "emails": [{"value": format!("user{i}@example.com"), "type": "work"}]}))
        })
        .collect();
    store.create_many(&actor(), t, User, batch).unwrap();
    analyze(store);
}

/// The captured bind values (diesel's `Debug` list: strings quoted, timestamps and numbers
/// bare) as SQL literals.
fn bind_literals(binds: &str) -> Vec<String> {
    let inner = binds.trim().trim_start_matches('[').trim_end_matches(']');
    let mut out = Vec::new();
    let mut rest = inner.trim_start();
    while !rest.is_empty() {
        if rest.starts_with('"') {
            // A JSON-compatible quoted string: find its end.
            let mut end = 1;
            let bytes = rest.as_bytes();
            while end < bytes.len() && bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            let s: String = serde_json::from_str(&rest[..=end]).unwrap();
            out.push(format!("'{}'", s.replace('\'', "''")));
            rest = &rest[end + 1..];
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let token = rest[..end].trim();
            if token.parse::<f64>().is_ok() || token == "true" || token == "false" {
                out.push(token.to_string());
            } else {
                out.push(format!("'{token}'"));
            }
            rest = &rest[end..];
        }
        rest = rest.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

/// PostgreSQL settings for an explain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pg {
    /// Custom plan, sequential scans off: which index is chosen when one is usable.
    NoSeqScan,
    /// The planner as the store runs it, on current statistics.
    AsIs,
    /// The generic plan of the prepared statement (what runs after five executions).
    Generic,
}

fn explain_with(db: &DieselStore, statement: &str, pg: Pg) -> String {
    let (sql, binds) = statement.split_once("-- binds:").unwrap();
    let sql = sql.trim().to_string();
    let backend = db.backend();
    db.with_connection(|c| {
        if backend == "postgres" {
            // The store's session settings apply. Statistics as autovacuum keeps them
            // (this machine runs PostgreSQL with autovacuum off; without any statistics a
            // small table is a cost tie between the tenant's indexes).
            let args = bind_literals(binds);
            let settings = match pg {
                Pg::NoSeqScan => "SET enable_seqscan = off; SET plan_cache_mode = auto;",
                Pg::AsIs => "RESET enable_seqscan; SET plan_cache_mode = auto;",
                Pg::Generic => "RESET enable_seqscan; SET plan_cache_mode = force_generic_plan;",
            };
            c.execute_sql(&format!("{settings} PREPARE scim_plan AS {sql}"))?;
            let plan =
                c.query_text_rows(&format!("EXPLAIN EXECUTE scim_plan({})", args.join(", ")));
            c.execute_sql("DEALLOCATE scim_plan; RESET enable_seqscan; RESET plan_cache_mode;")?;
            plan
        } else {
            c.query_text_rows(&format!("EXPLAIN QUERY PLAN {sql}"))
        }
    })
    .unwrap()
    .join("\n")
}

pub fn indexed_lookups_use_indexes(db: &TestDb) {
    let store = instrumented(db);
    let t = tenant(db);
    fill(&store, &t);
    let cases = [
        (
            "userName eq \"USER7@example.com\"",
            "user_name_lower",
            "users_user_name_lower_key",
        ),
        (
            "externalId eq \"ext7\"",
            "external_id",
            "users_external_id_idx",
        ),
        (
            "emails.value eq \"User7@Example.com\"",
            "value_lower",
            "user_emails_value_lower_idx",
        ),
    ];
    for (filter, column, index) in cases {
        let list = |f: &str| {
            store
                .list(
                    &t,
                    User,
                    &ListParams {
                        filter: Some(parse_filter(f).unwrap()),
                        ..Default::default()
                    },
                )
                .unwrap()
        };
        let (page, statements) = recording(&t, || list(filter));
        assert_eq!(page.total_results, 1, "{filter}");
        // A hit: the one read of the matches, then the user's groups. No COUNT.
        assert_eq!(statements.len(), 2, "{filter}: {statements:#?}");
        assert!(
            !statements.iter().any(|q| q.contains("COUNT")),
            "{statements:#?}"
        );
        // The user's groups: by the covering member index, never the tenant's memberships
        // (SQLite once preferred the covering primary key searched by tenant alone).
        let groups_of_user = statements
            .iter()
            .find(|q| q.contains("group_members"))
            .expect("the groups of the hit are read");
        let plan = explain_with(&store, groups_of_user, Pg::AsIs);
        assert!(
            plan.contains("group_members_member_idx"),
            "{} groups of a user:\n{groups_of_user}\n{plan}",
            db.backend()
        );
        let miss = filter.replace('7', "7x");
        let (page, misses) = recording(&t, || list(&miss));
        assert_eq!(page.total_results, 0, "{miss}");
        assert_eq!(misses.len(), 1, "{miss}: one statement: {misses:#?}");
        let lookups: Vec<&String> = statements
            .iter()
            .chain(&misses)
            .filter(|q| q.contains(column) && q.to_uppercase().starts_with("SELECT"))
            .collect();
        assert_eq!(lookups.len(), 2, "{filter}: {statements:#?} {misses:#?}");
        let modes: &[Pg] = if db.backend() == "postgres" {
            &[Pg::NoSeqScan, Pg::AsIs, Pg::Generic]
        } else {
            &[Pg::NoSeqScan]
        };
        for statement in lookups {
            for &mode in modes {
                let plan = explain_with(&store, statement, mode);
                println!("[{}] {filter}\n{statement}\n{plan}\n", db.backend());
                assert!(
                    plan.contains(index),
                    "{filter} on {}: {index} not used:\n{statement}\n{plan}",
                    db.backend()
                );
                // Neither a table scan nor a walk of the tenant's (created, id) index.
                assert!(
                    !plan.contains("SCAN users")
                        && !plan.contains("Seq Scan")
                        && !plan.contains("created_idx"),
                    "{filter}: scans the tenant:\n{statement}\n{plan}"
                );
            }
        }
    }
}

/// The statement of a keyset page: ordered, bounded below by a keyset, no `OFFSET`.
fn keyset_statement(statements: &[String]) -> String {
    let found: Vec<&String> = statements
        .iter()
        .filter(|q| {
            let q = q.replace('`', "\"");
            q.contains("\"created\" >=") && q.contains("ORDER BY") && !q.contains("OFFSET")
        })
        .collect();
    assert_eq!(found.len(), 1, "{statements:#?}");
    found[0].clone()
}

/// Asserts the plan walks `users_created_idx` from the keyset on, without sorting.
fn assert_keyset_plan(db: &TestDb, what: &str, statement: &str, plan: &str) {
    println!("[{}] {what}\n{statement}\n{plan}\n", db.backend());
    assert!(
        plan.contains("users_created_idx"),
        "{what}: users_created_idx not used:\n{statement}\n{plan}"
    );
    assert!(
        !plan.contains("Seq Scan")
            && !plan.contains("SCAN users")
            && !plan.contains("Sort")
            && !plan.contains("TEMP B-TREE"),
        "{what}: scans or sorts:\n{statement}\n{plan}"
    );
    // The keyset bounds the index range (not only a filter over the tenant's rows).
    let bound = plan.lines().any(|l| {
        (l.contains("Index Cond") && l.contains("created >="))
            || (l.contains("users_created_idx") && l.contains("created>"))
    });
    assert!(
        bound,
        "{what}: the keyset does not bound the index scan:\n{plan}"
    );
}

fn modes(db: &TestDb) -> &'static [Pg] {
    if db.backend() == "postgres" {
        &[Pg::AsIs, Pg::Generic]
    } else {
        &[Pg::AsIs]
    }
}

pub fn keyset_pages_walk_the_created_index(db: &TestDb) {
    let store = instrumented(db);
    let t = tenant(db);
    fill(&store, &t);
    let index = |start_index: u64| {
        store
            .list(
                &t,
                User,
                &ListParams {
                    start_index,
                    count: 100,
                    ..Default::default()
                },
            )
            .unwrap()
    };
    let first = index(1001);
    let hits = store.keyset_hint_hits();
    let (second, statements) = recording(&t, || index(1101));
    assert_eq!(
        store.keyset_hint_hits(),
        hits + 1,
        "the second page used the hint"
    );
    assert_eq!(second.resources.len(), 100);
    assert!(first.resources.last().unwrap().meta.created <= second.resources[0].meta.created);
    let statement = keyset_statement(&statements);
    for &mode in modes(db) {
        let plan = explain_with(&store, &statement, mode);
        assert_keyset_plan(db, "index page after a hint", &statement, &plan);
    }
    // A cursor page.
    let last = first.resources.last().unwrap();
    let after = Keyset {
        created: last.meta.created,
        id: last.id.clone(),
    };
    let cursor = |filter: Option<&str>| {
        store
            .list(
                &t,
                User,
                &ListParams {
                    filter: filter.map(|f| parse_filter(f).unwrap()),
                    count: 100,
                    paging: Paging::Cursor {
                        after: Some(after.clone()),
                    },
                    ..Default::default()
                },
            )
            .unwrap()
    };
    let (page, statements): (Page, _) = recording(&t, || cursor(None));
    assert_eq!(page.resources[0].id, second.resources[0].id);
    let statement = keyset_statement(&statements);
    for &mode in modes(db) {
        let plan = explain_with(&store, &statement, mode);
        assert_keyset_plan(db, "cursor page", &statement, &plan);
    }
    // A cursor page under a pushed-down filter with many matches (`ext1…`: 1 111 of the
    // 2 000 users): the unordered probe and the COUNT, then the keyset page, which walks an
    // index from the keyset without a table scan. (The probe and the COUNT read more than
    // half of the tenant: any index on it, or PostgreSQL's sequential read of a LIMIT 201
    // that stops after ~400 rows, is the planner's fair choice; they only must not need a
    // table scan when an index is available.)
    let (page, statements) = recording(&t, || cursor(Some("externalId sw \"ext1\"")));
    assert_eq!(page.total_results, 1111);
    assert_eq!(page.resources.len(), 100);
    assert!(page.next.is_some());
    let filtered: Vec<&String> = statements
        .iter()
        .filter(|q| q.contains("external_id"))
        .collect();
    assert_eq!(
        filtered.len(),
        3,
        "probe, COUNT, keyset page: {statements:#?}"
    );
    let keyset = keyset_statement(&statements);
    for statement in filtered {
        let is_keyset = *statement == keyset;
        let modes: &[Pg] = if is_keyset {
            modes(db)
        } else {
            &[Pg::NoSeqScan]
        };
        for &mode in modes {
            let plan = explain_with(&store, statement, mode);
            println!("[{}] cursor + filter\n{statement}\n{plan}\n", db.backend());
            assert!(
                !plan.contains("Seq Scan")
                    && !plan
                        .lines()
                        .any(|l| l.trim_start().starts_with("SCAN users")),
                "cursor + filter: table scan:\n{statement}\n{plan}"
            );
            if is_keyset {
                assert!(
                    plan.contains("users_external_id_idx") || plan.contains("users_created_idx"),
                    "cursor + filter: neither the filter's nor the keyset's index:\n{statement}\n{plan}"
                );
            }
        }
    }
}

/// "Events after position N, limit L" (the events API page and every worker poll) is a
/// range scan of the feed's primary key from N on, without a sort or a table scan.
pub fn event_pages_scan_the_feed_key(db: &TestDb) {
    use scim_store::EventRepo;
    let store = instrumented(db);
    let t = tenant(db);
    fill(&store, &t);
    if store.backend() == "postgres" {
        store
            .with_connection(|c| c.execute_sql("ANALYZE events;"))
            .unwrap();
    }
    let (page, statements) = recording(&t, || store.list_events(&t, 1500, 100, None).unwrap());
    assert_eq!(page.len(), 100);
    assert_eq!(page[0].position, 1501);
    let found: Vec<&String> = statements
        .iter()
        .filter(|q| q.contains("events") && q.to_uppercase().starts_with("SELECT"))
        .collect();
    assert_eq!(found.len(), 1, "{statements:#?}");
    for &mode in modes(db) {
        let plan = explain_with(&store, found[0], mode);
        println!("[{}] events page\n{}\n{plan}\n", db.backend(), found[0]);
        assert!(
            !plan.contains("Seq Scan")
                && !plan.contains("Sort")
                && !plan.contains("TEMP B-TREE")
                && !plan
                    .lines()
                    .any(|l| l.trim_start().starts_with("SCAN events")),
            "events page scans or sorts:\n{plan}"
        );
        let bound = plan.lines().any(|l| {
            (l.contains("events_pkey") || l.contains("Index Cond") && l.contains("position >"))
                || (l.contains("SEARCH events USING PRIMARY KEY") && l.contains("position>"))
        });
        assert!(bound, "the position does not bound the key range:\n{plan}");
    }
}
