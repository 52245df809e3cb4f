//! The request log's statements: the in-transaction insert of a write request's entry
//! ([`insert_in_tx`]), the background writer's batches, the newest-first keyset query and
//! the retention prune. Every query names its tenant and reads the
//! `(tenant_id, at, id)` index.

use super::schema::{request_log, tenants};
use super::{AnyConnection, DieselStore, truncate_ms, utc, write_tx};
use crate::{
    InTxRequest, LogOperation, REQUESTS_DEFAULT_LIMIT, REQUESTS_MAX_LIMIT, RequestAction,
    RequestEntry, RequestLogRepo, RequestQuery, RequestRecord, StoreError, StoreResult,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use scim_core::ResourceKind;
use std::collections::HashSet;

/// A summary longer than this is stored as `{"truncated":true}` (the HTTP layer bounds
/// what it builds far below; this only keeps a bug from storing megabytes).
const MAX_SUMMARY_BYTES: usize = 16 * 1024;
/// Paths are cut at this many characters (the HTTP layer cuts at 512 already).
const MAX_PATH_CHARS: usize = 600;
/// Rows per multi-row `INSERT` (11 binds a row).
const INSERT_CHUNK: usize = 200;

/// The action of a committed change: what the store did, not what the request named. A
/// membership-only change keeps the request's own membership action (add, remove or
/// both), which says which way it went.
pub(crate) fn action_of(
    op: LogOperation,
    kind: ResourceKind,
    asked: RequestAction,
) -> RequestAction {
    use RequestAction as A;
    match (op, kind) {
        (LogOperation::Create, ResourceKind::User) => A::CreateUser,
        (LogOperation::Create, ResourceKind::Group) => A::CreateGroup,
        (LogOperation::Delete, ResourceKind::User) => A::DeleteUser,
        (LogOperation::Delete, ResourceKind::Group) => A::DeleteGroup,
        (LogOperation::Deactivate, _) => A::DeactivateUser,
        (LogOperation::Reactivate, _) => A::ReactivateUser,
        (LogOperation::Update, ResourceKind::User) => A::UpdateUser,
        (LogOperation::Update, ResourceKind::Group) => A::UpdateGroup,
        (LogOperation::GroupMembership, _) if asked.is_membership() => asked,
        (LogOperation::GroupMembership, _) => A::GroupChangeMembers,
    }
}

type Row = (
    i64,
    String,
    chrono::NaiveDateTime,
    String,
    String,
    i32,
    String,
    Option<String>,
    i64,
    String,
    Option<String>,
    String,
);

fn bounded_summary(s: &str) -> &str {
    if s.len() > MAX_SUMMARY_BYTES {
        r#"{"truncated":true}"#
    } else {
        s
    }
}

fn bounded_path(s: &str) -> String {
    super::tenants::shorten(s, MAX_PATH_CHARS)
}

/// Inserts `r` with `action` and its latency so far (inside the caller's write
/// transaction); `resource_id` is the changed resource's (a create's new id).
pub(crate) fn insert_in_tx(
    conn: &mut AnyConnection,
    r: &InTxRequest,
    action: RequestAction,
    resource_id: &str,
) -> StoreResult<()> {
    let latency = u64::try_from(r.started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let rec = &r.record;
    diesel::insert_into(request_log::table)
        .values((
            request_log::tenant_id.eq(&rec.tenant_id),
            request_log::at.eq(truncate_ms(rec.at.naive_utc())),
            request_log::method.eq(&rec.method),
            request_log::path.eq(bounded_path(&rec.path)),
            request_log::status.eq(i32::from(rec.status)),
            request_log::action.eq(action.as_str()),
            request_log::scim_type.eq(rec.scim_type.as_deref()),
            request_log::latency_ms.eq(i64::try_from(latency).unwrap_or(i64::MAX)),
            request_log::client.eq(&rec.client),
            request_log::resource_id.eq(Some(resource_id)),
            request_log::summary.eq(bounded_summary(&rec.summary)),
        ))
        .execute(conn)?;
    Ok(())
}

fn entry(row: Row) -> StoreResult<RequestEntry> {
    let (id, tenant_id, at, method, path, status, action, scim_type, latency, client, rid, summary) =
        row;
    let action = RequestAction::parse(&action)
        .ok_or_else(|| StoreError::Backend(format!("unknown request action '{action}'").into()))?;
    Ok(RequestEntry {
        id,
        record: RequestRecord {
            tenant_id,
            at: utc(at),
            method,
            path,
            status: u16::try_from(status).unwrap_or(0),
            action,
            scim_type,
            latency_ms: u64::try_from(latency).unwrap_or(0),
            client,
            resource_id: rid,
            summary,
        },
    })
}

macro_rules! columns {
    () => {
        (
            request_log::id,
            request_log::tenant_id,
            request_log::at,
            request_log::method,
            request_log::path,
            request_log::status,
            request_log::action,
            request_log::scim_type,
            request_log::latency_ms,
            request_log::client,
            request_log::resource_id,
            request_log::summary,
        )
    };
}

impl RequestLogRepo for DieselStore {
    fn insert_requests(&self, batch: &[RequestRecord]) -> StoreResult<usize> {
        if batch.is_empty() {
            return Ok(0);
        }
        let mut conn = self.write_conn()?;
        write_tx(&mut conn, |c| {
            // Only tenants that exist: a request to a made-up tenant id grows no table.
            let wanted: Vec<&str> = batch
                .iter()
                .map(|r| r.tenant_id.as_str())
                .filter(|t| scim_core::limits::is_storable_id(t))
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            if wanted.is_empty() {
                return Ok(0);
            }
            let known: HashSet<String> = tenants::table
                .filter(tenants::id.eq_any(&wanted))
                .select(tenants::id)
                .load::<String>(c)?
                .into_iter()
                .collect();
            let keep: Vec<&RequestRecord> = batch
                .iter()
                .filter(|r| known.contains(&r.tenant_id))
                .collect();
            for chunk in keep.chunks(INSERT_CHUNK) {
                let rows: Vec<_> = chunk
                    .iter()
                    .map(|r| {
                        (
                            request_log::tenant_id.eq(r.tenant_id.as_str()),
                            request_log::at.eq(truncate_ms(r.at.naive_utc())),
                            request_log::method.eq(r.method.as_str()),
                            request_log::path.eq(bounded_path(&r.path)),
                            request_log::status.eq(i32::from(r.status)),
                            request_log::action.eq(r.action.as_str()),
                            request_log::scim_type.eq(r.scim_type.as_deref()),
                            request_log::latency_ms
                                .eq(i64::try_from(r.latency_ms).unwrap_or(i64::MAX)),
                            request_log::client.eq(r.client.as_str()),
                            request_log::resource_id.eq(r.resource_id.as_deref()),
                            request_log::summary.eq(bounded_summary(&r.summary)),
                        )
                    })
                    .collect();
                // Multi-row VALUES need the concrete backend.
                match c {
                    AnyConnection::Postgresql(c) => diesel::insert_into(request_log::table)
                        .values(&rows)
                        .execute(c)?,
                    AnyConnection::Sqlite(c) => diesel::insert_into(request_log::table)
                        .values(&rows)
                        .execute(c)?,
                };
            }
            Ok(keep.len())
        })
    }

    fn list_requests(
        &self,
        tenant_id: &str,
        query: &RequestQuery,
    ) -> StoreResult<Vec<RequestEntry>> {
        let limit = match query.limit {
            0 => REQUESTS_DEFAULT_LIMIT,
            n => n.min(REQUESTS_MAX_LIMIT),
        };
        let mut conn = self.conn()?;
        let mut q = request_log::table
            .filter(request_log::tenant_id.eq(tenant_id.to_string()))
            .into_boxed();
        if let Some(status) = query.status {
            let (lo, hi) = status.range();
            q = q
                .filter(request_log::status.ge(i32::from(lo)))
                .filter(request_log::status.le(i32::from(hi)));
        }
        if let Some(action) = query.action {
            q = q.filter(request_log::action.eq(action.as_str()));
        }
        if let Some(client) = &query.client {
            q = q.filter(request_log::client.eq(client.clone()));
        }
        if let Some(since) = query.since {
            q = q.filter(request_log::at.ge(truncate_ms(since.naive_utc())));
        }
        if let Some(until) = query.until {
            q = q.filter(request_log::at.lt(truncate_ms(until.naive_utc())));
        }
        if let Some(after) = query.after {
            let at = truncate_ms(after.at.naive_utc());
            q = q.filter(
                request_log::at
                    .lt(at)
                    .or(request_log::at.eq(at).and(request_log::id.lt(after.id))),
            );
        }
        let rows: Vec<Row> = q
            .select(columns!())
            .order((request_log::at.desc(), request_log::id.desc()))
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .load(&mut *conn)?;
        rows.into_iter().map(entry).collect()
    }

    fn get_request(&self, tenant_id: &str, id: i64) -> StoreResult<RequestEntry> {
        let mut conn = self.conn()?;
        let row: Option<Row> = request_log::table
            .filter(request_log::tenant_id.eq(tenant_id))
            .filter(request_log::id.eq(id))
            .select(columns!())
            .first(&mut *conn)
            .optional()?;
        entry(row.ok_or(StoreError::NotFound)?)
    }

    fn prune_requests(&self, before: DateTime<Utc>, batch: u64) -> StoreResult<u64> {
        let cutoff = truncate_ms(before.naive_utc());
        let batch = i64::try_from(batch.max(1)).unwrap_or(i64::MAX);
        let tenant_ids: Vec<String> = {
            let mut conn = self.conn()?;
            tenants::table.select(tenants::id).load(&mut *conn)?
        };
        let mut total = 0u64;
        for tenant_id in tenant_ids {
            loop {
                // One short write transaction per batch, so SCIM writes (SQLite's one
                // writer) wait at most one batch.
                let mut conn = self.write_conn()?;
                let deleted = write_tx(&mut conn, |c| {
                    let ids: Vec<i64> = request_log::table
                        .filter(request_log::tenant_id.eq(&tenant_id))
                        .filter(request_log::at.lt(cutoff))
                        .order((request_log::at.asc(), request_log::id.asc()))
                        .select(request_log::id)
                        .limit(batch)
                        .load(c)?;
                    if ids.is_empty() {
                        return Ok(0);
                    }
                    Ok(diesel::delete(
                        request_log::table
                            .filter(request_log::tenant_id.eq(&tenant_id))
                            .filter(request_log::id.eq_any(&ids)),
                    )
                    .execute(c)?)
                })?;
                total += deleted as u64;
                if (deleted as i64) < batch {
                    break;
                }
            }
        }
        Ok(total)
    }
}
