//! The Role and Entitlement schemas of Okta Identity Governance
//! (`urn:okta:scim:schemas:core:1.0:Role|Entitlement`) and of the IETF draft
//! draft-ietf-scim-roles-entitlements-01 (`urn:ietf:params:scim:schemas:core:2.0:Role|Entitlement`).
//!
//! Both vocabularies describe the same read-only resources, so one attribute list serves
//! the four URNs: Okta reads `id` and `displayName`, the draft `value`, `display` and
//! `type`. Every value is defined by the organization (console, admin API, CLI) and is
//! read-only over SCIM, which the `mutability` of each attribute says.

use super::{AttributeDef, Mutability, Schema, Uniqueness};

/// Okta's Role schema URN (what Okta looks for in `/ResourceTypes`).
pub const OKTA_ROLE_URN: &str = "urn:okta:scim:schemas:core:1.0:Role";
/// Okta's Entitlement schema URN (built-in `/Entitlements` and every custom type).
pub const OKTA_ENTITLEMENT_URN: &str = "urn:okta:scim:schemas:core:1.0:Entitlement";
/// The IETF draft's Role schema URN.
pub const IETF_ROLE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Role";
/// The IETF draft's Entitlement schema URN.
pub const IETF_ENTITLEMENT_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Entitlement";

const fn read_only(mut def: AttributeDef) -> AttributeDef {
    def.mutability = Mutability::ReadOnly;
    def
}

/// The attributes of a Role (beyond the common `id`, `meta`, `schemas`).
static ROLE_ATTRIBUTES: [AttributeDef; 3] = [
    AttributeDef {
        // What a user's `roles[].value` names; unique per organization and kind, compared
        // exactly (the catalog check matches byte for byte).
        case_exact: true,
        uniqueness: Uniqueness::Server,
        required: true,
        ..read_only(AttributeDef::string(
            "value",
            "The value a user's roles or entitlements carry to grant it.",
        ))
    },
    read_only(AttributeDef::string(
        "display",
        "A human-readable name (the IETF draft's name for it).",
    )),
    read_only(AttributeDef::string(
        "displayName",
        "A human-readable name (Okta's name for it; equal to display).",
    )),
];

/// The attributes of an Entitlement: a Role's, plus `type` (the entitlement type's id:
/// `Entitlement` for the built-in one, e.g. `License` for a custom type).
static ENTITLEMENT_ATTRIBUTES: [AttributeDef; 4] = [
    ROLE_ATTRIBUTES[0],
    ROLE_ATTRIBUTES[1],
    ROLE_ATTRIBUTES[2],
    AttributeDef {
        case_exact: true,
        ..read_only(AttributeDef::string(
            "type",
            "The entitlement type: Entitlement, or the id of a type the organization defined.",
        ))
    },
];

/// Okta's Role schema.
pub static OKTA_ROLE: Schema = Schema {
    id: OKTA_ROLE_URN,
    name: "Role",
    description: "A role users can be granted (Okta Identity Governance)",
    attributes: &ROLE_ATTRIBUTES,
    closed: false,
};

/// Okta's Entitlement schema.
pub static OKTA_ENTITLEMENT: Schema = Schema {
    id: OKTA_ENTITLEMENT_URN,
    name: "Entitlement",
    description: "An entitlement users can be granted (Okta Identity Governance)",
    attributes: &ENTITLEMENT_ATTRIBUTES,
    closed: false,
};

/// The IETF draft's Role schema (same attributes as Okta's).
pub static IETF_ROLE: Schema = Schema {
    id: IETF_ROLE_URN,
    name: "Role",
    description: "A role users can be granted (draft-ietf-scim-roles-entitlements)",
    attributes: &ROLE_ATTRIBUTES,
    closed: false,
};

/// The IETF draft's Entitlement schema (same attributes as Okta's).
pub static IETF_ENTITLEMENT: Schema = Schema {
    id: IETF_ENTITLEMENT_URN,
    name: "Entitlement",
    description: "An entitlement users can be granted (draft-ietf-scim-roles-entitlements)",
    attributes: &ENTITLEMENT_ATTRIBUTES,
    closed: false,
};

/// The four schemas, as `/Schemas` publishes them after the User and Group schemas.
pub static ENTITLEMENT_SCHEMAS: [&Schema; 4] =
    [&OKTA_ROLE, &OKTA_ENTITLEMENT, &IETF_ROLE, &IETF_ENTITLEMENT];
