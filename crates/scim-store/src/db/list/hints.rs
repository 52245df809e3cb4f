//! Keyset hints behind index paging: per store process, where the next page of a
//! sequential `startIndex` walk starts.
//!
//! Serving an unfiltered default-order page that ends at index `n` remembers
//! `(tenant, kind, n + 1) → (keyset of the row at n, the tenant's counters then)`. A later
//! request for `startIndex = n + 1` whose counters are unchanged reads
//! `WHERE (created, id) > keyset ORDER BY created, id LIMIT count` instead of an `OFFSET`
//! scan. The counters only grow, and every create and delete bumps one of them in its own
//! transaction, so unchanged counters mean the set of rows, hence every row's index, is
//! what it was: the keyset page is exactly the `OFFSET` page. (Updates never move a row:
//! `created` and `id` are immutable.) Any other request falls back to `OFFSET`.
//!
//! The map is bounded ([`CAPACITY`] entries, oldest insert evicted first) and a hint whose
//! counters no longer match is dropped when looked up.

use super::sort::Pos;
use crate::db::counts::Counts;
use scim_core::ResourceKind;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// The most hints kept (each is a tenant id, a UUID and a few integers: ~200 bytes).
pub(crate) const CAPACITY: usize = 10_000;

/// Which walk and which index a hint is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct HintKey {
    /// The tenant.
    pub tenant_id: String,
    /// Users or Groups.
    pub kind: ResourceKind,
    /// The 1-based index the hinted page starts at.
    pub start_index: u64,
}

#[derive(Debug)]
struct Entry {
    last: Pos,
    counts: Counts,
    /// Insertion stamp, to tell the live entry from a stale eviction-queue slot.
    stamp: u64,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<HintKey, Entry>,
    /// Keys in insertion order, with their stamps (may hold stale slots).
    order: VecDeque<(HintKey, u64)>,
    next_stamp: u64,
}

/// The bounded hint map shared by every session of a [`DieselStore`](crate::DieselStore).
#[derive(Debug)]
pub(crate) struct KeysetHints {
    inner: Mutex<Inner>,
    capacity: usize,
    hits: AtomicU64,
}

impl Default for KeysetHints {
    fn default() -> Self {
        KeysetHints::with_capacity(CAPACITY)
    }
}

impl KeysetHints {
    /// An empty map holding at most `capacity` hints.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        KeysetHints {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
            hits: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map inconsistent in a way that
        // matters: every entry is validated against the counters before use.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The keyset after which the page at `key` starts, if a hint was recorded with the
    /// same counters as `now`. A hint with other counters is dropped.
    pub(crate) fn get(&self, key: &HintKey, now: Counts) -> Option<Pos> {
        let mut inner = self.lock();
        let valid = inner.map.get(key).map(|e| e.counts == now)?;
        if !valid {
            inner.map.remove(key);
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        inner.map.get(key).map(|e| e.last.clone())
    }

    /// Remembers that the page at `key` starts after `last`, as of `counts`.
    pub(crate) fn put(&self, key: HintKey, last: Pos, counts: Counts) {
        let mut inner = self.lock();
        let stamp = inner.next_stamp;
        inner.next_stamp += 1;
        inner.order.push_back((key.clone(), stamp));
        inner.map.insert(
            key,
            Entry {
                last,
                counts,
                stamp,
            },
        );
        while inner.map.len() > self.capacity {
            let Some((old, old_stamp)) = inner.order.pop_front() else {
                break;
            };
            if inner.map.get(&old).is_some_and(|e| e.stamp == old_stamp) {
                inner.map.remove(&old);
            }
        }
        // Re-recorded and dropped keys leave stale slots behind: compact now and then so
        // the queue stays proportional to the map.
        if inner.order.len() > 2 * self.capacity + 64 {
            let Inner { map, order, .. } = &mut *inner;
            order.retain(|(k, s)| map.get(k).is_some_and(|e| e.stamp == *s));
        }
    }

    /// How many lookups found a valid hint (for tests and diagnostics).
    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn key(i: u64) -> HintKey {
        HintKey {
            tenant_id: "t".into(),
            kind: ResourceKind::User,
            start_index: i,
        }
    }

    fn pos(i: i64) -> Pos {
        (
            DateTime::from_timestamp_millis(i).unwrap().naive_utc(),
            format!("id{i}"),
        )
    }

    const C: Counts = Counts {
        inserted: 10,
        deleted: 2,
    };

    #[test]
    fn hint_is_used_only_with_unchanged_counters() {
        let hints = KeysetHints::default();
        hints.put(key(8), pos(7), C);
        assert_eq!(hints.get(&key(8), C), Some(pos(7)));
        assert_eq!(hints.get(&key(8), C), Some(pos(7)), "kept after a hit");
        assert_eq!(hints.hits(), 2);
        assert_eq!(hints.get(&key(9), C), None, "other index");
        let other_tenant = HintKey {
            tenant_id: "u".into(),
            ..key(8)
        };
        assert_eq!(hints.get(&other_tenant, C), None);
        let created = Counts { inserted: 11, ..C };
        assert_eq!(hints.get(&key(8), created), None, "a create invalidates");
        assert_eq!(hints.get(&key(8), C), None, "and the stale hint is gone");
        hints.put(key(8), pos(7), C);
        let deleted = Counts { deleted: 3, ..C };
        assert_eq!(hints.get(&key(8), deleted), None, "a delete invalidates");
        assert_eq!(hints.hits(), 2);
    }

    #[test]
    fn map_is_bounded_and_evicts_oldest() {
        let hints = KeysetHints::with_capacity(3);
        for i in 0..5 {
            hints.put(key(i), pos(i as i64), C);
        }
        assert_eq!(hints.len(), 3);
        assert_eq!(hints.get(&key(0), C), None);
        assert_eq!(hints.get(&key(1), C), None);
        assert_eq!(hints.get(&key(4), C), Some(pos(4)));
        // Re-recording one key many times neither grows the map nor the queue unboundedly.
        for _ in 0..1000 {
            hints.put(key(4), pos(4), C);
        }
        assert_eq!(hints.len(), 3);
        assert!(hints.lock().order.len() <= 2 * 3 + 64 + 1);
        assert_eq!(hints.get(&key(2), C), Some(pos(2)));
    }
}
