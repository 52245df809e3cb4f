//! Routes and handlers. Handlers extract the request, call [`crate::service`] and shape
//! the response; every error becomes a SCIM error body.

use crate::auth::Authenticated;
use crate::error::{ApiError, scim_error_response};
use crate::request::{json_body, json_body_limited, query_pairs};
use crate::request_log::{self, mask};
use crate::response::{resource_response, scim_json, scim_text};
use crate::service::entitlements::Endpoint;
use crate::service::{self, list_limits, projection_from_pairs};
use crate::state::AppState;
use crate::tenant_schemas::Tenancy;
use actix_web::http::Method;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, Route, web};
use scim_core::discovery::{self, DiscoveryOptions};
use scim_core::entitlements::EntitlementType;
use scim_core::list::{ListQuery, list_response};
use scim_core::schema::ResourceKind;
use scim_core::{Profile, ScimError};
use scim_store::{Access, RequestAction};
use serde_json::json;

type Data = web::Data<AppState>;
type Res = Result<HttpResponse, ApiError>;

/// What a registered operation does: the OpenAPI document ([`crate::openapi`]) describes
/// each operation from this, so a route cannot be added without its description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `GET /Users` or `/Groups`: a list (filter, sort, paging, projection).
    List(ResourceKind),
    /// `POST /Users` or `/Groups`.
    Create(ResourceKind),
    /// `POST /Users/.search` or `/Groups/.search`.
    Search(ResourceKind),
    /// `GET /{kind}/{id}`.
    Get(ResourceKind),
    /// `PUT /{kind}/{id}`.
    Replace(ResourceKind),
    /// `PATCH /{kind}/{id}`.
    Patch(ResourceKind),
    /// `DELETE /{kind}/{id}`.
    Delete(ResourceKind),
    /// `POST /.search` across users and groups.
    SearchAll,
    /// `POST /Bulk`.
    Bulk,
    /// `GET /Roles` or `/Entitlements`: the tenant's values of that kind (read-only).
    EntitlementList(Builtin),
    /// `GET /Roles/{id}` or `/Entitlements/{id}`.
    EntitlementGet(Builtin),
    /// `GET /{entitlementEndpoint}`: the values of one of the tenant's own entitlement
    /// types (e.g. `/Licenses`); 404 when the tenant has no type there.
    CustomList,
    /// `GET /{entitlementEndpoint}/{id}`.
    CustomGet,
    /// `GET /ServiceProviderConfig`.
    ServiceProviderConfig,
    /// `GET /ResourceTypes`.
    ResourceTypes,
    /// `GET /ResourceTypes/{id}`.
    ResourceType,
    /// `GET /Schemas`.
    Schemas,
    /// `GET /Schemas/{id}`.
    Schema,
    /// `GET|HEAD /healthz`.
    Healthz,
    /// `GET|HEAD /readyz`.
    Readyz,
}

/// The two entitlement endpoints every tenant has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `/Roles`.
    Roles,
    /// `/Entitlements`.
    Entitlements,
}

impl Builtin {
    /// The endpoint's name, as in its path: `Roles` or `Entitlements`.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Roles => "Roles",
            Builtin::Entitlements => "Entitlements",
        }
    }

    fn endpoint(self) -> Endpoint {
        match self {
            Builtin::Roles => Endpoint::Roles,
            Builtin::Entitlements => Endpoint::Entitlements,
        }
    }
}

/// The path parameter naming a custom entitlement type's endpoint (its path segment).
pub const CUSTOM_ENDPOINT: &str = "entitlementEndpoint";

/// One registered path: its pattern (from the application root, e.g.
/// `/scim/v2/{tenant_id}/Users/{id}`) and the operations it answers; any other method is
/// `405` with an `Allow` header naming these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// The path pattern, with `{name}` placeholders.
    pub path: String,
    /// The methods and what each does.
    pub ops: Vec<(Method, Op)>,
}

impl RouteSpec {
    /// The `Allow` header value: the methods, comma-separated.
    pub fn allow(&self) -> String {
        let methods: Vec<&str> = self.ops.iter().map(|(m, _)| m.as_str()).collect();
        methods.join(", ")
    }

    /// Whether this is a custom entitlement type's path (`/{entitlementEndpoint}…`): it
    /// matches any segment, so it is registered after every fixed path, and its other
    /// methods are 405 only when the tenant has a type there (else the usual 404).
    pub fn is_custom(&self) -> bool {
        self.ops
            .iter()
            .any(|(_, op)| matches!(op, Op::CustomList | Op::CustomGet))
    }
}

