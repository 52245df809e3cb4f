//! The outbox: every write kind appends exactly its events, in order, in its own
//! transaction (shared `txn`, distinct `jti`s, positions 1..n without gaps per tenant);
//! refused, failed and no-op writes append nothing; log rows carry their event range.
//! (Concurrent writers: `feed_order`.)

use crate::support::*;
use scim_core::ResourceKind::{self, Group, User};
use scim_core::ScimError;
use scim_core::events::{EventType, UpdateMethod};
use scim_core::patch::MemberDelta;
use scim_core::resource::{Attributes, Resource};
use scim_store::{
    Access, Actor, EventRecord, EventRepo, LogOperation, LogQuery, LogRepo, ResourceRepo, Store,
    StoreError,
};
use serde_json::json;
use std::collections::HashSet;

/// The whole feed of a tenant.
pub fn feed(db: &TestDb, t: &str) -> Vec<EventRecord> {
    db.list_events(t, 0, 1000, None).unwrap()
}

/// The feed after `after`.
fn since(db: &TestDb, t: &str, after: i64) -> Vec<EventRecord> {
    db.list_events(t, after, 1000, None).unwrap()
}

/// What a test compares: type, subject uri, version, group uri.
type Brief = (EventType, String, Option<i64>, Option<String>);

fn briefs(events: &[EventRecord]) -> Vec<Brief> {
    events
        .iter()
        .map(|r| {
            let e = &r.event.event;
            (
                e.event_type,
                e.subject.uri(),
                e.version,
                e.group.as_ref().map(|g| g.uri()),
            )
        })
        .collect()
}

fn user_uri(id: &str) -> String {
    format!("/Users/{id}")
}

fn group_uri(id: &str) -> String {
    format!("/Groups/{id}")
}

fn request(txn: &str, method: UpdateMethod) -> Actor {
    Actor {
        token_id: Some("tok-1".into()),
        txn: Some(txn.into()),
        method,
        request: None,
    }
}

pub fn patch_user(
    db: &TestDb,
    actor: &Actor,
    t: &str,
    id: &str,
    set: &[(&str, serde_json::Value)],
) {
    db.session(Access::Write)
        .unwrap()
        .update(actor, t, User, id, false, &mut |c: &Resource| {
            let mut a = c.attributes.clone();
            for (k, v) in set {
                a.insert((*k).into(), v.clone());
            }
            Ok(Some(a))
        })
        .unwrap();
}

fn change_members(db: &TestDb, actor: &Actor, t: &str, g: &str, delta: &MemberDelta) {
    db.session(Access::Write)
        .unwrap()
        .change_members(actor, t, g, delta, &mut |_| Ok(None))
        .unwrap();
}

