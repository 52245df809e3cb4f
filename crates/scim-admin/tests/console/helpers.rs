//! The in-process console: a store (a temporary SQLite file, or a throw-away PostgreSQL
//! schema), an operator, and a cookie-keeping client.

use actix_web::App;
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::{self, TestRequest};
use scim_admin::AdminState;
use scim_http::{AppState, CursorKey, Limits};
use scim_store::{AdminStore, DieselStore, StoreConfig};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery staple";
pub const PUBLIC: &str = "http://console.test";

pub struct Console {
    pub admin: AdminState,
    /// The same store as `admin`'s, as the delivery worker takes it.
    pub db: Arc<DieselStore>,
    place: Place,
    /// The database URL (a replica opens it again).
    url: String,
}

/// Which database a console runs on.
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
                    "SCIM_TEST_DATABASE_URL is not set: the PostgreSQL console tests cannot be skipped under CI=true"
                );
            }
            eprintln!(
                "\n*** SKIP: SCIM_TEST_DATABASE_URL is not set; console test not run on PostgreSQL (use scripts/test) ***\n"
            );
            vec![Backend::Sqlite]
        }
    }
}

/// Where a console's database lives, removed with it.
enum Place {
    Dir(tempfile::TempDir),
    Schema {
        admin_url: String,
        schema: String,
    },
    /// Another console's database (a replica): the owner removes it.
    Shared,
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
                let schema = format!("console_{}", uuid::Uuid::new_v4().simple());
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
    pub body: String,
}

impl Resp {
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        self
    }

    /// The session's CSRF token from a page's hidden field.
    pub fn csrf(&self) -> String {
        hidden(&self.body, "csrf").unwrap_or_else(|| panic!("no csrf field in {}", self.body))
    }
}

