//! `scim-server entitlement add|list|remove` and `entitlement type add|list|remove`: an
//! organization's roles, entitlements and entitlement types (Okta Identity Governance),
//! through the same store operations as the console and the admin API. `--json` prints
//! exactly one JSON document on standard output. Bad input (an invalid value, an unknown
//! organization or kind) is a usage error (exit code 2) and writes nothing; a value or
//! type that exists already, or a type that still has values, is exit code 1.

use crate::commands::open_store;
use crate::config::Config;
use crate::webhooks::UsageError;
use clap::Subcommand;
use scim_admin::entitlements::json;
use scim_core::entitlements::EntitlementKind;
use scim_store::{EntitlementRepo as _, StoreError, ValueQuery};
use serde_json::Value;

/// `entitlement ...`
#[derive(Debug, Subcommand)]
pub enum EntitlementCommand {
    /// Define a role, an entitlement or a value of one of the organization's types.
    Add {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// `role`, `entitlement`, or the id of a type (see `entitlement type add`).
        #[arg(long)]
        kind: String,
        /// The value a user's roles or entitlements carry to grant it.
        #[arg(long)]
        value: String,
        /// The name people see (default: the value).
        #[arg(long, default_value = "")]
        display: String,
        /// Print `{"id", "value", "display"}` instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the organization's values, in definition order.
    List {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// Only this kind: `role`, `entitlement` or a type's id.
        #[arg(long)]
        kind: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove a value by id. Users holding it keep it; it can no longer be granted.
    Remove {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// The value's id (see `entitlement list`).
        #[arg(long)]
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Manage the organization's own entitlement types.
    #[command(subcommand)]
    Type(TypeCommand),
}

/// `entitlement type ...`
#[derive(Debug, Subcommand)]
pub enum TypeCommand {
    /// Define an entitlement type, served at its endpoint with the Entitlement schema.
    Add {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// The type's id, e.g. `License` (letters, digits, `_`, `-`).
        #[arg(long)]
        id: String,
        /// The name Okta shows (default: the id).
        #[arg(long, default_value = "")]
        name: String,
        /// The endpoint, e.g. `/Licenses` (default: `/<id>s`).
        #[arg(long, default_value = "")]
        endpoint: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the organization's entitlement types.
    List {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove a type; refused while it has values (remove them first).
    Remove {
        /// The organization (tenant) id.
        #[arg(long)]
        tenant: String,
        /// The type's id.
        #[arg(long)]
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// A store error as the command line reports it.
fn reported(e: StoreError, tenant: &str, what: &str) -> anyhow::Error {
    match e {
        StoreError::NotFound => usage(format!(
            "no {what} in organization '{tenant}' (see: scim-server tenant list, scim-server entitlement list --tenant {tenant})"
        )),
        StoreError::Rejected(s) if s.status() == 400 => usage(s.detail().to_string()),
        StoreError::Rejected(s) => anyhow::anyhow!("{}", s.detail()),
        StoreError::Conflict { attribute } => {
            anyhow::anyhow!("that {attribute} is already defined in organization '{tenant}'")
        }
        other => anyhow::Error::new(other).context("the database refused the change"),
    }
}

/// Runs one `entitlement` subcommand.
pub fn run(config: &Config, command: EntitlementCommand) -> anyhow::Result<()> {
    match command {
        EntitlementCommand::Add {
            tenant,
            kind,
            value,
            display,
            json,
        } => add(config, &tenant, &kind, &value, &display, json),
        EntitlementCommand::List { tenant, kind, json } => {
            list(config, &tenant, kind.as_deref(), json)
        }
        EntitlementCommand::Remove { tenant, id, json } => remove(config, &tenant, &id, json),
        EntitlementCommand::Type(TypeCommand::Add {
            tenant,
            id,
            name,
            endpoint,
            json,
        }) => type_add(config, &tenant, &id, &name, &endpoint, json),
        EntitlementCommand::Type(TypeCommand::List { tenant, json }) => {
            type_list(config, &tenant, json)
        }
        EntitlementCommand::Type(TypeCommand::Remove { tenant, id, json }) => {
            type_remove(config, &tenant, &id, json)
        }
    }
}

fn add(
    config: &Config,
    tenant: &str,
    kind: &str,
    value: &str,
    display: &str,
    as_json: bool,
) -> anyhow::Result<()> {
    let display = if display.trim().is_empty() {
        value
    } else {
        display
    };
    // Checked before the database is opened, as every usage error.
    scim_core::entitlements::check_value_definition(value, display)
        .map_err(|e| usage(e.detail().to_string()))?;
    let store = open_store(config)?;
    let v = store
        .add_entitlement_value(tenant, &EntitlementKind::parse(kind.trim()), value, display)
        .map_err(|e| reported(e, tenant, "such organization"))?;
    if as_json {
        println!(
            "{}",
            serde_json::json!({"id": v.id, "value": v.value, "display": v.display})
        );
    } else {
        println!(
            "Defined {} '{}' ({}) in organization {tenant}.",
            v.kind.type_name(),
            v.value,
            v.display
        );
        println!("  Id: {}", v.id);
    }
    Ok(())
}

fn list(config: &Config, tenant: &str, kind: Option<&str>, as_json: bool) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let mut all = Vec::new();
    let mut start = 1;
    // Every value, a page of 1000 at a time.
    loop {
        let page = store
            .list_entitlement_values(
                tenant,
                &ValueQuery {
                    kind: kind.map(|k| EntitlementKind::parse(k.trim())),
                    filter: None,
                    start_index: start,
                    count: 1000,
                },
            )
            .map_err(|e| reported(e, tenant, "such organization"))?;
        let n = page.values.len() as u64;
        all.extend(page.values);
        start += n;
        if n == 0 || start > page.total_results {
            break;
        }
    }
    if as_json {
        let items: Vec<Value> = all.iter().map(json::value).collect();
        println!("{}", serde_json::json!({"entitlements": items}));
    } else if all.is_empty() {
        println!(
            "Organization {tenant} defines no such values: its users' roles and entitlements are not checked. Define one with: scim-server entitlement add --tenant {tenant} --kind role --value VALUE"
        );
    } else {
        let rows: Vec<[String; 4]> = all
            .iter()
            .map(|v| {
                [
                    v.id.clone(),
                    v.kind.as_str().to_string(),
                    v.value.clone(),
                    v.display.clone(),
                ]
            })
            .collect();
        crate::webhooks::print_table(["ID", "KIND", "VALUE", "DISPLAY"], &rows);
    }
    Ok(())
}

fn remove(config: &Config, tenant: &str, id: &str, as_json: bool) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let v = store
        .remove_entitlement_value(tenant, id)
        .map_err(|e| reported(e, tenant, &format!("value with id '{id}'")))?;
    if as_json {
        println!("{}", serde_json::json!({"removed": json::value(&v)}));
    } else {
        println!(
            "Removed {} '{}' from organization {tenant}.",
            v.kind.type_name(),
            v.value
        );
    }
    Ok(())
}

fn type_add(
    config: &Config,
    tenant: &str,
    id: &str,
    name: &str,
    endpoint: &str,
    as_json: bool,
) -> anyhow::Result<()> {
    let (name, endpoint) = json::NewType {
        id: id.to_string(),
        name: name.to_string(),
        endpoint: endpoint.to_string(),
    }
    .resolved();
    scim_core::entitlements::check_type_definition(id, &name, &endpoint)
        .map_err(|e| usage(e.detail().to_string()))?;
    let store = open_store(config)?;
    let t = store
        .add_entitlement_type(tenant, id, &name, &endpoint)
        .map_err(|e| reported(e, tenant, "such organization"))?;
    if as_json {
        println!("{}", json::entitlement_type(&t));
    } else {
        println!(
            "Defined entitlement type {} ({}) in organization {tenant}, served at {}.",
            t.id, t.name, t.endpoint
        );
        println!(
            "Add values with: scim-server entitlement add --tenant {tenant} --kind {} --value VALUE",
            t.id
        );
    }
    Ok(())
}

fn type_list(config: &Config, tenant: &str, as_json: bool) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let types = store
        .list_entitlement_types(tenant)
        .map_err(|e| reported(e, tenant, "such organization"))?;
    if as_json {
        let items: Vec<Value> = types.iter().map(json::entitlement_type).collect();
        println!("{}", serde_json::json!({"types": items}));
    } else if types.is_empty() {
        println!("Organization {tenant} defines no entitlement types of its own.");
    } else {
        let rows: Vec<[String; 3]> = types
            .iter()
            .map(|t| [t.id.clone(), t.name.clone(), t.endpoint.clone()])
            .collect();
        crate::webhooks::print_table(["ID", "NAME", "ENDPOINT"], &rows);
    }
    Ok(())
}

fn type_remove(config: &Config, tenant: &str, id: &str, as_json: bool) -> anyhow::Result<()> {
    let store = open_store(config)?;
    store
        .remove_entitlement_type(tenant, id)
        .map_err(|e| reported(e, tenant, &format!("entitlement type '{id}'")))?;
    if as_json {
        println!("{}", serde_json::json!({"removed": id}));
    } else {
        println!("Removed entitlement type {id} from organization {tenant}.");
    }
    Ok(())
}
