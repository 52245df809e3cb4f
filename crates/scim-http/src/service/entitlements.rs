//! `GET /Roles`, `GET /Entitlements`, the endpoints of the tenant's own entitlement types
//! (e.g. `GET /Licenses`), and `GET …/{id}` of each: the organization's defined values as
//! read-only SCIM resources ([`scim_core::entitlements`]).
//!
//! Lists page by `startIndex`/`count` in definition order (`count=1&startIndex=1` answers
//! one value and the exact `totalResults`, Okta's entitlement test); `filter` takes `eq` on
//! `id`, `value`, `display` or `displayName`. A `cursor` is refused with 400
//! `invalidValue`, as on the root `/.search`: these are short lists an identity provider
//! reads whole. `sortBy` and projection are not applied.

use super::authorized_as;
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;
use scim_core::ScimError;
use scim_core::entitlements::{
    EntitlementKind, EntitlementValue, ValueFilter, builtin_endpoint, value_filter, value_json,
};
use scim_core::list::{ListQuery, list_response};
use scim_store::{Access, Session, ValueQuery};

/// Which endpoint a request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `/Roles`.
    Roles,
    /// `/Entitlements`.
    Entitlements,
    /// Any other single path segment: one of the tenant's entitlement types, or nothing
    /// (404).
    Other(String),
}

/// The kind and endpoint an [`Endpoint`] serves on this tenant, read on `s`.
fn resolve(
    s: &mut dyn Session,
    tenant_id: &str,
    endpoint: &Endpoint,
) -> Result<(EntitlementKind, String), ApiError> {
    let builtin = |kind: EntitlementKind| {
        let path = builtin_endpoint(&kind).unwrap_or_default().to_string();
        Ok((kind, path))
    };
    match endpoint {
        Endpoint::Roles => builtin(EntitlementKind::Role),
        Endpoint::Entitlements => builtin(EntitlementKind::Entitlement),
        Endpoint::Other(segment) => {
            let path = format!("/{segment}");
            s.entitlement_types(tenant_id)?
                .into_iter()
                .find(|t| t.endpoint.eq_ignore_ascii_case(&path))
                .map(|t| (EntitlementKind::Custom(t.id), t.endpoint))
                .ok_or_else(|| ScimError::not_found("Unknown endpoint").into())
        }
    }
}

/// The list of an endpoint's values (see the module docs).
pub async fn list(
    state: &AppState,
    auth: &Authenticated,
    endpoint: Endpoint,
    query: ListQuery,
) -> Result<String, ApiError> {
    if query.is_cursor() {
        return Err(ScimError::invalid_value(
            "Cursor paging is not offered on this endpoint; page by startIndex and count",
        )
        .into());
    }
    let filter = query.filter.as_ref().map(value_filter).transpose()?;
    let (base, tenant) = (state.tenant_url(&auth.tenant_id), auth.tenant_id.clone());
    authorized_as(state, auth, Access::Read, move |s, _| {
        let (kind, path) = resolve(s, &tenant, &endpoint)?;
        let page = s.list_entitlement_values(
            &tenant,
            &ValueQuery {
                kind: Some(kind),
                filter,
                start_index: query.start_index,
                count: query.count,
            },
        )?;
        let resources = page
            .values
            .iter()
            .map(|v| value_json(v, &base, &path))
            .collect();
        Ok(list_response(page.total_results, query.start_index, resources).to_string())
    })
    .await
}

/// One value of an endpoint by id: 404 when the tenant has no such value of that kind.
pub async fn get(
    state: &AppState,
    auth: &Authenticated,
    endpoint: Endpoint,
    id: String,
) -> Result<String, ApiError> {
    let (base, tenant) = (state.tenant_url(&auth.tenant_id), auth.tenant_id.clone());
    authorized_as(state, auth, Access::Read, move |s, _| {
        let (kind, path) = resolve(s, &tenant, &endpoint)?;
        let name = kind.type_name().to_string();
        let not_found = || ApiError::from(ScimError::not_found(format!("{name} {id} not found")));
        if !scim_core::limits::is_storable_id(&id) {
            return Err(not_found());
        }
        let page = s.list_entitlement_values(
            &tenant,
            &ValueQuery {
                kind: Some(kind),
                filter: Some(ValueFilter::Id(id.clone())),
                start_index: 1,
                count: 1,
            },
        )?;
        let value: &EntitlementValue = page.values.first().ok_or_else(not_found)?;
        Ok(value_json(value, &base, &path).to_string())
    })
    .await
}

/// Whether the endpoint exists for this tenant (a write to it is then 405, not 404).
pub async fn exists(
    state: &AppState,
    auth: &Authenticated,
    endpoint: Endpoint,
) -> Result<bool, ApiError> {
    let tenant = auth.tenant_id.clone();
    authorized_as(state, auth, Access::Read, move |s, _| {
        match resolve(s, &tenant, &endpoint) {
            Ok(_) => Ok(true),
            Err(ApiError::Scim(e)) if e.status() == 404 => Ok(false),
            Err(e) => Err(e),
        }
    })
    .await
}
