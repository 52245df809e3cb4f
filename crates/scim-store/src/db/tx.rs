//! Transactions and errors: the write transaction (`BEGIN IMMEDIATE` on SQLite), the id
//! guard of lookups, and the mapping of diesel errors to [`StoreError`].
//!
//! The mapping, for PostgreSQL by SQLSTATE wherever diesel 2.3 exposes it (it turns the
//! code into a [`DatabaseErrorKind`]; it has no accessor for the code itself):
//!
//! | backend error | `StoreError` | HTTP |
//! | --- | --- | --- |
//! | unique violation (23505; SQLite `UNIQUE constraint failed`) | `Conflict { attribute }` | 409 |
//! | foreign-key violation (23503): a row of a tenant that does not exist | `NotFound` | 404 |
//! | serialization failure (40001) | `Busy`, re-run by the session | 503 + `Retry-After` |
//! | deadlock (40P01) | `Busy`, re-run by the session | 503 + `Retry-After` |
//! | read-only transaction (25006: a failover left us on a standby) | `Unavailable` | 503 + `Retry-After` |
//! | connection exception (08000, 08001, 08004, 08006) or a connection libpq reports broken | `Unavailable` | 503 + `Retry-After` |
//! | SQLite `SQLITE_BUSY` / `SQLITE_LOCKED` after `busy_timeout` | `Busy` (not re-run) | 503 + `Retry-After` |
//! | statement timeout (57014, `statement_timeout`) | `Timeout` | 400 `tooMany` in a list, 503 elsewhere |
//! | anything else | `Backend` | 500 (a bug: logged with its cause) |
//!
//! Two rows need the message instead of a code: diesel 2.3 reports PostgreSQL's 40P01
//! as `DatabaseErrorKind::Unknown` with no way to read the SQLSTATE, so a deadlock is
//! recognised by PostgreSQL's primary message `deadlock detected` (which assumes the
//! server's `lc_messages` is English, as on managed PostgreSQL services; in another
//! language a deadlock would be a 500); and SQLite has no SQLSTATE at all: its busy and
//! locked messages are fixed English text. When diesel exposes the SQLSTATE (its `main`
//! branch has `DatabaseErrorInformation::sql_state`), the deadlock row should match
//! `40P01` instead.

use super::conn::AnyConnection;
use crate::{StoreError, StoreResult};
use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;

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

/// An id that cannot be stored (NUL, which PostgreSQL `text` refuses even in a
/// comparison; empty; longer than [`MAX_ID_BYTES`](scim_core::limits::MAX_ID_BYTES)) names
/// nothing: [`StoreError::NotFound`] without a query. Every lookup of a client-supplied id
/// starts with it.
pub(crate) fn storable(id: &str) -> StoreResult<()> {
    if scim_core::limits::is_storable_id(id) {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
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
            // SQLSTATE class 08, or a connection libpq reports as bad; a transaction whose
            // connection broke mid-way.
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | DieselError::BrokenTransactionManager => StoreError::Unavailable(Box::new(e)),
            // 40001.
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                StoreError::Busy(Box::new(e))
            }
            // 25006.
            DieselError::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _) => {
                StoreError::Unavailable(Box::new(e))
            }
            // 40P01 and SQLite's busy/locked: no code to match (see the module docs).
            DieselError::DatabaseError(_, ref info) if is_busy(info.message()) => {
                StoreError::Busy(Box::new(e))
            }
            // PostgreSQL 57014 query_canceled (`statement_timeout`), which diesel reports
            // without a kind.
            DieselError::DatabaseError(_, ref info)
                if info.message().starts_with("canceling statement due to") =>
            {
                StoreError::Timeout(Box::new(e))
            }
            other => StoreError::Backend(Box::new(other)),
        }
    }
}

/// Whether a database message says "busy, try again": SQLite's `SQLITE_BUSY` and
/// `SQLITE_LOCKED` texts, and PostgreSQL's 40P01 primary message ("deadlock detected");
/// diesel reports all three without a kind.
fn is_busy(message: &str) -> bool {
    message.contains("database is locked")
        || message.contains("database table is locked")
        || message.contains("deadlock detected")
}

/// The SCIM attribute a unique index protects, from its name (PostgreSQL reports the
/// index name; SQLite reports the columns).
pub(crate) fn conflict_attribute(text: &str) -> &'static str {
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
