//! The delivery loop: claim due subscriptions, serve each one strictly in order, record
//! every attempt, back off on failure, prune old events.
//!
//! One claim loop per `Deliverer` leases up to `concurrency` subscriptions at a time and
//! serves each in its own task. Serving a subscription: its queued redeliveries first, then
//! the events after its cursor, one at a time; an event its filter refuses is skipped (the
//! cursor moves over it); each attempt is recorded, fenced on the lease (a `false` means
//! another worker owns the subscription now, and this one stops at once). The first failure
//! ends the turn: the attempt carries the next try (exponential backoff, full jitter), the
//! lease is given back, and the claim query leaves the subscription alone until then.

use crate::backoff::{backoff, disable_reason, random_unit};
use crate::nats::Nats;
use crate::set::{render_set, sign_set};
use crate::webhook::{self, Sent};
use crate::{DeliveryConfig, EventsError, subscription_secret};
use chrono::{DateTime, TimeDelta, Utc};
use scim_core::events::EventType;
use scim_store::{
    Claim, DeliveryAttempt, DeliveryOutcome, EventRecord, EventRepo, Sink, StoreError, StoreResult,
    Subscription,
};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// Events read per page of a subscription's feed.
const PAGE: u64 = 100;
/// Events pruned per statement batch.
const PRUNE_BATCH: u64 = 10_000;
/// How often old events are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// The shortest time between two claims. Every commit in this process wakes the loop; under
/// a write load the wake-ups coalesce to at most one claim per gap (Notify keeps one
/// permit), so the worker's cost does not grow with the write rate, for at most this much
/// added delivery latency.
const MIN_CLAIM_GAP: Duration = Duration::from_millis(25);

/// What a `Deliverer` shares between its clones and tasks.
pub(crate) struct Core {
    pub(crate) repo: Arc<dyn EventRepo>,
    pub(crate) config: DeliveryConfig,
    /// The server's event signing key (subscription secrets derive from it).
    pub(crate) key: Vec<u8>,
    pub(crate) http: reqwest::Client,
    pub(crate) nats: Nats,
    /// Wakes the claim loop (commits in this process, [`crate::Deliverer::notify`]).
    pub(crate) wake: Arc<Notify>,
}

impl Core {
    /// Runs a (synchronous, diesel) store call on the blocking pool.
    pub(crate) async fn store<T, F>(&self, f: F) -> Result<T, EventsError>
    where
        F: FnOnce(&dyn EventRepo) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let repo = self.repo.clone();
        tokio::task::spawn_blocking(move || f(&*repo))
            .await
            .map_err(|e| EventsError::Task(e.to_string()))?
            .map_err(EventsError::from)
    }

    /// Signs `claims` with the subscription's secret and sends them to its sink once.
    pub(crate) async fn send(&self, sub: &Subscription, claims: &Value, jti: &str) -> Sent {
        let secret = subscription_secret(&self.key, sub);
        let jws = match sign_set(claims, &secret) {
            Ok(jws) => jws,
            Err(_) => return Sent::failed(Instant::now(), None, "signing failed".into()),
        };
        match &sub.sink {
            Sink::Webhook { url } => webhook::post(&self.http, url, &jws).await,
            Sink::Nats { subject } => self.nats.publish(subject, jti, &jws).await,
        }
    }

    /// The record of one send (started at `at`) of `what` to `sub`.
    pub(crate) fn attempt(
        sub: &Subscription,
        what: AttemptOf<'_>,
        at: DateTime<Utc>,
        sent: &Sent,
    ) -> DeliveryAttempt {
        DeliveryAttempt {
            id: 0,
            tenant_id: sub.tenant_id.clone(),
            subscription_id: sub.id.clone(),
            position: what.position,
            jti: what.jti.to_string(),
            event_type: what.event_type,
            attempt: what.number,
            redelivery: what.redelivery,
            at,
            outcome: if sent.delivered {
                DeliveryOutcome::Delivered
            } else {
                DeliveryOutcome::Failed
            },
            status_code: sent.status_code,
            error: sent.error.clone(),
            duration_ms: sent.duration_ms,
            next_try: None,
        }
    }
}

/// What an attempt was at.
pub(crate) struct AttemptOf<'a> {
    /// The event's position (0 for a test).
    pub(crate) position: i64,
    /// The SET's `jti`.
    pub(crate) jti: &'a str,
    /// The event's type.
    pub(crate) event_type: Option<EventType>,
    /// 1 for the first attempt, counting up through retries.
    pub(crate) number: i64,
    /// Out of band (a queued redelivery or a test): the cursor does not move.
    pub(crate) redelivery: bool,
}

/// How serving one subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Served {
    /// Nothing left to send.
    Done,
    /// An attempt failed; retried at its next try (or the subscription was disabled).
    Failed,
    /// Another worker holds the lease now: stop without touching the subscription.
    LeaseLost,
    /// The worker is shutting down.
    Stopped,
}

