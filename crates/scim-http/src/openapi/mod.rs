//! The OpenAPI 3.1 description of the SCIM API (utoipa's document model).
//!
//! Every path and method comes from [`crate::routes::route_table`], the table
//! [`crate::configure`] registers, and each operation is described from its
//! [`Op`]: a route cannot be registered without being documented. The
//! resource schemas come from scim-core's attribute definitions ([`schemas`]). The admin
//! API's paths are added by `scim-admin`, which serves the whole document at
//! `/openapi.json`.

pub mod schemas;

use crate::routes::{CUSTOM_ENDPOINT, Op, RouteSpec, route_table};
use actix_web::http::Method;
use schemas::{reference, required};
use scim_core::schema::ResourceKind;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ComponentsBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    Components, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, RefOr,
};

/// The media type of every SCIM response body (RFC 7644 §8.1).
const SCIM_JSON: &str = "application/scim+json";

/// The security scheme of the SCIM endpoints: the organization's secret token.
pub const SCIM_SECURITY: &str = "scimToken";

/// What the document says about the server as a whole.
const DESCRIPTION: &str = "A multi-tenant SCIM 2.0 (RFC 7643 / RFC 7644) service provider. \
Each organization has its own Tenant URL, `/scim/v2/{tenant_id}`, and one secret token, sent \
as `Authorization: Bearer <token>`. Request bodies are `application/scim+json` or \
`application/json`; every response body of the SCIM endpoints, errors included, is \
`application/scim+json`. `/Me` is not implemented: every method answers `501` with a SCIM \
error. Any method a path does not list answers `405` with an `Allow` header, and any \
unknown path `404`, both with a SCIM error. `/Roles` and `/Entitlements` are read-only; so \
are an organization's own entitlement types, each at its own endpoint (e.g. `/Licenses`, \
set in the admin API), described here as the templated `/{entitlementEndpoint}`: a name \
that is no type of the organization answers `404`, and the other methods on a type's \
endpoint `405`. The admin API (`/admin/api`) authenticates with \
an admin API token (`scim-server admin token`).";

/// The SCIM part of the document: the paths of [`route_table`], their components and the
/// `scimToken` security scheme. Paths are sorted, so the serialised document is stable.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for spec in route_table() {
        paths = paths.path(spec.path.clone(), path_item(&spec));
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("scim-server")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION)),
        )
        .paths(paths)
        .components(Some(components()))
        .tags(Some(
            [
                ("Users", "RFC 7644 §3: users."),
                ("Groups", "RFC 7644 §3: groups and their members."),
                ("Search", "RFC 7644 §3.4.3: searches across resource types."),
                ("Bulk", "RFC 7644 §3.7."),
                (
                    "Entitlements",
                    "Roles, entitlements and the organization's own entitlement types \
                     (read-only).",
                ),
                ("Discovery", "RFC 7644 §4: what this server supports."),
                ("Health", "Liveness and readiness probes (no token needed)."),
            ]
            .map(|(name, description)| {
                TagBuilder::new()
                    .name(name)
                    .description(Some(description))
                    .build()
            }),
        ))
        .build()
}

/// The paths and methods a document describes, as `(path, METHOD)` pairs, sorted: what
/// the tests compare with the route tables.
pub fn operations(doc: &OpenApi) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        let item = serde_json::to_value(item).unwrap_or_default();
        if let Some(map) = item.as_object() {
            for method in [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ] {
                if map.contains_key(method) {
                    out.push((path.clone(), method.to_ascii_uppercase()));
                }
            }
        }
    }
    out.sort();
    out
}

fn http_method(m: &Method) -> HttpMethod {
    match *m {
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::PATCH => HttpMethod::Patch,
        Method::DELETE => HttpMethod::Delete,
        Method::HEAD => HttpMethod::Head,
        Method::OPTIONS => HttpMethod::Options,
        Method::TRACE => HttpMethod::Trace,
        _ => HttpMethod::Get,
    }
}

fn path_item(spec: &RouteSpec) -> PathItem {
    let mut item = PathItem::default();
    for (method, op) in &spec.ops {
        let head = *method == Method::HEAD;
        item.merge_operations(PathItem::new(http_method(method), operation(*op, head)));
    }
    item
}

