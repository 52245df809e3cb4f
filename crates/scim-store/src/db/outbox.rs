//! The outbox: appending a write transaction's events to its tenant's feed, and reading
//! the feed back.
//!
//! Positions are gap-free and in commit order per tenant, so a reader can use them as a
//! cursor across replicas; they are never reused, even after pruning. How each backend
//! allocates them:
//!
//! - **PostgreSQL**: from the tenant's `event_sequences` row (`last_position += n
//!   RETURNING last_position`), the **last** write of the transaction: its row lock is held
//!   until the commit, so a later transaction waits for it and can never commit a lower
//!   position after a reader has seen a higher one, and a transaction commits all of its
//!   positions or none. The change's own row lock is always taken before it, so the two
//!   cannot deadlock. A change with one log row does counter, events and log row in one
//!   cached statement ([`outbox_pg`](super::outbox_pg)); its lock is held from that
//!   statement to the commit, so one tenant's writes are serialised for that span. The
//!   migration and tenant creation create the counter row; without it (and for
//!   `create_many`) the general path upserts it.
//! - **SQLite**: the one writer connection serialises every write transaction, so
//!   `position = max(MAX(events.position) of the tenant, event_sequences.last_position) + 1`,
//!   computed inside the write transaction (inside the `INSERT` of a single event,
//!   [`outbox_sqlite`](super::outbox_sqlite)), is gap-free and in commit order without
//!   writing the counter row (every page a commit dirties is written to the WAL in full). The counter
//!   row is only written by [`prune`], before it deletes a prefix, so that positions are
//!   never reused after the newest events are pruned. The rule: on SQLite nothing but
//!   pruning writes `event_sequences`, and every reader of "the last position" takes that
//!   maximum ([`last_position`], the claim's "has work").

use super::outbox_pg::{self, AppendAndLog};
use super::outbox_sqlite::{self, InsertOne};
use super::schema::{event_deliveries, event_redeliveries, event_sequences, events, tenants};
use super::tenants::{shorten, write_log};
use super::{AnyConnection, kind_from_name, now_ms, utc, write_tx};
use crate::{EventRecord, LogOperation, StoreError, StoreResult};
use chrono::NaiveDateTime;
use diesel::dsl::max;
use diesel::prelude::*;
use diesel::upsert::excluded;
use scim_core::ResourceKind;
use scim_core::events::{ChangeEvent, EventType, StoredEvent, Subject};
use serde_json::Value;

/// Rows per multi-row event `INSERT` (14 binds a row: far below every backend's limit).
const INSERT_CHUNK: usize = 64;

/// The default and the largest page of [`list`].
pub(crate) const EVENTS_DEFAULT_LIMIT: u64 = 100;
/// See [`EVENTS_DEFAULT_LIMIT`].
pub(crate) const EVENTS_MAX_LIMIT: u64 = 1000;

