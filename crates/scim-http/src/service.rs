//! The operations behind the resource endpoints. Each runs its store work in one call on
//! the blocking pool and returns SCIM JSON; the handlers in [`crate::routes`] only extract
//! the request and shape the HTTP response.

use crate::auth::Authenticated;
use crate::error::{ApiError, store_error_for};
use crate::state::AppState;
use scim_core::ScimError;
use scim_core::filter::{AttrPath, validate_filter};
use scim_core::list::{ListLimits, ListQuery, list_response, parse_attr_list};
use scim_core::patch::{PatchRequest, apply_patch};
use scim_core::projection::Projection;
use scim_core::replace::replace_resource;
use scim_core::resource::{Resource, parse_resource};
use scim_core::schema::ResourceKind;
use scim_core::version::header_matches;
use scim_store::{ListParams, Page, Store, StoreError};
use serde_json::Value;

/// How many times a PATCH or PUT re-reads and re-applies after a concurrent change.
const MAX_ATTEMPTS: u32 = 25;

/// Sleeps a short, growing, jittered time before the next optimistic attempt (runs on the
/// blocking pool, never on an async worker).
fn backoff(attempt: u32) {
    let ceiling_ms = 2 + 4 * u64::from(attempt.min(10));
    let jitter = u64::from(getrandom::u32().unwrap_or(0)) % ceiling_ms;
    std::thread::sleep(std::time::Duration::from_millis(1 + jitter));
}

fn too_busy() -> ApiError {
    ScimError::unavailable(
        "The resource is being changed by many concurrent requests; retry shortly",
    )
    .into()
}

/// A rendered resource: its JSON (after projection), entity tag and location.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The resource document.
    pub body: Value,
    /// The `ETag` header value.
    pub etag: String,
    /// The `Location` header value (= `meta.location`).
    pub location: String,
    /// The version, for `If-None-Match`.
    pub version: i64,
}

/// The `attributes` / `excludedAttributes` of a query string.
pub fn projection_from_pairs(pairs: &[(String, String)]) -> Result<Projection, ApiError> {
    let mut attributes: Vec<AttrPath> = Vec::new();
    let mut excluded: Vec<AttrPath> = Vec::new();
    for (k, v) in pairs {
        if k.eq_ignore_ascii_case("attributes") {
            attributes = parse_attr_list(v)?;
        } else if k.eq_ignore_ascii_case("excludedAttributes") {
            excluded = parse_attr_list(v)?;
        }
    }
    Ok(Projection::new(attributes, excluded))
}

/// The list limits of the state.
pub fn list_limits(state: &AppState) -> ListLimits {
    ListLimits {
        default_count: state.limits.default_page_size,
        max_count: state.limits.max_page_size,
    }
}

/// The relation attribute the store loads on demand for a kind.
fn relation_attribute(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "groups",
        ResourceKind::Group => "members",
    }
}

fn render(state: &AppState, tenant_id: &str, r: &Resource, projection: &Projection) -> Rendered {
    let base = state.tenant_url(tenant_id);
    let mut body = r.to_json(&base);
    projection.apply(r.kind.resource_type(), &mut body);
    Rendered {
        body,
        etag: scim_core::version::etag(r.meta.version),
        location: r.location(&base),
        version: r.meta.version,
    }
}

fn precondition_failed() -> ApiError {
    ScimError::precondition_failed("If-Match does not name the current version of the resource")
        .into()
}

/// `POST /Users`, `POST /Groups` (RFC 7644 §3.3).
pub async fn create(
    state: &AppState,
    auth: &Authenticated,
    kind: ResourceKind,
    body: Value,
    projection: &Projection,
) -> Result<Rendered, ApiError> {
    let attributes = parse_resource(kind, &body)?;
    let (actor, tenant) = (auth.actor(), auth.tenant_id.clone());
    let created = state
        .blocking(move |s| s.create(&actor, &tenant, kind, attributes))
        .await?;
    Ok(render(state, &auth.tenant_id, &created, projection))
}

