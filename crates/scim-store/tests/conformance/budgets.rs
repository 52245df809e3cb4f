//! Budgets: a filter that cannot be answered from an index reads at most the store's scan
//! budget of candidates (then `TooMany`), while the indexed filters identity providers send
//! never meet it; and on PostgreSQL a statement past the statement timeout is cancelled
//! into a clean error (`TooMany` for a list, `Timeout` otherwise), never `Backend`.

use crate::support::*;
use diesel::Connection as _;
use diesel::connection::SimpleConnection as _;
use scim_core::ResourceKind::{Group, User};
use scim_core::filter::parse_filter;
use scim_store::{DieselStore, ListParams, Paging, ResourceRepo, StoreConfig, StoreError};
use serde_json::json;
use std::time::Duration;

/// Users in the tenant: more than the budget below.
const USERS: usize = 40;
/// The budget of the store under test.
const BUDGET: u64 = 25;

fn list(
    store: &DieselStore,
    t: &str,
    kind: scim_core::ResourceKind,
    filter: &str,
    start_index: u64,
) -> Result<scim_store::Page, StoreError> {
    store.list(
        t,
        kind,
        &ListParams {
            filter: Some(parse_filter(filter).unwrap()),
            start_index,
            count: 10,
            ..Default::default()
        },
    )
}

pub fn scan_budget_bounds_unindexed_filters(db: &TestDb) {
    let t = tenant(db);
    let batch = (0..USERS)
        .map(|i| {
            user_attrs(json!({
                "userName": format!("user{i}@example.test"),
                "externalId": format!("ext-{i}"),
                "displayName": format!("User {i}"),
                "title": if i % 2 == 0 { "even" } else { "odd" },
                "emails": [{"value": format!("user{i}@example.test"), "type": "work"}],
            }))
        })
        .collect();
    let ids = db.create_many(&actor(), &t, User, batch).unwrap();
    create_group(db, &t, "Everyone", &[&ids[0], &ids[1]]);
    let small = DieselStore::open(&StoreConfig {
        scan_budget: Some(BUDGET),
        ..db.config.clone()
    })
    .unwrap();
    // The same unindexed filters are answered by an unlimited store...
    for f in [
        r#"title eq "even""#,
        r#"not (title eq "odd")"#,
        "nickName pr",
    ] {
        let page = list(&db.store, &t, User, f, 1).unwrap();
        assert!(page.total_results as usize <= USERS, "{f}");
    }
    // ...and refused, cleanly, by one whose budget is smaller than the tenant, whatever
    // the window (a deep startIndex keeps no more sort keys than the budget lets it read).
    for (f, start) in [
        (r#"title eq "even""#, 1),
        (r#"not (title eq "odd")"#, 1),
        ("nickName pr", 1),
        (r#"title eq "even""#, 1_000_000),
        (r#"userName sw "user" and title eq "odd""#, 1),
    ] {
        match list(&small, &t, User, f, start) {
            Err(StoreError::TooMany(detail)) => {
                assert!(detail.contains(&BUDGET.to_string()), "{detail}");
            }
            other => panic!("{f}: expected TooMany, got {other:?}"),
        }
    }
    // Cursor paging is bounded the same way.
    let cursor = small.list(
        &t,
        User,
        &ListParams {
            filter: Some(parse_filter(r#"title eq "odd""#).unwrap()),
            count: 5,
            paging: Paging::Cursor { after: None },
            ..Default::default()
        },
    );
    assert!(matches!(cursor, Err(StoreError::TooMany(_))), "{cursor:?}");
    // A pre-filter that narrows the candidates below the budget is fine.
    let page = list(
        &small,
        &t,
        User,
        r#"userName eq "user3@example.test" and title eq "odd""#,
        1,
    )
    .unwrap();
    assert_eq!(page.total_results, 1);
    // What identity providers send is answered from the indexes, never budgeted.
    for (kind, f, expected) in [
        (User, r#"userName eq "user7@example.test""#.to_string(), 1),
        (User, r#"externalId eq "ext-8""#.into(), 1),
        (User, r#"emails.value eq "user9@example.test""#.into(), 1),
        (
            User,
            r#"emails[type eq "work" and value eq "user9@example.test"]"#.into(),
            1,
        ),
        (User, r#"displayName eq "User 5""#.into(), 1),
        (User, r#"userName sw "user""#.into(), USERS as u64),
        (Group, r#"displayName eq "Everyone""#.into(), 1),
        (Group, format!(r#"members[value eq "{}"]"#, ids[1]), 1),
        (Group, format!(r#"members.value eq "{}""#, ids[0]), 1),
    ] {
        let page = list(&small, &t, kind, &f, 1).unwrap_or_else(|e| panic!("{f}: {e:?}"));
        assert_eq!(page.total_results, expected, "{f}");
    }
    assert_eq!(
        list(&small, &t, Group, r#"id eq "nope""#, 1)
            .unwrap()
            .total_results,
        0
    );
}

/// PostgreSQL only (SQLite has no statement timeout): another session holds an exclusive
/// lock on the users table, so the store's statements wait on it until the timeout
/// cancels them; the list answers `TooMany`, the write `Timeout`, and nothing is written.
pub fn statement_timeout_cancels_into_clean_errors(db: &TestDb) {
    if !db.config.database_url.starts_with("postgres") {
        return;
    }
    let t = tenant(db);
    create_user(db, &t, "before@example.test");
    let timed = DieselStore::open(&StoreConfig {
        statement_timeout: Some(Duration::from_millis(300)),
        pool_size: 2,
        ..db.config.clone()
    })
    .unwrap();
    // Quick statements are unaffected.
    assert_eq!(
        list(&timed, &t, User, r#"userName eq "before@example.test""#, 1)
            .unwrap()
            .total_results,
        1
    );
    let mut locker = diesel::PgConnection::establish(&db.config.database_url).unwrap();
    locker
        .batch_execute("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE;")
        .unwrap();
    let listed = list(&timed, &t, User, r#"userName eq "before@example.test""#, 1);
    assert!(matches!(listed, Err(StoreError::TooMany(_))), "{listed:?}");
    let created = timed.create(
        &actor(),
        &t,
        User,
        user_attrs(json!({"userName": "during@example.test"})),
    );
    assert!(
        matches!(created, Err(StoreError::Timeout(_))),
        "{created:?}"
    );
    locker.batch_execute("ROLLBACK;").unwrap();
    // Nothing of the cancelled create remains, and the store works again.
    let all = timed.list(&t, User, &ListParams::default()).unwrap();
    assert_eq!(all.total_results, 1);
    timed
        .create(
            &actor(),
            &t,
            User,
            user_attrs(json!({"userName": "after@example.test"})),
        )
        .unwrap();
}
