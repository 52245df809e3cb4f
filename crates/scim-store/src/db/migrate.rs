//! Migrations: one embedded tree per backend, applied on a dedicated connection before
//! the pool exists (or by `scim-server migrate`); a database that has a migration this
//! binary does not know is refused.

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

pub(crate) fn check_schema_current(conn: &mut AnyConnection) -> StoreResult<()> {
    let (known, applied) = versions(conn)?;
    refuse_newer(&known, &applied)?;
    if let Some(pending) = known.iter().find(|v| !applied.contains(v)) {
        return Err(StoreError::Migration(format!(
            "the database schema is older than this binary (migration {pending} is pending); run `scim-server migrate`"
        )));
    }
    Ok(())
}

pub(crate) fn run_migrations(conn: &mut AnyConnection) -> StoreResult<Vec<String>> {
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
