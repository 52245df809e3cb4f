//! Two replicas on one PostgreSQL, both delivering: two stores (their own pools) and two
//! Deliverers with different owners, many events over several subscriptions. The receiver
//! holds each request a little and counts overlapping requests to one subscription's path:
//! there must be none; every event arrives, in order per subscription.

use crate::scenarios::subscribe;
use crate::support::db;
use crate::support::receiver::Receiver;
use crate::support::{Feed, blocking, config, dedup, outbox_jtis, wait_until};
use scim_core::events::EventMode;
use scim_events::{Deliverer, DeliveryConfig};
use scim_store::{
    Claim, DeliveryAttempt, DeliveryFilter, NewSubscription, StoreResult, Subscription,
    SubscriptionUpdate,
};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

const SUBSCRIPTIONS: usize = 4;
const WRITERS: usize = 4;
const EVENTS_PER_WRITER: usize = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_never_deliver_one_subscription_at_once() {
    let Some(db) = db::postgres() else { return };
    let db = Arc::new(db);
    let rx = Receiver::start().await;
    rx.set_delay(Duration::from_millis(3));
    let names: Vec<String> = (0..SUBSCRIPTIONS).map(|i| format!("s{i}")).collect();
    for name in &names {
        subscribe(&*db, &rx, name, EventMode::Full, None);
    }

    let replica = db.replica();
    let mut workers = Vec::new();
    let mut deliverers = Vec::new();
    let mut counters = Vec::new();
    for (i, store) in [db.store.clone(), replica].into_iter().enumerate() {
        let counting = Arc::new(Counting {
            inner: store.clone(),
            attempts: Default::default(),
        });
        counters.push(counting.clone());
        let d = Deliverer::with_repos(
            counting,
            store,
            DeliveryConfig {
                owner: format!("replica-{i}"),
                // A lease left behind would stall a subscription past the test's wait.
                lease: Duration::from_secs(120),
                // Both claim at the same moments as often as possible.
                poll_interval: Duration::from_millis(20),
                concurrency: 2,
                ..config("https://scim.example")
            },
        )
        .await
        .unwrap();
        workers.push(d.spawn());
        deliverers.push(d);
    }

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let db = db.clone();
        writers.push(blocking(move || {
            for i in 0..EVENTS_PER_WRITER {
                db.commit_one(&format!("w{w}-{i}"));
            }
        }));
    }
    for w in writers {
        w.await;
    }
    // The other replica hears of no commit of this process: its polls find the work.
    for d in &deliverers {
        d.notify();
    }
    let want = outbox_jtis(&*db);
    assert_eq!(want.len(), WRITERS * EVENTS_PER_WRITER);
    for name in &names {
        wait_until(&format!("every event on {name}"), || async {
            dedup(
                rx.received_on(name)
                    .iter()
                    .map(|r| r.claims["jti"].as_str().unwrap().to_string()),
            )
            .len()
                >= want.len()
        })
        .await;
    }
    for w in workers {
        w.shutdown().await;
    }
    assert_eq!(
        rx.overlaps(),
        0,
        "a subscription was served by two workers at once"
    );
    assert!(rx.rejected().is_empty(), "{:?}", rx.rejected());
    let mut duplicates = 0;
    for name in &names {
        let got: Vec<String> = rx
            .received_on(name)
            .iter()
            .map(|r| r.claims["jti"].as_str().unwrap().to_string())
            .collect();
        duplicates += got.len() - want.len();
        assert_eq!(dedup(got), want, "{name}: every event once, in order");
    }
    let per_replica: Vec<usize> = counters
        .iter()
        .map(|c| c.attempts.load(Ordering::SeqCst))
        .collect();
    eprintln!(
        "two replicas: {} SETs to {SUBSCRIPTIONS} subscriptions, {duplicates} duplicates, 0 overlaps, attempts per replica {per_replica:?}",
        rx.received().len()
    );
    assert!(
        per_replica.iter().all(|&n| n > 0),
        "both replicas delivered: {per_replica:?}"
    );
}

