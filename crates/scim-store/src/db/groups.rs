//! Group rows and memberships: the statements that insert, update and delete a group and
//! its `group_members` rows inside the caller's write transaction. Membership changes are
//! written as deltas: only the added ids are resolved (and, on PostgreSQL, key-share locked
//! so a concurrent delete of the user cannot leave a dangling row), inserted in batches with
//! `ON CONFLICT DO NOTHING`, and removed ids deleted in batches; nothing reads the whole
//! member list unless the membership is replaced wholesale.

use super::relations::IN_CHUNK;
use super::rows::str_attr;
use super::schema::{group_members, groups, users};
use super::{AnyConnection, kind_from_name};
use crate::{StoreError, StoreResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use scim_core::ResourceKind;
use scim_core::resource::Attributes;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// The member ids a group document asks for, without duplicates, in order.
pub(crate) fn requested_members(attrs: &Attributes) -> StoreResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    let Some(members) = attrs.get("members") else {
        return Ok(out);
    };
    let items = match members {
        Value::Array(items) => items.as_slice(),
        other => std::slice::from_ref(other),
    };
    for item in items {
        let value = item.get("value").unwrap_or(item);
        let Some(id) = value.as_str() else {
            return Err(StoreError::InvalidReference {
                value: value.to_string(),
            });
        };
        if seen.insert(id) {
            out.push(id.to_string());
        }
    }
    Ok(out)
}

/// Resolves member ids to `(id, "User" | "Group")` within the tenant; any id that is not a
/// user or group of the tenant, or the group itself, is `InvalidReference`. On PostgreSQL
/// the referenced rows are locked `FOR KEY SHARE` until commit, so a concurrent delete
/// waits and then removes the new membership row with the user.
pub(crate) fn resolve_members(
    conn: &mut AnyConnection,
    tenant_id: &str,
    group_id: &str,
    ids: &[String],
) -> StoreResult<Vec<(String, &'static str)>> {
    if let Some(own) = ids.iter().find(|m| m.as_str() == group_id) {
        return Err(StoreError::InvalidReference { value: own.clone() });
    }
    let mut found_users: HashSet<String> = HashSet::new();
    let mut found_groups: HashSet<String> = HashSet::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let u = users::table
            .filter(users::tenant_id.eq(tenant_id))
            .filter(users::id.eq_any(chunk))
            .select(users::id);
        let g = groups::table
            .filter(groups::tenant_id.eq(tenant_id))
            .filter(groups::id.eq_any(chunk))
            .select(groups::id);
        match conn {
            AnyConnection::Postgresql(c) => {
                found_users.extend(u.for_key_share().load::<String>(c)?);
                if found_users.len() < ids.len() {
                    found_groups.extend(g.for_key_share().load::<String>(c)?);
                }
            }
            AnyConnection::Sqlite(c) => {
                found_users.extend(u.load::<String>(c)?);
                if found_users.len() < ids.len() {
                    found_groups.extend(g.load::<String>(c)?);
                }
            }
        }
    }
    ids.iter()
        .map(|id| {
            if found_users.contains(id) {
                Ok((id.clone(), "User"))
            } else if found_groups.contains(id) {
                Ok((id.clone(), "Group"))
            } else {
                Err(StoreError::InvalidReference { value: id.clone() })
            }
        })
        .collect()
}

