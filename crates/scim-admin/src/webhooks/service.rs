//! The operations on an organization's event feed and subscriptions, shared by the pages
//! and the JSON API. Each first checks that the signed-in admin may see the organization
//! ([`service::organization`](crate::service::organization)), and reaches a subscription
//! only through its organization (another organization's subscription is not found).
//! Synchronous: run them on the blocking pool ([`AdminState::run`]).

use crate::AdminError;
use crate::service::organization;
use crate::session::{AdminState, Principal};
use scim_core::events::{EventMode, EventType, parse_event_list};
use scim_store::{
    DeliveryAttempt, DeliveryFilter, EventRecord, NewSubscription, SettingsRepo, Sink,
    Subscription, SubscriptionUpdate,
};

/// Events per page of the events API when no `limit` is given.
pub const DEFAULT_EVENT_LIMIT: u64 = 100;
/// The largest `limit` of the events API.
pub const MAX_EVENT_LIMIT: u64 = 1000;
/// Delivery-log rows per page when no `limit` is given.
pub const DEFAULT_DELIVERY_LIMIT: u64 = 50;
/// The largest delivery-log page.
pub const MAX_DELIVERY_LIMIT: u64 = 500;
/// The longest accepted subscription target.
pub const MAX_TARGET_LEN: usize = 2000;

/// Parses a feed cursor: an event position as a decimal string (`0` is before the first
/// event). Signs, spaces and anything that is not a number are refused.
pub fn parse_cursor(text: &str, what: &str) -> Result<i64, AdminError> {
    let bad = || {
        AdminError::BadRequest(format!(
            "'{what}' must be an event cursor (a decimal position such as \"0\" or \"42\")."
        ))
    };
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    text.parse::<i64>().map_err(|_| bad())
}

/// Parses a page size between 1 and `max` (`default` when absent).
pub fn parse_limit(text: Option<&str>, default: u64, max: u64) -> Result<u64, AdminError> {
    let Some(text) = text else {
        return Ok(default);
    };
    text.parse::<u64>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            AdminError::BadRequest(format!("'limit' must be a whole number from 1 to {max}."))
        })
}

/// Parses an event filter: a comma-separated list of event types (`prov:create`,
/// `feed:add`, full URIs too); empty or `*` is every type (`None`).
pub fn parse_events(text: &str) -> Result<Option<Vec<EventType>>, AdminError> {
    parse_event_list(text).map_err(|bad| {
        AdminError::BadRequest(format!(
            "'{bad}' is not an event type (expected e.g. prov:create, prov:deactivate, feed:add)."
        ))
    })
}

/// Parses a subscription target: an `http(s)://` URL or `nats:<subject>`.
pub fn parse_target(text: &str) -> Result<Sink, AdminError> {
    if text.len() > MAX_TARGET_LEN {
        return Err(AdminError::BadRequest(format!(
            "The target is longer than {MAX_TARGET_LEN} characters."
        )));
    }
    Sink::parse(text).map_err(AdminError::BadRequest)
}

/// Parses a delivery mode, `full` or `notice`.
pub fn parse_mode(text: &str) -> Result<EventMode, AdminError> {
    EventMode::parse(text)
        .ok_or_else(|| AdminError::BadRequest("'mode' must be \"full\" or \"notice\".".into()))
}

/// One page of the events API: after which cursor, how many, which types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsQuery {
    /// Events after this position.
    pub after: i64,
    /// At most this many.
    pub limit: u64,
    /// Only these types (`None`: all).
    pub types: Option<Vec<EventType>>,
}

impl EventsQuery {
    /// From the query parameters `after`, `limit` and `types` (all optional).
    pub fn parse(
        after: Option<&str>,
        limit: Option<&str>,
        types: Option<&str>,
    ) -> Result<Self, AdminError> {
        Ok(EventsQuery {
            after: after
                .map(|a| parse_cursor(a, "after"))
                .transpose()?
                .unwrap_or(0),
            limit: parse_limit(limit, DEFAULT_EVENT_LIMIT, MAX_EVENT_LIMIT)?,
            types: types.map(parse_events).transpose()?.flatten(),
        })
    }
}

/// A page of the organization's events, oldest first (one index range read: O(page)).
pub fn events(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    q: &EventsQuery,
) -> Result<Vec<EventRecord>, AdminError> {
    organization(state, who, tenant_id)?;
    Ok(state
        .store()
        .list_events(tenant_id, q.after, q.limit, q.types.as_deref())?)
}

/// A subscription with the organization's newest event position (its backlog is the
/// difference to its cursor).
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// The subscription.
    pub subscription: Subscription,
    /// The organization's newest event position.
    pub newest: i64,
}

