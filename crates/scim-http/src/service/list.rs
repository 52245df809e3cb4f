//! `GET /Users`, `POST /Users/.search` and the root `POST /.search` (RFC 7644 §3.4.2,
//! §3.4.3), with index paging or RFC 9865 cursor paging ([`crate::cursor`]).
//!
//! Cursor paging walks the default order `(meta.created, id)` by keyset, so every page
//! costs the same however deep the walk; `sortBy` cannot be combined with it (400). The
//! root `/.search` (Users then Groups as one list) pages by index only: a cursor there is
//! refused with 400 `invalidValue`.

use super::{authorized_as, resource_json, wants_relations};
use crate::auth::Authenticated;
use crate::cursor::{self, QueryBinding};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tenant_schemas::Tenancy;
use chrono::Utc;
use scim_core::ScimError;
use scim_core::filter::validate_filter;
use scim_core::list::{ListQuery, cursor_list_response, list_response};
use scim_core::projection::Projection;
use scim_core::resource::Resource;
use scim_core::schema::ResourceKind;
use scim_core::schema::registry::Registry;
use scim_store::{Access, ListParams, Page, Paging};
use serde_json::Value;

/// Checks the filter against the schema of `kind` (ordering on booleans, dates that do not
/// parse, ...) so that the client gets `invalidFilter` rather than the store failing.
fn validate_query(kind: ResourceKind, q: &ListQuery) -> Result<(), ApiError> {
    match &q.filter {
        Some(f) => Ok(validate_filter(f, kind.resource_type())?),
        None => Ok(()),
    }
}

/// Under the strict profile, a filter on an attribute no schema of `kinds` defines is
/// `invalidFilter` (lenient: such a test is false).
fn strict_filter(cx: Tenancy, kinds: &[ResourceKind], q: &ListQuery) -> Result<(), ApiError> {
    match &q.filter {
        Some(f) => {
            let types: Vec<_> = kinds.iter().map(|k| cx.resource_type(*k)).collect();
            Ok(scim_core::profile::check_filter_in(cx.profile, &types, f)?)
        }
        None => Ok(()),
    }
}

/// For a tenant with extensions of its own: the filter checked again against its types
/// (their attributes resolve now), and the store told to evaluate it against them.
fn tenant_filter(
    cx: Tenancy,
    kind: ResourceKind,
    q: &ListQuery,
    params: &mut ListParams,
) -> Result<(), ApiError> {
    if cx.registry.is_static() {
        return Ok(());
    }
    let rt = cx.resource_type(kind);
    if let Some(f) = &q.filter {
        validate_filter(f, rt)?;
    }
    params.resource_type = Some(rt);
    Ok(())
}

fn list_params(kind: ResourceKind, q: &ListQuery, projection: &Projection) -> ListParams {
    ListParams {
        filter: q.filter.clone(),
        start_index: q.start_index,
        count: q.count,
        sort_by: q.sort_by.clone(),
        descending: q.descending(),
        with_relations: wants_relations(kind, projection),
        paging: Paging::Index,
        resource_type: None,
    }
}

fn render_page(
    base: &str,
    resources: Vec<Resource>,
    projection: &Projection,
    registry: &Registry,
) -> Vec<Value> {
    resources
        .into_iter()
        .map(|r| resource_json(r, base, projection, registry))
        .collect()
}

/// `GET /Users`, `POST /Users/.search` (and the Groups twins): the `ListResponse` as JSON
/// text.
pub async fn list(
    state: &AppState,
    auth: &Authenticated,
    kind: ResourceKind,
    query: ListQuery,
) -> Result<String, ApiError> {
    validate_query(kind, &query)?;
    if query.is_cursor() && query.sort_by.is_some() {
        return Err(ScimError::invalid_value(
            "'sortBy' cannot be combined with cursor paging: cursor pages follow creation \
             order; drop 'sortBy' or page with 'startIndex'",
        )
        .into());
    }
    let projection = query.projection();
    let mut params = list_params(kind, &query, &projection);
    let base = state.tenant_url(&auth.tenant_id);
    let tenant = auth.tenant_id.clone();
    let key = *state.cursor_key.bytes();
    let timeout = state.limits.cursor_timeout;
    authorized_as(state, auth, Access::Read, move |s, cx| {
        strict_filter(cx, &[kind], &query)?;
        tenant_filter(cx, kind, &query, &mut params)?;
        // The cursor is decoded after the token check: every page is re-authorised, and a
        // revoked token gets 401 whatever cursor it sends.
        let binding = query
            .cursor
            .as_ref()
            .map(|c| {
                let binding = QueryBinding::new(&tenant, kind, &query);
                let after = cursor::decode(&key, &binding, c, Utc::now(), timeout)?;
                params.paging = Paging::Cursor { after };
                Ok::<_, ScimError>(binding)
            })
            .transpose()?;
        let Page {
            total_results,
            resources,
            next,
        } = s.list(&tenant, kind, &params)?;
        let resources = render_page(&base, resources, &projection, &cx.registry);
        let doc = match binding {
            None => list_response(total_results, query.start_index, resources),
            Some(binding) => {
                let next = next
                    .as_ref()
                    .map(|k| cursor::encode(&key, &binding, k, Utc::now()))
                    .transpose()?;
                cursor_list_response(total_results, resources, next)
            }
        };
        Ok(doc.to_string())
    })
    .await
}

/// `POST /.search` at the tenant root: Users, then Groups, paged as one list (index paging
/// only).
pub async fn search_all(
    state: &AppState,
    auth: &Authenticated,
    query: ListQuery,
) -> Result<String, ApiError> {
    if query.is_cursor() {
        return Err(ScimError::invalid_value(
            "Cursor paging is not supported by the root /.search; use /Users/.search or \
             /Groups/.search, or page with 'startIndex'",
        )
        .into());
    }
    validate_query(ResourceKind::User, &query)?;
    validate_query(ResourceKind::Group, &query)?;
    let projection = query.projection();
    let mut users = list_params(ResourceKind::User, &query, &projection);
    let mut groups = list_params(ResourceKind::Group, &query, &projection);
    let base = state.tenant_url(&auth.tenant_id);
    let tenant = auth.tenant_id.clone();
    authorized_as(state, auth, Access::Read, move |s, cx| {
        strict_filter(cx, &[ResourceKind::User, ResourceKind::Group], &query)?;
        tenant_filter(cx, ResourceKind::User, &query, &mut users)?;
        tenant_filter(cx, ResourceKind::Group, &query, &mut groups)?;
        let user_page = s.list(&tenant, ResourceKind::User, &users)?;
        let taken = user_page.resources.len() as u64;
        // Groups continue where users end: global index i > users_total is group index
        // i - users_total.
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
        let total = user_page.total_results + group_page.total_results;
        let mut resources = render_page(&base, user_page.resources, &projection, &cx.registry);
        resources.extend(render_page(
            &base,
            group_page.resources,
            &projection,
            &cx.registry,
        ));
        Ok(list_response(total, query.start_index, resources).to_string())
    })
    .await
}
