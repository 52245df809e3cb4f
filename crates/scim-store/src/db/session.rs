//! [`DieselSession`]: one pooled connection for one unit of work, and the
//! [`Store`]/[`ResourceRepo`] façade of [`DieselStore`] built on it (each façade call is a
//! session of its own).
//!
//! Write methods run in one transaction ([`write_tx`]); a PostgreSQL deadlock or
//! serialization failure ([`StoreError::Busy`]) re-runs the whole transaction, at most
//! [`BUSY_RETRIES`] more times after a short random pause, here and nowhere else; when
//! the last attempt fails too, `Busy` goes to the caller (HTTP 503 with `Retry-After`).
//! SQLite's `Busy` is not re-run: it already waited `busy_timeout` for the lock.

use super::creates;
use super::list::KeysetHints;
use super::relations::with_relations;
use super::rows::{bare_resource, read_row};
use super::tenants::{read_tenant, record_token_use};
use super::tx::storable;
use super::writes::{self, Writer};
use super::{AnyConnection, DbManager, DieselStore, ListenerSlot, write_tx};
use crate::{
    Access, Actor, ListParams, Page, ResourceRepo, Session, SessionCapacity, Store, StoreError,
    StoreResult, Tenant,
};
use chrono::{DateTime, Utc};
use diesel::RunQueryDsl;
use diesel::r2d2::PooledConnection;
use scim_core::patch::MemberDelta;
use scim_core::resource::{Attributes, Resource};
use scim_core::{ResourceKind, ScimError};
use std::cell::Cell;

/// How many times a PostgreSQL transaction that hit a deadlock or serialization failure is
/// re-run.
const BUSY_RETRIES: u32 = 3;

/// The pause before re-run `n` (1, 2, 3) is uniformly random in `[0, BUSY_BACKOFF_MS · 2ⁿ)`
/// milliseconds ("full jitter"), so two transactions that deadlocked each other do not
/// meet again in step; at most 56 ms in all.
const BUSY_BACKOFF_MS: u64 = 4;

/// One unit of work on one pooled connection.
pub(crate) struct DieselSession<'a> {
    conn: PooledConnection<DbManager>,
    /// The store's index-paging keyset hints.
    hints: &'a KeysetHints,
    /// The store's scan budget (`StoreConfig::scan_budget`).
    scan_budget: Option<u64>,
    /// The store's commit listener.
    listener: &'a ListenerSlot,
}

impl<'a> DieselSession<'a> {
    pub(crate) fn new(
        conn: PooledConnection<DbManager>,
        hints: &'a KeysetHints,
        scan_budget: Option<u64>,
        listener: &'a ListenerSlot,
    ) -> Self {
        DieselSession {
            conn,
            hints,
            scan_budget,
            listener,
        }
    }

    /// Runs `f` in one write transaction for `actor` in `tenant_id`, re-running it after a
    /// deadlock or serialization failure; once a transaction that appended events has
    /// committed (never inside it), tells the commit listener.
    fn write<T>(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        mut f: impl FnMut(&mut AnyConnection, Writer<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let (appended, request_written) = (Cell::new(false), Cell::new(false));
        let w = Writer {
            tenant_id,
            token: actor.token_id.as_deref(),
            txn: actor.txn.as_deref(),
            method: actor.method,
            appended: &appended,
            schemas: actor.schemas,
            request: actor.request.as_ref(),
            request_written: &request_written,
        };
        let retry = matches!(*self.conn, AnyConnection::Postgresql(_));
        let conn = &mut self.conn;
        let result = retry_busy(retry, pause, || {
            appended.set(false);
            request_written.set(false);
            write_tx(conn, |c| f(c, w))
        });
        if result.is_ok()
            && request_written.get()
            && let Some(r) = &actor.request
        {
            // Only now is the entry durable; a rolled-back attempt wrote nothing.
            r.mark_logged();
        }
        if result.is_ok() && appended.get() {
            self.listener.notify(tenant_id);
        }
        result
    }
}

/// Runs `attempt`, and when `retry` is on and it fails with [`StoreError::Busy`], runs it
/// again after `pause(n)`, at most [`BUSY_RETRIES`] more times.
fn retry_busy<T>(
    retry: bool,
    pause: impl Fn(u32),
    mut attempt: impl FnMut() -> StoreResult<T>,
) -> StoreResult<T> {
    let mut retries = 0;
    loop {
        match attempt() {
            Err(StoreError::Busy(_)) if retry && retries < BUSY_RETRIES => {
                retries += 1;
                pause(retries);
            }
            other => return other,
        }
    }
}

/// Sleeps a random time in `[0, BUSY_BACKOFF_MS · 2ⁿ)` ms before re-run `n` (on the
/// blocking thread that holds the connection: the pauses are a few milliseconds).
fn pause(n: u32) {
    let ceiling = BUSY_BACKOFF_MS << n.min(8);
    let ms = u64::from(getrandom::u32().unwrap_or(0)) % ceiling;
    std::thread::sleep(std::time::Duration::from_millis(ms));
}

impl Session for DieselSession<'_> {
    fn tenant(&mut self, tenant_id: &str) -> StoreResult<Tenant> {
        read_tenant(&mut self.conn, tenant_id)
    }

