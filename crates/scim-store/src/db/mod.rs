//! The diesel implementation of the store: the run-time backend choice (one
//! `MultiConnection` enum over SQLite and PostgreSQL, and an r2d2 manager that dispatches on
//! the URL scheme so the real connection error is kept), the pool and its per-connection
//! SQLite pragmas, embedded per-backend migrations, the transaction helper and the mapping
//! of diesel errors to [`StoreError`].
//!
//! `password` is never stored: `scim-core` discards it when it parses a request, and the
//! store persists only the canonical attributes it is given.

mod admin;
mod counts;
mod filter_sql;
mod groups;
mod list;
mod relations;
mod rows;
pub(crate) mod schema;
mod session;
mod tenants;
mod users;
mod writes;

use crate::{StoreError, StoreResult};
use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use scim_core::ResourceKind;
use std::time::Duration;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One database connection of either backend.
#[derive(diesel::MultiConnection)]
pub(crate) enum AnyConnection {
    /// PostgreSQL (bundled libpq).
    Postgresql(PgConnection),
    /// SQLite (bundled).
    Sqlite(SqliteConnection),
}

/// The diesel backend type of [`AnyConnection`] (dispatches to the active variant).
pub(crate) type Db = <AnyConnection as Connection>::Backend;

/// How to reach the database, and how the pool behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// `postgres://…` / `postgresql://…`, `sqlite://RELATIVE/PATH`, `sqlite:///ABSOLUTE/PATH`
    /// or `sqlite::memory:` (one private in-memory database: the pool is then limited to a
    /// single connection; meant for quick experiments, tests use temp files).
    pub database_url: String,
    /// The maximum number of pooled connections (default 10).
    pub pool_size: u32,
    /// Connections kept open when idle; `None` keeps `pool_size` open (r2d2's default),
    /// and opening waits until that many are established.
    pub min_idle: Option<u32>,
    /// How long to wait for a connection from the pool (and for the first connection when
    /// opening) before failing with [`StoreError::Unavailable`] (default 5 s).
    pub connection_timeout: Duration,
    /// SQLite only: how long a statement waits for a lock held by another connection
    /// (`PRAGMA busy_timeout`, default 5 s).
    pub busy_timeout: Duration,
    /// Apply pending migrations when opening (default `true`). When `false`, opening
    /// fails with [`StoreError::Migration`] if the schema is not exactly current.
    pub migrate_on_open: bool,
}

impl StoreConfig {
    /// A configuration with the defaults for `database_url`.
    pub fn new(database_url: impl Into<String>) -> Self {
        StoreConfig {
            database_url: database_url.into(),
            ..StoreConfig::default()
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            database_url: "sqlite://scim.db".into(),
            pool_size: 10,
            min_idle: None,
            connection_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
            migrate_on_open: true,
        }
    }
}

/// The backend a URL selects, with the connection string diesel is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A PostgreSQL URL, passed to libpq as is.
    Postgres(String),
    /// A SQLite file (`sqlite://…`, which diesel opens as a `file:` URI).
    SqliteFile(String),
    /// `sqlite::memory:`.
    SqliteMemory,
}

impl Target {
    pub(crate) fn parse(url: &str) -> StoreResult<Target> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres(url.to_string()));
        }
        if url == "sqlite::memory:" || url == "sqlite://:memory:" {
            return Ok(Target::SqliteMemory);
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            let bare = path.split('?').next().unwrap_or_default();
            if bare.is_empty() || bare == "/" {
                return Err(StoreError::Config(
                    "the SQLite database URL has no file path (use sqlite://RELATIVE/PATH or sqlite:///ABSOLUTE/PATH)".into(),
                ));
            }
            return Ok(Target::SqliteFile(url.to_string()));
        }
        let scheme = url.split(':').next().unwrap_or_default();
        Err(StoreError::Config(format!(
            "unsupported database URL scheme '{scheme}': use postgres://, postgresql://, sqlite://PATH or sqlite::memory:"
        )))
    }

    fn connection_string(&self) -> &str {
        match self {
            Target::Postgres(s) | Target::SqliteFile(s) => s,
            Target::SqliteMemory => ":memory:",
        }
    }

    fn is_sqlite(&self) -> bool {
        !matches!(self, Target::Postgres(_))
    }
}

