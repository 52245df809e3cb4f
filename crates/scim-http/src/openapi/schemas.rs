//! The component schemas of the OpenAPI document. `User`, `Group` and the enterprise
//! extension are generated from scim-core's attribute definitions (the same ones
//! `/Schemas` publishes), so the document cannot disagree with what the server checks;
//! the message schemas (errors, lists, search, PATCH, Bulk) follow RFC 7644.

use scim_core::ScimType;
use scim_core::schema::{
    AttributeDef, AttributeType, COMMON_ATTRIBUTES, ENTERPRISE_USER, ENTERPRISE_USER_URN, GROUP,
    Mutability, Returned, Schema as ScimSchema, USER,
};
use serde_json::json;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::{RefOr, Required};

/// A `$ref` to a component schema.
pub fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(utoipa::openapi::Ref::from_schema_name(name))
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn array_of(item: impl Into<RefOr<Schema>>) -> Schema {
    ArrayBuilder::new().items(item.into()).build().into()
}

/// Any JSON value (a PATCH `value`, a Bulk `data`).
fn any() -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::any())
        .build()
        .into()
}

/// An object that may carry members beyond those listed: SCIM resources carry extension
/// URNs, and clients send attributes the server ignores or refuses by its own rules (the
/// document describes the shape, the server decides the rest with a 400).
fn open_object() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
}

/// The `schemas` member: an array of URIs.
fn schemas_member(example: &str) -> Schema {
    ArrayBuilder::new()
        .items(RefOr::T(string().build().into()))
        .examples([json!([example])])
        .build()
        .into()
}

/// The `schemas` member of a request: at least one of the URNs the server reads there.
fn request_schemas(urns: &[&str]) -> Schema {
    ArrayBuilder::new()
        .items(RefOr::T(
            string()
                .enum_values(Some(urns.iter().copied()))
                .build()
                .into(),
        ))
        .min_items(Some(1))
        .build()
        .into()
}

/// A string a required attribute accepts: not empty, not only white space (the server
/// answers 400 `invalidValue` to those).
fn non_blank() -> Schema {
    string()
        .min_length(Some(1))
        .pattern(Some("\\S"))
        .build()
        .into()
}

/// One attribute as a JSON schema: its type, array-ness, sub-attributes, mutability.
fn attribute(def: &AttributeDef) -> Schema {
    let single: Schema = match def.ty {
        AttributeType::String | AttributeType::Binary | AttributeType::Reference => {
            string().build().into()
        }
        AttributeType::DateTime => string()
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .build()
            .into(),
        AttributeType::Boolean => ObjectBuilder::new()
            .schema_type(Type::Boolean)
            .build()
            .into(),
        AttributeType::Decimal => ObjectBuilder::new()
            .schema_type(Type::Number)
            .build()
            .into(),
        AttributeType::Integer => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .build()
            .into(),
        AttributeType::Complex => attributes_object(def.sub_attributes, &[]).build().into(),
    };
    let mut schema = if def.multi_valued {
        ArrayBuilder::new().items(RefOr::T(single)).build().into()
    } else {
        single
    };
    let description = (!def.description.is_empty()).then_some(def.description);
    match &mut schema {
        Schema::Object(o) => {
            o.description = description.map(String::from);
            if def.mutability == Mutability::ReadOnly {
                o.read_only = Some(true);
            }
            if def.returned == Returned::Never {
                o.write_only = Some(true);
            }
        }
        Schema::Array(a) => {
            a.description = description.map(String::from);
        }
        _ => {}
    }
    schema
}

/// An object with one property per attribute; `required` lists the properties a request
/// must carry.
fn attributes_object(attributes: &[AttributeDef], required: &[&str]) -> ObjectBuilder {
    let mut object = open_object();
    for def in attributes {
        let schema = if required.contains(&def.name) && def.ty == AttributeType::String {
            non_blank()
        } else {
            attribute(def)
        };
        object = object.property(def.name, schema);
    }
    for name in required {
        object = object.required(*name);
    }
    object
}

/// A resource: the common attributes (`schemas`, `id`, `externalId`, `meta`), the core
/// schema's attributes and each extension under its URN. A request (`write`) must carry
/// the core schema's required attributes; a response need not (a projection may leave
/// them out).
fn resource(core: &ScimSchema, extensions: &[(&str, &ScimSchema)], write: bool) -> Schema {
    let mut attributes: Vec<AttributeDef> = COMMON_ATTRIBUTES
        .iter()
        .filter(|a| a.name != "schemas")
        .copied()
        .collect();
    attributes.extend(core.attributes.iter().copied());
    let required: Vec<&str> = if write {
        core.attributes
            .iter()
            .filter(|a| a.required)
            .map(|a| a.name)
            .collect()
    } else {
        Vec::new()
    };
    let mut urns = vec![core.id];
    urns.extend(extensions.iter().map(|(urn, _)| *urn));
    let schemas = if write {
        request_schemas(&urns)
    } else {
        schemas_member(core.id)
    };
    let mut object = attributes_object(&attributes, &required)
        .property("schemas", schemas)
        .description(Some(core.description));
    for (urn, schema) in extensions {
        object = object.property(*urn, attributes_object(schema.attributes, &[]).build());
    }
    object.build().into()
}

