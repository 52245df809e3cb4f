//! PostgreSQL: a change's position allocation, events and log row in **one** statement.
//!
//! A write's cost on PostgreSQL is its round trips, not its statements (measured with
//! server-side prepared statements: the three statements of the outbox cost about as much
//! as the rest of a PATCH, one statement of data-modifying CTEs about a tenth of it). So
//! [`AppendAndLog`] is one fixed SQL text for any number of events:
//!
//! ```sql
//! WITH s AS (UPDATE event_sequences SET last_position = last_position + $n
//!            WHERE tenant_id = $t RETURNING last_position),
//!      e AS (INSERT INTO events (...)
//!            SELECT $t, s.last_position - $n + u.ord, u.jti, ... FROM s,
//!                   unnest($jti::text[], ...) WITH ORDINALITY AS u(..., ord))
//! INSERT INTO provisioning_log (...) SELECT ..., s.last_position - $n + 1, s.last_position
//! FROM s RETURNING event_last
//! ```
//!
//! The per-event columns travel as arrays, so the text never changes and diesel prepares
//! it once per connection and caches it: the type has a static [`QueryId`] and never
//! calls `unsafe_to_cache_prepared` (unlike `sql_query`). The counter's row lock is taken
//! by this statement, the last of the transaction (the resource's row lock is always taken
//! before it), and held until the commit.
//!
//! Without the tenant's counter row the statement writes nothing and returns no row: the
//! caller then takes the general path (upsert, insert, log row), so no event is lost.

use crate::{LogOperation, StoreResult};
use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};
use scim_core::ResourceKind;

/// One change's events (as columns) and its log row, appended by one statement; see the
/// module docs.
pub(crate) struct AppendAndLog<'a> {
    pub tenant_id: &'a str,
    /// The number of events (the length of every array).
    pub n: i64,
    pub txn: &'a str,
    pub created_at: NaiveDateTime,
    pub jti: Vec<String>,
    pub event_type: Vec<&'static str>,
    pub resource_type: Vec<&'static str>,
    pub resource_id: Vec<&'a str>,
    pub external_id: Vec<Option<&'a str>>,
    pub version: Vec<Option<i64>>,
    pub data: Vec<Option<String>>,
    pub attributes: Vec<String>,
    pub group_id: Vec<Option<&'a str>>,
    pub group_external_id: Vec<Option<&'a str>>,
    pub log_at: NaiveDateTime,
    pub token_id: Option<&'a str>,
    pub operation: LogOperation,
    pub kind: ResourceKind,
    pub log_resource_id: &'a str,
    pub summary: &'a str,
}

/// The static query id of [`AppendAndLog`] (one SQL text, so one cached statement).
pub(crate) struct AppendAndLogId;

impl QueryId for AppendAndLog<'_> {
    type QueryId = AppendAndLogId;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for AppendAndLog<'_> {
    /// `event_last`: the last position allocated.
    type SqlType = BigInt;
}

impl RunQueryDsl<PgConnection> for AppendAndLog<'_> {}

impl QueryFragment<Pg> for AppendAndLog<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH s AS (UPDATE event_sequences SET last_position = last_position + ");
        out.push_bind_param::<BigInt, _>(&self.n)?;
        out.push_sql(" WHERE tenant_id = ");
        out.push_bind_param::<Text, _>(self.tenant_id)?;
        out.push_sql(
            " RETURNING last_position), e AS (INSERT INTO events (tenant_id, position, jti, \
             txn, event_type, resource_type, resource_id, external_id, version, data, \
             attributes, group_id, group_external_id, created_at) SELECT ",
        );
        out.push_bind_param::<Text, _>(self.tenant_id)?;
        out.push_sql(", s.last_position - ");
        out.push_bind_param::<BigInt, _>(&self.n)?;
        out.push_sql(" + u.ord, u.jti, ");
        out.push_bind_param::<Text, _>(self.txn)?;
        out.push_sql(
            ", u.event_type, u.resource_type, u.resource_id, u.external_id, u.version, \
             u.data, u.attributes, u.group_id, u.group_external_id, ",
        );
        out.push_bind_param::<Timestamp, _>(&self.created_at)?;
        out.push_sql(" FROM s, unnest(");
        out.push_bind_param::<Array<Text>, _>(&self.jti)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.event_type)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.resource_type)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.resource_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.external_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<BigInt>>, _>(&self.version)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.data)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.attributes)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.group_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.group_external_id)?;
        out.push_sql(
            ") WITH ORDINALITY AS u(jti, event_type, resource_type, resource_id, \
             external_id, version, data, attributes, group_id, group_external_id, ord)) \
             INSERT INTO provisioning_log (tenant_id, at, token_id, operation, \
             resource_type, resource_id, summary, event_first, event_last) SELECT ",
        );
        out.push_bind_param::<Text, _>(self.tenant_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.log_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.token_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.operation.as_str())?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.kind.as_str())?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.log_resource_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.summary)?;
        out.push_sql(", s.last_position - ");
        out.push_bind_param::<BigInt, _>(&self.n)?;
        out.push_sql(" + 1, s.last_position FROM s RETURNING event_last");
        Ok(())
    }
}

/// Runs `q`; `Some(last)` when it appended (the counter row exists), `None` when it wrote
/// nothing.
pub(crate) fn run(conn: &mut PgConnection, q: AppendAndLog<'_>) -> StoreResult<Option<i64>> {
    Ok(q.get_result::<i64>(conn).optional()?)
}

#[cfg(test)]
mod tests {
    use super::super::{DieselStore, StoreConfig};
    use crate::{Actor, ResourceRepo, TenantRepo};
    use diesel::sql_types::BigInt;
    use diesel::{Connection, QueryableByName, RunQueryDsl};
    use scim_core::ResourceKind;
    use scim_core::resource::parse_resource;
    use serde_json::json;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// The append is one prepared statement per connection, reused by every write: after
    /// several writes on the store's one connection, `pg_prepared_statements` (diesel
    /// names only the statements it caches; the others are unnamed and not listed) holds
    /// exactly one of its text.
    #[test]
    fn the_append_is_one_cached_statement() {
        let url = match std::env::var("SCIM_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
                    "SCIM_TEST_DATABASE_URL is not set: cannot skip under CI=true"
                );
                eprintln!("*** SKIP: SCIM_TEST_DATABASE_URL is not set ***");
                return;
            }
        };
        let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&url).unwrap();
        diesel::sql_query(format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let result = std::panic::catch_unwind(|| {
            let config = StoreConfig {
                pool_size: 1,
                min_idle: Some(1),
                ..StoreConfig::new(format!("{url}{sep}options=-csearch_path%3D{schema}"))
            };
            let store = DieselStore::open(&config).unwrap();
            let t = store.create_tenant("t").unwrap().id;
            for i in 0..3 {
                let user =
                    parse_resource(ResourceKind::User, &json!({"userName": format!("u{i}")}))
                        .unwrap();
                store
                    .create(&Actor::default(), &t, ResourceKind::User, user)
                    .unwrap();
            }
            let mut conn = store.write_conn().unwrap();
            let super::super::AnyConnection::Postgresql(c) = &mut *conn else {
                panic!("not PostgreSQL");
            };
            diesel::sql_query(
                "SELECT count(*) AS n FROM pg_prepared_statements \
                 WHERE statement LIKE 'WITH s AS (UPDATE event_sequences%'",
            )
            .get_result::<Count>(c)
            .unwrap()
            .n
        });
        let _ = diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE")).execute(&mut admin);
        assert_eq!(result.unwrap(), 1);
    }
}