/// The r2d2 manager: establishes the connection type the URL names, keeping its error.
#[derive(Debug)]
pub(crate) struct DbManager {
    target: Target,
}

impl ManageConnection for DbManager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, diesel::r2d2::Error> {
        let url = self.target.connection_string();
        let conn = match self.target {
            Target::Postgres(_) => AnyConnection::Postgresql(PgConnection::establish(url)?),
            Target::SqliteFile(_) | Target::SqliteMemory => {
                AnyConnection::Sqlite(SqliteConnection::establish(url)?)
            }
        };
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        conn.is_broken()
    }
}

/// Per-connection settings: on SQLite foreign keys, lock wait, synchronous mode; on
/// PostgreSQL [`PG_SESSION`].
#[derive(Debug, Clone)]
struct SessionInit {
    busy_timeout_ms: u128,
}

impl SessionInit {
    fn sql(&self) -> String {
        format!(
            "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
            self.busy_timeout_ms
        )
    }
}

/// PostgreSQL session settings. Plans are left to the planner's default cache mode (a
/// generic plan after five custom ones): the statements are all index probes on the full
/// key, the tables keep their statistics (autovacuum/ANALYZE), and the query-plan tests pin
/// the chosen indexes.
const PG_SESSION: &str = "SET application_name = 'scim-server';";

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for SessionInit {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        match conn {
            AnyConnection::Sqlite(c) => c.batch_execute(&self.sql()),
            AnyConnection::Postgresql(c) => c.batch_execute(PG_SESSION),
        }
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// The diesel-backed [`Store`](crate::Store) on SQLite or PostgreSQL.
pub struct DieselStore {
    /// Every read, and on PostgreSQL every write.
    readers: Pool<DbManager>,
    /// SQLite files only: the one writer connection. SQLite has one writer at a time; a
    /// pool of one makes writers queue in the process (fairly, behind the HTTP layer's
    /// semaphore) instead of spinning on `busy_timeout` against each other.
    writer: Option<Pool<DbManager>>,
    target: Target,
}

impl std::fmt::Debug for DieselStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselStore")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl DieselStore {
    /// Opens the database `config` names: applies pending migrations (unless
    /// `migrate_on_open` is off, in which case the schema must already be current) and
    /// builds the connection pool.
    ///
    /// Fails with [`StoreError::Config`] for an unsupported URL, [`StoreError::Unavailable`]
    /// when the database cannot be reached, and [`StoreError::Migration`] when the schema
    /// is newer than this binary (or, without `migrate_on_open`, older).
    pub fn open(config: &StoreConfig) -> StoreResult<DieselStore> {
        let target = Target::parse(&config.database_url)?;
        let pragmas = SessionInit {
            busy_timeout_ms: config.busy_timeout.as_millis(),
        };
        let memory = target == Target::SqliteMemory;
        if !memory {
            // Migrations run on a dedicated connection before the pool exists.
            let mut conn = establish(&target, &pragmas)?;
            if config.migrate_on_open {
                run_migrations(&mut conn)?;
            } else {
                check_schema_current(&mut conn)?;
            }
        }
        let build = |size: u32, min_idle: Option<u32>| {
            // No ping on checkout (r2d2 runs `SELECT 1` per checkout by default): a broken
            // connection surfaces as an error on first use, diesel marks it broken, and the
            // pool drops it (`has_broken`).
            let mut builder = Pool::builder()
                .max_size(size)
                .min_idle(min_idle)
                .test_on_check_out(false)
                .connection_timeout(config.connection_timeout);
            if memory {
                // The one connection *is* the database: never retire it.
                builder = builder.idle_timeout(None).max_lifetime(None);
            }
            builder
                .connection_customizer(Box::new(pragmas.clone()))
                .build(DbManager {
                    target: target.clone(),
                })
                .map_err(|e| StoreError::Unavailable(Box::new(e)))
        };
        let readers = if memory {
            build(1, None)?
        } else {
            build(config.pool_size.max(1), config.min_idle)?
        };
        let writer = match target {
            Target::SqliteFile(_) => Some(build(1, None)?),
            Target::Postgres(_) | Target::SqliteMemory => None,
        };
        let store = DieselStore {
            readers,
            writer,
            target,
        };
        if memory {
            let mut conn = store.conn()?;
            run_migrations(&mut conn)?;
        }
        Ok(store)
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        if self.target.is_sqlite() {
            "sqlite"
        } else {
            "postgres"
        }
    }

    /// A pooled reader connection.
    pub(crate) fn conn(&self) -> StoreResult<PooledConnection<DbManager>> {
        self.readers
            .get()
            .map_err(|e| StoreError::Unavailable(Box::new(e)))
    }

    /// The connection writes use: SQLite's one writer, or a pooled PostgreSQL connection.
    pub(crate) fn write_conn(&self) -> StoreResult<PooledConnection<DbManager>> {
        self.writer
            .as_ref()
            .unwrap_or(&self.readers)
            .get()
            .map_err(|e| StoreError::Unavailable(Box::new(e)))
    }

    /// Runs `f` with a pooled connection; the raw SQL test helpers use it.
    #[doc(hidden)]
    pub fn with_connection<T>(
        &self,
        f: impl FnOnce(&mut dyn DebugSql) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut conn = self.conn()?;
        f(&mut *conn)
    }
}