pub fn each_write_produces_its_events(db: &TestDb) {
    use EventType::*;
    let t = tenant(db);
    let patch = request("req-patch", UpdateMethod::Patch);
    // Create: one prov:create with the resource (no relations) and its paths.
    let u = db
        .create(
            &request("req-create", UpdateMethod::Put),
            &t,
            User,
            user_attrs(json!({"userName": "ada", "externalId": "x-ada", "active": true})),
        )
        .unwrap();
    let u2 = create_user(db, &t, "bob");
    let all = feed(db, &t);
    assert_eq!(
        briefs(&all),
        [
            (Create, user_uri(&u.id), Some(1), None),
            (Create, user_uri(&u2.id), Some(1), None)
        ]
    );
    let e = &all[0].event;
    assert_eq!(e.txn, "req-create");
    assert_eq!(e.event.subject.external_id.as_deref(), Some("x-ada"));
    assert_eq!(
        e.event.attributes,
        ["id", "active", "externalId", "userName"]
    );
    let data = e.event.data.as_ref().unwrap();
    assert_eq!(data["userName"], "ada");
    assert_eq!(data["id"], u.id.as_str());
    assert_eq!(data["meta"]["version"], "W/\"1\"");
    assert_eq!(e.issued_at, u.meta.created);
    assert_ne!(all[1].event.txn, "req-create", "a transaction of its own");

    // PATCH deactivate: prov:patch then prov:deactivate, one txn.
    let mark = db.last_event_position(&t).unwrap();
    patch_user(db, &patch, &t, &u.id, &[("active", json!(false))]);
    let got = since(db, &t, mark);
    assert_eq!(
        briefs(&got),
        [
            (Patch, user_uri(&u.id), Some(2), None),
            (Deactivate, user_uri(&u.id), Some(2), None)
        ]
    );
    assert_eq!(got[0].event.event.attributes, ["active"]);
    assert!(got.iter().all(|r| r.event.txn == "req-patch"));
    assert!(got[1].event.event.data.is_none());
    // PUT reactivate with a title: prov:put then prov:activate.
    let mark = db.last_event_position(&t).unwrap();
    let mut a = db.get(&t, User, &u.id).unwrap().attributes;
    a.insert("active".into(), json!(true));
    a.insert("title".into(), json!("Boss"));
    db.replace(
        &request("req-put", UpdateMethod::Put),
        &t,
        User,
        &u.id,
        a.clone(),
        None,
    )
    .unwrap();
    let got = since(db, &t, mark);
    assert_eq!(
        briefs(&got),
        [
            (Put, user_uri(&u.id), Some(3), None),
            (Activate, user_uri(&u.id), Some(3), None)
        ]
    );
    assert_eq!(got[0].event.event.attributes, ["active", "title"]);
    // A no-op: nothing.
    let mark = db.last_event_position(&t).unwrap();
    db.replace(&actor(), &t, User, &u.id, a, None).unwrap();
    patch_user(db, &patch, &t, &u.id, &[("title", json!("Boss"))]);
    assert!(since(db, &t, mark).is_empty());

    // A group with a member: prov:create (without members), then feed:add.
    let g = db
        .create(
            &request("req-group", UpdateMethod::Put),
            &t,
            Group,
            group_attrs(
                json!({"displayName": "Eng", "externalId": "x-eng", "members": [{"value": u.id}]}),
            ),
        )
        .unwrap();
    let got = since(db, &t, mark);
    assert_eq!(
        briefs(&got),
        [
            (Create, group_uri(&g.id), Some(1), None),
            (FeedAdd, user_uri(&u.id), None, Some(group_uri(&g.id)))
        ]
    );
    assert!(
        got[0]
            .event
            .event
            .data
            .as_ref()
            .unwrap()
            .get("members")
            .is_none()
    );
    assert!(
        !got[0]
            .event
            .event
            .attributes
            .contains(&"members".to_string())
    );
    assert_eq!(
        got[1]
            .event
            .event
            .group
            .as_ref()
            .unwrap()
            .external_id
            .as_deref(),
        Some("x-eng")
    );
    assert!(got.iter().all(|r| r.event.txn == "req-group"));

    // A member delta: only the members that really changed, adds before removes.
    let mark = db.last_event_position(&t).unwrap();
    let nested = create_group(db, &t, "Nested", &[]);
    change_members(
        db,
        &patch,
        &t,
        &g.id,
        &MemberDelta {
            add: vec![u2.id.clone(), u.id.clone(), nested.id.clone()],
            remove: vec!["not-a-member".into()],
            ..Default::default()
        },
    );
    // u was a member already: no event for it.
    let got = since(db, &t, mark);
    assert_eq!(
        briefs(&got),
        [
            (Create, group_uri(&nested.id), Some(1), None),
            (FeedAdd, user_uri(&u2.id), None, Some(group_uri(&g.id))),
            (FeedAdd, group_uri(&nested.id), None, Some(group_uri(&g.id))),
        ]
    );
    let mark = db.last_event_position(&t).unwrap();
    change_members(
        db,
        &patch,
        &t,
        &g.id,
        &MemberDelta {
            remove: vec![u.id.clone()],
            ..Default::default()
        },
    );
    assert_eq!(
        briefs(&since(db, &t, mark)),
        [(FeedRemove, user_uri(&u.id), None, Some(group_uri(&g.id)))]
    );
    let mark = db.last_event_position(&t).unwrap();
    // The same delta again changes nothing.
    change_members(
        db,
        &patch,
        &t,
        &g.id,
        &MemberDelta {
            add: vec![u2.id.clone()],
            ..Default::default()
        },
    );
    assert!(since(db, &t, mark).is_empty());
    // A full PATCH of the group: rename and members: prov:patch, then the feed events.
    db.session(Access::Write)
        .unwrap()
        .update(&patch, &t, Group, &g.id, false, &mut |c| {
            let mut a = c.attributes.clone();
            a.insert("displayName".into(), json!("Engineering"));
            a.insert("members".into(), json!([{"value": u.id}, {"value": u2.id}]));
            Ok(Some(a))
        })
        .unwrap();
    let got = since(db, &t, mark);
    let version = db.get(&t, Group, &g.id).unwrap().meta.version;
    assert_eq!(
        briefs(&got),
        [
            (Patch, group_uri(&g.id), Some(version), None),
            (FeedAdd, user_uri(&u.id), None, Some(group_uri(&g.id))),
            (
                FeedRemove,
                group_uri(&nested.id),
                None,
                Some(group_uri(&g.id))
            ),
        ]
    );
    assert_eq!(got[0].event.event.attributes, ["displayName"]);

    // Deletes: one prov:delete each, no feed:remove for the groups the user leaves.
    let mark = db.last_event_position(&t).unwrap();
    db.delete(&actor(), &t, User, &u2.id, None).unwrap();
    db.delete(&actor(), &t, Group, &g.id, None).unwrap();
    let got = since(db, &t, mark);
    assert_eq!(
        briefs(&got),
        [
            (Delete, user_uri(&u2.id), None, None),
            (Delete, group_uri(&g.id), None, None)
        ]
    );
    assert_eq!(
        got[1].event.event.subject.external_id.as_deref(),
        Some("x-eng")
    );

    // The whole feed: positions 1..n, distinct jtis, each event rendered from the row.
    let all = feed(db, &t);
    let positions: Vec<i64> = all.iter().map(|r| r.position).collect();
    assert_eq!(positions, (1..=all.len() as i64).collect::<Vec<_>>());
    let jtis: HashSet<&str> = all.iter().map(|r| r.event.jti.as_str()).collect();
    assert_eq!(jtis.len(), all.len());
    assert!(
        all.iter()
            .all(|r| r.tenant_id == t && r.event.jti.len() == 32)
    );
    assert_eq!(db.get_event(&t, 3).unwrap(), all[2]);
    assert_eq!(db.last_event_position(&t).unwrap(), all.len() as i64);
    assert!(matches!(db.get_event(&t, 999), Err(StoreError::NotFound)));
    // Type filter and paging.
    let deletes = db
        .list_events(&t, 0, 100, Some(&[EventType::Delete]))
        .unwrap();
    assert_eq!(deletes.len(), 2);
    let page = db.list_events(&t, 2, 3, None).unwrap();
    assert_eq!(
        page.iter().map(|r| r.position).collect::<Vec<_>>(),
        [3, 4, 5]
    );
}

