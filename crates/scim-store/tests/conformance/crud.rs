//! Create / read / replace / delete, uniqueness, versions, settings, migrations, errors.

use crate::support::*;
use chrono::{SubsecRound, Utc};
use scim_core::ResourceKind::{Group, User};
use scim_store::{
    DieselStore, LogQuery, LogRepo, ResourceRepo, SettingsRepo, StoreConfig, StoreError,
};
use serde_json::json;

pub fn create_get_roundtrip(db: &TestDb) {
    let t = tenant(db);
    let attrs = user_attrs(json!({
        "userName": "Ada@Example.com", "externalId": "00u1",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
        "password": "never stored", "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}
    }));
    let created = db.create(&actor(), &t, User, attrs.clone()).unwrap();
    assert_eq!(created.meta.version, 1);
    assert_eq!(created.attributes, attrs);
    assert!(uuid::Uuid::parse_str(&created.id).is_ok());
    let got = db.get(&t, User, &created.id).unwrap();
    assert_eq!(got, created);
    assert!(got.attributes.get("password").is_none());
    assert_eq!(got.user_name(), Some("Ada@Example.com"));
}

pub fn timestamps_are_utc_millis(db: &TestDb) {
    let t = tenant(db);
    let before = Utc::now().trunc_subsecs(3);
    let u = create_user(db, &t, "ts");
    let after = Utc::now();
    assert!(u.meta.created >= before && u.meta.created <= after);
    assert_eq!(u.meta.created, u.meta.created.trunc_subsecs(3));
    assert_eq!(u.meta.created, u.meta.last_modified);
    let got = db.get(&t, User, &u.id).unwrap();
    assert_eq!(got.meta, u.meta);
}

pub fn replace_bumps_version_only_on_change(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "v");
    let same = db
        .replace(&actor(), &t, User, &u.id, u.attributes.clone(), Some(1))
        .unwrap();
    assert_eq!(same.meta.version, 1, "no change, no bump");
    assert_eq!(same.meta.last_modified, u.meta.last_modified);
    let mut attrs = u.attributes.clone();
    attrs.insert("title".into(), json!("Engineer"));
    let changed = db
        .replace(&actor(), &t, User, &u.id, attrs.clone(), Some(1))
        .unwrap();
    assert_eq!(changed.meta.version, 2);
    assert!(changed.meta.last_modified >= u.meta.last_modified);
    assert_eq!(changed.meta.created, u.meta.created);
    assert_eq!(
        db.get(&t, User, &u.id).unwrap().attributes["title"],
        "Engineer"
    );
    let log = db.list_log(&t, &LogQuery::default()).unwrap();
    assert_eq!(log.len(), 2, "create + one update, nothing for the no-op");
}

pub fn version_conflicts(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "vc");
    let mut attrs = u.attributes.clone();
    attrs.insert("title".into(), json!("a"));
    db.replace(&actor(), &t, User, &u.id, attrs.clone(), Some(1))
        .unwrap();
    attrs.insert("title".into(), json!("b"));
    assert!(matches!(
        db.replace(&actor(), &t, User, &u.id, attrs.clone(), Some(1)),
        Err(StoreError::VersionMismatch)
    ));
    assert!(matches!(
        db.delete(&actor(), &t, User, &u.id, Some(1)),
        Err(StoreError::VersionMismatch)
    ));
    assert_eq!(db.get(&t, User, &u.id).unwrap().attributes["title"], "a");
    assert!(matches!(
        db.replace(&actor(), &t, User, "no-such-id", attrs.clone(), Some(1)),
        Err(StoreError::NotFound)
    ));
    db.delete(&actor(), &t, User, &u.id, Some(2)).unwrap();
}

