//! The OpenAPI 3.1 document at `/openapi.json`: the SCIM API ([`scim_http::openapi`],
//! built from its route table) and the admin JSON API, whose paths come from the
//! `#[utoipa::path]` annotations on the real handlers ([`crate::api`],
//! [`crate::webhooks::api`]). The tests compare both with the registered route tables
//! and with the committed snapshot `docs/openapi.json`.
//!
//! The body schemas below describe the JSON the admin handlers build; they are types for
//! the document only.

#![allow(dead_code)] // The body types are read by the derive, never constructed.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::Value;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::tag::TagBuilder;
use utoipa::{Modify, OpenApi, ToSchema};

/// The security scheme of the admin API: an admin API token (`scim-server admin token`).
pub const ADMIN_SECURITY: &str = "adminToken";

/// The admin API's part of the document.
#[derive(OpenApi)]
#[openapi(
    paths(
        crate::api::list_orgs,
        crate::api::create_org,
        crate::api::get_org,
        crate::api::patch_org,
        crate::api::delete_org,
        crate::api::generate,
        crate::api::users,
        crate::api::user,
        crate::api::groups,
        crate::api::group,
        crate::api::log,
        crate::api::list_schemas,
        crate::api::put_schema,
        crate::api::get_schema,
        crate::api::put_schema_at,
        crate::api::delete_schema,
        crate::entitlements::api::list_types,
        crate::entitlements::api::add_type,
        crate::entitlements::api::remove_type,
        crate::entitlements::api::list_values,
        crate::entitlements::api::add_value,
        crate::entitlements::api::remove_value,
        crate::requests::api_list,
        crate::requests::api_detail,
        crate::webhooks::api::events,
        crate::webhooks::api::list,
        crate::webhooks::api::create,
        crate::webhooks::api::get,
        crate::webhooks::api::update,
        crate::webhooks::api::remove,
        crate::webhooks::api::rotate,
        crate::webhooks::api::test,
        crate::webhooks::api::deliveries,
        crate::webhooks::api::redeliver,
        crate::webhooks::api::replay,
    ),
    components(schemas(
        AdminErrorBody,
        Organization,
        OrganizationToken,
        Organizations,
        NewOrganization,
        OrganizationChange,
        GenerateRequest,
        GeneratedToken,
        ResourcePage,
        LogEntry,
        LogPage,
        SchemaExtension,
        SchemaExtensions,
        SchemaPut,
        EntitlementValue,
        EntitlementValues,
        NewEntitlementValue,
        RemovedEntitlementValue,
        EntitlementTypeBody,
        EntitlementTypes,
        NewEntitlementType,
        RequestEntry,
        RequestDetail,
        RequestPage,
        NewWebhook,
        WebhookChange,
        ReplayRequest,
        Webhook,
        WebhookWithSecret,
        Webhooks,
        Removed,
        DeliveryAttempt,
        TestDelivery,
        Deliveries,
        Queued,
        EventsPage,
        FeedEvent,
    )),
    modifiers(&AdminSecurity)
)]
pub struct AdminApi;

/// Adds the admin token's security scheme and the admin tags.
struct AdminSecurity;

impl Modify for AdminSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            ADMIN_SECURITY,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An admin API token, `scimadm_…` (`scim-server admin token --email …`).",
                    ))
                    .build(),
            ),
        );
        add_webhook_links(openapi);
        let tags = openapi.tags.get_or_insert_with(Vec::new);
        for (name, description) in [
            (
                "Admin: organizations",
                "The admin JSON API: organizations, tokens, users, groups, the provisioning log, \
                 extension schemas, roles and entitlements, the request log.",
            ),
            (
                "Admin: events",
                "The admin JSON API: the event feed and webhook subscriptions.",
            ),
        ] {
            tags.push(
                TagBuilder::new()
                    .name(name)
                    .description(Some(description))
                    .build(),
            );
        }
    }
}

