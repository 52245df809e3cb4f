//! [`DieselSession`]: one pooled connection for one unit of work, and the
//! [`Store`]/[`ResourceRepo`] façade of [`DieselStore`] built on it (each façade call is a
//! session of its own).
//!
//! Write methods run in one transaction ([`write_tx`]); a PostgreSQL deadlock or
//! serialization failure ([`StoreError::Busy`]) re-runs the whole transaction, at most
//! [`BUSY_RETRIES`] more times, here and nowhere else.

use super::relations::with_relations;
use super::rows::{bare_resource, read_row};
use super::tenants::{read_tenant, record_token_use};
use super::writes::{self, Writer};
use super::{AnyConnection, DbManager, DieselStore, write_tx};
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

/// How many times a transaction that hit a deadlock or serialization failure is re-run.
const BUSY_RETRIES: u32 = 2;

/// One unit of work on one pooled connection.
pub(crate) struct DieselSession {
    conn: PooledConnection<DbManager>,
}

impl DieselSession {
    pub(crate) fn new(conn: PooledConnection<DbManager>) -> Self {
        DieselSession { conn }
    }

    /// Runs `f` in one write transaction, re-running it after a deadlock or
    /// serialization failure.
    fn write<T>(
        &mut self,
        mut f: impl FnMut(&mut AnyConnection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut retries = 0;
        loop {
            match write_tx(&mut self.conn, &mut f) {
                Err(StoreError::Busy(_))
                    if retries < BUSY_RETRIES
                        && matches!(*self.conn, AnyConnection::Postgresql(_)) =>
                {
                    retries += 1;
                }
                other => return other,
            }
        }
    }
}

fn writer<'a>(actor: &'a Actor, tenant_id: &'a str) -> Writer<'a> {
    Writer {
        tenant_id,
        token: actor.token_id.as_deref(),
    }
}

impl Session for DieselSession {
    fn tenant(&mut self, tenant_id: &str) -> StoreResult<Tenant> {
        read_tenant(&mut self.conn, tenant_id)
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
        super::list::list(&mut self.conn, tenant_id, kind, params)
    }

    fn create(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        attributes: Attributes,
    ) -> StoreResult<Resource> {
        let w = writer(actor, tenant_id);
        // A retried transaction starts again from the same attributes.
        self.write(|c| writes::create(c, w, kind, attributes.clone(), true))
    }

    fn create_many(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        batch: Vec<Attributes>,
    ) -> StoreResult<Vec<String>> {
        let w = writer(actor, tenant_id);
        self.write(|c| {
            batch
                .iter()
                .map(|a| writes::create(c, w, kind, a.clone(), false).map(|r| r.id))
                .collect()
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
        let w = writer(actor, tenant_id);
        self.write(|c| writes::update(c, w, kind, id, relations, change))
    }

    fn change_members(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        group_id: &str,
        delta: &MemberDelta,
        change: &mut dyn FnMut(&Resource) -> Result<Option<Attributes>, ScimError>,
    ) -> StoreResult<Resource> {
        let w = writer(actor, tenant_id);
        self.write(|c| writes::change_members(c, w, group_id, delta, change))
    }

    fn delete(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        id: &str,
        check: &mut dyn FnMut(&Resource) -> Result<(), ScimError>,
    ) -> StoreResult<()> {
        let w = writer(actor, tenant_id);
        self.write(|c| writes::delete(c, w, kind, id, check))
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
        Ok(Box::new(DieselSession::new(conn)))
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
