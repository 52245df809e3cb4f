//! The unit-of-work write paths: membership deltas (`Session::change_members`) must leave
//! exactly the membership a full recomputation gives, bump the version only on a real
//! change, and hold under concurrent writers; `update` and `create_many` are one
//! transaction each (all or nothing); the per-tenant counters follow creates and deletes.

use crate::support::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use scim_core::ResourceKind::{Group, User};
use scim_core::ScimError;
use scim_core::patch::MemberDelta;
use scim_core::resource::Resource;
use scim_store::{Access, ListParams, LogQuery, LogRepo, ResourceRepo, Store, StoreError};
use serde_json::json;
use std::collections::BTreeSet;

fn member_ids(group: &Resource) -> BTreeSet<String> {
    group
        .attributes
        .get("members")
        .and_then(|m| m.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|m| m["value"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn no_change(_: &Resource) -> Result<Option<scim_core::resource::Attributes>, ScimError> {
    Ok(None)
}

/// A valid delta over `pool`: optional wholesale replacement, then disjoint add/remove lists.
fn delta_strategy(pool: Vec<String>) -> impl Strategy<Value = MemberDelta> {
    let n = pool.len();
    (
        proptest::option::weighted(0.2, proptest::collection::btree_set(0..n, 0..n)),
        proptest::collection::btree_set(0..n, 0..4),
        proptest::collection::btree_set(0..n, 0..4),
    )
        .prop_map(move |(replace, add, remove)| MemberDelta {
            replace_all: replace.map(|s| s.into_iter().map(|i| pool[i].clone()).collect()),
            add: add.iter().map(|&i| pool[i].clone()).collect(),
            remove: remove.difference(&add).map(|&i| pool[i].clone()).collect(),
        })
}

pub fn member_deltas_equal_full_recomputation(db: &TestDb) {
    let t = tenant(db);
    let mut pool: Vec<String> = (0..6)
        .map(|i| create_user(db, &t, &format!("m{i}")).id)
        .collect();
    pool.push(create_group(db, &t, "Nested", &[]).id);
    let group = create_group(db, &t, "Target", &[&pool[0], &pool[1]]);
    let other_tenant = tenant(db);
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    runner
        .run(
            &proptest::collection::vec(delta_strategy(pool.clone()), 1..4),
            |deltas| {
                for delta in &deltas {
                    let before = db.get(&t, Group, &group.id).unwrap();
                    let current: Vec<String> = member_ids(&before).into_iter().collect();
                    let expected: BTreeSet<String> = delta.apply_to(&current).into_iter().collect();
                    let logged = db.list_log(&t, &LogQuery::default()).unwrap().len();
                    let answer = db
                        .session(Access::Write)
                        .unwrap()
                        .change_members(&actor(), &t, &group.id, delta, &mut no_change)
                        .unwrap();
                    let after = db.get(&t, Group, &group.id).unwrap();
                    prop_assert_eq!(member_ids(&after), expected.clone());
                    let changed = expected != member_ids(&before);
                    prop_assert_eq!(after.meta.version, before.meta.version + i64::from(changed));
                    prop_assert_eq!(answer.meta.version, after.meta.version);
                    prop_assert!(!answer.attributes.contains_key("members"));
                    let logged_now = db.list_log(&t, &LogQuery::default()).unwrap().len();
                    prop_assert_eq!(logged_now, logged + usize::from(changed));
                    // Users see the same rows from their side.
                    for id in &pool[..6] {
                        let u = db.get(&t, User, id).unwrap();
                        let in_group = u.attributes.get("groups").is_some_and(|g| {
                            g.as_array()
                                .unwrap()
                                .iter()
                                .any(|v| v["value"] == group.id.as_str())
                        });
                        prop_assert_eq!(in_group, expected.contains(id));
                    }
                }
                // Another tenant cannot reach the group at all.
                let err = db
                    .session(Access::Write)
                    .unwrap()
                    .change_members(
                        &actor(),
                        &other_tenant,
                        &group.id,
                        &deltas[0],
                        &mut no_change,
                    )
                    .unwrap_err();
                prop_assert!(matches!(err, StoreError::NotFound), "{err:?}");
                Ok(())
            },
        )
        .unwrap();
}

pub fn member_delta_rejects_bad_references(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "u");
    let g = create_group(db, &t, "G", &[&u.id]);
    let foreign_tenant = tenant(db);
    let foreign = create_user(db, &foreign_tenant, "f");
    for bad in ["no-such-id", foreign.id.as_str(), g.id.as_str()] {
        let delta = MemberDelta {
            add: vec![bad.to_string()],
            ..MemberDelta::default()
        };
        let err = db
            .session(Access::Write)
            .unwrap()
            .change_members(&actor(), &t, &g.id, &delta, &mut no_change)
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::InvalidReference { value } if value == bad),
            "{bad}: {err:?}"
        );
    }
    let after = db.get(&t, Group, &g.id).unwrap();
    assert_eq!(after.meta.version, 1, "nothing was written");
    assert_eq!(member_ids(&after), BTreeSet::from([u.id.clone()]));
    // A change function error aborts the whole transaction, members included.
    let v = create_user(db, &t, "v");
    let delta = MemberDelta {
        add: vec![v.id.clone()],
        ..MemberDelta::default()
    };
    let err = db
        .session(Access::Write)
        .unwrap()
        .change_members(&actor(), &t, &g.id, &delta, &mut |_| {
            Err(ScimError::precondition_failed("stale"))
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Rejected(ref e) if e.status() == 412));
    assert_eq!(member_ids(&db.get(&t, Group, &g.id).unwrap()).len(), 1);
}