/// Links from a created subscription (its `id`) to the operations on it: clients and
/// schemathesis's stateful phase follow them (the path parameter is `{wid}`, which no
/// tool matches to `id` by itself).
fn add_webhook_links(openapi: &mut utoipa::openapi::OpenApi) {
    let Some(created) = openapi
        .paths
        .paths
        .get_mut("/admin/api/organizations/{org}/webhooks")
        .and_then(|item| item.post.as_mut())
        .and_then(|op| op.responses.responses.get_mut("201"))
    else {
        return;
    };
    let utoipa::openapi::RefOr::T(response) = created else {
        return;
    };
    for id in [
        "adminGetWebhook",
        "adminUpdateWebhook",
        "adminRemoveWebhook",
        "adminRotateWebhookSecret",
        "adminTestWebhook",
        "adminWebhookDeliveries",
        "adminReplayWebhook",
    ] {
        response.links.insert(
            id.to_string(),
            utoipa::openapi::RefOr::T(
                utoipa::openapi::link::LinkBuilder::new()
                    .operation_id(id)
                    .parameter("org", "$request.path.org")
                    .parameter("wid", "$response.body#/id")
                    .build(),
            ),
        );
    }
}

/// The whole document: the SCIM API and the admin API. Without `servers`, so that it is the
/// same on every deployment (the snapshot); [`configure`] adds the public URL.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = scim_http::openapi::document();
    doc.merge(AdminApi::openapi());
    doc
}

/// The document as served: [`document`] with `servers` set to the public URL.
pub fn served_document(public_url: &str) -> utoipa::openapi::OpenApi {
    let mut doc = document();
    doc.servers = Some(vec![Server::new(public_url.trim_end_matches('/'))]);
    doc
}

/// Registers `GET /openapi.json` (no authentication: the document holds no secret and
/// describes every deployment alike, but for `servers`).
pub fn configure(public_url: &str) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    // Rendered once: the document does not change while the process runs.
    let body = served_document(public_url).to_json().unwrap_or_default();
    move |cfg: &mut web::ServiceConfig| {
        let body = web::Bytes::from(body);
        cfg.service(
            web::resource("/openapi.json")
                .route(web::get().to(move || {
                    let body = body.clone();
                    async move {
                        HttpResponse::Ok()
                            .insert_header((header::CONTENT_TYPE, "application/json"))
                            .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
                            .body(body)
                    }
                }))
                .default_service(web::to(|| async {
                    HttpResponse::MethodNotAllowed()
                        .insert_header((header::ALLOW, "GET"))
                        .json(serde_json::json!({
                            "status": 405,
                            "error": "method not allowed; allowed: GET",
                        }))
                })),
        );
    }
}

/// An admin API error: `{"status": 404, "error": "not found"}`.
#[derive(ToSchema)]
#[schema(as = AdminError)]
pub(crate) struct AdminErrorBody {
    status: u16,
    error: String,
}

/// An organization (never its token, only the token's dates).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Organization {
    id: String,
    name: String,
    created: String,
    tenant_url: String,
    paused: bool,
    paused_at: Option<String>,
    /// `strict` or `lenient`.
    profile: String,
    token: Option<OrganizationToken>,
}

/// The current token's id and dates.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OrganizationToken {
    id: String,
    generated: String,
    last_used: Option<String>,
}

/// The organizations the caller may see.
#[derive(ToSchema)]
pub(crate) struct Organizations {
    organizations: Vec<Organization>,
}

/// `POST /organizations`.
#[derive(ToSchema)]
pub(crate) struct NewOrganization {
    name: String,
}

/// `PATCH /organizations/{org}`: at least one member.
#[derive(ToSchema)]
pub(crate) struct OrganizationChange {
    /// Pause (`true`) or resume (`false`) provisioning.
    paused: Option<bool>,
    /// `strict` or `lenient`.
    profile: Option<String>,
}

/// `POST /organizations/{org}/token` (the body is optional).
#[derive(ToSchema)]
pub(crate) struct GenerateRequest {
    /// The token id the caller saw (`null`: none); 409 when another token was generated
    /// since.
    expected_token_id: Option<String>,
}

/// A generated token: shown in this response only.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GeneratedToken {
    organization_id: String,
    tenant_url: String,
    token_id: String,
    token: String,
}

/// A page of an organization's users or groups, as SCIM resources.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResourcePage {
    total_results: u64,
    page: u64,
    page_size: u64,
    resources: Vec<Value>,
}

/// One provisioning log entry.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogEntry {
    id: i64,
    at: String,
    operation: String,
    resource_type: String,
    resource_id: String,
    summary: String,
}

