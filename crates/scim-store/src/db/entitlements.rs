//! [`EntitlementRepo`] for [`DieselStore`], and the reads a [`Session`](crate::Session)
//! serves on its own connection (types, value pages, the catalog of the write check).
//!
//! The tables are small per tenant (the values an admin defines), so a page is an ordered
//! `OFFSET` read on `(tenant_id, kind, created, id)` and its total a `COUNT(*)`.

use super::schema::{entitlement_types, entitlement_values, tenants};
use super::tx::storable;
use super::{AnyConnection, DieselStore, new_id, now_ms, utc, write_tx};
use crate::{EntitlementRepo, StoreError, StoreResult, ValuePage, ValueQuery};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use scim_core::ScimError;
use scim_core::entitlements::{
    Catalog, EntitlementKind, EntitlementType, EntitlementValue, ValueFilter,
    check_type_definition, check_value_definition,
};

/// The `created` of a new type or value: now, or a millisecond after the tenant's newest
/// one when that is not earlier. Definition order is `(created, id)` and ids are random,
/// so two definitions in the same millisecond (a script, the CLI twice) would otherwise
/// list in either order.
fn after(newest: Option<NaiveDateTime>) -> NaiveDateTime {
    let now = now_ms();
    match newest {
        Some(n) if n >= now => n + chrono::Duration::milliseconds(1),
        _ => now,
    }
}

type TypeRow = (String, String, String, NaiveDateTime);
type ValueRow = (String, String, String, String, NaiveDateTime);

fn type_from_row((id, name, endpoint, created): TypeRow) -> EntitlementType {
    EntitlementType {
        id,
        name,
        endpoint,
        created: utc(created),
    }
}

fn value_from_row((id, kind, value, display, created): ValueRow) -> EntitlementValue {
    EntitlementValue {
        id,
        kind: EntitlementKind::parse(&kind),
        value,
        display,
        created: utc(created),
    }
}