/// How one event's attempt ended.
enum Step {
    Delivered,
    Failed,
    LeaseLost,
}

/// One leased subscription being served.
struct Turn {
    core: Arc<Core>,
    sub: Subscription,
    lease_until: DateTime<Utc>,
    stop: watch::Receiver<bool>,
}

impl Turn {
    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Renews the lease when less than two request timeouts remain (a send may take one);
    /// `false` when the lease is lost.
    async fn keep_lease(&mut self) -> Result<bool, EventsError> {
        let cfg = &self.core.config;
        let margin = delta(cfg.request_timeout * 2);
        let now = Utc::now();
        if self.lease_until - now >= margin {
            return Ok(true);
        }
        let until = now + delta(cfg.lease);
        let (owner, id) = (cfg.owner.clone(), self.sub.id.clone());
        let renewed = self
            .core
            .store(move |r| r.renew_lease(&owner, &id, until))
            .await?;
        if renewed {
            self.lease_until = until;
        }
        Ok(renewed)
    }

    /// Sends one event and records the attempt.
    async fn deliver(
        &mut self,
        record: &EventRecord,
        redelivery: bool,
    ) -> Result<Step, EventsError> {
        let cfg = &self.core.config;
        let claims = render_set(record, Some(&self.sub), &cfg.public_url);
        let at = Utc::now();
        let sent = self.core.send(&self.sub, &claims, &record.event.jti).await;
        let what = AttemptOf {
            position: record.position,
            jti: &record.event.jti,
            event_type: Some(record.event.event.event_type),
            number: self.sub.attempts.saturating_add(1),
            redelivery,
        };
        let mut attempt = Core::attempt(&self.sub, what, at, &sent);
        let mut disable = None;
        if !sent.delivered {
            let now = Utc::now();
            let reason = sent.error.as_deref().unwrap_or("failed");
            let since = self.sub.failing_since.unwrap_or(at);
            disable = disable_reason(since, now, cfg.retry_window, reason);
            if disable.is_none() {
                let wait = backoff(
                    attempt.attempt,
                    cfg.min_backoff,
                    cfg.max_backoff,
                    random_unit(),
                );
                attempt.next_try = Some(now + delta(wait));
            }
        }
        let owner = cfg.owner.clone();
        let (a, d) = (attempt.clone(), disable.clone());
        let held = self
            .core
            .store(move |r| r.record_attempt(&owner, &a, d.as_deref()))
            .await?;
        if !held {
            return Ok(Step::LeaseLost);
        }
        if sent.delivered {
            self.sub.attempts = 0;
            self.sub.failing_since = None;
            return Ok(Step::Delivered);
        }
        tracing::warn!(
            tenant_id = %self.sub.tenant_id,
            subscription_id = %self.sub.id,
            position = record.position,
            attempt = attempt.attempt,
            reason = sent.error.as_deref().unwrap_or("failed"),
            next_try = ?attempt.next_try,
            "event delivery failed"
        );
        if let Some(reason) = &disable {
            tracing::error!(
                tenant_id = %self.sub.tenant_id,
                subscription_id = %self.sub.id,
                reason = %reason,
                "subscription disabled after failing for the retry window"
            );
        }
        Ok(Step::Failed)
    }

    /// Queued redeliveries, then the feed after the cursor.
    async fn serve(&mut self, redeliveries: Vec<i64>) -> Result<Served, EventsError> {
        let tenant = self.sub.tenant_id.clone();
        for position in redeliveries {
            if self.stopping() {
                return Ok(Served::Stopped);
            }
            if !self.keep_lease().await? {
                return Ok(Served::LeaseLost);
            }
            let t = tenant.clone();
            let record = match self.core.store(move |r| r.get_event(&t, position)).await {
                Ok(record) => record,
                Err(EventsError::Store(StoreError::NotFound)) => {
                    // Pruned since it was queued: nothing left to send.
                    tracing::warn!(
                        tenant_id = %tenant,
                        subscription_id = %self.sub.id,
                        position,
                        "queued redelivery of an event that no longer exists"
                    );
                    continue;
                }
                Err(e) => return Err(e),
            };
            match self.deliver(&record, true).await? {
                Step::Delivered => {}
                Step::Failed => return Ok(Served::Failed),
                Step::LeaseLost => return Ok(Served::LeaseLost),
            }
        }

        let mut cursor = self.sub.cursor;
        loop {
            let t = tenant.clone();
            let page = self
                .core
                .store(move |r| r.list_events(&t, cursor, PAGE, None))
                .await?;
            let full = page.len() as u64 >= PAGE;
            // The last position skipped by the filter and not yet passed by a delivery.
            let mut skipped = None;
            for record in &page {
                if self.stopping() {
                    break;
                }
                if !self.sub.wants(record.event.event.event_type) {
                    skipped = Some(record.position);
                    cursor = record.position;
                    continue;
                }
                if !self.keep_lease().await? {
                    return Ok(Served::LeaseLost);
                }
                match self.deliver(record, false).await? {
                    Step::Delivered => {
                        cursor = record.position;
                        skipped = None;
                    }
                    // The skipped events before it are skipped again next time.
                    Step::Failed => return Ok(Served::Failed),
                    Step::LeaseLost => return Ok(Served::LeaseLost),
                }
            }
            if let Some(position) = skipped {
                let (owner, id) = (self.core.config.owner.clone(), self.sub.id.clone());
                if !self
                    .core
                    .store(move |r| r.skip_to(&owner, &id, position))
                    .await?
                {
                    return Ok(Served::LeaseLost);
                }
            }
            if self.stopping() {
                return Ok(Served::Stopped);
            }
            if !full {
                return Ok(Served::Done);
            }
        }
    }
}