/// A ListResponse (RFC 7644 §3.4.2) whose `Resources` are `item`.
fn list_response(item: RefOr<Schema>, what: &str) -> Schema {
    let integer = || ObjectBuilder::new().schema_type(Type::Integer).build();
    open_object()
        .description(Some(format!("A ListResponse of {what} (RFC 7644 §3.4.2).")))
        .property(
            "schemas",
            schemas_member("urn:ietf:params:scim:api:messages:2.0:ListResponse"),
        )
        .property("totalResults", integer())
        .property("startIndex", integer())
        .property("itemsPerPage", integer())
        .property(
            "nextCursor",
            string()
                .description(Some(
                    "RFC 9865: the cursor of the next page, when there is one.",
                ))
                .build(),
        )
        .property("Resources", array_of(item))
        .required("schemas")
        .required("totalResults")
        .build()
        .into()
}

/// The SCIM error body (RFC 7644 §3.12).
fn error() -> Schema {
    let scim_types = [
        ScimType::InvalidFilter,
        ScimType::TooMany,
        ScimType::Uniqueness,
        ScimType::Mutability,
        ScimType::InvalidSyntax,
        ScimType::InvalidPath,
        ScimType::NoTarget,
        ScimType::InvalidValue,
        ScimType::InvalidVersion,
        ScimType::Sensitive,
        ScimType::InvalidCursor,
        ScimType::ExpiredCursor,
        ScimType::InvalidCount,
    ];
    open_object()
        .description(Some("A SCIM error (RFC 7644 §3.12)."))
        .property(
            "schemas",
            schemas_member("urn:ietf:params:scim:api:messages:2.0:Error"),
        )
        .property(
            "status",
            string()
                .description(Some("The HTTP status code, as a string."))
                .pattern(Some("^[1-5][0-9][0-9]$"))
                .build(),
        )
        .property(
            "scimType",
            string()
                .enum_values(Some(scim_types.iter().map(|t| t.as_str())))
                .build(),
        )
        .property("detail", string().build())
        .required("schemas")
        .required("status")
        .build()
        .into()
}

/// Optional string members with the given names.
fn strings(object: ObjectBuilder, names: &[&str]) -> ObjectBuilder {
    names
        .iter()
        .fold(object, |o, n| o.property(*n, string().build()))
}