/// A new event id (the SET's `jti`, and a new `txn`): a UUID v4 in its simple form.
pub(crate) fn new_event_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Appends `events` to the tenant's feed (inside the caller's write transaction, as its
/// last statements before the log row): allocates their positions, inserts them with
/// `txn`, a new `jti` each, and `created_at = now`. Returns the positions `(first, last)`,
/// or `None` (writing nothing) when there are no events.
pub(crate) fn append(
    conn: &mut AnyConnection,
    tenant_id: &str,
    txn: &str,
    now: NaiveDateTime,
    events: &[ChangeEvent],
) -> StoreResult<Option<(i64, i64)>> {
    if events.is_empty() {
        return Ok(None);
    }
    if let (AnyConnection::Sqlite(c), [one]) = (&mut *conn, events) {
        // The common case on SQLite: position and event in one statement.
        let r = EventRow::new(one, 0)?;
        let position = outbox_sqlite::run(
            c,
            InsertOne {
                tenant_id,
                jti: new_event_id(),
                txn,
                event_type: r.event_type,
                resource_type: r.resource_type,
                resource_id: r.resource_id,
                external_id: r.external_id,
                version: r.version,
                data: r.data.as_deref(),
                attributes: &r.attributes,
                group_id: r.group_id,
                group_external_id: r.group_external_id,
                created_at: now,
            },
        )?;
        return Ok(Some((position, position)));
    }
    let n = i64::try_from(events.len()).map_err(|e| StoreError::Backend(Box::new(e)))?;
    let last = allocate(conn, tenant_id, n)?;
    let first = last - n + 1;
    let rows = events
        .iter()
        .zip(first..)
        .map(|(e, position)| EventRow::new(e, position))
        .collect::<StoreResult<Vec<_>>>()?;
    macro_rules! values {
        ($r:expr) => {
            (
                events::tenant_id.eq(tenant_id),
                events::position.eq($r.position),
                events::jti.eq(new_event_id()),
                events::txn.eq(txn),
                events::event_type.eq($r.event_type),
                events::resource_type.eq($r.resource_type),
                events::resource_id.eq($r.resource_id),
                events::external_id.eq($r.external_id),
                events::version.eq($r.version),
                events::data.eq($r.data.as_deref()),
                events::attributes.eq($r.attributes.as_str()),
                events::group_id.eq($r.group_id),
                events::group_external_id.eq($r.group_external_id),
                events::created_at.eq(now),
            )
        };
    }
    if let [one] = rows.as_slice() {
        // A single-row INSERT is a statement diesel caches (the common case: one event).
        diesel::insert_into(events::table)
            .values(values!(one))
            .execute(conn)?;
    } else {
        for chunk in rows.chunks(INSERT_CHUNK) {
            let values: Vec<_> = chunk.iter().map(|r| values!(r)).collect();
            // Multi-row VALUES need the concrete backend.
            match conn {
                AnyConnection::Postgresql(c) => diesel::insert_into(events::table)
                    .values(&values)
                    .execute(c)?,
                AnyConnection::Sqlite(c) => diesel::insert_into(events::table)
                    .values(&values)
                    .execute(c)?,
            };
        }
    }
    Ok(Some((first, last)))
}

/// The provisioning-log row of a write, written with its events by [`append_and_log`].
pub(crate) struct LogRow<'a> {
    /// The token the change was made with.
    pub token_id: Option<&'a str>,
    /// What happened.
    pub operation: LogOperation,
    /// User or Group.
    pub kind: ResourceKind,
    /// The resource.
    pub resource_id: &'a str,
    /// The secret-free summary.
    pub summary: &'a str,
}

/// Appends the events of a change (see [`append`]) and writes its log row with their
/// positions; returns the positions. On PostgreSQL one cached statement does all three
/// ([`outbox_pg`](super::outbox_pg)); without the tenant's counter row it writes nothing
/// and the general path (upsert, events, log row) follows, so no event is lost.
pub(crate) fn append_and_log(
    conn: &mut AnyConnection,
    tenant_id: &str,
    txn: &str,
    now: NaiveDateTime,
    events: &[ChangeEvent],
    log: &LogRow<'_>,
) -> StoreResult<Option<(i64, i64)>> {
    if let (AnyConnection::Postgresql(c), false) = (&mut *conn, events.is_empty()) {
        let n = i64::try_from(events.len()).map_err(|e| StoreError::Backend(Box::new(e)))?;
        let rows = events
            .iter()
            .map(|e| EventRow::new(e, 0))
            .collect::<StoreResult<Vec<_>>>()?;
        let summary = shorten(log.summary, 300);
        let q = AppendAndLog {
            tenant_id,
            n,
            txn,
            created_at: now,
            jti: rows.iter().map(|_| new_event_id()).collect(),
            event_type: rows.iter().map(|r| r.event_type).collect(),
            resource_type: rows.iter().map(|r| r.resource_type).collect(),
            resource_id: rows.iter().map(|r| r.resource_id).collect(),
            external_id: rows.iter().map(|r| r.external_id).collect(),
            version: rows.iter().map(|r| r.version).collect(),
            data: rows.iter().map(|r| r.data.clone()).collect(),
            attributes: rows.iter().map(|r| r.attributes.clone()).collect(),
            group_id: rows.iter().map(|r| r.group_id).collect(),
            group_external_id: rows.iter().map(|r| r.group_external_id).collect(),
            log_at: now_ms(),
            token_id: log.token_id,
            operation: log.operation,
            kind: log.kind,
            log_resource_id: log.resource_id,
            summary: &summary,
        };
        if let Some(last) = outbox_pg::run(c, q)? {
            return Ok(Some((last - n + 1, last)));
        }
    }
    let range = append(conn, tenant_id, txn, now, events)?;
    write_log(
        conn,
        tenant_id,
        log.token_id,
        log.operation,
        log.kind,
        log.resource_id,
        log.summary,
        range,
    )?;
    Ok(range)
}

