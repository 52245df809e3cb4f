//! The event outbox and its subscribers: what the store keeps so the rest of a SaaS learns
//! of every committed change (RFC 9967 security events; see `scim_core::events`).
//!
//! - **The outbox.** Every write transaction that changes something appends its
//!   [`StoredEvent`]s (derived by `scim_core::events::events_for`) to the tenant's feed before
//!   it commits, so a rollback or a crash never loses an event nor invents one. Each event
//!   gets the next **position** of its tenant's feed: positions grow by one per event in
//!   commit order (a per-tenant counter row, taken last in the transaction and held until
//!   commit, serialises the numbering), so "everything after position N" is a safe cursor
//!   for any number of replicas on one PostgreSQL.
//! - **Subscriptions.** A tenant's webhook or NATS subscribers, each with its own cursor
//!   (the last position it has been given or has skipped), mode, event filter, backoff
//!   state and delivery log. Delivery workers on any replica claim due subscriptions with a
//!   lease (PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite's single writer), so one
//!   subscription is served by one worker at a time, in order.

use crate::StoreResult;
use chrono::{DateTime, Utc};
use scim_core::events::{EventMode, EventType, StoredEvent};
use std::sync::Arc;
use std::time::Duration;

/// One event of a tenant's feed with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// The tenant.
    pub tenant_id: String,
    /// Its position in the tenant's feed (1, 2, 3, ... in commit order).
    pub position: i64,
    /// The event with its `jti`, `txn` and commit time.
    pub event: StoredEvent,
}

/// Where a subscription's events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// An HTTPS (or, for tests and private networks, HTTP) endpoint that receives each SET
    /// as an RFC 8935 push (`POST`, `Content-Type: application/secevent+jwt`).
    Webhook {
        /// The receiver's URL.
        url: String,
    },
    /// A NATS JetStream subject each SET is published to (acknowledged by the stream).
    Nats {
        /// The subject, e.g. `scim.events.<tenant>`.
        subject: String,
    },
}

impl Sink {
    /// The text form used on the command line and stored: the URL, or `nats:<subject>`.
    pub fn target(&self) -> String {
        match self {
            Sink::Webhook { url } => url.clone(),
            Sink::Nats { subject } => format!("nats:{subject}"),
        }
    }

    /// Parses [`Sink::target`]'s form: `nats:<subject>`, or an `http(s)://` URL.
    pub fn parse(target: &str) -> Result<Sink, String> {
        let t = target.trim();
        if let Some(subject) = t.strip_prefix("nats:") {
            let ok = !subject.is_empty()
                && subject
                    .split('.')
                    .all(|tok| !tok.is_empty() && !tok.contains([' ', '*', '>', '\t']));
            return if ok {
                Ok(Sink::Nats {
                    subject: subject.to_string(),
                })
            } else {
                Err(format!("not a NATS subject to publish to: {subject:?}"))
            };
        }
        let lower = t.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        match rest {
            Some(r) if !r.is_empty() && !r.starts_with('/') && !t.contains(char::is_whitespace) => {
                Ok(Sink::Webhook { url: t.to_string() })
            }
            _ => Err(format!(
                "a subscription target is an http(s):// URL or nats:<subject>, not {t:?}"
            )),
        }
    }
}

/// A tenant's event subscriber.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// The subscription's id.
    pub id: String,
    /// The tenant whose events it receives.
    pub tenant_id: String,
    /// Where its events go.
    pub sink: Sink,
    /// `full` or `notice` SETs.
    pub mode: EventMode,
    /// Only these event types (`None`: every type).
    pub events: Option<Vec<EventType>>,
    /// Whether it is delivered to. A subscription that kept failing past the retry window
    /// is disabled by the worker, with a reason.
    pub enabled: bool,
    /// Why it was disabled, when it was.
    pub disabled_reason: Option<String>,
    /// Bumped by each secret rotation; the signing secret is derived from the server's
    /// key, the id and this counter, so the database never holds a usable secret.
    pub secret_version: i64,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// The position of the last event it has been given (or skipped by its filter); the
    /// next delivery is the first matching event after it.
    pub cursor: i64,
    /// Failed attempts at the event after `cursor`, since the last success.
    pub attempts: i64,
    /// When the current run of failures began.
    pub failing_since: Option<DateTime<Utc>>,
    /// When the next attempt is due (`None`: now).
    pub next_attempt: Option<DateTime<Utc>>,
    /// The last failure, secret-free (e.g. `HTTP 503`, `connection refused`).
    pub last_error: Option<String>,
}

impl Subscription {
    /// Whether `event_type` passes its filter.
    pub fn wants(&self, event_type: EventType) -> bool {
        self.events
            .as_ref()
            .is_none_or(|list| list.contains(&event_type))
    }
}

/// A new subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubscription {
    /// Where its events go.
    pub sink: Sink,
    /// `full` or `notice`.
    pub mode: EventMode,
    /// Only these event types (`None`: all).
    pub events: Option<Vec<EventType>>,
    /// Deliver events after this position; `None` starts after the tenant's newest event
    /// (only changes committed from now on). Clamped to `0..=` the newest position.
    pub after: Option<i64>,
}