/// Inserts membership rows, skipping those that exist; returns the members that were
/// new, in `members`' order, with their kind (`RETURNING` names the rows really inserted).
pub(crate) fn insert_members(
    conn: &mut AnyConnection,
    tenant_id: &str,
    group_id: &str,
    members: &[(String, &'static str)],
) -> StoreResult<Vec<(String, ResourceKind)>> {
    let mut inserted: HashSet<String> = HashSet::new();
    for chunk in members.chunks(IN_CHUNK / 4) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(member_id, member_type)| {
                (
                    group_members::tenant_id.eq(tenant_id),
                    group_members::group_id.eq(group_id),
                    group_members::member_id.eq(member_id.as_str()),
                    group_members::member_type.eq(*member_type),
                )
            })
            .collect();
        // ON CONFLICT needs the concrete backend (the multi-backend has no such clause).
        let ids: Vec<String> = match conn {
            AnyConnection::Postgresql(c) => diesel::insert_into(group_members::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .returning(group_members::member_id)
                .get_results(c)?,
            AnyConnection::Sqlite(c) => diesel::insert_into(group_members::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .returning(group_members::member_id)
                .get_results(c)?,
        };
        inserted.extend(ids);
    }
    members
        .iter()
        .filter(|(id, _)| inserted.contains(id))
        .map(|(id, ty)| Ok((id.clone(), kind_from_name(ty)?)))
        .collect()
}

/// Deletes the memberships of `member_ids` in the group; returns the members that
/// existed, in `member_ids`' order, with their kind (from `RETURNING`).
pub(crate) fn delete_members(
    conn: &mut AnyConnection,
    tenant_id: &str,
    group_id: &str,
    member_ids: &[String],
) -> StoreResult<Vec<(String, ResourceKind)>> {
    let mut deleted: HashMap<String, String> = HashMap::new();
    for chunk in member_ids.chunks(IN_CHUNK) {
        let target = group_members::table
            .filter(group_members::tenant_id.eq(tenant_id))
            .filter(group_members::group_id.eq(group_id))
            .filter(group_members::member_id.eq_any(chunk));
        let rows: Vec<(String, String)> = match conn {
            AnyConnection::Postgresql(c) => diesel::delete(target)
                .returning((group_members::member_id, group_members::member_type))
                .get_results(c)?,
            AnyConnection::Sqlite(c) => diesel::delete(target)
                .returning((group_members::member_id, group_members::member_type))
                .get_results(c)?,
        };
        deleted.extend(rows);
    }
    let mut out = Vec::with_capacity(deleted.len());
    for id in member_ids {
        if let Some(ty) = deleted.remove(id) {
            out.push((id.clone(), kind_from_name(&ty)?));
        }
    }
    Ok(out)
}

/// Every member id the group has now (for a wholesale replacement only).
pub(crate) fn current_member_ids(
    conn: &mut AnyConnection,
    tenant_id: &str,
    group_id: &str,
) -> StoreResult<Vec<String>> {
    Ok(group_members::table
        .filter(group_members::tenant_id.eq(tenant_id))
        .filter(group_members::group_id.eq(group_id))
        .select(group_members::member_id)
        .load(conn)?)
}

/// The `displayName` a stored group document must have.
pub(crate) fn display_name(doc: &Attributes) -> StoreResult<String> {
    str_attr(doc, "displayName").ok_or_else(|| {
        StoreError::Backend("a Group without a string displayName reached the store".into())
    })
}

/// Inserts a new group row (version 1), without members.
pub(crate) fn insert(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    doc: &Attributes,
    text: &str,
    now: NaiveDateTime,
) -> StoreResult<String> {
    let name = display_name(doc)?;
    diesel::insert_into(groups::table)
        .values((
            groups::tenant_id.eq(tenant_id),
            groups::id.eq(id),
            groups::display_name.eq(&name),
            groups::display_name_lower.eq(name.to_lowercase()),
            groups::external_id.eq(str_attr(doc, "externalId")),
            groups::document.eq(text),
            groups::version.eq(1_i64),
            groups::created.eq(now),
            groups::last_modified.eq(now),
        ))
        .execute(conn)?;
    Ok(name)
}

/// Writes version `version + 1` of a group: its document (when `doc` is given) and
/// `lastModified`. The row is locked by the caller's transaction.
pub(crate) fn bump(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    version: i64,
    doc: Option<(&Attributes, &str)>,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let target = groups::table
        .filter(groups::tenant_id.eq(tenant_id))
        .filter(groups::id.eq(id))
        .filter(groups::version.eq(version));
    let n = match doc {
        Some((doc, text)) => {
            let name = display_name(doc)?;
            diesel::update(target)
                .set((
                    groups::display_name.eq(&name),
                    groups::display_name_lower.eq(name.to_lowercase()),
                    groups::external_id.eq(str_attr(doc, "externalId")),
                    groups::document.eq(text),
                    groups::version.eq(version + 1),
                    groups::last_modified.eq(now),
                ))
                .execute(conn)?
        }
        None => diesel::update(target)
            .set((
                groups::version.eq(version + 1),
                groups::last_modified.eq(now),
            ))
            .execute(conn)?,
    };
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
    Ok(())
}

/// Deletes a group row of version `version` and its own membership rows.
pub(crate) fn delete(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    version: i64,
) -> StoreResult<()> {
    diesel::delete(
        group_members::table
            .filter(group_members::tenant_id.eq(tenant_id))
            .filter(group_members::group_id.eq(id)),
    )
    .execute(conn)?;
    let n = diesel::delete(
        groups::table
            .filter(groups::tenant_id.eq(tenant_id))
            .filter(groups::id.eq(id))
            .filter(groups::version.eq(version)),
    )
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
    Ok(())
}

/// Removes `member_id` from every group that lists it, bumping those groups' versions
/// (their rendered `members` change). On PostgreSQL the caller has locked them already
/// ([`lock_order::lock_for_delete`](super::lock_order::lock_for_delete)); the updates go
/// in id order as well.
pub(crate) fn leave_all_groups(
    conn: &mut AnyConnection,
    tenant_id: &str,
    member_id: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let mut parents: Vec<String> = group_members::table
        .filter(group_members::tenant_id.eq(tenant_id))
        .filter(group_members::member_id.eq(member_id))
        .select(group_members::group_id)
        .load(conn)?;
    parents.sort();
    for chunk in parents.chunks(IN_CHUNK) {
        diesel::update(
            groups::table
                .filter(groups::tenant_id.eq(tenant_id))
                .filter(groups::id.eq_any(chunk)),
        )
        .set((
            groups::version.eq(groups::version + 1),
            groups::last_modified.eq(now),
        ))
        .execute(conn)?;
    }
    diesel::delete(
        group_members::table
            .filter(group_members::tenant_id.eq(tenant_id))
            .filter(group_members::member_id.eq(member_id)),
    )
    .execute(conn)?;
    Ok(())
}
