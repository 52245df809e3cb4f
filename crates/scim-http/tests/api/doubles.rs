//! A test double: the real store, with every [`Session`] call recorded and chosen session
//! operations failing.

use crate::helpers::TestApp;
use chrono::{DateTime, Utc};
use scim_core::ResourceKind;
use scim_core::ScimError;
use scim_core::events::EventType;
use scim_core::patch::MemberDelta;
use scim_core::resource::{Attributes, Resource};
use scim_http::AppState;
use scim_store::{
    Access, Actor, Claim, CommitListener, DeliveryAttempt, DeliveryFilter, EventRecord, EventRepo,
    ListParams, LogEntry, LogQuery, LogRepo, NewSubscription, NewToken, Page, RequestEntry,
    RequestLogRepo, RequestQuery, RequestRecord, ResourceRepo, Session, SessionCapacity,
    SettingsRepo, Store, StoreError, StoreResult, Subscription, SubscriptionUpdate, Tenant,
    TenantRepo, TokenRecord,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which session operations fail, and how.
#[derive(Clone, Copy, Default)]
pub struct Faults {
    pub get: Option<fn() -> StoreError>,
    pub list: Option<fn() -> StoreError>,
    pub update: Option<fn() -> StoreError>,
    pub ping: Option<fn() -> StoreError>,
}

/// The calls made on sessions, e.g. `tenant`, `get Group relations=false`,
/// `update User relations=true`, `change_members`.
pub type Calls = Arc<Mutex<Vec<String>>>;

pub struct Spy {
    inner: Arc<dyn Store>,
    faults: Faults,
    calls: Calls,
    gate: Option<Gate>,
}

/// Holds the first session opened until the test releases it (to fill the connection
/// queue deterministically).
struct Gate {
    capacity: SessionCapacity,
    entered: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    release: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

fn install(app: &mut TestApp, spy: Spy) {
    app.state = AppState::new(
        Arc::new(spy),
        app.state.cursor_key.clone(),
        app.state.public_url.clone(),
        app.state.limits,
    );
}

/// Replaces the app's store with a [`Spy`] over it; returns the call log.
pub fn spy(app: &mut TestApp, faults: Faults) -> Calls {
    let calls = Calls::default();
    let inner = Arc::clone(&app.state.store);
    install(
        app,
        Spy {
            inner,
            faults,
            calls: Arc::clone(&calls),
            gate: None,
        },
    );
    calls
}

/// Makes the store report one connection for everything and hold the first session it
/// opens: the returned receiver fires once that session is open, and sending on the
/// returned sender lets it go on.
pub fn gate(
    app: &mut TestApp,
) -> (
    tokio::sync::oneshot::Receiver<()>,
    std::sync::mpsc::Sender<()>,
) {
    let (entered_tx, entered_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel();
    let inner = Arc::clone(&app.state.store);
    install(
        app,
        Spy {
            inner,
            faults: Faults::default(),
            calls: Calls::default(),
            gate: Some(Gate {
                capacity: SessionCapacity {
                    readers: 1,
                    writers: None,
                },
                entered: Mutex::new(Some(entered_tx)),
                release: Mutex::new(Some(release_rx)),
            }),
        },
    );
    (entered_rx, release_tx)
}

/// Takes the calls recorded so far.
pub fn take(calls: &Calls) -> Vec<String> {
    std::mem::take(&mut *calls.lock().unwrap())
}

struct SpySession<'a> {
    inner: Box<dyn Session + 'a>,
    faults: Faults,
    calls: Calls,
}

impl SpySession<'_> {
    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }
}

