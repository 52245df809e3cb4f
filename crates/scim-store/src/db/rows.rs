//! Stored rows: the columns read back for users and groups, [`StoredRow`], and the
//! conversions between a row's JSON document and a `scim-core` [`Resource`].

use super::relations::Relations;
use super::schema::{groups, users};
use super::{AnyConnection, utc};
use crate::{StoreError, StoreResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use scim_core::ResourceKind;
use scim_core::resource::{Attributes, Meta, Resource};
use serde_json::Value;

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

/// Turns a stored row (and its loaded relations) into a [`Resource`].
pub(crate) fn to_resource(
    kind: ResourceKind,
    row: &StoredRow,
    relations: Option<&mut Relations>,
) -> StoreResult<Resource> {
    let mut attributes = parse_document(&row.document)?;
    // Each id appears once per page: move its values out instead of cloning them.
    if let Some(values) = relations.and_then(|r| r.remove(&row.id))
        && !values.is_empty()
    {
        attributes.insert(kind.relation_attribute().into(), Value::Array(values));
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

/// The parsed document of a row, as a resource without relations.
pub(crate) fn bare_resource(kind: ResourceKind, row: &StoredRow) -> StoreResult<Resource> {
    to_resource(kind, row, None)
}

pub(crate) fn parse_document(doc: &str) -> StoreResult<Attributes> {
    match serde_json::from_str::<Value>(doc) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(StoreError::Backend(
            "a stored document is not a JSON object".into(),
        )),
        Err(e) => Err(StoreError::Backend(Box::new(e))),
    }
}

pub(crate) fn render_document(doc: &Attributes) -> StoreResult<String> {
    serde_json::to_string(doc).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// The document as stored: the attributes without the server-maintained and derived ones
/// (`id`, `meta`, and `groups` of users / `members` of groups, which live in
/// `group_members`).
pub(crate) fn stored_document(kind: ResourceKind, mut attrs: Attributes) -> Attributes {
    attrs.remove("id");
    attrs.remove("meta");
    attrs.remove(kind.relation_attribute());
    attrs
}

pub(crate) fn str_attr(doc: &Attributes, name: &str) -> Option<String> {
    doc.get(name).and_then(Value::as_str).map(str::to_string)
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

/// Reads one row of the tenant and locks it until the end of the transaction (PostgreSQL
/// `FOR UPDATE`; SQLite's write transaction already holds the database write lock).
/// Concurrent writers of one resource queue on the lock instead of racing on versions.
pub(crate) fn read_row_for_update(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    id: &str,
) -> StoreResult<Option<StoredRow>> {
    let AnyConnection::Postgresql(pg) = conn else {
        return read_row(conn, tenant_id, kind, id);
    };
    Ok(match kind {
        ResourceKind::User => users::table
            .filter(users::tenant_id.eq(tenant_id))
            .filter(users::id.eq(id))
            .select(USER_COLUMNS)
            .for_update()
            .first::<UserTuple>(pg)
            .optional()?
            .map(StoredRow::from),
        ResourceKind::Group => groups::table
            .filter(groups::tenant_id.eq(tenant_id))
            .filter(groups::id.eq(id))
            .select(GROUP_COLUMNS)
            .for_update()
            .first::<GroupTuple>(pg)
            .optional()?
            .map(StoredRow::from),
    })
}