/// Serves one claim and gives the lease back unless it was lost. `Err` (a store failure)
/// tells the claim loop to wait for its next poll instead of claiming again at once.
async fn serve_claim(core: Arc<Core>, claim: Claim, stop: watch::Receiver<bool>) -> Result<(), ()> {
    let mut turn = Turn {
        core: core.clone(),
        lease_until: claim.lease_until,
        sub: claim.subscription,
        stop,
    };
    let result = turn.serve(claim.redeliveries).await;
    if let Err(e) = &result {
        tracing::warn!(
            tenant_id = %turn.sub.tenant_id,
            subscription_id = %turn.sub.id,
            error = %e,
            "serving a subscription failed; retrying at the next poll"
        );
    }
    if !matches!(result, Ok(Served::LeaseLost)) {
        let (owner, id) = (core.config.owner.clone(), turn.sub.id.clone());
        if let Err(e) = core.store(move |r| r.release_lease(&owner, &id)).await {
            tracing::warn!(subscription_id = %turn.sub.id, error = %e, "releasing a lease failed");
        }
    }
    result.map(|_| ()).map_err(|_| ())
}

/// The claim loop: runs until `stop` turns true, then waits for the subscriptions it is
/// serving (each stops after its current attempt).
pub(crate) async fn run(core: Arc<Core>, mut stop: watch::Receiver<bool>) {
    let mut tasks = JoinSet::new();
    let mut running: HashMap<tokio::task::Id, String> = HashMap::new();
    let mut claim_now = true;
    let mut last_claim: Option<Instant> = None;
    while !*stop.borrow() {
        let free = core.config.concurrency.saturating_sub(running.len());
        if claim_now && free > 0 {
            if let Some(wait) = last_claim.map(|t| MIN_CLAIM_GAP.saturating_sub(t.elapsed()))
                && !wait.is_zero()
            {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => continue,
                }
            }
            last_claim = Some(Instant::now());
            let (owner, lease) = (core.config.owner.clone(), core.config.lease);
            match core
                .store(move |r| r.claim_subscriptions(&owner, lease, free, Utc::now()))
                .await
            {
                Ok(claims) => {
                    // A claim never returns a live lease, so a subscription still listed
                    // in `running` has already given its lease back (its task is ending):
                    // serving it again now is safe.
                    for claim in claims {
                        let id = claim.subscription.id.clone();
                        let handle = tasks.spawn(serve_claim(core.clone(), claim, stop.clone()));
                        running.insert(handle.id(), id);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming subscriptions failed"),
            }
        }
        claim_now = false;
        tokio::select! {
            _ = core.wake.notified() => claim_now = true,
            _ = tokio::time::sleep(core.config.poll_interval) => claim_now = true,
            Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                let (id, ok) = match done {
                    Ok((id, result)) => (id, result.is_ok()),
                    Err(e) => (e.id(), false),
                };
                running.remove(&id);
                // A slot is free: claim again at once, unless the store just failed.
                claim_now = ok;
            }
            _ = stop.changed() => {}
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// The prune loop: at start and every hour, deletes events older than the retention in
/// batches until a batch comes back short.
pub(crate) async fn prune(core: Arc<Core>, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        let before = Utc::now()
            .checked_sub_signed(delta(core.config.retention))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let mut total = 0u64;
        loop {
            match core
                .store(move |r| r.prune_events(before, PRUNE_BATCH))
                .await
            {
                Ok(n) => {
                    total += n;
                    if n < PRUNE_BATCH || *stop.borrow() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "pruning old events failed");
                    break;
                }
            }
        }
        if total > 0 {
            tracing::info!(pruned = total, before = %before, "pruned old events");
        }
        tokio::select! {
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = stop.changed() => {}
        }
    }
}

/// A `std` duration as a chrono one (saturating).
pub(crate) fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}
