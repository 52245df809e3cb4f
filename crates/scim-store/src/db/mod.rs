//! The diesel implementation of the store, on bundled SQLite or PostgreSQL chosen at run
//! time by the database URL.
//!
//! The modules, in dependency order: [`conn`] (backends, URL, r2d2 manager, session
//! settings), [`migrate`], [`tx`] (write transaction, error mapping), [`schema`],
//! [`rows`] (stored rows ↔ resources), [`relations`] (`members`/`groups`), [`counts`]
//! (per-tenant counters), [`filter_sql`] and [`list`] (lists), [`users`] and [`groups`]
//! (the statements of one kind), [`lock_order`] (the order of row locks on PostgreSQL),
//! [`creates`] and [`writes`] (the write transactions), [`session`] (the unit of work and
//! the trait façade), [`tenants`], [`admin`], [`entitlements`] and [`request_log`]. This
//! file holds the configuration, the pools and the time/id helpers.
//!
//! Pools: readers (every read; every write on PostgreSQL) and, for a SQLite file, one
//! writer connection. Connections are not pinged on checkout.
//!
//! `password` is never stored: `scim-core` discards it when it parses a request, and the
//! store persists only the canonical attributes it is given.

mod admin;
mod conn;
mod counts;
mod creates;
mod entitlements;
mod event_repo;
mod filter_sql;
mod groups;
mod leases;
mod list;
mod lock_order;
mod migrate;
mod outbox;
mod outbox_pg;
mod outbox_sqlite;
mod relations;
mod request_log;
mod rows;
pub(crate) mod schema;
mod session;
mod subscriptions;
mod tenant_schemas;
mod tenants;
mod tx;
mod users;
mod writes;

pub use migrate::migrate;

pub(crate) use conn::{AnyConnection, Db, DbManager, SessionInit, Target, establish};
pub(crate) use migrate::{check_schema_current, run_migrations};
pub(crate) use tx::write_tx;

use crate::{CommitListener, StoreError, StoreResult};
use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{Pool, PooledConnection};
use scim_core::ResourceKind;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

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
    /// How many candidate rows a list whose filter cannot be answered exactly from the
    /// indexes may read (`None`, the default here: unlimited; the server binary sets
    /// 20 000). Beyond it the list fails with [`StoreError::TooMany`], so no request walks
    /// a whole large tenant.
    pub scan_budget: Option<u64>,
    /// PostgreSQL only: the `statement_timeout` of every pooled connection (`None`, the
    /// default here: the database's own setting; the server binary sets 5 s). A cancelled
    /// statement is [`StoreError::Timeout`], or [`StoreError::TooMany`] in a list.
    pub statement_timeout: Option<Duration>,
}

impl StoreConfig {
    /// A configuration with the defaults for `database_url`.
    pub fn new(database_url: impl Into<String>) -> Self {
        StoreConfig {
            database_url: database_url.into(),
            ..StoreConfig::default()
        }
    }

    /// The database file of a `sqlite://` URL (relative to the working directory unless
    /// absolute), without its query; `None` for PostgreSQL, `sqlite::memory:` or a URL
    /// that is not valid. A SQLite file is meant for one server process: `serve` locks a
    /// file beside it.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        match Target::parse(&self.database_url).ok()? {
            Target::SqliteFile(url) => {
                let path = url.trim().strip_prefix("sqlite://")?;
                let path = path.split('?').next().unwrap_or(path);
                Some(std::path::PathBuf::from(path))
            }
            Target::Postgres(_) | Target::SqliteMemory => None,
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
            scan_budget: None,
            statement_timeout: None,
        }
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
    /// Where sequential index-paging walks continue (see `list::hints`).
    hints: list::KeysetHints,
    /// [`StoreConfig::scan_budget`].
    scan_budget: Option<u64>,
    /// Told after the commit of every transaction that appended events.
    listener: ListenerSlot,
}

/// The store's [`CommitListener`] slot (one per store; replaced by a later registration).
#[derive(Default)]
pub(crate) struct ListenerSlot(RwLock<Option<CommitListener>>);

impl ListenerSlot {
    /// Registers `listener`, replacing any earlier one.
    pub(crate) fn set(&self, listener: CommitListener) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Some(listener);
    }

    /// Calls the listener, if any, with the tenant whose events committed (outside the
    /// lock, so a slow listener never blocks a registration).
    pub(crate) fn notify(&self, tenant_id: &str) {
        let listener = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(listener) = listener {
            listener(tenant_id);
        }
    }
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
            statement_timeout_ms: config.statement_timeout.map(|t| t.as_millis()),
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
            hints: list::KeysetHints::default(),
            scan_budget: config.scan_budget,
            listener: ListenerSlot::default(),
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

    /// How many index-paging requests were served after a remembered keyset instead of an
    /// `OFFSET` (tests and diagnostics; not part of the stable API).
    #[doc(hidden)]
    pub fn keyset_hint_hits(&self) -> u64 {
        self.hints.hits()
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

/// The resource kind of a stored name (`User`, `Group`).
pub(crate) fn kind_from_name(name: &str) -> StoreResult<ResourceKind> {
    match name {
        "User" => Ok(ResourceKind::User),
        "Group" => Ok(ResourceKind::Group),
        other => Err(StoreError::Backend(
            format!("unknown stored resource type '{other}'").into(),
        )),
    }
}

/// A new opaque id (UUID v4).
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::tx::conflict_attribute;
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
        let path = |url: &str| StoreConfig::new(url).sqlite_path();
        assert_eq!(
            path("sqlite://data/scim.db?mode=rwc"),
            Some("data/scim.db".into())
        );
        assert_eq!(
            path("sqlite:///var/lib/scim.db"),
            Some("/var/lib/scim.db".into())
        );
        assert_eq!(path("sqlite::memory:"), None);
        assert_eq!(path("postgres://u@h/db"), None);
        assert_eq!(path("mysql://x"), None);
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