    fn tenant_schemas(&mut self, tenant_id: &str) -> StoreResult<Vec<crate::TenantSchema>> {
        super::tenant_schemas::read_tenant_schemas(&mut self.conn, tenant_id)
    }

    fn entitlement_types(
        &mut self,
        tenant_id: &str,
    ) -> StoreResult<Vec<scim_core::entitlements::EntitlementType>> {
        super::entitlements::types(&mut self.conn, tenant_id)
    }

    fn list_entitlement_values(
        &mut self,
        tenant_id: &str,
        query: &crate::ValueQuery,
    ) -> StoreResult<crate::ValuePage> {
        super::entitlements::list_values(&mut self.conn, tenant_id, query)
    }

    fn entitlement_catalog(
        &mut self,
        tenant_id: &str,
    ) -> StoreResult<scim_core::entitlements::Catalog> {
        super::entitlements::catalog(&mut self.conn, tenant_id)
    }

    fn record_token_use(
        &mut self,
        tenant_id: &str,
        token_id: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        record_token_use(&mut self.conn, tenant_id, token_id, at)
    }

    fn get(
        &mut self,
        tenant_id: &str,
        kind: ResourceKind,
        id: &str,
        relations: bool,
    ) -> StoreResult<Resource> {
        storable(id)?;
        let row = read_row(&mut self.conn, tenant_id, kind, id)?.ok_or(StoreError::NotFound)?;
        if relations {
            with_relations(&mut self.conn, tenant_id, kind, &row)
        } else {
            bare_resource(kind, &row)
        }
    }

    fn list(
        &mut self,
        tenant_id: &str,
        kind: ResourceKind,
        params: &ListParams,
    ) -> StoreResult<Page> {
        super::list::list(
            &mut self.conn,
            self.hints,
            self.scan_budget,
            tenant_id,
            kind,
            params,
        )
    }

    fn create(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        attributes: Attributes,
    ) -> StoreResult<Resource> {
        // A retried transaction starts again from the same attributes.
        self.write(actor, tenant_id, |c, w| {
            creates::create(c, w, kind, attributes.clone(), true)
        })
    }

    fn create_many(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        batch: Vec<Attributes>,
    ) -> StoreResult<Vec<String>> {
        self.write(actor, tenant_id, |c, w| {
            creates::create_many(c, w, kind, &batch)
        })
    }

    fn create_each(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        batch: Vec<Attributes>,
        max_errors: Option<usize>,
    ) -> StoreResult<Vec<StoreResult<Resource>>> {
        self.write(actor, tenant_id, |c, w| {
            creates::create_each(c, w, kind, &batch, max_errors)
        })
    }

    fn update(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        id: &str,
        relations: bool,
        change: &mut dyn FnMut(&Resource) -> Result<Option<Attributes>, ScimError>,
    ) -> StoreResult<Resource> {
        storable(id)?;
        self.write(actor, tenant_id, |c, w| {
            writes::update(c, w, kind, id, relations, change)
        })
    }

    fn change_members(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        group_id: &str,
        delta: &MemberDelta,
        change: &mut dyn FnMut(&Resource) -> Result<Option<Attributes>, ScimError>,
    ) -> StoreResult<Resource> {
        storable(group_id)?;
        self.write(actor, tenant_id, |c, w| {
            writes::change_members(c, w, group_id, delta, change)
        })
    }

    fn delete(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        id: &str,
        check: &mut dyn FnMut(&Resource) -> Result<(), ScimError>,
    ) -> StoreResult<()> {
        storable(id)?;
        self.write(actor, tenant_id, |c, w| {
            writes::delete(c, w, kind, id, check)
        })
    }
}

/// The version check of the [`ResourceRepo`] façade, as a change-function error.
fn version_check(expected: Option<i64>, current: &Resource) -> Result<(), ScimError> {
    match expected {
        Some(v) if v != current.meta.version => Err(ScimError::precondition_failed(
            "the resource was changed by another request (version mismatch)",
        )),
        _ => Ok(()),
    }
}

