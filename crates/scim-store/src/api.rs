//! The repository traits and the value types they exchange.

use crate::StoreResult;
use chrono::{DateTime, Utc};
use scim_core::filter::{AttrPath, Filter};
use scim_core::patch::MemberDelta;
use scim_core::resource::{Attributes, Resource};
use scim_core::{ResourceKind, ScimError};

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
    /// When provisioning was paused by an administrator (`None`: it runs). A paused
    /// tenant's SCIM endpoint answers 403; its data is kept.
    pub paused_at: Option<DateTime<Utc>>,
    /// The conformance profile of its SCIM endpoint (strict or lenient interop profile),
    /// read with the tenant on every request.
    pub profile: scim_core::Profile,
    /// Bumped by every put and remove of one of its extension schemas
    /// ([`TenantSchemaRepo`]); `0`: it never had one, so its resource types are the static
    /// ones. Requests cache the tenant's resource types by `(id, schema_version)`.
    pub schema_version: i64,
}

/// One organization-defined extension schema as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSchema {
    /// Its URN (the document's `id`).
    pub id: String,
    /// The resource type it extends.
    pub extends: ResourceKind,
    /// Whether every resource of that type must carry it.
    pub required: bool,
    /// `false` once removed: values stored under it are withheld (see docs/schemas.md).
    pub active: bool,
    /// The canonical schema document (`scim_core::schema::document`).
    pub document: String,
    /// When it was first put.
    pub created: DateTime<Utc>,
    /// When it was last put or removed.
    pub last_modified: DateTime<Utc>,
}

/// An extension schema to put (create, replace, or define again after a removal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTenantSchema {
    /// Its URN.
    pub id: String,
    /// The resource type it extends.
    pub extends: ResourceKind,
    /// Whether every resource of that type must carry it.
    pub required: bool,
    /// The canonical schema document.
    pub document: String,
}

/// The check [`TenantSchemaRepo::put_tenant_schema`] runs inside its transaction on the
/// tenant's stored schemas (active and removed); an error refuses the put.
pub type SchemaCheck<'a> = dyn FnMut(&[TenantSchema]) -> Result<(), ScimError> + 'a;

/// The extension schemas of organizations. Every put and remove bumps
/// [`Tenant::schema_version`] in the same transaction.
pub trait TenantSchemaRepo: Send + Sync {
    /// The tenant's schemas, active and removed, in URN order;
    /// [`StoreError::NotFound`](crate::StoreError::NotFound) without such a tenant.
    fn list_tenant_schemas(&self, tenant_id: &str) -> StoreResult<Vec<TenantSchema>>;
    /// Creates or replaces (matching the URN ignoring letter case; a removed one becomes
    /// active again) after `check` accepted the stored schemas, in one write transaction
    /// that holds the tenant row, so two puts cannot both pass their checks on the same
    /// state. A refusal is [`StoreError::Rejected`](crate::StoreError::Rejected).
    fn put_tenant_schema(
        &self,
        tenant_id: &str,
        schema: &NewTenantSchema,
        check: &mut SchemaCheck<'_>,
    ) -> StoreResult<TenantSchema>;
    /// Marks the active schema `id` (letter case ignored) removed;
    /// [`StoreError::NotFound`](crate::StoreError::NotFound) when there is none.
    fn remove_tenant_schema(&self, tenant_id: &str, id: &str) -> StoreResult<()>;
}

/// What the store knows of a tenant's current secret token. The token itself is never
/// stored: only its SHA-256 and a public id derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The token's public id (shown in the console, recorded in the provisioning log and
    /// events); it authenticates nothing.
    pub id: String,
    /// The SHA-256 of the token, lowercase hex. `None` only for a token of the JWT era that
    /// the start-up upgrade has not rehashed yet (it authenticates nothing until then).
    pub hash: Option<String>,
    /// When it was generated.
    pub generated: DateTime<Utc>,
    /// When a request last authenticated with it.
    pub last_used: Option<DateTime<Utc>>,
}

/// A token to store: its public id and the SHA-256 of the secret (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// The public id.
    pub id: String,
    /// SHA-256 of the token, lowercase hex.
    pub hash: String,
}

/// A tenant whose current token predates hashing (a JWT signed with the old server key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyToken {
    /// The tenant id (the JWT `sub`).
    pub tenant_id: String,
    /// The JWT `jti`.
    pub token_id: String,
    /// When it was generated (its whole seconds are the JWT `iat`).
    pub generated: DateTime<Utc>,
}

