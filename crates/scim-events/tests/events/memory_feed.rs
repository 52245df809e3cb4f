//! The scenarios on the in-memory double of `EventRepo` (the worker's own rules, without a
//! database).

use crate::scenarios;
use crate::support::Feed;
use crate::support::memory::MemoryFeed;
use std::sync::Arc;

fn feed() -> Arc<dyn Feed> {
    Arc::new(MemoryFeed::new("t-memory"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_order() {
    scenarios::in_order(feed()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage() {
    scenarios::outage(feed()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_and_reenable() {
    scenarios::disable_and_reenable(feed()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters() {
    scenarios::filters(feed()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivery_and_replay() {
    scenarios::redelivery_and_replay(feed()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_test() {
    scenarios::send_test(feed()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency() {
    scenarios::latency(feed()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_renewal() {
    scenarios::lease_renewal(feed()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prunes_at_start() {
    scenarios::prunes_at_start(feed()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_hands_over() {
    scenarios::shutdown_hands_over(feed()).await;
}
