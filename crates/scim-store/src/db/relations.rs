//! The derived relations: `members` of groups and `groups` of users, read from
//! `group_members` for a whole page in one query per relation kind (never one per row).
//! A single resource uses an equality instead of `IN (…)`, which SQLite can cache as a
//! prepared statement.

use super::AnyConnection;
use super::rows::{StoredRow, to_resource};
use super::schema::{group_members, groups, users};
use crate::StoreResult;
use diesel::prelude::*;
use scim_core::ResourceKind;
use scim_core::resource::Resource;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// `eq_any` lists are cut into chunks of this size (bind-parameter limits).
pub(crate) const IN_CHUNK: usize = 500;

/// The relations of a page: resource id → `members` / `groups` values.
pub(crate) type Relations = HashMap<String, Vec<Value>>;

/// A resource with its relations, from its row.
pub(crate) fn with_relations(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    row: &StoredRow,
) -> StoreResult<Resource> {
    let mut rel = load_relations(conn, tenant_id, kind, std::slice::from_ref(&row.id))?;
    to_resource(kind, row, Some(&mut rel))
}

/// Loads the relations of a page in one query per relation kind (never one per row):
/// `members` of groups (`[{value, display, type}]`, display = the user's `userName` or the
/// group's `displayName`) or `groups` of users (`[{value, display, type: "direct"}]`).
pub(crate) fn load_relations(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    ids: &[String],
) -> StoreResult<Relations> {
    let mut out: Relations = HashMap::new();
    if let [one] = ids {
        load_chunk(conn, tenant_id, kind, Ids::One(one), &mut out)?;
    } else {
        for chunk in ids.chunks(IN_CHUNK) {
            load_chunk(conn, tenant_id, kind, Ids::Many(chunk), &mut out)?;
        }
    }
    Ok(out)
}

/// The resources whose relations a query reads.
#[derive(Clone, Copy)]
enum Ids<'a> {
    /// One id: `= ?`.
    One(&'a str),
    /// At most [`IN_CHUNK`] ids: `IN (…)`.
    Many(&'a [String]),
}

/// Expands `$body` with `$filter` bound to `$col = id` or `$col IN (ids)` (two query
/// types, so the body is type-checked once per form).
macro_rules! by_ids {
    ($ids:expr, $col:expr, |$filter:ident| $body:expr) => {
        match $ids {
            Ids::One(id) => {
                let $filter = $col.eq(id);
                $body
            }
            Ids::Many(chunk) => {
                let $filter = $col.eq_any(chunk);
                $body
            }
        }
    };
}

fn load_chunk(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    ids: Ids<'_>,
    out: &mut Relations,
) -> StoreResult<()> {
    match kind {
        ResourceKind::Group => {
            let user_members: Vec<(String, String, String)> =
                by_ids!(ids, group_members::group_id, |key| group_members::table
                    .inner_join(
                        users::table.on(users::tenant_id
                            .eq(group_members::tenant_id)
                            .and(users::id.eq(group_members::member_id))),
                    )
                    .filter(group_members::tenant_id.eq(tenant_id))
                    .filter(key)
                    .select((group_members::group_id, users::id, users::user_name))
                    .order((group_members::group_id, group_members::member_id))
                    .load(conn)?);
            let group_member_rows: Vec<(String, String, String)> =
                by_ids!(ids, group_members::group_id, |key| group_members::table
                    .inner_join(
                        groups::table.on(groups::tenant_id
                            .eq(group_members::tenant_id)
                            .and(groups::id.eq(group_members::member_id))),
                    )
                    .filter(group_members::tenant_id.eq(tenant_id))
                    .filter(key)
                    .select((group_members::group_id, groups::id, groups::display_name))
                    .order((group_members::group_id, group_members::member_id))
                    .load(conn)?);
            // Merge both kinds ordered by member id, for a stable rendering.
            let mut merged: BTreeMap<(String, String), (String, &'static str)> = BTreeMap::new();
            for (gid, mid, display) in user_members {
                merged.insert((gid, mid), (display, "User"));
            }
            for (gid, mid, display) in group_member_rows {
                merged.insert((gid, mid), (display, "Group"));
            }
            for ((gid, mid), (display, ty)) in merged {
                out.entry(gid)
                    .or_default()
                    .push(relation_value(mid, display, ty));
            }
        }
        ResourceKind::User => {
            let rows: Vec<(String, String, String)> =
                by_ids!(ids, group_members::member_id, |key| group_members::table
                    .inner_join(
                        groups::table.on(groups::tenant_id
                            .eq(group_members::tenant_id)
                            .and(groups::id.eq(group_members::group_id))),
                    )
                    .filter(group_members::tenant_id.eq(tenant_id))
                    .filter(key)
                    .select((group_members::member_id, groups::id, groups::display_name))
                    .order((
                        group_members::member_id,
                        groups::display_name_lower,
                        groups::id,
                    ))
                    .load(conn)?);
            for (uid, gid, display) in rows {
                out.entry(uid)
                    .or_default()
                    .push(relation_value(gid, display, "direct"));
            }
        }
    }
    Ok(())
}

fn relation_value(id: String, display: String, ty: &str) -> Value {
    let mut m = Map::new();
    m.insert("value".into(), Value::String(id));
    m.insert("display".into(), Value::String(display));
    m.insert("type".into(), Value::String(ty.into()));
    Value::Object(m)
}
