//! The delivery worker's side of the subscriptions: claiming due subscriptions with a
//! lease, renewing and releasing it, recording attempts and skipping filtered events.
//!
//! A claim is one transaction. On PostgreSQL it selects the candidates `FOR UPDATE SKIP
//! LOCKED` (a concurrent claimer skips the rows this one is taking, and a row another
//! claimer leased meanwhile fails the re-checked `lease_until` condition), then sets
//! `lease_owner` / `lease_until`; on SQLite the same runs in one write transaction on the
//! one writer connection, so claimers are serialised. Every later write of the worker is
//! **fenced** on `lease_owner = owner AND lease_until > now`: a worker whose lease expired
//! or was taken away (a replay, an admin's change) writes nothing and learns it from the
//! `false` it gets back.

use super::schema::{
    event_deliveries, event_redeliveries, event_sequences, event_subscriptions, events,
};
use super::subscriptions::{Changes, SUB_COLUMNS, SubTuple, to_subscription};
use super::{AnyConnection, truncate_ms, write_tx};
use crate::{Claim, DeliveryAttempt, DeliveryOutcome, StoreError, StoreResult};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::{exists, max};
use diesel::prelude::*;
use std::collections::HashMap;
use std::time::Duration;

fn ms(t: DateTime<Utc>) -> NaiveDateTime {
    truncate_ms(t.naive_utc())
}

/// The subscriptions a claim at `now` may take: enabled, due, not leased by a live worker,
/// and with work (an event after the cursor, or a queued redelivery).
macro_rules! claimable {
    ($now:expr) => {{
        let last = event_sequences::table
            .filter(event_sequences::tenant_id.eq(event_subscriptions::tenant_id))
            .select(event_sequences::last_position)
            .single_value();
        // SQLite never writes the counter on the hot path (see `outbox`): its last
        // position is the larger of the counter and the newest event.
        let newest = events::table
            .filter(events::tenant_id.eq(event_subscriptions::tenant_id))
            .select(max(events::position))
            .single_value();
        let queued = exists(
            event_redeliveries::table
                .filter(event_redeliveries::subscription_id.eq(event_subscriptions::id)),
        );
        event_subscriptions::table
            .filter(event_subscriptions::enabled.eq(true))
            .filter(
                event_subscriptions::next_attempt
                    .is_null()
                    .or(event_subscriptions::next_attempt.le($now)),
            )
            .filter(
                event_subscriptions::lease_until
                    .is_null()
                    .or(event_subscriptions::lease_until.le($now)),
            )
            .filter(
                event_subscriptions::cursor
                    .nullable()
                    .lt(last)
                    .or(event_subscriptions::cursor.nullable().lt(newest))
                    .or(queued),
            )
    }};
}

