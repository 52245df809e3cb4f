//! Migrations: one embedded tree per backend, applied on a dedicated connection before
//! the pool exists (or by `scim-server migrate`); a database that has a migration this
//! binary does not know is refused.
//!
//! Replicas start at the same moment (a rolling upgrade, `docker compose up`), and each
//! `serve` migrates on open. On PostgreSQL the migrating connection therefore holds a
//! session advisory lock ([`MIGRATION_LOCK`]) from before it reads the applied versions
//! (diesel creates its `__diesel_schema_migrations` table on that first read) until the
//! last migration committed: the replicas migrate one after the other, the later ones find
//! nothing pending, and all come up. A replica that only checks the schema
//! (`migrate_on_open` off) takes the same lock shared, so it waits for a migration job in
//! progress instead of failing on a half-migrated schema. SQLite takes no such lock: a
//! database file belongs to one server process (`scim-server serve` holds a lock file
//! beside it, see [`StoreConfig::sqlite_path`]).

use super::StoreConfig;
use super::conn::{AnyConnection, SessionInit, Target, establish};
use crate::{StoreError, StoreResult};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Applies the pending migrations of the database `config` names and returns the versions
/// applied (empty when the schema was current). This is the `scim-server migrate` command.
pub fn migrate(config: &StoreConfig) -> StoreResult<Vec<String>> {
    let target = Target::parse(&config.database_url)?;
    if target == Target::SqliteMemory {
        return Err(StoreError::Config(
            "an in-memory SQLite database cannot be migrated ahead of time".into(),
        ));
    }
    // Migrations run without a statement timeout (they may rewrite large tables).
    let pragmas = SessionInit {
        busy_timeout_ms: config.busy_timeout.as_millis(),
        statement_timeout_ms: None,
    };
    let mut conn = establish(&target, &pragmas)?;
    run_migrations(&mut conn)
}

/// The key of the PostgreSQL advisory lock that serializes migrations (any constant
/// unlikely to be used by another application on the same database: "scimmig1" in ASCII).
pub(crate) const MIGRATION_LOCK: i64 = 0x7363_696d_6d69_6731;

/// Runs `f` holding the migration lock on PostgreSQL (`exclusive`: to migrate; shared: to
/// check), releasing it afterwards whatever `f` returned. The lock is a session lock, so
/// it also ends with the connection if the process dies. SQLite: just runs `f`.
fn with_migration_lock<T>(
    conn: &mut AnyConnection,
    exclusive: bool,
    f: impl FnOnce(&mut AnyConnection) -> StoreResult<T>,
) -> StoreResult<T> {
    use diesel::RunQueryDsl;
    use diesel::sql_types::BigInt;
    let AnyConnection::Postgresql(pg) = conn else {
        return f(conn);
    };
    let (lock, unlock) = if exclusive {
        (
            "SELECT pg_advisory_lock($1)",
            "SELECT pg_advisory_unlock($1)",
        )
    } else {
        (
            "SELECT pg_advisory_lock_shared($1)",
            "SELECT pg_advisory_unlock_shared($1)",
        )
    };
    diesel::sql_query(lock)
        .bind::<BigInt, _>(MIGRATION_LOCK)
        .execute(pg)?;
    let result = f(conn);
    if let AnyConnection::Postgresql(pg) = conn {
        // A failed unlock leaves the lock to the connection's end, which follows at once
        // (the migrating connection is never pooled).
        let _ = diesel::sql_query(unlock)
            .bind::<BigInt, _>(MIGRATION_LOCK)
            .execute(pg);
    }
    result
}

/// The embedded migration versions of this binary, and the database's applied ones.
fn versions(conn: &mut AnyConnection) -> StoreResult<(Vec<String>, Vec<String>)> {
    use diesel::migration::MigrationSource;
    let boxed = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Backend(e);
    match conn {
        AnyConnection::Postgresql(c) => {
            let known = MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
                .map_err(boxed)?
                .iter()
                .map(|m| m.name().version().to_string())
                .collect();
            let applied = c
                .applied_migrations()
                .map_err(boxed)?
                .iter()
                .map(ToString::to_string)
                .collect();
            Ok((known, applied))
        }
        AnyConnection::Sqlite(c) => {
            let known = MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                .map_err(boxed)?
                .iter()
                .map(|m| m.name().version().to_string())
                .collect();
            let applied = c
                .applied_migrations()
                .map_err(boxed)?
                .iter()
                .map(ToString::to_string)
                .collect();
            Ok((known, applied))
        }
    }
}

/// Refuses a database that has a migration this binary does not know.
pub(crate) fn refuse_newer(known: &[String], applied: &[String]) -> StoreResult<()> {
    if let Some(unknown) = applied.iter().filter(|v| !known.contains(v)).max() {
        return Err(StoreError::Migration(format!(
            "the database schema (version {unknown}) is newer than this binary (newest known version {}); upgrade the server",
            known.iter().max().map(String::as_str).unwrap_or("none")
        )));
    }
    Ok(())
}

/// Fails unless the schema is exactly the one this binary knows (`migrate_on_open` off).
pub(crate) fn check_schema_current(conn: &mut AnyConnection) -> StoreResult<()> {
    with_migration_lock(conn, false, check_current_unlocked)
}

fn check_current_unlocked(conn: &mut AnyConnection) -> StoreResult<()> {
    let (known, applied) = versions(conn)?;
    refuse_newer(&known, &applied)?;
    if let Some(pending) = known.iter().find(|v| !applied.contains(v)) {
        return Err(StoreError::Migration(format!(
            "the database schema is older than this binary (migration {pending} is pending); run `scim-server migrate`"
        )));
    }
    Ok(())
}

/// Applies the pending migrations (under the migration lock on PostgreSQL) and returns
/// the versions applied.
pub(crate) fn run_migrations(conn: &mut AnyConnection) -> StoreResult<Vec<String>> {
    with_migration_lock(conn, true, run_unlocked)
}

fn run_unlocked(conn: &mut AnyConnection) -> StoreResult<Vec<String>> {
    let (known, applied) = versions(conn)?;
    refuse_newer(&known, &applied)?;
    let boxed = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Backend(e);
    let done = match conn {
        AnyConnection::Postgresql(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map_err(boxed)?
            .iter()
            .map(ToString::to_string)
            .collect(),
        AnyConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(boxed)?
            .iter()
            .map(ToString::to_string)
            .collect(),
    };
    Ok(done)
}
