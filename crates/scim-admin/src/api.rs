//! The admin JSON API (`/admin/api`), for automation: organizations (list, create, one,
//! pause and resume), token generation (the token is in that response only), read access to users, groups
//! and the provisioning log, the request log ([`requests`](crate::requests)), and the event feed and its subscriptions
//! ([`webhooks::api`](crate::webhooks::api)). Authenticated by an admin API token
//! (`Authorization: Bearer`, from `scim-server admin token`); the same
//! [`service`](crate::service) functions as the pages.

use crate::AdminError;
use crate::service::{self, LOG_PAGE_SIZE, LogFilter, parse_page};
use crate::session::{AdminState, Credential, Principal, authenticate};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use scim_core::ResourceKind;
use scim_store::{LogEntry, Tenant};
use serde_json::{Value, json};
use std::collections::HashMap;

type Data = web::Data<AdminState>;

/// An error as a JSON body `{"status": 404, "error": "not found"}`.
#[derive(Debug)]
pub struct JsonError(pub AdminError);

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<AdminError> for JsonError {
    fn from(e: AdminError) -> Self {
        JsonError(e)
    }
}

impl ResponseError for JsonError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        let status = self.0.status();
        let mut resp = HttpResponse::build(status);
        resp.insert_header((header::CACHE_CONTROL, "no-store"));
        if status == StatusCode::UNAUTHORIZED {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"scim-admin\""));
        }
        if let Some(secs) = self.0.retry_after() {
            resp.insert_header((header::RETRY_AFTER, secs));
        }
        resp.json(json!({"status": status.as_u16(), "error": self.0.public_message()}))
    }
}

pub(crate) type ApiResult = Result<HttpResponse, JsonError>;

/// The API's routes (under `/admin`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api")
            .route("/organizations", web::get().to(list_orgs))
            .route("/organizations", web::post().to(create_org))
            .route("/organizations/{org}", web::get().to(get_org))
            .route("/organizations/{org}", web::patch().to(patch_org))
            .route("/organizations/{org}", web::delete().to(delete_org))
            .route("/organizations/{org}/token", web::post().to(generate))
            .route("/organizations/{org}/users", web::get().to(users))
            .route("/organizations/{org}/users/{id}", web::get().to(user))
            .route("/organizations/{org}/groups", web::get().to(groups))
            .route("/organizations/{org}/groups/{id}", web::get().to(group))
            .route("/organizations/{org}/log", web::get().to(log))
            .route("/organizations/{org}/schemas", web::get().to(list_schemas))
            .route("/organizations/{org}/schemas", web::put().to(put_schema))
            .route(
                "/organizations/{org}/schemas/{urn}",
                web::get().to(get_schema),
            )
            .route(
                "/organizations/{org}/schemas/{urn}",
                web::put().to(put_schema),
            )
            .route(
                "/organizations/{org}/schemas/{urn}",
                web::delete().to(delete_schema),
            )
            .configure(crate::webhooks::api::routes)
            .configure(crate::entitlements::api::routes)
            .configure(crate::requests::api_routes)
            .default_service(web::to(not_found)),
    );
}

pub(crate) fn ok(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

pub(crate) async fn who(state: &AdminState, req: &HttpRequest) -> Result<Principal, AdminError> {
    authenticate(state, req, Credential::Bearer).await
}

pub(crate) fn org_id(req: &HttpRequest) -> String {
    req.match_info().get("org").unwrap_or_default().to_string()
}

pub(crate) fn query(req: &HttpRequest) -> HashMap<String, String> {
    web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

/// An organization as JSON (never the token, only its dates).
pub fn org_json(state: &AdminState, t: &Tenant) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "created": t.created.to_rfc3339(),
        "tenantUrl": state.app.tenant_url(&t.id),
        "paused": t.paused_at.is_some(),
        "pausedAt": t.paused_at.map(|p| p.to_rfc3339()),
        "profile": t.profile.as_str(),
        "token": t.token.as_ref().map(|r| json!({
            "id": r.id,
            "generated": r.generated.to_rfc3339(),
            "lastUsed": r.last_used.map(|u| u.to_rfc3339()),
        })),
    })
}

fn log_json(e: &LogEntry) -> Value {
    json!({
        "id": e.id,
        "at": e.at.to_rfc3339(),
        "operation": e.operation.as_str(),
        "resourceType": e.resource_kind.as_str(),
        "resourceId": e.resource_id,
        "summary": e.summary,
    })
}

async fn not_found(req: HttpRequest, state: Data) -> ApiResult {
    who(&state, &req).await?;
    Err(AdminError::NotFound.into())
}

