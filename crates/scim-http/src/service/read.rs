//! `GET /Users/{id}`, `GET /Groups/{id}` (RFC 7644 §3.4.1), with `If-None-Match`.

use super::{Rendered, authorized_as, render, wants_relations};
use crate::auth::Authenticated;
use crate::error::{ApiError, store_error_for};
use crate::state::AppState;
use scim_core::projection::Projection;
use scim_core::schema::ResourceKind;
use scim_core::version::{etag, header_matches};
use scim_store::Access;

/// What a `GET` of one resource answers.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// `If-None-Match` names the current version: 304 with this `ETag`, nothing rendered.
    NotModified {
        /// The `ETag` header value.
        etag: String,
    },
    /// The resource.
    Found(Rendered),
}

/// `GET /Users/{id}`: the relations (`groups` / `members`) are loaded only when the
/// projection returns them, and a matching `If-None-Match` is decided from the version
/// before anything is rendered.
pub async fn get(
    state: &AppState,
    auth: &Authenticated,
    kind: ResourceKind,
    id: &str,
    projection: Projection,
    if_none_match: Option<String>,
) -> Result<Fetched, ApiError> {
    let (base, rid) = (state.tenant_url(&auth.tenant_id), id.to_string());
    let tenant = auth.tenant_id.clone();
    authorized_as(state, auth, Access::Read, move |s, tenancy| {
        let relations = wants_relations(kind, &projection);
        let r = s
            .get(&tenant, kind, &rid, relations)
            .map_err(|e| store_error_for(kind, &rid, e))?;
        if let Some(h) = &if_none_match
            && header_matches(h, r.meta.version)
        {
            return Ok(Fetched::NotModified {
                etag: etag(r.meta.version),
            });
        }
        Ok(Fetched::Found(render(
            &base,
            r,
            &projection,
            &tenancy.registry,
        )))
    })
    .await
}