/// The prefix of every SCIM endpoint; `{tenant_id}` is the organization's id.
pub const SCIM_PREFIX: &str = "/scim/v2/{tenant_id}";

/// Every route [`configure`] registers: the SCIM endpoints under [`SCIM_PREFIX`] (the
/// custom entitlement types' `/{entitlementEndpoint}` paths last: [`configure`] puts them
/// after every fixed path), then `/healthz` and `/readyz`. The catch-alls are not listed:
/// `/Me` (501 for every method, documented as such in the OpenAPI description), and the
/// SCIM 404 for anything else.
pub fn route_table() -> Vec<RouteSpec> {
    let mut table = Vec::new();
    let scim = |path: String, ops: Vec<(Method, Op)>| RouteSpec {
        path: format!("{SCIM_PREFIX}{path}"),
        ops,
    };
    for kind in [ResourceKind::User, ResourceKind::Group] {
        let endpoint = kind.resource_type().endpoint;
        table.push(scim(
            endpoint.to_string(),
            vec![
                (Method::GET, Op::List(kind)),
                (Method::POST, Op::Create(kind)),
            ],
        ));
        table.push(scim(
            format!("{endpoint}/.search"),
            vec![(Method::POST, Op::Search(kind))],
        ));
        table.push(scim(
            format!("{endpoint}/{{id}}"),
            vec![
                (Method::GET, Op::Get(kind)),
                (Method::PUT, Op::Replace(kind)),
                (Method::PATCH, Op::Patch(kind)),
                (Method::DELETE, Op::Delete(kind)),
            ],
        ));
    }
    for builtin in [Builtin::Roles, Builtin::Entitlements] {
        let name = builtin.name();
        table.push(scim(
            format!("/{name}"),
            vec![(Method::GET, Op::EntitlementList(builtin))],
        ));
        table.push(scim(
            format!("/{name}/{{id}}"),
            vec![(Method::GET, Op::EntitlementGet(builtin))],
        ));
    }
    for (path, op) in [("/.search", Op::SearchAll), ("/Bulk", Op::Bulk)] {
        table.push(scim(path.to_string(), vec![(Method::POST, op)]));
    }
    for (path, op) in [
        ("/ServiceProviderConfig", Op::ServiceProviderConfig),
        ("/ResourceTypes", Op::ResourceTypes),
        ("/ResourceTypes/{id}", Op::ResourceType),
        ("/Schemas", Op::Schemas),
        ("/Schemas/{id}", Op::Schema),
    ] {
        table.push(scim(path.to_string(), vec![(Method::GET, op)]));
    }
    table.push(scim(
        format!("/{{{CUSTOM_ENDPOINT}}}"),
        vec![(Method::GET, Op::CustomList)],
    ));
    table.push(scim(
        format!("/{{{CUSTOM_ENDPOINT}}}/{{id}}"),
        vec![(Method::GET, Op::CustomGet)],
    ));
    for (path, op) in [("/healthz", Op::Healthz), ("/readyz", Op::Readyz)] {
        table.push(RouteSpec {
            path: path.to_string(),
            ops: vec![(Method::GET, op), (Method::HEAD, op)],
        });
    }
    table
}

