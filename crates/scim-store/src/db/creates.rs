//! The create transactions behind [`Session`](crate::Session): one resource
//! ([`create`]), a batch all or nothing ([`create_many`], the import path), and a batch with
//! an outcome per resource ([`create_each`], Bulk), which writes each chunk with multi-row
//! statements and replays a chunk one resource at a time only when something in it fails.

use super::relations::with_relations;
use super::rows::{render_document, stored_document};
use super::tenants::{LogLine, write_logs};
use super::writes::{Writer, group_subject, membership_events};
use super::{AnyConnection, counts, groups, new_id, now_ms, users, utc};
use crate::{LogOperation, StoreError, StoreResult};
use chrono::NaiveDateTime;
use scim_core::ResourceKind;
use scim_core::events::{Change, ChangeEvent, events_for};
use scim_core::resource::{Attributes, Meta, Resource};

/// One resource written by [`insert_one`]: the resource (without relations), its log
/// summary and its events.
struct Inserted {
    resource: Resource,
    /// Whether a group was created with members.
    with_members: bool,
    summary: String,
    events: Vec<ChangeEvent>,
}

/// A resource as its create wrote it: version 1, created and modified `now`.
fn new_resource(
    kind: ResourceKind,
    id: String,
    attributes: Attributes,
    now: NaiveDateTime,
) -> Resource {
    Resource {
        kind,
        id,
        attributes,
        meta: Meta {
            created: utc(now),
            last_modified: utc(now),
            version: 1,
        },
    }
}

/// Inserts one resource (a group with its members) and derives its events: `prov:create`,
/// then one `feed:add` per member of a new group. No counters, events or log rows yet.
fn insert_one(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    attributes: Attributes,
    now: NaiveDateTime,
) -> StoreResult<Inserted> {
    let id = new_id();
    let wanted = match kind {
        ResourceKind::Group => groups::requested_members(&attributes)?,
        ResourceKind::User => Vec::new(),
    };
    let doc = stored_document(kind, attributes);
    let text = render_document(&doc)?;
    let (summary, added) = match kind {
        ResourceKind::User => {
            let cols = users::insert(conn, tenant_id, &id, &doc, &text, now)?;
            (format!("userName={}", cols.user_name), Vec::new())
        }
        ResourceKind::Group => {
            let members = groups::resolve_members(conn, tenant_id, &id, &wanted)?;
            let name = groups::insert(conn, tenant_id, &id, &doc, &text, now)?;
            let added = groups::insert_members(conn, tenant_id, &id, &members)?;
            (
                format!("displayName={name}; members={}", added.len()),
                added,
            )
        }
    };
    let resource = new_resource(kind, id, doc, now);
    let mut events = events_for(Change::Created(&resource));
    if !added.is_empty() {
        let group = group_subject(&resource.id, &resource.attributes);
        events.extend(membership_events(&group, &added, &[]));
    }
    Ok(Inserted {
        with_members: !added.is_empty(),
        resource,
        summary,
        events,
    })
}

/// Creates one resource. A Group's `members` are resolved and written; with
/// `read_back` the answer carries them rendered (display names), otherwise it has none.
pub(crate) fn create(
    conn: &mut AnyConnection,
    w: Writer<'_>,
    kind: ResourceKind,
    attributes: Attributes,
    read_back: bool,
) -> StoreResult<Resource> {
    let now = now_ms();
    let one = insert_one(conn, w.tenant_id, kind, attributes, now)?;
    counts::record(conn, w.tenant_id, kind, 1, 0)?;
    let (created, has_members) = (one.resource, one.with_members);
    w.finish(
        conn,
        now,
        &one.events,
        LogOperation::Create,
        kind,
        &created.id,
        &one.summary,
    )?;
    if read_back && has_members {
        let row = super::rows::read_row(conn, w.tenant_id, kind, &created.id)?
            .ok_or(StoreError::NotFound)?;
        return with_relations(conn, w.tenant_id, kind, &row);
    }
    Ok(created)
}

