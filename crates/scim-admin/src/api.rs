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
        if let AdminError::MethodNotAllowed(allow) = &self.0 {
            resp.insert_header((header::ALLOW, allow.as_str()));
        }
        resp.json(json!({"status": status.as_u16(), "error": self.0.public_message()}))
    }
}

pub(crate) type ApiResult = Result<HttpResponse, JsonError>;

/// Declares routes once: `$register` adds them to a `ServiceConfig` and `$table` lists
/// them as `(method, path under /admin/api)`, which the OpenAPI tests compare with the
/// document (whose paths come from the handlers' `#[utoipa::path]`).
macro_rules! declare_routes {
    ($table:ident, $register:ident { $($method:ident $path:literal => $handler:path),* $(,)? }) => {
        /// Every route of this module: `(method, path under /admin/api)`.
        pub const $table: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        /// Registers every route of the table, one resource per path (any other method
        /// answers 405 with `Allow`).
        pub(crate) fn $register(cfg: &mut actix_web::web::ServiceConfig) {
            crate::api::register_resources(
                cfg,
                vec![$(($path, stringify!($method), actix_web::web::$method().to($handler))),*],
            );
        }
    };
}
pub(crate) use declare_routes;

declare_routes!(ROUTES, register {
    get "/organizations" => list_orgs,
    post "/organizations" => create_org,
    get "/organizations/{org}" => get_org,
    patch "/organizations/{org}" => patch_org,
    delete "/organizations/{org}" => delete_org,
    post "/organizations/{org}/token" => generate,
    get "/organizations/{org}/users" => users,
    get "/organizations/{org}/users/{id}" => user,
    get "/organizations/{org}/groups" => groups,
    get "/organizations/{org}/groups/{id}" => group,
    get "/organizations/{org}/log" => log,
    get "/organizations/{org}/schemas" => list_schemas,
    put "/organizations/{org}/schemas" => put_schema,
    get "/organizations/{org}/schemas/{urn}" => get_schema,
    put "/organizations/{org}/schemas/{urn}" => put_schema_at,
    delete "/organizations/{org}/schemas/{urn}" => delete_schema,
});

/// Registers `routes` (path, method name, route) as one resource per path, in order of
/// first appearance; any other method of a path answers 405 with an `Allow` header naming
/// the path's methods (after authentication, as every API answer).
pub(crate) fn register_resources(
    cfg: &mut web::ServiceConfig,
    routes: Vec<(&'static str, &'static str, actix_web::Route)>,
) {
    let mut paths: Vec<(&'static str, Vec<&'static str>, Vec<actix_web::Route>)> = Vec::new();
    for (path, method, route) in routes {
        match paths.iter_mut().find(|(p, _, _)| *p == path) {
            Some((_, methods, rs)) => {
                methods.push(method);
                rs.push(route);
            }
            None => paths.push((path, vec![method], vec![route])),
        }
    }
    for (path, methods, routes) in paths {
        let allow: Vec<String> = methods.iter().map(|m| m.to_ascii_uppercase()).collect();
        let allow = allow.join(", ");
        let mut resource = web::resource(path);
        for route in routes {
            resource = resource.route(route);
        }
        cfg.service(
            resource.default_service(web::to(move |req: HttpRequest, state: Data| {
                let allow = allow.clone();
                async move {
                    who(&state, &req).await?;
                    Err::<HttpResponse, JsonError>(AdminError::MethodNotAllowed(allow).into())
                }
            })),
        );
    }
}

/// Every route of the admin API, `(method, path under /admin/api)`: this module's, the
/// events and webhooks routes, the roles and entitlements routes and the request log's.
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    ROUTES
        .iter()
        .chain(crate::webhooks::api::ROUTES)
        .chain(crate::entitlements::api::ROUTES)
        .chain(crate::requests::ROUTES)
        .copied()
        .collect()
}

/// The API's routes (under `/admin`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api")
            .configure(register)
            .configure(crate::webhooks::api::register)
            .configure(crate::entitlements::api::register)
            .configure(crate::requests::register)
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