async fn list_orgs(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let tenants = state.run(move |s| service::organizations(s, &w)).await?;
    let items: Vec<Value> = tenants.iter().map(|t| org_json(&state, t)).collect();
    Ok(ok(StatusCode::OK, &json!({"organizations": items})))
}

async fn create_org(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
    let w = who(&state, &req).await?;
    let parsed: Value = serde_json::from_slice(&body)
        .map_err(|_| AdminError::BadRequest("The body must be a JSON object.".into()))?;
    let name = parsed
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| AdminError::BadRequest("'name' (a string) is required.".into()))?
        .to_string();
    let t = state
        .run(move |s| service::create_organization(s, &w, &name))
        .await?;
    Ok(ok(StatusCode::CREATED, &org_json(&state, &t)))
}

async fn get_org(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let t = state
        .run(move |s| service::organization(s, &w, &id))
        .await?;
    Ok(ok(StatusCode::OK, &org_json(&state, &t)))
}

/// `PATCH /organizations/{id}` with `{"paused": true|false}` (pauses or resumes
/// provisioning) and/or `{"profile": "strict"|"lenient"}` (the SCIM profile); at least one.
/// Both are checked before either is written; answers with the organization.
async fn patch_org(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let parsed: Value = serde_json::from_slice(&body)
        .map_err(|_| AdminError::BadRequest("The body must be a JSON object.".into()))?;
    let paused = match parsed.get("paused") {
        None => None,
        Some(v) => Some(
            v.as_bool()
                .ok_or_else(|| AdminError::BadRequest("'paused' must be true or false.".into()))?,
        ),
    };
    let profile = match parsed.get("profile") {
        None => None,
        Some(v) => Some(
            v.as_str()
                .and_then(|p| p.parse::<scim_core::Profile>().ok())
                .ok_or_else(|| {
                    AdminError::BadRequest("'profile' must be \"strict\" or \"lenient\".".into())
                })?,
        ),
    };
    if paused.is_none() && profile.is_none() {
        return Err(AdminError::BadRequest(
            "'paused' (true or false) or 'profile' (\"strict\" or \"lenient\") is required.".into(),
        )
        .into());
    }
    let t = state
        .run(move |s| {
            let mut t = service::organization(s, &w, &id)?;
            if let Some(paused) = paused {
                t = service::set_paused(s, &w, &id, paused)?;
            }
            if let Some(profile) = profile {
                t = service::set_profile(s, &w, &id, profile)?;
            }
            Ok(t)
        })
        .await?;
    Ok(ok(StatusCode::OK, &org_json(&state, &t)))
}

/// `DELETE /organizations/{id}`: the organization and all its data (operators only);
/// 204.
async fn delete_org(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    state
        .run(move |s| service::delete_organization(s, &w, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The optional `expected_token_id` of a Generate body: absent (or no body) → `None`
/// (the token current just before is replaced); `null` → the caller saw no token.
fn expected_token_id(body: &[u8]) -> Result<Option<Option<String>>, AdminError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let parsed: Value = serde_json::from_slice(body)
        .map_err(|_| AdminError::BadRequest("The body must be a JSON object.".into()))?;
    match parsed.get("expected_token_id") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(id)) => Ok(Some(Some(id.clone()))),
        Some(_) => Err(AdminError::BadRequest(
            "'expected_token_id' must be a string or null.".into(),
        )),
    }
}

async fn generate(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let expected = expected_token_id(&body)?;
    let g = state
        .run(move |s| service::generate_token(s, &w, &id, expected))
        .await?;
    Ok(ok(
        StatusCode::CREATED,
        &json!({
            "organizationId": g.tenant_id,
            "tenantUrl": state.app.tenant_url(&g.tenant_id),
            "tokenId": g.token_id,
            "token": g.token,
        }),
    ))
}

fn page_json(state: &AdminState, tenant_id: &str, page: u64, p: &scim_store::Page) -> Value {
    let base = state.app.tenant_url(tenant_id);
    json!({
        "totalResults": p.total_results,
        "page": page,
        "pageSize": service::PAGE_SIZE,
        "resources": p.resources.iter().map(|r| r.to_json(&base)).collect::<Vec<_>>(),
    })
}

async fn users(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let q = query(&req);
    let search = q.get("q").cloned().unwrap_or_default();
    let page = parse_page(q.get("page").map(String::as_str));
    let id = org_id(&req);
    let tid = id.clone();
    let p = state
        .run(move |s| service::users(s, &w, &tid, &search, page))
        .await?;
    Ok(ok(StatusCode::OK, &page_json(&state, &id, page, &p)))
}

