//! Event subscriptions: their rows, the admin's create / list / get / update / delete,
//! replay, the redelivery queue and the delivery log. Every statement filters by tenant
//! (only [`find`] and the worker's lease methods go by id alone): another tenant's
//! subscription is *not found*.
//!
//! A change that could race a worker in the middle of a delivery (a replay, a new target,
//! mode or filter, a disable) also takes the lease away: the worker's fenced writes then
//! fail and it stops, so it cannot move the cursor past a replay it did not see.

use super::schema::{event_deliveries, event_redeliveries, event_subscriptions, events};
use super::{AnyConnection, new_id, now_ms, outbox, utc, write_tx};
use crate::{
    DeliveryAttempt, DeliveryFilter, DeliveryOutcome, NewSubscription, Sink, StoreError,
    StoreResult, Subscription, SubscriptionUpdate,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use scim_core::events::{EventMode, EventType};

/// The reason stored when an administrator disables a subscription.
pub(crate) const DISABLED_BY_ADMIN: &str = "disabled by an administrator";

/// The default and the largest page of [`list_deliveries`].
const DELIVERIES_DEFAULT_LIMIT: u64 = 100;
const DELIVERIES_MAX_LIMIT: u64 = 1000;

/// The subscription columns read back, in [`SubTuple`] order.
pub(crate) type SubColumns = (
    event_subscriptions::id,
    event_subscriptions::tenant_id,
    event_subscriptions::target,
    event_subscriptions::mode,
    event_subscriptions::events,
    event_subscriptions::enabled,
    event_subscriptions::disabled_reason,
    event_subscriptions::secret_version,
    event_subscriptions::created_at,
    event_subscriptions::cursor,
    event_subscriptions::attempts,
    event_subscriptions::failing_since,
    event_subscriptions::next_attempt,
    event_subscriptions::last_error,
    event_subscriptions::lease_until,
);

/// See [`SubColumns`].
pub(crate) const SUB_COLUMNS: SubColumns = (
    event_subscriptions::id,
    event_subscriptions::tenant_id,
    event_subscriptions::target,
    event_subscriptions::mode,
    event_subscriptions::events,
    event_subscriptions::enabled,
    event_subscriptions::disabled_reason,
    event_subscriptions::secret_version,
    event_subscriptions::created_at,
    event_subscriptions::cursor,
    event_subscriptions::attempts,
    event_subscriptions::failing_since,
    event_subscriptions::next_attempt,
    event_subscriptions::last_error,
    event_subscriptions::lease_until,
);

/// A subscription row as read.
pub(crate) type SubTuple = (
    String,
    String,
    String,
    String,
    Option<String>,
    bool,
    Option<String>,
    i64,
    NaiveDateTime,
    i64,
    i64,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<String>,
    Option<NaiveDateTime>,
);

/// A stored row as a [`Subscription`] (and its lease end).
pub(crate) fn to_subscription(row: SubTuple) -> StoreResult<(Subscription, Option<NaiveDateTime>)> {
    let (
        id,
        tenant_id,
        target,
        mode,
        events,
        enabled,
        disabled_reason,
        secret_version,
        created_at,
        cursor,
        attempts,
        failing_since,
        next_attempt,
        last_error,
        lease_until,
    ) = row;
    let bad = |what: String| StoreError::Backend(what.into());
    let sink = Sink::parse(&target).map_err(bad)?;
    let mode = EventMode::parse(&mode).ok_or_else(|| bad(format!("unknown mode '{mode}'")))?;
    let events = events.map(|text| decode_types(&text)).transpose()?;
    Ok((
        Subscription {
            id,
            tenant_id,
            sink,
            mode,
            events,
            enabled,
            disabled_reason,
            secret_version,
            created: utc(created_at),
            cursor,
            attempts,
            failing_since: failing_since.map(utc),
            next_attempt: next_attempt.map(utc),
            last_error,
        },
        lease_until,
    ))
}

/// An event filter as stored: a JSON array of short names.
fn encode_types(types: &[EventType]) -> StoreResult<String> {
    let names: Vec<&str> = types.iter().map(|t| t.name()).collect();
    serde_json::to_string(&names).map_err(|e| StoreError::Backend(Box::new(e)))
}

fn decode_types(text: &str) -> StoreResult<Vec<EventType>> {
    let names: Vec<String> =
        serde_json::from_str(text).map_err(|e| StoreError::Backend(Box::new(e)))?;
    names
        .iter()
        .map(|n| {
            EventType::parse(n).ok_or_else(|| {
                StoreError::Backend(format!("unknown stored event type '{n}'").into())
            })
        })
        .collect()
}

/// A cursor within the feed: at least 0, at most the tenant's last position.
fn clamp_cursor(conn: &mut AnyConnection, tenant_id: &str, after: i64) -> StoreResult<i64> {
    Ok(after.clamp(0, outbox::last_position(conn, tenant_id)?))
}

/// Creates a subscription; its cursor starts at `new.after` or the tenant's last event.
pub(crate) fn create(
    conn: &mut AnyConnection,
    tenant_id: &str,
    new: &NewSubscription,
) -> StoreResult<Subscription> {
    let id = new_id();
    let now = now_ms();
    let last = outbox::last_position(conn, tenant_id)?;
    let cursor = new.after.map_or(last, |a| a.clamp(0, last));
    let events = new.events.as_deref().map(encode_types).transpose()?;
    diesel::insert_into(event_subscriptions::table)
        .values((
            event_subscriptions::id.eq(&id),
            event_subscriptions::tenant_id.eq(tenant_id),
            event_subscriptions::target.eq(new.sink.target()),
            event_subscriptions::mode.eq(new.mode.as_str()),
            event_subscriptions::events.eq(events),
            event_subscriptions::enabled.eq(true),
            event_subscriptions::secret_version.eq(1_i64),
            event_subscriptions::created_at.eq(now),
            event_subscriptions::updated_at.eq(now),
            event_subscriptions::cursor.eq(cursor),
            event_subscriptions::attempts.eq(0_i64),
        ))
        .execute(conn)?;
    get(conn, tenant_id, &id)
}

/// The tenant's subscriptions, oldest first.
pub(crate) fn list(conn: &mut AnyConnection, tenant_id: &str) -> StoreResult<Vec<Subscription>> {
    let rows: Vec<SubTuple> = event_subscriptions::table
        .filter(event_subscriptions::tenant_id.eq(tenant_id))
        .select(SUB_COLUMNS)
        .order((
            event_subscriptions::created_at.asc(),
            event_subscriptions::id.asc(),
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|r| to_subscription(r).map(|(s, _)| s))
        .collect()
}

/// One subscription of the tenant.
pub(crate) fn get(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> StoreResult<Subscription> {
    let row: SubTuple = event_subscriptions::table
        .filter(event_subscriptions::tenant_id.eq(tenant_id))
        .filter(event_subscriptions::id.eq(id))
        .select(SUB_COLUMNS)
        .first(conn)?;
    Ok(to_subscription(row)?.0)
}

/// A subscription by id alone.
pub(crate) fn find(conn: &mut AnyConnection, id: &str) -> StoreResult<Subscription> {
    let row: SubTuple = event_subscriptions::table
        .filter(event_subscriptions::id.eq(id))
        .select(SUB_COLUMNS)
        .first(conn)?;
    Ok(to_subscription(row)?.0)
}

/// The columns a change of a subscription writes; `None` leaves a column as it is.
#[derive(AsChangeset, Default)]
#[diesel(table_name = event_subscriptions)]
pub(crate) struct Changes {
    pub target: Option<String>,
    pub mode: Option<&'static str>,
    pub events: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub disabled_reason: Option<Option<String>>,
    pub secret_version: Option<i64>,
    pub updated_at: Option<NaiveDateTime>,
    pub cursor: Option<i64>,
    pub attempts: Option<i64>,
    pub failing_since: Option<Option<NaiveDateTime>>,
    pub next_attempt: Option<Option<NaiveDateTime>>,
    pub last_error: Option<Option<String>>,
    pub lease_owner: Option<Option<String>>,
    pub lease_until: Option<Option<NaiveDateTime>>,
}

impl Changes {
    /// Clears the backoff state: the next attempt is due at once.
    pub fn clear_failures(&mut self) {
        self.attempts = Some(0);
        self.failing_since = Some(None);
        self.next_attempt = Some(None);
        self.last_error = Some(None);
    }

    /// Takes the lease from whichever worker holds it (its fenced writes then fail).
    pub fn revoke_lease(&mut self) {
        self.lease_owner = Some(None);
        self.lease_until = Some(None);
    }
}

/// Changes a subscription in one transaction (the row is locked on PostgreSQL, so a
/// concurrent worker write is not lost).
pub(crate) fn update(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    change: &SubscriptionUpdate,
) -> StoreResult<Subscription> {
    write_tx(conn, |conn| {
        let current = get_for_update(conn, tenant_id, id)?;
        let mut c = Changes {
            updated_at: Some(now_ms()),
            ..Changes::default()
        };
        let mut delivery_changes = false;
        if let Some(sink) = &change.sink
            && *sink != current.sink
        {
            c.target = Some(sink.target());
            // A new target is tried at once.
            c.clear_failures();
            delivery_changes = true;
        }
        if let Some(mode) = change.mode
            && mode != current.mode
        {
            c.mode = Some(mode.as_str());
            delivery_changes = true;
        }
        if let Some(events) = &change.events
            && *events != current.events
        {
            c.events = Some(events.as_deref().map(encode_types).transpose()?);
            delivery_changes = true;
        }
        match change.enabled {
            Some(true) => {
                c.enabled = Some(true);
                c.disabled_reason = Some(None);
                c.clear_failures();
            }
            Some(false) if current.enabled => {
                c.enabled = Some(false);
                c.disabled_reason = Some(Some(DISABLED_BY_ADMIN.into()));
                delivery_changes = true;
            }
            _ => {}
        }
        if change.rotate_secret {
            c.secret_version = Some(current.secret_version + 1);
            delivery_changes = true;
        }
        if delivery_changes {
            c.revoke_lease();
        }
        diesel::update(
            event_subscriptions::table
                .filter(event_subscriptions::tenant_id.eq(tenant_id))
                .filter(event_subscriptions::id.eq(id)),
        )
        .set(&c)
        .execute(conn)?;
        get(conn, tenant_id, id)
    })
}

/// Reads a subscription of the tenant and, on PostgreSQL, locks its row until commit.
fn get_for_update(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> StoreResult<Subscription> {
    let AnyConnection::Postgresql(pg) = conn else {
        return get(conn, tenant_id, id);
    };
    let row: SubTuple = event_subscriptions::table
        .filter(event_subscriptions::tenant_id.eq(tenant_id))
        .filter(event_subscriptions::id.eq(id))
        .select(SUB_COLUMNS)
        .for_update()
        .first(pg)?;
    Ok(to_subscription(row)?.0)
}

/// Removes a subscription with its delivery log and queued redeliveries.
pub(crate) fn delete(conn: &mut AnyConnection, tenant_id: &str, id: &str) -> StoreResult<()> {
    write_tx(conn, |conn| {
        let n = diesel::delete(
            event_subscriptions::table
                .filter(event_subscriptions::tenant_id.eq(tenant_id))
                .filter(event_subscriptions::id.eq(id)),
        )
        .execute(conn)?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        diesel::delete(
            event_deliveries::table
                .filter(event_deliveries::tenant_id.eq(tenant_id))
                .filter(event_deliveries::subscription_id.eq(id)),
        )
        .execute(conn)?;
        diesel::delete(
            event_redeliveries::table
                .filter(event_redeliveries::subscription_id.eq(id))
                .filter(event_redeliveries::tenant_id.eq(tenant_id)),
        )
        .execute(conn)?;
        Ok(())
    })
}

/// Moves the cursor to `after` (clamped to the feed), clears the backoff and takes the
/// lease from a worker that holds it.
pub(crate) fn replay(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    after: i64,
) -> StoreResult<()> {
    write_tx(conn, |conn| {
        let cursor = clamp_cursor(conn, tenant_id, after)?;
        let mut c = Changes {
            updated_at: Some(now_ms()),
            cursor: Some(cursor),
            ..Changes::default()
        };
        c.clear_failures();
        c.revoke_lease();
        let n = diesel::update(
            event_subscriptions::table
                .filter(event_subscriptions::tenant_id.eq(tenant_id))
                .filter(event_subscriptions::id.eq(id)),
        )
        .set(&c)
        .execute(conn)?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    })
}

/// Queues the event at `position` for one more delivery to the subscription (both must be
/// the tenant's; queuing it twice is queuing it once).
pub(crate) fn queue_redelivery(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    position: i64,
) -> StoreResult<()> {
    write_tx(conn, |conn| {
        get(conn, tenant_id, id)?;
        events::table
            .filter(events::tenant_id.eq(tenant_id))
            .filter(events::position.eq(position))
            .select(events::position)
            .first::<i64>(conn)?;
        let row = (
            event_redeliveries::subscription_id.eq(id),
            event_redeliveries::position.eq(position),
            event_redeliveries::tenant_id.eq(tenant_id),
            event_redeliveries::queued_at.eq(now_ms()),
        );
        // ON CONFLICT needs the concrete backend.
        match conn {
            AnyConnection::Postgresql(c) => diesel::insert_into(event_redeliveries::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(c)?,
            AnyConnection::Sqlite(c) => diesel::insert_into(event_redeliveries::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(c)?,
        };
        Ok(())
    })
}

/// A delivery-log row as read.
type DeliveryTuple = (
    i64,
    String,
    String,
    i64,
    String,
    String,
    i64,
    bool,
    NaiveDateTime,
    String,
    Option<i32>,
    Option<String>,
    i64,
    Option<NaiveDateTime>,
);

/// The tenant's delivery attempts matching `filter`, newest first.
pub(crate) fn list_deliveries(
    conn: &mut AnyConnection,
    tenant_id: &str,
    filter: &DeliveryFilter,
) -> StoreResult<Vec<DeliveryAttempt>> {
    let limit = match filter.limit {
        0 => DELIVERIES_DEFAULT_LIMIT,
        n => n.min(DELIVERIES_MAX_LIMIT),
    };
    let mut q = event_deliveries::table
        .filter(event_deliveries::tenant_id.eq(tenant_id.to_string()))
        .into_boxed();
    if let Some(s) = &filter.subscription_id {
        q = q.filter(event_deliveries::subscription_id.eq(s.clone()));
    }
    if let Some(p) = filter.position {
        q = q.filter(event_deliveries::position.eq(p));
    }
    if let Some(b) = filter.before_id {
        q = q.filter(event_deliveries::id.lt(b));
    }
    let rows: Vec<DeliveryTuple> = q
        .select((
            event_deliveries::id,
            event_deliveries::tenant_id,
            event_deliveries::subscription_id,
            event_deliveries::position,
            event_deliveries::jti,
            event_deliveries::event_type,
            event_deliveries::attempt,
            event_deliveries::redelivery,
            event_deliveries::at,
            event_deliveries::outcome,
            event_deliveries::status_code,
            event_deliveries::error,
            event_deliveries::duration_ms,
            event_deliveries::next_try,
        ))
        .order(event_deliveries::id.desc())
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .load(conn)?;
    rows.into_iter().map(to_attempt).collect()
}

fn to_attempt(row: DeliveryTuple) -> StoreResult<DeliveryAttempt> {
    let (
        id,
        tenant_id,
        subscription_id,
        position,
        jti,
        event_type,
        attempt,
        redelivery,
        at,
        outcome,
        status_code,
        error,
        duration_ms,
        next_try,
    ) = row;
    let bad = |what: String| StoreError::Backend(what.into());
    let event_type = match event_type.as_str() {
        crate::TEST_EVENT_NAME => None,
        name => Some(
            EventType::parse(name)
                .ok_or_else(|| bad(format!("unknown stored event type '{name}'")))?,
        ),
    };
    let outcome = match outcome.as_str() {
        "delivered" => DeliveryOutcome::Delivered,
        "failed" => DeliveryOutcome::Failed,
        other => return Err(bad(format!("unknown delivery outcome '{other}'"))),
    };
    Ok(DeliveryAttempt {
        id,
        tenant_id,
        subscription_id,
        position,
        jti,
        event_type,
        attempt,
        redelivery,
        at: utc(at),
        outcome,
        status_code: status_code.and_then(|c| u16::try_from(c).ok()),
        error,
        duration_ms,
        next_try: next_try.map(utc),
    })
}