impl Session for SpySession<'_> {
    fn tenant(&mut self, tenant_id: &str) -> StoreResult<Tenant> {
        self.log("tenant".into());
        self.inner.tenant(tenant_id)
    }
    fn tenant_schemas(&mut self, tenant_id: &str) -> StoreResult<Vec<scim_store::TenantSchema>> {
        self.log("tenant_schemas".into());
        self.inner.tenant_schemas(tenant_id)
    }
    fn entitlement_types(
        &mut self,
        t: &str,
    ) -> StoreResult<Vec<scim_core::entitlements::EntitlementType>> {
        self.log("entitlement_types".into());
        self.inner.entitlement_types(t)
    }
    fn list_entitlement_values(
        &mut self,
        t: &str,
        q: &scim_store::ValueQuery,
    ) -> StoreResult<scim_store::ValuePage> {
        self.log("list_entitlement_values".into());
        self.inner.list_entitlement_values(t, q)
    }
    fn entitlement_catalog(&mut self, t: &str) -> StoreResult<scim_core::entitlements::Catalog> {
        self.log("entitlement_catalog".into());
        self.inner.entitlement_catalog(t)
    }
    fn record_token_use(&mut self, t: &str, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        self.log("record_token_use".into());
        self.inner.record_token_use(t, id, at)
    }
    fn get(
        &mut self,
        t: &str,
        k: ResourceKind,
        id: &str,
        relations: bool,
    ) -> StoreResult<Resource> {
        self.log(format!("get {k} relations={relations}"));
        if let Some(f) = self.faults.get {
            return Err(f());
        }
        self.inner.get(t, k, id, relations)
    }
    fn list(&mut self, t: &str, k: ResourceKind, p: &ListParams) -> StoreResult<Page> {
        self.log(format!("list {k}"));
        if let Some(f) = self.faults.list {
            return Err(f());
        }
        self.inner.list(t, k, p)
    }
    fn create(
        &mut self,
        a: &Actor,
        t: &str,
        k: ResourceKind,
        attrs: Attributes,
    ) -> StoreResult<Resource> {
        self.log(format!("create {k}"));
        self.inner.create(a, t, k, attrs)
    }
    fn create_many(
        &mut self,
        a: &Actor,
        t: &str,
        k: ResourceKind,
        batch: Vec<Attributes>,
    ) -> StoreResult<Vec<String>> {
        self.inner.create_many(a, t, k, batch)
    }
    fn update(
        &mut self,
        a: &Actor,
        t: &str,
        k: ResourceKind,
        id: &str,
        relations: bool,
        change: &mut dyn FnMut(&Resource) -> Result<Option<Attributes>, ScimError>,
    ) -> StoreResult<Resource> {
        self.log(format!("update {k} relations={relations}"));
        if let Some(f) = self.faults.update {
            return Err(f());
        }
        self.inner.update(a, t, k, id, relations, change)
    }
    fn change_members(
        &mut self,
        a: &Actor,
        t: &str,
        group_id: &str,
        delta: &MemberDelta,
        change: &mut dyn FnMut(&Resource) -> Result<Option<Attributes>, ScimError>,
    ) -> StoreResult<Resource> {
        self.log("change_members".into());
        if let Some(f) = self.faults.update {
            return Err(f());
        }
        self.inner.change_members(a, t, group_id, delta, change)
    }
    fn delete(
        &mut self,
        a: &Actor,
        t: &str,
        k: ResourceKind,
        id: &str,
        check: &mut dyn FnMut(&Resource) -> Result<(), ScimError>,
    ) -> StoreResult<()> {
        self.log(format!("delete {k}"));
        self.inner.delete(a, t, k, id, check)
    }
}