pub fn delete_removes_and_is_not_found_after(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "gone");
    db.delete(&actor(), &t, User, &u.id, None).unwrap();
    assert!(matches!(db.get(&t, User, &u.id), Err(StoreError::NotFound)));
    assert!(matches!(
        db.delete(&actor(), &t, User, &u.id, None),
        Err(StoreError::NotFound)
    ));
    // The userName is free again.
    create_user(db, &t, "GONE");
}

pub fn username_unique_case_insensitive(db: &TestDb) {
    let t = tenant(db);
    let a = create_user(db, &t, "Bob@Example.com");
    let err = db
        .create(
            &actor(),
            &t,
            User,
            user_attrs(json!({"userName": "bob@example.COM"})),
        )
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { attribute } if attribute == "userName"),
        "{err:?}"
    );
    // Renaming another user onto it conflicts too.
    let b = create_user(db, &t, "other");
    let err = db
        .replace(
            &actor(),
            &t,
            User,
            &b.id,
            user_attrs(json!({"userName": "BOB@example.com"})),
            None,
        )
        .unwrap_err();
    assert!(matches!(&err, StoreError::Conflict { attribute } if attribute == "userName"));
    // Changing only the letter case of one's own userName is fine.
    let a2 = db
        .replace(
            &actor(),
            &t,
            User,
            &a.id,
            user_attrs(json!({"userName": "BOB@example.com"})),
            None,
        )
        .unwrap();
    assert_eq!(a2.user_name(), Some("BOB@example.com"));
    // Non-ASCII letters fold too.
    create_user(db, &t, "ÄRGER");
    assert!(matches!(
        db.create(&actor(), &t, User, user_attrs(json!({"userName": "ärger"}))),
        Err(StoreError::Conflict { .. })
    ));
}

pub fn group_display_name_unique_case_insensitive(db: &TestDb) {
    let t = tenant(db);
    create_group(db, &t, "Engineering", &[]);
    let err = db
        .create(
            &actor(),
            &t,
            Group,
            group_attrs(json!({"displayName": "ENGINEERING"})),
        )
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { attribute } if attribute == "displayName"),
        "{err:?}"
    );
}

pub fn concurrent_duplicate_creates(db: &TestDb) {
    let t = tenant(db);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let t = &t;
                s.spawn(move || {
                    let name = if i % 2 == 0 {
                        "Race@Example.com"
                    } else {
                        "race@EXAMPLE.com"
                    };
                    db.create(&actor(), t, User, user_attrs(json!({ "userName": name })))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict { attribute }) if attribute == "userName"))
        .count();
    assert_eq!((ok, conflicts), (1, 15), "{results:?}");
    let page = db.list(&t, User, &Default::default()).unwrap();
    assert_eq!(page.total_results, 1);
    let log = db.list_log(&t, &LogQuery::default()).unwrap();
    assert_eq!(log.len(), 1, "failed creates write no log row");
}

