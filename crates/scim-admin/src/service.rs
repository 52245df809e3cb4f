//! The console's operations, shared by the pages and the JSON API (and, for accounts and
//! tokens, by the command line): each checks that the signed-in admin may see the
//! organization, then calls the store or `scim-http`. Synchronous: run them on the
//! blocking pool ([`AdminState::run`]).

use crate::AdminError;
use crate::session::{AdminState, Principal};
use scim_core::ResourceKind;
use scim_core::filter::{Filter, parse_filter, validate_filter};
use scim_core::resource::Resource;
use scim_store::{ListParams, LogEntry, LogOperation, LogQuery, Page, Tenant};

/// Rows per page of the Users and Groups lists.
pub const PAGE_SIZE: u64 = 25;
/// Rows per page of the Activity list.
pub const LOG_PAGE_SIZE: u64 = 50;
/// The longest accepted organization name.
pub const MAX_ORG_NAME: usize = 200;
/// The longest accepted search text.
pub const MAX_SEARCH: usize = 500;

/// The organizations `who` may see: every one for an operator, its own otherwise.
pub fn organizations(state: &AdminState, who: &Principal) -> Result<Vec<Tenant>, AdminError> {
    match &who.account.tenant_id {
        None => Ok(state.store().list_tenants()?),
        Some(own) => Ok(vec![state.store().get_tenant(own)?]),
    }
}

/// One organization, when `who` may see it (otherwise [`AdminError::NotFound`], exactly
/// as for an organization that does not exist).
pub fn organization(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
) -> Result<Tenant, AdminError> {
    if !who.may_see(tenant_id) {
        return Err(AdminError::NotFound);
    }
    Ok(state.store().get_tenant(tenant_id)?)
}