/// Raw SQL access for tests and tools (query plans); not part of the stable API.
#[doc(hidden)]
pub trait DebugSql {
    /// Runs `sql` (no binds) and returns every row's columns rendered as text.
    fn query_text_rows(&mut self, sql: &str) -> StoreResult<Vec<String>>;
    /// Executes statements.
    fn execute_sql(&mut self, sql: &str) -> StoreResult<()>;
}

impl DebugSql for AnyConnection {
    fn query_text_rows(&mut self, sql: &str) -> StoreResult<Vec<String>> {
        use diesel::QueryableByName;
        #[derive(QueryableByName)]
        struct PgPlan {
            #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
            line: String,
        }
        #[derive(QueryableByName)]
        struct SqlitePlan {
            #[diesel(sql_type = diesel::sql_types::Text)]
            detail: String,
        }
        match self {
            AnyConnection::Postgresql(c) => Ok(diesel::sql_query(sql)
                .load::<PgPlan>(c)?
                .into_iter()
                .map(|r| r.line)
                .collect()),
            AnyConnection::Sqlite(c) => Ok(diesel::sql_query(sql)
                .load::<SqlitePlan>(c)?
                .into_iter()
                .map(|r| r.detail)
                .collect()),
        }
    }

    fn execute_sql(&mut self, sql: &str) -> StoreResult<()> {
        self.batch_execute(sql)?;
        Ok(())
    }
}

/// Applies the pending migrations of the database `config` names and returns the versions
/// applied (empty when the schema was current). This is the `scim-server migrate` command.
pub fn migrate(config: &StoreConfig) -> StoreResult<Vec<String>> {
    let target = Target::parse(&config.database_url)?;
    if target == Target::SqliteMemory {
        return Err(StoreError::Config(
            "an in-memory SQLite database cannot be migrated ahead of time".into(),
        ));
    }
    let pragmas = SessionInit {
        busy_timeout_ms: config.busy_timeout.as_millis(),
    };
    let mut conn = establish(&target, &pragmas)?;
    run_migrations(&mut conn)
}