impl TenantRepo for Spy {
    fn create_tenant(&self, name: &str) -> StoreResult<Tenant> {
        self.inner.create_tenant(name)
    }
    fn get_tenant(&self, tenant_id: &str) -> StoreResult<Tenant> {
        self.inner.get_tenant(tenant_id)
    }
    fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.inner.list_tenants()
    }
    fn set_current_token(
        &self,
        t: &str,
        token: &NewToken,
        at: DateTime<Utc>,
        expected: Option<&str>,
    ) -> StoreResult<TokenRecord> {
        self.inner.set_current_token(t, token, at, expected)
    }
    fn set_paused(&self, t: &str, paused: bool, at: DateTime<Utc>) -> StoreResult<Tenant> {
        self.inner.set_paused(t, paused, at)
    }
    fn set_profile(&self, t: &str, profile: scim_core::Profile) -> StoreResult<Tenant> {
        self.inner.set_profile(t, profile)
    }
    fn delete_tenant(&self, t: &str) -> StoreResult<()> {
        self.inner.delete_tenant(t)
    }
    fn upgrade_legacy_tokens(
        &self,
        key_setting: &str,
        rehash: &mut scim_store::Rehash<'_>,
    ) -> StoreResult<usize> {
        self.inner.upgrade_legacy_tokens(key_setting, rehash)
    }
    fn record_token_use(&self, t: &str, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        self.inner.record_token_use(t, id, at)
    }
}

impl scim_store::TenantSchemaRepo for Spy {
    fn list_tenant_schemas(&self, t: &str) -> StoreResult<Vec<scim_store::TenantSchema>> {
        self.inner.list_tenant_schemas(t)
    }
    fn put_tenant_schema(
        &self,
        t: &str,
        schema: &scim_store::NewTenantSchema,
        check: &mut scim_store::SchemaCheck<'_>,
    ) -> StoreResult<scim_store::TenantSchema> {
        self.inner.put_tenant_schema(t, schema, check)
    }
    fn remove_tenant_schema(&self, t: &str, id: &str) -> StoreResult<()> {
        self.inner.remove_tenant_schema(t, id)
    }
}

// The repository methods are not what scim-http calls (it goes through sessions); they
// delegate so that tests can still set up data through the store.
impl ResourceRepo for Spy {
    fn create(
        &self,
        a: &Actor,
        t: &str,
        k: ResourceKind,
        attrs: Attributes,
    ) -> StoreResult<Resource> {
        self.inner.create(a, t, k, attrs)
    }
    fn create_many(
        &self,
        a: &Actor,
        t: &str,
        k: ResourceKind,
        batch: Vec<Attributes>,
    ) -> StoreResult<Vec<String>> {
        self.inner.create_many(a, t, k, batch)
    }
    fn get(&self, t: &str, k: ResourceKind, id: &str) -> StoreResult<Resource> {
        self.inner.get(t, k, id)
    }
    fn replace(
        &self,
        a: &Actor,
        t: &str,
        k: ResourceKind,
        id: &str,
        attrs: Attributes,
        v: Option<i64>,
    ) -> StoreResult<Resource> {
        self.inner.replace(a, t, k, id, attrs, v)
    }
    fn delete(
        &self,
        a: &Actor,
        t: &str,
        k: ResourceKind,
        id: &str,
        v: Option<i64>,
    ) -> StoreResult<()> {
        self.inner.delete(a, t, k, id, v)
    }
    fn list(&self, t: &str, k: ResourceKind, p: &ListParams) -> StoreResult<Page> {
        self.inner.list(t, k, p)
    }
}

impl LogRepo for Spy {
    fn list_log(&self, t: &str, q: &LogQuery) -> StoreResult<Vec<LogEntry>> {
        self.inner.list_log(t, q)
    }
}

impl RequestLogRepo for Spy {
    fn insert_requests(&self, batch: &[RequestRecord]) -> StoreResult<usize> {
        self.inner.insert_requests(batch)
    }
    fn list_requests(&self, t: &str, q: &RequestQuery) -> StoreResult<Vec<RequestEntry>> {
        self.inner.list_requests(t, q)
    }
    fn get_request(&self, t: &str, id: i64) -> StoreResult<RequestEntry> {
        self.inner.get_request(t, id)
    }
    fn prune_requests(&self, before: DateTime<Utc>, batch: u64) -> StoreResult<u64> {
        self.inner.prune_requests(before, batch)
    }
}

