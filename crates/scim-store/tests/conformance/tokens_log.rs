//! Token records and the provisioning log.

use crate::support::*;
use chrono::{TimeDelta, TimeZone, Utc};
use scim_core::ResourceKind::{Group, User};
use scim_store::{LogOperation, LogQuery, LogRepo, ResourceRepo, StoreError, TenantRepo};
use serde_json::json;

pub fn token_rotation(db: &TestDb) {
    let t = tenant(db);
    assert!(db.get_tenant(&t).unwrap().token.is_none());
    let t0 =
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + TimeDelta::microseconds(1_234_567);
    let rec = db.set_current_token(&t, "jti-1", t0).unwrap();
    assert_eq!(
        rec.generated,
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 1).unwrap() + TimeDelta::milliseconds(234)
    );
    assert_eq!(db.get_tenant(&t).unwrap().token, Some(rec.clone()));
    db.record_token_use(&t, "jti-1", t0 + TimeDelta::seconds(5))
        .unwrap();
    let used = db.get_tenant(&t).unwrap().token.unwrap().last_used.unwrap();
    // A use within 60 s is not written again; a later one is.
    db.record_token_use(&t, "jti-1", t0 + TimeDelta::seconds(30))
        .unwrap();
    assert_eq!(
        db.get_tenant(&t).unwrap().token.unwrap().last_used,
        Some(used)
    );
    db.record_token_use(&t, "jti-1", t0 + TimeDelta::seconds(120))
        .unwrap();
    assert!(db.get_tenant(&t).unwrap().token.unwrap().last_used.unwrap() > used);
    // Rotation: the new token is current, last_used cleared; the old one records nothing.
    let rec2 = db
        .set_current_token(&t, "jti-2", t0 + TimeDelta::hours(1))
        .unwrap();
    let now = db.get_tenant(&t).unwrap().token.unwrap();
    assert_eq!((now.id.as_str(), now.last_used), ("jti-2", None));
    assert_eq!(now, rec2);
    db.record_token_use(&t, "jti-1", t0 + TimeDelta::hours(2))
        .unwrap();
    assert_eq!(db.get_tenant(&t).unwrap().token.unwrap().last_used, None);
    // Unknown tenants.
    assert!(matches!(
        db.set_current_token("nope", "x", t0),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(db.get_tenant("nope"), Err(StoreError::NotFound)));
    let listed = db.list_tenants().unwrap();
    assert!(listed.iter().any(|x| x.id == t));
}

pub fn log_rows_follow_changes(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "logged@example.com");
    let mut a = u.attributes.clone();
    a.insert("active".into(), json!(false));
    db.replace(&actor(), &t, User, &u.id, a.clone(), None)
        .unwrap();
    a.insert("active".into(), json!(true));
    a.insert("title".into(), json!("Boss"));
    db.replace(&actor(), &t, User, &u.id, a.clone(), None)
        .unwrap();
    a.insert("title".into(), json!("CEO"));
    db.replace(&actor(), &t, User, &u.id, a.clone(), None)
        .unwrap();
    // No change: no row.
    db.replace(&actor(), &t, User, &u.id, a.clone(), None)
        .unwrap();
    let g = create_group(db, &t, "Team", &[]);
    let mut ga = g.attributes.clone();
    ga.insert("members".into(), json!([{"value": u.id}]));
    db.replace(&actor(), &t, Group, &g.id, ga.clone(), None)
        .unwrap();
    ga.insert("displayName".into(), json!("Team 2"));
    db.replace(&actor(), &t, Group, &g.id, ga, None).unwrap();
    db.delete(&actor(), &t, User, &u.id, None).unwrap();
    let log = db.list_log(&t, &LogQuery::default()).unwrap();
    let ops: Vec<_> = log
        .iter()
        .rev()
        .map(|e| (e.operation, e.resource_kind))
        .collect();
    use LogOperation::*;
    assert_eq!(
        ops,
        vec![
            (Create, User),
            (Deactivate, User),
            (Reactivate, User),
            (Update, User),
            (Create, Group),
            (GroupMembership, Group),
            (Update, Group),
            (Delete, User),
        ]
    );
    assert!(log.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert!(
        log.iter()
            .all(|e| e.tenant_id == t && e.token_id.as_deref() == Some("tok-1"))
    );
    let summaries: Vec<&str> = log.iter().rev().map(|e| e.summary.as_str()).collect();
    assert_eq!(summaries[0], "userName=logged@example.com");
    assert!(
        summaries[1].contains("active: true -> false"),
        "{}",
        summaries[1]
    );
    assert!(
        summaries[3].contains("title") && !summaries[3].contains("CEO"),
        "{}",
        summaries[3]
    );
    assert!(summaries[5].contains("members +1 -0"), "{}", summaries[5]);
    // Query filters and keyset paging.
    let only = db
        .list_log(
            &t,
            &LogQuery {
                operation: Some(Deactivate),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(only.len(), 1);
    let groups = db
        .list_log(
            &t,
            &LogQuery {
                resource_kind: Some(Group),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(groups.len(), 3);
    let by_id = db
        .list_log(
            &t,
            &LogQuery {
                resource_id: Some(g.id.clone()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(by_id.len(), 3);
    let first = db
        .list_log(
            &t,
            &LogQuery {
                limit: 3,
                ..Default::default()
            },
        )
        .unwrap();
    let next = db
        .list_log(
            &t,
            &LogQuery {
                limit: 3,
                before_id: Some(first[2].id),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(first.len() + next.len(), 6);
    assert!(next.iter().all(|e| e.id < first[2].id));
}

pub fn log_not_written_when_change_fails(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "one");
    create_user(db, &t, "two");
    let before = db.list_log(&t, &LogQuery::default()).unwrap().len();
    assert!(
        db.create(&actor(), &t, User, user_attrs(json!({"userName": "ONE"})))
            .is_err()
    );
    assert!(
        db.replace(
            &actor(),
            &t,
            User,
            &u.id,
            user_attrs(json!({"userName": "Two"})),
            None
        )
        .is_err()
    );
    assert!(
        db.replace(
            &actor(),
            &t,
            User,
            &u.id,
            user_attrs(json!({"userName": "x"})),
            Some(9)
        )
        .is_err()
    );
    assert!(db.delete(&actor(), &t, User, "missing", None).is_err());
    assert!(
        db.create(
            &actor(),
            &t,
            Group,
            group_attrs(json!({"displayName": "G", "members": [{"value": "ghost"}]}))
        )
        .is_err()
    );
    assert_eq!(db.list_log(&t, &LogQuery::default()).unwrap().len(), before);
    assert_eq!(db.get(&t, User, &u.id).unwrap().user_name(), Some("one"));
}
