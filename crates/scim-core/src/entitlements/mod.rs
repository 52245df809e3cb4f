//! Roles and entitlements (Okta Identity Governance, draft-ietf-scim-roles-entitlements):
//! the values an organization defines, how they are rendered as read-only SCIM resources,
//! the resource types that advertise them, and the catalog check on a user's `roles` and
//! `entitlements`.
//!
//! Three kinds of value exist: `role` (served at `/Roles`), `entitlement` (`/Entitlements`)
//! and the entitlement types an organization defines (an id such as `License`, a name and
//! an endpoint such as `/Licenses`), all of which use the Entitlement schema.
//!
//! The catalog rule: once an organization has defined at least one role, every role a
//! write gives a user must be one of its roles (matched by `value`, or by the role's `id`,
//! which is what Okta puts in `roles[].value`); likewise for `entitlements` against the
//! built-in and custom entitlement values together. Without any defined value of a class
//! any value is accepted, as before. Values a user already holds are not checked again,
//! so removing a value from the catalog never blocks unrelated updates of users holding it.

//!
//! The modules: this one (kinds, types, values and the rules for defining them),
//! `render` (resources and resource types), `filter` (the `eq` filters of a list) and
//! `catalog` (the write check).

mod catalog;
mod filter;
mod render;
#[cfg(test)]
mod tests;

pub use catalog::{Catalog, may_touch_grants, patch_may_touch_grants};
pub use filter::{ValueFilter, value_filter};
pub use render::{builtin_endpoint, builtin_resource_types, custom_resource_type, value_json};

use crate::error::{ScimError, ScimResult};
use crate::schema::{IETF_ENTITLEMENT_URN, IETF_ROLE_URN, OKTA_ENTITLEMENT_URN, OKTA_ROLE_URN};
use chrono::{DateTime, Utc};

/// The kind of a defined value: a role, a built-in entitlement, or a value of an
/// entitlement type the organization defined.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EntitlementKind {
    /// A role (`/Roles`, stored as `role`).
    Role,
    /// A built-in entitlement (`/Entitlements`, stored as `entitlement`).
    Entitlement,
    /// A value of the custom type with this id (e.g. `License`).
    Custom(String),
}

impl EntitlementKind {
    /// `role` and `entitlement` (any letter case) are the built-in kinds; anything else
    /// names a custom type.
    pub fn parse(s: &str) -> Self {
        if s.eq_ignore_ascii_case("role") {
            EntitlementKind::Role
        } else if s.eq_ignore_ascii_case("entitlement") {
            EntitlementKind::Entitlement
        } else {
            EntitlementKind::Custom(s.to_string())
        }
    }

    /// The stored kind: `role`, `entitlement` or the custom type's id.
    pub fn as_str(&self) -> &str {
        match self {
            EntitlementKind::Role => "role",
            EntitlementKind::Entitlement => "entitlement",
            EntitlementKind::Custom(id) => id,
        }
    }

    /// The resource type's name: `Role`, `Entitlement` or the custom type's id (also the
    /// `type` attribute of an entitlement and its `meta.resourceType`).
    pub fn type_name(&self) -> &str {
        match self {
            EntitlementKind::Role => "Role",
            EntitlementKind::Entitlement => "Entitlement",
            EntitlementKind::Custom(id) => id,
        }
    }

    /// Whether it is a role (checked against `roles`; everything else against
    /// `entitlements`).
    pub fn is_role(&self) -> bool {
        matches!(self, EntitlementKind::Role)
    }

    /// The `schemas` of a resource of this kind: Okta's URN first, then the IETF draft's.
    pub fn schemas(&self) -> [&'static str; 2] {
        if self.is_role() {
            [OKTA_ROLE_URN, IETF_ROLE_URN]
        } else {
            [OKTA_ENTITLEMENT_URN, IETF_ENTITLEMENT_URN]
        }
    }
}