/// The names used in operation ids and summaries: `User`/`Users`, `Group`/`Groups`.
fn names(kind: ResourceKind) -> (&'static str, &'static str) {
    match kind {
        ResourceKind::User => ("User", "Users"),
        ResourceKind::Group => ("Group", "Groups"),
    }
}

/// A `$ref` to a component parameter.
fn param(name: &str) -> Ref {
    Ref::new(format!("#/components/parameters/{name}"))
}

/// A `$ref` to a component response.
fn response_ref(name: &str) -> RefOr<Response> {
    RefOr::Ref(Ref::from_response_name(name))
}

/// The error statuses every authenticated SCIM operation can answer: no or a wrong token,
/// a paused organization, the per-organization rate limit, an unavailable database.
const AUTHENTICATED: &[&str] = &["401", "403", "429", "503"];
/// The extra errors of an operation with a JSON body.
const WITH_BODY: &[&str] = &["400", "408", "413", "415"];

/// A SCIM operation: its tag, id, summary, the tenant parameter, bearer security and the
/// given error responses.
fn scim_operation(tag: &str, id: String, summary: String, errors: &[&[&str]]) -> OperationBuilder {
    let mut op = OperationBuilder::new()
        .tag(tag)
        .operation_id(Some(id))
        .summary(Some(summary))
        .parameter_ref(param("tenant_id"))
        .security(SecurityRequirement::new::<_, [&str; 0], &str>(
            SCIM_SECURITY,
            [],
        ));
    let mut statuses: Vec<&str> = errors.iter().flat_map(|e| e.iter().copied()).collect();
    statuses.sort_unstable();
    statuses.dedup();
    for status in statuses {
        op = op.response(status, response_ref(&format!("Error{status}")));
    }
    op
}

/// A request body of the given component schema, in both accepted media types.
fn body(schema: &str) -> Option<utoipa::openapi::request_body::RequestBody> {
    let mut b = RequestBodyBuilder::new().required(Some(required(true)));
    for media in [SCIM_JSON, "application/json"] {
        b = b.content(
            media,
            ContentBuilder::new()
                .schema(Some(reference(schema)))
                .build(),
        );
    }
    Some(b.build())
}

/// A response with a SCIM body of the given component schema.
fn scim_response(description: &str, schema: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        SCIM_JSON,
        ContentBuilder::new()
            .schema(Some(reference(schema)))
            .build(),
    )
}

fn header_string(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
        .description(Some(description))
        .build()
}

/// A single resource, with its `ETag` and `Location`.
fn resource_response(description: &str, schema: &str) -> ResponseBuilder {
    scim_response(description, schema)
        .header(
            "ETag",
            header_string("The resource's version (RFC 7644 §3.14)."),
        )
        .header("Location", header_string("The resource's URL."))
}

/// The links from a created resource to the operations on it (for clients and for
/// schemathesis's stateful phase).
fn created_links(mut response: ResponseBuilder, kind: ResourceKind) -> ResponseBuilder {
    let (one, _) = names(kind);
    for verb in ["get", "replace", "patch", "delete"] {
        response = response.link(
            format!("{verb}{one}"),
            LinkBuilder::new()
                .operation_id(format!("{verb}{one}"))
                .parameter("tenant_id", "$request.path.tenant_id")
                .parameter("id", "$response.body#/id")
                .build(),
        );
    }
    response
}

