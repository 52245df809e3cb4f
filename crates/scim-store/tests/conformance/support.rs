//! Test databases: a temp SQLite file, or a throw-away PostgreSQL schema.

use diesel::{Connection, RunQueryDsl};
use scim_core::ResourceKind;
use scim_core::resource::{Attributes, Resource, parse_resource};
use scim_store::{Actor, DieselStore, ResourceRepo, StoreConfig, TenantRepo};
use serde_json::Value;
use std::ops::Deref;
use std::time::Duration;

/// A store on a database that exists for one test only.
pub struct TestDb {
    pub store: DieselStore,
    pub config: StoreConfig,
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

impl Deref for TestDb {
    type Target = DieselStore;
    fn deref(&self) -> &DieselStore {
        &self.store
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

/// A fresh SQLite database file in a temp directory.
pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("scim.db").display());
    let config = config(url);
    let store = DieselStore::open(&config).unwrap();
    TestDb {
        store,
        config,
        _cleanup: Cleanup::Dir(dir),
    }
}

/// The PostgreSQL admin URL, or `None` (with a loud SKIP; a failure under `CI=true`).
pub fn postgres_url() -> Option<String> {
    match std::env::var("SCIM_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!(
                    "SCIM_TEST_DATABASE_URL is not set: the PostgreSQL conformance tests cannot be skipped under CI=true"
                );
            }
            eprintln!(
                "\n*** SKIP: SCIM_TEST_DATABASE_URL is not set; PostgreSQL conformance test not run (use scripts/test) ***\n"
            );
            None
        }
    }
}

/// An empty, unmigrated schema in the PostgreSQL test database, selected through
/// `search_path` in its URL; dropped with the value.
pub struct PgSchema {
    pub config: StoreConfig,
    cleanup: Cleanup,
}

/// A fresh empty schema, or `None` (SKIP) without PostgreSQL.
pub fn postgres_schema() -> Option<PgSchema> {
    let admin_url = postgres_url()?;
    let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
    diesel::sql_query(format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .unwrap();
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{sep}options=-csearch_path%3D{schema}");
    Some(PgSchema {
        config: config(url),
        cleanup: Cleanup::Schema { admin_url, schema },
    })
}

/// A fresh schema in the PostgreSQL test database, selected through `search_path`.
pub fn postgres() -> Option<TestDb> {
    let PgSchema { config, cleanup } = postgres_schema()?;
    let store = DieselStore::open(&config).unwrap();
    Some(TestDb {
        store,
        config,
        _cleanup: cleanup,
    })
}

/// Canonical user attributes from a client-style body.
pub fn user_attrs(body: Value) -> Attributes {
    parse_resource(ResourceKind::User, &body).unwrap()
}

/// Canonical group attributes from a client-style body.
pub fn group_attrs(body: Value) -> Attributes {
    parse_resource(ResourceKind::Group, &body).unwrap()
}

pub fn actor() -> Actor {
    Actor {
        token_id: Some("tok-1".into()),
        ..Default::default()
    }
}

pub fn tenant(db: &TestDb) -> String {
    db.create_tenant("acme").unwrap().id
}

pub fn create_user(db: &TestDb, tenant: &str, user_name: &str) -> Resource {
    db.create(
        &actor(),
        tenant,
        ResourceKind::User,
        user_attrs(serde_json::json!({ "userName": user_name })),
    )
    .unwrap()
}

pub fn create_group(db: &TestDb, tenant: &str, name: &str, members: &[&str]) -> Resource {
    let members: Vec<Value> = members
        .iter()
        .map(|m| serde_json::json!({ "value": m }))
        .collect();
    db.create(
        &actor(),
        tenant,
        ResourceKind::Group,
        group_attrs(serde_json::json!({ "displayName": name, "members": members })),
    )
    .unwrap()
}

/// Runs one SQL statement on the test database through a connection of its own (for a
/// test that needs a state the API never produces).
pub fn raw_sql(db: &TestDb, sql: &str) {
    let url = &db.config.database_url;
    match url.strip_prefix("sqlite://") {
        Some(path) => {
            let mut c = diesel::SqliteConnection::establish(path).unwrap();
            diesel::sql_query(sql).execute(&mut c).unwrap();
        }
        None => {
            let mut c = diesel::PgConnection::establish(url).unwrap();
            diesel::sql_query(sql).execute(&mut c).unwrap();
        }
    };
}