/// A `POST …/.search` body (RFC 7644 §3.4.3).
fn search_request() -> Schema {
    let attr_list = || -> Schema {
        utoipa::openapi::schema::OneOfBuilder::new()
            .item(array_of(RefOr::T(string().build().into())))
            .item(string().build())
            .description(Some(
                "Attribute names: an array (RFC 7644) or a comma-separated string.",
            ))
            .build()
            .into()
    };
    let integer = || ObjectBuilder::new().schema_type(Type::Integer).build();
    strings(
        open_object()
            .description(Some("A search request (RFC 7644 §3.4.3)."))
            .property(
                "schemas",
                request_schemas(&["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]),
            )
            .required("schemas")
            .property("startIndex", integer())
            .property("count", integer())
            .property(
                "sortOrder",
                string()
                    .enum_values(Some(["ascending", "descending"]))
                    .build(),
            )
            .property("attributes", attr_list())
            .property("excludedAttributes", attr_list()),
        &["filter", "sortBy", "cursor"],
    )
    .build()
    .into()
}

/// A PATCH body (RFC 7644 §3.5.2).
fn patch_op() -> Schema {
    let operation = open_object()
        .property(
            "op",
            string()
                .description(Some("add, remove or replace (in any letter case)."))
                .enum_values(Some([
                    "add", "remove", "replace", "Add", "Remove", "Replace",
                ]))
                .build(),
        )
        .property("path", string().build())
        .property("value", any())
        .required("op")
        .build();
    open_object()
        .description(Some("A PATCH request (RFC 7644 §3.5.2)."))
        .property(
            "schemas",
            request_schemas(&["urn:ietf:params:scim:api:messages:2.0:PatchOp"]),
        )
        .property(
            "Operations",
            ArrayBuilder::new()
                .items(RefOr::T(operation.into()))
                .min_items(Some(1))
                .build(),
        )
        .required("schemas")
        .required("Operations")
        .build()
        .into()
}

/// A Bulk request (RFC 7644 §3.7).
fn bulk_request() -> Schema {
    let operation = strings(
        open_object()
            .property(
                "method",
                string()
                    .enum_values(Some(["POST", "PUT", "PATCH", "DELETE"]))
                    .build(),
            )
            .property("data", any())
            .required("method"),
        &["bulkId", "version", "path"],
    )
    .build();
    open_object()
        .description(Some("A Bulk request (RFC 7644 §3.7)."))
        .property(
            "schemas",
            request_schemas(&["urn:ietf:params:scim:api:messages:2.0:BulkRequest"]),
        )
        .property(
            "failOnErrors",
            ObjectBuilder::new().schema_type(Type::Integer).build(),
        )
        .property("Operations", array_of(operation))
        .required("schemas")
        .required("Operations")
        .build()
        .into()
}

/// A Bulk response (RFC 7644 §3.7.3): each operation's own status, and its error.
fn bulk_response() -> Schema {
    let operation = strings(
        open_object()
            .property("status", string().build())
            .property("response", any())
            .required("method")
            .required("status"),
        &["method", "bulkId", "version", "location"],
    )
    .build();
    open_object()
        .description(Some("A Bulk response (RFC 7644 §3.7.3)."))
        .property(
            "schemas",
            schemas_member("urn:ietf:params:scim:api:messages:2.0:BulkResponse"),
        )
        .property("Operations", array_of(operation))
        .required("schemas")
        .required("Operations")
        .build()
        .into()
}

/// A discovery document (RFC 7643 §5–7): described by the RFC, generated by the server.
fn discovery(what: &str, urn: &str) -> Schema {
    open_object()
        .description(Some(format!("A {what} (RFC 7643).")))
        .property("schemas", schemas_member(urn))
        .build()
        .into()
}

/// A role, entitlement or custom-type value: a read-only resource with Okta's and the
/// IETF draft's schema URNs.
fn entitlement() -> Schema {
    let meta = strings(
        open_object(),
        &["resourceType", "created", "lastModified", "location"],
    );
    strings(
        open_object()
            .description(Some(
                "A role, entitlement or custom entitlement type's value (read-only).",
            ))
            .property(
                "schemas",
                schemas_member("urn:okta:scim:schemas:core:1.0:Role"),
            )
            .property("meta", meta.build())
            .required("schemas")
            .required("id")
            .required("value"),
        &["id", "value", "display", "displayName", "type"],
    )
    .build()
    .into()
}

/// `/healthz` and `/readyz`.
fn health() -> Schema {
    strings(
        open_object()
            .property(
                "status",
                string()
                    .enum_values(Some(["ok", "ready", "unavailable"]))
                    .build(),
            )
            .required("status"),
        &["database"],
    )
    .build()
    .into()
}

/// Every component schema, by name.
pub fn components() -> Vec<(&'static str, Schema)> {
    let enterprise = [(ENTERPRISE_USER_URN, &ENTERPRISE_USER)];
    vec![
        ("Error", error()),
        ("User", resource(&USER, &enterprise, false)),
        ("UserRequest", resource(&USER, &enterprise, true)),
        ("Group", resource(&GROUP, &[], false)),
        ("GroupRequest", resource(&GROUP, &[], true)),
        (
            "UserListResponse",
            list_response(reference("User"), "users"),
        ),
        (
            "GroupListResponse",
            list_response(reference("Group"), "groups"),
        ),
        (
            "ResourceListResponse",
            list_response(
                // anyOf, not oneOf: both are open objects, so a user matches both.
                RefOr::T(
                    utoipa::openapi::schema::AnyOfBuilder::new()
                        .item(reference("User"))
                        .item(reference("Group"))
                        .build()
                        .into(),
                ),
                "users and groups",
            ),
        ),
        ("Entitlement", entitlement()),
        (
            "EntitlementListResponse",
            list_response(
                reference("Entitlement"),
                "roles, entitlements or a custom type's values",
            ),
        ),
        ("SearchRequest", search_request()),
        ("PatchOp", patch_op()),
        ("BulkRequest", bulk_request()),
        ("BulkResponse", bulk_response()),
        (
            "ServiceProviderConfig",
            discovery(
                "ServiceProviderConfig",
                "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
            ),
        ),
        (
            "ResourceType",
            discovery(
                "ResourceType",
                "urn:ietf:params:scim:schemas:core:2.0:ResourceType",
            ),
        ),
        (
            "Schema",
            discovery("Schema", "urn:ietf:params:scim:schemas:core:2.0:Schema"),
        ),
        (
            "ResourceTypeListResponse",
            list_response(reference("ResourceType"), "resource types"),
        ),
        (
            "SchemaListResponse",
            list_response(reference("Schema"), "schemas"),
        ),
        ("Health", health()),
    ]
}

/// Whether a parameter or body is required (a shorthand for the builders).
pub fn required(yes: bool) -> Required {
    if yes { Required::True } else { Required::False }
}
