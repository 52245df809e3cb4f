//! Token records (hashes, compare-and-set rotation, the JWT-era upgrade), pausing, and the
//! provisioning log.

use crate::support::*;
use chrono::{TimeDelta, TimeZone, Utc};
use scim_core::ResourceKind::{Group, User};
use scim_store::{
    LogOperation, LogQuery, LogRepo, NewToken, ResourceRepo, SettingsRepo, StoreError, TenantRepo,
};
use serde_json::json;

fn new_token(id: &str) -> NewToken {
    NewToken {
        id: id.to_string(),
        hash: format!("{:0>64}", id),
    }
}

pub fn token_rotation(db: &TestDb) {
    let t = tenant(db);
    assert!(db.get_tenant(&t).unwrap().token.is_none());
    let t0 =
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + TimeDelta::microseconds(1_234_567);
    let rec = db
        .set_current_token(&t, &new_token("jti-1"), t0, None)
        .unwrap();
    assert_eq!(
        rec.generated,
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 1).unwrap() + TimeDelta::milliseconds(234)
    );
    assert_eq!(rec.hash.as_deref(), Some(new_token("jti-1").hash.as_str()));
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
        .set_current_token(
            &t,
            &new_token("jti-2"),
            t0 + TimeDelta::hours(1),
            Some("jti-1"),
        )
        .unwrap();
    let now = db.get_tenant(&t).unwrap().token.unwrap();
    assert_eq!((now.id.as_str(), now.last_used), ("jti-2", None));
    assert_eq!(now.hash.as_deref(), Some(new_token("jti-2").hash.as_str()));
    assert_eq!(now, rec2);
    db.record_token_use(&t, "jti-1", t0 + TimeDelta::hours(2))
        .unwrap();
    assert_eq!(db.get_tenant(&t).unwrap().token.unwrap().last_used, None);
    // A rotation from a state that is no longer current writes nothing.
    for stale in [None, Some("jti-1"), Some("")] {
        assert!(matches!(
            db.set_current_token(&t, &new_token("jti-3"), t0, stale),
            Err(StoreError::TokenChanged)
        ));
    }
    assert_eq!(db.get_tenant(&t).unwrap().token.unwrap(), rec2);
    // Unknown tenants.
    for expected in [None, Some("x")] {
        assert!(matches!(
            db.set_current_token("nope", &new_token("x"), t0, expected),
            Err(StoreError::NotFound)
        ));
    }
    assert!(matches!(
        db.set_current_token("nul\0", &new_token("x"), t0, None),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(db.get_tenant("nope"), Err(StoreError::NotFound)));
    let listed = db.list_tenants().unwrap();
    assert!(listed.iter().any(|x| x.id == t));
}