impl Listed {
    /// Events after the subscription's cursor (not all of them may pass its filter).
    pub fn backlog(&self) -> i64 {
        backlog(&self.subscription, self.newest)
    }
}

/// How many events are after the subscription's cursor, the newest position being `newest`
/// (events its filter skips included).
pub fn backlog(sub: &Subscription, newest: i64) -> i64 {
    newest.saturating_sub(sub.cursor).max(0)
}

/// The organization's subscriptions, oldest first, and its newest event position.
pub fn list(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
) -> Result<(Vec<Subscription>, i64), AdminError> {
    organization(state, who, tenant_id)?;
    let subs = state.store().list_subscriptions(tenant_id)?;
    let newest = state.store().last_event_position(tenant_id)?;
    Ok((subs, newest))
}

/// One subscription of the organization.
pub fn get(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    id: &str,
) -> Result<Listed, AdminError> {
    organization(state, who, tenant_id)?;
    let subscription = state.store().get_subscription(tenant_id, id)?;
    let newest = state.store().last_event_position(tenant_id)?;
    Ok(Listed {
        subscription,
        newest,
    })
}

/// The subscription's signing secret, derived (never stored) from the server's event key
/// (the configured one, else the stored one).
fn secret_of(state: &AdminState, sub: &Subscription) -> Result<String, AdminError> {
    let settings: &dyn SettingsRepo = state.store();
    let key = scim_events::resolve_signing_key(state.event_signing_key(), settings)
        .map_err(events_error)?;
    Ok(scim_events::subscription_secret(&key, sub))
}

/// A `scim-events` failure as a console error (store failures keep their meaning).
pub(crate) fn events_error(e: scim_events::EventsError) -> AdminError {
    match e {
        scim_events::EventsError::Store(s) => s.into(),
        other => AdminError::Internal(other.to_string()),
    }
}

/// Creates a subscription; returns it with its secret (to be shown this once).
pub fn create(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    new: &NewSubscription,
) -> Result<(Subscription, String), AdminError> {
    organization(state, who, tenant_id)?;
    if let Some(after) = new.after {
        check_cursor_exists(state, tenant_id, after)?;
    }
    let sub = state.store().create_subscription(tenant_id, new)?;
    let secret = secret_of(state, &sub)?;
    tracing::info!(tenant_id, subscription_id = %sub.id, admin = %who.account.id, "admin console: event subscription created");
    Ok((sub, secret))
}

/// Changes a subscription (target, mode, filter, enabled).
pub fn update(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    id: &str,
    change: &SubscriptionUpdate,
) -> Result<Subscription, AdminError> {
    organization(state, who, tenant_id)?;
    let change = SubscriptionUpdate {
        rotate_secret: false,
        ..change.clone()
    };
    let sub = state.store().update_subscription(tenant_id, id, &change)?;
    tracing::info!(tenant_id, subscription_id = %sub.id, admin = %who.account.id, enabled = sub.enabled, "admin console: event subscription changed");
    Ok(sub)
}

/// Rotates a subscription's secret (the old one stops verifying at once); returns the new
/// secret, to be shown this once.
pub fn rotate_secret(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    id: &str,
) -> Result<(Subscription, String), AdminError> {
    organization(state, who, tenant_id)?;
    let change = SubscriptionUpdate {
        rotate_secret: true,
        ..SubscriptionUpdate::default()
    };
    let sub = state.store().update_subscription(tenant_id, id, &change)?;
    let secret = secret_of(state, &sub)?;
    tracing::info!(tenant_id, subscription_id = %sub.id, admin = %who.account.id, "admin console: event subscription secret rotated");
    Ok((sub, secret))
}

/// Removes a subscription with its delivery log.
pub fn remove(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    id: &str,
) -> Result<(), AdminError> {
    organization(state, who, tenant_id)?;
    state.store().delete_subscription(tenant_id, id)?;
    tracing::info!(tenant_id, subscription_id = %id, admin = %who.account.id, "admin console: event subscription removed");
    Ok(())
}