/// The callback of [`TenantRepo::upgrade_legacy_tokens`]: for one JWT-era token and the
/// stored signing key (if any), its new id and hash, or `None` to leave it as is.
pub type Rehash<'a> = dyn FnMut(&LegacyToken, Option<&str>) -> StoreResult<Option<NewToken>> + 'a;

/// How precisely [`TokenRecord::last_used`] is kept: a use within this long of the stored
/// time is not written again, so authentication does not write on every request.
pub const TOKEN_USE_RESOLUTION: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

impl TokenRecord {
    /// Whether a use at `at` should be recorded: never recorded yet, or the stored time is
    /// at least [`TOKEN_USE_RESOLUTION`] old.
    pub fn use_is_stale(&self, at: DateTime<Utc>) -> bool {
        self.last_used
            .is_none_or(|last| at - last >= TOKEN_USE_RESOLUTION)
    }
}

/// Who made a change and how, recorded in the provisioning log and the change's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// The id of the token the request authenticated with, if any.
    pub token_id: Option<String>,
    /// The request's transaction id: the `txn` claim of every event its change produces.
    /// `None`: each write transaction gets a new one.
    pub txn: Option<String>,
    /// Whether [`Session::update`] is a PUT or a PATCH (`prov:put` or `prov:patch` events).
    pub method: scim_core::events::UpdateMethod,
    /// The tenant's resource types: an event's `data` is the resource as a GET returns it
    /// by default under them (no `returned: never` values of its extensions, nothing of its
    /// removed ones). The static types by default.
    pub schemas: scim_core::schema::registry::Registry,
    /// The request-log entry to write in the change's transaction (after its
    /// provisioning-log row; at most one per transaction), if the request is logged.
    pub request: Option<crate::InTxRequest>,
}

/// A position in the default order `(meta.created, id)`: the last resource of a page, after
/// which the next page starts (keyset paging; RFC 9865 cursors carry one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Keyset {
    /// `meta.created` of the last resource seen (millisecond precision, as stored).
    pub created: DateTime<Utc>,
    /// Its id (the tiebreak within one millisecond).
    pub id: String,
}

/// How a list is paged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Paging {
    /// Index paging (RFC 7644 §3.4.2.4): [`ListParams::start_index`] is the 1-based index of
    /// the first result. The store serves a sequential walk without an `OFFSET` scan where it
    /// can (a keyset remembered from the previous page), with identical results.
    #[default]
    Index,
    /// Cursor paging (RFC 9865): the page starts after `after` (at the beginning when
    /// `None`), in the default order; `start_index` is ignored and `sort_by` must be `None`.
    /// [`Page::next`] tells where the following page starts.
    Cursor {
        /// The last resource of the previous page.
        after: Option<Keyset>,
    },
}

