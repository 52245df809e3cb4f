//! The admin console in real headless Chromium, driven over W3C WebDriver (a minimal
//! hand-written client talking HTTP to `chromedriver`). The test spawns the real
//! `scim-server` binary on a temporary SQLite database and walks the set-up as an
//! administrator does: sign in (account made with `scim-server admin create`), create an
//! organization, open Settings › SAML/SCIM, press Generate, read the Tenant URL and token
//! from the page, provision a user over SCIM with them, see the user and the log entry in
//! the console, deactivate it over SCIM and see its status change, press Generate again
//! (accepting the confirmation) and see the old token rejected and the new one accepted.
//! A PNG screenshot of each page is written under the target directory.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`;
//! `.ci/run` installs them). Without them the test prints a loud SKIP and passes, except
//! under `CI=true`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use serde_json::{Value, json};
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_scim-server");
const EMAIL: &str = "operator@example.test";
const PASSWORD: &str = "correct horse battery staple";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .or_else(|| {
            candidates.iter().find_map(|name| {
                let out = Command::new("which").arg(name).output().ok()?;
                let path = String::from_utf8(out.stdout).ok()?.trim().to_string();
                (!path.is_empty()).then(|| PathBuf::from(path))
            })
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the child on drop.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Resp {
    status: u16,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// One HTTP/1.1 request with `Connection: close` (no chunked bodies are expected).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<Resp> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(90)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
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
    // chromedriver keeps the connection open despite `Connection: close`: read the head,
    // then exactly Content-Length bytes (or to the end when there is none).
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let split = loop {
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::other(
                "connection closed before the header end",
            ));
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let length = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())?
    });
    let mut body = raw[split + 4..].to_vec();
    match length {
        Some(len) => {
            while body.len() < len {
                let n = stream.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&buf[..n]);
            }
            body.truncate(len);
        }
        None => {
            stream.read_to_end(&mut body)?;
        }
    }
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(pos) = body[i..].windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&body[i..i + pos]).trim(), 16)
                .unwrap_or(0);
            i += pos + 2;
            if size == 0 {
                break;
            }
            out.extend_from_slice(&body[i..(i + size).min(body.len())]);
            i += size + 2;
        }
        body = out;
    }
    Ok(Resp { status, body })
}

/// A minimal W3C WebDriver session.
struct Browser {
    addr: String,
    session: String,
    shots: PathBuf,
}

impl Browser {
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        let body = body.map(|b| b.to_string());
        let r = http(
            &self.addr,
            method,
            &path,
            &[("Content-Type", "application/json")],
            body.as_deref(),
        )
        .unwrap();
        let v = r.json();
        assert_eq!(r.status, 200, "WebDriver {method} {path}: {v}");
        v["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({"url": url})));
    }

    fn url(&self) -> String {
        self.cmd("GET", "/url", None).as_str().unwrap().to_string()
    }

    fn source(&self) -> String {
        self.cmd("GET", "/source", None)
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The element matching `css`, waiting up to 20 s for it.
    fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let path = format!("/session/{}/element", self.session);
            let body = json!({"using": "css selector", "value": css}).to_string();
            let r = http(
                &self.addr,
                "POST",
                &path,
                &[("Content-Type", "application/json")],
                Some(&body),
            )
            .unwrap();
            if r.status == 200 {
                let v = r.json();
                return v["value"][ELEMENT]
                    .as_str()
                    .unwrap_or_else(|| panic!("{v}"))
                    .to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no element {css} on {}:\n{}",
                self.url(),
                self.source()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css);
        self.cmd("POST", &format!("/element/{el}/clear"), Some(json!({})));
        self.cmd(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        );
    }

    fn click(&self, css: &str) {
        let el = self.find(css);
        self.cmd("POST", &format!("/element/{el}/click"), Some(json!({})));
    }

