//! The end-to-end harness: a fresh database (SQLite temp file or a new PostgreSQL
//! database), the real `scim-server` binary on a free port, the CLI for tenants and tokens,
//! and a tiny HTTP/1.1 client over `TcpStream`.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_scim-server");

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database; dropped (PostgreSQL) or deleted (SQLite) at the end.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
}

impl TestDb {
    /// A fresh database, or `None` when the backend is unavailable here (PostgreSQL
    /// without `SCIM_TEST_DATABASE_URL`; that fails under `CI=true`).
    pub fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/scim.db", dir.path().display());
                Some(TestDb {
                    url,
                    _dir: Some(dir),
                    pg_drop: None,
                })
            }
            Backend::Postgres => {
                let Ok(admin) = std::env::var("SCIM_TEST_DATABASE_URL") else {
                    if std::env::var("CI").is_ok_and(|v| v == "true") {
                        panic!(
                            "SCIM_TEST_DATABASE_URL is not set under CI=true: PostgreSQL e2e tests cannot run"
                        );
                    }
                    eprintln!(
                        "SKIPPING PostgreSQL e2e test: SCIM_TEST_DATABASE_URL is not set (run scripts/test)"
                    );
                    return None;
                };
                use diesel::{Connection, RunQueryDsl};
                let name = format!("scim_e2e_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::PgConnection::establish(&admin)
                    .unwrap_or_else(|e| panic!("cannot connect to SCIM_TEST_DATABASE_URL: {e}"));
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap().to_string();
                Some(TestDb {
                    url: format!("{base}/{name}"),
                    _dir: None,
                    pg_drop: Some((admin, name)),
                })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg_drop.take() {
            use diesel::{Connection, RunQueryDsl};
            if let Ok(mut conn) = diesel::PgConnection::establish(&admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

/// Runs the CLI against `db` and returns its standard output (panics on failure).
pub fn cli(db_url: &str, public_url: &str, args: &[&str]) -> String {
    let out = cli_output(db_url, public_url, args);
    assert!(
        out.status.success(),
        "scim-server {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the CLI against `db` and returns whatever it did (exit status, stdout, stderr).
pub fn cli_output(db_url: &str, public_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("SCIM_DATABASE_URL", db_url)
        .env("SCIM_PUBLIC_URL", public_url)
        .env("SCIM_LOG_LEVEL", "warn")
        .env_remove("RUST_LOG")
        .env_remove("SCIM_TOKEN_SIGNING_KEY")
        .output()
        .unwrap()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running server on a fresh database (or, for [`Server::replica`], on another server's
/// database); killed on drop.
pub struct Server {
    pub db: std::sync::Arc<TestDb>,
    pub addr: String,
    pub public_url: String,
    env: Vec<(String, String)>,
    stderr_file: Option<std::path::PathBuf>,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tenant created through the CLI, with its token.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: String,
    /// `/scim/v2/<id>`
    pub base: String,
    pub token: String,
}

impl Server {
    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(Instant::now() < deadline, "scim-server ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `kill -9`: the process dies at once, mid-request, without any clean-up.
    pub fn kill9(&mut self) {
        self.child.kill().unwrap(); // SIGKILL on Unix
        let _ = self.child.wait();
    }

    /// Starts the binary again on the same database, address and settings (after
    /// [`Server::kill9`] or [`Server::terminate`]).
    pub fn restart(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let child = spawn(
                &self.db.url,
                &self.addr,
                &self.env,
                self.stderr_file.as_deref(),
            );
            if let Some(child) = wait_healthy(child, &self.addr) {
                self.child = child;
                return;
            }
            // The port may still be held for a moment by the dead process's sockets.
            assert!(
                Instant::now() < deadline,
                "scim-server did not restart on {}",
                self.addr
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Starts the binary on `backend`, or `None` when the backend is unavailable.
    pub fn start(backend: Backend) -> Option<Server> {
        Self::start_with(backend, &[], None)
    }

    /// Starts the binary with extra environment variables, its standard error going to
    /// `stderr_file` when given.
    pub fn start_with(
        backend: Backend,
        extra_env: &[(&str, &str)],
        stderr_file: Option<&std::path::Path>,
    ) -> Option<Server> {
        let db = TestDb::new(backend)?;
        // Migrate once first so the server start is quick and errors are clear.
        let _ = cli(&db.url, "http://unused", &["migrate"]);
        Some(Self::launch(
            std::sync::Arc::new(db),
            extra_env,
            stderr_file,
        ))
    }

    /// Two `serve` processes started at the same moment on one fresh database that nothing
    /// has migrated (each migrates on open, as replicas of a new deployment do), their
    /// standard error appended to `a.log` and `b.log` in `log_dir`; `None` when the backend
    /// is unavailable. Panics, with the failed process's log, unless both come up.
    pub fn start_pair(
        backend: Backend,
        extra_env: &[(&str, &str)],
        log_dir: &std::path::Path,
    ) -> Option<(Server, Server)> {
        let db = std::sync::Arc::new(TestDb::new(backend)?);
        Some(Self::start_pair_on(db, extra_env, log_dir))
    }

    /// Like [`Server::start_pair`], on `db` as it is.
    pub fn start_pair_on(
        db: std::sync::Arc<TestDb>,
        extra_env: &[(&str, &str)],
        log_dir: &std::path::Path,
    ) -> (Server, Server) {
        let env: Vec<(String, String)> = extra_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let a_port = free_port();
        let b_port = std::iter::repeat_with(free_port)
            .find(|p| *p != a_port)
            .unwrap();
        let mut started = Vec::new();
        for (name, port) in [("a", a_port), ("b", b_port)] {
            let addr = format!("127.0.0.1:{port}");
            let log = log_dir.join(format!("{name}.log"));
            started.push((spawn(&db.url, &addr, &env, Some(&log)), addr, log));
        }
        let mut servers = started.into_iter().map(|(child, addr, log)| {
            let Some(child) = wait_healthy(child, &addr) else {
                panic!(
                    "the replica on {addr} did not come up:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            };
            Server {
                db: db.clone(),
                public_url: format!("http://{addr}"),
                addr,
                env: env.clone(),
                stderr_file: Some(log),
                child,
            }
        });
        let a = servers.next().unwrap();
        let b = servers.next().unwrap();
        (a, b)
    }

    /// The file this server's standard error goes to, if any.
    pub fn log_file(&self) -> Option<&std::path::Path> {
        self.stderr_file.as_deref()
    }

    /// Another process on this server's database, on its own port, with `extra_env`.
    pub fn replica(&self, extra_env: &[(&str, &str)]) -> Server {
        Self::launch(self.db.clone(), extra_env, None)
    }

    /// A server on `db` as it is (nothing migrated first), with `extra_env`.
    pub fn on(db: std::sync::Arc<TestDb>, extra_env: &[(&str, &str)]) -> Server {
        Self::launch(db, extra_env, None)
    }

    /// Like [`Server::on`], its standard error appended to `log`.
    pub fn on_logging(
        db: std::sync::Arc<TestDb>,
        extra_env: &[(&str, &str)],
        log: &std::path::Path,
    ) -> Server {
        Self::launch(db, extra_env, Some(log))
    }

    fn launch(
        db: std::sync::Arc<TestDb>,
        extra_env: &[(&str, &str)],
        stderr_file: Option<&std::path::Path>,
    ) -> Server {
        let env: Vec<(String, String)> = extra_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for _ in 0..5 {
            let addr = format!("127.0.0.1:{}", free_port());
            let child = spawn(&db.url, &addr, &env, stderr_file);
            if let Some(child) = wait_healthy(child, &addr) {
                return Server {
                    db,
                    public_url: format!("http://{addr}"),
                    addr,
                    env,
                    stderr_file: stderr_file.map(|p| p.to_path_buf()),
                    child,
                };
            }
            // Exited or never healthy: the port was probably taken; try another.
        }
        panic!("scim-server did not become healthy");
    }

    /// Creates a tenant and its token through the CLI (`--json` output).
    pub fn tenant(&self, name: &str) -> Tenant {
        let out = cli(
            &self.db.url,
            &self.public_url,
            &["tenant", "create", "--name", name, "--json"],
        );
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["name"], name);
        let id = v["id"].as_str().unwrap().to_string();
        assert_eq!(
            v["tenant_url"].as_str().unwrap(),
            format!("{}/scim/v2/{id}", self.public_url)
        );
        assert_eq!(v.as_object().unwrap().len(), 3, "{v}");
        let token = self.new_token(&id);
        Tenant {
            base: format!("/scim/v2/{id}"),
            id,
            token,
        }
    }

    /// `token generate --tenant ID --json`.
    pub fn new_token(&self, tenant_id: &str) -> String {
        let out = cli(
            &self.db.url,
            &self.public_url,
            &["token", "generate", "--tenant", tenant_id, "--json"],
        );
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["tenant_id"], tenant_id);
        v["token"].as_str().unwrap().to_string()
    }

    /// A request with a raw `Authorization` header value (or none).
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Resp {
        let mut h: Vec<(&str, &str)> = headers.to_vec();
        if let Some(a) = auth {
            h.push(("Authorization", a));
        }
        try_request(&self.addr, method, path, &h, body).unwrap()
    }

    /// A request as `tenant` with `Authorization: Bearer <token>`; `path` is relative to
    /// the tenant base (`/Users`), bodies are sent as Okta does.
    pub fn call(&self, t: &Tenant, method: &str, path: &str, body: Option<&Value>) -> Resp {
        let auth = format!("Bearer {}", t.token);
        let body = body.map(|b| b.to_string());
        let mut headers = vec![("Accept", "application/scim+json")];
        if body.is_some() {
            headers.push(("Content-Type", "application/scim+json; charset=utf-8"));
        }
        self.raw(
            method,
            &format!("{}{path}", t.base),
            Some(&auth),
            &headers,
            body.as_deref(),
        )
    }
}

/// Spawns `scim-server serve` on `db_url` at `addr` (public URL `http://addr`).
fn spawn(
    db_url: &str,
    addr: &str,
    env: &[(String, String)],
    stderr_file: Option<&std::path::Path>,
) -> Child {
    Command::new(BIN)
        .arg("serve")
        .env("SCIM_DATABASE_URL", db_url)
        .env("SCIM_BIND", addr)
        .env("SCIM_PUBLIC_URL", format!("http://{addr}"))
        .env("SCIM_WORKERS", "2")
        .env(
            "SCIM_LOG_LEVEL",
            std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .env("SCIM_MAX_BODY_BYTES", "262144")
        // Load tests run one tenant flat out; the rate limit's own test turns it on.
        .env("SCIM_RATE_LIMIT_PER_TENANT", "0")
        .env_remove("RUST_LOG")
        .env_remove("SCIM_TOKEN_SIGNING_KEY")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(match stderr_file {
            // Appended, so a restart keeps the first run's lines.
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .unwrap(),
            ),
            None => Stdio::inherit(),
        })
        .spawn()
        .unwrap()
}

/// Waits (up to 30 s) until `child` answers `/healthz` on `addr`; `None` (the child
/// killed) when it exits or never does.
fn wait_healthy(mut child: Child, addr: &str) -> Option<Child> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return None;
        }
        if let Ok(r) = try_request(addr, "GET", "/healthz", &[], None)
            && r.status == 200
        {
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts the status (printing the body otherwise) and returns the JSON body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// Asserts a SCIM error response with `status`.
    #[track_caller]
    pub fn expect_error(&self, status: u16) -> Value {
        let v = self.expect(status);
        assert_eq!(self.header("content-type"), Some("application/scim+json"));
        assert_eq!(
            v["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
        assert_eq!(v["status"], status.to_string());
        assert!(!v["detail"].as_str().unwrap_or("").is_empty());
        v
    }
}

/// Sends one HTTP/1.1 request with `Connection: close` and reads the whole response.
pub fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<Resp> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nUser-Agent: Okta SCIM Client 1.0.0\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(pos) = rest[i..].windows(2).position(|w| w == b"\r\n") {
            let size_line = String::from_utf8_lossy(&rest[i..i + pos]).into_owned();
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("0").trim(), 16)
                .unwrap_or(0);
            i += pos + 2;
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[i..(i + size).min(rest.len())]);
            i += size + 2;
        }
        rest = out;
    }
    Ok(Resp {
        status,
        headers,
        body: rest,
    })
}

/// Percent-encodes a query value (as Okta does: spaces as `%20`).
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Statements run straight on a test database (to set up what an earlier release left).
pub fn db_execute(db_url: &str, sql: &str) {
    use diesel::{Connection, RunQueryDsl};
    let result =
        match db_url.strip_prefix("sqlite://") {
            Some(path) => diesel::sql_query(sql)
                .execute(&mut diesel::SqliteConnection::establish(path).unwrap()),
            None => diesel::sql_query(sql)
                .execute(&mut diesel::PgConnection::establish(db_url).unwrap()),
        };
    result.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Every non-null value of one text-castable query column `v`, run straight on a test
/// database.
pub fn db_texts(db_url: &str, sql: &str) -> Vec<String> {
    use diesel::{Connection, QueryableByName, RunQueryDsl};
    #[derive(QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        v: Option<String>,
    }
    let query = diesel::sql_query(sql);
    let rows: Vec<V> = match db_url.strip_prefix("sqlite://") {
        Some(path) => query.load(&mut diesel::SqliteConnection::establish(path).unwrap()),
        None => query.load(&mut diesel::PgConnection::establish(db_url).unwrap()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter().filter_map(|r| r.v).collect()
}

/// One count (`SELECT count(*) AS n …`) run straight on a test database, beside the
/// server: for invariants the API cannot show (rows without their log row, and so on).
pub fn db_count(db_url: &str, sql: &str) -> i64 {
    use diesel::{Connection, QueryableByName, RunQueryDsl};
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let query = diesel::sql_query(sql);
    match db_url.strip_prefix("sqlite://") {
        Some(path) => {
            query
                .get_result::<N>(&mut diesel::SqliteConnection::establish(path).unwrap())
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .n
        }
        None => {
            query
                .get_result::<N>(&mut diesel::PgConnection::establish(db_url).unwrap())
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .n
        }
    }
}

/// The lines of a server log that tell of a failure: errors, panics, a locked SQLite
/// database, a migration problem. (Not a start that found its port still taken by the
/// process just killed: that is the harness's port, and [`Server::restart`] tries again.)
pub fn failure_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| !l.contains("cannot listen on"))
        .filter(|l| {
            let lower = l.to_lowercase();
            l.contains("ERROR")
                || lower.starts_with("error")
                || lower.contains("panicked")
                || lower.contains("database is locked")
                || lower.contains("migration")
        })
        .collect()
}

/// A small seeded generator (SplitMix64): tests that choose at random print their seed
/// and take it back from the environment, so a failure can be replayed.
pub struct Rng(u64);

impl Rng {
    /// The seed from `var` when set, otherwise from the clock; printed either way.
    pub fn from_env(var: &str) -> Rng {
        let seed = std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("random seed {seed} (replay with {var}={seed})");
        Rng(seed)
    }

    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Runs `f` on SQLite and, when available, on PostgreSQL.
pub fn on_both(f: impl Fn(&Server)) {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if let Some(server) = Server::start(backend) {
            eprintln!("-- backend {backend:?}");
            f(&server);
        }
    }
}
