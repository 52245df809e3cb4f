//! Values as read-only SCIM resources, and the resource types that advertise them.

use super::{EntitlementKind, EntitlementType, EntitlementValue};
use crate::resource::format_datetime;
use crate::schema::{OKTA_ENTITLEMENT_URN, OKTA_ROLE_URN};
use serde_json::{Value, json};

fn base(url: &str) -> &str {
    url.trim_end_matches('/')
}

/// The endpoint of a built-in kind (`/Roles`, `/Entitlements`); `None` for a custom one
/// (its [`EntitlementType::endpoint`]).
pub fn builtin_endpoint(kind: &EntitlementKind) -> Option<&'static str> {
    match kind {
        EntitlementKind::Role => Some("/Roles"),
        EntitlementKind::Entitlement => Some("/Entitlements"),
        EntitlementKind::Custom(_) => None,
    }
}

/// The SCIM resource of a value, served at `endpoint` under `base_url`: both schema URNs
/// (Okta's and the IETF draft's), `id`, `value`, `display` and `displayName` (the same
/// name under both vocabularies), `type` for entitlements, and `meta`.
pub fn value_json(v: &EntitlementValue, base_url: &str, endpoint: &str) -> Value {
    let created = format_datetime(&v.created);
    let mut doc = json!({
        "schemas": v.kind.schemas(),
        "id": v.id,
        "value": v.value,
        "display": v.display,
        "displayName": v.display,
        "meta": {
            "resourceType": v.kind.type_name(),
            "created": created,
            "lastModified": created,
            "location": format!("{}{}/{}", base(base_url), endpoint, v.id),
        },
    });
    if !v.kind.is_role()
        && let Value::Object(m) = &mut doc
    {
        m.insert("type".into(), Value::from(v.kind.type_name()));
    }
    doc
}

fn resource_type_doc(
    id: &str,
    name: &str,
    endpoint: &str,
    description: &str,
    schema: &str,
    base_url: &str,
) -> Value {
    json!({
        "schemas": [crate::discovery::RESOURCE_TYPE_SCHEMA],
        "id": id,
        "name": name,
        "endpoint": endpoint,
        "description": description,
        "schema": schema,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{}/ResourceTypes/{}", base(base_url), id),
        },
    })
}

/// The `Role` and `Entitlement` resource types. Their `schema` is Okta's URN: Okta reads
/// every resource type whose `schema` is its Role or Entitlement URN; the IETF draft's
/// URNs are in every resource's `schemas` and in `/Schemas`.
pub fn builtin_resource_types(base_url: &str) -> [Value; 2] {
    [
        resource_type_doc(
            "Role",
            "Role",
            "/Roles",
            "Roles users can be granted",
            OKTA_ROLE_URN,
            base_url,
        ),
        resource_type_doc(
            "Entitlement",
            "Entitlement",
            "/Entitlements",
            "Entitlements users can be granted",
            OKTA_ENTITLEMENT_URN,
            base_url,
        ),
    ]
}

/// The resource type of an organization's entitlement type (Okta's Entitlement schema).
pub fn custom_resource_type(t: &EntitlementType, base_url: &str) -> Value {
    resource_type_doc(
        &t.id,
        &t.name,
        &t.endpoint,
        &format!("{} entitlements users can be granted", t.name),
        OKTA_ENTITLEMENT_URN,
        base_url,
    )
}
