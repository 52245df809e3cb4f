//! Users and groups: create, read, replace and delete, each change in one transaction with
//! its e-mail rows, membership rows and provisioning-log row; the denormalised
//! (indexed) columns; and the page-wide relation loader (`members` of groups, `groups` of
//! users) that reads the relations of a whole page in one query per relation kind.

use super::schema::{group_members, groups, user_emails, users};
use super::tenants::write_log;
use super::{AnyConnection, DieselStore, new_id, now_ms, retry_unconditional, utc, write_tx};
use crate::{Actor, ListParams, LogOperation, Page, ResourceRepo, StoreError, StoreResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use scim_core::ResourceKind;
use scim_core::resource::{Attributes, Meta, Resource};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// `eq_any` lists are cut into chunks of this size (bind-parameter limits).
const IN_CHUNK: usize = 500;

/// The columns of a user row the store reads back.
pub(crate) type UserColumns = (
    users::id,
    users::user_name_lower,
    users::external_id,
    users::display_name_lower,
    users::given_name,
    users::family_name,
    users::document,
    users::version,
    users::created,
    users::last_modified,
);

/// The user columns read back, in [`StoredRow`] order.
pub(crate) const USER_COLUMNS: UserColumns = (
    users::id,
    users::user_name_lower,
    users::external_id,
    users::display_name_lower,
    users::given_name,
    users::family_name,
    users::document,
    users::version,
    users::created,
    users::last_modified,
);

/// A user row as read.
pub(crate) type UserTuple = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
    NaiveDateTime,
    NaiveDateTime,
);

/// The columns of a group row the store reads back.
pub(crate) type GroupColumns = (
    groups::id,
    groups::display_name_lower,
    groups::external_id,
    groups::document,
    groups::version,
    groups::created,
    groups::last_modified,
);

/// The group columns read back.
pub(crate) const GROUP_COLUMNS: GroupColumns = (
    groups::id,
    groups::display_name_lower,
    groups::external_id,
    groups::document,
    groups::version,
    groups::created,
    groups::last_modified,
);

/// A group row as read.
pub(crate) type GroupTuple = (
    String,
    String,
    Option<String>,
    String,
    i64,
    NaiveDateTime,
    NaiveDateTime,
);

/// A stored user or group row, with the columns list sorting needs.
#[derive(Debug, Clone)]
pub(crate) struct StoredRow {
    pub id: String,
    /// `user_name_lower` (users only).
    pub user_name_lower: Option<String>,
    pub external_id: Option<String>,
    pub display_name_lower: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub document: String,
    pub version: i64,
    pub created: NaiveDateTime,
    pub last_modified: NaiveDateTime,
}

impl From<UserTuple> for StoredRow {
    fn from(t: UserTuple) -> Self {
        StoredRow {
            id: t.0,
            user_name_lower: Some(t.1),
            external_id: t.2,
            display_name_lower: t.3,
            given_name: t.4,
            family_name: t.5,
            document: t.6,
            version: t.7,
            created: t.8,
            last_modified: t.9,
        }
    }
}

impl From<GroupTuple> for StoredRow {
    fn from(t: GroupTuple) -> Self {
        StoredRow {
            id: t.0,
            user_name_lower: None,
            display_name_lower: Some(t.1),
            external_id: t.2,
            given_name: None,
            family_name: None,
            document: t.3,
            version: t.4,
            created: t.5,
            last_modified: t.6,
        }
    }
}

/// The relations of a page: resource id → `members` / `groups` values.
pub(crate) type Relations = HashMap<String, Vec<Value>>;

/// Turns a stored row (and its loaded relations) into a [`Resource`].
pub(crate) fn to_resource(
    kind: ResourceKind,
    row: &StoredRow,
    relations: Option<&Relations>,
) -> StoreResult<Resource> {
    let mut attributes = parse_document(&row.document)?;
    if let Some(values) = relations.and_then(|r| r.get(&row.id))
        && !values.is_empty()
    {
        attributes.insert(relation_name(kind).into(), Value::Array(values.clone()));
    }
    Ok(Resource {
        kind,
        id: row.id.clone(),
        attributes,
        meta: Meta {
            created: utc(row.created),
            last_modified: utc(row.last_modified),
            version: row.version,
        },
    })
}

