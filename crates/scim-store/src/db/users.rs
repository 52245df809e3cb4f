//! User rows: the denormalised, indexed columns (`userName`, `externalId`, names,
//! `active`), the `user_emails` rows behind e-mail filters, and the statements that insert,
//! update and delete a user inside the caller's write transaction.

use super::AnyConnection;
use super::rows::str_attr;
use super::schema::{user_emails, users};
use crate::{StoreError, StoreResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use scim_core::resource::Attributes;
use serde_json::Value;

/// The denormalised, indexed columns of a user.
pub(crate) struct UserCols {
    pub user_name: String,
    user_name_lower: String,
    external_id: Option<String>,
    active: Option<bool>,
    display_name: Option<String>,
    display_name_lower: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
}

pub(crate) fn user_cols(doc: &Attributes) -> StoreResult<UserCols> {
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
pub(crate) type EmailRow = (i32, String, String, Option<String>, bool);

pub(crate) fn email_rows(doc: &Attributes) -> Vec<EmailRow> {
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

pub(crate) fn insert_emails(
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

/// Inserts a new user row (version 1) and its e-mail rows. (A single-row `INSERT` is a
/// statement diesel caches; the multi-row one of [`insert_many`] is re-prepared per call,
/// which is why the two are not one function.)
pub(crate) fn insert(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    doc: &Attributes,
    text: &str,
    now: NaiveDateTime,
) -> StoreResult<UserCols> {
    let cols = user_cols(doc)?;
    diesel::insert_into(users::table)
        .values((
            users::tenant_id.eq(tenant_id),
            users::id.eq(id),
            users::user_name.eq(&cols.user_name),
            users::user_name_lower.eq(&cols.user_name_lower),
            users::external_id.eq(&cols.external_id),
            users::active.eq(cols.active),
            users::display_name.eq(&cols.display_name),
            users::display_name_lower.eq(&cols.display_name_lower),
            users::given_name.eq(&cols.given_name),
            users::family_name.eq(&cols.family_name),
            users::document.eq(text),
            users::version.eq(1_i64),
            users::created.eq(now),
            users::last_modified.eq(now),
        ))
        .execute(conn)?;
    insert_emails(conn, tenant_id, id, &email_rows(doc))?;
    Ok(cols)
}

/// Inserts many new users (version 1) with multi-row `INSERT`s, and their e-mail rows;
/// returns their columns in order. `docs` pairs each id with its stored document and text.
pub(crate) fn insert_many(
    conn: &mut AnyConnection,
    tenant_id: &str,
    docs: &[(String, Attributes, String)],
    now: NaiveDateTime,
) -> StoreResult<Vec<UserCols>> {
    let cols = docs
        .iter()
        .map(|(_, doc, _)| user_cols(doc))
        .collect::<StoreResult<Vec<_>>>()?;
    // 14 binds a row: 64 rows stay far below every backend's bind limit.
    for (chunk, chunk_cols) in docs.chunks(64).zip(cols.chunks(64)) {
        let rows: Vec<_> = chunk
            .iter()
            .zip(chunk_cols)
            .map(|((id, _, text), c)| {
                (
                    users::tenant_id.eq(tenant_id),
                    users::id.eq(id.as_str()),
                    users::user_name.eq(c.user_name.as_str()),
                    users::user_name_lower.eq(c.user_name_lower.as_str()),
                    users::external_id.eq(c.external_id.as_deref()),
                    users::active.eq(c.active),
                    users::display_name.eq(c.display_name.as_deref()),
                    users::display_name_lower.eq(c.display_name_lower.as_deref()),
                    users::given_name.eq(c.given_name.as_deref()),
                    users::family_name.eq(c.family_name.as_deref()),
                    users::document.eq(text.as_str()),
                    users::version.eq(1_i64),
                    users::created.eq(now),
                    users::last_modified.eq(now),
                )
            })
            .collect();
        // Multi-row VALUES need the concrete backend.
        match conn {
            AnyConnection::Postgresql(c) => {
                diesel::insert_into(users::table).values(&rows).execute(c)?
            }
            AnyConnection::Sqlite(c) => {
                diesel::insert_into(users::table).values(&rows).execute(c)?
            }
        };
    }
    let emails: Vec<(&str, EmailRow)> = docs
        .iter()
        .flat_map(|(id, doc, _)| email_rows(doc).into_iter().map(move |e| (id.as_str(), e)))
        .collect();
    for chunk in emails.chunks(128) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(user_id, (pos, value, lower, ty, primary))| {
                (
                    user_emails::tenant_id.eq(tenant_id),
                    user_emails::user_id.eq(*user_id),
                    user_emails::position.eq(*pos),
                    user_emails::value.eq(value.as_str()),
                    user_emails::value_lower.eq(lower.as_str()),
                    user_emails::email_type.eq(ty.as_deref()),
                    user_emails::is_primary.eq(*primary),
                )
            })
            .collect();
        match conn {
            AnyConnection::Postgresql(c) => diesel::insert_into(user_emails::table)
                .values(&rows)
                .execute(c)?,
            AnyConnection::Sqlite(c) => diesel::insert_into(user_emails::table)
                .values(&rows)
                .execute(c)?,
        };
    }
    Ok(cols)
}

/// Writes a changed user document over version `version` (the row is locked by the
/// caller's transaction) and re-writes its e-mail rows when they differ.
#[allow(clippy::too_many_arguments)]
pub(crate) fn update(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    version: i64,
    old: &Attributes,
    doc: &Attributes,
    text: &str,
    now: NaiveDateTime,
) -> StoreResult<UserCols> {
    let cols = user_cols(doc)?;
    let n = diesel::update(
        users::table
            .filter(users::tenant_id.eq(tenant_id))
            .filter(users::id.eq(id))
            .filter(users::version.eq(version)),
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
        users::document.eq(text),
        users::version.eq(version + 1),
        users::last_modified.eq(now),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
    let (old_emails, new_emails) = (email_rows(old), email_rows(doc));
    if old_emails != new_emails {
        diesel::delete(
            user_emails::table
                .filter(user_emails::tenant_id.eq(tenant_id))
                .filter(user_emails::user_id.eq(id)),
        )
        .execute(conn)?;
        insert_emails(conn, tenant_id, id, &new_emails)?;
    }
    Ok(cols)
}

/// Deletes a user row of version `version` and its e-mail rows (memberships are the
/// caller's business).
pub(crate) fn delete(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    version: i64,
) -> StoreResult<()> {
    diesel::delete(
        user_emails::table
            .filter(user_emails::tenant_id.eq(tenant_id))
            .filter(user_emails::user_id.eq(id)),
    )
    .execute(conn)?;
    let n = diesel::delete(
        users::table
            .filter(users::tenant_id.eq(tenant_id))
            .filter(users::id.eq(id))
            .filter(users::version.eq(version)),
    )
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
    Ok(())
}

/// Whether a user document is active (`active` absent counts as active).
pub(crate) fn is_active(doc: &Attributes) -> bool {
    doc.get("active").and_then(Value::as_bool).unwrap_or(true)
}
