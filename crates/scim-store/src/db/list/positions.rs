//! Position checkpoints behind index paging at any `startIndex`: per store process and
//! tenant, the keyset of every [`EVERY`]-th row in the default order, so a page at index
//! `n` (a random deep page, not the continuation of a walk) reads at most `EVERY - 1`
//! skipped index entries after the nearest checkpoint instead of an `OFFSET` over the
//! whole tenant.
//!
//! Checkpoints are found lazily: a request past the known ones extends them with
//! key-only index reads (`SELECT created, id … OFFSET EVERY - 1 LIMIT 1` from the last
//! checkpoint), so the first deep page costs what an `OFFSET` costs and every later page up
//! to that depth costs a page. Like the hints, they are valid only while the tenant's
//! counters are unchanged (any create or delete can shift indexes); otherwise they are
//! dropped and found again. The map holds at most [`MAX_TENANTS`] tenant-kinds.

use super::sort::Pos;
use super::sql;
use crate::StoreResult;
use crate::db::AnyConnection;
use crate::db::counts::Counts;
use scim_core::ResourceKind;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Rows between two checkpoints.
pub(crate) const EVERY: u64 = 512;

/// Tenant-kinds whose checkpoints are kept (beyond it the map is cleared: rebuilding is
/// cheap and lazy).
const MAX_TENANTS: usize = 1_000;

#[derive(Debug, Default)]
struct Entry {
    counts: Counts,
    /// `keys[i]` is the position of the row at 0-based index `(i + 1) * EVERY - 1`.
    keys: Vec<Pos>,
}

/// The checkpoints of every tenant-kind a store process has served deep pages of.
#[derive(Debug, Default)]
pub(crate) struct Positions {
    inner: Mutex<HashMap<(String, ResourceKind), Entry>>,
}

impl Positions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, ResourceKind), Entry>> {
        // Entries are validated against the counters before use; a panic elsewhere while
        // the lock was held cannot make one wrong.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where the row at 0-based `offset` is found: after the returned checkpoint, skipping
    /// the returned number of rows (`None`: from the start). `counts` are the tenant's
    /// counters read in this request.
    pub(crate) fn seek(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        kind: ResourceKind,
        offset: u64,
        counts: Counts,
    ) -> StoreResult<(Option<Pos>, u64)> {
        let block = usize::try_from(offset / EVERY).unwrap_or(usize::MAX);
        if block == 0 {
            return Ok((None, offset));
        }
        let key = (tenant_id.to_string(), kind);
        let mut keys = {
            let mut map = self.lock();
            let entry = map.get(&key);
            match entry {
                Some(e) if e.counts == counts && e.keys.len() >= block => {
                    let at = e.keys[block - 1].clone();
                    return Ok((Some(at), offset - block as u64 * EVERY));
                }
                Some(e) if e.counts == counts => e.keys.clone(),
                _ => {
                    map.remove(&key);
                    Vec::new()
                }
            }
        };
        let known = keys.len();
        while keys.len() < block {
            let from = keys.last().cloned();
            match sql::position_after(conn, tenant_id, kind, from.as_ref(), EVERY - 1)? {
                Some(p) => keys.push(p),
                None => break,
            }
        }
        let found = keys.len();
        let answer = if found >= block {
            (keys.get(block - 1).cloned(), offset - block as u64 * EVERY)
        } else {
            // Fewer rows than the offset (a concurrent delete): an exact, empty-ish read
            // from the last checkpoint.
            (
                keys.last().cloned(),
                offset.saturating_sub(found as u64 * EVERY),
            )
        };
        if found > known {
            let mut map = self.lock();
            if map.len() >= MAX_TENANTS && !map.contains_key(&key) {
                map.clear();
            }
            let entry = map.entry(key).or_default();
            if entry.counts != counts || entry.keys.len() < found {
                *entry = Entry { counts, keys };
            }
        }
        Ok(answer)
    }
}