impl SettingsRepo for Spy {
    fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        self.inner.get_setting(key)
    }
    fn get_or_init_setting(&self, key: &str, value: &str) -> StoreResult<String> {
        self.inner.get_or_init_setting(key, value)
    }
}

// Delegated unchanged: scim-http does not use the outbox (the store appends events itself).
impl EventRepo for Spy {
    fn list_events(
        &self,
        t: &str,
        after: i64,
        limit: u64,
        types: Option<&[EventType]>,
    ) -> StoreResult<Vec<EventRecord>> {
        self.inner.list_events(t, after, limit, types)
    }
    fn get_event(&self, t: &str, position: i64) -> StoreResult<EventRecord> {
        self.inner.get_event(t, position)
    }
    fn last_event_position(&self, t: &str) -> StoreResult<i64> {
        self.inner.last_event_position(t)
    }
    fn prune_events(&self, before: DateTime<Utc>, batch: u64) -> StoreResult<u64> {
        self.inner.prune_events(before, batch)
    }
    fn set_commit_listener(&self, listener: CommitListener) {
        self.inner.set_commit_listener(listener)
    }
    fn create_subscription(&self, t: &str, new: &NewSubscription) -> StoreResult<Subscription> {
        self.inner.create_subscription(t, new)
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
        change: &SubscriptionUpdate,
    ) -> StoreResult<Subscription> {
        self.inner.update_subscription(t, id, change)
    }
    fn delete_subscription(&self, t: &str, id: &str) -> StoreResult<()> {
        self.inner.delete_subscription(t, id)
    }
    fn replay_subscription(&self, t: &str, id: &str, after: i64) -> StoreResult<()> {
        self.inner.replay_subscription(t, id, after)
    }
    fn queue_redelivery(&self, t: &str, id: &str, position: i64) -> StoreResult<()> {
        self.inner.queue_redelivery(t, id, position)
    }
    fn list_deliveries(&self, t: &str, f: &DeliveryFilter) -> StoreResult<Vec<DeliveryAttempt>> {
        self.inner.list_deliveries(t, f)
    }
    fn claim_subscriptions(
        &self,
        owner: &str,
        lease: Duration,
        limit: usize,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Claim>> {
        self.inner.claim_subscriptions(owner, lease, limit, now)
    }
    fn renew_lease(&self, owner: &str, id: &str, until: DateTime<Utc>) -> StoreResult<bool> {
        self.inner.renew_lease(owner, id, until)
    }
    fn release_lease(&self, owner: &str, id: &str) -> StoreResult<()> {
        self.inner.release_lease(owner, id)
    }
    fn record_attempt(
        &self,
        owner: &str,
        attempt: &DeliveryAttempt,
        disable: Option<&str>,
    ) -> StoreResult<bool> {
        self.inner.record_attempt(owner, attempt, disable)
    }
    fn skip_to(&self, owner: &str, id: &str, position: i64) -> StoreResult<bool> {
        self.inner.skip_to(owner, id, position)
    }
}

impl Store for Spy {
    fn session(&self, access: Access) -> StoreResult<Box<dyn Session + '_>> {
        if let Some(gate) = &self.gate {
            let entered = gate.entered.lock().unwrap().take();
            if let Some(entered) = entered {
                let _ = entered.send(());
                let release = gate.release.lock().unwrap().take();
                if let Some(release) = release {
                    let _ = release.recv();
                }
            }
        }
        Ok(Box::new(SpySession {
            inner: self.inner.session(access)?,
            faults: self.faults,
            calls: Arc::clone(&self.calls),
        }))
    }
    fn capacity(&self) -> SessionCapacity {
        match &self.gate {
            Some(gate) => gate.capacity,
            None => self.inner.capacity(),
        }
    }
    fn ping(&self) -> StoreResult<()> {
        match self.faults.ping {
            Some(f) => Err(f()),
            None => self.inner.ping(),
        }
    }
    fn backend_name(&self) -> &'static str {
        "spy"
    }
}
