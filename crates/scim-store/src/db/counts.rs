//! Per-tenant resource counters (`resource_counts`): written in the same transaction as
//! every create and delete, read by lists for an O(1) exact `totalResults` and by the
//! index-paging keyset hints (a change of `deleted` means earlier offsets moved).
//!
//! PostgreSQL spreads writers over [`PG_SHARDS`] rows per tenant and kind (a random shard
//! per transaction), so concurrent creates in one tenant do not queue on one row lock;
//! SQLite has one writer at a time and uses shard 0. Readers sum the shards.

use super::schema::resource_counts;
use super::{AnyConnection, kind_name};
use crate::StoreResult;
use diesel::prelude::*;
use diesel::upsert::excluded;
use scim_core::ResourceKind;

/// Counter rows per tenant and kind on PostgreSQL.
const PG_SHARDS: u32 = 16;

/// How many resources of a kind were ever inserted and deleted in a tenant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Resources ever created.
    pub inserted: i64,
    /// Resources ever deleted.
    pub deleted: i64,
}

impl Counts {
    /// The resources that exist now.
    pub fn total(self) -> u64 {
        u64::try_from(self.inserted - self.deleted).unwrap_or(0)
    }
}

/// Adds `inserted` creations and `deleted` deletions to the tenant's counters (call inside
/// the write transaction that made them).
pub(crate) fn record(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    inserted: i64,
    deleted: i64,
) -> StoreResult<()> {
    let shard = match conn {
        AnyConnection::Postgresql(_) => {
            i32::try_from(getrandom::u32().unwrap_or(0) % PG_SHARDS).unwrap_or(0)
        }
        AnyConnection::Sqlite(_) => 0,
    };
    // Upserts need the concrete backend (the multi-backend has no ON CONFLICT clause).
    macro_rules! upsert {
        ($c:expr) => {
            diesel::insert_into(resource_counts::table)
                .values((
                    resource_counts::tenant_id.eq(tenant_id),
                    resource_counts::resource_type.eq(kind_name(kind)),
                    resource_counts::shard.eq(shard),
                    resource_counts::inserted.eq(inserted),
                    resource_counts::deleted.eq(deleted),
                ))
                .on_conflict((
                    resource_counts::tenant_id,
                    resource_counts::resource_type,
                    resource_counts::shard,
                ))
                .do_update()
                .set((
                    resource_counts::inserted
                        .eq(resource_counts::inserted + excluded(resource_counts::inserted)),
                    resource_counts::deleted
                        .eq(resource_counts::deleted + excluded(resource_counts::deleted)),
                ))
                .execute($c)
        };
    }
    match conn {
        AnyConnection::Postgresql(c) => upsert!(c),
        AnyConnection::Sqlite(c) => upsert!(c),
    }?;
    Ok(())
}

/// The tenant's counters for a kind (summed over the shards).
pub(crate) fn read(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
) -> StoreResult<Counts> {
    let rows: Vec<(i64, i64)> = resource_counts::table
        .filter(resource_counts::tenant_id.eq(tenant_id))
        .filter(resource_counts::resource_type.eq(kind_name(kind)))
        .select((resource_counts::inserted, resource_counts::deleted))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .fold(Counts::default(), |acc, (i, d)| Counts {
            inserted: acc.inserted + i,
            deleted: acc.deleted + d,
        }))
}
