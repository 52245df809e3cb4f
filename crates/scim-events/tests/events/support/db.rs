//! Real stores for the delivery tests: a temp SQLite file, or a throw-away PostgreSQL
//! schema (skipped loudly without `SCIM_TEST_DATABASE_URL`, failing under `CI=true`), and
//! the NATS server of `SCIM_TEST_NATS_URL` under the same rule.

use super::Feed;
use diesel::{Connection, RunQueryDsl};
use scim_core::ResourceKind;
use scim_core::resource::parse_resource;
use scim_store::{
    Actor, DieselStore, EventRepo, ResourceRepo, SettingsRepo, StoreConfig, TenantRepo,
};
use std::sync::Arc;
use std::time::Duration;

/// A store on a database that exists for one test only, with one tenant.
pub struct TestDb {
    pub store: Arc<DieselStore>,
    pub config: StoreConfig,
    pub tenant: String,
    _cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Schema { admin_url: String, schema: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::Schema { admin_url, schema } = self
            && let Ok(mut c) = diesel::PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&mut c);
        }
    }
}

fn config(url: String) -> StoreConfig {
    StoreConfig {
        pool_size: 8,
        min_idle: Some(1),
        connection_timeout: Duration::from_secs(20),
        ..StoreConfig::new(url)
    }
}

fn with_tenant(store: DieselStore, config: StoreConfig, cleanup: Cleanup) -> TestDb {
    let tenant = store.create_tenant("acme").unwrap().id;
    TestDb {
        store: Arc::new(store),
        config,
        tenant,
        _cleanup: cleanup,
    }
}

/// A fresh SQLite database file in a temp directory.
pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("scim.db").display());
    let config = config(url);
    let store = DieselStore::open(&config).unwrap();
    with_tenant(store, config, Cleanup::Dir(dir))
}

fn required(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!(
                    "{var} is not set: the {what} delivery tests cannot be skipped under CI=true"
                );
            }
            eprintln!(
                "\n*** SKIP: {var} is not set; {what} delivery test not run (use scripts/test) ***\n"
            );
            None
        }
    }
}

/// A fresh schema in the PostgreSQL test database, selected through `search_path`.
pub fn postgres() -> Option<TestDb> {
    let admin_url = required("SCIM_TEST_DATABASE_URL", "PostgreSQL")?;
    let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
    diesel::sql_query(format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .unwrap();
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{sep}options=-csearch_path%3D{schema}");
    let config = config(url);
    let store = DieselStore::open(&config).unwrap();
    Some(with_tenant(
        store,
        config,
        Cleanup::Schema { admin_url, schema },
    ))
}

/// The NATS server URL, or `None` (with a loud SKIP; a failure under `CI=true`).
pub fn nats_url() -> Option<String> {
    required("SCIM_TEST_NATS_URL", "NATS")
}

impl TestDb {
    /// Another store (its own pools) on the same database: a second replica.
    pub fn replica(&self) -> Arc<DieselStore> {
        Arc::new(DieselStore::open(&self.config).unwrap())
    }
}

impl Feed for TestDb {
    fn name(&self) -> &'static str {
        self.store.backend()
    }
    fn events(&self) -> Arc<dyn EventRepo> {
        self.store.clone()
    }
    fn settings(&self) -> Arc<dyn SettingsRepo> {
        self.store.clone()
    }
    fn tenant(&self) -> String {
        self.tenant.clone()
    }
    fn commit_one(&self, label: &str) {
        let attrs = parse_resource(
            ResourceKind::User,
            &serde_json::json!({"userName": format!("{label}-{}", uuid::Uuid::new_v4().simple())}),
        )
        .unwrap();
        self.store
            .create(&Actor::default(), &self.tenant, ResourceKind::User, attrs)
            .unwrap();
    }
}
