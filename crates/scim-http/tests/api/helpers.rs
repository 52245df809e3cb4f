//! The in-process test app: a real `DieselStore` on a temporary SQLite file (or, for the
//! tests that run on both backends, a throw-away PostgreSQL schema), a tenant with a token,
//! and a helper that sends requests through `actix_web::test`.

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::{self, TestRequest};
use actix_web::{App, web::Bytes};
use scim_http::{AppState, CursorKey, Limits, configure, generate_token};
use scim_store::{DieselStore, Store, StoreConfig, TenantRepo as _};
use serde_json::Value;
use std::sync::Arc;

/// The key of the JWTs earlier releases signed (the legacy upgrade tests).
pub const SIGNING_KEY: &[u8] = b"an-in-process-test-signing-key-of-32+bytes";
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

pub struct TestApp {
    pub state: AppState,
    /// The same store as `state`'s, for raw SQL.
    pub db: Arc<DieselStore>,
    pub tenant: String,
    pub token: String,
    _place: Place,
}

/// Which database an app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// SQLite always, and PostgreSQL when `SCIM_TEST_DATABASE_URL` is set (`scripts/test` sets
/// it): without it a loud SKIP, and a failure under `CI=true`.
pub fn backends() -> Vec<Backend> {
    match std::env::var("SCIM_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => vec![Backend::Sqlite, Backend::Postgres],
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!(
                    "SCIM_TEST_DATABASE_URL is not set: the PostgreSQL HTTP tests cannot be skipped under CI=true"
                );
            }
            eprintln!(
                "\n*** SKIP: SCIM_TEST_DATABASE_URL is not set; HTTP test not run on PostgreSQL (use scripts/test) ***\n"
            );
            vec![Backend::Sqlite]
        }
    }
}

/// Where an app's database lives, removed with it.
enum Place {
    Dir(tempfile::TempDir),
    Schema { admin_url: String, schema: String },
}

impl Drop for Place {
    fn drop(&mut self) {
        use diesel::{Connection, RunQueryDsl};
        if let Place::Schema { admin_url, schema } = self
            && let Ok(mut c) = diesel::PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&mut c);
        }
    }
}

impl Place {
    /// A fresh database: its place and URL.
    fn new(backend: Backend) -> (Place, String) {
        use diesel::{Connection, RunQueryDsl};
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/scim.db", dir.path().display());
                (Place::Dir(dir), url)
            }
            Backend::Postgres => {
                let admin_url = std::env::var("SCIM_TEST_DATABASE_URL").unwrap();
                let schema = format!("http_{}", uuid::Uuid::new_v4().simple());
                let mut c = diesel::PgConnection::establish(&admin_url).unwrap();
                diesel::sql_query(format!("CREATE SCHEMA {schema}"))
                    .execute(&mut c)
                    .unwrap();
                let sep = if admin_url.contains('?') { '&' } else { '?' };
                let url = format!("{admin_url}{sep}options=-csearch_path%3D{schema}");
                (Place::Schema { admin_url, schema }, url)
            }
        }
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {:?}",
                self.status, self.body
            )
        })
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        if self.body.is_empty() {
            Value::Null
        } else {
            assert_eq!(self.header("content-type"), Some("application/scim+json"));
            self.json()
        }
    }

    /// A SCIM error body with `status`.
    #[track_caller]
    pub fn expect_error(&self, status: u16) -> Value {
        let v = self.expect(status);
        assert_eq!(
            v["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
            "{v}"
        );
        assert_eq!(v["status"], status.to_string(), "{v}");
        assert!(!v["detail"].as_str().unwrap_or("").is_empty(), "{v}");
        v
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_limits(Limits::default()).await
    }

    pub async fn with_limits(limits: Limits) -> TestApp {
        Self::on(Backend::Sqlite, limits)
    }

    /// An app on `backend`.
    pub fn on(backend: Backend, limits: Limits) -> TestApp {
        Self::configured(backend, limits, |_| {})
    }

    /// An app on SQLite whose statements wait at most `busy_timeout` for a lock.
    pub fn with_busy_timeout(busy_timeout: std::time::Duration) -> TestApp {
        Self::configured(Backend::Sqlite, Limits::default(), |c| {
            c.busy_timeout = busy_timeout;
        })
    }

    /// The SQLite database file (SQLite apps only).
    pub fn sqlite_path(&self) -> std::path::PathBuf {
        match &self._place {
            Place::Dir(dir) => dir.path().join("scim.db"),
            Place::Schema { .. } => panic!("not a SQLite app"),
        }
    }

    fn configured(
        backend: Backend,
        limits: Limits,
        tune: impl FnOnce(&mut StoreConfig),
    ) -> TestApp {
        let (place, url) = Place::new(backend);
        let mut config = StoreConfig::new(url);
        tune(&mut config);
        let store = Arc::new(DieselStore::open(&config).unwrap());
        let tenant = store.create_tenant("Acme").unwrap().id;
        let token = generate_token(store.as_ref(), &tenant).unwrap().token;
        let cursor_key = CursorKey::load(store.as_ref()).unwrap();
        let dyn_store: Arc<dyn Store> = store.clone();
        let state = AppState::new(dyn_store, cursor_key, "https://scim.example.com/", limits);
        TestApp {
            state,
            db: store,
            tenant,
            token,
            _place: place,
        }
    }

    /// Another tenant of the same server, with its token.
    pub fn other_tenant(&self, name: &str) -> (String, String) {
        let id = self.state.store.create_tenant(name).unwrap().id;
        let token = generate_token(self.state.store.as_ref(), &id)
            .unwrap()
            .token;
        (id, token)
    }

    pub fn base(&self) -> String {
        format!("/scim/v2/{}", self.tenant)
    }

    /// Sends a raw request.
    pub async fn send(&self, req: TestRequest) -> Resp {
        let app = test::init_service(App::new().configure(configure(self.state.clone()))).await;
        let resp = test::call_service(&app, req.to_request()).await;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = test::read_body(resp).await;
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A request to `<base><path>` with the tenant's bearer token and an optional JSON body.
    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        let mut req = TestRequest::default()
            .method(method.parse().unwrap())
            .uri(&format!("{}{path}", self.base()))
            .insert_header(("Authorization", format!("Bearer {}", self.token)));
        if let Some(b) = body {
            req = req
                .insert_header(("Content-Type", "application/scim+json; charset=utf-8"))
                .set_payload(b.to_string());
        }
        self.send(req).await
    }

    /// Creates a user and returns its id.
    pub async fn user(&self, user_name: &str) -> String {
        let v = self
            .call(
                "POST",
                "/Users",
                Some(&serde_json::json!({
                    "userName": user_name,
                    "name": {"givenName": "G", "familyName": "F"},
                    "emails": [{"value": user_name, "type": "work", "primary": true}],
                    "active": true
                })),
            )
            .await
            .expect(201);
        v["id"].as_str().unwrap().to_string()
    }
}

/// A request to tenant `tenant` with `token`.
pub async fn call_as(
    app: &TestApp,
    (tenant, token): (&str, &str),
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Resp {
    let mut req = TestRequest::default()
        .method(method.parse().unwrap())
        .uri(&format!("/scim/v2/{tenant}{path}"))
        .insert_header(("Authorization", format!("Bearer {token}")));
    if let Some(b) = body {
        req = req
            .insert_header(("Content-Type", "application/scim+json"))
            .set_payload(b.to_string());
    }
    app.send(req).await
}
