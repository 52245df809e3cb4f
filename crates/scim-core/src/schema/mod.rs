//! Attribute and schema definitions (RFC 7643 §2, §7): the single source of truth for
//! every rule that depends on an attribute's characteristics.
//!
//! Parsing, filtering, PATCH, projection and the `/Schemas` and `/ResourceTypes`
//! discovery documents all read these definitions; nothing about an attribute is
//! written down twice. Definitions are `'static` data, so lookups are cheap.

mod common;
pub mod document;
mod enterprise;
mod entitlement;
mod group;
pub mod registry;
mod user;

pub use common::{COMMON_ATTRIBUTES, META};
pub use enterprise::{ENTERPRISE_USER, ENTERPRISE_USER_URN};
pub use entitlement::{
    ENTITLEMENT_SCHEMAS, IETF_ENTITLEMENT, IETF_ENTITLEMENT_URN, IETF_ROLE, IETF_ROLE_URN,
    OKTA_ENTITLEMENT, OKTA_ENTITLEMENT_URN, OKTA_ROLE, OKTA_ROLE_URN,
};
pub use group::{GROUP, GROUP_URN};
pub use user::{USER, USER_URN};

/// The data type of an attribute (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeType {
    /// A Unicode string.
    String,
    /// `true` or `false`.
    Boolean,
    /// A real number.
    Decimal,
    /// A whole number.
    Integer,
    /// An `xsd:dateTime` such as `2008-01-23T04:56:22Z`.
    DateTime,
    /// Base64-encoded binary data.
    Binary,
    /// A URI referencing a resource.
    Reference,
    /// A structure of sub-attributes.
    Complex,
}

impl AttributeType {
    /// The name used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::String => "string",
            AttributeType::Boolean => "boolean",
            AttributeType::Decimal => "decimal",
            AttributeType::Integer => "integer",
            AttributeType::DateTime => "dateTime",
            AttributeType::Binary => "binary",
            AttributeType::Reference => "reference",
            AttributeType::Complex => "complex",
        }
    }
}

/// Whether and how an attribute may be changed (RFC 7643 §2.2 `mutability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Set by the server only; client values are ignored (POST/PUT) or rejected (PATCH).
    ReadOnly,
    /// Freely updated.
    ReadWrite,
    /// Set once, then never changed.
    Immutable,
    /// Accepted but never returned (e.g. `password`).
    WriteOnly,
}

impl Mutability {
    /// The name used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute is returned (RFC 7643 §2.2 `returned`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Returned {
    /// Always returned, even when excluded.
    Always,
    /// Never returned.
    Never,
    /// Returned unless excluded or an `attributes` list omits it.
    Default,
    /// Returned only when named in `attributes`.
    Request,
}

impl Returned {
    /// The name used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// How unique a value must be (RFC 7643 §2.2 `uniqueness`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Uniqueness {
    /// No uniqueness constraint.
    None,
    /// Unique within the service provider's tenant.
    Server,
    /// Globally unique.
    Global,
}

impl Uniqueness {
    /// The name used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// The definition of one attribute or sub-attribute, with every characteristic of
/// RFC 7643 §2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeDef {
    /// The attribute name, in its canonical letter case.
    pub name: &'static str,
    /// The data type.
    pub ty: AttributeType,
    /// Whether the attribute holds an array of values.
    pub multi_valued: bool,
    /// A human-readable description.
    pub description: &'static str,
    /// Whether a value is required.
    pub required: bool,
    /// Whether string comparison is case-sensitive.
    pub case_exact: bool,
    /// Mutability.
    pub mutability: Mutability,
    /// When the attribute is returned.
    pub returned: Returned,
    /// Uniqueness.
    pub uniqueness: Uniqueness,
    /// Suggested values (e.g. `work`, `home` for `emails.type`).
    pub canonical_values: &'static [&'static str],
    /// For references, the resource types that may be referenced.
    pub reference_types: &'static [&'static str],
    /// For complex attributes, the sub-attributes.
    pub sub_attributes: &'static [AttributeDef],
}

impl AttributeDef {
    /// A single-valued, optional, case-insensitive, read-write string attribute returned by
    /// default: the RFC's defaults, from which every definition starts.
    pub const fn string(name: &'static str, description: &'static str) -> Self {
        AttributeDef {
            name,
            ty: AttributeType::String,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
        }
    }

    /// Like [`AttributeDef::string`] with another type.
    pub const fn typed(name: &'static str, ty: AttributeType, description: &'static str) -> Self {
        let mut def = Self::string(name, description);
        def.ty = ty;
        def
    }