/// An `EventRepo` that counts the attempts one replica records (so the test knows both
/// replicas delivered), delegating everything to the real store.
struct Counting {
    inner: Arc<scim_store::DieselStore>,
    attempts: std::sync::atomic::AtomicUsize,
}

impl scim_store::EventRepo for Counting {
    fn list_events(
        &self,
        t: &str,
        after: i64,
        limit: u64,
        types: Option<&[scim_core::events::EventType]>,
    ) -> StoreResult<Vec<scim_store::EventRecord>> {
        self.inner.list_events(t, after, limit, types)
    }
    fn get_event(&self, t: &str, p: i64) -> StoreResult<scim_store::EventRecord> {
        self.inner.get_event(t, p)
    }
    fn last_event_position(&self, t: &str) -> StoreResult<i64> {
        self.inner.last_event_position(t)
    }
    fn prune_events(&self, before: chrono::DateTime<chrono::Utc>, batch: u64) -> StoreResult<u64> {
        self.inner.prune_events(before, batch)
    }
    fn set_commit_listener(&self, l: scim_store::CommitListener) {
        self.inner.set_commit_listener(l)
    }
    fn create_subscription(&self, t: &str, n: &NewSubscription) -> StoreResult<Subscription> {
        self.inner.create_subscription(t, n)
    }
    fn list_subscriptions(&self, t: &str) -> StoreResult<Vec<Subscription>> {
        self.inner.list_subscriptions(t)
    }
    fn get_subscription(&self, t: &str, id: &str) -> StoreResult<Subscription> {
        self.inner.get_subscription(t, id)
    }
    fn find_subscription(&self, id: &str) -> StoreResult<Subscription> {
        self.inner.find_subscription(id)
    }
    fn update_subscription(
        &self,
        t: &str,
        id: &str,
        c: &SubscriptionUpdate,
    ) -> StoreResult<Subscription> {
        self.inner.update_subscription(t, id, c)
    }
    fn delete_subscription(&self, t: &str, id: &str) -> StoreResult<()> {
        self.inner.delete_subscription(t, id)
    }
    fn replay_subscription(&self, t: &str, id: &str, after: i64) -> StoreResult<()> {
        self.inner.replay_subscription(t, id, after)
    }
    fn queue_redelivery(&self, t: &str, id: &str, p: i64) -> StoreResult<()> {
        self.inner.queue_redelivery(t, id, p)
    }
    fn list_deliveries(&self, t: &str, f: &DeliveryFilter) -> StoreResult<Vec<DeliveryAttempt>> {
        self.inner.list_deliveries(t, f)
    }
    fn claim_subscriptions(
        &self,
        owner: &str,
        lease: Duration,
        limit: usize,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Vec<Claim>> {
        self.inner.claim_subscriptions(owner, lease, limit, now)
    }
    fn renew_lease(
        &self,
        owner: &str,
        id: &str,
        until: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<bool> {
        self.inner.renew_lease(owner, id, until)
    }
    fn release_lease(&self, owner: &str, id: &str) -> StoreResult<()> {
        self.inner.release_lease(owner, id)
    }
    fn record_attempt(
        &self,
        owner: &str,
        a: &DeliveryAttempt,
        disable: Option<&str>,
    ) -> StoreResult<bool> {
        let held = self.inner.record_attempt(owner, a, disable)?;
        if held {
            self.attempts
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(held)
    }
    fn skip_to(&self, owner: &str, id: &str, p: i64) -> StoreResult<bool> {
        self.inner.skip_to(owner, id, p)
    }
    fn record_test_attempt(&self, a: &DeliveryAttempt) -> StoreResult<()> {
        self.inner.record_test_attempt(a)
    }
}

/// Delivery latency when the commit happens on another replica: only the poll (default
/// 1 s) finds it. Measured and printed, not asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_from_another_replica() {
    for db in [Some(db::sqlite()), db::postgres()].into_iter().flatten() {
        let replica = db.replica();
        crate::scenarios::latency_via(Arc::new(db), replica, "other replica, poll only").await;
    }
}
