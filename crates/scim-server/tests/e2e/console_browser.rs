//! The admin console in real headless Chromium, driven over W3C WebDriver with
//! [fantoccini](https://docs.rs/fantoccini) and Debian's `chromedriver`. The test walks the
//! set-up as an administrator does, against the real binary on a temporary SQLite database:
//! sign in (account made with `scim-server admin create`), create an organization, open
//! Settings › SAML/SCIM, press Generate, read the Tenant URL and token from the page,
//! provision a user over SCIM with them, see the user and the log entry in the console,
//! deactivate it over SCIM and see its status change, press Generate again (accepting the
//! confirmation) and see the old token rejected and the new one accepted. A PNG screenshot
//! of each page is written under the target directory.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`;
//! `.ci/run` installs them). Without them the test prints a loud SKIP and passes, except
//! under `CI=true`, where it fails.

use crate::harness::{BIN, Backend, Server, free_port, try_request};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const EMAIL: &str = "operator@example.test";
pub const PASSWORD: &str = "correct horse battery staple";
/// How long the page may take to show what the test waits for.
const PATIENCE: Duration = Duration::from_secs(20);

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

/// Kills the child on drop.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the CLI with `stdin` (the password prompt) and returns its standard output.
pub fn cli_with_input(db_url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("SCIM_DATABASE_URL", db_url)
        .env("SCIM_PUBLIC_URL", "http://unused")
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
    child.wait_with_output().unwrap()
}

/// The console page under test, with the helpers the walk-through needs.
struct Page {
    client: Client,
    shots: PathBuf,
}

impl Page {
    async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    async fn url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// The element matching `css`, waiting for it.
    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => panic!(
                "no element {css} on {} ({e}):\n{}",
                self.url().await,
                self.source().await
            ),
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// Waits until the page source contains `text`.
    async fn wait_for_text(&self, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self.source().await.contains(text) {
            assert!(
                Instant::now() < deadline,
                "'{text}' never appeared on {}:\n{}",
                self.url().await,
                self.source().await
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The text of the open `confirm()` dialog, accepted; waits for it to open.
    async fn accept_confirmation(&self) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(text) = self.client.get_alert_text().await {
                self.client.accept_alert().await.unwrap();
                return text;
            }
            assert!(Instant::now() < deadline, "no confirmation dialog opened");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }
}

/// Starts `chromedriver` on a free port and opens a headless Chromium session on it.
async fn open_browser(driver: &Path, chromium: &Path, profile: &Path) -> (Guard, Client) {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
    let guard = Guard(child);
    let caps = json!({
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
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    // chromedriver takes a moment to listen: retry the new-session request until then.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return (guard, client),
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "chromedriver did not open a Chromium session: {e}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

fn scim(
    server: &Server,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let body = body.map(|b| b.to_string());
    let r = try_request(
        &server.addr,
        method,
        path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/scim+json"),
        ],
        body.as_deref(),
    )
    .unwrap();
    let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, v)
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
    let server = Server::start(Backend::Sqlite).unwrap();
    let created = cli_with_input(
        &server.db.url,
        &["admin", "create", "--email", EMAIL],
        &format!("{PASSWORD}\n"),
    );
    let out = String::from_utf8_lossy(&created.stdout);
    assert!(out.contains("Created operator"), "{out}");
    let profile = tempfile::tempdir().unwrap();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let (_driver, client) = open_browser(&driver, &chromium, profile.path()).await;
            let page = Page {
                client,
                shots: shots.clone(),
            };
            walk_through(&page, &server).await;
            page.client.close().await.unwrap();
        });
    eprintln!("admin console screenshots: {}", shots.display());
}

async fn walk_through(b: &Page, server: &Server) {
    let base = &server.public_url;
    // Sign in.
    b.goto(&format!("{base}/admin")).await;
    b.find("#email").await;
    assert!(
        b.url().await.ends_with("/admin/sign-in"),
        "{}",
        b.url().await
    );
    b.type_into("#email", EMAIL).await;
    b.type_into("#password", PASSWORD).await;
    b.screenshot("01-sign-in").await;
    b.click("button[type=submit]").await;
    b.wait_for_text("Create an organization").await;

    // Create an organization; the console opens its Settings › SAML/SCIM page.
    b.type_into("#name", "Acme Corp").await;
    b.screenshot("02-organizations").await;
    b.click("main button[type=submit]").await;
    b.wait_for_text("no secret token yet").await;
    let tenant_url = b.value("#tenant-url").await;
    assert!(
        tenant_url.starts_with(&format!("{base}/scim/v2/")),
        "{tenant_url}"
    );
    b.screenshot("03-settings-no-token").await;

    // Generate: the token is shown once.
    b.click("#generate").await;
    b.wait_for_text("cannot be shown again").await;
    let token = b.value("#secret-token").await;
    assert!(token.len() > 40, "{token}");
    b.screenshot("04-settings-new-token").await;
    let scim_base = tenant_url.strip_prefix(base.as_str()).unwrap().to_string();

    // Provision a user over SCIM with what the page showed.
    let (status, user) = scim(
        server,
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
    assert_eq!(status, 201, "{user}");
    let user_id = user["id"].as_str().unwrap().to_string();
    let (status, group) = scim(
        server,
        &token,
        "POST",
        &format!("{scim_base}/Groups"),
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Engineering",
            "members": [{"value": user_id}]
        })),
    );
    assert_eq!(status, 201, "{group}");

    // The console shows the user and the log entry.
    let org_path = tenant_url.replace("/scim/v2/", "/admin/organizations/");
    b.goto(&format!("{org_path}/users")).await;
    b.wait_for_text("ada.lovelace@example.test").await;
    b.wait_for_text("Active").await;
    b.screenshot("05-users").await;
    b.goto(&format!("{org_path}/groups")).await;
    b.wait_for_text("Engineering").await;
    b.screenshot("06-groups").await;
    b.goto(&format!("{org_path}/activity")).await;
    b.wait_for_text("userName=ada.lovelace@example.test").await;
    b.screenshot("07-activity").await;

    // Deactivate over SCIM (as Okta does) and see the status change.
    let (status, body) = scim(
        server,
        &token,
        "PATCH",
        &format!("{scim_base}/Users/{user_id}"),
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": false}}]
        })),
    );
    assert_eq!(status, 200, "{body}");
    b.goto(&format!("{org_path}/users")).await;
    b.click("#users a").await;
    b.wait_for_text("Deactivated").await;
    b.wait_for_text("deactivate").await;
    b.screenshot("08-user-deactivated").await;

    // Generate again: confirm, then the old token is refused and the new one accepted.
    b.goto(&format!("{org_path}/settings")).await;
    b.wait_for_text("Last used").await;
    b.click("#generate").await;
    let question = b.accept_confirmation().await;
    assert!(question.contains("stop working at once"), "{question}");
    b.wait_for_text("The previous token has stopped working")
        .await;
    let new_token = b.value("#secret-token").await;
    assert_ne!(new_token, token);
    b.screenshot("09-settings-regenerated").await;
    let users = format!("{scim_base}/Users");
    assert_eq!(scim(server, &token, "GET", &users, None).0, 401);
    assert_eq!(scim(server, &new_token, "GET", &users, None).0, 200);
    // The token is not shown again.
    b.goto(&format!("{org_path}/settings")).await;
    b.wait_for_text("Last used").await;
    assert!(!b.source().await.contains(&new_token));
}
