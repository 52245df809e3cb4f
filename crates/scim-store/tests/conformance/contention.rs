//! Contention is not an error, provoked for real: SQLite's write lock held by a second
//! connection past `busy_timeout` is `Busy`; a PostgreSQL deadlock against a second
//! connection is re-run and lands once; a read-only session (what a failover leaves) and
//! a connection the server killed are `Unavailable`. None of them is `Backend` (a 500).

use crate::support::*;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use scim_core::ResourceKind::User;
use scim_store::{
    DieselStore, EventRepo, LogQuery, LogRepo, ResourceRepo, StoreConfig, StoreError, TenantRepo,
};
use serde_json::json;
use std::time::Duration;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[test]
fn sqlite_busy_past_the_timeout_is_busy_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scim.db");
    let config = StoreConfig {
        busy_timeout: Duration::from_millis(100),
        ..StoreConfig::new(format!("sqlite://{}", path.display()))
    };
    let store = DieselStore::open(&config).unwrap();
    let t = store.create_tenant("acme").unwrap().id;
    let u = store
        .create(&actor(), &t, User, user_attrs(json!({"userName": "held"})))
        .unwrap();
    // A second connection (another process, a backup tool) takes the write lock.
    let mut other = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    diesel::sql_query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .unwrap();
    let err = store
        .create(
            &actor(),
            &t,
            User,
            user_attrs(json!({"userName": "blocked"})),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Busy(_)), "{err:?}");
    let err = store
        .replace(
            &actor(),
            &t,
            User,
            &u.id,
            user_attrs(json!({"userName": "renamed"})),
            None,
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Busy(_)), "{err:?}");
    // Reads go on (WAL).
    assert_eq!(
        store.get(&t, User, &u.id).unwrap().user_name(),
        Some("held")
    );
    diesel::sql_query("ROLLBACK").execute(&mut other).unwrap();
    // Once the lock is free, writes go through, and the refused ones left nothing.
    store
        .create(&actor(), &t, User, user_attrs(json!({"userName": "after"})))
        .unwrap();
    assert_eq!(store.list_events(&t, 0, 100, None).unwrap().len(), 2);
    assert_eq!(store.list_log(&t, &LogQuery::default()).unwrap().len(), 2);
    assert_eq!(
        store.get(&t, User, &u.id).unwrap().user_name(),
        Some("held")
    );
}

/// A PostgreSQL deadlock between the store's PUT and a second connection: the store's
/// transaction locks the user row, then waits for the tenant's event counter row, which
/// the other connection holds; the other connection then asks for the user row.
/// PostgreSQL aborts one of the two (the one whose `deadlock_timeout` expires first: the
/// store's, which started waiting first). The store re-runs its transaction, which then
/// waits for the other connection to commit and lands exactly once. If PostgreSQL picks
/// the other connection instead (a very slow machine), the round is repeated.
#[test]
fn postgres_deadlocks_are_rerun_and_land_once() {
    let Some(db) = postgres() else { return };
    let t = tenant(&db);
    let u = create_user(&db, &t, "deadlock@example.com");
    let mut other = diesel::PgConnection::establish(&db.config.database_url).unwrap();
    let mut store_was_victim = false;
    let mut landed: i64 = 0;
    for round in 0..5 {
        let sql = |other: &mut diesel::PgConnection, q: &str| {
            diesel::sql_query(q).execute(other).unwrap();
        };
        sql(&mut other, "BEGIN");
        diesel::sql_query(
            "UPDATE event_sequences SET last_position = last_position WHERE tenant_id = $1",
        )
        .bind::<Text, _>(&t)
        .execute(&mut other)
        .unwrap();
        let put = std::thread::scope(|s| {
            let put = s.spawn(|| {
                let title = format!("round {round}");
                db.replace(
                    &actor(),
                    &t,
                    User,
                    &u.id,
                    user_attrs(json!({"userName": "deadlock@example.com", "title": title})),
                    None,
                )
            });
            // Wait until the store's transaction waits for ours.
            loop {
                let waiting: Count = diesel::sql_query(
                    "SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'transactionid' \
                     AND NOT granted AND transactionid = pg_current_xact_id()::xid",
                )
                .get_result(&mut other)
                .unwrap();
                if waiting.n > 0 {
                    break;
                }
                assert!(!put.is_finished(), "the PUT did not wait for the lock");
                std::thread::sleep(Duration::from_millis(10));
            }
            // Cross the locks.
            let crossed = diesel::sql_query(
                "SELECT id FROM users WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
            )
            .bind::<Text, _>(&t)
            .bind::<Text, _>(&u.id)
            .execute(&mut other);
            match crossed {
                // We got the row: the store's transaction was the one aborted, and its
                // re-run now waits for our commit.
                Ok(_) => {
                    store_was_victim = true;
                    sql(&mut other, "COMMIT");
                }
                // We were the one aborted: roll back, and the PUT goes on.
                Err(e) => {
                    assert!(e.to_string().contains("deadlock"), "{e}");
                    sql(&mut other, "ROLLBACK");
                }
            }
            put.join().unwrap()
        });
        put.unwrap_or_else(|e| panic!("round {round}: the PUT failed: {e:?}"));
        landed += 1;
        if store_was_victim {
            break;
        }
    }
    assert!(
        store_was_victim,
        "PostgreSQL never aborted the store's transaction"
    );
    let got = db.get(&t, User, &u.id).unwrap();
    assert!(got.get_str("title").is_some_and(|s| s.starts_with("round")));
    assert_eq!(got.meta.version, 1 + landed);
    // One create plus one PUT per round: the re-run appended its event and log row once.
    let events = db.list_events(&t, 0, 100, None).unwrap();
    assert_eq!(events.len() as i64, 1 + landed, "{events:?}");
    let log = db.list_log(&t, &LogQuery::default()).unwrap();
    assert_eq!(log.len() as i64, 1 + landed);
}