/// Allocates `n` positions for the tenant and returns the new last position (see the
/// module docs for each backend's rule).
fn allocate(conn: &mut AnyConnection, tenant_id: &str, n: i64) -> StoreResult<i64> {
    match conn {
        AnyConnection::Postgresql(c) => allocate_pg(c, tenant_id, n),
        AnyConnection::Sqlite(c) => Ok(sqlite_last(c, tenant_id)? + n),
    }
}

/// SQLite's last position of the tenant: the larger of its newest event and its counter
/// row (written only by pruning). Only meaningful inside the writer's transaction (or as
/// a snapshot read).
fn sqlite_last(c: &mut SqliteConnection, tenant_id: &str) -> StoreResult<i64> {
    // One statement (a cached one) for both: every statement costs a few µs on SQLite.
    let newest = events::table
        .filter(events::tenant_id.eq(tenant_id))
        .select(max(events::position))
        .single_value();
    let counter = event_sequences::table
        .filter(event_sequences::tenant_id.eq(tenant_id))
        .select(event_sequences::last_position)
        .single_value();
    let (newest, counter): (Option<i64>, Option<i64>) =
        diesel::select((newest, counter)).get_result(c)?;
    Ok(newest.unwrap_or(0).max(counter.unwrap_or(0)))
}

/// PostgreSQL: adds `n` to the tenant's counter row and returns the new last position;
/// the statement locks the row until commit. An `UPDATE … RETURNING` of the existing row
/// (the migration and tenant creation create one; cheaper than the upsert's speculative
/// insertion on every write), and the upsert only for a tenant without one.
fn allocate_pg(c: &mut PgConnection, tenant_id: &str, n: i64) -> StoreResult<i64> {
    let bumped: Option<i64> =
        diesel::update(event_sequences::table.filter(event_sequences::tenant_id.eq(tenant_id)))
            .set(event_sequences::last_position.eq(event_sequences::last_position + n))
            .returning(event_sequences::last_position)
            .get_result(c)
            .optional()?;
    if let Some(last) = bumped {
        return Ok(last);
    }
    Ok(diesel::insert_into(event_sequences::table)
        .values((
            event_sequences::tenant_id.eq(tenant_id),
            event_sequences::last_position.eq(n),
        ))
        .on_conflict(event_sequences::tenant_id)
        .do_update()
        .set(
            event_sequences::last_position
                .eq(event_sequences::last_position + excluded(event_sequences::last_position)),
        )
        .returning(event_sequences::last_position)
        .get_result::<i64>(c)?)
}

/// One event as inserted.
struct EventRow<'a> {
    position: i64,
    event_type: &'static str,
    resource_type: &'static str,
    resource_id: &'a str,
    external_id: Option<&'a str>,
    version: Option<i64>,
    data: Option<String>,
    attributes: String,
    group_id: Option<&'a str>,
    group_external_id: Option<&'a str>,
}

