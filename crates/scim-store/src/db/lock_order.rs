//! The order in which write transactions take row locks on PostgreSQL, so that concurrent
//! writers can wait for each other but never in a cycle (a deadlock, which PostgreSQL
//! breaks after a second by aborting one of them; the session re-runs it, but that is the
//! fallback, not the design). SQLite needs none of this: the store has one writer
//! connection, so write transactions never overlap.
//!
//! **The rule: a group before its members, groups among themselves in id order.**
//!
//! - A membership change (`change_members`, a group PUT) locks its group (`FOR UPDATE`),
//!   then the members it adds (`FOR KEY SHARE`, [`super::groups::resolve_members`]: a
//!   delete of such a member waits until the add committed and then removes the new
//!   membership with it, so no membership row outlives its user). Members it already has
//!   are not locked again ([`not_yet_members`]).
//! - A delete locks every group that lists the resource (and, for a group, the group
//!   itself), sorted by id, and only then the resource ([`lock_for_delete`]).
//! - Two deletes of members of the same groups take those groups in the same order.
//! - The counters (`resource_counts`, `event_sequences`) are locked last by every write,
//!   which then waits for nothing else.
//!
//! The proof is `tests/conformance/pg_races.rs`: each interleaving that used to cycle is
//! forced there, and every transaction must run exactly once.

use super::rows::{StoredRow, read_row_for_update};
use super::schema::{group_members, groups};
use super::{AnyConnection, relations::IN_CHUNK};
use crate::StoreResult;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use scim_core::ResourceKind;
use std::collections::HashSet;

/// How often [`lock_for_delete`] starts over when a group began to list the resource
/// while it was locking; then it locks as things are (a cycle, if one forms, is broken by
/// PostgreSQL and the transaction re-run).
const DELETE_LOCK_ATTEMPTS: usize = 5;

/// Of `ids`, those that are not members of the group yet, in order. The caller holds the
/// group's row lock, so its membership cannot change meanwhile.
///
/// Why (PostgreSQL): an added id is locked `FOR KEY SHARE`, which waits for a transaction
/// deleting that user, and the delete bumps every group that lists the user. A re-add of
/// an existing member (identity providers send them) would make each wait for the other.
/// It changes nothing, so it needs no lock and no resolution. SQLite skips the query and
/// lets `ON CONFLICT` ignore them.
pub(crate) fn not_yet_members(
    conn: &mut AnyConnection,
    tenant_id: &str,
    group_id: &str,
    ids: &[String],
) -> StoreResult<Vec<String>> {
    let AnyConnection::Postgresql(c) = conn else {
        return Ok(ids.to_vec());
    };
    let mut existing: HashSet<String> = HashSet::new();
    for chunk in ids.chunks(IN_CHUNK) {
        existing.extend(
            group_members::table
                .filter(group_members::tenant_id.eq(tenant_id))
                .filter(group_members::group_id.eq(group_id))
                .filter(group_members::member_id.eq_any(chunk))
                .select(group_members::member_id)
                .load::<String>(c)?,
        );
    }
    Ok(ids
        .iter()
        .filter(|id| !existing.contains(id.as_str()))
        .cloned()
        .collect())
}

/// Locks what deleting resource `id` writes, in the rule's order, and returns its row
/// (locked; `None` when it does not exist). SQLite: just reads the row.
///
/// On PostgreSQL, inside a savepoint: the groups listing it (with the group itself, for a
/// group) `ORDER BY id FOR UPDATE` (rows are locked in the sorted order), then the row.
/// A group may have started to list it between that read and the row lock: its writer
/// held the row `FOR KEY SHARE`, so it has committed once the row lock is granted. Then
/// the savepoint is rolled back (which releases those locks) and it starts over, now
/// seeing that group; locking it after the row would break the rule.
pub(crate) fn lock_for_delete(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    id: &str,
) -> StoreResult<Option<StoredRow>> {
    if !matches!(conn, AnyConnection::Postgresql(_)) {
        return read_row_for_update(conn, tenant_id, kind, id);
    }
    for _ in 0..DELETE_LOCK_ATTEMPTS {
        conn.batch_execute("SAVEPOINT lock_for_delete")?;
        let locked = lock_groups_listing(conn, tenant_id, kind, id)?;
        let row = read_row_for_update(conn, tenant_id, kind, id)?;
        let complete = match row {
            None => true,
            Some(_) => parents(conn, tenant_id, id)?
                .iter()
                .all(|g| locked.contains(g)),
        };
        if complete {
            conn.batch_execute("RELEASE SAVEPOINT lock_for_delete")?;
            return Ok(row);
        }
        conn.batch_execute(
            "ROLLBACK TO SAVEPOINT lock_for_delete; RELEASE SAVEPOINT lock_for_delete",
        )?;
    }
    lock_groups_listing(conn, tenant_id, kind, id)?;
    read_row_for_update(conn, tenant_id, kind, id)
}

/// The ids of the groups that list `member_id`.
fn parents(conn: &mut AnyConnection, tenant_id: &str, member_id: &str) -> StoreResult<Vec<String>> {
    Ok(group_members::table
        .filter(group_members::tenant_id.eq(tenant_id))
        .filter(group_members::member_id.eq(member_id))
        .select(group_members::group_id)
        .load(conn)?)
}

/// `SELECT id FROM groups WHERE id IN (groups listing it) [OR id = it] ORDER BY id FOR
/// UPDATE`: the locked ids (PostgreSQL only).
fn lock_groups_listing(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    id: &str,
) -> StoreResult<HashSet<String>> {
    let AnyConnection::Postgresql(c) = conn else {
        return Ok(HashSet::new());
    };
    let listing = group_members::table
        .filter(group_members::tenant_id.eq(tenant_id))
        .filter(group_members::member_id.eq(id))
        .select(group_members::group_id);
    let query = groups::table
        .filter(groups::tenant_id.eq(tenant_id))
        .order(groups::id)
        .select(groups::id)
        .for_update();
    let locked: Vec<String> = match kind {
        ResourceKind::User => query.filter(groups::id.eq_any(listing)).load(c)?,
        ResourceKind::Group => query
            .filter(groups::id.eq_any(listing).or(groups::id.eq(id)))
            .load(c)?,
    };
    Ok(locked.into_iter().collect())
}
