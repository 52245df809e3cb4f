//! What the delivery tests share: a real receiver, the feeds they run on, waiting.

pub mod db;
pub mod memory;
pub mod receiver;

use scim_events::{Deliverer, DeliveryConfig, subscription_secret};
use scim_store::{EventRecord, EventRepo, SettingsRepo, Subscription};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A tenant's feed on some store: where the scenarios commit changes and read the outbox.
pub trait Feed: Send + Sync {
    /// The backend, for measurements: `memory`, `sqlite`, `postgres`.
    fn name(&self) -> &'static str;
    fn events(&self) -> Arc<dyn EventRepo>;
    fn settings(&self) -> Arc<dyn SettingsRepo>;
    fn tenant(&self) -> String;
    /// Commits one change that produces exactly one event.
    fn commit_one(&self, label: &str);
}

/// Every event of the tenant's feed, in order.
pub fn outbox(feed: &dyn Feed) -> Vec<EventRecord> {
    feed.events()
        .list_events(&feed.tenant(), 0, 10_000, None)
        .unwrap()
}

/// The jtis of the tenant's feed, in order.
pub fn outbox_jtis(feed: &dyn Feed) -> Vec<String> {
    outbox(feed).into_iter().map(|r| r.event.jti).collect()
}

/// Settings for tests: small backoffs and poll interval (never timing assertions: only
/// shorter waits).
pub fn config(public_url: &str) -> DeliveryConfig {
    DeliveryConfig {
        public_url: public_url.into(),
        poll_interval: Duration::from_millis(100),
        request_timeout: Duration::from_secs(5),
        lease: Duration::from_secs(15),
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..DeliveryConfig::default()
    }
}

pub async fn deliverer(feed: &dyn Feed, config: DeliveryConfig) -> Deliverer {
    Deliverer::with_repos(feed.events(), feed.settings(), config)
        .await
        .unwrap()
}

/// The signing secret of a subscription (what the CLI shows once).
pub fn secret(feed: &dyn Feed, sub: &Subscription) -> String {
    let key = scim_events::signing_key(&*feed.settings()).unwrap();
    subscription_secret(&key, sub)
}

/// Polls `cond` until it holds, for at most 30 s (generous: a loaded 2-core machine).
pub async fn wait_until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs a blocking store call off the test's runtime threads.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// The received jtis with duplicates (retries) removed, first arrival kept.
pub fn dedup(jtis: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    jtis.into_iter()
        .filter(|j| seen.insert(j.clone()))
        .collect()
}