/// A page of the provisioning log, newest first.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogPage {
    entries: Vec<LogEntry>,
    /// The `before` of the next page, when there may be one.
    next_before: Option<i64>,
}

/// `POST …/webhooks`: a receiver. Unknown members are refused.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewWebhook {
    /// An `https://` (or `http://`) URL, or `nats:<subject>`.
    #[schema(pattern = "^https://[a-z]{1,20}\\.example/[a-z]{0,20}$")]
    url: String,
    /// `full` (the default) or `notice`.
    #[schema(pattern = "^(full|notice)$")]
    mode: Option<String>,
    /// Event type names (e.g. `prov:create`); `null`: every type.
    events: Option<Vec<String>>,
    /// Start after this position (a decimal string); default: the newest.
    after: Option<String>,
}

/// `PATCH …/webhooks/{wid}`: any of these. Unknown members are refused.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookChange {
    #[schema(pattern = "^https://[a-z]{1,20}\\.example/[a-z]{0,20}$")]
    url: Option<String>,
    #[schema(pattern = "^(full|notice)$")]
    mode: Option<String>,
    events: Option<Vec<String>>,
    enabled: Option<bool>,
}

/// `POST …/webhooks/{wid}/replay`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplayRequest {
    /// Deliver again every event after this position (a decimal string).
    #[schema(pattern = "^[0-9]{1,18}$")]
    after: String,
}

/// A webhook subscription (never its secret).
#[derive(ToSchema)]
pub(crate) struct Webhook {
    id: String,
    url: String,
    mode: String,
    events: Option<Vec<String>>,
    enabled: bool,
    disabled_reason: Option<String>,
    cursor: String,
    backlog: i64,
    attempts: i64,
    failing_since: Option<String>,
    next_attempt: Option<String>,
    last_error: Option<String>,
    created: String,
}

/// A subscription with its signing secret: the create and rotate answers only.
#[derive(ToSchema)]
pub(crate) struct WebhookWithSecret {
    #[serde(flatten)]
    webhook: Webhook,
    secret: String,
}

/// The organization's subscriptions.
#[derive(ToSchema)]
pub(crate) struct Webhooks {
    webhooks: Vec<Webhook>,
}

/// The answer to a removal.
#[derive(ToSchema)]
pub(crate) struct Removed {
    removed: String,
}

/// One delivery attempt.
#[derive(ToSchema)]
pub(crate) struct DeliveryAttempt {
    id: i64,
    position: String,
    jti: Option<String>,
    event_type: String,
    attempt: i64,
    redelivery: bool,
    at: String,
    outcome: String,
    status_code: Option<i64>,
    error: Option<String>,
    duration_ms: Option<i64>,
    next_try: Option<String>,
}

/// The answer to a test delivery.
#[derive(ToSchema)]
pub(crate) struct TestDelivery {
    attempt: DeliveryAttempt,
}

/// A page of the delivery log.
#[derive(ToSchema)]
pub(crate) struct Deliveries {
    deliveries: Vec<DeliveryAttempt>,
    next_before: Option<i64>,
}

/// The answer to a redelivery.
#[derive(ToSchema)]
pub(crate) struct Queued {
    queued: bool,
    position: String,
}

/// One event of the feed: its cursor and the SET's claims.
#[derive(ToSchema)]
pub(crate) struct FeedEvent {
    cursor: String,
    set: Value,
}

/// A page of the event feed; `next` is the cursor to poll with.
#[derive(ToSchema)]
pub(crate) struct EventsPage {
    events: Vec<FeedEvent>,
    next: String,
}

/// One extension schema of an organization, as `scim-server schema list --json` shows it.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SchemaExtension {
    /// The schema's URN.
    id: String,
    name: Option<String>,
    /// `User` or `Group`.
    extends: String,
    /// Whether resources must carry it.
    required: bool,
    /// `false` once removed (its stored values are withheld).
    active: bool,
    /// The top-level attribute names.
    attributes: Vec<String>,
    created: String,
    last_modified: String,
    /// The schema as `/Schemas/{id}` publishes it, without `meta`.
    #[schema(value_type = Object)]
    document: Value,
}

/// The organization's extension schemas.
#[derive(ToSchema)]
pub(crate) struct SchemaExtensions {
    schemas: Vec<SchemaExtension>,
}

