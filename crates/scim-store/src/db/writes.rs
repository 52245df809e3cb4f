//! The write transactions behind [`Session`](crate::Session): create, update, change a
//! group's membership by delta, delete. Each runs inside the caller's transaction
//! ([`write_tx`](super::write_tx)): it reads and locks the row once, lets the caller's pure
//! function decide, writes only what changed, keeps the resource counters, writes the
//! provisioning-log row, and builds the answer from what is in memory.

use super::relations::with_relations;
use super::rows::{
    bare_resource, parse_document, read_row_for_update, render_document, stored_document, str_attr,
};
use super::tenants::write_log;
use super::{AnyConnection, counts, groups, new_id, now_ms, users, utc};
use crate::{LogOperation, StoreError, StoreResult};
use scim_core::patch::MemberDelta;
use scim_core::resource::{Attributes, Meta, Resource};
use scim_core::{ResourceKind, ScimError};
use serde_json::Value;
use std::collections::HashSet;

/// Who writes, for the log rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Writer<'a> {
    /// The tenant written to.
    pub tenant_id: &'a str,
    /// The token the change is made with.
    pub token: Option<&'a str>,
}

impl Writer<'_> {
    fn log(
        &self,
        conn: &mut AnyConnection,
        op: LogOperation,
        kind: ResourceKind,
        id: &str,
        summary: &str,
    ) -> StoreResult<()> {
        write_log(conn, self.tenant_id, self.token, op, kind, id, summary)
    }
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
    let id = new_id();
    let now = now_ms();
    let wanted = match kind {
        ResourceKind::Group => groups::requested_members(&attributes)?,
        ResourceKind::User => Vec::new(),
    };
    let doc = stored_document(kind, attributes);
    let text = render_document(&doc)?;
    let summary = match kind {
        ResourceKind::User => {
            let cols = users::insert(conn, w.tenant_id, &id, &doc, &text, now)?;
            format!("userName={}", cols.user_name)
        }
        ResourceKind::Group => {
            let members = groups::resolve_members(conn, w.tenant_id, &id, &wanted)?;
            let name = groups::insert(conn, w.tenant_id, &id, &doc, &text, now)?;
            groups::insert_members(conn, w.tenant_id, &id, &members)?;
            format!("displayName={name}; members={}", members.len())
        }
    };
    counts::record(conn, w.tenant_id, kind, 1, 0)?;
    w.log(conn, LogOperation::Create, kind, &id, &summary)?;
    let created = Resource {
        kind,
        id,
        attributes: doc,
        meta: Meta {
            created: utc(now),
            last_modified: utc(now),
            version: 1,
        },
    };
    if read_back && kind == ResourceKind::Group && !wanted.is_empty() {
        let row = super::rows::read_row(conn, w.tenant_id, kind, &created.id)?
            .ok_or(StoreError::NotFound)?;
        return with_relations(conn, w.tenant_id, kind, &row);
    }
    Ok(created)
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
            w.log(conn, op, kind, id, &summary)?;
            // The user's groups did not change: keep the ones read.
            let groups = current.attributes.remove(kind.relation_attribute());
            let mut attributes = doc;
            if let Some(g) = groups {
                attributes.insert(kind.relation_attribute().into(), g);
            }
            Ok(Resource {
                kind,
                id: id.to_string(),
                attributes,
                meta: Meta {
                    created: utc(row.created),
                    last_modified: utc(now),
                    version: row.version + 1,
                },
            })
        }
        ResourceKind::Group => {
            let wanted = groups::requested_members(&new)?;
            let doc = stored_document(kind, new);
            let existing = groups::current_member_ids(conn, w.tenant_id, id)?;
            let (added, removed) = set_difference(&existing, &wanted);
            let doc_changed = doc != old;
            let changed = write_membership(conn, w, id, &added, &removed)?;
            if !doc_changed && changed == (0, 0) {
                return Ok(current);
            }
            finish_group(
                conn,
                w,
                id,
                &row,
                &old,
                doc_changed.then_some(&doc),
                changed,
                now,
            )?;
            if relations {
                let row = super::rows::read_row(conn, w.tenant_id, kind, id)?
                    .ok_or(StoreError::NotFound)?;
                return with_relations(conn, w.tenant_id, kind, &row);
            }
            Ok(Resource {
                kind,
                id: id.to_string(),
                attributes: doc,
                meta: Meta {
                    created: utc(row.created),
                    last_modified: utc(now),
                    version: row.version + 1,
                },
            })
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
    let doc = new.map(|a| stored_document(kind, a)).filter(|d| d != old);
    let (added, removed) = match &delta.replace_all {
        Some(_) => {
            let existing = groups::current_member_ids(conn, w.tenant_id, id)?;
            set_difference(&existing, &delta.apply_to(&existing))
        }
        None => (delta.add.clone(), delta.remove.clone()),
    };
    let changed = write_membership(conn, w, id, &added, &removed)?;
    if doc.is_none() && changed == (0, 0) {
        return Ok(current);
    }
    let now = now_ms();
    finish_group(conn, w, id, &row, old, doc.as_ref(), changed, now)?;
    Ok(Resource {
        kind,
        id: id.to_string(),
        attributes: doc.unwrap_or(current.attributes),
        meta: Meta {
            created: utc(row.created),
            last_modified: utc(now),
            version: row.version + 1,
        },
    })
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
    let row = read_row_for_update(conn, w.tenant_id, kind, id)?.ok_or(StoreError::NotFound)?;
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
    w.log(conn, LogOperation::Delete, kind, id, &summary)
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

/// Resolves and inserts `added`, deletes `removed`; returns how many rows each really
/// changed (re-adding a member or removing a non-member changes nothing).
fn write_membership(
    conn: &mut AnyConnection,
    w: Writer<'_>,
    group_id: &str,
    added: &[String],
    removed: &[String],
) -> StoreResult<(usize, usize)> {
    let resolved = groups::resolve_members(conn, w.tenant_id, group_id, added)?;
    let n_added = groups::insert_members(conn, w.tenant_id, group_id, &resolved)?;
    let n_removed = groups::delete_members(conn, w.tenant_id, group_id, removed)?;
    Ok((n_added, n_removed))
}

/// Bumps a changed group's version (writing its document when it changed) and logs it.
#[allow(clippy::too_many_arguments)]
fn finish_group(
    conn: &mut AnyConnection,
    w: Writer<'_>,
    id: &str,
    row: &super::rows::StoredRow,
    old: &Attributes,
    doc: Option<&Attributes>,
    (added, removed): (usize, usize),
    now: chrono::NaiveDateTime,
) -> StoreResult<()> {
    let text = doc.map(render_document).transpose()?;
    groups::bump(
        conn,
        w.tenant_id,
        id,
        row.version,
        doc.zip(text.as_deref()),
        now,
    )?;
    let name = match doc {
        Some(d) => groups::display_name(d)?,
        None => groups::display_name(old)?,
    };
    let mut summary = format!("displayName={name}");
    if let Some(d) = doc {
        summary.push_str(&format!("; changed: {}", changed_names(old, d).join(", ")));
    }
    if added + removed > 0 {
        summary.push_str(&format!("; members +{added} -{removed}"));
    }
    let op = if doc.is_some() {
        LogOperation::Update
    } else {
        LogOperation::GroupMembership
    };
    w.log(conn, op, ResourceKind::Group, id, &summary)
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
