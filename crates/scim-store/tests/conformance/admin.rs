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
    // The API token: only its hash is stored, looked up by it; a new one replaces it.
    assert!(db.find_admin_by_api_token("h-a").unwrap().is_none());
    db.set_admin_api_token(&op.id, "h-a").unwrap();
    assert_eq!(
        db.find_admin_by_api_token("h-a").unwrap().unwrap().id,
        op.id
    );
    db.set_admin_api_token(&op.id, "h-b").unwrap();
    assert!(db.find_admin_by_api_token("h-a").unwrap().is_none());
    assert_eq!(
        db.find_admin_by_api_token("h-b").unwrap().unwrap().id,
        op.id
    );
    assert!(db.find_admin_by_api_token("").unwrap().is_none());
    assert!(matches!(
        db.set_admin_api_token("nope", "h-c"),
        Err(StoreError::NotFound)
    ));
    // Two accounts can never share a token hash.
    assert!(db.set_admin_api_token(&org.id, "h-b").is_err());
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
    let keep = old - TimeDelta::hours(1);
    let first = db
        .record_sign_in_attempt("A@x.test", old, old, keep)
        .unwrap();
    assert_eq!(first.count, 1);
    // Each attempt counts itself and the earlier ones of its address in the window.
    for i in 1..=3 {
        let a = db
            .record_sign_in_attempt("a@X.test", now, window, keep)
            .unwrap();
        assert_eq!(a.count, i);
        assert_ne!(a.id, first.id);
    }
    let b = db
        .record_sign_in_attempt("b@x.test", now, window, keep)
        .unwrap();
    assert_eq!(b.count, 1);
    assert_eq!(db.count_sign_in_failures("a@x.test", window).unwrap(), 3);
    assert_eq!(db.count_sign_in_failures("a@x.test", old).unwrap(), 4);
    // A forgotten attempt no longer counts.
    db.forget_sign_in_attempt(b.id).unwrap();
    db.forget_sign_in_attempt(b.id).unwrap();
    assert_eq!(db.count_sign_in_failures("b@x.test", window).unwrap(), 0);
    // Old rows are forgotten on the next write.
    db.record_sign_in_attempt("c@x.test", now, window, window)
        .unwrap();
    assert_eq!(db.count_sign_in_failures("a@x.test", old).unwrap(), 3);
    db.clear_sign_in_failures("A@x.TEST").unwrap();
    assert_eq!(db.count_sign_in_failures("a@x.test", old).unwrap(), 0);
    assert_eq!(db.count_sign_in_failures("c@x.test", window).unwrap(), 1);
}

/// The limit the console applies (`scim_admin::session::MAX_FAILURES`).
const MAX_FAILURES: u64 = 5;

/// Parallel attempts for one address, as the console makes them (record, count, and
/// forget the attempt when refused): at most `MAX_FAILURES` see a count within the limit.
/// Counting before recording (what the console once did) lets all of them through.
pub fn parallel_sign_in_attempts_never_exceed_the_limit(db: &TestDb) {
    for round in 0..3 {
        let email = format!("target{round}@x.test");
        let barrier = std::sync::Barrier::new(20);
        let admitted = std::thread::scope(|s| {
            let handles: Vec<_> = (0..20)
                .map(|_| {
                    let (store, email, barrier) = (&db.store, &email, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        let now = Utc::now();
                        let window = now - TimeDelta::minutes(15);
                        let a = store
                            .record_sign_in_attempt(email, now, window, window)
                            .unwrap();
                        if a.count <= MAX_FAILURES {
                            true
                        } else {
                            store.forget_sign_in_attempt(a.id).unwrap();
                            false
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|ok| *ok)
                .count() as u64
        });
        assert!(
            (1..=MAX_FAILURES).contains(&admitted),
            "round {round}: {admitted} parallel attempts passed a limit of {MAX_FAILURES}"
        );
        let since = Utc::now() - TimeDelta::minutes(15);
        assert_eq!(db.count_sign_in_failures(&email, since).unwrap(), admitted);
    }
}

/// Sessions: found by their hash until they expire, gone with sign-out (every session of
/// the account, none of another's) and with the account; expired ones are pruned when a
/// new one is made.
pub fn admin_sessions_by_hash_expire_and_end(db: &TestDb) {
    let t = tenant(db);
    let op = db.create_admin("op@x.test", "h", None).unwrap();
    let other = db.create_admin("org@x.test", "h", Some(&t)).unwrap();
    let now = Utc::now();
    let later = now + TimeDelta::hours(8);
    assert_eq!(
        db.create_admin_session("s1", &op.id, now, later).unwrap(),
        0
    );
    db.create_admin_session("s2", &op.id, now, later).unwrap();
    db.create_admin_session("s3", &other.id, now, later)
        .unwrap();
    assert_eq!(db.find_admin_session("s1", now).unwrap().unwrap(), op);
    assert_eq!(
        db.find_admin_session("s3", now).unwrap().unwrap().id,
        other.id
    );
    assert!(db.find_admin_session("nope", now).unwrap().is_none());
    assert!(db.find_admin_session("", now).unwrap().is_none());
    // Expiry is absolute: at `expires_at` the session is gone.
    assert!(db.find_admin_session("s1", later).unwrap().is_none());
    assert!(
        db.find_admin_session("s1", later - TimeDelta::seconds(1))
            .unwrap()
            .is_some()
    );
    // The same hash twice is refused (never two sessions for one cookie).
    assert!(
        db.create_admin_session("s1", &other.id, now, later)
            .is_err()
    );
    // An unknown account.
    assert!(matches!(
        db.create_admin_session("s4", "no-such-admin", now, later),
        Err(StoreError::NotFound)
    ));
    // Sign-out ends every session of the account, none of the other's.
    assert_eq!(db.end_admin_sessions(&op.id).unwrap(), 2);
    assert!(db.find_admin_session("s1", now).unwrap().is_none());
    assert!(db.find_admin_session("s2", now).unwrap().is_none());
    assert!(db.find_admin_session("s3", now).unwrap().is_some());
    assert_eq!(db.end_admin_sessions("no-such-admin").unwrap(), 0);
    // A session made later prunes the expired ones.
    let past = now - TimeDelta::hours(9);
    db.create_admin_session("old", &op.id, past, past + TimeDelta::hours(8))
        .unwrap();
    assert_eq!(
        db.create_admin_session("new", &op.id, now, later).unwrap(),
        1
    );
    assert!(db.find_admin_session("new", now).unwrap().is_some());
    // The account's removal removes its sessions (no API removes accounts yet: SQL).
    raw_sql(
        db,
        &format!("DELETE FROM admin_accounts WHERE id = '{}'", other.id),
    );
    assert!(db.find_admin_session("s3", now).unwrap().is_none());
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
