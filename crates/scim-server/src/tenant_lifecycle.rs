//! The end of an organization's life: `tenant delete` (everything of it, in one
//! transaction) and `tenant export` (its users and groups as SCIM JSON, streamed page by
//! page so a large directory never sits in memory at once).

use crate::commands::open_store;
use crate::config::Config;
use anyhow::Context as _;
use scim_core::ResourceKind;
use scim_http::state::tenant_url;
use scim_store::{ListParams, Paging, ResourceRepo as _, StoreError, TenantRepo as _};
use serde_json::json;
use std::io::Write as _;

/// Resources per page of an export.
const EXPORT_PAGE: u64 = 500;

fn not_found(tenant: &str) -> anyhow::Error {
    anyhow::anyhow!("no organization with id '{tenant}' (see: scim-server tenant list)")
}

/// `tenant delete --tenant ID --yes [--json]`.
pub fn tenant_delete(
    config: &Config,
    tenant: &str,
    yes: bool,
    as_json: bool,
) -> anyhow::Result<()> {
    if !yes {
        anyhow::bail!(
            "deleting organization '{tenant}' removes all its users, groups, log, events and webhooks for good; \
             run `scim-server tenant export --tenant {tenant} > backup.json` first if in doubt, then add --yes"
        );
    }
    let store = open_store(config)?;
    let name = match store.get_tenant(tenant) {
        Ok(t) => t.name,
        Err(StoreError::NotFound) => return Err(not_found(tenant)),
        Err(e) => return Err(e).context("cannot read the organization"),
    };
    match store.delete_tenant(tenant) {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(not_found(tenant)),
        Err(e) => return Err(e).context("cannot delete the organization"),
    }
    tracing::info!(tenant_id = %tenant, by = "cli", "organization deleted");
    if as_json {
        println!("{}", json!({"id": tenant, "name": name, "deleted": true}));
    } else {
        println!(
            "Organization {tenant} ({name}) and all its data are deleted; its token no longer works."
        );
    }
    Ok(())
}

/// `tenant export --tenant ID`: one JSON document on standard output.
pub fn tenant_export(config: &Config, tenant: &str) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let t = match store.get_tenant(tenant) {
        Ok(t) => t,
        Err(StoreError::NotFound) => return Err(not_found(tenant)),
        Err(e) => return Err(e).context("cannot read the organization"),
    };
    let base = tenant_url(&config.public_url(), &t.id);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let head = json!({
        "id": t.id,
        "name": t.name,
        "tenant_url": base,
        "profile": t.profile.as_str(),
    });
    write!(
        out,
        "{{\"tenant\":{head},\"exported_at\":{}",
        json!(chrono::Utc::now().to_rfc3339())
    )?;
    for (key, kind) in [
        ("Users", ResourceKind::User),
        ("Groups", ResourceKind::Group),
    ] {
        write!(out, ",\"{key}\":[")?;
        let mut after = None;
        let mut first = true;
        loop {
            let params = ListParams {
                count: EXPORT_PAGE,
                paging: Paging::Cursor { after },
                ..ListParams::default()
            };
            let page = store
                .list(&t.id, kind, &params)
                .with_context(|| format!("cannot read the organization's {key}"))?;
            for resource in page.resources {
                if !first {
                    out.write_all(b",")?;
                }
                first = false;
                serde_json::to_writer(&mut out, &resource.into_json(&base))?;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        out.write_all(b"]")?;
    }
    out.write_all(b"}\n")?;
    out.flush().context("cannot write the export")?;
    Ok(())
}