pub fn settings_get_or_init_is_race_safe(db: &TestDb) {
    assert_eq!(db.get_setting("signing-key").unwrap(), None);
    let won: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|i| {
                s.spawn(move || {
                    db.get_or_init_setting("signing-key", &format!("k{i}"))
                        .unwrap()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(won.iter().all(|v| v == &won[0]), "{won:?}");
    assert_eq!(
        db.get_setting("signing-key").unwrap().as_deref(),
        Some(won[0].as_str())
    );
    assert_eq!(
        db.get_or_init_setting("signing-key", "other").unwrap(),
        won[0]
    );
}

pub fn migrations_are_idempotent_and_newer_schema_is_refused(db: &TestDb) {
    // Already migrated by open: nothing pending.
    assert_eq!(
        scim_store::migrate(&db.config).unwrap(),
        Vec::<String>::new()
    );
    let strict = StoreConfig {
        migrate_on_open: false,
        ..db.config.clone()
    };
    DieselStore::open(&strict).unwrap();
    db.with_connection(|c| {
        c.execute_sql("INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231000000')")
    })
    .unwrap();
    for cfg in [&db.config, &strict] {
        let err = DieselStore::open(cfg).unwrap_err();
        match err {
            StoreError::Migration(msg) => {
                assert!(
                    msg.contains("29991231000000") && msg.contains("newer than this binary"),
                    "{msg}"
                )
            }
            other => panic!("expected Migration, got {other:?}"),
        }
    }
    assert!(matches!(
        scim_store::migrate(&db.config),
        Err(StoreError::Migration(_))
    ));
}

pub fn errors_never_show_backend_text(db: &TestDb) {
    let t = tenant(db);
    create_user(db, &t, "dup");
    let err = db
        .create(&actor(), &t, User, user_attrs(json!({"userName": "DUP"})))
        .unwrap_err();
    let shown = err.to_string();
    assert_eq!(shown, "userName is already in use");
    // A tenant that does not exist.
    let err = db
        .create(
            &actor(),
            "no-such-tenant",
            User,
            user_attrs(json!({"userName": "x"})),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    for e in [
        StoreError::Backend("UNIQUE constraint failed: users.x".into()),
        StoreError::Unavailable("timed out waiting for connection".into()),
    ] {
        let s = e.to_string();
        assert!(!s.contains("constraint") && !s.contains("timed out"), "{s}");
    }
    // Bad URLs are configuration errors with a clear message.
    for url in ["mysql://x", "/tmp/x.db", "sqlite://", ""] {
        match DieselStore::open(&StoreConfig::new(url)) {
            Err(StoreError::Config(msg)) => assert!(!msg.is_empty()),
            other => panic!("{url}: expected Config, got {other:?}"),
        }
    }
    // An unreachable PostgreSQL keeps its real cause in the source chain.
    let cfg = StoreConfig {
        connection_timeout: std::time::Duration::from_secs(1),
        ..StoreConfig::new("postgres://nobody@127.0.0.1:1/none")
    };
    match DieselStore::open(&cfg) {
        Err(e @ StoreError::Unavailable(_)) => {
            assert_eq!(e.to_string(), "the database is unavailable");
            let source = std::error::Error::source(&e)
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(
                !source.is_empty() && !source.contains("multiconnection"),
                "{source}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

pub fn concurrent_unconditional_replaces_all_apply(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "busy");
    let g = create_group(db, &t, "Busy", &[]);
    let members: Vec<String> = (0..8)
        .map(|i| create_user(db, &t, &format!("m{i}")).id)
        .collect();
    std::thread::scope(|s| {
        for i in 0..8 {
            let (t, u, g, members) = (&t, &u, &g, &members);
            s.spawn(move || {
                let mut attrs = u.attributes.clone();
                attrs.insert("title".into(), json!(format!("t{i}")));
                db.replace(&actor(), t, User, &u.id, attrs, None).unwrap();
                // Read-modify-write of the member list without a version: retried on a
                // lost race only when no version was asked for, so with the version it
                // may fail, and then we re-read and try again.
                loop {
                    let current = db.get(t, Group, &g.id).unwrap();
                    let mut list = current
                        .attributes
                        .get("members")
                        .cloned()
                        .unwrap_or(json!([]));
                    list.as_array_mut()
                        .unwrap()
                        .push(json!({"value": members[i]}));
                    let mut attrs = current.attributes.clone();
                    attrs.insert("members".into(), list);
                    match db.replace(&actor(), t, Group, &g.id, attrs, Some(current.meta.version)) {
                        Ok(_) => break,
                        Err(StoreError::VersionMismatch) => continue,
                        Err(e) => panic!("{e:?}"),
                    }
                }
            });
        }
    });
    assert_eq!(
        db.get(&t, User, &u.id).unwrap().meta.version,
        9,
        "all 8 replaces applied"
    );
    let g = db.get(&t, Group, &g.id).unwrap();
    assert_eq!(
        g.attributes["members"].as_array().unwrap().len(),
        8,
        "no lost member update"
    );
    assert_eq!(g.meta.version, 9);
}
