//! The event subcommands: `webhook add|list|remove` and `events list`. Their `--json`
//! output is a contract operators and checks depend on (docs/configuration.md): exactly one
//! JSON document on standard output, nothing else there. Bad input is a [`UsageError`]
//! (exit code 2) and writes nothing.

use crate::commands::open_store;
use crate::config::Config;
use anyhow::Context as _;
use scim_admin::webhooks::{json, service};
use scim_core::events::{EventMode, EventType, parse_event_list};
use scim_store::{
    DieselStore, EventRepo as _, NewSubscription, Sink, StoreError, Subscription, TenantRepo as _,
};
use serde_json::Value;

/// Bad input on the command line: reported on standard error with exit code 2 (as clap
/// does for its own parse errors), before anything is written.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// `webhook add --tenant ID --url URL [--mode full|notice] [--events LIST] [--json]`.
pub fn webhook_add(
    config: &Config,
    tenant: &str,
    url: &str,
    mode: &str,
    events: Option<&str>,
    as_json: bool,
) -> anyhow::Result<()> {
    // Everything the command line says is checked before the database is touched.
    let sink = Sink::parse(url).map_err(|e| usage(format!("--url: {e}")))?;
    let mode = EventMode::parse(mode)
        .ok_or_else(|| usage(format!("--mode must be full or notice, not {mode:?}")))?;
    let events = match events {
        None => None,
        Some(list) => parse_event_list(list).map_err(|bad| {
            usage(format!(
                "--events: {bad:?} is not an event type (one of: {})",
                EventType::ALL.map(EventType::name).join(", ")
            ))
        })?,
    };
    let store = open_store(config)?;
    require_tenant(&store, tenant)?;
    // The key first: a subscription whose secret cannot be shown must not be created.
    let configured = crate::commands::event_signing_key(config, &store)?;
    let key = scim_events::resolve_signing_key(configured.as_ref(), &store)
        .context("cannot load the event signing key")?;
    let new = NewSubscription {
        sink,
        mode,
        events,
        after: None,
    };
    let sub = store
        .create_subscription(tenant, &new)
        .context("cannot create the subscription")?;
    let secret = scim_events::subscription_secret(&key, &sub);
    if as_json {
        println!("{}", serde_json::json!({"id": sub.id, "secret": secret}));
    } else {
        println!(
            "Subscribed {} to the events of organization {tenant}.",
            sub.sink.target()
        );
        println!();
        println!("  Subscription id: {}", sub.id);
        println!("  Mode:            {}", sub.mode.as_str());
        println!("  Events:          {}", events_text(&sub));
        println!("  Signing secret:  {secret}");
        println!();
        println!("Each event is a SET signed HS256 with this secret (docs/events.md).");
        println!("The secret is shown only once; store it with the receiver now.");
    }
    Ok(())
}

/// `webhook list --tenant ID [--json]`.
pub fn webhook_list(config: &Config, tenant: &str, as_json: bool) -> anyhow::Result<()> {
    let store = open_store(config)?;
    require_tenant(&store, tenant)?;
    let subs = store
        .list_subscriptions(tenant)
        .context("cannot list the subscriptions")?;
    if as_json {
        let items: Vec<Value> = subs.iter().map(subscription_json).collect();
        println!("{}", serde_json::json!({"webhooks": items}));
    } else if subs.is_empty() {
        println!(
            "Organization {tenant} has no event subscriptions. Add one with: scim-server webhook add --tenant {tenant} --url URL"
        );
    } else {
        let rows: Vec<[String; 6]> = subs
            .iter()
            .map(|s| {
                [
                    s.id.clone(),
                    s.sink.target(),
                    s.mode.as_str().to_string(),
                    events_text(s),
                    state_text(s),
                    s.cursor.to_string(),
                ]
            })
            .collect();
        print_table(["ID", "TARGET", "MODE", "EVENTS", "STATE", "CURSOR"], &rows);
    }
    Ok(())
}

