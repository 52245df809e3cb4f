//! [`EventRepo`] for [`DieselStore`]: the feed reads and pruning ([`outbox`]), the
//! subscriptions and their delivery log ([`subscriptions`]), the worker's leases
//! ([`leases`]). Reads use a reader connection; writes use the
//! writer (SQLite's one writer connection, a pooled connection on PostgreSQL). A
//! subscription id that cannot be stored (NUL, too long) is `NotFound` without a query.

use super::tx::storable;
use super::{DieselStore, leases, outbox, subscriptions, truncate_ms};
use crate::{
    Claim, CommitListener, DeliveryAttempt, DeliveryFilter, EventRecord, EventRepo,
    NewSubscription, StoreResult, Subscription, SubscriptionUpdate,
};
use chrono::{DateTime, Utc};
use scim_core::events::EventType;
use std::time::Duration;

impl EventRepo for DieselStore {
    fn list_events(
        &self,
        tenant_id: &str,
        after: i64,
        limit: u64,
        types: Option<&[EventType]>,
    ) -> StoreResult<Vec<EventRecord>> {
        outbox::list(&mut *self.conn()?, tenant_id, after, limit, types)
    }

    fn get_event(&self, tenant_id: &str, position: i64) -> StoreResult<EventRecord> {
        outbox::get(&mut *self.conn()?, tenant_id, position)
    }

    fn last_event_position(&self, tenant_id: &str) -> StoreResult<i64> {
        outbox::last_position(&mut *self.conn()?, tenant_id)
    }

    fn prune_events(&self, before: DateTime<Utc>, batch: u64) -> StoreResult<u64> {
        outbox::prune(
            &mut *self.write_conn()?,
            truncate_ms(before.naive_utc()),
            batch,
        )
    }

    fn set_commit_listener(&self, listener: CommitListener) {
        self.listener.set(listener);
    }

    fn create_subscription(
        &self,
        tenant_id: &str,
        new: &NewSubscription,
    ) -> StoreResult<Subscription> {
        subscriptions::create(&mut *self.write_conn()?, tenant_id, new)
    }

    fn list_subscriptions(&self, tenant_id: &str) -> StoreResult<Vec<Subscription>> {
        subscriptions::list(&mut *self.conn()?, tenant_id)
    }

    fn get_subscription(&self, tenant_id: &str, id: &str) -> StoreResult<Subscription> {
        storable(id)?;
        subscriptions::get(&mut *self.conn()?, tenant_id, id)
    }

    fn find_subscription(&self, id: &str) -> StoreResult<Subscription> {
        storable(id)?;
        subscriptions::find(&mut *self.conn()?, id)
    }

    fn update_subscription(
        &self,
        tenant_id: &str,
        id: &str,
        change: &SubscriptionUpdate,
    ) -> StoreResult<Subscription> {
        storable(id)?;
        subscriptions::update(&mut *self.write_conn()?, tenant_id, id, change)
    }

    fn delete_subscription(&self, tenant_id: &str, id: &str) -> StoreResult<()> {
        storable(id)?;
        subscriptions::delete(&mut *self.write_conn()?, tenant_id, id)
    }

    fn replay_subscription(&self, tenant_id: &str, id: &str, after: i64) -> StoreResult<()> {
        storable(id)?;
        subscriptions::replay(&mut *self.write_conn()?, tenant_id, id, after)
    }

    fn queue_redelivery(&self, tenant_id: &str, id: &str, position: i64) -> StoreResult<()> {
        storable(id)?;
        subscriptions::queue_redelivery(&mut *self.write_conn()?, tenant_id, id, position)
    }

    fn list_deliveries(
        &self,
        tenant_id: &str,
        filter: &DeliveryFilter,
    ) -> StoreResult<Vec<DeliveryAttempt>> {
        subscriptions::list_deliveries(&mut *self.conn()?, tenant_id, filter)
    }

    fn claim_subscriptions(
        &self,
        owner: &str,
        lease: Duration,
        limit: usize,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Claim>> {
        // Most wake-ups (every commit in this process) find nothing to claim: answer those
        // from a reader, and take the writer (SQLite) or the row locks only when there is work.
        if limit == 0 || !leases::any_claimable(&mut *self.conn()?, now)? {
            return Ok(Vec::new());
        }
        leases::claim(&mut *self.write_conn()?, owner, lease, limit, now)
    }

    fn renew_lease(
        &self,
        owner: &str,
        subscription_id: &str,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        leases::renew(&mut *self.write_conn()?, owner, subscription_id, until)
    }

    fn release_lease(&self, owner: &str, subscription_id: &str) -> StoreResult<()> {
        leases::release(&mut *self.write_conn()?, owner, subscription_id)
    }

    fn record_attempt(
        &self,
        owner: &str,
        attempt: &DeliveryAttempt,
        disable: Option<&str>,
    ) -> StoreResult<bool> {
        leases::record_attempt(&mut *self.write_conn()?, owner, attempt, disable)
    }

    fn skip_to(&self, owner: &str, subscription_id: &str, position: i64) -> StoreResult<bool> {
        leases::skip_to(&mut *self.write_conn()?, owner, subscription_id, position)
    }

    fn record_test_attempt(&self, attempt: &DeliveryAttempt) -> StoreResult<()> {
        leases::record_test_attempt(&mut *self.write_conn()?, attempt)
    }
}