fn operation(op: Op, head: bool) -> Operation {
    let list_params = [
        "filter",
        "startIndex",
        "count",
        "cursor",
        "sortBy",
        "sortOrder",
        "attributes",
        "excludedAttributes",
    ];
    let projection = ["attributes", "excludedAttributes"];
    let built = match op {
        Op::List(kind) => {
            let (one, many) = names(kind);
            list_params
                .iter()
                .fold(
                    scim_operation(
                        many,
                        format!("list{many}"),
                        format!("List or filter {}", many.to_lowercase()),
                        &[AUTHENTICATED, &["400"]],
                    ),
                    |o, p| o.parameter_ref(param(p)),
                )
                .response(
                    "200",
                    scim_response("A page of results", &format!("{one}ListResponse")).build(),
                )
        }
        Op::Create(kind) => {
            let (one, many) = names(kind);
            projection
                .iter()
                .fold(
                    scim_operation(
                        many,
                        format!("create{one}"),
                        format!("Create a {}", one.to_lowercase()),
                        &[AUTHENTICATED, WITH_BODY, &["409"]],
                    ),
                    |o, p| o.parameter_ref(param(p)),
                )
                .request_body(body(&format!("{one}Request")))
                .response(
                    "201",
                    created_links(resource_response("Created", one), kind).build(),
                )
        }
        Op::Search(kind) => {
            let (one, many) = names(kind);
            scim_operation(
                many,
                format!("search{many}"),
                format!("Search {} (POST .search)", many.to_lowercase()),
                &[AUTHENTICATED, WITH_BODY],
            )
            .request_body(body("SearchRequest"))
            .response(
                "200",
                scim_response("A page of results", &format!("{one}ListResponse")).build(),
            )
        }
        Op::Get(kind) => {
            let (one, many) = names(kind);
            projection
                .iter()
                .fold(
                    scim_operation(
                        many,
                        format!("get{one}"),
                        format!("Get a {}", one.to_lowercase()),
                        &[AUTHENTICATED, &["400", "404"]],
                    ),
                    |o, p| o.parameter_ref(param(p)),
                )
                .parameter_ref(param("id"))
                .parameter_ref(param("If-None-Match"))
                .response("200", resource_response("The resource", one).build())
                .response(
                    "304",
                    ResponseBuilder::new()
                        .description("Not modified: If-None-Match names the current version")
                        .header("ETag", header_string("The resource's version."))
                        .build(),
                )
        }
        Op::Replace(kind) => {
            let (one, many) = names(kind);
            projection
                .iter()
                .fold(
                    scim_operation(
                        many,
                        format!("replace{one}"),
                        format!("Replace a {} (PUT)", one.to_lowercase()),
                        &[AUTHENTICATED, WITH_BODY, &["404", "409", "412"]],
                    ),
                    |o, p| o.parameter_ref(param(p)),
                )
                .parameter_ref(param("id"))
                .parameter_ref(param("If-Match"))
                .request_body(body(&format!("{one}Request")))
                .response(
                    "200",
                    resource_response("The replaced resource", one).build(),
                )
        }
        Op::Patch(kind) => {
            let (one, many) = names(kind);
            let op = projection
                .iter()
                .fold(
                    scim_operation(
                        many,
                        format!("patch{one}"),
                        format!("Modify a {} (PATCH)", one.to_lowercase()),
                        &[AUTHENTICATED, WITH_BODY, &["404", "409", "412"]],
                    ),
                    |o, p| o.parameter_ref(param(p)),
                )
                .parameter_ref(param("id"))
                .parameter_ref(param("If-Match"))
                .request_body(body("PatchOp"))
                .response(
                    "200",
                    resource_response("The modified resource", one).build(),
                );
            match kind {
                // Groups answer 204 without a projection (Entra's advice: no member list).
                ResourceKind::Group => op.response(
                    "204",
                    ResponseBuilder::new()
                        .description("Modified (no attributes or excludedAttributes asked for)")
                        .header("ETag", header_string("The resource's new version."))
                        .build(),
                ),
                ResourceKind::User => op,
            }
        }
        Op::Delete(kind) => {
            let (one, many) = names(kind);
            scim_operation(
                many,
                format!("delete{one}"),
                format!("Delete a {}", one.to_lowercase()),
                &[AUTHENTICATED, &["404", "412"]],
            )
            .parameter_ref(param("id"))
            .parameter_ref(param("If-Match"))
            .response("204", ResponseBuilder::new().description("Deleted").build())
        }
        Op::SearchAll => scim_operation(
            "Search",
            "searchAll".into(),
            "Search users and groups together (POST /.search)".into(),
            &[AUTHENTICATED, WITH_BODY],
        )
        .request_body(body("SearchRequest"))
        .response(
            "200",
            scim_response("A page of results", "ResourceListResponse").build(),
        ),
        Op::Bulk => scim_operation(
            "Bulk",
            "bulk".into(),
            "Run a Bulk request; each operation has its own status".into(),
            &[AUTHENTICATED, WITH_BODY],
        )
        .request_body(body("BulkRequest"))
        .response(
            "200",
            scim_response("The Bulk response", "BulkResponse").build(),
        ),
        Op::EntitlementList(b) => list_params
            .iter()
            .take(3)
            .fold(
                scim_operation(
                    "Entitlements",
                    format!("list{}", b.name()),
                    format!("List the organization's {}", b.name().to_lowercase()),
                    &[AUTHENTICATED, &["400"]],
                ),
                |o, p| o.parameter_ref(param(p)),
            )
            .response(
                "200",
                scim_response("A page of values", "EntitlementListResponse").build(),
            ),
        Op::EntitlementGet(b) => {
            let name = b.name();
            scim_operation(
                "Entitlements",
                format!("get{}", &name[..name.len() - 1]),
                format!("Get one of {}", name.to_lowercase()),
                &[AUTHENTICATED, &["404"]],
            )
            .parameter_ref(param("id"))
            .response("200", scim_response("The value", "Entitlement").build())
        }
        Op::CustomList => list_params
            .iter()
            .take(3)
            .fold(
                scim_operation(
                    "Entitlements",
                    "listCustomEntitlements".into(),
                    "List the values of one of the organization's own entitlement types".into(),
                    &[AUTHENTICATED, &["400", "404"]],
                )
                .parameter_ref(param(CUSTOM_ENDPOINT)),
                |o, p| o.parameter_ref(param(p)),
            )
            .response(
                "200",
                scim_response("A page of values", "EntitlementListResponse").build(),
            ),
        Op::CustomGet => scim_operation(
            "Entitlements",
            "getCustomEntitlement".into(),
            "Get one value of one of the organization's own entitlement types".into(),
            &[AUTHENTICATED, &["404"]],
        )
        .parameter_ref(param(CUSTOM_ENDPOINT))
        .parameter_ref(param("id"))
        .response("200", scim_response("The value", "Entitlement").build()),
        Op::ServiceProviderConfig => discovery(
            "getServiceProviderConfig",
            "The service provider's configuration",
            "ServiceProviderConfig",
            false,
        ),
        Op::ResourceTypes => discovery(
            "listResourceTypes",
            "The resource types",
            "ResourceTypeListResponse",
            false,
        ),
        Op::ResourceType => discovery("getResourceType", "One resource type", "ResourceType", true),
        Op::Schemas => discovery("listSchemas", "The schemas", "SchemaListResponse", false),
        Op::Schema => discovery("getSchema", "One schema (by URN)", "Schema", true),
        Op::Healthz => health(
            if head { "headHealthz" } else { "healthz" },
            "Liveness: the process answers",
            &[("200", "Alive")],
            head,
        ),
        Op::Readyz => health(
            if head { "headReadyz" } else { "readyz" },
            "Readiness: the database answers",
            &[("200", "Ready"), ("503", "The database does not answer")],
            head,
        ),
    };
    built.build()
}

