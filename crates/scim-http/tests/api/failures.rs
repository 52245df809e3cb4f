//! Store failures: `Unavailable` → 503 with `Retry-After`, any other backend failure → 500
//! with a generic detail (no database text), `/readyz` → 503. A test double wraps the real
//! store and fails chosen operations.

use crate::helpers::TestApp;
use actix_web::test::TestRequest;
use chrono::{DateTime, Utc};
use scim_core::ResourceKind;
use scim_core::resource::{Attributes, Resource};
use scim_http::AppState;
use scim_store::{
    Access, Actor, ListParams, LogEntry, LogQuery, LogRepo, Page, ResourceRepo, Session,
    SessionCapacity, SettingsRepo, Store, StoreError, StoreResult, Tenant, TenantRepo, TokenRecord,
};
use std::sync::Arc;

/// Delegates to the real store, but `list` is unavailable, `get` fails with a backend
/// error carrying SQL text, and `ping` fails.
struct Failing(Arc<dyn Store>);

impl TenantRepo for Failing {
    fn create_tenant(&self, name: &str) -> StoreResult<Tenant> {
        self.0.create_tenant(name)
    }
    fn get_tenant(&self, tenant_id: &str) -> StoreResult<Tenant> {
        self.0.get_tenant(tenant_id)
    }
    fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.0.list_tenants()
    }
    fn set_current_token(&self, t: &str, id: &str, at: DateTime<Utc>) -> StoreResult<TokenRecord> {
        self.0.set_current_token(t, id, at)
    }
    fn record_token_use(&self, t: &str, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        self.0.record_token_use(t, id, at)
    }
}

impl ResourceRepo for Failing {
    fn create(
        &self,
        a: &Actor,
        t: &str,
        k: ResourceKind,
        attrs: Attributes,
    ) -> StoreResult<Resource> {
        self.0.create(a, t, k, attrs)
    }
    fn create_many(
        &self,
        a: &Actor,
        t: &str,
        k: ResourceKind,
        batch: Vec<Attributes>,
    ) -> StoreResult<Vec<String>> {
        self.0.create_many(a, t, k, batch)
    }
    fn get(&self, _: &str, _: ResourceKind, _: &str) -> StoreResult<Resource> {
        Err(StoreError::Backend(
            "syntax error at or near \"SELECT\"".into(),
        ))
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
        self.0.replace(a, t, k, id, attrs, v)
    }
    fn delete(
        &self,
        a: &Actor,
        t: &str,
        k: ResourceKind,
        id: &str,
        v: Option<i64>,
    ) -> StoreResult<()> {
        self.0.delete(a, t, k, id, v)
    }
    fn list(&self, _: &str, _: ResourceKind, _: &ListParams) -> StoreResult<Page> {
        Err(StoreError::Unavailable(
            "timed out waiting for connection".into(),
        ))
    }
}

impl LogRepo for Failing {
    fn list_log(&self, t: &str, q: &LogQuery) -> StoreResult<Vec<LogEntry>> {
        self.0.list_log(t, q)
    }
}

impl SettingsRepo for Failing {
    fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        self.0.get_setting(key)
    }
    fn get_or_init_setting(&self, key: &str, value: &str) -> StoreResult<String> {
        self.0.get_or_init_setting(key, value)
    }
}

impl Store for Failing {
    fn session(&self, access: Access) -> StoreResult<Box<dyn Session + '_>> {
        self.0.session(access)
    }
    fn capacity(&self) -> SessionCapacity {
        self.0.capacity()
    }
    fn ping(&self) -> StoreResult<()> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    fn backend_name(&self) -> &'static str {
        "failing"
    }
}

#[actix_web::test]
async fn store_failures_map_to_503_and_500() {
    let mut app = TestApp::new().await;
    let failing: Arc<dyn Store> = Arc::new(Failing(Arc::clone(&app.state.store)));
    app.state = AppState::new(
        failing,
        app.state.signer.clone(),
        app.state.public_url.clone(),
        app.state.limits,
    );
    let r = app.call("GET", "/Users?startIndex=1&count=2", None).await;
    r.expect_error(503);
    assert_eq!(r.header("retry-after"), Some("1"));
    let r = app.call("GET", "/Users/some-id", None).await;
    let v = r.expect_error(500);
    let detail = v["detail"].as_str().unwrap();
    assert!(
        !detail.contains("SELECT") && !detail.contains("syntax"),
        "{detail}"
    );
    let r = app.send(TestRequest::get().uri("/readyz")).await;
    assert_eq!(r.status.as_u16(), 503);
    // Liveness does not depend on the database.
    let r = app.send(TestRequest::get().uri("/healthz")).await;
    assert_eq!(r.status.as_u16(), 200);
}
