//! `POST`, `PUT`, `PATCH` and `DELETE` of one resource (RFC 7644 §3.3, §3.5, §3.6).
//!
//! Each change is one store transaction that reads and locks the row, runs a pure function
//! of the current resource (the `If-Match` check, then `replace_resource` or `apply_patch`)
//! and writes the result; concurrent changes queue on the row instead of racing, so there
//! is no retry loop here.
//!
//! A user write that may change `roles` or `entitlements` first reads the tenant's catalog
//! on the same session ([`Session::entitlement_catalog`]); once a class has defined values,
//! every value the write adds must be one of them (400 `invalidValue` naming it, see
//! [`scim_core::entitlements`]). Writes that cannot touch them read nothing more.

use super::{Rendered, authorized_as, check_if_match, render, wants_relations};
use crate::auth::Authenticated;
use crate::error::{ApiError, store_error_for};
use crate::state::AppState;
use crate::tenant_schemas::Tenancy;
use scim_core::entitlements::{Catalog, may_touch_grants, patch_may_touch_grants};
use scim_core::events::UpdateMethod;
use scim_core::patch::{MemberSplit, PatchRequest, apply_patch_in, split_member_ops_in};
use scim_core::profile::{check_patch_in, check_resource_body_in};
use scim_core::projection::Projection;
use scim_core::replace::replace_resource_in;
use scim_core::resource::{Attributes, Resource, parse_resource, parse_resource_in};
use scim_core::schema::registry::Registry;
use scim_core::schema::{ResourceKind, ResourceType};
use scim_core::version::etag;
use scim_core::{Profile, ScimError};
use scim_store::{Access, Session};
use serde_json::Value;

/// The tenant's catalog, read on `s`, when a write of `kind` may change grants (`touches`)
/// and the tenant defined any value; `None`: nothing to check.
pub(crate) fn grants_catalog(
    s: &mut dyn Session,
    tenant_id: &str,
    kind: ResourceKind,
    touches: bool,
) -> Result<Option<Catalog>, ApiError> {
    if kind != ResourceKind::User || !touches {
        return Ok(None);
    }
    let catalog = s.entitlement_catalog(tenant_id)?;
    Ok((!catalog.is_empty()).then_some(catalog))
}

/// The catalog check of a new resource parsed from `body` (POST, and Bulk's POST).
pub(crate) fn check_new_grants(
    s: &mut dyn Session,
    tenant_id: &str,
    kind: ResourceKind,
    body: &Value,
    attributes: &Attributes,
) -> Result<(), ApiError> {
    if let Some(c) = grants_catalog(s, tenant_id, kind, may_touch_grants(body))? {
        c.check(None, attributes)?;
    }
    Ok(())
}

/// `POST /Users`, `POST /Groups` (RFC 7644 §3.3).
pub async fn create(
    state: &AppState,
    auth: &Authenticated,
    kind: ResourceKind,
    body: Value,
    projection: Projection,
) -> Result<Rendered, ApiError> {
    // Parsed before the session against the static type; a tenant with extensions of its
    // own has the body parsed again against its type once the tenant row is read (so a
    // tenant without any pays nothing).
    let parsed = parse_resource(kind, &body);
    let (a, base) = (auth.clone(), state.tenant_url(&auth.tenant_id));
    authorized_as(state, auth, Access::Write, move |s, cx| {
        // The profile is known only once the tenant row is read; the body was parsed
        // (leniently) before, so the strict rules are checked on it here.
        let rt = cx.resource_type(kind);
        check_resource_body_in(cx.profile, rt, &body)?;
        let attributes = if cx.registry.is_static() {
            parsed?
        } else {
            parse_resource_in(rt, &body)?
        };
        check_new_grants(s, &a.tenant_id, kind, &body, &attributes)?;
        let created = s.create(
            &a.actor_in(UpdateMethod::Put, cx.registry),
            &a.tenant_id,
            kind,
            attributes,
        )?;
        Ok(render(&base, created, &projection, &cx.registry))
    })
    .await
}