/// A discovery endpoint: GET only, authenticated, `403` when a filter is sent (RFC 7644
/// §4), `404` for an unknown `{id}`.
fn discovery(id: &str, summary: &str, schema: &str, by_id: bool) -> OperationBuilder {
    let errors: &[&str] = if by_id { &["404"] } else { &[] };
    let op = scim_operation(
        "Discovery",
        id.into(),
        summary.into(),
        &[AUTHENTICATED, errors],
    )
    .response("200", scim_response(summary, schema).build());
    if by_id {
        op.parameter_ref(param("id"))
    } else {
        op
    }
}

/// `/healthz` or `/readyz` (GET, or HEAD: the same without a body): no token.
fn health(id: &str, summary: &str, statuses: &[(&str, &str)], head: bool) -> OperationBuilder {
    let mut op = OperationBuilder::new()
        .tag("Health")
        .operation_id(Some(id))
        .summary(Some(summary))
        .securities(Some([SecurityRequirement::default()]));
    for (status, description) in statuses {
        let mut r = ResponseBuilder::new().description(*description);
        if !head {
            r = r.content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(reference("Health")))
                    .build(),
            );
        }
        op = op.response(*status, r.build());
    }
    op
}

/// The component schemas, parameters, error responses and the security scheme.
fn components() -> Components {
    let mut c = ComponentsBuilder::new();
    for (name, schema) in schemas::components() {
        c = c.schema(name, schema);
    }
    let string = || ObjectBuilder::new().schema_type(Type::String).build();
    let integer = || ObjectBuilder::new().schema_type(Type::Integer).build();
    let path = |name: &str, description: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Path)
            .required(required(true))
            .description(Some(description))
            .schema(Some(string()))
            .build()
    };
    c = c
        .parameter(
            "tenant_id",
            path(
                "tenant_id",
                "The organization's id (the last segment of its Tenant URL).",
            ),
        )
        .parameter("id", path("id", "The resource's id."))
        .parameter(
            CUSTOM_ENDPOINT,
            ParameterBuilder::new()
                .name(CUSTOM_ENDPOINT)
                .parameter_in(ParameterIn::Path)
                .required(required(true))
                .description(Some(
                    "The endpoint of one of the organization's own entitlement types, \
                     without its slash (e.g. `Licenses`); the fixed endpoints are not \
                     among them.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(CUSTOM_ENDPOINT_PATTERN))
                        .build(),
                ))
                .build(),
        );
    let query: [(&str, &str, bool); 8] = [
        (
            "filter",
            "A filter (RFC 7644 §3.4.2.2), e.g. `userName eq \"bjensen\"`.",
            false,
        ),
        (
            "startIndex",
            "The 1-based index of the first result (index paging).",
            true,
        ),
        (
            "count",
            "The page size (at most the server's maximum).",
            true,
        ),
        (
            "cursor",
            "RFC 9865 cursor paging: empty for the first page, then `nextCursor`.",
            false,
        ),
        ("sortBy", "The attribute to sort by.", false),
        (
            "sortOrder",
            "`ascending` (the default) or `descending`.",
            false,
        ),
        ("attributes", "Comma-separated attributes to return.", false),
        (
            "excludedAttributes",
            "Comma-separated attributes to leave out.",
            false,
        ),
    ];
    for (name, description, is_integer) in query {
        let schema = if name == "sortOrder" {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["ascending", "descending"]))
                .build()
        } else if is_integer {
            integer()
        } else {
            string()
        };
        c = c.parameter(
            name,
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(required(false))
                .description(Some(description))
                .schema(Some(schema))
                .build(),
        );
    }
    for (name, description) in [
        (
            "If-Match",
            "Apply only if the resource's version is this ETag (else 412).",
        ),
        (
            "If-None-Match",
            "Answer 304 if the resource's version is this ETag.",
        ),
    ] {
        c = c.parameter(
            name,
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(required(false))
                .description(Some(description))
                .schema(Some(string()))
                .build(),
        );
    }
    for (status, description) in ERRORS {
        let mut r = scim_response(description, "Error");
        if status == "401" {
            r = r.header(
                "WWW-Authenticate",
                header_string("`Bearer realm=\"scim\"`."),
            );
        }
        if status == "429" || status == "503" {
            r = r.header("Retry-After", header_string("Seconds to wait."));
        }
        c = c.response(format!("Error{status}"), r.build());
    }
    c.security_scheme(
        SCIM_SECURITY,
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "The organization's secret token (`scim-server token generate`).",
                ))
                .build(),
        ),
    )
    .build()
}