impl<'a> EventRow<'a> {
    fn new(e: &'a ChangeEvent, position: i64) -> StoreResult<Self> {
        let json = |v: &Value| serde_json::to_string(v).map_err(|e| StoreError::Backend(e.into()));
        let attributes =
            serde_json::to_string(&e.attributes).map_err(|e| StoreError::Backend(Box::new(e)))?;
        Ok(EventRow {
            position,
            event_type: e.event_type.name(),
            resource_type: e.subject.kind.as_str(),
            resource_id: &e.subject.id,
            external_id: e.subject.external_id.as_deref(),
            version: e.version,
            data: e.data.as_ref().map(json).transpose()?,
            attributes,
            group_id: e.group.as_ref().map(|g| g.id.as_str()),
            group_external_id: e.group.as_ref().and_then(|g| g.external_id.as_deref()),
        })
    }
}

/// The columns read back, in [`EventTuple`] order.
type EventColumns = (
    events::tenant_id,
    events::position,
    events::jti,
    events::txn,
    events::event_type,
    events::resource_type,
    events::resource_id,
    events::external_id,
    events::version,
    events::data,
    events::attributes,
    events::group_id,
    events::group_external_id,
    events::created_at,
);

const EVENT_COLUMNS: EventColumns = (
    events::tenant_id,
    events::position,
    events::jti,
    events::txn,
    events::event_type,
    events::resource_type,
    events::resource_id,
    events::external_id,
    events::version,
    events::data,
    events::attributes,
    events::group_id,
    events::group_external_id,
    events::created_at,
);

/// An event row as read.
type EventTuple = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    NaiveDateTime,
);

fn to_record(row: EventTuple) -> StoreResult<EventRecord> {
    let (
        tenant_id,
        position,
        jti,
        txn,
        event_type,
        resource_type,
        resource_id,
        external_id,
        version,
        data,
        attributes,
        group_id,
        group_external_id,
        created_at,
    ) = row;
    let backend = |e: serde_json::Error| StoreError::Backend(Box::new(e));
    let event_type = EventType::parse(&event_type).ok_or_else(|| {
        StoreError::Backend(format!("unknown stored event type '{event_type}'").into())
    })?;
    Ok(EventRecord {
        tenant_id,
        position,
        event: StoredEvent {
            jti,
            txn,
            issued_at: utc(created_at),
            event: ChangeEvent {
                event_type,
                subject: Subject {
                    kind: kind_from_name(&resource_type)?,
                    id: resource_id,
                    external_id,
                },
                version,
                data: data
                    .map(|d| serde_json::from_str(&d))
                    .transpose()
                    .map_err(backend)?,
                attributes: serde_json::from_str(&attributes).map_err(backend)?,
                group: group_id.map(|id| Subject {
                    kind: ResourceKind::Group,
                    id,
                    external_id: group_external_id,
                }),
            },
        },
    })
}

/// Up to `limit` events of the tenant after `after`, in position order (a range scan of
/// the primary key); with `types`, only those.
pub(crate) fn list(
    conn: &mut AnyConnection,
    tenant_id: &str,
    after: i64,
    limit: u64,
    types: Option<&[EventType]>,
) -> StoreResult<Vec<EventRecord>> {
    let limit = match limit {
        0 => EVENTS_DEFAULT_LIMIT,
        n => n.min(EVENTS_MAX_LIMIT),
    };
    let mut q = events::table
        .filter(events::tenant_id.eq(tenant_id.to_string()))
        .filter(events::position.gt(after))
        .into_boxed();
    if let Some(types) = types {
        let names: Vec<&'static str> = types.iter().map(|t| t.name()).collect();
        q = q.filter(events::event_type.eq_any(names));
    }
    let rows: Vec<EventTuple> = q
        .select(EVENT_COLUMNS)
        .order(events::position.asc())
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .load(conn)?;
    rows.into_iter().map(to_record).collect()
}