impl std::fmt::Display for EntitlementKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An entitlement type an organization defined (served with the Entitlement schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitlementType {
    /// The id, e.g. `License`: the ResourceType's `id`, the values' `type` and `kind`.
    pub id: String,
    /// The name Okta shows on its Governance tab, e.g. `License`.
    pub name: String,
    /// The endpoint relative to the Tenant URL, e.g. `/Licenses`.
    pub endpoint: String,
    /// When it was defined.
    pub created: DateTime<Utc>,
}

/// A value an organization defined: a role, an entitlement or a custom type's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitlementValue {
    /// The server-issued id (the SCIM resource id).
    pub id: String,
    /// Its kind.
    pub kind: EntitlementKind,
    /// What a user's `roles[].value` / `entitlements[].value` carries; unique per
    /// organization and kind.
    pub value: String,
    /// The human-readable name (`display` and `displayName`).
    pub display: String,
    /// When it was defined.
    pub created: DateTime<Utc>,
}

/// The endpoints of the built-in kinds, and the names no custom type may take (every
/// endpoint the Tenant URL already serves).
const RESERVED_ENDPOINTS: [&str; 10] = [
    "Users",
    "Groups",
    "Roles",
    "Entitlements",
    "Schemas",
    "ResourceTypes",
    "ServiceProviderConfig",
    "Bulk",
    "Me",
    ".search",
];

/// Resource type names a custom type's id may not take.
const RESERVED_TYPE_IDS: [&str; 4] = ["User", "Group", "Role", "Entitlement"];

/// The longest id, endpoint segment or name of a custom type.
pub const MAX_TYPE_NAME_LEN: usize = 64;
/// The longest value or display name, in bytes (what every backend indexes).
pub const MAX_VALUE_LEN: usize = 1024;

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && s.len() <= MAX_TYPE_NAME_LEN
}

/// Checks a custom type's definition: the id and the endpoint segment are letters, digits,
/// `_` and `-` (starting with a letter, at most 64), the endpoint starts with `/`, neither
/// takes a built-in name (letter case ignored), and the name is 1 to 64 printable
/// characters. The error says which part is wrong.
pub fn check_type_definition(id: &str, name: &str, endpoint: &str) -> ScimResult<()> {
    if !is_identifier(id) {
        return Err(ScimError::invalid_value(format!(
            "The type id '{id}' must start with a letter and hold only letters, digits, '_' and '-' (at most {MAX_TYPE_NAME_LEN})"
        )));
    }
    if RESERVED_TYPE_IDS.iter().any(|r| r.eq_ignore_ascii_case(id)) {
        return Err(ScimError::invalid_value(format!(
            "The type id '{id}' is a built-in resource type"
        )));
    }
    let name_ok = !name.trim().is_empty()
        && name.chars().count() <= MAX_TYPE_NAME_LEN
        && !name.chars().any(char::is_control);
    if !name_ok {
        return Err(ScimError::invalid_value(format!(
            "The type name must be 1 to {MAX_TYPE_NAME_LEN} printable characters"
        )));
    }
    let segment = endpoint.strip_prefix('/').unwrap_or("");
    if !is_identifier(segment) {
        return Err(ScimError::invalid_value(format!(
            "The endpoint '{endpoint}' must be '/' and a letter, then letters, digits, '_' and '-' (e.g. /Licenses)"
        )));
    }
    if RESERVED_ENDPOINTS
        .iter()
        .any(|r| r.eq_ignore_ascii_case(segment))
    {
        return Err(ScimError::invalid_value(format!(
            "The endpoint '{endpoint}' is already served by this server"
        )));
    }
    Ok(())
}

/// Checks a value's definition: a non-empty value and a display name (empty allowed), each
/// at most [`MAX_VALUE_LEN`] bytes, without control characters.
pub fn check_value_definition(value: &str, display: &str) -> ScimResult<()> {
    let ok = |s: &str| s.len() <= MAX_VALUE_LEN && !s.chars().any(char::is_control);
    if value.trim().is_empty() || !ok(value) {
        return Err(ScimError::invalid_value(format!(
            "The value must be 1 to {MAX_VALUE_LEN} bytes without control characters"
        )));
    }
    if !ok(display) {
        return Err(ScimError::invalid_value(format!(
            "The display name must be at most {MAX_VALUE_LEN} bytes without control characters"
        )));
    }
    Ok(())
}
