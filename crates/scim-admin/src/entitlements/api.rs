//! The roles and entitlements routes of the admin JSON API (under `/admin/api`), with the
//! API's authentication (an admin API token: the host application's way in) and isolation
//! (another organization is 404):
//!
//! - `GET /organizations/{id}/entitlements?kind=&startIndex=&count=`: values, in definition
//!   order (`{"totalResults", "entitlements": [{id, kind, value, display, created}]}`);
//! - `POST /organizations/{id}/entitlements` `{"kind", "value", "display"}`: 201 with the
//!   value (409 when the kind already has that value, 400 for an unknown kind);
//! - `DELETE /organizations/{id}/entitlements/{vid}`;
//! - `GET|POST /organizations/{id}/entitlements/types` (`{"id", "name", "endpoint"}`) and
//!   `DELETE …/entitlements/types/{tid}` (409 while the type has values).

use super::json;
use crate::api::{ApiResult, ok, org_id, query, who};
use crate::session::AdminState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use serde_json::json;

type Data = web::Data<AdminState>;

// The types' routes come first so that `types` is never taken for a value's id.
crate::api::declare_routes!(ROUTES, register {
    get "/organizations/{org}/entitlements/types" => list_types,
    post "/organizations/{org}/entitlements/types" => add_type,
    delete "/organizations/{org}/entitlements/types/{tid}" => remove_type,
    get "/organizations/{org}/entitlements" => list_values,
    post "/organizations/{org}/entitlements" => add_value,
    delete "/organizations/{org}/entitlements/{vid}" => remove_value,
});

fn segment(req: &HttpRequest, name: &str) -> String {
    req.match_info().get(name).unwrap_or_default().to_string()
}

fn number(q: &std::collections::HashMap<String, String>, key: &str, default: u64) -> u64 {
    q.get(key)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/entitlements",
    tag = "Admin: organizations",
    operation_id = "adminListEntitlements",
    summary = "The organization's role and entitlement values, in definition order",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("kind" = Option<String>, Query, description = "Only this kind: `role`, `entitlement` or a type's id."),
        ("startIndex" = Option<u64>, Query, description = "The 1-based index of the first value."),
        ("count" = Option<u64>, Query, description = "The page size."),
    ),
    responses(
        (status = 200, description = "A page of values", body = crate::openapi::EntitlementValues),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), value or type", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn list_values(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let q = query(&req);
    let kind = q.get("kind").cloned();
    let (start, count) = (
        number(&q, "startIndex", 1),
        number(&q, "count", super::MAX_PAGE),
    );
    let page = state
        .run(move |s| super::values(s, &w, &id, kind.as_deref(), start, count))
        .await?;
    let items: Vec<_> = page.values.iter().map(json::value).collect();
    Ok(ok(
        StatusCode::OK,
        &json!({"totalResults": page.total_results, "entitlements": items}),
    ))
}

#[utoipa::path(
    post,
    path = "/admin/api/organizations/{org}/entitlements",
    tag = "Admin: organizations",
    operation_id = "adminAddEntitlement",
    summary = "Add a role, entitlement or custom-type value",
    params(
        ("org" = String, Path, description = "The organization's id."),
    ),
    request_body(content = crate::openapi::NewEntitlementValue, content_type = "application/json"),
    responses(
        (status = 201, description = "The value", body = crate::openapi::EntitlementValue),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), value or type", body = crate::openapi::AdminErrorBody),
        (status = 409, description = "The kind already has that value", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn add_value(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let v = state
        .run(move |s| {
            // The organization first: another organization is 404 even with a bad body.
            crate::service::organization(s, &w, &id)?;
            let new: json::NewValue = json::parse(&body)?;
            super::add_value(s, &w, &id, &new.kind, &new.value, &new.display)
        })
        .await?;
    Ok(ok(StatusCode::CREATED, &json::value(&v)))
}

#[utoipa::path(
    delete,
    path = "/admin/api/organizations/{org}/entitlements/{vid}",
    tag = "Admin: organizations",
    operation_id = "adminRemoveEntitlement",
    summary = "Remove a value",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("vid" = String, Path, description = "The value's id."),
    ),
    responses(
        (status = 200, description = "The removed value", body = crate::openapi::RemovedEntitlementValue),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), value or type", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn remove_value(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let (id, vid) = (org_id(&req), segment(&req, "vid"));
    let v = state
        .run(move |s| super::remove_value(s, &w, &id, &vid))
        .await?;
    Ok(ok(StatusCode::OK, &json!({"removed": json::value(&v)})))
}

#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/entitlements/types",
    tag = "Admin: organizations",
    operation_id = "adminListEntitlementTypes",
    summary = "The organization's custom entitlement types",
    params(
        ("org" = String, Path, description = "The organization's id."),
    ),
    responses(
        (status = 200, description = "The types", body = crate::openapi::EntitlementTypes),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), value or type", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn list_types(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let types = state.run(move |s| super::types(s, &w, &id)).await?;
    let items: Vec<_> = types.iter().map(json::entitlement_type).collect();
    Ok(ok(StatusCode::OK, &json!({"types": items})))
}

#[utoipa::path(
    post,
    path = "/admin/api/organizations/{org}/entitlements/types",
    tag = "Admin: organizations",
    operation_id = "adminAddEntitlementType",
    summary = "Add a custom entitlement type (its endpoint is served read-only over SCIM)",
    params(
        ("org" = String, Path, description = "The organization's id."),
    ),
    request_body(content = crate::openapi::NewEntitlementType, content_type = "application/json"),
    responses(
        (status = 201, description = "The type", body = crate::openapi::EntitlementTypeBody),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), value or type", body = crate::openapi::AdminErrorBody),
        (status = 409, description = "The id or endpoint is taken", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn add_type(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let t = state
        .run(move |s| {
            crate::service::organization(s, &w, &id)?;
            let new: json::NewType = json::parse(&body)?;
            let (name, endpoint) = new.resolved();
            super::add_type(s, &w, &id, &new.id, &name, &endpoint)
        })
        .await?;
    Ok(ok(StatusCode::CREATED, &json::entitlement_type(&t)))
}

#[utoipa::path(
    delete,
    path = "/admin/api/organizations/{org}/entitlements/types/{tid}",
    tag = "Admin: organizations",
    operation_id = "adminRemoveEntitlementType",
    summary = "Remove a custom entitlement type",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("tid" = String, Path, description = "The type's id."),
    ),
    responses(
        (status = 200, description = "The removed type's id", body = crate::openapi::Removed),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), value or type", body = crate::openapi::AdminErrorBody),
        (status = 409, description = "The type still has values", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn remove_type(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let (id, tid) = (org_id(&req), segment(&req, "tid"));
    let removed = tid.clone();
    state
        .run(move |s| super::remove_type(s, &w, &id, &tid))
        .await?;
    Ok(ok(StatusCode::OK, &json!({"removed": removed})))
}