    fn value(&self, css: &str) -> String {
        let el = self.find(css);
        self.cmd("GET", &format!("/element/{el}/property/value"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until the page source contains `text`.
    fn wait_for_text(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.source().contains(text) {
            assert!(
                Instant::now() < deadline,
                "'{text}' never appeared on {}:\n{}",
                self.url(),
                self.source()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The text of the open `confirm()` dialog, accepted; waits for it to open.
    fn accept_confirmation(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let path = format!("/session/{}/alert/text", self.session);
            let r = http(&self.addr, "GET", &path, &[], None).unwrap();
            if r.status == 200 {
                let text = r.json()["value"].as_str().unwrap_or_default().to_string();
                self.cmd("POST", "/alert/accept", Some(json!({})));
                return text;
            }
            assert!(Instant::now() < deadline, "no confirmation dialog opened");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn screenshot(&self, name: &str) {
        let b64 = self.cmd("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(
            &self.addr,
            "DELETE",
            &format!("/session/{}", self.session),
            &[],
            None,
        );
    }
}

fn start_chromedriver(
    driver: &Path,
    chromium: &Path,
    profile: &Path,
    shots: PathBuf,
) -> (Guard, Browser) {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
    let guard = Guard(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http(&addr, "GET", "/status", &[], None)
            && r.status == 200
            && r.json()["value"]["ready"] == true
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "unhandledPromptBehavior": "ignore",
        "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    }}});
    let r = http(
        &addr,
        "POST",
        "/session",
        &[("Content-Type", "application/json")],
        Some(&caps.to_string()),
    )
    .unwrap_or_else(|e| panic!("chromedriver did not answer the new session request: {e}"));
    let v = r.json();
    assert_eq!(r.status, 200, "Chromium did not start: {v}");
    let session = v["value"]["sessionId"].as_str().unwrap().to_string();
    (
        guard,
        Browser {
            addr,
            session,
            shots,
        },
    )
}

fn cli(db_url: &str, public_url: &str, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(BIN)
        .args(args)
        .env("SCIM_DATABASE_URL", db_url)
        .env("SCIM_PUBLIC_URL", public_url)
        .env("SCIM_LOG_LEVEL", "warn")
        .env_remove("SCIM_TOKEN_SIGNING_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "scim-server {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn start_server(db_url: &str) -> (Guard, String) {
    for _ in 0..5 {
        let addr = format!("127.0.0.1:{}", free_port());
        let child = Command::new(BIN)
            .arg("serve")
            .env("SCIM_DATABASE_URL", db_url)
            .env("SCIM_BIND", &addr)
            .env("SCIM_PUBLIC_URL", format!("http://{addr}"))
            .env("SCIM_WORKERS", "2")
            .env("SCIM_LOG_LEVEL", "warn")
            .env_remove("SCIM_TOKEN_SIGNING_KEY")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut guard = Guard(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = guard.0.try_wait() {
                break;
            }
            if let Ok(r) = http(&addr, "GET", "/healthz", &[], None)
                && r.status == 200
            {
                return (guard, addr);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!("scim-server did not start");
}

fn scim(addr: &str, token: &str, method: &str, path: &str, body: Option<Value>) -> Resp {
    let auth = format!("Bearer {token}");
    let body = body.map(|b| b.to_string());
    http(
        addr,
        method,
        path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/scim+json"),
        ],
        body.as_deref(),
    )
    .unwrap()
}

#[test]
fn an_administrator_connects_an_organization_in_chromium() {
    let chromium = find_program(&[
        "/usr/bin/chromium",
        "chromium",
        "chromium-browser",
        "google-chrome",
    ]);
    let driver = find_program(&["/usr/bin/chromedriver", "chromedriver"]);
    let (Some(chromium), Some(driver)) = (chromium, driver) else {
        assert!(
            !ci(),
            "chromium and chromedriver are required under CI=true (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "\n*** SKIP: chromium/chromedriver not found; the admin console browser test did not run (apt-get install chromium chromium-driver) ***\n"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let db_url = format!("sqlite://{}/scim.db", dir.path().display());
    let _ = cli(&db_url, "http://unused", &["migrate"], "");
    let created = cli(
        &db_url,
        "http://unused",
        &["admin", "create", "--email", EMAIL],
        &format!("{PASSWORD}\n"),
    );
    assert!(created.contains("Created operator"), "{created}");
    let (_server, addr) = start_server(&db_url);
    let base = format!("http://{addr}");
    let (_driver, b) = start_chromedriver(
        &driver,
        &chromium,
        &dir.path().join("profile"),
        shots.clone(),
    );

    // Sign in.
    b.goto(&format!("{base}/admin"));
    b.find("#email");
    assert!(b.url().ends_with("/admin/sign-in"), "{}", b.url());
    b.type_into("#email", EMAIL);
    b.type_into("#password", PASSWORD);
    b.screenshot("01-sign-in");
    b.click("button[type=submit]");
    b.wait_for_text("Create an organization");

    // Create an organization; the console opens its Settings › SAML/SCIM page.
    b.type_into("#name", "Acme Corp");
    b.screenshot("02-organizations");
    b.click("main button[type=submit]");
    b.wait_for_text("no secret token yet");
    let tenant_url = b.value("#tenant-url");
    assert!(
        tenant_url.starts_with(&format!("{base}/scim/v2/")),
        "{tenant_url}"
    );
    b.screenshot("03-settings-no-token");

    // Generate: the token is shown once.
    b.click("#generate");
    b.wait_for_text("cannot be shown again");
    let token = b.value("#secret-token");
    assert!(token.len() > 40, "{token}");
    b.screenshot("04-settings-new-token");
    let scim_base = tenant_url.strip_prefix(&base).unwrap().to_string();

    // Provision a user over SCIM with what the page showed.
    let r = scim(
        &addr,
        &token,
        "POST",
        &format!("{scim_base}/Users"),
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada.lovelace@example.test",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada.lovelace@example.test", "type": "work", "primary": true}],
            "active": true
        })),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let user_id = r.json()["id"].as_str().unwrap().to_string();
    let r = scim(
        &addr,
        &token,
        "POST",
        &format!("{scim_base}/Groups"),
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Engineering",
            "members": [{"value": user_id}]
        })),
    );
    assert_eq!(r.status, 201);

    // The console shows the user and the log entry.
    let org_path = tenant_url.replace("/scim/v2/", "/admin/organizations/");
    b.goto(&format!("{org_path}/users"));
    b.wait_for_text("ada.lovelace@example.test");
    b.wait_for_text("Active");
    b.screenshot("05-users");
    b.goto(&format!("{org_path}/groups"));
    b.wait_for_text("Engineering");
    b.screenshot("06-groups");
    b.goto(&format!("{org_path}/activity"));
    b.wait_for_text("userName=ada.lovelace@example.test");
    b.screenshot("07-activity");

    // Deactivate over SCIM (as Okta does) and see the status change.
    let r = scim(
        &addr,
        &token,
        "PATCH",
        &format!("{scim_base}/Users/{user_id}"),
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": false}}]
        })),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    b.goto(&format!("{org_path}/users"));
    b.click("#users a");
    b.wait_for_text("Deactivated");
    b.wait_for_text("deactivate");
    b.screenshot("08-user-deactivated");

    // Generate again: confirm, then the old token is refused and the new one accepted.
    b.goto(&format!("{org_path}/settings"));
    b.wait_for_text("Last used");
    b.click("#generate");
    let question = b.accept_confirmation();
    assert!(question.contains("stop working at once"), "{question}");
    b.wait_for_text("The previous token has stopped working");
    let new_token = b.value("#secret-token");
    assert_ne!(new_token, token);
    b.screenshot("09-settings-regenerated");
    let old = scim(&addr, &token, "GET", &format!("{scim_base}/Users"), None);
    assert_eq!(old.status, 401);
    let new = scim(
        &addr,
        &new_token,
        "GET",
        &format!("{scim_base}/Users"),
        None,
    );
    assert_eq!(new.status, 200);
    // The token is not shown again.
    b.goto(&format!("{org_path}/settings"));
    b.wait_for_text("Last used");
    assert!(!b.source().contains(&new_token));
    eprintln!("admin console screenshots: {}", shots.display());
}

/// The command line and the set-up link, against the real binary (no browser needed).
#[test]
fn admin_accounts_from_the_command_line_and_the_set_up_link() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}/scim.db", dir.path().display());
    let _ = cli(&db_url, "http://unused", &["migrate"], "");
    // With no account, serve logs a one-time set-up link that opens the set-up form.
    let log = dir.path().join("serve.log");
    let (server, addr) = start_server_logging(&db_url, &log);
    let text = std::fs::read_to_string(&log).unwrap();
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/admin/setup?code="))
        .unwrap_or_else(|| panic!("no set-up link in the log:\n{text}"));
    let path = link.split_once(&addr).unwrap().1.to_string();
    assert_eq!(http(&addr, "GET", &path, &[], None).unwrap().status, 200);
    assert_eq!(
        http(&addr, "GET", "/admin/setup?code=wrong", &[], None)
            .unwrap()
            .status,
        404
    );
    drop(server);

    // admin create: operator; duplicate (case-insensitive) and short passwords refused.
    let out = cli(
        &db_url,
        "http://unused",
        &["admin", "create", "--email", EMAIL],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.contains("Created operator"), "{out}");
    for (email, password) in [
        (EMAIL.to_uppercase(), PASSWORD),
        ("other@example.test".into(), "short"),
    ] {
        let status = Command::new(BIN)
            .args(["admin", "create", "--email", &email])
            .env("SCIM_DATABASE_URL", &db_url)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .and_then(|mut c| {
                c.stdin
                    .take()
                    .unwrap()
                    .write_all(format!("{password}\n").as_bytes())?;
                c.wait()
            })
            .unwrap();
        assert!(!status.success(), "{email} with {password:?} was accepted");
    }
    let org: Value = serde_json::from_str(&cli(
        &db_url,
        "http://unused",
        &["tenant", "create", "--name", "Acme", "--json"],
        "",
    ))
    .unwrap();
    let org_id = org["id"].as_str().unwrap();
    let out = cli(
        &db_url,
        "http://unused",
        &[
            "admin",
            "create",
            "--email",
            "it@acme.test",
            "--tenant",
            org_id,
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.contains(org_id), "{out}");
    // admin token: works against the running server's API; a new one replaces it.
    let log2 = dir.path().join("serve2.log");
    let (server, addr) = start_server_logging(&db_url, &log2);
    let token = cli(
        &db_url,
        "http://unused",
        &["admin", "token", "--email", "it@acme.test"],
        "",
    )
    .trim()
    .to_string();
    let auth = format!("Bearer {token}");
    let r = http(
        &addr,
        "GET",
        "/admin/api/organizations",
        &[("Authorization", &auth)],
        None,
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["organizations"][0]["id"], org_id);
    let _newer = cli(
        &db_url,
        "http://unused",
        &["admin", "token", "--email", "it@acme.test"],
        "",
    );
    let r = http(
        &addr,
        "GET",
        "/admin/api/organizations",
        &[("Authorization", &auth)],
        None,
    )
    .unwrap();
    assert_eq!(r.status, 401);
    // The server's log (info level) never shows the API token.
    drop(server);
    let text = std::fs::read_to_string(&log2).unwrap();
    assert!(text.contains("/admin/api/organizations") || !text.is_empty());
    assert!(!text.contains(&token));
}

fn start_server_logging(db_url: &str, log: &Path) -> (Guard, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let child = Command::new(BIN)
        .arg("serve")
        .env("SCIM_DATABASE_URL", db_url)
        .env("SCIM_BIND", &addr)
        .env("SCIM_PUBLIC_URL", format!("http://{addr}"))
        .env("SCIM_WORKERS", "1")
        .env("SCIM_LOG_LEVEL", "info")
        .env_remove("SCIM_TOKEN_SIGNING_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
        .spawn()
        .unwrap();
    let guard = Guard(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http(&addr, "GET", "/healthz", &[], None)
            && r.status == 200
        {
            return (guard, addr);
        }
        assert!(Instant::now() < deadline, "scim-server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
}
