//! An organization's roles, entitlements and entitlement types (Okta Identity Governance),
//! as the console, the JSON API and the CLI manage them: the operations (here), the JSON
//! shapes ([`json`]), the API routes ([`api`]) and the console page ([`pages`]).
//!
//! The SCIM endpoints (`/Roles`, `/Entitlements`, each type's endpoint) only read these
//! values; the identity provider never writes them. The host application defines them
//! through the JSON API with an admin API token; administrators through the console page
//! or `scim-server entitlement …`.

pub mod api;
pub mod json;
pub mod pages;

use crate::AdminError;
use crate::session::{AdminState, Principal};
use scim_core::entitlements::{EntitlementKind, EntitlementType, EntitlementValue};
use scim_store::{ValuePage, ValueQuery};

/// The most values one list returns (and the default).
pub const MAX_PAGE: u64 = 1000;

/// The organization's entitlement types, when `who` may see it.
pub fn types(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
) -> Result<Vec<EntitlementType>, AdminError> {
    crate::service::organization(state, who, tenant_id)?;
    Ok(state.store().list_entitlement_types(tenant_id)?)
}

/// Defines an entitlement type (`id` e.g. `License`, `endpoint` e.g. `/Licenses`).
pub fn add_type(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    id: &str,
    name: &str,
    endpoint: &str,
) -> Result<EntitlementType, AdminError> {
    crate::service::organization(state, who, tenant_id)?;
    let t = state
        .store()
        .add_entitlement_type(tenant_id, id.trim(), name, endpoint.trim())?;
    tracing::info!(tenant = %tenant_id, entitlement_type = %t.id, "entitlement type defined");
    Ok(t)
}

/// Removes an entitlement type; refused (409) while it has values.
pub fn remove_type(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    id: &str,
) -> Result<(), AdminError> {
    crate::service::organization(state, who, tenant_id)?;
    state.store().remove_entitlement_type(tenant_id, id)?;
    tracing::info!(tenant = %tenant_id, entitlement_type = %id, "entitlement type removed");
    Ok(())
}

/// A page of the organization's values (`kind`: `role`, `entitlement`, a type's id, or
/// every kind).
pub fn values(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    kind: Option<&str>,
    start_index: u64,
    count: u64,
) -> Result<ValuePage, AdminError> {
    crate::service::organization(state, who, tenant_id)?;
    Ok(state.store().list_entitlement_values(
        tenant_id,
        &ValueQuery {
            kind: kind.filter(|k| !k.is_empty()).map(EntitlementKind::parse),
            filter: None,
            start_index: start_index.max(1),
            count: count.min(MAX_PAGE),
        },
    )?)
}

/// Defines a value of `kind` (`role`, `entitlement` or a type's id); an empty display name
/// becomes the value.
pub fn add_value(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    kind: &str,
    value: &str,
    display: &str,
) -> Result<EntitlementValue, AdminError> {
    crate::service::organization(state, who, tenant_id)?;
    let display = if display.trim().is_empty() {
        value
    } else {
        display
    };
    let v = state.store().add_entitlement_value(
        tenant_id,
        &EntitlementKind::parse(kind.trim()),
        value,
        display,
    )?;
    tracing::info!(tenant = %tenant_id, kind = %v.kind, id = %v.id, "entitlement value defined");
    Ok(v)
}

/// Removes a value by id (users holding it keep it).
pub fn remove_value(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    id: &str,
) -> Result<EntitlementValue, AdminError> {
    crate::service::organization(state, who, tenant_id)?;
    let v = state.store().remove_entitlement_value(tenant_id, id)?;
    tracing::info!(tenant = %tenant_id, kind = %v.kind, id = %v.id, "entitlement value removed");
    Ok(v)
}