/// What a custom entitlement type's endpoint can be (see the store's type checks): a
/// letter, then letters, digits, `_` or `-` (at most 64); never one of the fixed endpoints, which are
/// documented on their own (and `/Me`, which is 501).
const CUSTOM_ENDPOINT_PATTERN: &str = "^(?!(Users|Groups|Roles|Entitlements|Bulk|Me|Schemas|\
ResourceTypes|ServiceProviderConfig)$)[A-Za-z][A-Za-z0-9_-]{0,63}$";

/// Every SCIM error response an operation can name, with what it means here.
const ERRORS: [(&str, &str); 11] = [
    (
        "400",
        "Bad request: invalid syntax, filter, path, value, count or cursor (`scimType` says which)",
    ),
    ("401", "No token, or not this organization's current token"),
    (
        "403",
        "The organization's provisioning is paused, or a filter was sent to a discovery endpoint",
    ),
    ("404", "No such resource in this organization"),
    ("408", "The request body did not arrive in time"),
    ("409", "A uniqueness conflict (`scimType` uniqueness)"),
    ("412", "If-Match does not name the current version"),
    (
        "413",
        "The body is larger than the limit (Bulk: maxPayloadSize or maxOperations)",
    ),
    (
        "415",
        "The body is neither application/scim+json nor application/json",
    ),
    ("429", "The organization is over its rate limit"),
    ("503", "The database is unavailable or busy; retry later"),
];