/// A change to a subscription; `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubscriptionUpdate {
    /// A new target.
    pub sink: Option<Sink>,
    /// A new mode.
    pub mode: Option<EventMode>,
    /// A new filter (`Some(None)`: every type).
    pub events: Option<Option<Vec<EventType>>>,
    /// Enable (clears the failure state and the disabled reason) or disable (by an admin;
    /// the reason stored is `disabled by an administrator`).
    pub enabled: Option<bool>,
    /// Rotate the signing secret (bumps [`Subscription::secret_version`]).
    pub rotate_secret: bool,
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryOutcome {
    /// The receiver acknowledged it (HTTP 2xx; a JetStream ack).
    Delivered,
    /// It did not; it will be retried unless the subscription was disabled.
    Failed,
}

impl DeliveryOutcome {
    /// `delivered` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Failed => "failed",
        }
    }
}

/// How the delivery log names a test SET's event type (no [`EventType`]: it is not a change).
pub const TEST_EVENT_NAME: &str = "misc:test";

/// One delivery attempt, as recorded (and as the worker reports it).
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryAttempt {
    /// Monotonic id (newest is largest); 0 when reported by the worker.
    pub id: i64,
    /// The tenant.
    pub tenant_id: String,
    /// The subscription.
    pub subscription_id: String,
    /// The event's position.
    pub position: i64,
    /// The event's `jti`.
    pub jti: String,
    /// The event's type; `None` for a test SET (the console's "send test event",
    /// `urn:ietf:params:scim:event:misc:test`, stored as [`TEST_EVENT_NAME`]).
    pub event_type: Option<EventType>,
    /// 1 for the first attempt at this event, counting up through retries.
    pub attempt: i64,
    /// Whether this was an explicit redelivery (which does not move the cursor).
    pub redelivery: bool,
    /// When it was made.
    pub at: DateTime<Utc>,
    /// Delivered or failed.
    pub outcome: DeliveryOutcome,
    /// The HTTP status the receiver answered, when it answered.
    pub status_code: Option<u16>,
    /// Why it failed, secret-free.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// Failed: when the next attempt is due.
    pub next_try: Option<DateTime<Utc>>,
}

/// A subscription a worker has leased, with what it is to send first.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The subscription as it was when claimed.
    pub subscription: Subscription,
    /// Positions queued for explicit redelivery, oldest first.
    pub redeliveries: Vec<i64>,
    /// When the lease ends unless renewed.
    pub lease_until: DateTime<Utc>,
}

/// Called after a transaction that appended events committed, with the tenant's id: lets
/// a delivery worker in the same process start at once instead of at its next poll.
pub type CommitListener = Arc<dyn Fn(&str) + Send + Sync>;

/// The outbox, the subscriptions and the delivery log. Every method but the worker's takes
/// the tenant id and never sees another tenant's rows (another tenant's subscription is
/// [`StoreError::NotFound`](crate::StoreError::NotFound)).
pub trait EventRepo: Send + Sync {
    /// Up to `limit` events of the tenant after position `after`, in order; with `types`,
    /// only those types (positions of the others are skipped). O(page) on the feed's key.
    /// A `limit` of 0 means 100; at most 1 000 are returned.
    fn list_events(
        &self,
        tenant_id: &str,
        after: i64,
        limit: u64,
        types: Option<&[EventType]>,
    ) -> StoreResult<Vec<EventRecord>>;
    /// One event by position.
    fn get_event(&self, tenant_id: &str, position: i64) -> StoreResult<EventRecord>;
    /// The position of the tenant's newest event (0 before the first).
    fn last_event_position(&self, tenant_id: &str) -> StoreResult<i64>;
    /// Deletes events (and delivery-log rows) committed before `before`, at most `batch`
    /// events per call; returns how many events went. Positions are never reused.
    fn prune_events(&self, before: DateTime<Utc>, batch: u64) -> StoreResult<u64>;
    /// Registers the [`CommitListener`] (one per store; a later call replaces it).
    fn set_commit_listener(&self, listener: CommitListener);