fn establish(target: &Target, pragmas: &SessionInit) -> StoreResult<AnyConnection> {
    let url = target.connection_string();
    match target {
        Target::Postgres(_) => PgConnection::establish(url)
            .map(AnyConnection::Postgresql)
            .map_err(|e| StoreError::Unavailable(Box::new(e))),
        Target::SqliteFile(_) | Target::SqliteMemory => {
            let mut c = SqliteConnection::establish(url)
                .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
            c.batch_execute(&pragmas.sql())?;
            if matches!(target, Target::SqliteFile(_)) {
                // WAL is a property of the database file: set once, here.
                c.batch_execute("PRAGMA journal_mode = WAL;")?;
            }
            Ok(AnyConnection::Sqlite(c))
        }
    }
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
fn refuse_newer(known: &[String], applied: &[String]) -> StoreResult<()> {
    if let Some(unknown) = applied.iter().filter(|v| !known.contains(v)).max() {
        return Err(StoreError::Migration(format!(
            "the database schema (version {unknown}) is newer than this binary (newest known version {}); upgrade the server",
            known.iter().max().map(String::as_str).unwrap_or("none")
        )));
    }
    Ok(())
}

fn check_schema_current(conn: &mut AnyConnection) -> StoreResult<()> {
    let (known, applied) = versions(conn)?;
    refuse_newer(&known, &applied)?;
    if let Some(pending) = known.iter().find(|v| !applied.contains(v)) {
        return Err(StoreError::Migration(format!(
            "the database schema is older than this binary (migration {pending} is pending); run `scim-server migrate`"
        )));
    }
    Ok(())
}

fn run_migrations(conn: &mut AnyConnection) -> StoreResult<Vec<String>> {
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

/// Runs `f` in one write transaction: `BEGIN IMMEDIATE` on SQLite (take the write lock up
/// front, so concurrent writers queue on `busy_timeout` instead of deadlocking on a lock
/// upgrade), a normal transaction on PostgreSQL. Any error rolls everything back.
pub(crate) fn write_tx<T>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> StoreResult<T>,
) -> StoreResult<T> {
    if let AnyConnection::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
        let result = f(conn);
        let AnyConnection::Sqlite(c) = conn else {
            return Err(StoreError::Backend("connection changed backend".into()));
        };
        return match result {
            Ok(v) => {
                <AnsiTransactionManager as TransactionManager<SqliteConnection>>::commit_transaction(c)?;
                Ok(v)
            }
            Err(e) => {
                // The original error matters more than a failed rollback; a failed
                // rollback marks the connection broken, and the pool discards it.
                let _ = <AnsiTransactionManager as TransactionManager<SqliteConnection>>::rollback_transaction(c);
                Err(e)
            }
        };
    }
    conn.transaction(f)
}

impl From<DieselError> for StoreError {
    /// Maps a diesel error; its text stays in the `source` chain, never in `Display`.
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, ref info) => {
                let name = info.constraint_name().unwrap_or_default().to_string();
                let text = format!("{name} {}", info.message());
                StoreError::Conflict {
                    attribute: conflict_attribute(&text).into(),
                }
            }
            // A row of a tenant that does not exist.
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                StoreError::NotFound
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | DieselError::BrokenTransactionManager => StoreError::Unavailable(Box::new(e)),
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                StoreError::Busy(Box::new(e))
            }
            DieselError::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _) => {
                StoreError::Unavailable(Box::new(e))
            }
            DieselError::DatabaseError(_, ref info) if is_busy(info.message()) => {
                StoreError::Busy(Box::new(e))
            }
            other => StoreError::Backend(Box::new(other)),
        }
    }
}

/// Whether a database message says "busy, try again": SQLite's lock timeout
/// (`SQLITE_BUSY`, reported without a kind) and PostgreSQL's deadlock (40P01).
fn is_busy(message: &str) -> bool {
    message.contains("database is locked")
        || message.contains("database table is locked")
        || message.contains("deadlock detected")
}

