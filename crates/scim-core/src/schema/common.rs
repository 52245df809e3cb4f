//! The attributes every resource carries (RFC 7643 §3.1): `id`, `externalId`, `meta`,
//! and `schemas`, which the RFC lets clients filter on.

use super::{AttributeDef, AttributeType as T, Mutability, Returned, Uniqueness};

const fn read_only(mut def: AttributeDef) -> AttributeDef {
    def.mutability = Mutability::ReadOnly;
    def
}

/// The sub-attributes of `meta`.
pub static META: AttributeDef = AttributeDef {
    mutability: Mutability::ReadOnly,
    ..AttributeDef::complex(
        "meta",
        "Resource metadata maintained by the service provider.",
        &[
            AttributeDef {
                case_exact: true,
                ..read_only(AttributeDef::string(
                    "resourceType",
                    "The name of the resource type of the resource.",
                ))
            },
            read_only(AttributeDef::typed(
                "created",
                T::DateTime,
                "When the resource was added to the service provider.",
            )),
            read_only(AttributeDef::typed(
                "lastModified",
                T::DateTime,
                "When the resource was last modified.",
            )),
            AttributeDef {
                case_exact: true,
                reference_types: &["uri"],
                ..read_only(AttributeDef::typed(
                    "location",
                    T::Reference,
                    "The URI of the resource being returned.",
                ))
            },
            AttributeDef {
                case_exact: true,
                ..read_only(AttributeDef::string(
                    "version",
                    "The version (entity tag) of the resource.",
                ))
            },
        ],
    )
};

/// `id`, `externalId`, `meta` and `schemas`.
pub static COMMON_ATTRIBUTES: [AttributeDef; 4] = [
    AttributeDef {
        case_exact: true,
        mutability: Mutability::ReadOnly,
        returned: Returned::Always,
        uniqueness: Uniqueness::Server,
        ..AttributeDef::string(
            "id",
            "A unique, stable identifier for the resource, issued by the service provider.",
        )
    },
    AttributeDef {
        case_exact: true,
        ..AttributeDef::string(
            "externalId",
            "An identifier for the resource as defined by the provisioning client.",
        )
    },
    META,
    AttributeDef {
        multi_valued: true,
        case_exact: true,
        returned: Returned::Always,
        reference_types: &["uri"],
        ..AttributeDef::typed(
            "schemas",
            T::Reference,
            "The schema URIs the resource conforms to.",
        )
    },
];
