//! `Session::create_each`, the Bulk create path: each chunk is written with multi-row
//! statements and replayed one resource at a time when something in it fails. Whatever
//! path a chunk takes, the outcome must equal creating the resources one by one: the same
//! per-resource results, rows, counters, log rows and events, and `max_errors` stops at the
//! same place.

use crate::events::feed;
use crate::support::*;
use scim_core::ResourceKind::{Group, User};
use scim_core::events::EventType;
use scim_core::resource::{Attributes, Resource};
use scim_store::{
    Access, EventRepo, ListParams, LogOperation, LogQuery, LogRepo, ResourceRepo, Store,
    StoreError, StoreResult,
};
use serde_json::json;

fn create_each(
    db: &TestDb,
    t: &str,
    kind: scim_core::ResourceKind,
    batch: Vec<Attributes>,
    max_errors: Option<usize>,
) -> Vec<StoreResult<Resource>> {
    db.session(Access::Write)
        .unwrap()
        .create_each(&actor(), t, kind, batch, max_errors)
        .unwrap()
}

fn total(db: &TestDb, t: &str, kind: scim_core::ResourceKind) -> usize {
    let p = db
        .list(
            t,
            kind,
            &ListParams {
                count: 1,
                ..ListParams::default()
            },
        )
        .unwrap();
    usize::try_from(p.total_results).unwrap()
}

fn log_len(db: &TestDb, t: &str) -> usize {
    db.list_log(
        t,
        &LogQuery {
            limit: 10_000,
            ..LogQuery::default()
        },
    )
    .unwrap()
    .len()
}

/// 250 users over three chunks, two of which hold a conflict: one with a user that existed
/// before, one with a user created earlier in the same request.
pub fn create_each_gives_each_resource_its_own_outcome(db: &TestDb) {
    let t = tenant(db);
    create_user(db, &t, "existing");
    let mut batch: Vec<Attributes> = (0..250)
        .map(|i| user_attrs(json!({"userName": format!("u{i}"), "emails": [{"value": format!("u{i}@example.com"), "primary": true}]})))
        .collect();
    batch[120] = user_attrs(json!({"userName": "EXISTING"}));
    batch[240] = user_attrs(json!({"userName": "U10"}));
    let results = create_each(db, &t, User, batch, None);
    assert_eq!(results.len(), 250);
    for (i, r) in results.iter().enumerate() {
        match i {
            120 | 240 => assert!(matches!(r, Err(StoreError::Conflict { .. })), "{i}: {r:?}"),
            _ => {
                let u = r.as_ref().unwrap_or_else(|e| panic!("{i}: {e:?}"));
                assert_eq!(u.user_name(), Some(format!("u{i}").as_str()));
                assert_eq!(u.meta.version, 1);
                // What the answer says is what is stored.
                assert_eq!(db.get(&t, User, &u.id).unwrap(), *u, "{i}");
            }
        }
    }
    assert_eq!(
        total(db, &t, User),
        249,
        "the counter counts what was written"
    );
    assert_eq!(log_len(db, &t), 249);
    let events = feed(db, &t);
    assert_eq!(
        events.len(),
        249,
        "one event per created user, none for failures"
    );
    let created: Vec<&String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|u| &u.id))
        .collect();
    for (record, id) in events[1..].iter().zip(&created) {
        assert_eq!(record.event.event.event_type, EventType::Create);
        assert_eq!(&record.event.event.subject.id, *id, "in request order");
    }
    // Each log row names its own event.
    for entry in db
        .list_log(
            &t,
            &LogQuery {
                limit: 10_000,
                ..LogQuery::default()
            },
        )
        .unwrap()
    {
        assert_eq!(entry.operation, LogOperation::Create);
        let (first, last) = entry.events.expect("every create has its event");
        assert_eq!(first, last);
        assert_eq!(
            db.get_event(&t, first).unwrap().event.event.subject.id,
            entry.resource_id
        );
    }
}

/// `max_errors` stops at the same operation as one-by-one creation would, inside a chunk
/// that took the fast path's failure and replay.
pub fn create_each_stops_after_max_errors(db: &TestDb) {
    let t = tenant(db);
    create_user(db, &t, "taken");
    let mut batch: Vec<Attributes> = (0..20)
        .map(|i| user_attrs(json!({"userName": format!("m{i}")})))
        .collect();
    batch[5] = user_attrs(json!({"userName": "taken"}));
    batch[7] = user_attrs(json!({"userName": "Taken"}));
    let results = create_each(db, &t, User, batch.clone(), Some(2));
    assert_eq!(results.len(), 8, "stops right after the second error");
    assert!(results[5].is_err() && results[7].is_err());
    assert_eq!(total(db, &t, User), 1 + 6);
    // With one error allowed, nothing after the first error runs.
    let t2 = tenant(db);
    create_user(db, &t2, "taken");
    let results = create_each(db, &t2, User, batch, Some(1));
    assert_eq!(results.len(), 6);
    assert_eq!(total(db, &t2, User), 1 + 5);
}

/// Groups: an unknown member fails only its own group; the others keep their members.
pub fn create_each_groups_fail_alone(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "member");
    let batch = vec![
        group_attrs(json!({"displayName": "A", "members": [{"value": u.id}]})),
        group_attrs(json!({"displayName": "B", "members": [{"value": "ghost"}]})),
        group_attrs(json!({"displayName": "C"})),
    ];
    let results = create_each(db, &t, Group, batch, None);
    assert!(matches!(
        &results[1],
        Err(StoreError::InvalidReference { value }) if value == "ghost"
    ));
    let a = results[0].as_ref().unwrap();
    let got = db.get(&t, Group, &a.id).unwrap();
    assert_eq!(got.attributes["members"][0]["value"], json!(u.id));
    assert!(results[2].is_ok());
    assert_eq!(total(db, &t, Group), 2);
    // The user's create, A's create and member add, C's create.
    assert_eq!(feed(db, &t).len(), 4);
}