/// `GET /Users/{id}` (RFC 7644 §3.4.1).
pub async fn get(
    state: &AppState,
    auth: &Authenticated,
    kind: ResourceKind,
    id: &str,
    projection: &Projection,
) -> Result<Rendered, ApiError> {
    let (tenant, rid) = (auth.tenant_id.clone(), id.to_string());
    let r = state
        .blocking(move |s| {
            s.get(&tenant, kind, &rid)
                .map_err(|e| store_error_for(kind, &rid, e))
        })
        .await?;
    Ok(render(state, &auth.tenant_id, &r, projection))
}

/// How a modification computes the new attributes from the current resource.
type Modify =
    Box<dyn Fn(&Resource) -> Result<Option<scim_core::resource::Attributes>, ApiError> + Send>;

/// Reads the resource, checks `If-Match`, computes the new attributes and stores them with
/// the version read (optimistic concurrency), retrying when another request won the race
/// (unless the client pinned a version with `If-Match`). `Ok(None)` from `modify` means
/// "nothing changed".
async fn modify(
    state: &AppState,
    auth: &Authenticated,
    kind: ResourceKind,
    id: &str,
    if_match: Option<String>,
    modify: Modify,
) -> Result<Resource, ApiError> {
    let (actor, tenant, rid) = (auth.actor(), auth.tenant_id.clone(), id.to_string());
    state
        .blocking(move |s: &dyn Store| {
            let not_found = |e| store_error_for(kind, &rid, e);
            let mut attempt = 0;
            loop {
                attempt += 1;
                let current = s.get(&tenant, kind, &rid).map_err(not_found)?;
                if let Some(h) = &if_match
                    && !header_matches(h, current.meta.version)
                {
                    return Err(precondition_failed());
                }
                let Some(attributes) = modify(&current)? else {
                    return Ok(current);
                };
                match s.replace(
                    &actor,
                    &tenant,
                    kind,
                    &rid,
                    attributes,
                    Some(current.meta.version),
                ) {
                    Ok(r) => return Ok(r),
                    Err(StoreError::VersionMismatch) if if_match.is_some() => {
                        return Err(precondition_failed());
                    }
                    Err(StoreError::VersionMismatch) if attempt < MAX_ATTEMPTS => {
                        backoff(attempt);
                        continue;
                    }
                    Err(StoreError::VersionMismatch) => return Err(too_busy()),
                    Err(e) => return Err(not_found(e)),
                }
            }
        })
        .await
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
    projection: &Projection,
) -> Result<Rendered, ApiError> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax("The request body must be a JSON object").into());
    }
    let f: Modify = Box::new(move |current: &Resource| {
        Ok(Some(replace_resource(kind, &current.attributes, &body)?))
    });
    let r = modify(state, auth, kind, id, if_match, f).await?;
    Ok(render(state, &auth.tenant_id, &r, projection))
}

/// `PATCH /Users/{id}` (RFC 7644 §3.5.2).
pub async fn patch(
    state: &AppState,
    auth: &Authenticated,
    kind: ResourceKind,
    id: &str,
    body: Value,
    if_match: Option<String>,
    projection: &Projection,
) -> Result<Rendered, ApiError> {
    let request = PatchRequest::from_json(&body)?;
    let f: Modify = Box::new(move |current: &Resource| {
        let outcome = apply_patch(kind, &current.attributes, &request)?;
        Ok(outcome.changed.then_some(outcome.attributes))
    });
    let r = modify(state, auth, kind, id, if_match, f).await?;
    Ok(render(state, &auth.tenant_id, &r, projection))
}