/// Creates a batch of resources (see [`Session::create_many`](crate::Session::create_many)):
/// users with multi-row statements, groups one by one (their members need resolving); one
/// counter update, one event append and multi-row log rows for the whole batch.
pub(crate) fn create_many(
    conn: &mut AnyConnection,
    w: Writer<'_>,
    kind: ResourceKind,
    batch: &[Attributes],
) -> StoreResult<Vec<String>> {
    Ok(insert_batch(conn, w, kind, batch)?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// Writes `batch` with multi-row statements and returns the created resources (a group
/// without its members rendered); all or nothing, the caller's transaction decides.
fn insert_batch(
    conn: &mut AnyConnection,
    w: Writer<'_>,
    kind: ResourceKind,
    batch: &[Attributes],
) -> StoreResult<Vec<Resource>> {
    let now = now_ms();
    // Per resource: the resource, its log summary and its events.
    let written: Vec<(Resource, String, Vec<ChangeEvent>)> = match kind {
        ResourceKind::Group => batch
            .iter()
            .map(|a| {
                insert_one(conn, w.tenant_id, kind, a.clone(), now)
                    .map(|one| (one.resource, one.summary, one.events))
            })
            .collect::<StoreResult<_>>()?,
        ResourceKind::User => {
            let docs = batch
                .iter()
                .map(|a| {
                    let doc = stored_document(kind, a.clone());
                    let text = render_document(&doc)?;
                    Ok((new_id(), doc, text))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            let cols = users::insert_many(conn, w.tenant_id, &docs, now)?;
            docs.into_iter()
                .zip(&cols)
                .map(|((id, doc, _), c)| {
                    let resource = new_resource(kind, id, doc, now);
                    let events = events_for(Change::Created(&resource));
                    (resource, format!("userName={}", c.user_name), events)
                })
                .collect()
        }
    };
    let n = i64::try_from(written.len()).unwrap_or(i64::MAX);
    counts::record(conn, w.tenant_id, kind, n, 0)?;
    let all: Vec<ChangeEvent> = written
        .iter()
        .flat_map(|(_, _, e)| e.iter().cloned())
        .collect();
    let range = w.append(conn, now, &all)?;
    // Each log row gets the positions of its own resource's events.
    let mut next = range.map_or(0, |(first, _)| first);
    let mut entries: Vec<LogLine> = Vec::with_capacity(written.len());
    let mut created = Vec::with_capacity(written.len());
    for (resource, summary, events) in written {
        let len = i64::try_from(events.len()).unwrap_or(i64::MAX);
        let own = (len > 0).then(|| (next, next + len - 1));
        next += len;
        entries.push((LogOperation::Create, resource.id.clone(), summary, own));
        created.push(resource);
    }
    write_logs(conn, w.tenant_id, w.token, kind, &entries)?;
    Ok(created)
}

/// How many creates of a Bulk request are tried as one multi-row write. A failure in a
/// chunk (a duplicate `userName`, an unknown member) replays only that chunk one resource
/// at a time, so a bad operation costs at most this many extra single writes.
const BULK_CHUNK: usize = 100;

/// Creates each resource of `batch` (see [`Session::create_each`](crate::Session::create_each)):
/// each chunk of [`BULK_CHUNK`] is first written with multi-row statements in one savepoint
/// (a round trip per statement, not per resource: what makes Bulk fast on PostgreSQL); if
/// anything in the chunk fails, that savepoint is rolled back and the chunk is replayed with
/// a savepoint per resource, so each resource gets its own outcome. An error that leaves the
/// transaction unusable (busy, unavailable, timeout) ends the whole batch, so the session
/// can roll back and re-run it.
pub(crate) fn create_each(
    conn: &mut AnyConnection,
    w: Writer<'_>,
    kind: ResourceKind,
    batch: &[Attributes],
    max_errors: Option<usize>,
) -> StoreResult<Vec<StoreResult<Resource>>> {
    use diesel::Connection;
    let mut out = Vec::with_capacity(batch.len());
    let mut errors = 0;
    for chunk in batch.chunks(BULK_CHUNK) {
        if max_errors.is_some_and(|m| errors >= m) {
            break;
        }
        // Nested in the write transaction, diesel makes this a SAVEPOINT.
        match conn.transaction(|c| insert_batch(c, w, kind, chunk)) {
            Ok(created) => {
                out.extend(created.into_iter().map(Ok));
                continue;
            }
            Err(e) if ends_transaction(&e) => return Err(e),
            Err(_) => {}
        }
        for attributes in chunk {
            if max_errors.is_some_and(|m| errors >= m) {
                break;
            }
            // A failure rolls back this resource only.
            let r = conn.transaction(|c| create(c, w, kind, attributes.clone(), false));
            match r {
                Err(e) if ends_transaction(&e) => return Err(e),
                r => {
                    errors += usize::from(r.is_err());
                    out.push(r);
                }
            }
        }
    }
    Ok(out)
}

/// Whether `e` leaves the transaction unusable, so that no further savepoint may run.
fn ends_transaction(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Busy(_) | StoreError::Unavailable(_) | StoreError::Timeout(_)
    )
}
