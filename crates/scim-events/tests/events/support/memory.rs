//! An in-memory `EventRepo` + `SettingsRepo` with the trait's documented semantics: a
//! test double for the worker's own rules (fast, and independent of the database), next
//! to the same scenarios on the real stores.

use super::Feed;
use chrono::{DateTime, Utc};
use scim_core::ResourceKind;
use scim_core::events::{ChangeEvent, EventType, StoredEvent, Subject};
use scim_store::{
    Claim, CommitListener, DeliveryAttempt, DeliveryFilter, DeliveryOutcome, EventRecord,
    EventRepo, NewSubscription, SettingsRepo, StoreError, StoreResult, Subscription,
    SubscriptionUpdate,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// A lease: owner and end.
type Lease = Option<(String, DateTime<Utc>)>;

#[derive(Default)]
struct Inner {
    events: HashMap<String, Vec<EventRecord>>,
    subs: Vec<(Subscription, Lease)>,
    redeliveries: BTreeSet<(String, i64)>,
    deliveries: Vec<DeliveryAttempt>,
    settings: HashMap<String, String>,
    /// The last position given out per tenant (never reused after pruning).
    last: HashMap<String, i64>,
    next_id: i64,
}

#[derive(Default)]
pub struct Memory {
    inner: Mutex<Inner>,
    listener: RwLock<Option<CommitListener>>,
}

impl Memory {
    /// Appends one user event to the tenant's feed (and calls the commit listener).
    pub fn append(&self, tenant: &str, event_type: EventType, user: &str) -> i64 {
        let pos = {
            let mut g = self.inner.lock().unwrap();
            let position = g.last.get(tenant).copied().unwrap_or(0) + 1;
            g.last.insert(tenant.into(), position);
            let feed = g.events.entry(tenant.into()).or_default();
            feed.push(EventRecord {
                tenant_id: tenant.into(),
                position,
                event: StoredEvent {
                    jti: uuid::Uuid::new_v4().simple().to_string(),
                    txn: uuid::Uuid::new_v4().simple().to_string(),
                    issued_at: Utc::now(),
                    event: ChangeEvent {
                        event_type,
                        subject: Subject {
                            kind: ResourceKind::User,
                            id: user.into(),
                            external_id: None,
                        },
                        version: Some(position),
                        data: Some(serde_json::json!({"id": user, "userName": user})),
                        attributes: vec!["userName".into()],
                        group: None,
                    },
                },
            });
            position
        };
        if let Some(l) = self.listener.read().unwrap().as_ref() {
            l(tenant);
        }
        pos
    }

    fn with_sub<T>(
        &self,
        tenant: &str,
        id: &str,
        f: impl FnOnce(&mut Subscription, &mut Lease) -> T,
    ) -> StoreResult<T> {
        let mut g = self.inner.lock().unwrap();
        let (s, lease) = g
            .subs
            .iter_mut()
            .find(|(s, _)| s.id == id && (tenant.is_empty() || s.tenant_id == tenant))
            .ok_or(StoreError::NotFound)?;
        Ok(f(s, lease))
    }

    fn fenced<T>(
        &self,
        owner: &str,
        id: &str,
        f: impl FnOnce(&mut Subscription) -> T,
    ) -> StoreResult<Option<T>> {
        let now = Utc::now();
        self.with_sub("", id, |s, lease| match lease {
            Some((o, until)) if o == owner && *until > now => Some(f(s)),
            _ => None,
        })
    }
}

impl SettingsRepo for Memory {
    fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self.inner.lock().unwrap().settings.get(key).cloned())
    }
    fn get_or_init_setting(&self, key: &str, value: &str) -> StoreResult<String> {
        let mut g = self.inner.lock().unwrap();
        Ok(g.settings
            .entry(key.into())
            .or_insert_with(|| value.into())
            .clone())
    }
}