/// A list request as the store executes it (the HTTP layer maps SCIM query parameters to
/// this; projection by `attributes` is not the store's business).
#[derive(Debug, Clone, PartialEq)]
pub struct ListParams {
    /// The filter, if any.
    pub filter: Option<Filter>,
    /// 1-based index of the first result (already clamped to >= 1); index paging only.
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
    /// Index or cursor paging.
    pub paging: Paging,
    /// The tenant's resource type (with its organization-defined extensions) that the
    /// filter is evaluated against; `None`: the static type of the listed kind.
    pub resource_type: Option<&'static scim_core::schema::ResourceType>,
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
            paging: Paging::Index,
            resource_type: None,
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
    /// Cursor paging: where the next page starts, `None` on the last page. Always `None`
    /// for index paging.
    pub next: Option<Keyset>,
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
    /// The positions `(first, last)` of the events the change produced in the tenant's
    /// feed (`None`: it produced none, e.g. a change of `schemas` only).
    pub events: Option<(i64, i64)>,
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
    /// Makes `token` the tenant's one current token; any previous token stops being
    /// current at once. A compare-and-set: only when the current token's public id is still
    /// `expected` (`None`: the tenant has no token yet), else
    /// [`StoreError::TokenChanged`](crate::StoreError::TokenChanged) and nothing is
    /// written, so of two concurrent rotations from the same state exactly one wins.
    fn set_current_token(
        &self,
        tenant_id: &str,
        token: &NewToken,
        at: DateTime<Utc>,
        expected: Option<&str>,
    ) -> StoreResult<TokenRecord>;
    /// Pauses (`true`) or resumes (`false`) provisioning for the tenant and returns it.
    /// Pausing an already paused tenant keeps the first pause time.
    fn set_paused(&self, tenant_id: &str, paused: bool, at: DateTime<Utc>) -> StoreResult<Tenant>;
    /// Sets the tenant's conformance profile and returns the tenant; it applies from the
    /// next request (every request reads it with the tenant row).
    fn set_profile(&self, tenant_id: &str, profile: scim_core::Profile) -> StoreResult<Tenant>;
    /// Deletes the tenant and everything of it, in one write transaction: its users,
    /// groups, memberships, provisioning log, events, subscriptions and their delivery log,
    /// counters, request log, its roles, entitlements and entitlement types, and its
    /// organization admins (and their console sessions). Its token stops
    /// working with the commit, on every replica. [`StoreError::NotFound`](crate::StoreError::NotFound)
    /// when there is no such tenant. Other tenants' rows are never touched.
    fn delete_tenant(&self, tenant_id: &str) -> StoreResult<()>;
    /// The JWT-era upgrade, in one write transaction: for every tenant with a current
    /// token id and no hash, `rehash(tenant, stored key)` (the stored key is the value of
    /// the setting `key_setting`, if any) gives the token's new public id and hash, written
    /// only if the row is still unhashed (`None`: left as is); then the setting is deleted.
    /// An error from `rehash` rolls everything back. Safe when several
    /// replicas run it at once (the second finds nothing to do). Returns how many tenants
    /// were upgraded.
    fn upgrade_legacy_tokens(
        &self,
        key_setting: &str,
        rehash: &mut Rehash<'_>,
    ) -> StoreResult<usize>;
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
    /// Creates every resource of `batch` in one transaction (all or none), each with its
    /// log row, and returns their new ids in order. For imports and seeding: a few thousand
    /// per call keeps a transaction short.
    fn create_many(
        &self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        batch: Vec<Attributes>,
    ) -> StoreResult<Vec<String>>;
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

/// What a [`Session`] is for. On SQLite, writes go through the one writer connection (so
/// writers queue in the process instead of spinning on the database lock) and reads through
/// the reader pool; on PostgreSQL both come from one pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Only reads (and at most the rare token-use bookkeeping write).
    Read,
    /// Changes resources.
    Write,
}

/// How many sessions of each [`Access`] the store can serve at once; callers that queue
/// requests fairly in front of the store (the HTTP layer) size their queues with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCapacity {
    /// Concurrent read sessions.
    pub readers: usize,
    /// Concurrent write sessions, when writers have their own connections (SQLite: 1);
    /// `None` when reads and writes share the `readers` connections (PostgreSQL).
    pub writers: Option<usize>,
}