/// N threads rotate from the same state at once: exactly one wins, and the stored hash is
/// the winner's.
pub fn concurrent_rotations_have_one_winner(db: &TestDb) {
    let t = tenant(db);
    db.set_current_token(&t, &new_token("start"), Utc::now(), None)
        .unwrap();
    let barrier = std::sync::Barrier::new(8);
    let results: Vec<(usize, Result<_, StoreError>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (t, barrier) = (&t, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let r = db.set_current_token(
                        t,
                        &new_token(&format!("racer-{i}")),
                        Utc::now(),
                        Some("start"),
                    );
                    (i, r)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<usize> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (_, r) in &results {
        if let Err(e) = r {
            assert!(matches!(e, StoreError::TokenChanged), "{e:?}");
        }
    }
    let stored = db.get_tenant(&t).unwrap().token.unwrap();
    let winner = new_token(&format!("racer-{}", winners[0]));
    assert_eq!(stored.id, winner.id);
    assert_eq!(stored.hash, Some(winner.hash));
}

/// The profile defaults to lenient, is stored per tenant and read back with it.
pub fn profile_per_tenant(db: &TestDb) {
    use scim_core::Profile;
    let a = tenant(db);
    let b = tenant(db);
    assert_eq!(db.get_tenant(&a).unwrap().profile, Profile::Lenient);
    assert_eq!(
        db.set_profile(&a, Profile::Strict).unwrap().profile,
        Profile::Strict
    );
    assert_eq!(db.get_tenant(&a).unwrap().profile, Profile::Strict);
    assert_eq!(
        db.get_tenant(&b).unwrap().profile,
        Profile::Lenient,
        "isolated"
    );
    let listed = db.list_tenants().unwrap();
    assert!(
        listed
            .iter()
            .any(|t| t.id == a && t.profile == Profile::Strict)
    );
    assert_eq!(
        db.set_profile(&a, Profile::Lenient).unwrap().profile,
        Profile::Lenient
    );
    assert!(matches!(
        db.set_profile("nope", Profile::Strict),
        Err(StoreError::NotFound)
    ));
}

/// Pause and resume are stored per tenant and read back with it.
pub fn pause_and_resume(db: &TestDb) {
    let a = tenant(db);
    let b = tenant(db);
    assert_eq!(db.get_tenant(&a).unwrap().paused_at, None);
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let paused = db.set_paused(&a, true, t0).unwrap();
    assert_eq!(paused.paused_at, Some(t0));
    assert_eq!(db.get_tenant(&a).unwrap().paused_at, Some(t0));
    assert_eq!(db.get_tenant(&b).unwrap().paused_at, None, "isolated");
    // Pausing again keeps the first time; resuming clears it (twice is harmless).
    db.set_paused(&a, true, t0 + TimeDelta::hours(1)).unwrap();
    assert_eq!(db.get_tenant(&a).unwrap().paused_at, Some(t0));
    assert_eq!(db.set_paused(&a, false, t0).unwrap().paused_at, None);
    assert_eq!(db.set_paused(&a, false, t0).unwrap().paused_at, None);
    let listed = db.list_tenants().unwrap();
    assert!(listed.iter().all(|t| t.paused_at.is_none()));
    assert!(matches!(
        db.set_paused("nope", true, t0),
        Err(StoreError::NotFound)
    ));
}

/// The JWT-era upgrade: rehashes only unhashed rows, in one transaction with the deletion
/// of the key setting; an error rolls it all back; a second run does nothing.
pub fn legacy_token_upgrade(db: &TestDb) {
    let a = tenant(db);
    let b = tenant(db);
    let fresh = tenant(db);
    db.set_current_token(&fresh, &new_token("opaque"), Utc::now(), None)
        .unwrap();
    for (t, jti) in [(&a, "jti-a"), (&b, "jti-b")] {
        raw_sql(
            db,
            &format!(
                "UPDATE tenants SET current_token_id = '{jti}', token_hash = NULL, \
                 token_generated_at = '2026-01-02 03:04:05.678' WHERE id = '{t}'"
            ),
        );
    }
    db.get_or_init_setting("legacy_key", "the-old-key").unwrap();
    // A failing rehash changes nothing, the setting included.
    let err = db.upgrade_legacy_tokens("legacy_key", &mut |_, _| {
        Err(StoreError::Config("no".into()))
    });
    assert!(err.is_err());
    assert_eq!(
        db.get_setting("legacy_key").unwrap().as_deref(),
        Some("the-old-key")
    );
    assert_eq!(db.get_tenant(&a).unwrap().token.unwrap().hash, None);
    let mut seen = Vec::new();
    let n = db
        .upgrade_legacy_tokens("legacy_key", &mut |old, key| {
            seen.push((
                old.tenant_id.clone(),
                old.token_id.clone(),
                old.generated,
                key.map(str::to_string),
            ));
            Ok(Some(new_token(&format!("new-{}", old.token_id))))
        })
        .unwrap();
    assert_eq!(n, 2);
    let generated =
        Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap() + TimeDelta::milliseconds(678);
    seen.sort();
    let mut want = vec![
        (
            a.clone(),
            "jti-a".to_string(),
            generated,
            Some("the-old-key".to_string()),
        ),
        (
            b.clone(),
            "jti-b".to_string(),
            generated,
            Some("the-old-key".to_string()),
        ),
    ];
    want.sort();
    assert_eq!(seen, want);
    let rec = db.get_tenant(&a).unwrap().token.unwrap();
    assert_eq!(rec.id, "new-jti-a");
    assert_eq!(rec.hash, Some(new_token("new-jti-a").hash));
    assert_eq!(rec.generated, generated, "the generation time is kept");
    assert_eq!(db.get_tenant(&fresh).unwrap().token.unwrap().id, "opaque");
    assert_eq!(db.get_setting("legacy_key").unwrap(), None);
    // Nothing left to do.
    let n = db
        .upgrade_legacy_tokens("legacy_key", &mut |_, _| panic!("nothing to rehash"))
        .unwrap();
    assert_eq!(n, 0);
}

/// Two replicas upgrading at once: each row is rehashed once, both succeed.
pub fn concurrent_legacy_upgrades(db: &TestDb) {
    let tenants: Vec<String> = (0..5).map(|_| tenant(db)).collect();
    for (i, t) in tenants.iter().enumerate() {
        raw_sql(
            db,
            &format!(
                "UPDATE tenants SET current_token_id = 'jti-{i}', token_hash = NULL, \
                 token_generated_at = '2026-01-02 03:04:05' WHERE id = '{t}'"
            ),
        );
    }
    db.get_or_init_setting("legacy_key", "k").unwrap();
    let barrier = std::sync::Barrier::new(2);
    let counts: Vec<usize> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    db.upgrade_legacy_tokens("legacy_key", &mut |old, _| {
                        Ok(Some(new_token(&format!("h-{}", old.token_id))))
                    })
                    .unwrap()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(counts.iter().sum::<usize>(), 5, "{counts:?}");
    for (i, t) in tenants.iter().enumerate() {
        let rec = db.get_tenant(t).unwrap().token.unwrap();
        assert_eq!(rec.id, format!("h-jti-{i}"));
        assert_eq!(rec.hash, Some(new_token(&format!("h-jti-{i}")).hash));
    }
    assert_eq!(db.get_setting("legacy_key").unwrap(), None);
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