/// Creates an organization (operators only).
pub fn create_organization(
    state: &AdminState,
    who: &Principal,
    name: &str,
) -> Result<Tenant, AdminError> {
    if !who.is_operator() {
        return Err(AdminError::Forbidden(
            "Only operators can create organizations.",
        ));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_ORG_NAME || name.chars().any(char::is_control)
    {
        return Err(AdminError::BadRequest(format!(
            "The organization name must be 1 to {MAX_ORG_NAME} characters long."
        )));
    }
    let tenant = state.store().create_tenant(name)?;
    tracing::info!(tenant_id = %tenant.id, admin = %who.account.id, "admin console: organization created");
    Ok(tenant)
}

/// Generates the organization's new secret token (the previous one stops working at
/// once), through the same functions as `scim-server token generate`. `expected` is the
/// public id of the token the caller last saw (`Some(None)`: it saw none); `None` takes
/// the one current just before. When another Generate won in between: `Stale` (409), and
/// nothing changes, so no token shown is ever already dead.
pub fn generate_token(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    expected: Option<Option<String>>,
) -> Result<scim_http::tokens::GeneratedToken, AdminError> {
    let tenant = organization(state, who, tenant_id)?;
    let expected = expected.unwrap_or_else(|| tenant.token.as_ref().map(|t| t.id.clone()));
    let generated = scim_http::rotate_token(state.store(), &tenant.id, expected.as_deref())?;
    tracing::info!(tenant_id = %tenant.id, admin = %who.account.id, "admin console: secret token generated");
    Ok(generated)
}

/// Pauses (`true`) or resumes provisioning for the organization (operators: any; an
/// organization's admins: their own, any other is not found). Recorded in the structured
/// log with the organization and the admin (the provisioning log records SCIM changes to
/// resources only).
pub fn set_paused(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    paused: bool,
) -> Result<Tenant, AdminError> {
    let tenant = organization(state, who, tenant_id)?;
    let t = state
        .store()
        .set_paused(&tenant.id, paused, chrono::Utc::now())?;
    let action = if paused { "paused" } else { "resumed" };
    tracing::info!(tenant_id = %t.id, admin = %who.account.id, "admin console: provisioning {action}");
    Ok(t)
}

/// Deletes the organization and all its data (operators only; an organization's admins
/// get 403 for their own and 404 for another), through the same store call as
/// `scim-server tenant delete`: its token stops working with the commit. Recorded in the
/// structured log with the organization and the operator.
pub fn delete_organization(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
) -> Result<(), AdminError> {
    let tenant = organization(state, who, tenant_id)?;
    if !who.is_operator() {
        return Err(AdminError::Forbidden(
            "Only operators can delete organizations.",
        ));
    }
    state.store().delete_tenant(&tenant.id)?;
    tracing::info!(tenant_id = %tenant.id, admin = %who.account.id, "admin console: organization deleted");
    Ok(())
}

/// Sets the organization's SCIM conformance profile (who may: as [`set_paused`]),
/// recorded in the structured log with the organization and the admin.
pub fn set_profile(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    profile: scim_core::Profile,
) -> Result<Tenant, AdminError> {
    let tenant = organization(state, who, tenant_id)?;
    let t = state.store().set_profile(&tenant.id, profile)?;
    tracing::info!(tenant_id = %t.id, admin = %who.account.id, profile = %t.profile, "admin console: profile set");
    Ok(t)
}

/// The organization's extension schemas, active and removed (docs/schemas.md).
pub fn schemas(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
) -> Result<Vec<scim_store::TenantSchema>, AdminError> {
    let tenant = organization(state, who, tenant_id)?;
    Ok(state.store().list_tenant_schemas(&tenant.id)?)
}

fn schema_error(e: scim_http::tenant_schemas::SchemaError) -> AdminError {
    use scim_http::tenant_schemas::SchemaError;
    match e {
        SchemaError::Invalid(e) => AdminError::BadRequest(e.detail().to_string()),
        SchemaError::NotFound => AdminError::NotFound,
        SchemaError::Store(e) => e.into(),
    }
}

/// Creates or replaces one of the organization's extension schemas from its document
/// text (the same path as `scim-server schema put`); an incompatible change needs `force`.
pub fn put_schema(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    document: &str,
    options: &scim_http::tenant_schemas::SchemaPut,
) -> Result<scim_store::TenantSchema, AdminError> {
    let tenant = organization(state, who, tenant_id)?;
    let row = scim_http::tenant_schemas::put_schema(state.store(), &tenant.id, document, options)
        .map_err(schema_error)?;
    tracing::info!(tenant_id = %tenant.id, admin = %who.account.id, schema = %row.id, "admin console: extension schema put");
    Ok(row)
}

/// Removes one of the organization's extension schemas (its stored values are withheld).
pub fn remove_schema(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    urn: &str,
) -> Result<(), AdminError> {
    let tenant = organization(state, who, tenant_id)?;
    scim_http::tenant_schemas::remove_schema(state.store(), &tenant.id, urn)
        .map_err(schema_error)?;
    tracing::info!(tenant_id = %tenant.id, admin = %who.account.id, schema = %urn, "admin console: extension schema removed");
    Ok(())
}

/// The filter for the Users search box: a SCIM filter when the text is one, otherwise
/// the text searched in `userName`, `displayName` and `emails.value`.
pub fn user_search_filter(text: &str) -> Result<Option<Filter>, AdminError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_SEARCH {
        return Err(AdminError::BadRequest(
            "The search text is too long.".into(),
        ));
    }
    let rt = ResourceKind::User.resource_type();
    if let Ok(f) = parse_filter(text) {
        return match validate_filter(&f, rt) {
            Ok(()) => Ok(Some(f)),
            Err(e) => Err(AdminError::BadRequest(format!("Invalid filter: {e}"))),
        };
    }
    let literal = serde_json::Value::String(text.to_string()).to_string();
    let built =
        format!("userName co {literal} or displayName co {literal} or emails.value co {literal}");
    parse_filter(&built)
        .map(Some)
        .map_err(|e| AdminError::BadRequest(format!("Cannot search for this text: {e}")))
}

/// A page (1-based) of users matching the search text.
pub fn users(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    search: &str,
    page: u64,
) -> Result<Page, AdminError> {
    organization(state, who, tenant_id)?;
    let params = ListParams {
        filter: user_search_filter(search)?,
        start_index: page_start(page),
        count: PAGE_SIZE,
        with_relations: false,
        ..ListParams::default()
    };
    Ok(state.store().list(tenant_id, ResourceKind::User, &params)?)
}

/// A page (1-based) of groups, with their members loaded in one batch (the store reads
/// the memberships of the whole page at once).
pub fn groups(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    page: u64,
) -> Result<Page, AdminError> {
    organization(state, who, tenant_id)?;
    let params = ListParams {
        start_index: page_start(page),
        count: PAGE_SIZE,
        with_relations: true,
        ..ListParams::default()
    };
    Ok(state
        .store()
        .list(tenant_id, ResourceKind::Group, &params)?)
}