pub fn member_delta_remove_and_readd(db: &TestDb) {
    use EventType::*;
    let t = tenant(db);
    let u = create_user(db, &t, "u");
    let g = create_group(db, &t, "G", &[&u.id]);
    let mark = db.last_event_position(&t).unwrap();
    let patch = request("req", UpdateMethod::Patch);
    change_members(
        db,
        &patch,
        &t,
        &g.id,
        &MemberDelta {
            remove: vec![u.id.clone()],
            ..Default::default()
        },
    );
    change_members(
        db,
        &patch,
        &t,
        &g.id,
        &MemberDelta {
            replace_all: Some(vec![u.id.clone()]),
            ..Default::default()
        },
    );
    assert_eq!(
        briefs(&since(db, &t, mark)),
        [
            (FeedRemove, user_uri(&u.id), None, Some(group_uri(&g.id))),
            (FeedAdd, user_uri(&u.id), None, Some(group_uri(&g.id))),
        ]
    );
}

pub fn create_many_appends_one_event_per_resource(db: &TestDb) {
    let t = tenant(db);
    create_user(db, &t, "first");
    let batch: Vec<Attributes> = (0..150)
        .map(|i| user_attrs(json!({"userName": format!("b{i}")})))
        .collect();
    let ids = db
        .create_many(&request("import", UpdateMethod::Put), &t, User, batch)
        .unwrap();
    let all = feed(db, &t);
    assert_eq!(all.len(), 151);
    for (record, id) in all[1..].iter().zip(&ids) {
        assert_eq!(record.event.event.event_type, EventType::Create);
        assert_eq!(record.event.event.subject.id, *id);
        assert_eq!(record.event.txn, "import");
    }
    // Each log row names its own event.
    let log = db
        .list_log(
            &t,
            &LogQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .unwrap();
    for entry in &log {
        let (first, last) = entry.events.expect("every create has its event");
        assert_eq!(first, last);
        let e = db.get_event(&t, first).unwrap();
        assert_eq!(e.event.event.subject.id, entry.resource_id);
    }
    // Groups too: a group with two members is three events.
    let members: Vec<serde_json::Value> = ids[..2].iter().map(|i| json!({"value": i})).collect();
    let groups = vec![
        group_attrs(json!({"displayName": "A", "members": members})),
        group_attrs(json!({"displayName": "B"})),
    ];
    let gids = db.create_many(&actor(), &t, Group, groups).unwrap();
    let got = since(db, &t, 151);
    let kinds: Vec<(EventType, ResourceKind)> = got
        .iter()
        .map(|r| (r.event.event.event_type, r.event.event.subject.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            (EventType::Create, Group),
            (EventType::FeedAdd, User),
            (EventType::FeedAdd, User),
            (EventType::Create, Group)
        ]
    );
    let txns: HashSet<&str> = got.iter().map(|r| r.event.txn.as_str()).collect();
    assert_eq!(txns.len(), 1, "one transaction, one txn");
    let log = db.list_log(&t, &LogQuery::default()).unwrap();
    let by_id = |id: &str| log.iter().find(|e| e.resource_id == id).unwrap().events;
    assert_eq!(by_id(&gids[0]), Some((152, 154)));
    assert_eq!(by_id(&gids[1]), Some((155, 155)));
}

pub fn positions_are_per_tenant_and_gap_free(db: &TestDb) {
    let (a, b) = (tenant(db), tenant(db));
    assert_eq!(db.last_event_position(&a).unwrap(), 0);
    for i in 0..5 {
        create_user(db, &a, &format!("a{i}"));
        if i % 2 == 0 {
            create_user(db, &b, &format!("b{i}"));
        }
    }
    let pa: Vec<i64> = feed(db, &a).iter().map(|r| r.position).collect();
    let pb: Vec<i64> = feed(db, &b).iter().map(|r| r.position).collect();
    assert_eq!(pa, [1, 2, 3, 4, 5]);
    assert_eq!(pb, [1, 2, 3]);
    assert!(feed(db, &b).iter().all(|r| r.tenant_id == b));
    // Another tenant's positions are not visible.
    assert!(matches!(db.get_event(&b, 5), Err(StoreError::NotFound)));
    assert!(
        db.list_events("no-such-tenant", 0, 10, None)
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.last_event_position("no-such-tenant").unwrap(), 0);
}

pub fn failed_writes_append_nothing(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "one");
    create_user(db, &t, "two");
    let g = create_group(db, &t, "G", &[]);
    let events = db.last_event_position(&t).unwrap();
    let logged = db.list_log(&t, &LogQuery::default()).unwrap().len();
    let refuse = |_: &Resource| -> Result<Option<Attributes>, ScimError> {
        Err(ScimError::precondition_failed("no"))
    };
    let mut s = db.session(Access::Write).unwrap();
    let results = [
        s.update(&actor(), &t, User, &u.id, false, &mut { refuse })
            .err(),
        s.change_members(
            &actor(),
            &t,
            &g.id,
            &MemberDelta {
                add: vec![u.id.clone()],
                ..Default::default()
            },
            &mut { refuse },
        )
        .err(),
        s.delete(&actor(), &t, User, &u.id, &mut |_| {
            Err(ScimError::precondition_failed("no"))
        })
        .err(),
        // Fails midway: the duplicate userName is found by the UPDATE.
        s.update(&actor(), &t, User, &u.id, false, &mut |_| {
            Ok(Some(user_attrs(json!({"userName": "TWO"}))))
        })
        .err(),
        // A member that does not exist: after the group's row was read.
        s.change_members(
            &actor(),
            &t,
            &g.id,
            &MemberDelta {
                add: vec![u.id.clone(), "ghost".into()],
                ..Default::default()
            },
            &mut |_| Ok(None),
        )
        .err(),
        s.create(&actor(), &t, User, user_attrs(json!({"userName": "One"})))
            .err(),
        s.create(
            &actor(),
            &t,
            Group,
            group_attrs(
                json!({"displayName": "H", "members": [{"value": u.id}, {"value": "ghost"}]}),
            ),
        )
        .err(),
        s.create_many(
            &actor(),
            &t,
            User,
            vec![
                user_attrs(json!({"userName": "fresh"})),
                user_attrs(json!({"userName": "one"})),
            ],
        )
        .err(),
    ];
    drop(s);
    for (i, r) in results.iter().enumerate() {
        assert!(r.is_some(), "write {i} must fail");
    }
    assert!(matches!(results[0], Some(StoreError::Rejected(_))));
    assert_eq!(db.last_event_position(&t).unwrap(), events);
    assert_eq!(feed(db, &t).len() as i64, events);
    assert_eq!(db.list_log(&t, &LogQuery::default()).unwrap().len(), logged);
    // The counter did not move either: the next event is the next position.
    create_user(db, &t, "three");
    assert_eq!(db.last_event_position(&t).unwrap(), events + 1);
    assert_eq!(feed(db, &t).last().unwrap().position, events + 1);
}