/// The value of the input with id `id` (a secret shown once: a token, a signing secret).
pub fn input_value(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\" type=\"text\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {id} in {html}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// The value of the hidden input `name` in `html`.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

/// A browser-like client: keeps cookies.
#[derive(Default, Clone)]
pub struct Client {
    pub cookies: BTreeMap<String, String>,
    pub bearer: Option<String>,
}

impl Console {
    /// A console on SQLite.
    pub fn new() -> Console {
        Console::on(Backend::Sqlite)
    }

    /// A console on a fresh database of `backend`.
    pub fn on(backend: Backend) -> Console {
        let (place, url) = Place::new(backend);
        let store = DieselStore::open(&StoreConfig::new(url.clone())).unwrap();
        let cursor_key = CursorKey::from_bytes([7; 32]);
        let store = Arc::new(store);
        let app = AppState::new(store.clone(), cursor_key, PUBLIC, Limits::default());
        let admin = AdminState::load(app, store.clone()).unwrap();
        Console {
            admin,
            db: store,
            place,
            url,
        }
    }

    /// A console whose process runs a delivery worker (spawned: it delivers on its own),
    /// with small backoffs so that retries in tests come quickly, and `retry_window` (after
    /// it, failing subscriptions are disabled).
    pub async fn delivering(
        backend: Backend,
        retry_window: std::time::Duration,
    ) -> (Console, scim_events::Deliverer, scim_events::WorkerHandle) {
        let mut c = Console::on(backend);
        let config = scim_events::DeliveryConfig {
            public_url: PUBLIC.into(),
            owner: "console-test".into(),
            poll_interval: std::time::Duration::from_millis(100),
            min_backoff: std::time::Duration::from_millis(50),
            max_backoff: std::time::Duration::from_millis(200),
            request_timeout: std::time::Duration::from_secs(5),
            retry_window,
            ..scim_events::DeliveryConfig::default()
        };
        let store: Arc<dyn scim_store::Store> = c.db.clone();
        let deliverer = scim_events::Deliverer::new(store, config).await.unwrap();
        let worker = deliverer.spawn();
        c.admin = c.admin.clone().with_deliverer(deliverer.clone());
        (c, deliverer, worker)
    }

    /// Every byte of the database files (the main file and its write-ahead log): SQLite
    /// consoles only.
    pub fn db_bytes(&self) -> Vec<u8> {
        let Place::Dir(dir) = &self.place else {
            panic!("db_bytes reads a SQLite console's files");
        };
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            out.extend(std::fs::read(entry.unwrap().path()).unwrap_or_default());
        }
        out
    }

    /// An admin API call with a JSON body (or none).
    pub async fn api(
        &self,
        client: &mut Client,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Resp {
        let mut req = TestRequest::default()
            .method(method.parse().unwrap())
            .uri(path);
        if let Some(b) = body {
            req = req
                .insert_header(("Content-Type", "application/json"))
                .set_payload(b.to_string());
        }
        self.send(client, req).await
    }

    /// An operator's API client.
    pub fn operator_api(&self, email: &str) -> Client {
        Client {
            bearer: Some(self.api_token(email)),
            ..Client::default()
        }
    }

    pub fn store(&self) -> &dyn AdminStore {
        self.admin.store()
    }

    pub fn tenant(&self, name: &str) -> String {
        self.store().create_tenant(name).unwrap().id
    }

    /// An organization with its SCIM token: `(id, token)`.
    pub fn tenant_with_token(&self, name: &str) -> (String, String) {
        let org = self.tenant(name);
        let token = scim_http::generate_token(self.store(), &org).unwrap().token;
        (org, token)
    }

    pub fn account(&self, email: &str, tenant: Option<&str>) {
        scim_admin::accounts::create_account(self.store(), email, PASSWORD, tenant).unwrap();
    }

    pub fn api_token(&self, email: &str) -> String {
        let a = self.store().find_admin_by_email(email).unwrap().unwrap();
        self.admin.issue_api_token(&a).unwrap()
    }

    pub async fn send(&self, client: &mut Client, req: TestRequest) -> Resp {
        let app = test::init_service(
            App::new()
                .configure(scim_admin::configure(self.admin.clone()))
                .configure(scim_http::configure(self.admin.app.clone())),
        )
        .await;
        let mut req = req;
        if !client.cookies.is_empty() {
            let c: Vec<String> = client
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.insert_header(("Cookie", c.join("; ")));
        }
        if let Some(b) = &client.bearer {
            req = req.insert_header(("Authorization", format!("Bearer {b}")));
        }
        let resp = test::call_service(&app, req.to_request()).await;
        let status = resp.status();
        let headers = resp.headers().clone();
        for v in headers.get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (kv, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=').unwrap();
            if val.is_empty() {
                client.cookies.remove(k);
            } else {
                client.cookies.insert(k.to_string(), val.to_string());
            }
        }
        let body = String::from_utf8_lossy(&test::read_body(resp).await).into_owned();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, client: &mut Client, path: &str) -> Resp {
        self.send(client, TestRequest::get().uri(path)).await
    }

    pub async fn post_form(&self, client: &mut Client, path: &str, form: &[(&str, &str)]) -> Resp {
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        self.send(
            client,
            TestRequest::post()
                .uri(path)
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(body.join("&")),
        )
        .await
    }

    /// Signs in through the form; returns the response of the POST.
    pub async fn sign_in_as(&self, client: &mut Client, email: &str, password: &str) -> Resp {
        self.get(client, "/admin/sign-in").await.expect(200);
        let token = client
            .cookies
            .get("scim_admin_form")
            .cloned()
            .unwrap_or_default();
        self.post_form(
            client,
            "/admin/sign-in",
            &[
                ("form_token", &token),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// A signed-in client.
    pub async fn signed_in(&self, email: &str) -> Client {
        let mut c = Client::default();
        let r = self.sign_in_as(&mut c, email, PASSWORD).await;
        r.expect(303);
        assert!(c.cookies.contains_key("scim_admin_session"));
        c
    }

    /// A SCIM request with the tenant token.
    pub async fn scim(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Resp {
        let mut req = TestRequest::default()
            .method(method.parse().unwrap())
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {token}")));
        if let Some(b) = body {
            req = req
                .insert_header(("Content-Type", "application/scim+json"))
                .set_payload(b.to_string());
        }
        self.send(&mut Client::default(), req).await
    }
}

pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Replicas, raw SQL and sign-ins from a given client address.
impl Console {
    /// Another process on this console's database: its own store (pool), state and
    /// sign-in limits, as a second replica has.
    pub fn replica(&self) -> Console {
        let store = Arc::new(DieselStore::open(&StoreConfig::new(self.url.clone())).unwrap());
        let cursor_key = CursorKey::from_bytes([7; 32]);
        let app = AppState::new(store.clone(), cursor_key, PUBLIC, Limits::default());
        let admin = AdminState::load(app, store.clone()).unwrap();
        Console {
            admin,
            db: store,
            place: Place::Shared,
            url: self.url.clone(),
        }
    }

    /// The same console with the sign-in limits of `config`.
    pub fn with_sign_in(mut self, config: scim_admin::SignInConfig) -> Console {
        self.admin = self.admin.clone().with_sign_in(config);
        self
    }

    /// Runs one SQL statement on the console's database (a state the API never makes).
    pub fn sql(&self, sql: &str) {
        use diesel::{Connection, RunQueryDsl};
        match self.url.strip_prefix("sqlite://") {
            Some(path) => {
                let mut c = diesel::SqliteConnection::establish(path).unwrap();
                diesel::sql_query(sql).execute(&mut c).unwrap();
            }
            None => {
                let mut c = diesel::PgConnection::establish(&self.url).unwrap();
                diesel::sql_query(sql).execute(&mut c).unwrap();
            }
        }
    }

    /// One sign-in POST from `peer` with extra headers (e.g. `X-Forwarded-For`), with a
    /// form token of its own (no GET first); `client` keeps the cookies.
    pub async fn sign_in_from(
        &self,
        client: &mut Client,
        peer: &str,
        headers: &[(&str, &str)],
        email: &str,
        password: &str,
    ) -> Resp {
        let token = "f".repeat(32);
        client
            .cookies
            .insert("scim_admin_form".into(), token.clone());
        let body = format!(
            "form_token={token}&email={}&password={}",
            enc(email),
            enc(password)
        );
        let mut req = TestRequest::post()
            .uri("/admin/sign-in")
            .peer_addr(peer.parse().unwrap())
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(body);
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        self.send(client, req).await
    }
}
