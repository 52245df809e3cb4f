//! The scenarios on the in-memory double of `EventRepo` (the worker's own rules, without a
//! database).

use crate::scenarios;
use crate::support::Feed;
use crate::support::memory::Memory;
use scim_core::events::EventType;
use scim_store::{EventRepo, SettingsRepo};
use std::sync::Arc;

struct MemoryFeed(Arc<Memory>);

impl Feed for MemoryFeed {
    fn events(&self) -> Arc<dyn EventRepo> {
        self.0.clone()
    }
    fn settings(&self) -> Arc<dyn SettingsRepo> {
        self.0.clone()
    }
    fn tenant(&self) -> String {
        "t-memory".into()
    }
    fn commit_one(&self, label: &str) {
        self.0.append("t-memory", EventType::Create, label);
    }
}

fn feed() -> Arc<dyn Feed> {
    Arc::new(MemoryFeed(Arc::new(Memory::default())))
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