pub fn log_rows_carry_their_event_range(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "ada");
    patch_user(
        db,
        &request("r", UpdateMethod::Patch),
        &t,
        &u.id,
        &[("active", json!(false))],
    );
    let g = create_group(db, &t, "G", &[&u.id]);
    // A change of `schemas` alone: a new version and a log row, but no event.
    db.session(Access::Write)
        .unwrap()
        .update(&actor(), &t, User, &u.id, false, &mut |c| {
            let mut a = c.attributes.clone();
            a.insert(
                "schemas".into(),
                json!(["urn:ietf:params:scim:schemas:core:2.0:User"]),
            );
            Ok(Some(a))
        })
        .unwrap();
    db.delete(&actor(), &t, Group, &g.id, None).unwrap();
    let log = db.list_log(&t, &LogQuery::default()).unwrap();
    let got: Vec<(LogOperation, Option<(i64, i64)>)> =
        log.iter().rev().map(|e| (e.operation, e.events)).collect();
    assert_eq!(
        got,
        [
            (LogOperation::Create, Some((1, 1))),
            (LogOperation::Deactivate, Some((2, 3))),
            (LogOperation::Create, Some((4, 5))),
            (LogOperation::Update, None),
            (LogOperation::Delete, Some((6, 6))),
        ]
    );
}