/// Changes one resource with `change` (after the `If-Match` check) in one transaction on
/// `s` and renders it; `method` says which event (`prov:put` or `prov:patch`) the change
/// makes. Groups are read with their members (a PUT or a general PATCH rewrites them);
/// users with their groups only when the response shows them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn update_on(
    s: &mut dyn Session,
    auth: &Authenticated,
    base: &str,
    method: UpdateMethod,
    kind: ResourceKind,
    id: &str,
    if_match: Option<&str>,
    projection: &Projection,
    registry: &Registry,
    change: &mut dyn FnMut(&Resource) -> Result<Option<Attributes>, ScimError>,
) -> Result<Rendered, ApiError> {
    let relations = kind == ResourceKind::Group || wants_relations(kind, projection);
    let r = s
        .update(
            &auth.actor_in(method, *registry),
            &auth.tenant_id,
            kind,
            id,
            relations,
            &mut |current| {
                check_if_match(if_match, current)?;
                change(current)
            },
        )
        .map_err(|e| store_error_for(kind, id, e))?;
    Ok(render(base, r, projection, registry))
}

/// The PUT of `body` on `s` (see [`replace`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn replace_on(
    s: &mut dyn Session,
    auth: &Authenticated,
    base: &str,
    kind: ResourceKind,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
    projection: &Projection,
    cx: Tenancy,
) -> Result<Rendered, ApiError> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax("The request body must be a JSON object").into());
    }
    let rt = cx.resource_type(kind);
    check_resource_body_in(cx.profile, rt, body)?;
    let catalog = grants_catalog(s, &auth.tenant_id, kind, may_touch_grants(body))?;
    update_on(
        s,
        auth,
        base,
        UpdateMethod::Put,
        kind,
        id,
        if_match,
        projection,
        &cx.registry,
        &mut |current| {
            let new = replace_resource_in(rt, &current.attributes, body)?;
            if let Some(c) = &catalog {
                c.check(Some(&current.attributes), &new)?;
            }
            Ok(Some(new))
        },
    )
}

/// `PUT /Users/{id}` (RFC 7644 §3.5.1): full replace; read-only attributes in the body
/// (`id`, `meta`, Okta echoes them) are ignored.
pub async fn replace(
    state: &AppState,
    auth: &Authenticated,
    kind: ResourceKind,
    id: &str,
    body: Value,
    if_match: Option<String>,
    projection: Projection,
) -> Result<Rendered, ApiError> {
    let (a, base, rid) = (
        auth.clone(),
        state.tenant_url(&auth.tenant_id),
        id.to_string(),
    );
    authorized_as(state, auth, Access::Write, move |s, cx| {
        replace_on(
            s,
            &a,
            &base,
            kind,
            &rid,
            &body,
            if_match.as_deref(),
            &projection,
            cx,
        )
    })
    .await
}

/// What a `PATCH` answers.
#[derive(Debug, Clone)]
pub enum Patched {
    /// A group PATCH without a projection: 204 with this `ETag` (Entra's advice: no member
    /// list back), nothing rendered.
    NoContent {
        /// The `ETag` header value.
        etag: String,
    },
    /// 200 with the resource.
    Resource(Rendered),
}

/// The patch's effect on attributes: `None` when nothing changes.
fn patched(
    rt: &'static ResourceType,
    current: &Resource,
    request: &PatchRequest,
    profile: Profile,
) -> Result<Option<Attributes>, ScimError> {
    if request.operations.is_empty() {
        return Ok(None);
    }
    let outcome = apply_patch_in(rt, &current.attributes, request, profile)?;
    Ok(outcome.changed.then_some(outcome.attributes))
}

/// `PATCH /Users/{id}`, `PATCH /Groups/{id}` (RFC 7644 §3.5.2): [`patch_on`] on one
/// session.
pub async fn patch(
    state: &AppState,
    auth: &Authenticated,
    kind: ResourceKind,
    id: &str,
    body: Value,
    if_match: Option<String>,
    projection: Projection,
) -> Result<Patched, ApiError> {
    let request = PatchRequest::from_json(&body)?;
    let schemas_listed = schemas_listed(&body);
    let (a, base, rid) = (
        auth.clone(),
        state.tenant_url(&auth.tenant_id),
        id.to_string(),
    );
    authorized_as(state, auth, Access::Write, move |s, cx| {
        patch_on(
            s,
            &a,
            &base,
            kind,
            &rid,
            &request,
            if_match.as_deref(),
            &projection,
            (cx, schemas_listed),
        )
    })
    .await
}