/// The façade reports a failed version check as [`StoreError::VersionMismatch`].
fn mismatch(e: StoreError) -> StoreError {
    match e {
        StoreError::Rejected(s) if s.status() == 412 => StoreError::VersionMismatch,
        other => other,
    }
}

impl ResourceRepo for DieselStore {
    fn create(
        &self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        attributes: Attributes,
    ) -> StoreResult<Resource> {
        self.session(Access::Write)?
            .create(actor, tenant_id, kind, attributes)
    }

    fn create_many(
        &self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        batch: Vec<Attributes>,
    ) -> StoreResult<Vec<String>> {
        self.session(Access::Write)?
            .create_many(actor, tenant_id, kind, batch)
    }

    fn get(&self, tenant_id: &str, kind: ResourceKind, id: &str) -> StoreResult<Resource> {
        self.session(Access::Read)?.get(tenant_id, kind, id, true)
    }

    fn replace(
        &self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        id: &str,
        attributes: Attributes,
        expected_version: Option<i64>,
    ) -> StoreResult<Resource> {
        self.session(Access::Write)?
            .update(actor, tenant_id, kind, id, true, &mut |current| {
                version_check(expected_version, current)?;
                Ok(Some(attributes.clone()))
            })
            .map_err(mismatch)
    }

    fn delete(
        &self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        id: &str,
        expected_version: Option<i64>,
    ) -> StoreResult<()> {
        self.session(Access::Write)?
            .delete(actor, tenant_id, kind, id, &mut |current| {
                version_check(expected_version, current)
            })
            .map_err(mismatch)
    }

    fn list(&self, tenant_id: &str, kind: ResourceKind, params: &ListParams) -> StoreResult<Page> {
        self.session(Access::Read)?.list(tenant_id, kind, params)
    }
}

impl Store for DieselStore {
    fn session(&self, access: Access) -> StoreResult<Box<dyn Session + '_>> {
        let conn = match access {
            Access::Read => self.conn()?,
            Access::Write => self.write_conn()?,
        };
        Ok(Box::new(DieselSession::new(
            conn,
            &self.hints,
            self.scan_budget,
            &self.listener,
        )))
    }

    fn capacity(&self) -> SessionCapacity {
        SessionCapacity {
            readers: usize::try_from(self.readers.max_size()).unwrap_or(1),
            writers: self
                .writer
                .as_ref()
                .map(|w| usize::try_from(w.max_size()).unwrap_or(1)),
        }
    }

    fn ping(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        diesel::sql_query("SELECT 1").execute(&mut *conn)?;
        Ok(())
    }

    fn backend_name(&self) -> &'static str {
        self.backend()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn busy() -> StoreError {
        StoreError::Busy("deadlock detected".into())
    }

    #[test]
    fn busy_is_retried_a_bounded_number_of_times_with_pauses() {
        // Fails twice, then succeeds: three attempts, two pauses.
        let (attempts, pauses) = (Cell::new(0), RefCell::new(Vec::new()));
        let out = retry_busy(
            true,
            |n| pauses.borrow_mut().push(n),
            || {
                attempts.set(attempts.get() + 1);
                if attempts.get() < 3 {
                    Err(busy())
                } else {
                    Ok(7)
                }
            },
        );
        assert_eq!(out.unwrap(), 7);
        assert_eq!(attempts.get(), 3);
        assert_eq!(*pauses.borrow(), vec![1, 2]);
        // Always busy: 1 + BUSY_RETRIES attempts, then `Busy` for the caller.
        attempts.set(0);
        let out: StoreResult<()> = retry_busy(
            true,
            |_| {},
            || {
                attempts.set(attempts.get() + 1);
                Err(busy())
            },
        );
        assert!(matches!(out, Err(StoreError::Busy(_))));
        assert_eq!(attempts.get(), 1 + BUSY_RETRIES);
        // Not retried: SQLite (busy_timeout already waited), and other errors.
        attempts.set(0);
        let out: StoreResult<()> = retry_busy(
            false,
            |_| {},
            || {
                attempts.set(attempts.get() + 1);
                Err(busy())
            },
        );
        assert!(matches!(out, Err(StoreError::Busy(_))));
        assert_eq!(attempts.get(), 1);
        attempts.set(0);
        let out: StoreResult<()> = retry_busy(
            true,
            |_| {},
            || {
                attempts.set(attempts.get() + 1);
                Err(StoreError::VersionMismatch)
            },
        );
        assert!(matches!(out, Err(StoreError::VersionMismatch)));
        assert_eq!(attempts.get(), 1);
    }
}