#[utoipa::path(
    get,
    path = "/admin/api/organizations",
    tag = "Admin: organizations",
    operation_id = "adminListOrganizations",
    summary = "List the organizations this admin may see",
    responses(
        (status = 200, description = "The organizations", body = crate::openapi::Organizations),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn list_orgs(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let tenants = state.run(move |s| service::organizations(s, &w)).await?;
    let items: Vec<Value> = tenants.iter().map(|t| org_json(&state, t)).collect();
    Ok(ok(StatusCode::OK, &json!({"organizations": items})))
}

#[utoipa::path(
    post,
    path = "/admin/api/organizations",
    tag = "Admin: organizations",
    operation_id = "adminCreateOrganization",
    summary = "Create an organization",
    request_body(content = crate::openapi::NewOrganization, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = crate::openapi::Organization),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 403, description = "Reserved to operators", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn create_org(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
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

#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}",
    tag = "Admin: organizations",
    operation_id = "adminGetOrganization",
    summary = "One organization",
    params(
        ("org" = String, Path, description = "The organization's id."),
    ),
    responses(
        (status = 200, description = "The organization", body = crate::openapi::Organization),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn get_org(req: HttpRequest, state: Data) -> ApiResult {
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
#[utoipa::path(
    patch,
    path = "/admin/api/organizations/{org}",
    tag = "Admin: organizations",
    operation_id = "adminPatchOrganization",
    summary = "Pause or resume provisioning, or set the SCIM profile",
    params(
        ("org" = String, Path, description = "The organization's id."),
    ),
    request_body(content = crate::openapi::OrganizationChange, content_type = "application/json"),
    responses(
        (status = 200, description = "The organization", body = crate::openapi::Organization),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn patch_org(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
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
#[utoipa::path(
    delete,
    path = "/admin/api/organizations/{org}",
    tag = "Admin: organizations",
    operation_id = "adminDeleteOrganization",
    summary = "Delete an organization and all its data",
    params(
        ("org" = String, Path, description = "The organization's id."),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 403, description = "Reserved to operators", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn delete_org(req: HttpRequest, state: Data) -> ApiResult {
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

#[utoipa::path(
    post,
    path = "/admin/api/organizations/{org}/token",
    tag = "Admin: organizations",
    operation_id = "adminGenerateToken",
    summary = "Generate the organization's token (the previous one stops working at once)",
    params(
        ("org" = String, Path, description = "The organization's id."),
    ),
    request_body(content = crate::openapi::GenerateRequest, content_type = "application/json", description = "Optional."),
    responses(
        (status = 201, description = "The new token (shown only here)", body = crate::openapi::GeneratedToken),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
        (status = 409, description = "Conflict (the message says what)", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn generate(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
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

#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/users",
    tag = "Admin: organizations",
    operation_id = "adminListUsers",
    summary = "A page of the organization's users",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("q" = Option<String>, Query, description = "Search text."),
        ("page" = Option<u64>, Query, description = "The page, from 1."),
    ),
    responses(
        (status = 200, description = "A page", body = crate::openapi::ResourcePage),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn users(req: HttpRequest, state: Data) -> ApiResult {
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

#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/groups",
    tag = "Admin: organizations",
    operation_id = "adminListGroups",
    summary = "A page of the organization's groups",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("page" = Option<u64>, Query, description = "The page, from 1."),
    ),
    responses(
        (status = 200, description = "A page", body = crate::openapi::ResourcePage),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn groups(req: HttpRequest, state: Data) -> ApiResult {
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

#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/users/{id}",
    tag = "Admin: organizations",
    operation_id = "adminGetUser",
    summary = "One user, as SCIM JSON",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("id" = String, Path, description = "The user's id."),
    ),
    responses(
        (status = 200, description = "The user", body = serde_json::Value),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn user(req: HttpRequest, state: Data) -> ApiResult {
    resource(req, state, ResourceKind::User).await
}

#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/groups/{id}",
    tag = "Admin: organizations",
    operation_id = "adminGetGroup",
    summary = "One group, as SCIM JSON",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("id" = String, Path, description = "The group's id."),
    ),
    responses(
        (status = 200, description = "The group", body = serde_json::Value),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn group(req: HttpRequest, state: Data) -> ApiResult {
    resource(req, state, ResourceKind::Group).await
}

/// `GET /organizations/{id}/schemas`: `{"schemas": [...]}` as `scim-server schema list
/// --json` shows them (removed ones with `"active": false`).
#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/schemas",
    tag = "Admin: organizations",
    operation_id = "adminListSchemas",
    summary = "The organization's extension schemas (removed ones inactive)",
    params(
        ("org" = String, Path, description = "The organization's id."),
    ),
    responses(
        (status = 200, description = "The extensions", body = crate::openapi::SchemaExtensions),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn list_schemas(req: HttpRequest, state: Data) -> ApiResult {
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
#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/schemas/{urn}",
    tag = "Admin: organizations",
    operation_id = "adminGetSchema",
    summary = "One extension schema",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("urn" = String, Path, description = "The extension schema's URN (letter case ignored)."),
    ),
    responses(
        (status = 200, description = "The extension", body = crate::openapi::SchemaExtension),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn get_schema(req: HttpRequest, state: Data) -> ApiResult {
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
#[utoipa::path(
    put,
    path = "/admin/api/organizations/{org}/schemas",
    tag = "Admin: organizations",
    operation_id = "adminPutSchema",
    summary = "Create or replace an extension schema (its URN is the document's id)",
    params(
        ("org" = String, Path, description = "The organization's id."),
    ),
    request_body(content = crate::openapi::SchemaPut, description = "The extension and its options", content_type = "application/json"),
    responses(
        (status = 200, description = "The stored extension", body = crate::openapi::SchemaExtension),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
        (status = 409, description = "Refused: the change conflicts with the stored resources (the message says why)", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn put_schema(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
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

#[utoipa::path(
    put,
    path = "/admin/api/organizations/{org}/schemas/{urn}",
    tag = "Admin: organizations",
    operation_id = "adminPutSchemaAt",
    summary = "Create or replace the extension schema of this URN (the document's id must match)",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("urn" = String, Path, description = "The extension schema's URN (letter case ignored)."),
    ),
    request_body(content = crate::openapi::SchemaPut, description = "The extension and its options", content_type = "application/json"),
    responses(
        (status = 200, description = "The stored extension", body = crate::openapi::SchemaExtension),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
        (status = 409, description = "Refused: the change conflicts with the stored resources (the message says why)", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn put_schema_at(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
    put_schema(req, state, body).await
}

/// `DELETE /organizations/{id}/schemas/{urn}`: 204; stored values are withheld.
#[utoipa::path(
    delete,
    path = "/admin/api/organizations/{org}/schemas/{urn}",
    tag = "Admin: organizations",
    operation_id = "adminDeleteSchema",
    summary = "Remove an extension schema (stored values are withheld)",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("urn" = String, Path, description = "The extension schema's URN (letter case ignored)."),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
        (status = 409, description = "Refused: the change conflicts with the stored resources (the message says why)", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn delete_schema(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let urn = req.match_info().get("urn").unwrap_or_default().to_string();
    state
        .run(move |s| service::remove_schema(s, &w, &id, &urn))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/log",
    tag = "Admin: organizations",
    operation_id = "adminProvisioningLog",
    summary = "The provisioning log, newest first",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("limit" = Option<u64>, Query, description = "Entries per page (1 to 1000, default 50)."),
        ("before" = Option<String>, Query, description = "Only entries older than this id (the next page)."),
        ("operation" = Option<String>, Query, description = "create, update, deactivate, reactivate, delete or group-membership."),
        ("kind" = Option<String>, Query, description = "User or Group."),
        ("resource" = Option<String>, Query, description = "Only this resource's entries."),
    ),
    responses(
        (status = 200, description = "A page of entries", body = crate::openapi::LogPage),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn log(req: HttpRequest, state: Data) -> ApiResult {
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