/// A PATCH on `s`.
///
/// A group PATCH whose member operations split off ([`scim_core::patch::split_member_ops`]) changes the
/// membership by delta without reading the member list; the other operations are applied
/// to the group without `members`. Its 204 answer never loads members; with a projection,
/// the group is read back on the same session with members only if the projection shows
/// them. Any other PATCH is applied to the whole resource in one locked transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) fn patch_on(
    s: &mut dyn Session,
    auth: &Authenticated,
    base: &str,
    kind: ResourceKind,
    id: &str,
    request: &PatchRequest,
    if_match: Option<&str>,
    projection: &Projection,
    (cx, schemas_listed): (Tenancy, bool),
) -> Result<Patched, ApiError> {
    let (rt, profile) = (cx.resource_type(kind), cx.profile);
    // Checked on the whole request: the member operations split off too.
    check_patch_in(profile, rt, request, schemas_listed)?;
    let group_no_body = kind == ResourceKind::Group && projection.is_default();
    let Some(MemberSplit { delta, rest }) = split_member_ops_in(rt, request) else {
        let touches = patch_may_touch_grants(request);
        let catalog = grants_catalog(s, &auth.tenant_id, kind, touches)?;
        let r = update_on(
            s,
            auth,
            base,
            UpdateMethod::Patch,
            kind,
            id,
            if_match,
            projection,
            &cx.registry,
            &mut |current| {
                let out = patched(rt, current, request, profile)?;
                if let (Some(c), Some(new)) = (&catalog, &out) {
                    c.check(Some(&current.attributes), new)?;
                }
                Ok(out)
            },
        )?;
        return Ok(if group_no_body {
            Patched::NoContent { etag: r.etag }
        } else {
            Patched::Resource(r)
        });
    };
    // The member delta and the remaining operations are one PATCH: `prov:patch` for the
    // group's own attributes, feed events for the members.
    let (actor, tenant) = (
        auth.actor_in(UpdateMethod::Patch, cx.registry),
        &auth.tenant_id,
    );
    let not_found = |e| store_error_for(kind, id, e);
    let group = s
        .change_members(&actor, tenant, id, &delta, &mut |current| {
            check_if_match(if_match, current)?;
            patched(rt, current, &rest, profile)
        })
        .map_err(not_found)?;
    if group_no_body {
        return Ok(Patched::NoContent {
            etag: etag(group.meta.version),
        });
    }
    let group = if wants_relations(kind, projection) {
        s.get(tenant, kind, id, true).map_err(not_found)?
    } else {
        group
    };
    Ok(Patched::Resource(render(
        base,
        group,
        projection,
        &cx.registry,
    )))
}

/// Whether a PATCH body lists `schemas` (the strict profile requires it; nothing else of
/// it is kept).
pub(crate) fn schemas_listed(body: &Value) -> bool {
    body.as_object()
        .is_some_and(|m| m.keys().any(|k| k.eq_ignore_ascii_case("schemas")))
}

/// `DELETE /Users/{id}` (RFC 7644 §3.6); `If-Match` is checked on the row the store locks.
pub async fn delete(
    state: &AppState,
    auth: &Authenticated,
    kind: ResourceKind,
    id: &str,
    if_match: Option<String>,
) -> Result<(), ApiError> {
    let (a, rid) = (auth.clone(), id.to_string());
    authorized_as(state, auth, Access::Write, move |s, _| {
        delete_on(s, &a, kind, &rid, if_match.as_deref())
    })
    .await
}

/// A DELETE on `s`.
pub(crate) fn delete_on(
    s: &mut dyn Session,
    auth: &Authenticated,
    kind: ResourceKind,
    id: &str,
    if_match: Option<&str>,
) -> Result<(), ApiError> {
    s.delete(
        &auth.actor(UpdateMethod::Put),
        &auth.tenant_id,
        kind,
        id,
        &mut |current| check_if_match(if_match, current),
    )
    .map_err(|e| store_error_for(kind, id, e))
}
