//! The orders a list can have: the SQL-sortable columns of `sortBy`, and the in-memory twin
//! of the SQL `ORDER BY` used when a small result is ordered in Rust.

use crate::db::rows::StoredRow;
use chrono::NaiveDateTime;
use scim_core::ResourceKind;
use scim_core::filter::AttrPath;
use std::cmp::Ordering;

/// A column the store can sort on in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortCol {
    UserName,
    DisplayName,
    ExternalId,
    Id,
    Created,
    LastModified,
    GivenName,
    FamilyName,
}

/// The SQL column for `sortBy`, or `None` when the attribute is not sortable in SQL (the
/// list then uses the default order `(created, id)`).
pub(crate) fn sort_col(kind: ResourceKind, path: &AttrPath) -> Option<SortCol> {
    if let Some(urn) = &path.urn
        && !kind.resource_type().schema.id.eq_ignore_ascii_case(urn)
    {
        return None;
    }
    let name = path.name.to_ascii_lowercase();
    let sub = path.sub_attr.as_deref().map(str::to_ascii_lowercase);
    let user = kind == ResourceKind::User;
    Some(match (name.as_str(), sub.as_deref()) {
        ("username", None) if user => SortCol::UserName,
        ("displayname", None) => SortCol::DisplayName,
        ("externalid", None) => SortCol::ExternalId,
        ("id", None) => SortCol::Id,
        ("meta", Some("created")) => SortCol::Created,
        ("meta", Some("lastmodified")) => SortCol::LastModified,
        ("name", Some("givenname")) if user => SortCol::GivenName,
        ("name", Some("familyname")) if user => SortCol::FamilyName,
        _ => return None,
    })
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key<'a> {
    Str(&'a str),
    Time(NaiveDateTime),
}

fn key(row: &StoredRow, col: SortCol) -> Option<Key<'_>> {
    match col {
        SortCol::UserName => row.user_name_lower.as_deref().map(Key::Str),
        SortCol::DisplayName => row.display_name_lower.as_deref().map(Key::Str),
        SortCol::ExternalId => row.external_id.as_deref().map(Key::Str),
        SortCol::Id => Some(Key::Str(&row.id)),
        SortCol::Created => Some(Key::Time(row.created)),
        SortCol::LastModified => Some(Key::Time(row.last_modified)),
        SortCol::GivenName => row.given_name.as_deref().map(Key::Str),
        SortCol::FamilyName => row.family_name.as_deref().map(Key::Str),
    }
}

/// The in-memory twin of the SQL `ORDER BY` (byte order for text on both backends: the
/// PostgreSQL key columns are `COLLATE "C"`).
pub(crate) fn compare_rows(
    a: &StoredRow,
    b: &StoredRow,
    sort: Option<SortCol>,
    desc: bool,
) -> Ordering {
    let primary = match sort {
        Some(col) => {
            let (ka, kb) = (key(a, col), key(b, col));
            let o = (ka.is_none(), ka).cmp(&(kb.is_none(), kb));
            if desc { o.reverse() } else { o }
        }
        None => Ordering::Equal,
    };
    primary
        .then_with(|| a.created.cmp(&b.created))
        .then_with(|| a.id.cmp(&b.id))
}

/// A position in the default order `(created, id)`: a keyset.
pub(crate) type Pos = (NaiveDateTime, String);

/// The position of a row in the default order.
pub(crate) fn pos(row: &StoredRow) -> Pos {
    (row.created, row.id.clone())
}

/// Whether `row` comes strictly after `after` in the default order.
pub(crate) fn is_after(row: &StoredRow, after: Option<&Pos>) -> bool {
    after.is_none_or(|(c, id)| (row.created, row.id.as_str()) > (*c, id.as_str()))
}
