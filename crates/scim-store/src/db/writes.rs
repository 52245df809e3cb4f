//! The write transactions behind [`Session`](crate::Session) other than creates (those are
//! in [`creates`](super::creates)): update, change a group's membership by delta, delete.
//! Each runs inside the caller's transaction ([`write_tx`](super::write_tx)): it reads and
//! locks the row once, lets the caller's pure function decide, writes only what changed,
//! keeps the resource counters, appends the change's events to the outbox
//! ([`outbox::append`], the last statement before the log row), writes the provisioning-log
//! row with the events' positions, and builds the answer from what is in memory.

use super::outbox;
use super::relations::with_relations;
use super::rows::{
    bare_resource, parse_document, read_row_for_update, render_document, stored_document, str_attr,
};
use super::{AnyConnection, counts, groups, lock_order, now_ms, users, utc};
use crate::{LogOperation, StoreError, StoreResult};
use chrono::NaiveDateTime;
use scim_core::events::{Change, ChangeEvent, Subject, UpdateMethod, events_for};
use scim_core::patch::MemberDelta;
use scim_core::resource::{Attributes, Meta, Resource};
use scim_core::{ResourceKind, ScimError};
use serde_json::Value;
use std::cell::Cell;
use std::collections::HashSet;

/// Who writes and how, for the log rows and the events.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Writer<'a> {
    /// The tenant written to.
    pub tenant_id: &'a str,
    /// The token the change is made with.
    pub token: Option<&'a str>,
    /// The request's transaction id (`None`: a new one per transaction).
    pub txn: Option<&'a str>,
    /// PUT or PATCH, for the update events.
    pub method: UpdateMethod,
    /// Set when the transaction appended events, so the session tells the commit listener
    /// once it committed.
    pub appended: &'a Cell<bool>,
    /// The tenant's resource types: what its events' `data` may show.
    pub schemas: scim_core::schema::registry::Registry,
    /// The request's log entry, written with the first log row of the transaction.
    pub request: Option<&'a crate::InTxRequest>,
    /// Set when the transaction wrote [`Writer::request`], so the session marks it logged
    /// once it committed.
    pub request_written: &'a Cell<bool>,
}

impl Writer<'_> {
    /// Appends the transaction's events (at most once per transaction: one `txn` and one
    /// position allocation) and returns their positions.
    pub(super) fn append(
        &self,
        conn: &mut AnyConnection,
        now: NaiveDateTime,
        events: &[ChangeEvent],
    ) -> StoreResult<Option<(i64, i64)>> {
        let txn = self.txn.map_or_else(outbox::new_event_id, str::to_string);
        let projected = scim_core::events::project_events(&self.schemas, events);
        let events = projected.as_deref().unwrap_or(events);
        let range = outbox::append(conn, self.tenant_id, &txn, now, events)?;
        if range.is_some() {
            self.appended.set(true);
        }
        Ok(range)
    }

    /// Appends the change's events and writes its log row with their positions.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn finish(
        &self,
        conn: &mut AnyConnection,
        now: NaiveDateTime,
        events: &[ChangeEvent],
        operation: LogOperation,
        kind: ResourceKind,
        resource_id: &str,
        summary: &str,
    ) -> StoreResult<()> {
        let log = outbox::LogRow {
            token_id: self.token,
            operation,
            kind,
            resource_id,
            summary,
        };
        let projected = scim_core::events::project_events(&self.schemas, events);
        let events = projected.as_deref().unwrap_or(events);
        // The request's entry commits with its change, named by what the change did;
        // written before the outbox statement, which takes the tenant's counter row (held
        // until the commit on PostgreSQL), so that lock's span does not grow.
        if let Some(r) = self.request
            && !self.request_written.get()
        {
            let action = super::request_log::action_of(operation, kind, r.record.action);
            super::request_log::insert_in_tx(conn, r, action, resource_id)?;
            self.request_written.set(true);
        }
        let range = outbox::append_and_log(conn, self.tenant_id, &self.txn(), now, events, &log)?;
        if range.is_some() {
            self.appended.set(true);
        }
        Ok(())
    }

    /// The transaction's `txn`: the request's, or a new one.
    fn txn(&self) -> String {
        self.txn.map_or_else(outbox::new_event_id, str::to_string)
    }
}

/// The group a feed event names.
pub(super) fn group_subject(id: &str, doc: &Attributes) -> Subject {
    Subject {
        kind: ResourceKind::Group,
        id: id.to_string(),
        external_id: str_attr(doc, "externalId"),
    }
}

/// The events of a membership change (none when nothing changed).
pub(super) fn membership_events(
    group: &Subject,
    added: &[(String, ResourceKind)],
    removed: &[(String, ResourceKind)],
) -> Vec<ChangeEvent> {
    if added.is_empty() && removed.is_empty() {
        return Vec::new();
    }
    events_for(Change::Membership {
        group,
        added,
        removed,
    })
}

