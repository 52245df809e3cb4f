//! The Enterprise User extension (RFC 7643 §4.3).

use super::{AttributeDef, AttributeType as T, Mutability, Schema};

/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The Enterprise User extension schema.
pub static ENTERPRISE_USER: Schema = Schema {
    id: ENTERPRISE_USER_URN,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &[
        AttributeDef::string(
            "employeeNumber",
            "Numeric or alphanumeric identifier assigned to a person by the organization.",
        ),
        AttributeDef::string("costCenter", "Identifies the name of a cost center."),
        AttributeDef::string("organization", "Identifies the name of an organization."),
        AttributeDef::string("division", "Identifies the name of a division."),
        AttributeDef::string("department", "Identifies the name of a department."),
        AttributeDef::complex(
            "manager",
            "The user's manager.",
            &[
                AttributeDef {
                    case_exact: true,
                    ..AttributeDef::string(
                        "value",
                        "The id of the SCIM resource representing the user's manager.",
                    )
                },
                AttributeDef {
                    case_exact: true,
                    reference_types: &["User"],
                    ..AttributeDef::typed(
                        "$ref",
                        T::Reference,
                        "The URI of the manager's SCIM resource.",
                    )
                },
                AttributeDef {
                    mutability: Mutability::ReadOnly,
                    ..AttributeDef::string("displayName", "The displayName of the user's manager.")
                },
            ],
        ),
    ],
    closed: false,
};
