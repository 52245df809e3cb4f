//! Admin console accounts, sign-in failures and writable settings.

use crate::support::*;
use chrono::{TimeDelta, Utc};
use scim_store::{AdminRepo, SettingsRepo, StoreError};

pub fn admin_accounts_unique_email_and_tenant(db: &TestDb) {
    let t = tenant(db);
    assert_eq!(db.count_admins().unwrap(), 0);
    let op = db
        .create_admin("Op@Example.com", "$argon2id$x", None)
        .unwrap();
    assert_eq!(op.tenant_id, None);
    assert_eq!(db.count_admins().unwrap(), 1);
    // Case-insensitive uniqueness.
    assert!(matches!(
        db.create_admin("op@example.COM", "$argon2id$y", None),
        Err(StoreError::Conflict { attribute }) if attribute == "email"
    ));
    let org = db
        .create_admin("admin@acme.test", "$argon2id$z", Some(&t))
        .unwrap();
    assert_eq!(org.tenant_id.as_deref(), Some(t.as_str()));
    // Unknown organization.
    assert!(matches!(
        db.create_admin("x@y.test", "h", Some("no-such-tenant")),
        Err(StoreError::NotFound)
    ));
    let found = db.find_admin_by_email("OP@example.com").unwrap().unwrap();
    assert_eq!(found.id, op.id);
    assert_eq!(found.email, "Op@Example.com");
    assert_eq!(found.password_hash, "$argon2id$x");
    assert!(db.find_admin_by_email("nobody@x.test").unwrap().is_none());
    assert_eq!(db.get_admin(&org.id).unwrap(), org);
    assert!(matches!(db.get_admin("nope"), Err(StoreError::NotFound)));
    // Sign-in time and API token id.
    let now = Utc::now();
    db.record_admin_sign_in(&op.id, now).unwrap();
    let got = db.get_admin(&op.id).unwrap();
    assert!(got.last_sign_in.is_some());
    db.set_admin_api_token(&op.id, "jti-a").unwrap();
    assert_eq!(
        db.get_admin(&op.id).unwrap().api_token_id.as_deref(),
        Some("jti-a")
    );
    assert!(matches!(
        db.set_admin_api_token("nope", "j"),
        Err(StoreError::NotFound)
    ));
    // Sign-out time.
    assert_eq!(db.get_admin(&op.id).unwrap().sessions_valid_after, None);
    db.end_admin_sessions(&op.id, now).unwrap();
    let after = db.get_admin(&op.id).unwrap().sessions_valid_after.unwrap();
    assert!((after - now).num_milliseconds().abs() <= 1);
    assert!(matches!(
        db.end_admin_sessions("nope", now),
        Err(StoreError::NotFound)
    ));
    // The password hash never shows in Debug output.
    assert!(!format!("{got:?}").contains("argon2id"));
}

pub fn first_operator_only_once(db: &TestDb) {
    // Concurrent set-ups: exactly one wins.
    let winners = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let store = &db.store;
                s.spawn(move || {
                    store
                        .create_first_operator(&format!("c{i}@x.test"), "h")
                        .unwrap()
                        .is_some()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|w| *w)
            .count()
    });
    assert_eq!(winners, 1);
    assert!(
        db.create_first_operator("late@x.test", "h2")
            .unwrap()
            .is_none()
    );
    assert_eq!(db.count_admins().unwrap(), 1);
    let op = db.find_admin_by_email("c0@x.test").unwrap();
    let any = (0..4).any(|i| {
        db.find_admin_by_email(&format!("c{i}@x.test"))
            .unwrap()
            .is_some()
    });
    assert!(any);
    assert!(op.is_none_or(|a| a.tenant_id.is_none()));
}

pub fn sign_in_failures_window(db: &TestDb) {
    let now = Utc::now();
    let old = now - TimeDelta::minutes(30);
    let window = now - TimeDelta::minutes(15);
    db.record_sign_in_failure("A@x.test", old, old - TimeDelta::hours(1))
        .unwrap();
    for _ in 0..3 {
        db.record_sign_in_failure("a@X.test", now, old - TimeDelta::hours(1))
            .unwrap();
    }
    db.record_sign_in_failure("b@x.test", now, old - TimeDelta::hours(1))
        .unwrap();
    assert_eq!(db.count_sign_in_failures("a@x.test", window).unwrap(), 3);
    assert_eq!(db.count_sign_in_failures("a@x.test", old).unwrap(), 4);
    // Old rows are forgotten on the next write.
    db.record_sign_in_failure("c@x.test", now, window).unwrap();
    assert_eq!(db.count_sign_in_failures("a@x.test", old).unwrap(), 3);
    db.clear_sign_in_failures("A@x.TEST").unwrap();
    assert_eq!(db.count_sign_in_failures("a@x.test", old).unwrap(), 0);
    assert_eq!(db.count_sign_in_failures("b@x.test", window).unwrap(), 1);
}

pub fn settings_put_and_delete(db: &TestDb) {
    assert_eq!(db.get_setting("k").unwrap(), None);
    db.put_setting("k", "v1").unwrap();
    db.put_setting("k", "v2").unwrap();
    assert_eq!(db.get_setting("k").unwrap().as_deref(), Some("v2"));
    assert_eq!(db.get_or_init_setting("k", "v3").unwrap(), "v2");
    db.delete_setting("k").unwrap();
    db.delete_setting("k").unwrap();
    assert_eq!(db.get_setting("k").unwrap(), None);
}