/// Reads and locks a resource, asks `change` for its new attributes and writes them (see
/// [`Session::update`](crate::Session::update)).
pub(crate) fn update(
    conn: &mut AnyConnection,
    w: Writer<'_>,
    kind: ResourceKind,
    id: &str,
    relations: bool,
    change: &mut dyn FnMut(&Resource) -> Result<Option<Attributes>, ScimError>,
) -> StoreResult<Resource> {
    let row = read_row_for_update(conn, w.tenant_id, kind, id)?.ok_or(StoreError::NotFound)?;
    // A group's full update needs its members to apply the change to.
    let load = relations || kind == ResourceKind::Group;
    let mut current = if load {
        with_relations(conn, w.tenant_id, kind, &row)?
    } else {
        bare_resource(kind, &row)?
    };
    let Some(new) = change(&current).map_err(StoreError::Rejected)? else {
        return Ok(current);
    };
    let old = parse_document(&row.document)?;
    let now = now_ms();
    match kind {
        ResourceKind::User => {
            let doc = stored_document(kind, new);
            if doc == old {
                return Ok(current);
            }
            let text = render_document(&doc)?;
            let cols = users::update(conn, w.tenant_id, id, row.version, &old, &doc, &text, now)?;
            let (was, is) = (users::is_active(&old), users::is_active(&doc));
            let op = match (was, is) {
                (true, false) => LogOperation::Deactivate,
                (false, true) => LogOperation::Reactivate,
                _ => LogOperation::Update,
            };
            let mut summary = format!(
                "userName={}; changed: {}",
                cols.user_name,
                changed_names(&old, &doc).join(", ")
            );
            if was != is {
                summary.push_str(&format!("; active: {was} -> {is}"));
            }
            // The user's groups did not change: keep the ones read.
            let groups = current.attributes.remove(kind.relation_attribute());
            let mut updated = Resource {
                kind,
                id: id.to_string(),
                attributes: doc,
                meta: Meta {
                    created: utc(row.created),
                    last_modified: utc(now),
                    version: row.version + 1,
                },
            };
            let events = events_for(Change::Updated {
                method: w.method,
                before: &old,
                after: &updated,
            });
            w.finish(conn, now, &events, op, kind, id, &summary)?;
            if let Some(g) = groups {
                updated
                    .attributes
                    .insert(kind.relation_attribute().into(), g);
            }
            Ok(updated)
        }
        ResourceKind::Group => {
            let wanted = groups::requested_members(&new)?;
            let doc = stored_document(kind, new);
            let existing = groups::current_member_ids(conn, w.tenant_id, id)?;
            let (added, removed) = set_difference(&existing, &wanted);
            let doc_changed = doc != old;
            let changed = write_membership(conn, w, id, &added, &removed)?;
            if !doc_changed && changed.is_empty() {
                return Ok(current);
            }
            let updated = finish_group(
                conn,
                w,
                &row,
                &old,
                doc_changed.then_some(doc),
                &changed,
                now,
            )?;
            if relations {
                let row = super::rows::read_row(conn, w.tenant_id, kind, id)?
                    .ok_or(StoreError::NotFound)?;
                return with_relations(conn, w.tenant_id, kind, &row);
            }
            Ok(updated)
        }
    }
}

/// Changes a group's membership by `delta` and its other attributes by `change`, without
/// reading its member list (unless `delta` replaces it wholesale).
pub(crate) fn change_members(
    conn: &mut AnyConnection,
    w: Writer<'_>,
    id: &str,
    delta: &MemberDelta,
    change: &mut dyn FnMut(&Resource) -> Result<Option<Attributes>, ScimError>,
) -> StoreResult<Resource> {
    let kind = ResourceKind::Group;
    let row = read_row_for_update(conn, w.tenant_id, kind, id)?.ok_or(StoreError::NotFound)?;
    let current = bare_resource(kind, &row)?;
    let new = change(&current).map_err(StoreError::Rejected)?;
    let old = &current.attributes;
    let doc = new
        .map(|a| stored_document(kind, a))
        .filter(|d| d != &current.attributes);
    let (added, removed) = match &delta.replace_all {
        Some(_) => {
            let existing = groups::current_member_ids(conn, w.tenant_id, id)?;
            set_difference(&existing, &delta.apply_to(&existing))
        }
        None => (
            lock_order::not_yet_members(conn, w.tenant_id, id, &delta.add)?,
            delta.remove.clone(),
        ),
    };
    let changed = write_membership(conn, w, id, &added, &removed)?;
    if doc.is_none() && changed.is_empty() {
        return Ok(current);
    }
    let now = now_ms();
    finish_group(conn, w, &row, old, doc, &changed, now)
}