/// `webhook remove --id ID`: exit code 1 when there is no such subscription.
pub fn webhook_remove(config: &Config, id: &str) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let sub = match store.find_subscription(id) {
        Ok(s) => s,
        Err(StoreError::NotFound) => anyhow::bail!(
            "no event subscription with id '{id}' (see: scim-server webhook list --tenant ID)"
        ),
        Err(e) => return Err(e).context("cannot read the subscription"),
    };
    match store.delete_subscription(&sub.tenant_id, &sub.id) {
        // Removed by someone else in between: the same answer as an unknown id.
        Err(StoreError::NotFound) => anyhow::bail!("no event subscription with id '{id}'"),
        other => other.context("cannot remove the subscription")?,
    }
    println!(
        "Removed subscription {} ({}) of organization {}.",
        sub.id,
        sub.sink.target(),
        sub.tenant_id
    );
    Ok(())
}

/// `events list --tenant ID [--after CURSOR] [--limit N] [--json]`.
pub fn events_list(
    config: &Config,
    tenant: &str,
    after: Option<&str>,
    limit: &str,
    as_json: bool,
) -> anyhow::Result<()> {
    // The events API's own parsing, so the two accept exactly the same cursors and pages.
    let after = service::parse_cursor(after.map_or("0", str::trim), "--after")
        .map_err(|e| usage(e.to_string()))?;
    let limit = service::parse_limit(
        Some(limit.trim()),
        service::DEFAULT_EVENT_LIMIT,
        service::MAX_EVENT_LIMIT,
    )
    .map_err(|e| usage(format!("--limit: {e}")))?;
    let store = open_store(config)?;
    require_tenant(&store, tenant)?;
    let page = store
        .list_events(tenant, after, limit, None)
        .context("cannot read the events")?;
    if as_json {
        // The same document as `GET /admin/api/organizations/{id}/events`.
        println!("{}", json::events_page(&page, after, &config.public_url()));
        return Ok(());
    }
    let next = page.last().map_or(after, |r| r.position);
    if page.is_empty() {
        println!("No events after cursor {after}.");
        println!("next: {next}");
    } else {
        let rows: Vec<[String; 5]> = page
            .iter()
            .map(|r| {
                let e = &r.event;
                [
                    r.position.to_string(),
                    e.issued_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                    e.event.event_type.name().to_string(),
                    e.event.subject.uri(),
                    e.txn.clone(),
                ]
            })
            .collect();
        print_table(["CURSOR", "COMMITTED", "EVENT", "SUBJECT", "TXN"], &rows);
        println!("next: {next}");
    }
    Ok(())
}

/// One entry of `webhook list --json` (never the secret).
fn subscription_json(s: &Subscription) -> Value {
    serde_json::json!({
        "id": s.id,
        "url": s.sink.target(),
        "mode": s.mode.as_str(),
        "events": s.events.as_ref().map(|l| l.iter().map(|t| t.name()).collect::<Vec<_>>()),
        "enabled": s.enabled,
        "disabled_reason": s.disabled_reason,
        "cursor": s.cursor.to_string(),
        "failing_since": s.failing_since.map(|t| t.to_rfc3339()),
        "last_error": s.last_error,
        "created": s.created.to_rfc3339(),
    })
}

fn require_tenant(store: &DieselStore, tenant: &str) -> anyhow::Result<()> {
    match store.get_tenant(tenant) {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(usage(format!(
            "no organization with id '{tenant}' (see: scim-server tenant list)"
        ))),
        Err(e) => Err(e).context("cannot read the organization"),
    }
}

fn events_text(s: &Subscription) -> String {
    match &s.events {
        None => "all".to_string(),
        Some(list) => list.iter().map(|t| t.name()).collect::<Vec<_>>().join(","),
    }
}

fn state_text(s: &Subscription) -> String {
    if !s.enabled {
        return match &s.disabled_reason {
            Some(r) => format!("disabled: {r}"),
            None => "disabled".to_string(),
        };
    }
    match (&s.failing_since, &s.last_error) {
        (Some(since), error) => format!(
            "failing since {} ({})",
            since.format("%Y-%m-%d %H:%M UTC"),
            error.as_deref().unwrap_or("no answer")
        ),
        (None, _) => "active".to_string(),
    }
}

/// Prints left-aligned columns separated by two spaces.
pub(crate) fn print_table<const N: usize>(header: [&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; N]| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header);
    for row in rows {
        line(std::array::from_fn(|i| row[i].as_str()));
    }
}