/// The handler of one operation.
fn handler(op: Op) -> Route {
    match op {
        Op::List(kind) => {
            web::to(move |a: Authenticated, r: HttpRequest, s: Data| list(kind, a, r, s))
        }
        Op::Create(kind) => web::to(
            move |a: Authenticated, r: HttpRequest, p: web::Payload, s: Data| {
                create(kind, a, r, p, s)
            },
        ),
        Op::Search(kind) => web::to(
            move |a: Authenticated, r: HttpRequest, p: web::Payload, s: Data| {
                search(kind, a, r, p, s)
            },
        ),
        Op::Get(kind) => {
            web::to(move |a: Authenticated, r: HttpRequest, s: Data| get(kind, a, r, s))
        }
        Op::Replace(kind) => web::to(
            move |a: Authenticated, r: HttpRequest, p: web::Payload, s: Data| {
                replace(kind, a, r, p, s)
            },
        ),
        Op::Patch(kind) => web::to(
            move |a: Authenticated, r: HttpRequest, p: web::Payload, s: Data| {
                patch(kind, a, r, p, s)
            },
        ),
        Op::Delete(kind) => {
            web::to(move |a: Authenticated, r: HttpRequest, s: Data| delete(kind, a, r, s))
        }
        Op::SearchAll => web::to(search_all),
        Op::Bulk => web::to(bulk),
        Op::EntitlementList(b) => web::to(move |a: Authenticated, r: HttpRequest, s: Data| {
            entitlement_list(b.endpoint(), a, r, s)
        }),
        Op::EntitlementGet(b) => web::to(move |a: Authenticated, r: HttpRequest, s: Data| {
            entitlement_get(b.endpoint(), a, r, s)
        }),
        Op::CustomList | Op::CustomGet => web::to(custom_entitlements),
        Op::ServiceProviderConfig => discovery_route(service_provider_config),
        Op::ResourceTypes => discovery_route(resource_types),
        Op::ResourceType => discovery_route(resource_type),
        Op::Schemas => discovery_route(schemas),
        Op::Schema => discovery_route(schema),
        Op::Healthz => web::to(healthz),
        Op::Readyz => web::to(readyz),
    }
}

/// A resource answering `spec`'s operations, and 405 with `Allow` for any other method
/// (for a custom entitlement type's path: only when the tenant has that type).
fn resource(path: &str, spec: &RouteSpec) -> actix_web::Resource {
    let mut resource = web::resource(path);
    for (method, op) in &spec.ops {
        resource = resource.route(handler(*op).method(method.clone()));
    }
    if spec.is_custom() {
        resource.default_service(web::to(custom_entitlements_write))
    } else {
        resource.default_service(not_allowed(spec.allow()))
    }
}

/// Registers every route of [`route_table`] (the SCIM endpoints, `/healthz`, `/readyz`),
/// `/Me` (501), and the SCIM 404 for anything else, with `state` as application data.
/// The SCIM scope is wrapped in the request log's middleware.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        let mut scope = web::scope(SCIM_PREFIX);
        let (mut root, mut custom) = (Vec::new(), Vec::new());
        for spec in route_table() {
            match spec.path.strip_prefix(SCIM_PREFIX) {
                // Last: any other one- or two-segment path may be one of the tenant's
                // own entitlement types (e.g. /Licenses).
                Some(path) if spec.is_custom() => custom.push(resource(path, &spec)),
                Some(path) => scope = scope.service(resource(path, &spec)),
                None => root.push(resource(&spec.path, &spec)),
            }
        }
        scope = scope.service(web::resource(["/Me", "/Me/{rest:.*}"]).to(not_implemented));
        for r in custom {
            scope = scope.service(r);
        }
        let scope = scope.default_service(web::to(not_found));
        let log = state.request_log.clone();
        let scope = scope.wrap(actix_web::middleware::from_fn(move |req, next| {
            request_log::middleware(log.clone(), req, next)
        }));
        cfg.app_data(web::Data::new(state)).service(scope);
        for r in root {
            cfg.service(r);
        }
        cfg.default_service(web::to(not_found));
    }
}

fn not_allowed(allow: String) -> Route {
    web::to(move || {
        let allow = allow.clone();
        async move {
            let mut resp = scim_error_response(&ScimError::method_not_allowed(format!(
                "Method not allowed here; allowed: {allow}"
            )));
            if let Ok(v) = HeaderValue::from_str(&allow) {
                resp.headers_mut().insert(header::ALLOW, v);
            }
            resp
        }
    })
}

async fn not_found() -> HttpResponse {
    scim_error_response(&ScimError::not_found("Unknown endpoint"))
}

async fn not_implemented() -> HttpResponse {
    scim_error_response(&ScimError::not_implemented(
        "This endpoint is not implemented by this server (see /ServiceProviderConfig)",
    ))
}

fn header_str(req: &HttpRequest, name: header::HeaderName) -> Option<String> {
    req.headers()
        .get(name)
        .map(|v| v.to_str().unwrap_or("").to_string())
}

fn projection(req: &HttpRequest) -> Result<scim_core::projection::Projection, ApiError> {
    projection_from_pairs(&query_pairs(req.query_string()))
}

async fn list(kind: ResourceKind, a: Authenticated, r: HttpRequest, s: Data) -> Res {
    let query = ListQuery::from_query_pairs(&query_pairs(r.query_string()), &list_limits(&s))?;
    let body = service::list(&s, &a, kind, query).await?;
    Ok(scim_text(StatusCode::OK, body))
}