/// One user or group.
pub fn resource(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    kind: ResourceKind,
    id: &str,
) -> Result<Resource, AdminError> {
    organization(state, who, tenant_id)?;
    Ok(state.store().get(tenant_id, kind, id)?)
}

/// The Activity filters (all optional), as query parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct LogFilter {
    /// `create`, `update`, `deactivate`, `reactivate`, `delete`, `group-membership`.
    #[serde(default)]
    pub operation: Option<String>,
    /// `User` or `Group`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Only rows older than this id (the next page).
    #[serde(default)]
    pub before: Option<String>,
    /// Only rows of this resource.
    #[serde(default)]
    pub resource: Option<String>,
}

impl LogFilter {
    /// The store query (unknown values are refused).
    pub fn query(&self, limit: u64) -> Result<LogQuery, AdminError> {
        let nonempty = |o: &Option<String>| {
            o.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let operation = match nonempty(&self.operation) {
            None => None,
            Some(s) => Some(
                LogOperation::parse(&s)
                    .ok_or_else(|| AdminError::BadRequest(format!("Unknown operation '{s}'.")))?,
            ),
        };
        let resource_kind = match nonempty(&self.kind).as_deref() {
            None => None,
            Some("User") => Some(ResourceKind::User),
            Some("Group") => Some(ResourceKind::Group),
            Some(other) => {
                return Err(AdminError::BadRequest(format!(
                    "Unknown resource kind '{other}'."
                )));
            }
        };
        let before_id =
            match nonempty(&self.before) {
                None => None,
                Some(s) => Some(s.parse::<i64>().map_err(|_| {
                    AdminError::BadRequest("'before' must be a log entry id.".into())
                })?),
            };
        Ok(LogQuery {
            operation,
            resource_kind,
            resource_id: nonempty(&self.resource),
            before_id,
            limit,
        })
    }
}

/// Provisioning-log rows of the organization, newest first.
pub fn log(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    query: &LogQuery,
) -> Result<Vec<LogEntry>, AdminError> {
    organization(state, who, tenant_id)?;
    Ok(state.store().list_log(tenant_id, query)?)
}

/// The 1-based SCIM start index of a 1-based page.
pub fn page_start(page: u64) -> u64 {
    page.clamp(1, 100_000).saturating_sub(1) * PAGE_SIZE + 1
}

/// A page number from a query value (1 when missing or malformed).
pub fn parse_page(v: Option<&str>) -> u64 {
    v.and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(1)
        .clamp(1, 100_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_becomes_a_quoted_contains_filter() {
        let f = user_search_filter("ada \"the\" \\ lovelace")
            .unwrap()
            .unwrap();
        let shown = f.to_string();
        assert!(shown.contains("userName co"), "{shown}");
        assert!(shown.contains("emails.value co"), "{shown}");
        assert!(user_search_filter("  ").unwrap().is_none());
        // A real filter is used as is; an invalid one is refused.
        assert!(user_search_filter("userName eq \"a\"").unwrap().is_some());
        assert!(user_search_filter(&"x".repeat(MAX_SEARCH + 1)).is_err());
    }

    #[test]
    fn pages() {
        assert_eq!(page_start(1), 1);
        assert_eq!(page_start(0), 1);
        assert_eq!(page_start(3), 51);
        assert_eq!(parse_page(Some("x")), 1);
        assert_eq!(parse_page(Some("99999999999999999999")), 1);
        assert_eq!(parse_page(Some("2")), 2);
    }

    #[test]
    fn log_filters() {
        let f = LogFilter {
            operation: Some("deactivate".into()),
            kind: Some("User".into()),
            before: Some("10".into()),
            resource: None,
        };
        let q = f.query(5).unwrap();
        assert_eq!(q.before_id, Some(10));
        assert!(
            LogFilter {
                operation: Some("x".into()),
                ..Default::default()
            }
            .query(5)
            .is_err()
        );
        assert!(
            LogFilter {
                kind: Some("x".into()),
                ..Default::default()
            }
            .query(5)
            .is_err()
        );
        assert!(
            LogFilter {
                before: Some("x".into()),
                ..Default::default()
            }
            .query(5)
            .is_err()
        );
    }
}