fn relation_name(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "groups",
        ResourceKind::Group => "members",
    }
}

fn parse_document(doc: &str) -> StoreResult<Attributes> {
    match serde_json::from_str::<Value>(doc) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(StoreError::Backend(
            "a stored document is not a JSON object".into(),
        )),
        Err(e) => Err(StoreError::Backend(Box::new(e))),
    }
}

fn render_document(doc: &Attributes) -> StoreResult<String> {
    serde_json::to_string(doc).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// The document as stored: the attributes without the server-maintained and derived ones
/// (`id`, `meta`, and `groups` of users / `members` of groups, which live in
/// `group_members`).
fn stored_document(kind: ResourceKind, mut attrs: Attributes) -> Attributes {
    attrs.remove("id");
    attrs.remove("meta");
    attrs.remove(relation_name(kind));
    attrs
}

fn str_attr(doc: &Attributes, name: &str) -> Option<String> {
    doc.get(name).and_then(Value::as_str).map(str::to_string)
}

/// The denormalised, indexed columns of a user.
struct UserCols {
    user_name: String,
    user_name_lower: String,
    external_id: Option<String>,
    active: Option<bool>,
    display_name: Option<String>,
    display_name_lower: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
}

fn user_cols(doc: &Attributes) -> StoreResult<UserCols> {
    let user_name = str_attr(doc, "userName").ok_or_else(|| {
        StoreError::Backend("a User without a string userName reached the store".into())
    })?;
    let display_name = str_attr(doc, "displayName");
    let name = doc.get("name");
    let sub = |s: &str| name.and_then(|n| n.get(s)).and_then(Value::as_str);
    Ok(UserCols {
        user_name_lower: user_name.to_lowercase(),
        user_name,
        external_id: str_attr(doc, "externalId"),
        active: match doc.get("active") {
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        },
        display_name_lower: display_name.as_ref().map(|d| d.to_lowercase()),
        display_name,
        given_name: sub("givenName").map(str::to_string),
        family_name: sub("familyName").map(str::to_string),
    })
}

/// One `user_emails` row: position, value, value lower-cased, type lower-cased, primary.
type EmailRow = (i32, String, String, Option<String>, bool);

fn email_rows(doc: &Attributes) -> Vec<EmailRow> {
    let Some(Value::Array(items)) = doc.get("emails") else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let value = item.get("value")?.as_str()?;
            Some((
                i32::try_from(i).unwrap_or(i32::MAX),
                value.to_string(),
                value.to_lowercase(),
                item.get("type")
                    .and_then(Value::as_str)
                    .map(str::to_lowercase),
                item.get("primary").and_then(Value::as_bool) == Some(true),
            ))
        })
        .collect()
}