async fn search(
    kind: ResourceKind,
    a: Authenticated,
    r: HttpRequest,
    p: web::Payload,
    s: Data,
) -> Res {
    let body = json_body(&r, p, &s).await?;
    describe_search(&r, &body);
    let query = ListQuery::from_search_body(&body, &list_limits(&s))?;
    let body = service::list(&s, &a, kind, query).await?;
    Ok(scim_text(StatusCode::OK, body))
}

/// A `.search` body's masked summary, and whether it is a lookup (it has a filter) or an
/// import page.
fn describe_search(r: &HttpRequest, body: &serde_json::Value) {
    let filtered = body
        .as_object()
        .is_some_and(|o| o.keys().any(|k| k.eq_ignore_ascii_case("filter")));
    let action = if filtered {
        RequestAction::Lookup
    } else {
        RequestAction::ImportPage
    };
    request_log::describe(r, Some(action), "search", mask::search_body(body));
}

async fn search_all(a: Authenticated, r: HttpRequest, p: web::Payload, s: Data) -> Res {
    let body = json_body(&r, p, &s).await?;
    describe_search(&r, &body);
    let query = ListQuery::from_search_body(&body, &list_limits(&s))?;
    let body = service::search_all(&s, &a, query).await?;
    Ok(scim_text(StatusCode::OK, body))
}

/// A resource response with its `ETag` and `Location` headers.
fn rendered(status: StatusCode, r: service::Rendered) -> HttpResponse {
    resource_response(status, r.body, &r.etag, Some(&r.location))
}

/// A body-less response (304, 204) carrying only the resource's `ETag`.
fn etag_only(mut builder: actix_web::HttpResponseBuilder, etag: &str) -> HttpResponse {
    if let Ok(v) = HeaderValue::from_str(etag) {
        builder.insert_header((header::ETAG, v));
    }
    builder.finish()
}

async fn create(
    kind: ResourceKind,
    a: Authenticated,
    r: HttpRequest,
    p: web::Payload,
    s: Data,
) -> Res {
    let projection = projection(&r)?;
    let body = json_body(&r, p, &s).await?;
    request_log::describe(&r, None, "attributes", mask::attribute_names(&body));
    let a = request_log::in_transaction(&r, a, StatusCode::CREATED);
    let created = service::create(&s, &a, kind, body, projection).await?;
    Ok(rendered(StatusCode::CREATED, created))
}

fn resource_id(r: &HttpRequest) -> String {
    r.match_info().get("id").unwrap_or_default().to_string()
}

async fn get(kind: ResourceKind, a: Authenticated, r: HttpRequest, s: Data) -> Res {
    let none_match = header_str(&r, header::IF_NONE_MATCH);
    match service::get(&s, &a, kind, &resource_id(&r), projection(&r)?, none_match).await? {
        service::Fetched::NotModified { etag } => Ok(etag_only(HttpResponse::NotModified(), &etag)),
        service::Fetched::Found(found) => Ok(rendered(StatusCode::OK, found)),
    }
}

async fn replace(
    kind: ResourceKind,
    a: Authenticated,
    r: HttpRequest,
    p: web::Payload,
    s: Data,
) -> Res {
    let (projection, pin) = (projection(&r)?, header_str(&r, header::IF_MATCH));
    let body = json_body(&r, p, &s).await?;
    request_log::describe(&r, None, "attributes", mask::attribute_names(&body));
    let a = request_log::in_transaction(&r, a, StatusCode::OK);
    let done = service::replace(&s, &a, kind, &resource_id(&r), body, pin, projection).await?;
    Ok(rendered(StatusCode::OK, done))
}

/// Groups answer 204 (Entra's advice: no member list back) unless a projection was asked
/// for; users answer 200 with the resource (decided in [`service::patch`]).
async fn patch(
    kind: ResourceKind,
    a: Authenticated,
    r: HttpRequest,
    p: web::Payload,
    s: Data,
) -> Res {
    let (projection, pin) = (projection(&r)?, header_str(&r, header::IF_MATCH));
    let body = json_body(&r, p, &s).await?;
    let action = mask::patch_action(kind, &body);
    request_log::describe(&r, action, "operations", mask::patch_operations(&body));
    let success = if kind == ResourceKind::Group && projection.is_default() {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::OK
    };
    let a = request_log::in_transaction(&r, a, success);
    match service::patch(&s, &a, kind, &resource_id(&r), body, pin, projection).await? {
        service::Patched::NoContent { etag } => Ok(etag_only(HttpResponse::NoContent(), &etag)),
        service::Patched::Resource(done) => Ok(rendered(StatusCode::OK, done)),
    }
}