/// `PUT …/schemas[/{urn}]`: the extension (its `id` is the URN) and its options.
#[derive(ToSchema)]
#[schema(example = json!({
    "extends": "User",
    "document": {
        "id": "urn:example:params:scim:schemas:extension:acme:2.0:User",
        "name": "AcmeUser",
        "attributes": [{"name": "costCenter", "type": "string", "multiValued": false}]
    }
}))]
pub(crate) struct SchemaPut {
    /// `User` or `Group` (letter case ignored).
    #[schema(pattern = "^(?i:user|group)$")]
    extends: String,
    /// The schema document (RFC 7643 §7): `id`, `name`, `attributes`.
    #[schema(value_type = Object)]
    document: Value,
    /// Resources must carry the extension (default `false`).
    required: Option<bool>,
    /// Replace even when stored values would no longer fit (default `false`).
    force: Option<bool>,
}

/// A role, entitlement or custom-type value.
#[derive(ToSchema)]
pub(crate) struct EntitlementValue {
    id: String,
    /// `role`, `entitlement` or a custom type's id.
    kind: String,
    value: String,
    display: String,
    created: String,
}

/// A page of values, in definition order.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EntitlementValues {
    total_results: u64,
    entitlements: Vec<EntitlementValue>,
}

/// `POST …/entitlements`. Unknown members are refused; a kind that is neither built in nor
/// one of the organization's types is 400.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "role", "value": "admin", "display": "Administrator"}))]
pub(crate) struct NewEntitlementValue {
    /// `role`, `entitlement` or a custom type's id.
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    kind: String,
    /// 1 to 1024 bytes, not blank, without control characters.
    #[schema(
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$",
        max_length = 1024
    )]
    value: String,
    /// The display name (the value when absent or empty): at most 1024 bytes, without
    /// control characters.
    #[schema(pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$", max_length = 1024)]
    display: Option<String>,
}

/// The answer to a value's removal.
#[derive(ToSchema)]
pub(crate) struct RemovedEntitlementValue {
    removed: EntitlementValue,
}

/// A custom entitlement type, served read-only at its SCIM endpoint.
#[derive(ToSchema)]
#[schema(as = EntitlementType)]
pub(crate) struct EntitlementTypeBody {
    id: String,
    name: String,
    /// The SCIM endpoint, e.g. `/Licenses`.
    endpoint: String,
    created: String,
}

/// The organization's custom entitlement types.
#[derive(ToSchema)]
pub(crate) struct EntitlementTypes {
    types: Vec<EntitlementTypeBody>,
}

/// `POST …/entitlements/types`. Unknown members are refused; a built-in id (`User`,
/// `Group`, `Role`, `Entitlement`) or endpoint (`/Users`, `/Me`, …), letter case ignored,
/// is 400.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "License", "name": "Software licenses", "endpoint": "/Licenses"}))]
pub(crate) struct NewEntitlementType {
    /// The type's id, e.g. `License`: a letter, then letters, digits, `_` or `-`.
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    id: String,
    /// Its name (default: the id): at most 64 printable characters.
    #[schema(pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$", max_length = 64)]
    name: Option<String>,
    /// Its endpoint (default: `/<id>s`): `/`, a letter, then letters, digits, `_` or `-`.
    #[schema(pattern = "^/[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    endpoint: Option<String>,
}

/// One request-log entry (the query values of `path` are masked).
#[derive(ToSchema)]
pub(crate) struct RequestEntry {
    id: i64,
    time: String,
    method: String,
    path: String,
    status: u16,
    /// What the request did (`create_user`, `lookup`, ...).
    action: String,
    scim_type: Option<String>,
    latency_ms: u64,
    /// `okta`, `entra` or `other`.
    client: String,
    resource_id: Option<String>,
}

/// An entry with its masked summary.
#[derive(ToSchema)]
pub(crate) struct RequestDetail {
    #[serde(flatten)]
    entry: RequestEntry,
    /// The masked summary of the request body (attribute names, operations, filters).
    summary: Value,
}

/// A page of the request log, newest first.
#[derive(ToSchema)]
pub(crate) struct RequestPage {
    requests: Vec<RequestEntry>,
    /// The `cursor` of the next page, when there may be one.
    next: Option<String>,
    /// Entries dropped since the process started (the log's queue was full).
    dropped: u64,
}