/// Reads and locks a resource, lets `check` accept it, and deletes it with its
/// memberships.
pub(crate) fn delete(
    conn: &mut AnyConnection,
    w: Writer<'_>,
    kind: ResourceKind,
    id: &str,
    check: &mut dyn FnMut(&Resource) -> Result<(), ScimError>,
) -> StoreResult<()> {
    // The groups listing it first, then the resource (the lock order of every write).
    let row =
        lock_order::lock_for_delete(conn, w.tenant_id, kind, id)?.ok_or(StoreError::NotFound)?;
    let current = bare_resource(kind, &row)?;
    check(&current).map_err(StoreError::Rejected)?;
    let now = now_ms();
    // Groups that list it as a member change too.
    groups::leave_all_groups(conn, w.tenant_id, id, now)?;
    let summary = match kind {
        ResourceKind::User => {
            users::delete(conn, w.tenant_id, id, row.version)?;
            format!(
                "userName={}",
                str_attr(&current.attributes, "userName").unwrap_or_default()
            )
        }
        ResourceKind::Group => {
            groups::delete(conn, w.tenant_id, id, row.version)?;
            format!(
                "displayName={}",
                str_attr(&current.attributes, "displayName").unwrap_or_default()
            )
        }
    };
    counts::record(conn, w.tenant_id, kind, 0, 1)?;
    // One `prov:delete`; the memberships it ends get no `feed:remove` (RFC 9967 §2.4.4).
    let events = events_for(Change::Deleted(&current));
    w.finish(conn, now, &events, LogOperation::Delete, kind, id, &summary)
}

/// `(wanted − existing, existing − wanted)`, each in its list's order.
fn set_difference(existing: &[String], wanted: &[String]) -> (Vec<String>, Vec<String>) {
    let have: HashSet<&str> = existing.iter().map(String::as_str).collect();
    let want: HashSet<&str> = wanted.iter().map(String::as_str).collect();
    let added = wanted
        .iter()
        .filter(|m| !have.contains(m.as_str()))
        .cloned()
        .collect();
    let removed = existing
        .iter()
        .filter(|m| !want.contains(m.as_str()))
        .cloned()
        .collect();
    (added, removed)
}

/// The members a membership write really added and removed, with their kinds.
#[derive(Debug, Default)]
struct MembershipChange {
    added: Vec<(String, ResourceKind)>,
    removed: Vec<(String, ResourceKind)>,
}

impl MembershipChange {
    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// Resolves and inserts `added`, deletes `removed`; returns the rows that really changed
/// (re-adding a member or removing a non-member changes nothing).
fn write_membership(
    conn: &mut AnyConnection,
    w: Writer<'_>,
    group_id: &str,
    added: &[String],
    removed: &[String],
) -> StoreResult<MembershipChange> {
    let resolved = groups::resolve_members(conn, w.tenant_id, group_id, added)?;
    Ok(MembershipChange {
        added: groups::insert_members(conn, w.tenant_id, group_id, &resolved)?,
        removed: groups::delete_members(conn, w.tenant_id, group_id, removed)?,
    })
}

/// Bumps a changed group's version (writing its document when it changed), appends its
/// events (`prov:put|patch` when the document changed, then one `feed:add` / `feed:remove`
/// per member that really joined or left) and logs it. Returns the group without members.
fn finish_group(
    conn: &mut AnyConnection,
    w: Writer<'_>,
    row: &super::rows::StoredRow,
    old: &Attributes,
    doc: Option<Attributes>,
    changed: &MembershipChange,
    now: NaiveDateTime,
) -> StoreResult<Resource> {
    let id = row.id.as_str();
    let text = doc.as_ref().map(render_document).transpose()?;
    groups::bump(
        conn,
        w.tenant_id,
        id,
        row.version,
        doc.as_ref().zip(text.as_deref()),
        now,
    )?;
    let doc_changed = doc.is_some();
    let updated = Resource {
        kind: ResourceKind::Group,
        id: id.to_string(),
        attributes: doc.unwrap_or_else(|| old.clone()),
        meta: Meta {
            created: utc(row.created),
            last_modified: utc(now),
            version: row.version + 1,
        },
    };
    let name = groups::display_name(&updated.attributes)?;
    let mut summary = format!("displayName={name}");
    let mut events = Vec::new();
    if doc_changed {
        summary.push_str(&format!(
            "; changed: {}",
            changed_names(old, &updated.attributes).join(", ")
        ));
        events = events_for(Change::Updated {
            method: w.method,
            before: old,
            after: &updated,
        });
    }
    let (added, removed) = (changed.added.len(), changed.removed.len());
    if added + removed > 0 {
        summary.push_str(&format!("; members +{added} -{removed}"));
    }
    events.extend(membership_events(
        &group_subject(id, &updated.attributes),
        &changed.added,
        &changed.removed,
    ));
    let op = if doc_changed {
        LogOperation::Update
    } else {
        LogOperation::GroupMembership
    };
    w.finish(conn, now, &events, op, ResourceKind::Group, id, &summary)?;
    Ok(updated)
}

/// Top-level attribute names whose values differ (extension objects by their
/// sub-attribute names), for log summaries. Names only: never values.
fn changed_names(old: &Attributes, new: &Attributes) -> Vec<String> {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        let (a, b) = (old.get(key), new.get(key));
        if a == b {
            continue;
        }
        if scim_core::resource::is_urn(key)
            && let (Some(Value::Object(a)), Some(Value::Object(b))) = (a, b)
        {
            out.extend(changed_names(a, b));
            continue;
        }
        out.push(key.clone());
    }
    out
}