    /// A complex attribute with the given sub-attributes.
    pub const fn complex(
        name: &'static str,
        description: &'static str,
        sub_attributes: &'static [AttributeDef],
    ) -> Self {
        let mut def = Self::typed(name, AttributeType::Complex, description);
        def.sub_attributes = sub_attributes;
        def
    }

    /// Finds a sub-attribute by name, ignoring letter case (RFC 7643 §2.1).
    pub fn sub_attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// Whether the attribute is complex.
    pub fn is_complex(&self) -> bool {
        self.ty == AttributeType::Complex
    }
}

/// Finds an attribute by name in a list, ignoring letter case.
pub fn find_attribute(
    attributes: &'static [AttributeDef],
    name: &str,
) -> Option<&'static AttributeDef> {
    attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
}

/// A schema (RFC 7643 §7): a URN and its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    /// The schema URN, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`.
    pub id: &'static str,
    /// A short name, e.g. `User`.
    pub name: &'static str,
    /// A human-readable description.
    pub description: &'static str,
    /// The attributes the schema defines.
    pub attributes: &'static [AttributeDef],
    /// Whether the schema is closed: an organization-defined extension
    /// ([`document`]) accepts only the attributes and sub-attributes it defines, and
    /// stored values of attributes it no longer defines are withheld from responses. The
    /// RFC's own schemas are open (unknown attributes of an extension are kept as sent).
    pub closed: bool,
}

impl Schema {
    /// Finds a top-level attribute of this schema, ignoring letter case.
    pub fn attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        find_attribute(self.attributes, name)
    }
}

/// A schema extension of a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaExtension {
    /// The extension schema.
    pub schema: &'static Schema,
    /// Whether every resource must carry the extension.
    pub required: bool,
}

/// The kinds of resource this server manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    /// `/Users`.
    User,
    /// `/Groups`.
    Group,
}

impl ResourceKind {
    /// The resource type definition.
    pub fn resource_type(self) -> &'static ResourceType {
        match self {
            ResourceKind::User => &USER_RESOURCE_TYPE,
            ResourceKind::Group => &GROUP_RESOURCE_TYPE,
        }
    }

    /// The name used in `meta.resourceType`, e.g. `User`.
    pub fn as_str(self) -> &'static str {
        self.resource_type().name
    }

    /// The read-only relation attribute servers derive from group memberships: `groups` of
    /// a User, `members` of a Group.
    pub fn relation_attribute(self) -> &'static str {
        match self {
            ResourceKind::User => "groups",
            ResourceKind::Group => "members",
        }
    }
}

impl std::fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource type (RFC 7643 §6): its endpoint, core schema and extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceType {
    /// The kind this definition describes.
    pub kind: ResourceKind,
    /// The id and name, e.g. `User`.
    pub name: &'static str,
    /// The endpoint relative to the base URL, e.g. `/Users`.
    pub endpoint: &'static str,
    /// A human-readable description.
    pub description: &'static str,
    /// The core schema.
    pub schema: &'static Schema,
    /// The extensions.
    pub extensions: &'static [SchemaExtension],
    /// URNs of organization-defined extensions that were removed: values stored under them
    /// stay in the documents but are not returned, filterable or accepted (see
    /// [`registry`]). Empty for the static resource types.
    pub withheld: &'static [&'static str],
}

/// The `User` resource type, with the optional enterprise extension.
pub static USER_RESOURCE_TYPE: ResourceType = ResourceType {
    kind: ResourceKind::User,
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: &USER,
    extensions: &[SchemaExtension {
        schema: &ENTERPRISE_USER,
        required: false,
    }],
    withheld: &[],
};

/// The `Group` resource type.
pub static GROUP_RESOURCE_TYPE: ResourceType = ResourceType {
    kind: ResourceKind::Group,
    name: "Group",
    endpoint: "/Groups",
    description: "Group",
    schema: &GROUP,
    extensions: &[],
    withheld: &[],
};

/// Every resource type the server serves.
pub static RESOURCE_TYPES: [&ResourceType; 2] = [&USER_RESOURCE_TYPE, &GROUP_RESOURCE_TYPE];

/// Every schema the server publishes under `/Schemas`.
pub static SCHEMAS: [&Schema; 3] = [&USER, &GROUP, &ENTERPRISE_USER];

/// Finds a published schema by URN, ignoring letter case.
pub fn schema_by_id(id: &str) -> Option<&'static Schema> {
    SCHEMAS
        .iter()
        .copied()
        .find(|s| s.id.eq_ignore_ascii_case(id))
}

/// Where a resolved attribute lives in a resource's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedAttribute {
    /// `None` for core and common attributes (top level of the resource), or the
    /// extension URN whose object holds the attribute.
    pub extension: Option<&'static str>,
    /// The attribute definition.
    pub def: &'static AttributeDef,
}