/// A throw-away PostgreSQL database (the failover test changes database-wide settings and
/// ends every connection to it), dropped with its connections.
struct ScratchDb {
    admin_url: String,
    name: String,
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Ok(mut c) = diesel::PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut c);
        }
    }
}

/// A failover and lost connections: the server ends the store's connection (a restart, a
/// failover, an idle-connection reaper) and comes back read-only (a standby: 25006). The
/// request on the dead connection, and writes on the read-only server, are `Unavailable`
/// (503 with `Retry-After`), never `Backend`; reads go on; the pool replaces the dead
/// connection; once the server is writable again, so is the store.
#[test]
fn postgres_failover_and_lost_connections_are_unavailable() {
    let Some(admin_url) = postgres_url() else {
        return;
    };
    let name = format!("scim_failover_{}", uuid::Uuid::new_v4().simple());
    let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
    let sql = |admin: &mut diesel::PgConnection, q: String| {
        diesel::sql_query(q).execute(admin).unwrap();
    };
    sql(&mut admin, format!("CREATE DATABASE {name}"));
    let _scratch = ScratchDb {
        admin_url: admin_url.clone(),
        name: name.clone(),
    };
    let (base, query) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
    let (server, _) = base.rsplit_once('/').unwrap();
    let url = format!("{server}/{name}?{query}");
    let config = StoreConfig {
        pool_size: 1,
        min_idle: Some(1),
        connection_timeout: Duration::from_secs(20),
        ..StoreConfig::new(url)
    };
    let store = DieselStore::open(&config).unwrap();
    let t = store.create_tenant("acme").unwrap().id;
    let u = store
        .create(&actor(), &t, User, user_attrs(json!({"userName": "kept"})))
        .unwrap();
    let end_connections = |admin: &mut diesel::PgConnection| {
        let ended: Count = diesel::sql_query(
            "SELECT COUNT(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind::<Text, _>(&name)
        .get_result(admin)
        .unwrap();
        assert_eq!(ended.n, 1, "the store's one connection");
    };
    let unavailable =
        |what: &str, r: scim_store::StoreResult<scim_core::resource::Resource>| match r {
            Err(StoreError::Unavailable(e)) => e.to_string(),
            other => panic!("{what}: {other:?}"),
        };
    let create = |n: &str| store.create(&actor(), &t, User, user_attrs(json!({"userName": n})));
    // The failover: new sessions are read-only, the old connection is gone.
    sql(
        &mut admin,
        format!("ALTER DATABASE {name} SET default_transaction_read_only = on"),
    );
    end_connections(&mut admin);
    unavailable("on the dead connection", create("during"));
    let why = unavailable("on the read-only server", create("standby"));
    assert!(why.contains("read-only"), "{why}");
    assert_eq!(
        store.get(&t, User, &u.id).unwrap().user_name(),
        Some("kept")
    );
    // The primary is back.
    sql(
        &mut admin,
        format!("ALTER DATABASE {name} RESET default_transaction_read_only"),
    );
    end_connections(&mut admin);
    unavailable("on the dead connection", create("during"));
    create("after").unwrap();
    assert_eq!(store.list_events(&t, 0, 100, None).unwrap().len(), 2);
}