impl EventRepo for Memory {
    fn list_events(
        &self,
        tenant_id: &str,
        after: i64,
        limit: u64,
        types: Option<&[EventType]>,
    ) -> StoreResult<Vec<EventRecord>> {
        let g = self.inner.lock().unwrap();
        Ok(g.events
            .get(tenant_id)
            .map(|f| {
                f.iter()
                    .filter(|r| r.position > after)
                    .filter(|r| types.is_none_or(|t| t.contains(&r.event.event.event_type)))
                    .take(limit as usize)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    fn get_event(&self, tenant_id: &str, position: i64) -> StoreResult<EventRecord> {
        let g = self.inner.lock().unwrap();
        g.events
            .get(tenant_id)
            .and_then(|f| f.iter().find(|r| r.position == position).cloned())
            .ok_or(StoreError::NotFound)
    }

    fn last_event_position(&self, tenant_id: &str) -> StoreResult<i64> {
        let g = self.inner.lock().unwrap();
        Ok(g.last.get(tenant_id).copied().unwrap_or(0))
    }

    fn prune_events(&self, before: DateTime<Utc>, batch: u64) -> StoreResult<u64> {
        let mut g = self.inner.lock().unwrap();
        let mut pruned = 0u64;
        for feed in g.events.values_mut() {
            let old = feed
                .iter()
                .take_while(|r| r.event.issued_at < before)
                .count()
                .min((batch - pruned) as usize);
            feed.drain(..old);
            pruned += old as u64;
        }
        Ok(pruned)
    }

    fn set_commit_listener(&self, listener: CommitListener) {
        *self.listener.write().unwrap() = Some(listener);
    }

    fn create_subscription(
        &self,
        tenant_id: &str,
        new: &NewSubscription,
    ) -> StoreResult<Subscription> {
        let cursor = match new.after {
            Some(a) => a,
            None => self.last_event_position(tenant_id)?,
        };
        let sub = Subscription {
            id: uuid::Uuid::new_v4().simple().to_string(),
            tenant_id: tenant_id.into(),
            sink: new.sink.clone(),
            mode: new.mode,
            events: new.events.clone(),
            enabled: true,
            disabled_reason: None,
            secret_version: 1,
            created: Utc::now(),
            cursor,
            attempts: 0,
            failing_since: None,
            next_attempt: None,
            last_error: None,
        };
        self.inner.lock().unwrap().subs.push((sub.clone(), None));
        Ok(sub)
    }

    fn list_subscriptions(&self, tenant_id: &str) -> StoreResult<Vec<Subscription>> {
        let g = self.inner.lock().unwrap();
        Ok(g.subs
            .iter()
            .filter(|(s, _)| s.tenant_id == tenant_id)
            .map(|(s, _)| s.clone())
            .collect())
    }

    fn get_subscription(&self, tenant_id: &str, id: &str) -> StoreResult<Subscription> {
        self.with_sub(tenant_id, id, |s, _| s.clone())
    }

    fn find_subscription(&self, id: &str) -> StoreResult<Subscription> {
        self.with_sub("", id, |s, _| s.clone())
    }

    fn update_subscription(
        &self,
        tenant_id: &str,
        id: &str,
        change: &SubscriptionUpdate,
    ) -> StoreResult<Subscription> {
        self.with_sub(tenant_id, id, |s, _| {
            if let Some(sink) = &change.sink {
                s.sink = sink.clone();
            }
            if let Some(m) = change.mode {
                s.mode = m;
            }
            if let Some(e) = &change.events {
                s.events = e.clone();
            }
            if let Some(on) = change.enabled {
                s.enabled = on;
                if on {
                    s.disabled_reason = None;
                    s.attempts = 0;
                    s.failing_since = None;
                    s.next_attempt = None;
                    s.last_error = None;
                }
            }
            if change.rotate_secret {
                s.secret_version += 1;
            }
            s.clone()
        })
    }

    fn delete_subscription(&self, tenant_id: &str, id: &str) -> StoreResult<()> {
        let mut g = self.inner.lock().unwrap();
        let before = g.subs.len();
        g.subs
            .retain(|(s, _)| !(s.id == id && s.tenant_id == tenant_id));
        if g.subs.len() == before {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    fn replay_subscription(&self, tenant_id: &str, id: &str, after: i64) -> StoreResult<()> {
        self.with_sub(tenant_id, id, |s, _| {
            s.cursor = after;
            s.attempts = 0;
            s.failing_since = None;
            s.next_attempt = None;
        })
    }

    fn queue_redelivery(&self, tenant_id: &str, id: &str, position: i64) -> StoreResult<()> {
        self.get_event(tenant_id, position)?;
        self.get_subscription(tenant_id, id)?;
        self.inner
            .lock()
            .unwrap()
            .redeliveries
            .insert((id.into(), position));
        Ok(())
    }

    fn list_deliveries(
        &self,
        tenant_id: &str,
        filter: &DeliveryFilter,
    ) -> StoreResult<Vec<DeliveryAttempt>> {
        let g = self.inner.lock().unwrap();
        Ok(g.deliveries
            .iter()
            .rev()
            .filter(|d| d.tenant_id == tenant_id)
            .filter(|d| {
                filter
                    .subscription_id
                    .as_ref()
                    .is_none_or(|s| *s == d.subscription_id)
            })
            .filter(|d| filter.position.is_none_or(|p| p == d.position))
            .filter(|d| filter.before_id.is_none_or(|b| d.id < b))
            .take(filter.limit as usize)
            .cloned()
            .collect())
    }

    /// Like the store's: a live lease (whoever holds it) is never claimed.
    fn claim_subscriptions(
        &self,
        owner: &str,
        lease: Duration,
        limit: usize,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Claim>> {
        let mut g = self.inner.lock().unwrap();
        let until = now + chrono::TimeDelta::from_std(lease).unwrap();
        let last = g.last.clone();
        let queued = g.redeliveries.clone();
        let mut out = Vec::new();
        for (s, l) in g.subs.iter_mut() {
            if out.len() >= limit {
                break;
            }
            let free = l.as_ref().is_none_or(|(_, u)| *u <= now);
            let due = s.next_attempt.is_none_or(|n| n <= now);
            let redeliveries: Vec<i64> = queued
                .iter()
                .filter(|(id, _)| *id == s.id)
                .map(|(_, p)| *p)
                .collect();
            let work =
                s.cursor < last.get(&s.tenant_id).copied().unwrap_or(0) || !redeliveries.is_empty();
            if s.enabled && free && due && work {
                *l = Some((owner.into(), until));
                out.push(Claim {
                    subscription: s.clone(),
                    redeliveries,
                    lease_until: until,
                });
            }
        }
        Ok(out)
    }

    fn renew_lease(
        &self,
        owner: &str,
        subscription_id: &str,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let now = Utc::now();
        self.with_sub("", subscription_id, |_, lease| match lease {
            Some((o, u)) if o == owner && *u > now => {
                *u = until;
                true
            }
            _ => false,
        })
    }

    fn release_lease(&self, owner: &str, subscription_id: &str) -> StoreResult<()> {
        self.with_sub("", subscription_id, |_, lease| {
            if lease.as_ref().is_some_and(|(o, _)| o == owner) {
                *lease = None;
            }
        })
    }

    fn record_attempt(
        &self,
        owner: &str,
        attempt: &DeliveryAttempt,
        disable: Option<&str>,
    ) -> StoreResult<bool> {
        let applied = self.fenced(owner, &attempt.subscription_id, |s| {
            match attempt.outcome {
                DeliveryOutcome::Delivered => {
                    if !attempt.redelivery {
                        s.cursor = attempt.position;
                    }
                    s.attempts = 0;
                    s.failing_since = None;
                    s.next_attempt = None;
                    s.last_error = None;
                }
                DeliveryOutcome::Failed => {
                    s.attempts += 1;
                    s.failing_since.get_or_insert(attempt.at);
                    s.next_attempt = attempt.next_try;
                    s.last_error = attempt.error.clone();
                }
            }
            if let Some(reason) = disable {
                s.enabled = false;
                s.disabled_reason = Some(reason.into());
            }
        })?;
        if applied.is_none() {
            return Ok(false);
        }
        let mut g = self.inner.lock().unwrap();
        g.next_id += 1;
        let mut a = attempt.clone();
        a.id = g.next_id;
        if a.outcome == DeliveryOutcome::Delivered {
            g.redeliveries
                .remove(&(a.subscription_id.clone(), a.position));
        }
        g.deliveries.push(a);
        Ok(true)
    }

    fn record_test_attempt(&self, attempt: &DeliveryAttempt) -> StoreResult<()> {
        self.get_subscription(&attempt.tenant_id, &attempt.subscription_id)?;
        let mut g = self.inner.lock().unwrap();
        g.next_id += 1;
        let mut a = attempt.clone();
        a.id = g.next_id;
        g.deliveries.push(a);
        Ok(())
    }

    fn skip_to(&self, owner: &str, subscription_id: &str, position: i64) -> StoreResult<bool> {
        Ok(self
            .fenced(owner, subscription_id, |s| {
                s.cursor = s.cursor.max(position);
            })?
            .is_some())
    }
}

/// A tenant's feed on a [`Memory`]: each commit appends one `prov:create`.
pub struct MemoryFeed {
    pub memory: Arc<Memory>,
    tenant: String,
}

impl MemoryFeed {
    pub fn new(tenant: &str) -> MemoryFeed {
        MemoryFeed {
            memory: Arc::new(Memory::default()),
            tenant: tenant.into(),
        }
    }
}

impl Feed for MemoryFeed {
    fn name(&self) -> &'static str {
        "memory"
    }
    fn events(&self) -> Arc<dyn EventRepo> {
        self.memory.clone()
    }
    fn settings(&self) -> Arc<dyn SettingsRepo> {
        self.memory.clone()
    }
    fn tenant(&self) -> String {
        self.tenant.clone()
    }
    fn commit_one(&self, label: &str) {
        self.memory.append(&self.tenant, EventType::Create, label);
    }
}