/// One event of the tenant by position.
pub(crate) fn get(
    conn: &mut AnyConnection,
    tenant_id: &str,
    position: i64,
) -> StoreResult<EventRecord> {
    let row: EventTuple = events::table
        .filter(events::tenant_id.eq(tenant_id))
        .filter(events::position.eq(position))
        .select(EVENT_COLUMNS)
        .first(conn)?;
    to_record(row)
}

/// The tenant's last allocated position (0 before its first event).
pub(crate) fn last_position(conn: &mut AnyConnection, tenant_id: &str) -> StoreResult<i64> {
    match conn {
        AnyConnection::Postgresql(c) => Ok(event_sequences::table
            .filter(event_sequences::tenant_id.eq(tenant_id))
            .select(event_sequences::last_position)
            .first::<i64>(c)
            .optional()?
            .unwrap_or(0)),
        // Pruning writes the counter before it deletes, in one transaction, and the newest
        // event only grows otherwise, so the two reads never go backwards.
        AnyConnection::Sqlite(c) => sqlite_last(c, tenant_id),
    }
}

/// Deletes events committed before `before`, at most `batch` per call, as whole prefixes
/// of each tenant's feed in position order (so a cursor never sees a hole), with their
/// delivery-log rows and queued redeliveries. Each tenant's cut is found by reading at
/// most `batch` keys from the start of its feed (never a scan by time), and each delete is
/// a key range `position <= cut` in its own short transaction. The counter rows stay, so
/// positions are never reused.
pub(crate) fn prune(
    conn: &mut AnyConnection,
    before: NaiveDateTime,
    batch: u64,
) -> StoreResult<u64> {
    let mut left = i64::try_from(batch).unwrap_or(i64::MAX);
    let mut pruned = 0_u64;
    // Every tenant (on SQLite a tenant's counter row may be missing: only pruning writes it).
    let tenants: Vec<String> = tenants::table
        .select(tenants::id)
        .order(tenants::id.asc())
        .load(conn)?;
    for tenant_id in tenants {
        if left <= 0 {
            break;
        }
        // The oldest keys of the feed; the prefix of those committed before `before`.
        let oldest: Vec<(i64, NaiveDateTime)> = events::table
            .filter(events::tenant_id.eq(&tenant_id))
            .select((events::position, events::created_at))
            .order(events::position.asc())
            .limit(left)
            .load(conn)?;
        let Some(cut) = oldest
            .iter()
            .take_while(|(_, at)| *at < before)
            .map(|(p, _)| *p)
            .last()
        else {
            continue;
        };
        let n = write_tx(conn, |c| {
            if let AnyConnection::Sqlite(c) = c {
                // SQLite allocates after the newest event or the counter, whichever is
                // larger: keep the pruned prefix's end in the counter, so no position is
                // ever handed out twice (see the module docs).
                diesel::insert_into(event_sequences::table)
                    .values((
                        event_sequences::tenant_id.eq(&tenant_id),
                        event_sequences::last_position.eq(cut),
                    ))
                    .on_conflict(event_sequences::tenant_id)
                    .do_update()
                    .set(event_sequences::last_position.eq(diesel::dsl::sql::<
                        diesel::sql_types::BigInt,
                    >(
                        "MAX(last_position, excluded.last_position)",
                    )))
                    .execute(c)?;
            }
            let n = diesel::delete(
                events::table
                    .filter(events::tenant_id.eq(&tenant_id))
                    .filter(events::position.le(cut)),
            )
            .execute(c)?;
            diesel::delete(
                event_deliveries::table
                    .filter(event_deliveries::tenant_id.eq(&tenant_id))
                    .filter(event_deliveries::position.le(cut)),
            )
            .execute(c)?;
            diesel::delete(
                event_redeliveries::table
                    .filter(event_redeliveries::tenant_id.eq(&tenant_id))
                    .filter(event_redeliveries::position.le(cut)),
            )
            .execute(c)?;
            Ok(n)
        })?;
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        left -= n;
        pruned += u64::try_from(n).unwrap_or(0);
    }
    Ok(pruned)
}