fn tenant_exists(conn: &mut AnyConnection, tenant_id: &str) -> StoreResult<()> {
    storable(tenant_id)?;
    let n: i64 = tenants::table
        .filter(tenants::id.eq(tenant_id))
        .count()
        .get_result(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The tenant's entitlement types, oldest first.
pub(crate) fn types(
    conn: &mut AnyConnection,
    tenant_id: &str,
) -> StoreResult<Vec<EntitlementType>> {
    let rows: Vec<TypeRow> = entitlement_types::table
        .filter(entitlement_types::tenant_id.eq(tenant_id))
        .select((
            entitlement_types::id,
            entitlement_types::name,
            entitlement_types::endpoint,
            entitlement_types::created,
        ))
        .order((entitlement_types::created, entitlement_types::id))
        .load(conn)?;
    Ok(rows.into_iter().map(type_from_row).collect())
}

/// The canonical kind: a custom kind is the tenant's type of that id (letter case
/// ignored); a type that does not exist is refused with `invalidValue`.
fn resolve_kind(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: &EntitlementKind,
) -> StoreResult<EntitlementKind> {
    let EntitlementKind::Custom(id) = kind else {
        return Ok(kind.clone());
    };
    let found: Option<String> = entitlement_types::table
        .filter(entitlement_types::tenant_id.eq(tenant_id))
        .filter(entitlement_types::id_lower.eq(id.to_lowercase()))
        .select(entitlement_types::id)
        .first(conn)
        .optional()?;
    found.map(EntitlementKind::Custom).ok_or_else(|| {
        StoreError::Rejected(ScimError::invalid_value(format!(
            "'{id}' is not role, entitlement or an entitlement type of this organization"
        )))
    })
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A page of the tenant's values (see [`ValueQuery`]).
pub(crate) fn list_values(
    conn: &mut AnyConnection,
    tenant_id: &str,
    query: &ValueQuery,
) -> StoreResult<ValuePage> {
    let kind = match &query.kind {
        Some(k) => Some(resolve_kind(conn, tenant_id, k)?),
        None => None,
    };
    let filtered = || {
        let mut q = entitlement_values::table
            .filter(entitlement_values::tenant_id.eq(tenant_id.to_string()))
            .into_boxed();
        if let Some(k) = &kind {
            q = q.filter(entitlement_values::kind.eq(k.as_str().to_string()));
        }
        match &query.filter {
            Some(ValueFilter::Id(v)) => q = q.filter(entitlement_values::id.eq(v.clone())),
            Some(ValueFilter::Value(v)) => q = q.filter(entitlement_values::value.eq(v.clone())),
            Some(ValueFilter::Display(v)) => {
                q = q.filter(entitlement_values::display.eq(v.clone()))
            }
            None => {}
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let values = if query.count == 0 {
        Vec::new()
    } else {
        let rows: Vec<ValueRow> = filtered()
            .select((
                entitlement_values::id,
                entitlement_values::kind,
                entitlement_values::value,
                entitlement_values::display,
                entitlement_values::created,
            ))
            .order((entitlement_values::created, entitlement_values::id))
            .offset(to_i64(query.start_index.max(1) - 1))
            .limit(to_i64(query.count))
            .load(conn)?;
        rows.into_iter().map(value_from_row).collect()
    };
    Ok(ValuePage {
        total_results: u64::try_from(total).unwrap_or(0),
        values,
    })
}

/// Every defined value of the tenant, as the catalog check on a user's `roles` and
/// `entitlements` needs it.
pub(crate) fn catalog(conn: &mut AnyConnection, tenant_id: &str) -> StoreResult<Catalog> {
    let rows: Vec<(String, String, String)> = entitlement_values::table
        .filter(entitlement_values::tenant_id.eq(tenant_id))
        .select((
            entitlement_values::kind,
            entitlement_values::id,
            entitlement_values::value,
        ))
        .load(conn)?;
    let mut c = Catalog::default();
    for (kind, id, value) in rows {
        c.add(&EntitlementKind::parse(&kind), &id, &value);
    }
    Ok(c)
}

fn rejected(e: ScimError) -> StoreError {
    StoreError::Rejected(e)
}

fn conflict(attribute: &str) -> StoreError {
    StoreError::Conflict {
        attribute: attribute.into(),
    }
}

impl EntitlementRepo for DieselStore {
    fn add_entitlement_type(
        &self,
        tenant_id: &str,
        id: &str,
        name: &str,
        endpoint: &str,
    ) -> StoreResult<EntitlementType> {
        check_type_definition(id, name, endpoint).map_err(rejected)?;
        let mut conn = self.write_conn()?;
        write_tx(&mut conn, |c| {
            tenant_exists(c, tenant_id)?;
            // Checked first so that the error names the right part; the unique indexes
            // still decide between concurrent writers.
            for t in types(c, tenant_id)? {
                if t.id.eq_ignore_ascii_case(id) {
                    return Err(conflict("id"));
                }
                if t.endpoint.eq_ignore_ascii_case(endpoint) {
                    return Err(conflict("endpoint"));
                }
            }
            let newest = entitlement_types::table
                .filter(entitlement_types::tenant_id.eq(tenant_id))
                .select(diesel::dsl::max(entitlement_types::created))
                .first::<Option<NaiveDateTime>>(c)?;
            let created = after(newest);
            diesel::insert_into(entitlement_types::table)
                .values((
                    entitlement_types::tenant_id.eq(tenant_id),
                    entitlement_types::id.eq(id),
                    entitlement_types::id_lower.eq(id.to_lowercase()),
                    entitlement_types::name.eq(name.trim()),
                    entitlement_types::endpoint.eq(endpoint),
                    entitlement_types::endpoint_lower.eq(endpoint.to_lowercase()),
                    entitlement_types::created.eq(created),
                ))
                .execute(c)
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict { .. } => conflict("id"),
                    other => other,
                })?;
            Ok(EntitlementType {
                id: id.to_string(),
                name: name.trim().to_string(),
                endpoint: endpoint.to_string(),
                created: utc(created),
            })
        })
    }

    fn list_entitlement_types(&self, tenant_id: &str) -> StoreResult<Vec<EntitlementType>> {
        let mut conn = self.conn()?;
        tenant_exists(&mut conn, tenant_id)?;
        types(&mut conn, tenant_id)
    }

    fn remove_entitlement_type(&self, tenant_id: &str, id: &str) -> StoreResult<()> {
        let mut conn = self.write_conn()?;
        write_tx(&mut conn, |c| {
            tenant_exists(c, tenant_id)?;
            let canonical: Option<String> = entitlement_types::table
                .filter(entitlement_types::tenant_id.eq(tenant_id))
                .filter(entitlement_types::id_lower.eq(id.to_lowercase()))
                .select(entitlement_types::id)
                .first(c)
                .optional()?;
            let Some(canonical) = canonical else {
                return Err(StoreError::NotFound);
            };
            let held: i64 = entitlement_values::table
                .filter(entitlement_values::tenant_id.eq(tenant_id))
                .filter(entitlement_values::kind.eq(&canonical))
                .count()
                .get_result(c)?;
            if held > 0 {
                return Err(rejected(ScimError::conflict(format!(
                    "The entitlement type '{canonical}' still has {held} values; remove them first"
                ))));
            }
            diesel::delete(
                entitlement_types::table
                    .filter(entitlement_types::tenant_id.eq(tenant_id))
                    .filter(entitlement_types::id.eq(&canonical)),
            )
            .execute(c)?;
            Ok(())
        })
    }

    fn add_entitlement_value(
        &self,
        tenant_id: &str,
        kind: &EntitlementKind,
        value: &str,
        display: &str,
    ) -> StoreResult<EntitlementValue> {
        check_value_definition(value, display).map_err(rejected)?;
        let mut conn = self.write_conn()?;
        write_tx(&mut conn, |c| {
            tenant_exists(c, tenant_id)?;
            // A value added at the very moment its type is removed on another PostgreSQL
            // connection can outlive the type; it stays listed and removable by id.
            let kind = resolve_kind(c, tenant_id, kind)?;
            let newest = entitlement_values::table
                .filter(entitlement_values::tenant_id.eq(tenant_id))
                .select(diesel::dsl::max(entitlement_values::created))
                .first::<Option<NaiveDateTime>>(c)?;
            let (id, created) = (new_id(), after(newest));
            diesel::insert_into(entitlement_values::table)
                .values((
                    entitlement_values::tenant_id.eq(tenant_id),
                    entitlement_values::id.eq(&id),
                    entitlement_values::kind.eq(kind.as_str()),
                    entitlement_values::value.eq(value),
                    entitlement_values::display.eq(display),
                    entitlement_values::created.eq(created),
                ))
                .execute(c)
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict { .. } => conflict("value"),
                    other => other,
                })?;
            Ok(EntitlementValue {
                id,
                kind,
                value: value.to_string(),
                display: display.to_string(),
                created: utc(created),
            })
        })
    }

    fn list_entitlement_values(
        &self,
        tenant_id: &str,
        query: &ValueQuery,
    ) -> StoreResult<ValuePage> {
        let mut conn = self.conn()?;
        tenant_exists(&mut conn, tenant_id)?;
        list_values(&mut conn, tenant_id, query)
    }

    fn remove_entitlement_value(&self, tenant_id: &str, id: &str) -> StoreResult<EntitlementValue> {
        storable(id)?;
        let mut conn = self.write_conn()?;
        write_tx(&mut conn, |c| {
            tenant_exists(c, tenant_id)?;
            let row: Option<ValueRow> = entitlement_values::table
                .filter(entitlement_values::tenant_id.eq(tenant_id))
                .filter(entitlement_values::id.eq(id))
                .select((
                    entitlement_values::id,
                    entitlement_values::kind,
                    entitlement_values::value,
                    entitlement_values::display,
                    entitlement_values::created,
                ))
                .first(c)
                .optional()?;
            let Some(row) = row else {
                return Err(StoreError::NotFound);
            };
            diesel::delete(
                entitlement_values::table
                    .filter(entitlement_values::tenant_id.eq(tenant_id))
                    .filter(entitlement_values::id.eq(id)),
            )
            .execute(c)?;
            Ok(value_from_row(row))
        })
    }
}
