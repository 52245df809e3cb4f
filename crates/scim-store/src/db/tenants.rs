//! Tenants and their token records, shared server settings, the provisioning-log reader,
//! and the `Store` glue (`ping`, `backend_name`) of [`DieselStore`].

use super::schema::{event_sequences, provisioning_log, server_settings, tenants};
use super::{
    AnyConnection, DieselStore, kind_from_name, new_id, now_ms, truncate_ms, utc, write_tx,
};
use crate::{
    LegacyToken, LogEntry, LogOperation, LogQuery, LogRepo, NewToken, SettingsRepo, StoreError,
    StoreResult, Tenant, TenantRepo, TokenRecord,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use scim_core::ResourceKind;

/// Token uses closer together than this are not written again.
use crate::TOKEN_USE_RESOLUTION;

/// The default and maximum page size of [`LogRepo::list_log`].
const LOG_DEFAULT_LIMIT: u64 = 100;
const LOG_MAX_LIMIT: u64 = 1000;

type TenantRow = (
    String,
    String,
    NaiveDateTime,
    Option<String>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<String>,
    Option<NaiveDateTime>,
    String,
    i64,
);

fn tenant_from_row(row: TenantRow) -> Tenant {
    let (
        id,
        name,
        created,
        token_id,
        generated,
        last_used,
        hash,
        paused_at,
        profile,
        schema_version,
    ) = row;
    let token = match (token_id, generated) {
        (Some(id), Some(generated)) => Some(TokenRecord {
            id,
            hash,
            generated: utc(generated),
            last_used: last_used.map(utc),
        }),
        _ => None,
    };
    Tenant {
        id,
        name,
        created: utc(created),
        token,
        paused_at: paused_at.map(utc),
        // The column's CHECK admits only the two names; anything else would be a row
        // written by a newer release, served leniently rather than refused.
        profile: profile.parse().unwrap_or_default(),
        schema_version,
    }
}

const TENANT_COLUMNS: (
    tenants::id,
    tenants::name,
    tenants::created,
    tenants::current_token_id,
    tenants::token_generated_at,
    tenants::token_last_used_at,
    tenants::token_hash,
    tenants::paused_at,
    tenants::profile,
    tenants::schema_version,
) = (
    tenants::id,
    tenants::name,
    tenants::created,
    tenants::current_token_id,
    tenants::token_generated_at,
    tenants::token_last_used_at,
    tenants::token_hash,
    tenants::paused_at,
    tenants::profile,
    tenants::schema_version,
);

fn ms(t: DateTime<Utc>) -> NaiveDateTime {
    truncate_ms(t.naive_utc())
}

impl TenantRepo for DieselStore {
    fn create_tenant(&self, name: &str) -> StoreResult<Tenant> {
        let mut conn = self.write_conn()?;
        let id = new_id();
        let created = now_ms();
        // With its event counter row, so a write's position allocation is always an
        // `UPDATE` (PostgreSQL appends counter, events and log row in one statement).
        write_tx(&mut conn, |c| {
            diesel::insert_into(tenants::table)
                .values((
                    tenants::id.eq(&id),
                    tenants::name.eq(name),
                    tenants::created.eq(created),
                ))
                .execute(c)?;
            diesel::insert_into(event_sequences::table)
                .values((
                    event_sequences::tenant_id.eq(&id),
                    event_sequences::last_position.eq(0_i64),
                ))
                .execute(c)?;
            Ok(())
        })?;
        Ok(Tenant {
            id,
            name: name.to_string(),
            created: utc(created),
            token: None,
            paused_at: None,
            profile: scim_core::Profile::default(),
            schema_version: 0,
        })
    }

    fn get_tenant(&self, tenant_id: &str) -> StoreResult<Tenant> {
        read_tenant(&mut *self.conn()?, tenant_id)
    }

    fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let mut conn = self.conn()?;
        let rows: Vec<TenantRow> = tenants::table
            .select(TENANT_COLUMNS)
            .order((tenants::created.asc(), tenants::id.asc()))
            .load(&mut *conn)?;
        Ok(rows.into_iter().map(tenant_from_row).collect())
    }

    fn set_current_token(
        &self,
        tenant_id: &str,
        token: &NewToken,
        at: DateTime<Utc>,
        expected: Option<&str>,
    ) -> StoreResult<TokenRecord> {
        super::tx::storable(tenant_id)?;
        let mut conn = self.write_conn()?;
        let at = ms(at);
        // One conditional UPDATE is the compare-and-set: a concurrent rotation from the same
        // state finds the id changed (PostgreSQL re-checks the WHERE after the row lock;
        // SQLite has one writer) and updates nothing.
        let values = (
            tenants::current_token_id.eq(&token.id),
            tenants::token_hash.eq(&token.hash),
            tenants::token_generated_at.eq(at),
            tenants::token_last_used_at.eq(None::<NaiveDateTime>),
        );
        let target = tenants::table.filter(tenants::id.eq(tenant_id));
        let n = match expected {
            Some(id) => diesel::update(target.filter(tenants::current_token_id.eq(id)))
                .set(values)
                .execute(&mut *conn)?,
            None => diesel::update(target.filter(tenants::current_token_id.is_null()))
                .set(values)
                .execute(&mut *conn)?,
        };
        if n == 0 {
            // Nothing matched: the tenant is gone, or another rotation won.
            read_tenant(&mut conn, tenant_id)?;
            return Err(StoreError::TokenChanged);
        }
        Ok(TokenRecord {
            id: token.id.clone(),
            hash: Some(token.hash.clone()),
            generated: utc(at),
            last_used: None,
        })
    }

    fn set_paused(&self, tenant_id: &str, paused: bool, at: DateTime<Utc>) -> StoreResult<Tenant> {
        super::tx::storable(tenant_id)?;
        let mut conn = self.write_conn()?;
        let target = tenants::table.filter(tenants::id.eq(tenant_id));
        if paused {
            // Only a running tenant: pausing twice keeps the first pause time.
            diesel::update(target.filter(tenants::paused_at.is_null()))
                .set(tenants::paused_at.eq(Some(ms(at))))
                .execute(&mut *conn)?;
        } else {
            diesel::update(target)
                .set(tenants::paused_at.eq(None::<NaiveDateTime>))
                .execute(&mut *conn)?;
        }
        // Not found when it does not exist.
        read_tenant(&mut conn, tenant_id)
    }

    fn set_profile(&self, tenant_id: &str, profile: scim_core::Profile) -> StoreResult<Tenant> {
        super::tx::storable(tenant_id)?;
        let mut conn = self.write_conn()?;
        diesel::update(tenants::table.filter(tenants::id.eq(tenant_id)))
            .set(tenants::profile.eq(profile.as_str()))
            .execute(&mut *conn)?;
        // Not found when it does not exist.
        read_tenant(&mut conn, tenant_id)
    }

    fn delete_tenant(&self, tenant_id: &str) -> StoreResult<()> {
        use super::schema::{
            admin_accounts, entitlement_types, entitlement_values, event_deliveries,
            event_redeliveries, event_subscriptions, events, group_members, groups, request_log,
            resource_counts, tenant_schemas, user_emails, users,
        };
        super::tx::storable(tenant_id)?;
        let mut conn = self.write_conn()?;
        let deleted = write_tx(&mut conn, |c| {
            // Children first, every table that has a tenant_id: several have no foreign key
            // to `tenants` (so no cascade), and an explicit delete per table keeps this
            // independent of which ones do. Admin sessions cascade from their account.
            macro_rules! purge {
                ($($table:ident),+) => {
                    $(diesel::delete($table::table.filter($table::tenant_id.eq(tenant_id)))
                        .execute(c)?;)+
                };
            }
            purge!(
                group_members,
                user_emails,
                groups,
                users,
                provisioning_log,
                request_log,
                event_redeliveries,
                event_deliveries,
                event_subscriptions,
                events,
                event_sequences,
                resource_counts,
                entitlement_values,
                entitlement_types,
                tenant_schemas
            );
            diesel::delete(admin_accounts::table.filter(admin_accounts::tenant_id.eq(tenant_id)))
                .execute(c)?;
            Ok(diesel::delete(tenants::table.filter(tenants::id.eq(tenant_id))).execute(c)?)
        })?;
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    fn upgrade_legacy_tokens(
        &self,
        key_setting: &str,
        rehash: &mut crate::Rehash<'_>,
    ) -> StoreResult<usize> {
        let mut conn = self.write_conn()?;
        write_tx(&mut conn, |c| {
            let key: Option<String> = server_settings::table
                .filter(server_settings::key.eq(key_setting))
                .select(server_settings::value)
                .first(c)
                .optional()?;
            let legacy: Vec<(String, String, NaiveDateTime)> = tenants::table
                .filter(tenants::current_token_id.is_not_null())
                .filter(tenants::token_hash.is_null())
                .filter(tenants::token_generated_at.is_not_null())
                .select((
                    tenants::id,
                    tenants::current_token_id.assume_not_null(),
                    tenants::token_generated_at.assume_not_null(),
                ))
                .order(tenants::id.asc())
                .load(c)?;
            let mut upgraded = 0;
            for (tenant_id, token_id, generated) in legacy {
                let old = LegacyToken {
                    tenant_id,
                    token_id,
                    generated: utc(generated),
                };
                let Some(new) = rehash(&old, key.as_deref())? else {
                    continue;
                };
                // Still unhashed and still the same token: a replica that got here first
                // (or a rotation) leaves nothing to do.
                upgraded += diesel::update(
                    tenants::table
                        .filter(tenants::id.eq(&old.tenant_id))
                        .filter(tenants::current_token_id.eq(&old.token_id))
                        .filter(tenants::token_hash.is_null()),
                )
                .set((
                    tenants::current_token_id.eq(&new.id),
                    tenants::token_hash.eq(&new.hash),
                ))
                .execute(c)?;
            }
            diesel::delete(server_settings::table.filter(server_settings::key.eq(key_setting)))
                .execute(c)?;
            Ok(upgraded)
        })
    }

    fn record_token_use(
        &self,
        tenant_id: &str,
        token_id: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        record_token_use(&mut *self.conn()?, tenant_id, token_id, at)
    }
}

/// One tenant with its current token record.
pub(crate) fn read_tenant(conn: &mut AnyConnection, tenant_id: &str) -> StoreResult<Tenant> {
    super::tx::storable(tenant_id)?;
    let row: TenantRow = tenants::table
        .filter(tenants::id.eq(tenant_id))
        .select(TENANT_COLUMNS)
        .first(conn)?;
    Ok(tenant_from_row(row))
}

/// Records a token use with one conditional UPDATE: only the current token, and only when
/// the stored time is missing or older than the resolution (keeps authentication cheap).
pub(crate) fn record_token_use(
    conn: &mut AnyConnection,
    tenant_id: &str,
    token_id: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let at = ms(at);
    diesel::update(
        tenants::table
            .filter(tenants::id.eq(tenant_id))
            .filter(tenants::current_token_id.eq(token_id))
            .filter(
                tenants::token_last_used_at
                    .is_null()
                    .or(tenants::token_last_used_at.le(at - TOKEN_USE_RESOLUTION)),
            ),
    )
    .set(tenants::token_last_used_at.eq(at))
    .execute(conn)?;
    Ok(())
}

impl SettingsRepo for DieselStore {
    fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let mut conn = self.conn()?;
        Ok(server_settings::table
            .filter(server_settings::key.eq(key))
            .select(server_settings::value)
            .first(&mut *conn)
            .optional()?)
    }

    fn get_or_init_setting(&self, key: &str, value: &str) -> StoreResult<String> {
        let mut conn = self.conn()?;
        // Insert, ignore the unique violation of a concurrent (or earlier) writer, then read
        // the value that won. Not in a transaction: a failed INSERT would abort a
        // PostgreSQL transaction.
        match diesel::insert_into(server_settings::table)
            .values((
                server_settings::key.eq(key),
                server_settings::value.eq(value),
            ))
            .execute(&mut *conn)
        {
            Ok(_) | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(server_settings::table
            .filter(server_settings::key.eq(key))
            .select(server_settings::value)
            .first(&mut *conn)?)
    }
}

type LogRow = (
    i64,
    String,
    NaiveDateTime,
    Option<String>,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
);

impl LogRepo for DieselStore {
    fn list_log(&self, tenant_id: &str, query: &LogQuery) -> StoreResult<Vec<LogEntry>> {
        let mut conn = self.conn()?;
        let limit = match query.limit {
            0 => LOG_DEFAULT_LIMIT,
            n => n.min(LOG_MAX_LIMIT),
        };
        let mut q = provisioning_log::table
            .filter(provisioning_log::tenant_id.eq(tenant_id.to_string()))
            .into_boxed();
        if let Some(op) = query.operation {
            q = q.filter(provisioning_log::operation.eq(op.as_str()));
        }
        if let Some(kind) = query.resource_kind {
            q = q.filter(provisioning_log::resource_type.eq(kind.as_str()));
        }
        if let Some(id) = &query.resource_id {
            q = q.filter(provisioning_log::resource_id.eq(id.clone()));
        }
        if let Some(before) = query.before_id {
            q = q.filter(provisioning_log::id.lt(before));
        }
        let rows: Vec<LogRow> = q
            .select((
                provisioning_log::id,
                provisioning_log::tenant_id,
                provisioning_log::at,
                provisioning_log::token_id,
                provisioning_log::operation,
                provisioning_log::resource_type,
                provisioning_log::resource_id,
                provisioning_log::summary,
                provisioning_log::event_first,
                provisioning_log::event_last,
            ))
            .order(provisioning_log::id.desc())
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .load(&mut *conn)?;
        rows.into_iter()
            .map(
                |(id, tenant_id, at, token_id, op, rt, resource_id, summary, first, last)| {
                    let operation = LogOperation::parse(&op).ok_or_else(|| {
                        StoreError::Backend(format!("unknown log operation '{op}'").into())
                    })?;
                    let resource_kind = kind_from_name(&rt)?;
                    Ok(LogEntry {
                        id,
                        tenant_id,
                        at: utc(at),
                        token_id,
                        operation,
                        resource_kind,
                        resource_id,
                        summary,
                        events: first.zip(last),
                    })
                },
            )
            .collect()
    }
}

/// Writes one provisioning-log row (inside the caller's transaction).
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_log(
    conn: &mut AnyConnection,
    tenant_id: &str,
    token_id: Option<&str>,
    operation: LogOperation,
    kind: ResourceKind,
    resource_id: &str,
    summary: &str,
    events: Option<(i64, i64)>,
) -> StoreResult<()> {
    let summary = shorten(summary, 300);
    diesel::insert_into(provisioning_log::table)
        .values((
            provisioning_log::tenant_id.eq(tenant_id),
            provisioning_log::at.eq(now_ms()),
            provisioning_log::token_id.eq(token_id),
            provisioning_log::operation.eq(operation.as_str()),
            provisioning_log::resource_type.eq(kind.as_str()),
            provisioning_log::resource_id.eq(resource_id),
            provisioning_log::summary.eq(summary),
            provisioning_log::event_first.eq(events.map(|e| e.0)),
            provisioning_log::event_last.eq(events.map(|e| e.1)),
        ))
        .execute(conn)?;
    Ok(())
}

/// One row of [`write_logs`]: operation, resource id, summary, and the positions of the
/// events the change produced.
pub(crate) type LogLine = (LogOperation, String, String, Option<(i64, i64)>);

/// Writes many provisioning-log rows at once (inside the caller's transaction).
pub(crate) fn write_logs(
    conn: &mut AnyConnection,
    tenant_id: &str,
    token_id: Option<&str>,
    kind: ResourceKind,
    entries: &[LogLine],
) -> StoreResult<()> {
    let at = now_ms();
    for chunk in entries.chunks(128) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(op, id, summary, events)| {
                (
                    provisioning_log::tenant_id.eq(tenant_id),
                    provisioning_log::at.eq(at),
                    provisioning_log::token_id.eq(token_id),
                    provisioning_log::operation.eq(op.as_str()),
                    provisioning_log::resource_type.eq(kind.as_str()),
                    provisioning_log::resource_id.eq(id.as_str()),
                    provisioning_log::summary.eq(shorten(summary, 300)),
                    provisioning_log::event_first.eq(events.map(|e| e.0)),
                    provisioning_log::event_last.eq(events.map(|e| e.1)),
                )
            })
            .collect();
        match conn {
            AnyConnection::Postgresql(c) => diesel::insert_into(provisioning_log::table)
                .values(&rows)
                .execute(c)?,
            AnyConnection::Sqlite(c) => diesel::insert_into(provisioning_log::table)
                .values(&rows)
                .execute(c)?,
        };
    }
    Ok(())
}

/// At most `max` characters, with an ellipsis when cut.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