    /// Creates a subscription.
    fn create_subscription(
        &self,
        tenant_id: &str,
        new: &NewSubscription,
    ) -> StoreResult<Subscription>;
    /// The tenant's subscriptions, oldest first.
    fn list_subscriptions(&self, tenant_id: &str) -> StoreResult<Vec<Subscription>>;
    /// One subscription of the tenant.
    fn get_subscription(&self, tenant_id: &str, id: &str) -> StoreResult<Subscription>;
    /// A subscription by id alone, whatever its tenant (the operator's command line).
    fn find_subscription(&self, id: &str) -> StoreResult<Subscription>;
    /// Changes a subscription. A new target, mode, filter or secret, or a disable, takes the
    /// lease from a worker that holds one (as [`EventRepo::replay_subscription`]); a new
    /// target also clears the backoff (it is tried at once).
    fn update_subscription(
        &self,
        tenant_id: &str,
        id: &str,
        change: &SubscriptionUpdate,
    ) -> StoreResult<Subscription>;
    /// Removes a subscription with its delivery log and queued redeliveries.
    fn delete_subscription(&self, tenant_id: &str, id: &str) -> StoreResult<()>;
    /// Replays: moves the cursor to `after` (back or forward, clamped to `0..=` the newest
    /// position) and clears the backoff, so delivery resumes with the first matching event
    /// after it. Takes the lease from a worker that holds one (its fenced writes then fail),
    /// so no delivery in flight can move the cursor past the replay.
    fn replay_subscription(&self, tenant_id: &str, id: &str, after: i64) -> StoreResult<()>;
    /// Queues the event at `position` to be sent once more (out of band: the cursor does
    /// not move). The event must be the tenant's ([`StoreError::NotFound`](crate::StoreError::NotFound) otherwise).
    fn queue_redelivery(&self, tenant_id: &str, id: &str, position: i64) -> StoreResult<()>;
    /// Delivery attempts of the tenant (of one subscription, or of one event position, when
    /// given), newest first, older than `before_id` when given.
    fn list_deliveries(
        &self,
        tenant_id: &str,
        filter: &DeliveryFilter,
    ) -> StoreResult<Vec<DeliveryAttempt>>;

    /// Worker: leases up to `limit` enabled subscriptions that have work (an event after
    /// their cursor, or a queued redelivery), are due (`next_attempt` passed) and are not
    /// leased by another live worker, for `lease` from `now`, to `owner`.
    fn claim_subscriptions(
        &self,
        owner: &str,
        lease: Duration,
        limit: usize,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Claim>>;
    /// Worker: extends a lease it holds; `false` when it no longer holds it.
    fn renew_lease(
        &self,
        owner: &str,
        subscription_id: &str,
        until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Worker: gives a lease back (the subscription can be claimed again at once).
    fn release_lease(&self, owner: &str, subscription_id: &str) -> StoreResult<()>;
    /// Worker: records one attempt, in one transaction and only while `owner` holds the
    /// lease (returns `false`, writing nothing, otherwise). Delivered: the cursor moves to
    /// the position (unless a redelivery), the failure state clears, a queued redelivery of
    /// it is dropped. Failed: `attempts`, `failing_since`, `next_attempt` (= `next_try`) and
    /// `last_error` are kept; with `disable`, the subscription is disabled with that reason.
    fn record_attempt(
        &self,
        owner: &str,
        attempt: &DeliveryAttempt,
        disable: Option<&str>,
    ) -> StoreResult<bool>;
    /// Worker: moves the cursor forward to `position` over events the filter skips (only
    /// while `owner` holds the lease).
    fn skip_to(&self, owner: &str, subscription_id: &str, position: i64) -> StoreResult<bool>;
    /// Appends a test attempt (position 0, made by the console's "send test event", no
    /// lease involved) to the subscription's delivery log, and changes nothing else: not
    /// the cursor, the failure state or the redelivery queue. The default answers
    /// `Unsupported` (the test is then sent but not logged).
    fn record_test_attempt(&self, attempt: &DeliveryAttempt) -> StoreResult<()> {
        let _ = attempt;
        Err(crate::StoreError::Unsupported("logging test deliveries"))
    }
}

/// Which delivery attempts [`EventRepo::list_deliveries`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    /// Only this subscription's.
    pub subscription_id: Option<String>,
    /// Only attempts at this event.
    pub position: Option<i64>,
    /// Only attempts older than this id (keyset paging).
    pub before_id: Option<i64>,
    /// Page size (0 means 100; at most 1 000).
    pub limit: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_targets_parse_and_print() {
        let ok = [
            (
                "https://rx.example.com/scim-events",
                "https://rx.example.com/scim-events",
            ),
            ("http://127.0.0.1:9000/hook", "http://127.0.0.1:9000/hook"),
            ("nats:scim.events.acme", "nats:scim.events.acme"),
        ];
        for (text, want) in ok {
            let sink = Sink::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(sink.target(), want);
        }
        for bad in [
            "",
            "ftp://x",
            "https://",
            "https:///path",
            "nats:",
            "nats:a..b",
            "nats:scim.*",
            "nats:scim.>",
            "rx.example.com",
            "https://rx.example.com/a b",
        ] {
            assert!(Sink::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn filter_passes_listed_types_only() {
        let mut s = Subscription {
            id: "s".into(),
            tenant_id: "t".into(),
            sink: Sink::Webhook {
                url: "https://x".into(),
            },
            mode: EventMode::Full,
            events: None,
            enabled: true,
            disabled_reason: None,
            secret_version: 1,
            created: Utc::now(),
            cursor: 0,
            attempts: 0,
            failing_since: None,
            next_attempt: None,
            last_error: None,
        };
        assert!(s.wants(EventType::FeedAdd));
        s.events = Some(vec![EventType::Deactivate]);
        assert!(s.wants(EventType::Deactivate));
        assert!(!s.wants(EventType::Create));
    }
}
