//! The core Group schema (RFC 7643 §4.2, §8.7.1).

use super::{AttributeDef, AttributeType as T, Mutability, Returned, Schema, Uniqueness};

/// `urn:ietf:params:scim:schemas:core:2.0:Group`.
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// The core Group schema.
pub static GROUP: Schema = Schema {
    id: GROUP_URN,
    name: "Group",
    description: "Group",
    attributes: &[
        AttributeDef {
            required: true,
            // Groups are matched by name (Okta Group Push, Entra); two groups with one name
            // would make that ambiguous, so the name is unique within a tenant.
            uniqueness: Uniqueness::Server,
            ..AttributeDef::string("displayName", "A human-readable name for the Group.")
        },
        AttributeDef {
            multi_valued: true,
            ..AttributeDef::complex(
                "members",
                "A list of members of the Group.",
                &[
                    AttributeDef {
                        case_exact: true,
                        mutability: Mutability::Immutable,
                        ..AttributeDef::string("value", "Identifier of the member of this Group.")
                    },
                    AttributeDef {
                        case_exact: true,
                        mutability: Mutability::Immutable,
                        reference_types: &["User", "Group"],
                        ..AttributeDef::typed(
                            "$ref",
                            T::Reference,
                            "The URI of the member resource.",
                        )
                    },
                    // Derived by the server from the member's current name, so it is
                    // returned only on request: a member list then reads back exactly as
                    // a client wrote it (scim2-tester compares PATCHed members verbatim).
                    AttributeDef {
                        mutability: Mutability::ReadOnly,
                        returned: Returned::Request,
                        ..AttributeDef::string("display", "A human-readable name of the member.")
                    },
                    AttributeDef {
                        mutability: Mutability::Immutable,
                        canonical_values: &["User", "Group"],
                        ..AttributeDef::string("type", "The type of the member: User or Group.")
                    },
                ],
            )
        },
    ],
    closed: false,
};