/// One unit of work on one pooled connection: everything a request does (checking its
/// token, then its operation) runs on it, in one blocking call. Each write method is one
/// transaction: it reads (and locks) the row once, lets the caller's pure function decide
/// the change, writes it with its log row and commits; no caller-side retry is needed.
///
/// Every method takes the tenant id and never sees another tenant's rows: a resource of
/// another tenant is [`StoreError::NotFound`](crate::StoreError::NotFound).
pub trait Session {
    /// The tenant with its current token record.
    fn tenant(&mut self, tenant_id: &str) -> StoreResult<Tenant>;
    /// The tenant's extension schemas, active and removed (see
    /// [`TenantSchemaRepo::list_tenant_schemas`]), on this session's connection: read only
    /// when the tenant's `schema_version` is not cached yet.
    fn tenant_schemas(&mut self, tenant_id: &str) -> StoreResult<Vec<TenantSchema>>;
    /// Records that `token_id` authenticated a request at `at` (see
    /// [`TenantRepo::record_token_use`]).
    fn record_token_use(
        &mut self,
        tenant_id: &str,
        token_id: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// One resource; with `relations`, its `members` (Groups) / `groups` (Users).
    fn get(
        &mut self,
        tenant_id: &str,
        kind: ResourceKind,
        id: &str,
        relations: bool,
    ) -> StoreResult<Resource>;
    /// A page of resources matching `params`, with the exact total.
    fn list(
        &mut self,
        tenant_id: &str,
        kind: ResourceKind,
        params: &ListParams,
    ) -> StoreResult<Page>;
    /// Creates a resource (see [`ResourceRepo::create`]).
    fn create(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        attributes: Attributes,
    ) -> StoreResult<Resource>;
    /// Creates a batch in one transaction (see [`ResourceRepo::create_many`]).
    fn create_many(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        batch: Vec<Attributes>,
    ) -> StoreResult<Vec<String>>;
    /// Creates each resource of `batch` on its own, for a SCIM Bulk: one transaction with
    /// a savepoint per resource, so a resource that fails (a uniqueness conflict, an unknown
    /// member) is rolled back alone and the others commit together, each with its own log
    /// row and events. Stops after `max_errors` failures (the rest are not attempted and
    /// have no result). Errors that doom the whole transaction (busy, unavailable) are the
    /// outer error and nothing is committed. Group members are not read back.
    ///
    /// The default runs [`Session::create`] per resource (one transaction each), for
    /// stores without savepoints.
    fn create_each(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        batch: Vec<Attributes>,
        max_errors: Option<usize>,
    ) -> StoreResult<Vec<StoreResult<Resource>>> {
        let mut out = Vec::with_capacity(batch.len());
        let mut errors = 0;
        for attributes in batch {
            if max_errors.is_some_and(|m| errors >= m) {
                break;
            }
            let r = self.create(actor, tenant_id, kind, attributes);
            errors += usize::from(r.is_err());
            out.push(r);
        }
        Ok(out)
    }
    /// Changes one resource in one transaction: reads and locks it (with its relations when
    /// `relations`), calls `change` once with it, and when `change` returns new attributes
    /// (canonical, including `members` for Groups) writes them, bumps the version and
    /// `lastModified` if anything differs, and logs the change. `Ok(None)` from `change`
    /// means "nothing to do"; an error from it aborts with [`StoreError::Rejected`](crate::StoreError::Rejected).
    /// Returns the resource as it now is (with relations when `relations`).
    fn update(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        id: &str,
        relations: bool,
        change: &mut dyn FnMut(&Resource) -> Result<Option<Attributes>, ScimError>,
    ) -> StoreResult<Resource>;
    /// Changes a group's membership by `delta` (and its other attributes by `change`) in one
    /// transaction without reading its member list: `change` sees the group **without**
    /// `members` and returns its new attributes (also without `members`) or `None`. Only
    /// added ids are resolved; only changed rows are written. Returns the group without
    /// `members` (its version and `lastModified` bumped when anything changed).
    fn change_members(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        group_id: &str,
        delta: &MemberDelta,
        change: &mut dyn FnMut(&Resource) -> Result<Option<Attributes>, ScimError>,
    ) -> StoreResult<Resource>;
    /// The tenant's own entitlement types (see [`EntitlementRepo`](crate::EntitlementRepo)),
    /// oldest first: the per-tenant part of `/ResourceTypes` and the endpoints it serves.
    fn entitlement_types(
        &mut self,
        tenant_id: &str,
    ) -> StoreResult<Vec<scim_core::entitlements::EntitlementType>>;
    /// A page of the tenant's defined roles and entitlements (the SCIM `/Roles`,
    /// `/Entitlements` and custom endpoints).
    fn list_entitlement_values(
        &mut self,
        tenant_id: &str,
        query: &crate::ValueQuery,
    ) -> StoreResult<crate::ValuePage>;
    /// Every defined value of the tenant, for the check of a user's `roles` and
    /// `entitlements`, read on this session's connection right before the write.
    fn entitlement_catalog(
        &mut self,
        tenant_id: &str,
    ) -> StoreResult<scim_core::entitlements::Catalog>;
    /// Deletes a resource and its memberships in one transaction, after `check` accepted the
    /// current resource (read without relations; an `If-Match` check, for instance).
    fn delete(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        kind: ResourceKind,
        id: &str,
        check: &mut dyn FnMut(&Resource) -> Result<(), ScimError>,
    ) -> StoreResult<()>;
}

/// Everything the server needs from storage.
pub trait Store:
    TenantRepo
    + TenantSchemaRepo
    + ResourceRepo
    + LogRepo
    + SettingsRepo
    + crate::EventRepo
    + crate::RequestLogRepo
{
    /// A unit of work on one pooled connection (see [`Session`]).
    fn session(&self, access: Access) -> StoreResult<Box<dyn Session + '_>>;
    /// How many sessions can run at once.
    fn capacity(&self) -> SessionCapacity;
    /// Checks that the database answers (readiness).
    fn ping(&self) -> StoreResult<()>;
    /// The backend's name, `sqlite` or `postgres`.
    fn backend_name(&self) -> &'static str;
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn token_use_is_recorded_once_per_resolution_period() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut record = TokenRecord {
            id: "jti".into(),
            hash: None,
            generated: t0,
            last_used: None,
        };
        assert!(record.use_is_stale(t0), "never used: record it");
        record.last_used = Some(t0);
        assert!(!record.use_is_stale(t0 + chrono::TimeDelta::seconds(59)));
        assert!(record.use_is_stale(t0 + TOKEN_USE_RESOLUTION));
    }
}
