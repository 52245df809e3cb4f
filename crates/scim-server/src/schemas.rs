//! `schema put|list|remove`: an organization's own extension schemas (docs/schemas.md).
//! The rules (document validation, change rules, limits) live in scim-core and run in the
//! store's transaction through `scim_http::tenant_schemas`, the same path as the admin API.

use crate::commands::open_store;
use crate::config::Config;
use anyhow::Context as _;
use scim_core::ResourceKind;
use scim_http::tenant_schemas::{SchemaError, SchemaPut, put_schema, remove_schema, schema_json};
use scim_store::{StoreError, TenantSchemaRepo as _};
use serde_json::{Value, json};
use std::io::Read as _;

fn no_tenant(tenant: &str) -> anyhow::Error {
    anyhow::anyhow!("no organization with id '{tenant}' (see: scim-server tenant list)")
}

/// `schema put --tenant ID --extends User|Group --file PATH [--required] [--force] [--json]`
/// (`--file -` reads standard input).
pub fn schema_put(
    config: &Config,
    tenant: &str,
    extends: ResourceKind,
    file: &str,
    options: (bool, bool),
    as_json: bool,
) -> anyhow::Result<()> {
    let (required, force) = options;
    let mut document = String::new();
    if file == "-" {
        std::io::stdin()
            .take(scim_core::schema::document::MAX_DOCUMENT_BYTES as u64 + 1)
            .read_to_string(&mut document)
            .context("cannot read the schema document from standard input")?;
    } else {
        document = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the schema document {file}"))?;
    }
    let store = open_store(config)?;
    let options = SchemaPut {
        extends,
        required,
        force,
    };
    let row = match put_schema(&store, tenant, &document, &options) {
        Ok(row) => row,
        Err(SchemaError::NotFound) => return Err(no_tenant(tenant)),
        Err(SchemaError::Invalid(e)) => anyhow::bail!("schema refused: {}", e.detail()),
        Err(SchemaError::Store(e)) => return Err(e).context("cannot store the schema"),
    };
    tracing::info!(tenant_id = %tenant, by = "cli", schema = %row.id, "extension schema put");
    if as_json {
        println!("{}", schema_json(&row));
    } else {
        println!(
            "Organization {tenant} now extends {} with {} (from its next request).",
            row.extends, row.id
        );
        println!(
            "It is published at /Schemas/{} and in /ResourceTypes.",
            row.id
        );
    }
    Ok(())
}

/// `schema list --tenant ID [--json]`: `{"tenant_id": .., "schemas": [..]}`, removed ones
/// included with `"active": false`.
pub fn schema_list(config: &Config, tenant: &str, as_json: bool) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let rows = match store.list_tenant_schemas(tenant) {
        Ok(rows) => rows,
        Err(StoreError::NotFound) => return Err(no_tenant(tenant)),
        Err(e) => return Err(e).context("cannot list the schemas"),
    };
    if as_json {
        let items: Vec<Value> = rows.iter().map(schema_json).collect();
        println!("{}", json!({"tenant_id": tenant, "schemas": items}));
    } else if rows.is_empty() {
        println!(
            "Organization {tenant} has no extension schema. Add one with: scim-server schema put --tenant {tenant} --extends User --file schema.json"
        );
    } else {
        let width = rows.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
        println!("{:<width$}  EXTENDS  REQUIRED  STATE", "ID");
        for r in &rows {
            println!(
                "{:<width$}  {:<7}  {:<8}  {}",
                r.id,
                r.extends.as_str(),
                r.required,
                if r.active {
                    "active"
                } else {
                    "removed (values withheld)"
                }
            );
        }
    }
    Ok(())
}

/// `schema remove --tenant ID --id URN [--json]`: exit code 1 when there is no such
/// active extension.
pub fn schema_remove(config: &Config, tenant: &str, id: &str, as_json: bool) -> anyhow::Result<()> {
    let store = open_store(config)?;
    if let Err(e) = store.list_tenant_schemas(tenant) {
        return match e {
            StoreError::NotFound => Err(no_tenant(tenant)),
            e => Err(e).context("cannot read the schemas"),
        };
    }
    match remove_schema(&store, tenant, id) {
        Ok(()) => {}
        Err(SchemaError::NotFound) => anyhow::bail!(
            "organization {tenant} has no extension schema '{id}' (see: scim-server schema list --tenant {tenant})"
        ),
        Err(SchemaError::Invalid(e)) => anyhow::bail!("{}", e.detail()),
        Err(SchemaError::Store(e)) => return Err(e).context("cannot remove the schema"),
    }
    tracing::info!(tenant_id = %tenant, by = "cli", schema = %id, "extension schema removed");
    if as_json {
        println!(
            "{}",
            json!({"tenant_id": tenant, "id": id, "removed": true})
        );
    } else {
        println!("Removed {id} from organization {tenant}. Values stored under it are kept but");
        println!("no longer returned, filterable or accepted; putting it again brings them back.");
    }
    Ok(())
}
