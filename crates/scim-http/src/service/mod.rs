//! The operations behind the resource endpoints. Each makes exactly one
//! [`AppState::session`] call: inside it, on one connection and one blocking-pool thread,
//! the token is checked ([`Authenticated::check`]), the operation runs and the response is
//! rendered (JSON text, so the async workers only copy bytes). The handlers in
//! [`crate::routes`] only extract the request and shape the HTTP response.
//!
//! - [`read`]: `GET` of one resource (with `If-None-Match`);
//! - [`write`]: `POST`, `PUT`, `PATCH`, `DELETE` (with `If-Match`, decided inside the
//!   store's one transaction; no retry loop here);
//! - [`list`]: lists and searches, index or RFC 9865 cursor paging;
//! - [`bulk`]: `POST /Bulk`, every operation on one session;
//! - [`entitlements`]: the read-only `/Roles`, `/Entitlements` and custom entitlement
//!   endpoints.

pub mod bulk;
pub mod entitlements;
pub mod list;
pub mod read;
pub mod write;

pub use bulk::bulk;
pub use list::{list, search_all};
pub use read::{Fetched, get};
pub use write::{Patched, create, delete, patch, replace};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tenant_schemas::Tenancy;
use scim_core::ScimError;
use scim_core::filter::AttrPath;
use scim_core::list::{ListLimits, parse_attr_list};
use scim_core::projection::Projection;
use scim_core::resource::Resource;
use scim_core::schema::registry::Registry;
use scim_core::version::header_matches;
use scim_store::{Access, Session};
use serde_json::Value;

/// A rendered resource: its JSON text (after projection), entity tag and location.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The resource document, serialised.
    pub body: String,
    /// The `ETag` header value.
    pub etag: String,
    /// The `Location` header value (= `meta.location`).
    pub location: String,
    /// The version.
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

/// Whether `projection` wants the relation attribute of `kind` (`groups` of a User,
/// `members` of a Group): only then does the store load it.
fn wants_relations(kind: scim_core::ResourceKind, projection: &Projection) -> bool {
    projection.wants(kind.resource_type(), kind.relation_attribute())
}

/// The resource's document after projection under the tenant's resource types (its own
/// extensions follow `returned`, removed ones are withheld); the attributes move into it
/// (no clone).
fn resource_json(r: Resource, base: &str, projection: &Projection, registry: &Registry) -> Value {
    let rt = registry.resource_type(r.kind);
    let mut body = r.into_json(base);
    projection.apply(rt, &mut body);
    body
}

fn render(base: &str, r: Resource, projection: &Projection, registry: &Registry) -> Rendered {
    let (etag, location, version) = (
        scim_core::version::etag(r.meta.version),
        r.location(base),
        r.meta.version,
    );
    Rendered {
        body: resource_json(r, base, projection, registry).to_string(),
        etag,
        location,
        version,
    }
}

fn precondition_failed() -> ScimError {
    ScimError::precondition_failed("If-Match does not name the current version of the resource")
}

/// The `If-Match` check, run by the store on the row it has locked.
fn check_if_match(if_match: Option<&str>, current: &Resource) -> Result<(), ScimError> {
    match if_match {
        Some(h) if !header_matches(h, current.meta.version) => Err(precondition_failed()),
        _ => Ok(()),
    }
}

/// Runs `op` on one session of `access` after checking the caller's token on it and
/// counting the request against the tenant's rate limit, handing `op` the tenant's
/// [`Tenancy`]: its conformance profile and resource types (from the tenant row
/// [`Authenticated::check`] already loads).
pub(crate) async fn authorized_as<T, F>(
    state: &AppState,
    auth: &Authenticated,
    access: Access,
    op: F,
) -> Result<T, ApiError>
where
    F: FnOnce(&mut dyn Session, Tenancy) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let (auth, limiter, schemas) = (auth.clone(), state.limiter.clone(), state.schemas.clone());
    state
        .session(access, move |s| {
            let tenancy = auth.check(s, &schemas)?;
            // Counted only once the token is known to be the tenant's current one.
            limiter.admit(&auth.tenant_id)?;
            op(s, tenancy)
        })
        .await
}
