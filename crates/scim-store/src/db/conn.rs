//! Connections: the run-time backend choice (one `MultiConnection` enum over SQLite and
//! PostgreSQL), the URL → backend mapping, the r2d2 manager that dispatches on the URL
//! scheme so the real connection error is kept, and the per-connection session settings.

use crate::{StoreError, StoreResult};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;

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

    pub(crate) fn connection_string(&self) -> &str {
        match self {
            Target::Postgres(s) | Target::SqliteFile(s) => s,
            Target::SqliteMemory => ":memory:",
        }
    }

    pub(crate) fn is_sqlite(&self) -> bool {
        !matches!(self, Target::Postgres(_))
    }
}

/// The r2d2 manager: establishes the connection type the URL names, keeping its error.
#[derive(Debug)]
pub(crate) struct DbManager {
    pub(crate) target: Target,
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
/// PostgreSQL [`PG_SESSION`] and the statement timeout.
#[derive(Debug, Clone)]
pub(crate) struct SessionInit {
    pub(crate) busy_timeout_ms: u128,
    /// PostgreSQL `statement_timeout` of pooled connections (not of the migration
    /// connection, which [`establish`] opens without it).
    pub(crate) statement_timeout_ms: Option<u128>,
}

impl SessionInit {
    pub(crate) fn sql(&self) -> String {
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
            AnyConnection::Postgresql(c) => match self.statement_timeout_ms {
                // A bound on every statement of the server, so no request (an unindexed
                // `co` filter on a huge tenant, a lock queue) holds a connection for long.
                Some(ms) => c.batch_execute(&format!(
                    "{PG_SESSION} SET statement_timeout = {};",
                    ms.max(1)
                )),
                None => c.batch_execute(PG_SESSION),
            },
        }
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

pub(crate) fn establish(target: &Target, pragmas: &SessionInit) -> StoreResult<AnyConnection> {
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