/// The SCIM attribute a unique index protects, from its name (PostgreSQL reports the
/// index name; SQLite reports the columns).
fn conflict_attribute(text: &str) -> &'static str {
    if text.contains("user_name") {
        "userName"
    } else if text.contains("display_name") {
        "displayName"
    } else if text.contains("external_id") {
        "externalId"
    } else {
        "id"
    }
}

/// The current time, truncated to milliseconds (the precision SCIM renders).
pub(crate) fn now_ms() -> NaiveDateTime {
    truncate_ms(Utc::now().naive_utc())
}

/// Truncates a timestamp to milliseconds.
pub(crate) fn truncate_ms(t: NaiveDateTime) -> NaiveDateTime {
    let nanos = t.nanosecond() / 1_000_000 * 1_000_000;
    t.with_nanosecond(nanos).unwrap_or(t)
}

/// A stored UTC timestamp as a `DateTime<Utc>`.
pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// The stored name of a resource kind (`User`, `Group`).
pub(crate) fn kind_name(kind: ResourceKind) -> &'static str {
    kind.as_str()
}

/// A new opaque id (UUID v4).
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ListParams, ResourceRepo, TenantRepo};

    #[test]
    fn urls_select_the_backend() {
        assert_eq!(
            Target::parse("postgres://u@h/db").unwrap(),
            Target::Postgres("postgres://u@h/db".into())
        );
        assert!(matches!(
            Target::parse("postgresql://u@h/db"),
            Ok(Target::Postgres(_))
        ));
        assert_eq!(
            Target::parse("sqlite://data/scim.db").unwrap(),
            Target::SqliteFile("sqlite://data/scim.db".into())
        );
        assert!(matches!(
            Target::parse("sqlite:///var/lib/scim.db"),
            Ok(Target::SqliteFile(_))
        ));
        assert_eq!(
            Target::parse("sqlite::memory:").unwrap(),
            Target::SqliteMemory
        );
        for bad in [
            "mysql://x",
            "scim.db",
            "",
            "sqlite://",
            "sqlite:///",
            "http://x",
        ] {
            let err = Target::parse(bad).unwrap_err();
            assert!(matches!(err, StoreError::Config(_)), "{bad}: {err:?}");
        }
        let msg = Target::parse("mysql://x").unwrap_err().to_string();
        assert!(
            msg.contains("'mysql'") && msg.contains("postgres://"),
            "{msg}"
        );
    }

    #[test]
    fn in_memory_sqlite_is_one_database() {
        let store = DieselStore::open(&StoreConfig::new("sqlite::memory:")).unwrap();
        let t = store.create_tenant("t").unwrap();
        let mut a = scim_core::resource::Attributes::new();
        a.insert("userName".into(), "x".into());
        store
            .create(&crate::Actor::default(), &t.id, ResourceKind::User, a)
            .unwrap();
        // Every pooled checkout sees the same database.
        for _ in 0..3 {
            let page = store
                .list(&t.id, ResourceKind::User, &ListParams::default())
                .unwrap();
            assert_eq!(page.total_results, 1);
        }
        assert!(matches!(
            migrate(&StoreConfig::new("sqlite::memory:")),
            Err(StoreError::Config(_))
        ));
    }

    #[test]
    fn timestamps_truncate_to_millis() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678912Z")
            .unwrap()
            .naive_utc();
        assert_eq!(truncate_ms(t).to_string(), "2026-01-02 03:04:05.678");
        assert_eq!(now_ms().nanosecond() % 1_000_000, 0);
    }

    #[test]
    fn conflicts_name_the_attribute() {
        assert_eq!(
            conflict_attribute("users_user_name_lower_key duplicate key"),
            "userName"
        );
        assert_eq!(
            conflict_attribute(" UNIQUE constraint failed: users.tenant_id, users.user_name_lower"),
            "userName"
        );
        assert_eq!(
            conflict_attribute(
                " UNIQUE constraint failed: groups.tenant_id, groups.display_name_lower"
            ),
            "displayName"
        );
    }
}
