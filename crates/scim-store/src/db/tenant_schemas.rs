//! Organization-defined extension schemas (`tenant_schemas`) and the tenant's
//! `schema_version`, bumped in the transaction of every put and remove.
//!
//! The bump comes first in each transaction: on PostgreSQL it takes the tenant row's lock,
//! so concurrent puts of one tenant run their checks one after the other on the state the
//! previous one committed (SQLite has one writer anyway).

use super::schema::{tenant_schemas, tenants};
use super::{AnyConnection, DieselStore, kind_from_name, now_ms, utc, write_tx};
use crate::{
    NewTenantSchema, SchemaCheck, StoreError, StoreResult, TenantSchema, TenantSchemaRepo,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

type Row = (
    String,
    String,
    bool,
    bool,
    String,
    NaiveDateTime,
    NaiveDateTime,
);

const COLUMNS: (
    tenant_schemas::id,
    tenant_schemas::extends,
    tenant_schemas::required,
    tenant_schemas::active,
    tenant_schemas::document,
    tenant_schemas::created,
    tenant_schemas::last_modified,
) = (
    tenant_schemas::id,
    tenant_schemas::extends,
    tenant_schemas::required,
    tenant_schemas::active,
    tenant_schemas::document,
    tenant_schemas::created,
    tenant_schemas::last_modified,
);

/// The tenant's rows (active and removed), in URN order, on `conn`.
pub(crate) fn read_tenant_schemas(
    conn: &mut AnyConnection,
    tenant_id: &str,
) -> StoreResult<Vec<TenantSchema>> {
    super::tx::storable(tenant_id)?;
    let rows: Vec<Row> = tenant_schemas::table
        .filter(tenant_schemas::tenant_id.eq(tenant_id))
        .select(COLUMNS)
        .order(tenant_schemas::id.asc())
        .load(conn)?;
    rows.into_iter()
        .map(
            |(id, extends, required, active, document, created, last_modified)| {
                Ok(TenantSchema {
                    id,
                    extends: kind_from_name(&extends)?,
                    required,
                    active,
                    document,
                    created: utc(created),
                    last_modified: utc(last_modified),
                })
            },
        )
        .collect()
}

/// Bumps the tenant's `schema_version`; `NotFound` when there is no such tenant.
fn bump(conn: &mut AnyConnection, tenant_id: &str) -> StoreResult<()> {
    let n = diesel::update(tenants::table.filter(tenants::id.eq(tenant_id)))
        .set(tenants::schema_version.eq(tenants::schema_version + 1_i64))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

impl TenantSchemaRepo for DieselStore {
    fn list_tenant_schemas(&self, tenant_id: &str) -> StoreResult<Vec<TenantSchema>> {
        let mut conn = self.conn()?;
        super::tenants::read_tenant(&mut conn, tenant_id)?;
        read_tenant_schemas(&mut conn, tenant_id)
    }

    fn put_tenant_schema(
        &self,
        tenant_id: &str,
        schema: &NewTenantSchema,
        check: &mut SchemaCheck<'_>,
    ) -> StoreResult<TenantSchema> {
        super::tx::storable(tenant_id)?;
        let mut conn = self.write_conn()?;
        write_tx(&mut conn, |c| {
            bump(c, tenant_id)?;
            let existing = read_tenant_schemas(c, tenant_id)?;
            check(&existing).map_err(StoreError::Rejected)?;
            let now = now_ms();
            let extends = schema.extends.as_str();
            let same = existing
                .iter()
                .find(|s| s.id.eq_ignore_ascii_case(&schema.id));
            let created = match same {
                Some(old) => {
                    // The stored letter case of the URN is the key; the new one replaces it.
                    diesel::delete(
                        tenant_schemas::table
                            .filter(tenant_schemas::tenant_id.eq(tenant_id))
                            .filter(tenant_schemas::id.eq(&old.id)),
                    )
                    .execute(c)?;
                    old.created.naive_utc()
                }
                None => now,
            };
            diesel::insert_into(tenant_schemas::table)
                .values((
                    tenant_schemas::tenant_id.eq(tenant_id),
                    tenant_schemas::id.eq(&schema.id),
                    tenant_schemas::extends.eq(extends),
                    tenant_schemas::required.eq(schema.required),
                    tenant_schemas::active.eq(true),
                    tenant_schemas::document.eq(&schema.document),
                    tenant_schemas::created.eq(created),
                    tenant_schemas::last_modified.eq(now),
                ))
                .execute(c)?;
            Ok(TenantSchema {
                id: schema.id.clone(),
                extends: schema.extends,
                required: schema.required,
                active: true,
                document: schema.document.clone(),
                created: utc(created),
                last_modified: utc(now),
            })
        })
    }

    fn remove_tenant_schema(&self, tenant_id: &str, id: &str) -> StoreResult<()> {
        super::tx::storable(tenant_id)?;
        let mut conn = self.write_conn()?;
        write_tx(&mut conn, |c| {
            bump(c, tenant_id)?;
            let existing = read_tenant_schemas(c, tenant_id)?;
            let Some(old) = existing
                .iter()
                .find(|s| s.active && s.id.eq_ignore_ascii_case(id))
            else {
                return Err(StoreError::NotFound);
            };
            diesel::update(
                tenant_schemas::table
                    .filter(tenant_schemas::tenant_id.eq(tenant_id))
                    .filter(tenant_schemas::id.eq(&old.id)),
            )
            .set((
                tenant_schemas::active.eq(false),
                tenant_schemas::last_modified.eq(now_ms()),
            ))
            .execute(c)?;
            Ok(())
        })
    }
}