pub fn member_delta_with_attribute_change(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "u");
    let g = create_group(db, &t, "Before", &[]);
    let delta = MemberDelta {
        add: vec![u.id.clone()],
        ..MemberDelta::default()
    };
    let answer = db
        .session(Access::Write)
        .unwrap()
        .change_members(&actor(), &t, &g.id, &delta, &mut |current| {
            let mut a = current.attributes.clone();
            a.insert("displayName".into(), json!("After"));
            Ok(Some(a))
        })
        .unwrap();
    assert_eq!(answer.attributes["displayName"], "After");
    assert_eq!(answer.meta.version, 2, "one bump for both changes");
    let after = db.get(&t, Group, &g.id).unwrap();
    assert_eq!(after.attributes["displayName"], "After");
    assert_eq!(member_ids(&after), BTreeSet::from([u.id.clone()]));
    let log = db.list_log(&t, &LogQuery::default()).unwrap();
    assert!(
        log[0].summary.contains("members +1 -0") && log[0].summary.contains("displayName"),
        "{}",
        log[0].summary
    );
}

pub fn concurrent_member_adds_all_land(db: &TestDb) {
    let t = tenant(db);
    let users: Vec<String> = (0..48)
        .map(|i| create_user(db, &t, &format!("c{i}")).id)
        .collect();
    let g = create_group(db, &t, "Hot", &[]);
    std::thread::scope(|s| {
        for chunk in users.chunks(6) {
            let (t, g) = (&t, &g.id);
            s.spawn(move || {
                for id in chunk {
                    let delta = MemberDelta {
                        add: vec![id.clone()],
                        ..MemberDelta::default()
                    };
                    db.session(Access::Write)
                        .unwrap()
                        .change_members(&actor(), t, g, &delta, &mut no_change)
                        .unwrap();
                }
            });
        }
    });
    let after = db.get(&t, Group, &g.id).unwrap();
    assert_eq!(member_ids(&after).len(), users.len(), "no lost add");
    assert_eq!(after.meta.version, 1 + users.len() as i64);
}