async fn delete(kind: ResourceKind, a: Authenticated, r: HttpRequest, s: Data) -> Res {
    let pin = header_str(&r, header::IF_MATCH);
    let a = request_log::in_transaction(&r, a, StatusCode::NO_CONTENT);
    service::delete(&s, &a, kind, &resource_id(&r), pin).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /Bulk` (RFC 7644 §3.7): the body limit is `maxPayloadSize`; the answer is 200
/// with the BulkResponse (each operation's own status inside).
async fn bulk(a: Authenticated, r: HttpRequest, p: web::Payload, s: Data) -> Res {
    let limit = s.limits.bulk.max_payload_bytes;
    let body = json_body_limited(&r, p, &s, limit, || {
        format!("The size of the bulk operation exceeds the maxPayloadSize ({limit}).")
    })
    .await?;
    request_log::describe(&r, None, "operations", mask::bulk_operations(&body));
    let text = service::bulk(&s, &a, body).await?;
    Ok(scim_text(StatusCode::OK, text))
}

// ---- roles and entitlements: read-only, GET only ----

async fn entitlement_list(endpoint: Endpoint, a: Authenticated, r: HttpRequest, s: Data) -> Res {
    let query = ListQuery::from_query_pairs(&query_pairs(r.query_string()), &list_limits(&s))?;
    let body = service::entitlements::list(&s, &a, endpoint, query).await?;
    Ok(scim_text(StatusCode::OK, body))
}

async fn entitlement_get(endpoint: Endpoint, a: Authenticated, r: HttpRequest, s: Data) -> Res {
    let body = service::entitlements::get(&s, &a, endpoint, resource_id(&r)).await?;
    Ok(scim_text(StatusCode::OK, body))
}

fn custom_endpoint(r: &HttpRequest) -> Endpoint {
    Endpoint::Other(
        r.match_info()
            .get(CUSTOM_ENDPOINT)
            .unwrap_or_default()
            .to_string(),
    )
}

/// The tenant's credentials for a path that may be a custom entitlement type: a segment
/// no type can have (see `check_type_definition`) is the usual 404 before any token
/// check, as every unknown path was before such types existed.
fn custom_auth(
    a: Result<Authenticated, ApiError>,
    r: &HttpRequest,
) -> Result<Authenticated, ApiError> {
    let segment = r.match_info().get(CUSTOM_ENDPOINT).unwrap_or_default();
    let possible = segment
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !possible {
        return Err(ScimError::not_found("Unknown endpoint").into());
    }
    a
}

/// `GET /{endpoint}` or `GET /{endpoint}/{id}` of a custom entitlement type.
async fn custom_entitlements(a: Result<Authenticated, ApiError>, r: HttpRequest, s: Data) -> Res {
    let a = custom_auth(a, &r)?;
    let endpoint = custom_endpoint(&r);
    match r.match_info().get("id") {
        Some(_) => entitlement_get(endpoint, a, r, s).await,
        None => entitlement_list(endpoint, a, r, s).await,
    }
}

/// Any other method on such a path: 405 when the tenant has that entitlement type (they
/// are read-only over SCIM), else the usual 404.
async fn custom_entitlements_write(
    a: Result<Authenticated, ApiError>,
    r: HttpRequest,
    s: Data,
) -> Res {
    let a = custom_auth(a, &r)?;
    if service::entitlements::exists(&s, &a, custom_endpoint(&r)).await? {
        let mut resp = scim_error_response(&ScimError::method_not_allowed(
            "Entitlements are read-only over SCIM; allowed: GET",
        ));
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        return Ok(resp);
    }
    Ok(not_found().await)
}

// ---- discovery (RFC 7644 §4): GET only, per tenant, authenticated ----

/// What a discovery document depends on besides the base URL: the tenant's profile (the
/// ServiceProviderConfig says whether it is strict) and its own entitlement types (in
/// `/ResourceTypes`), both read on the request's session.
struct TenantDiscovery {
    cx: Tenancy,
    types: Vec<EntitlementType>,
}

/// A discovery document from the state, the tenant's base URL, the `{id}` of the path and
/// what the tenant adds.
type DiscoveryFn =
    fn(&AppState, &str, Option<&str>, &TenantDiscovery) -> Result<serde_json::Value, ApiError>;

fn discovery_route(f: DiscoveryFn) -> Route {
    web::to(
        move |a: Authenticated, r: HttpRequest, s: Data| async move {
            // The documents come from no store, but the token must still be current.
            let (checked, limiter, schemas) = (a.clone(), s.limiter.clone(), s.schemas.clone());
            let tenant = s
                .session(Access::Read, move |session| {
                    let tenancy = checked.check(session, &schemas)?;
                    limiter.admit(&checked.tenant_id)?;
                    let mut types = session.entitlement_types(&checked.tenant_id)?;
                    // The interop profile wants a ResourceType's id to equal its name:
                    // a strict tenant's types are named by their ids.
                    if tenancy.profile == Profile::Strict {
                        for t in &mut types {
                            t.name.clone_from(&t.id);
                        }
                    }
                    Ok::<_, ApiError>(TenantDiscovery { cx: tenancy, types })
                })
                .await?;
            // RFC 7644 §4: "If a "filter" is provided, the service provider SHOULD respond
            // with HTTP status code 403 (Forbidden)".
            if query_pairs(r.query_string())
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("filter"))
            {
                return Err(ScimError::forbidden(
                    "Filtering is not supported on discovery endpoints",
                )
                .into());
            }
            let base = s.tenant_url(&a.tenant_id);
            let body = f(&s, &base, r.match_info().get("id"), &tenant)?;
            Ok::<_, ApiError>(scim_json(StatusCode::OK, &body))
        },
    )
}

fn service_provider_config(
    s: &AppState,
    base: &str,
    _: Option<&str>,
    tenant: &TenantDiscovery,
) -> Result<serde_json::Value, ApiError> {
    Ok(discovery::service_provider_config(&DiscoveryOptions {
        base_url: base.to_string(),
        max_results: s.limits.max_page_size,
        default_page_size: s.limits.default_page_size,
        cursor_timeout_secs: s.limits.cursor_timeout.as_secs(),
        documentation_uri: None,
        bulk: s.limits.bulk,
        profile: tenant.cx.profile,
    }))
}

fn all_of(docs: Vec<serde_json::Value>) -> serde_json::Value {
    let n = docs.len() as u64;
    list_response(n, 1, docs)
}

fn resource_types(
    _: &AppState,
    base: &str,
    _: Option<&str>,
    tenant: &TenantDiscovery,
) -> Result<serde_json::Value, ApiError> {
    Ok(all_of(discovery::tenant_resource_types(
        &tenant.cx.registry,
        base,
        &tenant.types,
    )))
}

fn resource_type(
    _: &AppState,
    base: &str,
    id: Option<&str>,
    tenant: &TenantDiscovery,
) -> Result<serde_json::Value, ApiError> {
    let id = id.unwrap_or_default();
    discovery::tenant_resource_type(&tenant.cx.registry, base, &tenant.types, id)
        .ok_or_else(|| ScimError::not_found(format!("ResourceType {id} not found")).into())
}

fn schemas(
    _: &AppState,
    base: &str,
    _: Option<&str>,
    tenant: &TenantDiscovery,
) -> Result<serde_json::Value, ApiError> {
    Ok(all_of(discovery::tenant_schemas(
        &tenant.cx.registry,
        base,
        &tenant.types,
    )))
}

fn schema(
    _: &AppState,
    base: &str,
    id: Option<&str>,
    tenant: &TenantDiscovery,
) -> Result<serde_json::Value, ApiError> {
    let id = id.unwrap_or_default();
    discovery::tenant_schema(&tenant.cx.registry, base, &tenant.types, id)
        .ok_or_else(|| ScimError::not_found(format!("Schema {id} not found")).into())
}

// ---- health ----

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json!({"status": "ok"}).to_string())
}

async fn readyz(s: Data) -> HttpResponse {
    let backend = s.store.backend_name();
    match s.blocking(|store| store.ping()).await {
        Ok(()) => HttpResponse::Ok()
            .content_type("application/json")
            .body(json!({"status": "ready", "database": backend}).to_string()),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("application/json")
                .body(json!({"status": "unavailable", "database": backend}).to_string())
        }
    }
}