/// A page of a subscription's delivery log, newest first, older than `before` when given.
pub fn deliveries(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    id: &str,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<DeliveryAttempt>, AdminError> {
    organization(state, who, tenant_id)?;
    // Not found for another organization's id, even when it has no attempts.
    state.store().get_subscription(tenant_id, id)?;
    Ok(state.store().list_deliveries(
        tenant_id,
        &DeliveryFilter {
            subscription_id: Some(id.to_string()),
            position: None,
            before_id: before,
            limit,
        },
    )?)
}

/// Queues the event at `position` to be sent to the subscription once more.
pub fn redeliver(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    id: &str,
    position: i64,
) -> Result<(), AdminError> {
    organization(state, who, tenant_id)?;
    state.store().get_subscription(tenant_id, id)?;
    if position < 1 {
        return Err(AdminError::BadRequest(
            "Only feed events can be redelivered (a test event cannot).".into(),
        ));
    }
    // The event must still be in the feed (not pruned, not in the future).
    state.store().get_event(tenant_id, position)?;
    state.store().queue_redelivery(tenant_id, id, position)?;
    tracing::info!(tenant_id, subscription_id = %id, position, admin = %who.account.id, "admin console: redelivery queued");
    Ok(())
}

/// Replays: the subscription's cursor moves to `after`, so delivery resumes with the first
/// matching event after it.
pub fn replay(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    id: &str,
    after: i64,
) -> Result<Subscription, AdminError> {
    organization(state, who, tenant_id)?;
    state.store().get_subscription(tenant_id, id)?;
    check_cursor_exists(state, tenant_id, after)?;
    state.store().replay_subscription(tenant_id, id, after)?;
    tracing::info!(tenant_id, subscription_id = %id, after, admin = %who.account.id, "admin console: replay from cursor");
    Ok(state.store().get_subscription(tenant_id, id)?)
}

/// A cursor past the organization's newest event would silently skip events still to
/// come: refused.
fn check_cursor_exists(state: &AdminState, tenant_id: &str, after: i64) -> Result<(), AdminError> {
    let newest = state.store().last_event_position(tenant_id)?;
    if after > newest {
        return Err(AdminError::BadRequest(format!(
            "The cursor {after} is past the newest event ({newest})."
        )));
    }
    Ok(())
}

/// Whether the subscription exists in the organization (before a test delivery, which
/// runs outside the blocking pool).
pub fn check_visible(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    id: &str,
) -> Result<Subscription, AdminError> {
    organization(state, who, tenant_id)?;
    Ok(state.store().get_subscription(tenant_id, id)?)
}

/// Sends one signed test event to the subscription now and records it in its delivery log
/// (position 0). 503 when this process runs no delivery worker.
pub async fn send_test(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    id: &str,
) -> Result<DeliveryAttempt, AdminError> {
    let (w, t, i) = (who.clone(), tenant_id.to_string(), id.to_string());
    state.run(move |s| check_visible(s, &w, &t, &i)).await?;
    let Some(deliverer) = state.deliverer() else {
        return Err(AdminError::Unavailable(
            "This server runs without a delivery worker (--no-delivery), so it cannot send a test event. Use a replica that delivers events.",
        ));
    };
    let attempt = deliverer
        .send_test(tenant_id, id)
        .await
        .map_err(events_error)?;
    tracing::info!(tenant_id, subscription_id = %id, admin = %who.account.id, outcome = attempt.outcome.as_str(), "admin console: test event sent");
    Ok(attempt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors() {
        assert_eq!(parse_cursor("0", "after").unwrap(), 0);
        assert_eq!(parse_cursor("0042", "after").unwrap(), 42);
        assert_eq!(parse_cursor("9223372036854775807", "a").unwrap(), i64::MAX);
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1 ",
            "x",
            "1.5",
            "9223372036854775808",
            "99999999999999999999",
        ] {
            assert!(parse_cursor(bad, "after").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limit(None, 100, 1000).unwrap(), 100);
        assert_eq!(parse_limit(Some("1"), 100, 1000).unwrap(), 1);
        assert_eq!(parse_limit(Some("1000"), 100, 1000).unwrap(), 1000);
        for bad in ["0", "1001", "-1", "", "x", "1e3"] {
            assert!(parse_limit(Some(bad), 100, 1000).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn events_queries() {
        let q = EventsQuery::parse(None, None, None).unwrap();
        assert_eq!((q.after, q.limit, q.types), (0, DEFAULT_EVENT_LIMIT, None));
        let q = EventsQuery::parse(Some("7"), Some("5"), Some("prov:deactivate,feed:add")).unwrap();
        assert_eq!(q.after, 7);
        assert_eq!(
            q.types,
            Some(vec![EventType::Deactivate, EventType::FeedAdd])
        );
        assert_eq!(
            EventsQuery::parse(None, None, Some("*")).unwrap().types,
            None
        );
        assert!(EventsQuery::parse(None, None, Some("prov:nope")).is_err());
        assert!(EventsQuery::parse(Some("abc"), None, None).is_err());
        assert!(EventsQuery::parse(None, Some("0"), None).is_err());
    }

    #[test]
    fn targets_and_modes() {
        assert!(parse_target("https://rx.example.com/hook").is_ok());
        assert!(parse_target("nats:scim.events").is_ok());
        assert!(parse_target("ftp://x").is_err());
        assert!(parse_target(&format!("https://x/{}", "a".repeat(MAX_TARGET_LEN))).is_err());
        assert_eq!(parse_mode("Notice").unwrap(), EventMode::Notice);
        assert!(parse_mode("loud").is_err());
    }
}
