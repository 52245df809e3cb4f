//! The roles and entitlements an organization defines (Okta Identity Governance): custom
//! entitlement types and the values of every kind, managed by the console, the admin API
//! (the host application's path) and the CLI, read by the SCIM endpoints.
//!
//! The value types are `scim-core`'s ([`EntitlementKind`], [`EntitlementType`],
//! [`EntitlementValue`]): the store persists them, it does not reshape them.

use crate::StoreResult;
use scim_core::entitlements::{EntitlementKind, EntitlementType, EntitlementValue, ValueFilter};

/// A list of defined values, in definition order (`created`, then `id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueQuery {
    /// Only this kind (`None`: every kind). A custom kind is matched to its type ignoring
    /// letter case.
    pub kind: Option<EntitlementKind>,
    /// Only the values this filter selects.
    pub filter: Option<ValueFilter>,
    /// The 1-based index of the first value.
    pub start_index: u64,
    /// At most this many values (`0`: only the total).
    pub count: u64,
}

impl Default for ValueQuery {
    fn default() -> Self {
        ValueQuery {
            kind: None,
            filter: None,
            start_index: 1,
            count: 1000,
        }
    }
}

/// One page of defined values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuePage {
    /// How many values the query matches, over all pages.
    pub total_results: u64,
    /// This page.
    pub values: Vec<EntitlementValue>,
}

/// Custom entitlement types and defined values, one transaction per call. Every method
/// takes the tenant id and never sees another tenant's rows.
///
/// Errors: an unknown tenant or id is [`StoreError::NotFound`](crate::StoreError::NotFound);
/// a value or type that breaks a rule of `scim_core::entitlements` (or names no type) is
/// [`StoreError::Rejected`](crate::StoreError::Rejected) with its SCIM error; a taken
/// value, type id or endpoint is [`StoreError::Conflict`](crate::StoreError::Conflict)
/// naming `value`, `id` or `endpoint`.
pub trait EntitlementRepo: Send + Sync {
    /// Defines an entitlement type (`id` e.g. `License`, `endpoint` e.g. `/Licenses`); ids
    /// and endpoints are unique per tenant ignoring letter case.
    fn add_entitlement_type(
        &self,
        tenant_id: &str,
        id: &str,
        name: &str,
        endpoint: &str,
    ) -> StoreResult<EntitlementType>;
    /// The tenant's entitlement types, oldest first.
    fn list_entitlement_types(&self, tenant_id: &str) -> StoreResult<Vec<EntitlementType>>;
    /// Removes a type (its id matched ignoring letter case). A type that still has values
    /// is refused ([`StoreError::Rejected`](crate::StoreError::Rejected), 409): users may
    /// hold them, so they are removed one by one first, deliberately.
    fn remove_entitlement_type(&self, tenant_id: &str, id: &str) -> StoreResult<()>;
    /// Defines a value of `kind` (a custom kind must name one of the tenant's types).
    fn add_entitlement_value(
        &self,
        tenant_id: &str,
        kind: &EntitlementKind,
        value: &str,
        display: &str,
    ) -> StoreResult<EntitlementValue>;
    /// A page of the tenant's values.
    fn list_entitlement_values(
        &self,
        tenant_id: &str,
        query: &ValueQuery,
    ) -> StoreResult<ValuePage>;
    /// Removes a value by id and returns it. Users holding it keep it (the catalog check
    /// applies to values a write adds).
    fn remove_entitlement_value(&self, tenant_id: &str, id: &str) -> StoreResult<EntitlementValue>;
}