/// `DELETE /Users/{id}` (RFC 7644 §3.6).
pub async fn delete(
    state: &AppState,
    auth: &Authenticated,
    kind: ResourceKind,
    id: &str,
    if_match: Option<String>,
) -> Result<(), ApiError> {
    let (actor, tenant, rid) = (auth.actor(), auth.tenant_id.clone(), id.to_string());
    state
        .blocking(move |s: &dyn Store| {
            let not_found = |e| store_error_for(kind, &rid, e);
            let expected = match &if_match {
                None => None,
                Some(h) => {
                    let current = s.get(&tenant, kind, &rid).map_err(not_found)?;
                    if !header_matches(h, current.meta.version) {
                        return Err(precondition_failed());
                    }
                    Some(current.meta.version)
                }
            };
            match s.delete(&actor, &tenant, kind, &rid, expected) {
                Err(StoreError::VersionMismatch) => Err(precondition_failed()),
                other => other.map_err(not_found),
            }
        })
        .await
}

/// Checks the filter against the schema of `kind` (ordering on booleans, dates that do not
/// parse, ...) so that the client gets `invalidFilter` rather than the store failing.
fn validate_query(kind: ResourceKind, q: &ListQuery) -> Result<(), ApiError> {
    match &q.filter {
        Some(f) => Ok(validate_filter(f, kind.resource_type())?),
        None => Ok(()),
    }
}

fn list_params(kind: ResourceKind, q: &ListQuery, projection: &Projection) -> ListParams {
    ListParams {
        filter: q.filter.clone(),
        start_index: q.start_index,
        count: q.count,
        sort_by: q.sort_by.clone(),
        descending: q.descending(),
        with_relations: projection.wants(kind.resource_type(), relation_attribute(kind)),
        paging: scim_store::Paging::Index,
    }
}

fn render_page(state: &AppState, tenant: &str, page: &Page, projection: &Projection) -> Vec<Value> {
    page.resources
        .iter()
        .map(|r| render(state, tenant, r, projection).body)
        .collect()
}

/// `GET /Users`, `POST /Users/.search` (RFC 7644 §3.4.2, §3.4.3).
pub async fn list(
    state: &AppState,
    auth: &Authenticated,
    kind: ResourceKind,
    query: ListQuery,
) -> Result<Value, ApiError> {
    validate_query(kind, &query)?;
    let projection = query.projection();
    let params = list_params(kind, &query, &projection);
    let tenant = auth.tenant_id.clone();
    let page = state
        .blocking(move |s| s.list(&tenant, kind, &params))
        .await?;
    let resources = render_page(state, &auth.tenant_id, &page, &projection);
    Ok(list_response(
        page.total_results,
        query.start_index,
        resources,
    ))
}

/// `POST /.search` at the tenant root: Users, then Groups, paged as one list.
pub async fn search_all(
    state: &AppState,
    auth: &Authenticated,
    query: ListQuery,
) -> Result<Value, ApiError> {
    validate_query(ResourceKind::User, &query)?;
    validate_query(ResourceKind::Group, &query)?;
    let projection = query.projection();
    let users = list_params(ResourceKind::User, &query, &projection);
    let groups = list_params(ResourceKind::Group, &query, &projection);
    let tenant = auth.tenant_id.clone();
    let (user_page, group_page) = state
        .blocking(move |s: &dyn Store| -> Result<(Page, Page), ApiError> {
            let user_page = s.list(&tenant, ResourceKind::User, &users)?;
            let taken = user_page.resources.len() as u64;
            // Groups continue where users end: global index i > users_total is group
            // index i - users_total.
            let group_start = users
                .start_index
                .saturating_sub(user_page.total_results)
                .max(1);
            let group_params = ListParams {
                start_index: group_start,
                count: users.count.saturating_sub(taken),
                ..groups
            };
            let group_page = s.list(&tenant, ResourceKind::Group, &group_params)?;
            Ok((user_page, group_page))
        })
        .await?;
    let mut resources = render_page(state, &auth.tenant_id, &user_page, &projection);
    resources.extend(render_page(
        state,
        &auth.tenant_id,
        &group_page,
        &projection,
    ));
    let total = user_page.total_results + group_page.total_results;
    Ok(list_response(total, query.start_index, resources))
}