async fn groups(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let page = parse_page(query(&req).get("page").map(String::as_str));
    let id = org_id(&req);
    let tid = id.clone();
    let p = state
        .run(move |s| service::groups(s, &w, &tid, page))
        .await?;
    Ok(ok(StatusCode::OK, &page_json(&state, &id, page, &p)))
}

async fn resource(req: HttpRequest, state: Data, kind: ResourceKind) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let rid = req.match_info().get("id").unwrap_or_default().to_string();
    let tid = id.clone();
    let r = state
        .run(move |s| service::resource(s, &w, &tid, kind, &rid))
        .await?;
    Ok(ok(StatusCode::OK, &r.to_json(&state.app.tenant_url(&id))))
}

async fn user(req: HttpRequest, state: Data) -> ApiResult {
    resource(req, state, ResourceKind::User).await
}

async fn group(req: HttpRequest, state: Data) -> ApiResult {
    resource(req, state, ResourceKind::Group).await
}

/// `GET /organizations/{id}/schemas`: `{"schemas": [...]}` as `scim-server schema list
/// --json` shows them (removed ones with `"active": false`).
async fn list_schemas(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let rows = state.run(move |s| service::schemas(s, &w, &id)).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(scim_http::tenant_schemas::schema_json)
        .collect();
    Ok(ok(StatusCode::OK, &json!({"schemas": items})))
}

/// `GET /organizations/{id}/schemas/{urn}` (letter case ignored).
async fn get_schema(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let urn = req.match_info().get("urn").unwrap_or_default().to_string();
    let rows = state.run(move |s| service::schemas(s, &w, &id)).await?;
    let row = rows
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(&urn))
        .ok_or(AdminError::NotFound)?;
    Ok(ok(
        StatusCode::OK,
        &scim_http::tenant_schemas::schema_json(row),
    ))
}

/// `PUT /organizations/{id}/schemas[/{urn}]` with `{"extends": "User"|"Group",
/// "document": {…schema…}, "required": false, "force": false}`: creates or replaces; the
/// URN of the path, when given, must be the document's `id`. 200 with the stored schema.
async fn put_schema(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let parsed: Value = serde_json::from_slice(&body)
        .map_err(|_| AdminError::BadRequest("The body must be a JSON object.".into()))?;
    let extends = match parsed.get("extends").and_then(Value::as_str) {
        Some(k) if k.eq_ignore_ascii_case("user") => ResourceKind::User,
        Some(k) if k.eq_ignore_ascii_case("group") => ResourceKind::Group,
        _ => {
            return Err(
                AdminError::BadRequest("'extends' must be \"User\" or \"Group\".".into()).into(),
            );
        }
    };
    let flag = |key: &str| -> Result<bool, AdminError> {
        match parsed.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(AdminError::BadRequest(format!(
                "'{key}' must be true or false."
            ))),
        }
    };
    let options = scim_http::tenant_schemas::SchemaPut {
        extends,
        required: flag("required")?,
        force: flag("force")?,
    };
    let document = match parsed.get("document") {
        Some(d @ Value::Object(_)) => d,
        _ => {
            return Err(AdminError::BadRequest(
                "'document' (the schema document, a JSON object) is required.".into(),
            )
            .into());
        }
    };
    if let Some(urn) = req.match_info().get("urn")
        && !document
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|d| d.eq_ignore_ascii_case(urn))
    {
        return Err(AdminError::BadRequest(
            "The URN in the path must be the document's 'id'.".into(),
        )
        .into());
    }
    let text = document.to_string();
    let row = state
        .run(move |s| service::put_schema(s, &w, &id, &text, &options))
        .await?;
    Ok(ok(
        StatusCode::OK,
        &scim_http::tenant_schemas::schema_json(&row),
    ))
}

/// `DELETE /organizations/{id}/schemas/{urn}`: 204; stored values are withheld.
async fn delete_schema(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let urn = req.match_info().get("urn").unwrap_or_default().to_string();
    state
        .run(move |s| service::remove_schema(s, &w, &id, &urn))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn log(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let filter = web::Query::<LogFilter>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let limit = query(&req)
        .get("limit")
        .and_then(|l| l.parse::<u64>().ok())
        .unwrap_or(LOG_PAGE_SIZE)
        .clamp(1, 1000);
    let id = org_id(&req);
    let entries = state
        .run(move |s| {
            let q = filter.query(limit)?;
            service::log(s, &w, &id, &q)
        })
        .await?;
    let next = (entries.len() as u64 >= limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(ok(
        StatusCode::OK,
        &json!({
            "entries": entries.iter().map(log_json).collect::<Vec<_>>(),
            "nextBefore": next,
        }),
    ))
}