fn insert_emails(
    conn: &mut AnyConnection,
    tenant_id: &str,
    user_id: &str,
    rows: &[EmailRow],
) -> StoreResult<()> {
    for (pos, value, lower, ty, primary) in rows {
        diesel::insert_into(user_emails::table)
            .values((
                user_emails::tenant_id.eq(tenant_id),
                user_emails::user_id.eq(user_id),
                user_emails::position.eq(pos),
                user_emails::value.eq(value),
                user_emails::value_lower.eq(lower),
                user_emails::email_type.eq(ty),
                user_emails::is_primary.eq(primary),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The member ids a group document asks for, without duplicates, in order.
fn requested_members(attrs: &Attributes) -> StoreResult<Vec<String>> {
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
        if seen.insert(id.to_string()) {
            out.push(id.to_string());
        }
    }
    Ok(out)
}

/// Resolves member ids to `(id, "User" | "Group")` within the tenant; any id that is not a
/// user or group of the tenant, or the group itself, is `InvalidReference`.
fn resolve_members(
    conn: &mut AnyConnection,
    tenant_id: &str,
    group_id: &str,
    ids: &[String],
) -> StoreResult<Vec<(String, &'static str)>> {
    if let Some(own) = ids.iter().find(|m| m.as_str() == group_id) {
        return Err(StoreError::InvalidReference { value: own.clone() });
    }
    let mut found_users = HashSet::new();
    let mut found_groups = HashSet::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let u: Vec<String> = users::table
            .filter(users::tenant_id.eq(tenant_id))
            .filter(users::id.eq_any(chunk))
            .select(users::id)
            .load(conn)?;
        found_users.extend(u);
        let g: Vec<String> = groups::table
            .filter(groups::tenant_id.eq(tenant_id))
            .filter(groups::id.eq_any(chunk))
            .select(groups::id)
            .load(conn)?;
        found_groups.extend(g);
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

fn insert_members(
    conn: &mut AnyConnection,
    tenant_id: &str,
    group_id: &str,
    members: &[(String, &'static str)],
) -> StoreResult<()> {
    for (member_id, member_type) in members {
        diesel::insert_into(group_members::table)
            .values((
                group_members::tenant_id.eq(tenant_id),
                group_members::group_id.eq(group_id),
                group_members::member_id.eq(member_id),
                group_members::member_type.eq(*member_type),
            ))
            .execute(conn)?;
    }
    Ok(())
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
    for chunk in ids.chunks(IN_CHUNK) {
        match kind {
            ResourceKind::Group => {
                let user_members: Vec<(String, String, String)> = group_members::table
                    .inner_join(
                        users::table.on(users::tenant_id
                            .eq(group_members::tenant_id)
                            .and(users::id.eq(group_members::member_id))),
                    )
                    .filter(group_members::tenant_id.eq(tenant_id))
                    .filter(group_members::group_id.eq_any(chunk))
                    .select((group_members::group_id, users::id, users::user_name))
                    .order((group_members::group_id, group_members::member_id))
                    .load(conn)?;
                let group_member_rows: Vec<(String, String, String)> = group_members::table
                    .inner_join(
                        groups::table.on(groups::tenant_id
                            .eq(group_members::tenant_id)
                            .and(groups::id.eq(group_members::member_id))),
                    )
                    .filter(group_members::tenant_id.eq(tenant_id))
                    .filter(group_members::group_id.eq_any(chunk))
                    .select((group_members::group_id, groups::id, groups::display_name))
                    .order((group_members::group_id, group_members::member_id))
                    .load(conn)?;
                // Merge both kinds ordered by member id, for a stable rendering.
                let mut merged: BTreeMap<(String, String), (String, &'static str)> =
                    BTreeMap::new();
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
                let rows: Vec<(String, String, String)> = group_members::table
                    .inner_join(
                        groups::table.on(groups::tenant_id
                            .eq(group_members::tenant_id)
                            .and(groups::id.eq(group_members::group_id))),
                    )
                    .filter(group_members::tenant_id.eq(tenant_id))
                    .filter(group_members::member_id.eq_any(chunk))
                    .select((group_members::member_id, groups::id, groups::display_name))
                    .order((
                        group_members::member_id,
                        groups::display_name_lower,
                        groups::id,
                    ))
                    .load(conn)?;
                for (uid, gid, display) in rows {
                    out.entry(uid)
                        .or_default()
                        .push(relation_value(gid, display, "direct"));
                }
            }
        }
    }
    Ok(out)
}

fn relation_value(id: String, display: String, ty: &str) -> Value {
    let mut m = Map::new();
    m.insert("value".into(), Value::String(id));
    m.insert("display".into(), Value::String(display));
    m.insert("type".into(), Value::String(ty.into()));
    Value::Object(m)
}

/// Reads one row of the tenant (no relations).
pub(crate) fn read_row(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    id: &str,
) -> StoreResult<Option<StoredRow>> {
    Ok(match kind {
        ResourceKind::User => users::table
            .filter(users::tenant_id.eq(tenant_id))
            .filter(users::id.eq(id))
            .select(USER_COLUMNS)
            .first::<UserTuple>(conn)
            .optional()?
            .map(StoredRow::from),
        ResourceKind::Group => groups::table
            .filter(groups::tenant_id.eq(tenant_id))
            .filter(groups::id.eq(id))
            .select(GROUP_COLUMNS)
            .first::<GroupTuple>(conn)
            .optional()?
            .map(StoredRow::from),
    })
}

fn read_with_relations(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    row: &StoredRow,
) -> StoreResult<Resource> {
    let rel = load_relations(conn, tenant_id, kind, std::slice::from_ref(&row.id))?;
    to_resource(kind, row, Some(&rel))
}

/// The member ids (and types) a group has now.
fn current_members(
    conn: &mut AnyConnection,
    tenant_id: &str,
    group_id: &str,
) -> StoreResult<BTreeMap<String, String>> {
    let rows: Vec<(String, String)> = group_members::table
        .filter(group_members::tenant_id.eq(tenant_id))
        .filter(group_members::group_id.eq(group_id))
        .select((group_members::member_id, group_members::member_type))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Bumps the version of every group that has `member_id` as a member (its rendered
/// `members` is about to change).
fn touch_parent_groups(
    conn: &mut AnyConnection,
    tenant_id: &str,
    member_id: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let parents: Vec<String> = group_members::table
        .filter(group_members::tenant_id.eq(tenant_id))
        .filter(group_members::member_id.eq(member_id))
        .select(group_members::group_id)
        .load(conn)?;
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
    Ok(())
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

fn is_active(doc: &Attributes) -> bool {
    doc.get("active").and_then(Value::as_bool).unwrap_or(true)
}

impl ResourceRepo for DieselStore {
    fn create(
        &self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        attributes: Attributes,
    ) -> StoreResult<Resource> {
        let mut conn = self.conn()?;
        let token = actor.token_id.as_deref();
        match kind {
            ResourceKind::User => {
                let doc = stored_document(kind, attributes);
                let cols = user_cols(&doc)?;
                let emails = email_rows(&doc);
                let text = render_document(&doc)?;
                write_tx(&mut conn, |c| {
                    let id = new_id();
                    let now = now_ms();
                    diesel::insert_into(users::table)
                        .values((
                            users::tenant_id.eq(tenant_id),
                            users::id.eq(&id),
                            users::user_name.eq(&cols.user_name),
                            users::user_name_lower.eq(&cols.user_name_lower),
                            users::external_id.eq(&cols.external_id),
                            users::active.eq(cols.active),
                            users::display_name.eq(&cols.display_name),
                            users::display_name_lower.eq(&cols.display_name_lower),
                            users::given_name.eq(&cols.given_name),
                            users::family_name.eq(&cols.family_name),
                            users::document.eq(&text),
                            users::version.eq(1_i64),
                            users::created.eq(now),
                            users::last_modified.eq(now),
                        ))
                        .execute(c)?;
                    insert_emails(c, tenant_id, &id, &emails)?;
                    write_log(
                        c,
                        tenant_id,
                        token,
                        LogOperation::Create,
                        kind,
                        &id,
                        &format!("userName={}", cols.user_name),
                    )?;
                    Ok(Resource {
                        kind,
                        id,
                        attributes: doc,
                        meta: Meta {
                            created: utc(now),
                            last_modified: utc(now),
                            version: 1,
                        },
                    })
                })
            }
            ResourceKind::Group => {
                let wanted = requested_members(&attributes)?;
                let doc = stored_document(kind, attributes);
                let display_name = group_display_name(&doc)?;
                let text = render_document(&doc)?;
                write_tx(&mut conn, |c| {
                    let id = new_id();
                    let now = now_ms();
                    let members = resolve_members(c, tenant_id, &id, &wanted)?;
                    diesel::insert_into(groups::table)
                        .values((
                            groups::tenant_id.eq(tenant_id),
                            groups::id.eq(&id),
                            groups::display_name.eq(&display_name),
                            groups::display_name_lower.eq(display_name.to_lowercase()),
                            groups::external_id.eq(str_attr(&doc, "externalId")),
                            groups::document.eq(&text),
                            groups::version.eq(1_i64),
                            groups::created.eq(now),
                            groups::last_modified.eq(now),
                        ))
                        .execute(c)?;
                    insert_members(c, tenant_id, &id, &members)?;
                    write_log(
                        c,
                        tenant_id,
                        token,
                        LogOperation::Create,
                        kind,
                        &id,
                        &format!("displayName={display_name}; members={}", members.len()),
                    )?;
                    let row = read_row(c, tenant_id, kind, &id)?.ok_or(StoreError::NotFound)?;
                    read_with_relations(c, tenant_id, kind, &row)
                })
            }
        }
    }

    fn get(&self, tenant_id: &str, kind: ResourceKind, id: &str) -> StoreResult<Resource> {
        let mut conn = self.conn()?;
        let row = read_row(&mut conn, tenant_id, kind, id)?.ok_or(StoreError::NotFound)?;
        read_with_relations(&mut conn, tenant_id, kind, &row)
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
        let mut conn = self.conn()?;
        let token = actor.token_id.as_deref();
        let wanted = match kind {
            ResourceKind::Group => Some(requested_members(&attributes)?),
            ResourceKind::User => None,
        };
        let doc = stored_document(kind, attributes);
        let text = render_document(&doc)?;
        retry_unconditional(expected_version, || {
            write_tx(&mut conn, |c| {
                let row = read_row(c, tenant_id, kind, id)?.ok_or(StoreError::NotFound)?;
                if expected_version.is_some_and(|v| v != row.version) {
                    return Err(StoreError::VersionMismatch);
                }
                let old = parse_document(&row.document)?;
                let doc_changed = old != doc;
                let now = now_ms();
                match kind {
                    ResourceKind::User => {
                        if !doc_changed {
                            return read_with_relations(c, tenant_id, kind, &row);
                        }
                        let cols = user_cols(&doc)?;
                        let n = diesel::update(
                            users::table
                                .filter(users::tenant_id.eq(tenant_id))
                                .filter(users::id.eq(id))
                                .filter(users::version.eq(row.version)),
                        )
                        .set((
                            users::user_name.eq(&cols.user_name),
                            users::user_name_lower.eq(&cols.user_name_lower),
                            users::external_id.eq(&cols.external_id),
                            users::active.eq(cols.active),
                            users::display_name.eq(&cols.display_name),
                            users::display_name_lower.eq(&cols.display_name_lower),
                            users::given_name.eq(&cols.given_name),
                            users::family_name.eq(&cols.family_name),
                            users::document.eq(&text),
                            users::version.eq(row.version + 1),
                            users::last_modified.eq(now),
                        ))
                        .execute(c)?;
                        if n == 0 {
                            return Err(StoreError::VersionMismatch);
                        }
                        let old_emails = email_rows(&old);
                        let new_emails = email_rows(&doc);
                        if old_emails != new_emails {
                            diesel::delete(
                                user_emails::table
                                    .filter(user_emails::tenant_id.eq(tenant_id))
                                    .filter(user_emails::user_id.eq(id)),
                            )
                            .execute(c)?;
                            insert_emails(c, tenant_id, id, &new_emails)?;
                        }
                        let (was, is) = (is_active(&old), is_active(&doc));
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
                        write_log(c, tenant_id, token, op, kind, id, &summary)?;
                    }
                    ResourceKind::Group => {
                        let wanted = wanted.as_deref().unwrap_or_default();
                        let members = resolve_members(c, tenant_id, id, wanted)?;
                        let current = current_members(c, tenant_id, id)?;
                        let new_ids: HashSet<&str> =
                            members.iter().map(|(m, _)| m.as_str()).collect();
                        let removed: Vec<String> = current
                            .keys()
                            .filter(|m| !new_ids.contains(m.as_str()))
                            .cloned()
                            .collect();
                        let added: Vec<(String, &'static str)> = members
                            .iter()
                            .filter(|(m, _)| !current.contains_key(m))
                            .cloned()
                            .collect();
                        let members_changed = !removed.is_empty() || !added.is_empty();
                        if !doc_changed && !members_changed {
                            return read_with_relations(c, tenant_id, kind, &row);
                        }
                        let display_name = group_display_name(&doc)?;
                        let n = diesel::update(
                            groups::table
                                .filter(groups::tenant_id.eq(tenant_id))
                                .filter(groups::id.eq(id))
                                .filter(groups::version.eq(row.version)),
                        )
                        .set((
                            groups::display_name.eq(&display_name),
                            groups::display_name_lower.eq(display_name.to_lowercase()),
                            groups::external_id.eq(str_attr(&doc, "externalId")),
                            groups::document.eq(&text),
                            groups::version.eq(row.version + 1),
                            groups::last_modified.eq(now),
                        ))
                        .execute(c)?;
                        if n == 0 {
                            return Err(StoreError::VersionMismatch);
                        }
                        for chunk in removed.chunks(IN_CHUNK) {
                            diesel::delete(
                                group_members::table
                                    .filter(group_members::tenant_id.eq(tenant_id))
                                    .filter(group_members::group_id.eq(id))
                                    .filter(group_members::member_id.eq_any(chunk)),
                            )
                            .execute(c)?;
                        }
                        insert_members(c, tenant_id, id, &added)?;
                        let op = if doc_changed {
                            LogOperation::Update
                        } else {
                            LogOperation::GroupMembership
                        };
                        let mut summary = format!("displayName={display_name}");
                        if doc_changed {
                            summary.push_str(&format!(
                                "; changed: {}",
                                changed_names(&old, &doc).join(", ")
                            ));
                        }
                        if members_changed {
                            summary.push_str(&format!(
                                "; members +{} -{}",
                                added.len(),
                                removed.len()
                            ));
                        }
                        write_log(c, tenant_id, token, op, kind, id, &summary)?;
                    }
                }
                let row = read_row(c, tenant_id, kind, id)?.ok_or(StoreError::NotFound)?;
                read_with_relations(c, tenant_id, kind, &row)
            })
        })
    }

    fn delete(
        &self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        id: &str,
        expected_version: Option<i64>,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let token = actor.token_id.as_deref();
        retry_unconditional(expected_version, || {
            write_tx(&mut conn, |c| {
                let row = read_row(c, tenant_id, kind, id)?.ok_or(StoreError::NotFound)?;
                if expected_version.is_some_and(|v| v != row.version) {
                    return Err(StoreError::VersionMismatch);
                }
                let doc = parse_document(&row.document)?;
                let now = now_ms();
                // Groups that list it as a member change too.
                touch_parent_groups(c, tenant_id, id, now)?;
                diesel::delete(
                    group_members::table
                        .filter(group_members::tenant_id.eq(tenant_id))
                        .filter(group_members::member_id.eq(id)),
                )
                .execute(c)?;
                let summary = match kind {
                    ResourceKind::User => {
                        diesel::delete(
                            user_emails::table
                                .filter(user_emails::tenant_id.eq(tenant_id))
                                .filter(user_emails::user_id.eq(id)),
                        )
                        .execute(c)?;
                        let n = diesel::delete(
                            users::table
                                .filter(users::tenant_id.eq(tenant_id))
                                .filter(users::id.eq(id))
                                .filter(users::version.eq(row.version)),
                        )
                        .execute(c)?;
                        if n == 0 {
                            return Err(StoreError::VersionMismatch);
                        }
                        format!(
                            "userName={}",
                            str_attr(&doc, "userName").unwrap_or_default()
                        )
                    }
                    ResourceKind::Group => {
                        diesel::delete(
                            group_members::table
                                .filter(group_members::tenant_id.eq(tenant_id))
                                .filter(group_members::group_id.eq(id)),
                        )
                        .execute(c)?;
                        let n = diesel::delete(
                            groups::table
                                .filter(groups::tenant_id.eq(tenant_id))
                                .filter(groups::id.eq(id))
                                .filter(groups::version.eq(row.version)),
                        )
                        .execute(c)?;
                        if n == 0 {
                            return Err(StoreError::VersionMismatch);
                        }
                        format!(
                            "displayName={}",
                            str_attr(&doc, "displayName").unwrap_or_default()
                        )
                    }
                };
                write_log(
                    c,
                    tenant_id,
                    token,
                    LogOperation::Delete,
                    kind,
                    id,
                    &summary,
                )
            })
        })
    }

    fn list(&self, tenant_id: &str, kind: ResourceKind, params: &ListParams) -> StoreResult<Page> {
        let mut conn = self.conn()?;
        super::list::list(&mut conn, tenant_id, kind, params)
    }
}

fn group_display_name(doc: &Attributes) -> StoreResult<String> {
    str_attr(doc, "displayName").ok_or_else(|| {
        StoreError::Backend("a Group without a string displayName reached the store".into())
    })
}