/// Whether a claim at `now` would take anything: the same conditions as [`claim`], read
/// without locks or a write transaction (on SQLite, from a reader connection), so a
/// worker woken by every commit costs the writers nothing when no subscription has work.
pub(crate) fn any_claimable(conn: &mut AnyConnection, now: DateTime<Utc>) -> StoreResult<bool> {
    let now = ms(now);
    let found: Option<String> = claimable!(now)
        .select(event_subscriptions::id)
        .limit(1)
        .get_result(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Leases up to `limit` due subscriptions that have work to `owner` until `now + lease`.
pub(crate) fn claim(
    conn: &mut AnyConnection,
    owner: &str,
    lease: Duration,
    limit: usize,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Claim>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let lease = chrono::TimeDelta::from_std(lease).map_err(|e| StoreError::Backend(Box::new(e)))?;
    let until = ms(now + lease);
    let now = ms(now);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    write_tx(conn, |conn| {
        let candidates = claimable!(now)
            .select(SUB_COLUMNS)
            .order((
                event_subscriptions::next_attempt.asc(),
                event_subscriptions::id.asc(),
            ))
            .limit(limit);
        let rows: Vec<SubTuple> = match conn {
            AnyConnection::Postgresql(c) => candidates.for_update().skip_locked().load(c)?,
            AnyConnection::Sqlite(c) => candidates.load(c)?,
        };
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        diesel::update(event_subscriptions::table.filter(event_subscriptions::id.eq_any(&ids)))
            .set((
                event_subscriptions::lease_owner.eq(owner),
                event_subscriptions::lease_until.eq(until),
            ))
            .execute(conn)?;
        let queued: Vec<(String, i64)> = event_redeliveries::table
            .filter(event_redeliveries::subscription_id.eq_any(&ids))
            .select((
                event_redeliveries::subscription_id,
                event_redeliveries::position,
            ))
            .order((
                event_redeliveries::queued_at.asc(),
                event_redeliveries::position.asc(),
            ))
            .load(conn)?;
        let mut by_sub: HashMap<String, Vec<i64>> = HashMap::new();
        for (id, position) in queued {
            by_sub.entry(id).or_default().push(position);
        }
        rows.into_iter()
            .map(|row| {
                let (subscription, _) = to_subscription(row)?;
                Ok(Claim {
                    redeliveries: by_sub.remove(&subscription.id).unwrap_or_default(),
                    subscription,
                    lease_until: until.and_utc(),
                })
            })
            .collect()
    })
}

/// The subscriptions `owner` holds a live lease on, by id (the fence of every worker
/// write).
macro_rules! held {
    ($owner:expr, $id:expr, $now:expr) => {
        event_subscriptions::table
            .filter(event_subscriptions::id.eq($id))
            .filter(event_subscriptions::lease_owner.eq($owner))
            .filter(event_subscriptions::lease_until.gt($now))
    };
}

/// Extends a lease `owner` holds until `until`.
pub(crate) fn renew(
    conn: &mut AnyConnection,
    owner: &str,
    id: &str,
    until: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = diesel::update(held!(owner, id, ms(Utc::now())))
        .set(event_subscriptions::lease_until.eq(ms(until)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Gives a lease back (nothing happens when `owner` does not hold it).
pub(crate) fn release(conn: &mut AnyConnection, owner: &str, id: &str) -> StoreResult<()> {
    diesel::update(
        event_subscriptions::table
            .filter(event_subscriptions::id.eq(id))
            .filter(event_subscriptions::lease_owner.eq(owner)),
    )
    .set((
        event_subscriptions::lease_owner.eq(None::<String>),
        event_subscriptions::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(())
}

/// Locks (PostgreSQL) and reads `(cursor, failing_since)` of a subscription of `tenant_id`
/// that `owner` holds a live lease on; `None` when it does not.
fn fence(
    conn: &mut AnyConnection,
    owner: &str,
    tenant_id: &str,
    id: &str,
) -> StoreResult<Option<(i64, Option<NaiveDateTime>)>> {
    let q = held!(owner, id, ms(Utc::now()))
        .filter(event_subscriptions::tenant_id.eq(tenant_id))
        .select((
            event_subscriptions::cursor,
            event_subscriptions::failing_since,
        ));
    Ok(match conn {
        AnyConnection::Postgresql(c) => q.for_update().first(c).optional()?,
        AnyConnection::Sqlite(c) => q.first(c).optional()?,
    })
}

/// Records one attempt, fenced on the lease (see
/// [`EventRepo::record_attempt`](crate::EventRepo::record_attempt)).
pub(crate) fn record_attempt(
    conn: &mut AnyConnection,
    owner: &str,
    a: &DeliveryAttempt,
    disable: Option<&str>,
) -> StoreResult<bool> {
    write_tx(conn, |conn| {
        let Some((cursor, failing_since)) = fence(conn, owner, &a.tenant_id, &a.subscription_id)?
        else {
            return Ok(false);
        };
        let at = ms(a.at);
        insert_delivery(conn, a)?;
        let mut c = Changes::default();
        match a.outcome {
            DeliveryOutcome::Delivered => {
                if !a.redelivery {
                    c.cursor = Some(cursor.max(a.position));
                }
                c.clear_failures();
                diesel::delete(
                    event_redeliveries::table
                        .filter(event_redeliveries::subscription_id.eq(&a.subscription_id))
                        .filter(event_redeliveries::position.eq(a.position)),
                )
                .execute(conn)?;
            }
            DeliveryOutcome::Failed => {
                if !a.redelivery {
                    // Redeliveries are out of band: the count is of failures at the event
                    // after the cursor.
                    c.attempts = Some(a.attempt);
                }
                c.failing_since = Some(Some(failing_since.unwrap_or(at)));
                c.next_attempt = Some(a.next_try.map(ms));
                c.last_error = Some(Some(a.error.clone().unwrap_or_else(|| {
                    a.status_code
                        .map_or_else(|| "failed".to_string(), |s| format!("HTTP {s}"))
                })));
                if let Some(reason) = disable {
                    c.enabled = Some(false);
                    c.disabled_reason = Some(Some(reason.to_string()));
                    c.revoke_lease();
                }
            }
        }
        diesel::update(
            event_subscriptions::table
                .filter(event_subscriptions::tenant_id.eq(&a.tenant_id))
                .filter(event_subscriptions::id.eq(&a.subscription_id)),
        )
        .set(&c)
        .execute(conn)?;
        Ok(true)
    })
}

/// Appends one attempt to the delivery log.
fn insert_delivery(conn: &mut AnyConnection, a: &DeliveryAttempt) -> StoreResult<()> {
    diesel::insert_into(event_deliveries::table)
        .values((
            event_deliveries::tenant_id.eq(&a.tenant_id),
            event_deliveries::subscription_id.eq(&a.subscription_id),
            event_deliveries::position.eq(a.position),
            event_deliveries::jti.eq(&a.jti),
            event_deliveries::event_type.eq(a
                .event_type
                .map_or(crate::TEST_EVENT_NAME, scim_core::events::EventType::name)),
            event_deliveries::attempt.eq(a.attempt),
            event_deliveries::redelivery.eq(a.redelivery),
            event_deliveries::at.eq(ms(a.at)),
            event_deliveries::outcome.eq(a.outcome.as_str()),
            event_deliveries::status_code.eq(a.status_code.map(i32::from)),
            event_deliveries::error.eq(a.error.as_deref()),
            event_deliveries::duration_ms.eq(a.duration_ms),
            event_deliveries::next_try.eq(a.next_try.map(ms)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Appends a test attempt (see
/// [`EventRepo::record_test_attempt`](crate::EventRepo::record_test_attempt)): no lease, no
/// change to the subscription; `NotFound` for a subscription that is not the tenant's.
pub(crate) fn record_test_attempt(
    conn: &mut AnyConnection,
    a: &DeliveryAttempt,
) -> StoreResult<()> {
    write_tx(conn, |conn| {
        let known: i64 = event_subscriptions::table
            .filter(event_subscriptions::tenant_id.eq(&a.tenant_id))
            .filter(event_subscriptions::id.eq(&a.subscription_id))
            .count()
            .get_result(conn)?;
        if known == 0 {
            return Err(StoreError::NotFound);
        }
        insert_delivery(conn, a)
    })
}

/// Moves the cursor forward to `position` over events the filter skips, fenced on the
/// lease (a cursor already past it stays).
pub(crate) fn skip_to(
    conn: &mut AnyConnection,
    owner: &str,
    id: &str,
    position: i64,
) -> StoreResult<bool> {
    write_tx(conn, |conn| {
        let q = held!(owner, id, ms(Utc::now())).select(event_subscriptions::cursor);
        let cursor: Option<i64> = match conn {
            AnyConnection::Postgresql(c) => q.for_update().first(c).optional()?,
            AnyConnection::Sqlite(c) => q.first(c).optional()?,
        };
        let Some(cursor) = cursor else {
            return Ok(false);
        };
        if position > cursor {
            diesel::update(event_subscriptions::table.filter(event_subscriptions::id.eq(id)))
                .set(event_subscriptions::cursor.eq(position))
                .execute(conn)?;
        }
        Ok(true)
    })
}