impl ResourceType {
    /// Finds the extension with this URN, ignoring letter case.
    pub fn extension(&self, urn: &str) -> Option<&'static Schema> {
        self.extensions
            .iter()
            .map(|e| e.schema)
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Whether `urn` names a removed organization extension whose stored values are
    /// withheld.
    pub fn is_withheld(&self, urn: &str) -> bool {
        self.withheld.iter().any(|w| w.eq_ignore_ascii_case(urn))
    }

    /// Whether `urn` is this type's core schema or one of its extensions.
    pub fn has_schema(&self, urn: &str) -> bool {
        self.schema.id.eq_ignore_ascii_case(urn) || self.extension(urn).is_some()
    }

    /// Resolves a top-level attribute name, optionally qualified by a schema URN.
    ///
    /// Without a URN, the core schema and the common attributes (`id`, `externalId`,
    /// `meta`, `schemas`) are searched first, then the extensions (clients such as Entra
    /// sometimes send extension attributes unqualified).
    pub fn resolve(&self, urn: Option<&str>, name: &str) -> Option<ResolvedAttribute> {
        match urn {
            Some(urn) if self.schema.id.eq_ignore_ascii_case(urn) => self
                .schema
                .attribute(name)
                .or_else(|| find_attribute(&COMMON_ATTRIBUTES, name))
                .map(|def| ResolvedAttribute {
                    extension: None,
                    def,
                }),
            Some(urn) => {
                let ext = self.extension(urn)?;
                ext.attribute(name).map(|def| ResolvedAttribute {
                    extension: Some(ext.id),
                    def,
                })
            }
            None => {
                if let Some(def) = self
                    .schema
                    .attribute(name)
                    .or_else(|| find_attribute(&COMMON_ATTRIBUTES, name))
                {
                    return Some(ResolvedAttribute {
                        extension: None,
                        def,
                    });
                }
                self.extensions.iter().find_map(|e| {
                    e.schema.attribute(name).map(|def| ResolvedAttribute {
                        extension: Some(e.schema.id),
                        def,
                    })
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_names_case_insensitively() {
        let rt = ResourceKind::User.resource_type();
        let r = rt.resolve(None, "USERNAME").unwrap();
        assert_eq!(r.def.name, "userName");
        assert_eq!(r.extension, None);
        assert!(!r.def.case_exact);
        assert_eq!(
            rt.resolve(None, "externalid").unwrap().def.name,
            "externalId"
        );
        assert!(rt.resolve(None, "externalId").unwrap().def.case_exact);
    }

    #[test]
    fn resolves_extension_attributes_with_and_without_urn() {
        let rt = ResourceKind::User.resource_type();
        let urn = "URN:ietf:params:scim:schemas:extension:enterprise:2.0:user";
        let r = rt.resolve(Some(urn), "employeenumber").unwrap();
        assert_eq!(r.extension, Some(ENTERPRISE_USER_URN));
        assert_eq!(r.def.name, "employeeNumber");
        assert_eq!(
            rt.resolve(None, "department").unwrap().extension,
            Some(ENTERPRISE_USER_URN)
        );
        let core = rt.resolve(Some(USER_URN), "name").unwrap();
        assert_eq!(
            core.def.sub_attribute("GIVENNAME").unwrap().name,
            "givenName"
        );
        assert!(rt.resolve(Some("urn:example:unknown"), "x").is_none());
        assert!(rt.resolve(None, "nope").is_none());
    }

    #[test]
    fn definitions_are_internally_consistent() {
        fn check(attrs: &[AttributeDef], path: &str) {
            for a in attrs {
                let p = format!("{path}.{}", a.name);
                assert_eq!(a.is_complex(), !a.sub_attributes.is_empty(), "{p}");
                assert_eq!(
                    a.ty == AttributeType::Reference,
                    !a.reference_types.is_empty(),
                    "{p}"
                );
                check(a.sub_attributes, &p);
            }
        }
        for s in SCHEMAS.iter().chain(ENTITLEMENT_SCHEMAS.iter()) {
            check(s.attributes, s.name);
        }
        check(&COMMON_ATTRIBUTES, "common");
        let password = USER.attribute("password").unwrap();
        assert_eq!(password.mutability, Mutability::WriteOnly);
        assert_eq!(password.returned, Returned::Never);
        let id = find_attribute(&COMMON_ATTRIBUTES, "id").unwrap();
        assert_eq!(id.returned, Returned::Always);
        assert_eq!(id.mutability, Mutability::ReadOnly);
    }
}
