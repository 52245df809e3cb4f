//! The event command line as the e2e tests drive it: `webhook add|list` and `events list`
//! with `--json`, plus the settings that make delivery quick to observe.

use crate::harness::{Server, cli};
use serde_json::Value;

/// Settings for servers whose deliveries the tests watch: a short lease (3 × the webhook
/// timeout), so a killed process's leases expire within seconds.
pub const QUICK_DELIVERY: &[(&str, &str)] = &[
    ("SCIM_WEBHOOK_TIMEOUT", "2s"),
    ("SCIM_EVENT_POLL_INTERVAL", "200ms"),
];

/// `webhook add --json`: returns (id, secret), checking the output is exactly that object.
pub fn add_webhook(s: &Server, tenant: &str, url: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec!["webhook", "add", "--tenant", tenant, "--url", url, "--json"];
    args.extend_from_slice(extra);
    let out = cli(&s.db.url, &s.public_url, &args);
    let v: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("webhook add --json printed no JSON ({e}): {out}"));
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), 2, "exactly id and secret: {v}");
    let id = v["id"].as_str().unwrap().to_string();
    let secret = v["secret"].as_str().unwrap().to_string();
    assert!(!id.is_empty());
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    (id, secret)
}

/// `webhook list --json`'s array.
pub fn list_webhooks(s: &Server, tenant: &str) -> Vec<Value> {
    let out = cli(
        &s.db.url,
        &s.public_url,
        &["webhook", "list", "--tenant", tenant, "--json"],
    );
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
    v["webhooks"].as_array().unwrap().clone()
}

/// One `events list --json` page: (the events as (cursor, set)), next).
pub fn events_page(
    s: &Server,
    tenant: &str,
    after: Option<&str>,
    limit: Option<u64>,
) -> (Vec<(String, Value)>, String) {
    let limit = limit.map(|l| l.to_string());
    let mut args = vec!["events", "list", "--tenant", tenant, "--json"];
    if let Some(a) = after {
        args.extend(["--after", a]);
    }
    if let Some(l) = &limit {
        args.extend(["--limit", l.as_str()]);
    }
    let out = cli(&s.db.url, &s.public_url, &args);
    let v: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("events list --json printed no JSON ({e}): {out}"));
    assert_eq!(
        v.as_object().unwrap().len(),
        2,
        "exactly events and next: {v}"
    );
    let events = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e.as_object().unwrap().len(), 2, "cursor and set: {e}");
            (e["cursor"].as_str().unwrap().to_string(), e["set"].clone())
        })
        .collect();
    (events, v["next"].as_str().unwrap().to_string())
}

/// The whole feed of `tenant`, paging with `next` (pages of 1000).
pub fn all_events(s: &Server, tenant: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut after = "0".to_string();
    loop {
        let (page, next) = events_page(s, tenant, Some(&after), Some(1000));
        if page.is_empty() {
            assert_eq!(next, after, "an empty page keeps the cursor");
            return out;
        }
        assert_eq!(next, page.last().unwrap().0);
        out.extend(page);
        after = next;
    }
}

/// An operator account made with `admin create` (password on stdin) and its admin API
/// token from `admin token`.
pub fn admin_api_token(s: &Server) -> String {
    use std::io::Write as _;
    let email = "ops@example.test";
    let mut child = std::process::Command::new(crate::harness::BIN)
        .args(["admin", "create", "--email", email])
        .env("SCIM_DATABASE_URL", &s.db.url)
        .env("SCIM_PUBLIC_URL", &s.public_url)
        .env("SCIM_LOG_LEVEL", "warn")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery staple\n")
        .unwrap();
    assert!(child.wait().unwrap().success(), "admin create failed");
    cli(
        &s.db.url,
        &s.public_url,
        &["admin", "token", "--email", email],
    )
    .trim()
    .to_string()
}