pub fn deleting_a_user_while_it_is_added_leaves_no_dangling_row(db: &TestDb) {
    let t = tenant(db);
    let g = create_group(db, &t, "Race", &[]);
    for round in 0..10 {
        let u = create_user(db, &t, &format!("r{round}"));
        std::thread::scope(|s| {
            s.spawn(|| {
                let delta = MemberDelta {
                    add: vec![u.id.clone()],
                    ..MemberDelta::default()
                };
                // Either it lands before the delete (and the delete removes it), or the
                // user is gone and the add is an invalid reference.
                let _ = db.session(Access::Write).unwrap().change_members(
                    &actor(),
                    &t,
                    &g.id,
                    &delta,
                    &mut no_change,
                );
            });
            s.spawn(|| db.delete(&actor(), &t, User, &u.id, None).unwrap());
        });
        let filter =
            scim_core::filter::parse_filter(&format!("members[value eq \"{}\"]", u.id)).unwrap();
        let hits = db
            .list(
                &t,
                Group,
                &ListParams {
                    filter: Some(filter),
                    ..ListParams::default()
                },
            )
            .unwrap();
        assert_eq!(hits.total_results, 0, "round {round}: dangling membership");
    }
}

pub fn update_is_one_transaction(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "ada");
    let logged = db.list_log(&t, &LogQuery::default()).unwrap().len();
    // The change function sees the current resource once per attempt and can refuse.
    let err = db
        .session(Access::Write)
        .unwrap()
        .update(&actor(), &t, User, &u.id, false, &mut |current| {
            assert_eq!(current.meta.version, 1);
            Err(ScimError::invalid_value("no"))
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Rejected(ref e) if e.status() == 400));
    // Nothing to do: no write, no log.
    let same = db
        .session(Access::Write)
        .unwrap()
        .update(&actor(), &t, User, &u.id, false, &mut |c| {
            Ok(Some(c.attributes.clone()))
        })
        .unwrap();
    assert_eq!(same.meta.version, 1);
    assert_eq!(db.list_log(&t, &LogQuery::default()).unwrap().len(), logged);
    // A change: answered from memory, equal to what a fresh read gives.
    let changed = db
        .session(Access::Write)
        .unwrap()
        .update(&actor(), &t, User, &u.id, true, &mut |c| {
            let mut a = c.attributes.clone();
            a.insert("active".into(), json!(false));
            Ok(Some(a))
        })
        .unwrap();
    let read = db.get(&t, User, &u.id).unwrap();
    assert_eq!(changed, read);
    assert_eq!(read.meta.version, 2);
    let log = db.list_log(&t, &LogQuery::default()).unwrap();
    assert_eq!(log[0].operation, scim_store::LogOperation::Deactivate);
}

pub fn create_many_is_all_or_nothing_and_counted(db: &TestDb) {
    let t = tenant(db);
    let batch: Vec<_> = (0..50)
        .map(|i| user_attrs(json!({"userName": format!("b{i}")})))
        .collect();
    let ids = db.create_many(&actor(), &t, User, batch).unwrap();
    assert_eq!(ids.len(), 50);
    let mut dup: Vec<_> = (50..60)
        .map(|i| user_attrs(json!({"userName": format!("b{i}")})))
        .collect();
    dup.push(user_attrs(json!({"userName": "B3"})));
    let err = db.create_many(&actor(), &t, User, dup).unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    let page = |db: &TestDb| {
        db.list(
            &t,
            User,
            &ListParams {
                count: 1000,
                ..ListParams::default()
            },
        )
        .unwrap()
    };
    let p = page(db);
    assert_eq!(p.total_results, 50, "the failed batch left nothing");
    assert_eq!(p.resources.len(), 50);
    assert_eq!(
        db.list_log(
            &t,
            &LogQuery {
                limit: 1000,
                ..LogQuery::default()
            }
        )
        .unwrap()
        .len(),
        50
    );
    // Counters follow deletes too (the unfiltered total is read from them).
    for id in &ids[..7] {
        db.delete(&actor(), &t, User, id, None).unwrap();
    }
    let p = page(db);
    assert_eq!(p.total_results, 43);
    assert_eq!(p.resources.len(), 43);
    let other = tenant(db);
    assert_eq!(
        db.list(&other, User, &ListParams::default())
            .unwrap()
            .total_results,
        0
    );
}
