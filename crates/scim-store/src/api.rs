//! The repository traits and the value types they exchange.

use crate::StoreResult;
use chrono::{DateTime, Utc};
use scim_core::ResourceKind;
use scim_core::filter::{AttrPath, Filter};
use scim_core::resource::{Attributes, Resource};

/// An organization: one Tenant URL, at most one current secret token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// The opaque tenant id used in the Tenant URL.
    pub id: String,
    /// A human-readable name.
    pub name: String,
    /// When the tenant was created.
    pub created: DateTime<Utc>,
    /// The current token, if one has been generated.
    pub token: Option<TokenRecord>,
}

/// What the store knows of a tenant's current secret token. The token itself is never
/// stored: only its id, which the signed token carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The token id (the JWT `jti`).
    pub id: String,
    /// When it was generated.
    pub generated: DateTime<Utc>,
    /// When a request last authenticated with it.
    pub last_used: Option<DateTime<Utc>>,
}

/// Who made a change, recorded in the provisioning log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// The id of the token the request authenticated with, if any.
    pub token_id: Option<String>,
}

/// A list request as the store executes it (the HTTP layer maps SCIM query parameters to
/// this; projection by `attributes` is not the store's business).
#[derive(Debug, Clone, PartialEq)]
pub struct ListParams {
    /// The filter, if any.
    pub filter: Option<Filter>,
    /// 1-based index of the first result (already clamped to >= 1).
    pub start_index: u64,
    /// Maximum number of resources to return (already clamped to the server maximum).
    pub count: u64,
    /// The attribute to sort by; `None` sorts by creation order (stable).
    pub sort_by: Option<AttrPath>,
    /// Descending instead of ascending.
    pub descending: bool,
    /// Whether to load `members` (Groups) / `groups` (Users). Entra lists groups with
    /// `excludedAttributes=members`; skipping the load keeps that cheap.
    pub with_relations: bool,
}

impl Default for ListParams {
    fn default() -> Self {
        ListParams {
            filter: None,
            start_index: 1,
            count: 100,
            sort_by: None,
            descending: false,
            with_relations: true,
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The number of resources matching the filter, over all pages.
    pub total_results: u64,
    /// This page, in order.
    pub resources: Vec<Resource>,
}

/// The kind of change a provisioning-log row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogOperation {
    /// A resource was created.
    Create,
    /// A resource's attributes changed.
    Update,
    /// A user's `active` went from true to false.
    Deactivate,
    /// A user's `active` went from false to true.
    Reactivate,
    /// A resource was deleted.
    Delete,
    /// A group's membership changed (and nothing else did).
    GroupMembership,
}

impl LogOperation {
    /// The name stored and shown: `create`, `update`, `deactivate`, `reactivate`, `delete`,
    /// `group-membership`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogOperation::Create => "create",
            LogOperation::Update => "update",
            LogOperation::Deactivate => "deactivate",
            LogOperation::Reactivate => "reactivate",
            LogOperation::Delete => "delete",
            LogOperation::GroupMembership => "group-membership",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            LogOperation::Create,
            LogOperation::Update,
            LogOperation::Deactivate,
            LogOperation::Reactivate,
            LogOperation::Delete,
            LogOperation::GroupMembership,
        ]
        .into_iter()
        .find(|op| op.as_str() == s)
    }
}

/// One provisioning-log row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Monotonic id within the database (newest is largest).
    pub id: i64,
    /// The tenant.
    pub tenant_id: String,
    /// When the change was committed.
    pub at: DateTime<Utc>,
    /// The token the change was made with, if any.
    pub token_id: Option<String>,
    /// What happened.
    pub operation: LogOperation,
    /// User or Group.
    pub resource_kind: ResourceKind,
    /// The resource id.
    pub resource_id: String,
    /// A short, secret-free summary, e.g. `userName=ada@example.com; active: true -> false`.
    pub summary: String,
}

/// A query over the provisioning log, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// Only this operation.
    pub operation: Option<LogOperation>,
    /// Only this resource kind.
    pub resource_kind: Option<ResourceKind>,
    /// Only this resource.
    pub resource_id: Option<String>,
    /// Only rows older than this id (keyset paging: pass the last id of the previous page).
    pub before_id: Option<i64>,
    /// Page size.
    pub limit: u64,
}

/// Tenants and their token records.
pub trait TenantRepo: Send + Sync {
    /// Creates a tenant with a new opaque id.
    fn create_tenant(&self, name: &str) -> StoreResult<Tenant>;
    /// One tenant, with its current token record.
    fn get_tenant(&self, tenant_id: &str) -> StoreResult<Tenant>;
    /// Every tenant, oldest first.
    fn list_tenants(&self) -> StoreResult<Vec<Tenant>>;
    /// Makes `token_id` the tenant's one current token; any previous token stops being
    /// current at once.
    fn set_current_token(
        &self,
        tenant_id: &str,
        token_id: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<TokenRecord>;
    /// Records that `token_id` authenticated a request at `at`, if it is still current.
    /// Implementations may skip the write when the stored time is recent (to keep
    /// authentication cheap).
    fn record_token_use(
        &self,
        tenant_id: &str,
        token_id: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// Users and groups. `attributes` are canonical `scim-core` attribute maps; for Groups
/// they include `members` (persisted as membership rows), and resources read back carry
/// `members` (Groups) / `groups` (Users) derived from those rows, each value with `value`,
/// `display` and `type`.
pub trait ResourceRepo: Send + Sync {
    /// Creates a resource with a new server-issued id, version 1. Logs `create`.
    fn create(
        &self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        attributes: Attributes,
    ) -> StoreResult<Resource>;
    /// One resource, with its relations.
    fn get(&self, tenant_id: &str, kind: ResourceKind, id: &str) -> StoreResult<Resource>;
    /// Replaces a resource's attributes (PUT, or the result of a PATCH). When
    /// `expected_version` is given and is not current, fails with `VersionMismatch`.
    /// Bumps the version and `lastModified` only when something changed. Logs the change
    /// (`update`, `deactivate`, `reactivate`, or `group-membership`).
    fn replace(
        &self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        id: &str,
        attributes: Attributes,
        expected_version: Option<i64>,
    ) -> StoreResult<Resource>;
    /// Deletes a resource (and its memberships). Logs `delete`.
    fn delete(
        &self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        id: &str,
        expected_version: Option<i64>,
    ) -> StoreResult<()>;
    /// A page of resources matching `params`, with the exact total.
    fn list(&self, tenant_id: &str, kind: ResourceKind, params: &ListParams) -> StoreResult<Page>;
}

/// The provisioning log (written by [`ResourceRepo`] in the same transaction as each change).
pub trait LogRepo: Send + Sync {
    /// Rows of one tenant matching `query`, newest first.
    fn list_log(&self, tenant_id: &str, query: &LogQuery) -> StoreResult<Vec<LogEntry>>;
}

/// Values every server replica must share (e.g. the token-signing key).
pub trait SettingsRepo: Send + Sync {
    /// The value of `key`, if set.
    fn get_setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Sets `key` to `value` unless it is already set, and returns the value that won
    /// (race-safe across replicas).
    fn get_or_init_setting(&self, key: &str, value: &str) -> StoreResult<String>;
}

/// Everything the server needs from storage.
pub trait Store: TenantRepo + ResourceRepo + LogRepo + SettingsRepo {
    /// Checks that the database answers (readiness).
    fn ping(&self) -> StoreResult<()>;
    /// The backend's name, `sqlite` or `postgres`.
    fn backend_name(&self) -> &'static str;
}
