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

/// The routes (inside the API's `/api` scope); the types' routes come first so that
/// `types` is never taken for a value's id.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let base = "/organizations/{org}/entitlements";
    cfg.route(&format!("{base}/types"), web::get().to(list_types))
        .route(&format!("{base}/types"), web::post().to(add_type))
        .route(
            &format!("{base}/types/{{tid}}"),
            web::delete().to(remove_type),
        )
        .route(base, web::get().to(list_values))
        .route(base, web::post().to(add_value))
        .route(&format!("{base}/{{vid}}"), web::delete().to(remove_value));
}

fn segment(req: &HttpRequest, name: &str) -> String {
    req.match_info().get(name).unwrap_or_default().to_string()
}

fn number(q: &std::collections::HashMap<String, String>, key: &str, default: u64) -> u64 {
    q.get(key)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

async fn list_values(req: HttpRequest, state: Data) -> ApiResult {
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

async fn add_value(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
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

async fn remove_value(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let (id, vid) = (org_id(&req), segment(&req, "vid"));
    let v = state
        .run(move |s| super::remove_value(s, &w, &id, &vid))
        .await?;
    Ok(ok(StatusCode::OK, &json!({"removed": json::value(&v)})))
}

async fn list_types(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let types = state.run(move |s| super::types(s, &w, &id)).await?;
    let items: Vec<_> = types.iter().map(json::entitlement_type).collect();
    Ok(ok(StatusCode::OK, &json!({"types": items})))
}

async fn add_type(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
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

async fn remove_type(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let (id, tid) = (org_id(&req), segment(&req, "tid"));
    let removed = tid.clone();
    state
        .run(move |s| super::remove_type(s, &w, &id, &tid))
        .await?;
    Ok(ok(StatusCode::OK, &json!({"removed": removed})))
}