/// A change with many events (more than one multi-row insert carries; PostgreSQL appends
/// them with its log row in one statement of arrays): every event, gap-free, the log row
/// naming them all.
pub fn large_changes_append_every_event(db: &TestDb) {
    let t = tenant(db);
    let ids = db
        .create_many(
            &actor(),
            &t,
            User,
            (0..300)
                .map(|i| user_attrs(json!({"userName": format!("m{i}")})))
                .collect(),
        )
        .unwrap();
    let members: Vec<serde_json::Value> = ids.iter().map(|i| json!({"value": i})).collect();
    let g = db
        .create(
            &actor(),
            &t,
            Group,
            group_attrs(json!({"displayName": "Big", "members": members})),
        )
        .unwrap();
    let mut removed = g.attributes.clone();
    removed.insert("members".into(), json!([]));
    db.replace(&actor(), &t, Group, &g.id, removed, None)
        .unwrap();
    let all = feed(db, &t);
    assert_eq!(all.len(), 300 + 1 + 300 + 300);
    assert_eq!(
        all.iter().map(|r| r.position).collect::<Vec<_>>(),
        (1..=all.len() as i64).collect::<Vec<_>>()
    );
    let count = |ty| {
        all.iter()
            .filter(|r| r.event.event.event_type == ty)
            .count()
    };
    assert_eq!(count(EventType::FeedAdd), 300);
    assert_eq!(count(EventType::FeedRemove), 300);
    let log = db.list_log(&t, &LogQuery::default()).unwrap();
    assert_eq!(log[0].events, Some((602, 901)));
    assert_eq!(log[1].events, Some((301, 601)));
}

/// A tenant whose event counter row is missing (tenant creation and the migration create
/// it): PostgreSQL's one-statement append writes nothing then, and the general path must
/// still append the events and log their range, never lose them.
pub fn missing_counter_row_loses_no_event(db: &TestDb) {
    let t = tenant(db);
    raw_sql(
        db,
        &format!("DELETE FROM event_sequences WHERE tenant_id = '{t}'"),
    );
    let u = create_user(db, &t, "ada");
    patch_user(
        db,
        &request("r", UpdateMethod::Patch),
        &t,
        &u.id,
        &[("title", json!("Engineer"))],
    );
    let all = feed(db, &t);
    assert_eq!(
        all.iter()
            .map(|r| (r.position, r.event.event.event_type))
            .collect::<Vec<_>>(),
        [(1, EventType::Create), (2, EventType::Patch)]
    );
    assert_eq!(db.last_event_position(&t).unwrap(), 2);
    let log = db.list_log(&t, &LogQuery::default()).unwrap();
    let got: Vec<Option<(i64, i64)>> = log.iter().rev().map(|e| e.events).collect();
    assert_eq!(got, [Some((1, 1)), Some((2, 2))]);
}
