//! The discovery documents (RFC 7644 §4, RFC 7643 §5–§7): `/ServiceProviderConfig`,
//! `/ResourceTypes` and `/Schemas`, generated from the definitions in [`crate::schema`] so
//! that what the server advertises is exactly what it enforces.
//!
//! Every tenant sees the User, Group, Role and Entitlement resource types, then the
//! entitlement types it defined itself ([`crate::entitlements`]), and never another
//! tenant's; `/Schemas` publishes the User, Group and Enterprise User schemas and the Role
//! and Entitlement schemas under both Okta's and the IETF draft's URNs.

use crate::entitlements::{EntitlementType, builtin_resource_types, custom_resource_type};
use crate::schema::registry::Registry;
use crate::schema::{AttributeDef, AttributeType, RESOURCE_TYPES, ResourceType, Schema};
use serde_json::{Map, Value, json};

/// The URN of the ServiceProviderConfig schema.
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// The URN of the ResourceType schema.
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// The URN of the Schema schema.
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// What the ServiceProviderConfig advertises beyond what `scim-core` itself implements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryOptions {
    /// The tenant's base URL, e.g. `https://scim.example.com/scim/v2/<tenant>`.
    pub base_url: String,
    /// The maximum number of resources a list returns (`filter.maxResults`, and the
    /// `pagination.maxPageSize` of RFC 9865).
    pub max_results: u64,
    /// The page size when a list request has no `count` (`pagination.defaultPageSize`).
    pub default_page_size: u64,
    /// How long, in seconds, a cursor stays usable after it was issued
    /// (`pagination.cursorTimeout`).
    pub cursor_timeout_secs: u64,
    /// Where humans find documentation for this server, if anywhere.
    pub documentation_uri: Option<String>,
    /// The Bulk endpoint's limits (`bulk.maxOperations`, `bulk.maxPayloadSize`).
    pub bulk: crate::bulk::BulkLimits,
    /// The tenant's profile: `interopProfileConformant` is `true` only for strict.
    pub profile: crate::profile::Profile,
}

fn meta(resource_type: &str, location: String) -> Value {
    json!({"resourceType": resource_type, "location": location})
}

fn base(url: &str) -> &str {
    url.trim_end_matches('/')
}

/// The `/ServiceProviderConfig` document: PATCH, filtering (with `maxResults`), sorting and
/// ETags and bulk (with the server's limits) are supported; password change is not; authentication is a bearer token.
/// The `pagination` block (RFC 9865 §4) offers both index and cursor paging, index being the
/// default (the RFC's advice for servers that already page by index: clients that know
/// nothing of cursors keep working). `securityEvents` (RFC 9967 §4) lists the event URIs
/// every committed change produces (delivered by webhooks, NATS and the events API);
/// asynchronous requests are not offered.
pub fn service_provider_config(options: &DiscoveryOptions) -> Value {
    let mut doc = json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": {"supported": true},
        "bulk": {
            "supported": true,
            "maxOperations": options.bulk.max_operations,
            "maxPayloadSize": options.bulk.max_payload_bytes,
        },
        "filter": {"supported": true, "maxResults": options.max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "interopProfileConformant": options.profile.interop_profile_conformant(),
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": options.default_page_size.min(options.max_results),
            "maxPageSize": options.max_results,
            "cursorTimeout": options.cursor_timeout_secs,
        },
        "securityEvents": {
            "asyncRequest": "none",
            "eventUris": crate::events::EventType::all_uris(),
        },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "The organization's secret token, sent as 'Authorization: Bearer <token>' (or as the bare header value).",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true
        }],
        "meta": meta(
            "ServiceProviderConfig",
            format!("{}/ServiceProviderConfig", base(&options.base_url))
        ),
    });
    if let (Some(uri), Value::Object(m)) = (&options.documentation_uri, &mut doc) {
        m.insert("documentationUri".into(), Value::from(uri.clone()));
    }
    doc
}

/// One resource type document.
pub fn resource_type_json(rt: &ResourceType, base_url: &str) -> Value {
    let extensions: Vec<Value> = rt
        .extensions
        .iter()
        .map(|e| json!({"schema": e.schema.id, "required": e.required}))
        .collect();
    let mut doc = json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": rt.name,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema.id,
        "meta": meta("ResourceType", format!("{}/ResourceTypes/{}", base(base_url), rt.name)),
    });
    if !extensions.is_empty()
        && let Value::Object(m) = &mut doc
    {
        m.insert("schemaExtensions".into(), Value::Array(extensions));
    }
    doc
}

/// Every resource type document of a tenant (`/ResourceTypes`): User, Group, Role,
/// Entitlement, then the tenant's own entitlement types (`custom`).
pub fn resource_types(base_url: &str, custom: &[EntitlementType]) -> Vec<Value> {
    RESOURCE_TYPES
        .iter()
        .map(|rt| resource_type_json(rt, base_url))
        .chain(builtin_resource_types(base_url))
        .chain(custom.iter().map(|t| custom_resource_type(t, base_url)))
        .collect()
}

/// One resource type of a tenant by id (`User`, `Group`, `Role`, `Entitlement`, or one of
/// `custom`; letter case ignored).
pub fn resource_type(base_url: &str, custom: &[EntitlementType], id: &str) -> Option<Value> {
    resource_types(base_url, custom).into_iter().find(|doc| {
        doc["id"]
            .as_str()
            .is_some_and(|d| d.eq_ignore_ascii_case(id))
    })
}

/// `/ResourceTypes` of one organization: User and Group with its extensions in
/// `schemaExtensions`, Role and Entitlement, then its own entitlement types (`custom`).
pub fn tenant_resource_types(
    registry: &Registry,
    base_url: &str,
    custom: &[EntitlementType],
) -> Vec<Value> {
    registry
        .resource_types()
        .iter()
        .map(|rt| resource_type_json(rt, base_url))
        .chain(builtin_resource_types(base_url))
        .chain(custom.iter().map(|t| custom_resource_type(t, base_url)))
        .collect()
}

/// `/ResourceTypes/{id}` of one organization (letter case ignored).
pub fn tenant_resource_type(
    registry: &Registry,
    base_url: &str,
    custom: &[EntitlementType],
    id: &str,
) -> Option<Value> {
    tenant_resource_types(registry, base_url, custom)
        .into_iter()
        .find(|doc| {
            doc["id"]
                .as_str()
                .is_some_and(|d| d.eq_ignore_ascii_case(id))
        })
}

/// The JSON of one attribute definition, with every characteristic.
pub fn attribute_json(def: &AttributeDef) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), def.name.into());
    m.insert("type".into(), def.ty.as_str().into());
    m.insert("multiValued".into(), def.multi_valued.into());
    m.insert("description".into(), def.description.into());
    m.insert("required".into(), def.required.into());
    if !def.canonical_values.is_empty() {
        m.insert("canonicalValues".into(), json!(def.canonical_values));
    }
    m.insert("caseExact".into(), def.case_exact.into());
    m.insert("mutability".into(), def.mutability.as_str().into());
    m.insert("returned".into(), def.returned.as_str().into());
    m.insert("uniqueness".into(), def.uniqueness.as_str().into());
    if def.ty == AttributeType::Reference {
        m.insert("referenceTypes".into(), json!(def.reference_types));
    }
    if def.is_complex() {
        let subs: Vec<Value> = def.sub_attributes.iter().map(attribute_json).collect();
        m.insert("subAttributes".into(), Value::Array(subs));
    }
    Value::Object(m)
}

/// One schema document.
pub fn schema_json(schema: &Schema, base_url: &str) -> Value {
    let attributes: Vec<Value> = schema.attributes.iter().map(attribute_json).collect();
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": attributes,
        "meta": meta("Schema", format!("{}/Schemas/{}", base(base_url), schema.id)),
    })
}

/// Every schema document (`/Schemas`) of a tenant without anything of its own: User, Group,
/// Enterprise User, then Okta's and the IETF draft's Role and Entitlement.
pub fn schemas(base_url: &str) -> Vec<Value> {
    tenant_schemas(&Registry::STATIC, base_url, &[])
}

/// One schema by URN (letter case ignored).
pub fn schema(base_url: &str, id: &str) -> Option<Value> {
    tenant_schema(&Registry::STATIC, base_url, &[], id)
}

/// A tenant's `/Schemas`: [`schemas`], then the extensions it defined (`registry`), with the
/// Entitlement schemas' `type` declaring its `canonicalValues`: `Entitlement` and the ids of
/// the tenant's own entitlement types (`custom`), the only values it takes there.
pub fn tenant_schemas(
    registry: &Registry,
    base_url: &str,
    custom: &[EntitlementType],
) -> Vec<Value> {
    registry
        .schemas()
        .into_iter()
        .map(|s| tenant_schema_json(s, base_url, custom))
        .collect()
}

/// One schema of a tenant by URN (letter case ignored); see [`tenant_schemas`].
pub fn tenant_schema(
    registry: &Registry,
    base_url: &str,
    custom: &[EntitlementType],
    id: &str,
) -> Option<Value> {
    registry
        .schema(id)
        .map(|s| tenant_schema_json(s, base_url, custom))
}

fn tenant_schema_json(schema: &Schema, base_url: &str, custom: &[EntitlementType]) -> Value {
    let mut doc = schema_json(schema, base_url);
    let is_entitlement = [
        crate::schema::OKTA_ENTITLEMENT_URN,
        crate::schema::IETF_ENTITLEMENT_URN,
    ]
    .contains(&schema.id);
    if is_entitlement
        && let Some(attrs) = doc.get_mut("attributes").and_then(Value::as_array_mut)
        && let Some(Value::Object(ty)) = attrs.iter_mut().find(|a| a["name"] == "type")
    {
        let values: Vec<&str> = std::iter::once("Entitlement")
            .chain(custom.iter().map(|t| t.id.as_str()))
            .collect();
        ty.insert("canonicalValues".into(), json!(values));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_provider_config_tells_the_truth() {
        let doc = service_provider_config(&DiscoveryOptions {
            base_url: "https://h/scim/v2/t".into(),
            max_results: 500,
            default_page_size: 100,
            cursor_timeout_secs: 3600,
            documentation_uri: None,
            bulk: crate::bulk::BulkLimits {
                max_operations: 7,
                max_payload_bytes: 9000,
            },
            profile: crate::profile::Profile::Lenient,
        });
        assert_eq!(doc["patch"]["supported"], true);
        assert_eq!(doc["bulk"]["supported"], true);
        assert_eq!(doc["bulk"]["maxOperations"], 7);
        assert_eq!(doc["bulk"]["maxPayloadSize"], 9000);
        assert_eq!(doc["filter"]["maxResults"], 500);
        assert_eq!(doc["changePassword"]["supported"], false);
        assert_eq!(doc["sort"]["supported"], true);
        assert_eq!(doc["etag"]["supported"], true);
        assert_eq!(
            doc["pagination"],
            json!({
                "cursor": true,
                "index": true,
                "defaultPaginationMethod": "index",
                "defaultPageSize": 100,
                "maxPageSize": 500,
                "cursorTimeout": 3600
            })
        );
        assert_eq!(doc["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(doc["securityEvents"]["asyncRequest"], "none");
        let uris = doc["securityEvents"]["eventUris"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for uri in [
            "urn:ietf:params:scim:event:prov:create:full",
            "urn:ietf:params:scim:event:prov:patch:notice",
            "urn:ietf:params:scim:event:prov:deactivate",
            "urn:ietf:params:scim:event:feed:remove",
        ] {
            assert!(uris.contains(&json!(uri)), "{uri} advertised");
        }
        assert_eq!(
            doc["meta"]["location"],
            "https://h/scim/v2/t/ServiceProviderConfig"
        );
    }

    #[test]
    fn resource_types_list_users_groups_roles_and_entitlements() {
        let all = resource_types("https://h/t/", &[]);
        assert_eq!(all.len(), 4);
        assert_eq!(all[2]["endpoint"], "/Roles");
        assert_eq!(all[2]["schema"], crate::schema::OKTA_ROLE_URN);
        assert_eq!(all[3]["endpoint"], "/Entitlements");
        assert_eq!(all[0]["endpoint"], "/Users");
        assert_eq!(
            all[0]["schemaExtensions"][0]["schema"],
            crate::schema::ENTERPRISE_USER_URN
        );
        assert!(all[1].get("schemaExtensions").is_none());
        assert_eq!(resource_type("x", &[], "group").unwrap()["id"], "Group");
        assert_eq!(resource_type("x", &[], "ROLE").unwrap()["id"], "Role");
        assert!(resource_type("x", &[], "Device").is_none());
        let license = EntitlementType {
            id: "License".into(),
            name: "License".into(),
            endpoint: "/Licenses".into(),
            created: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        };
        let mine = resource_types("x", std::slice::from_ref(&license));
        assert_eq!(mine.len(), 5);
        assert_eq!(mine[4]["endpoint"], "/Licenses");
        assert_eq!(
            resource_type("x", std::slice::from_ref(&license), "license").unwrap()["schema"],
            crate::schema::OKTA_ENTITLEMENT_URN
        );
    }

    #[test]
    fn schemas_carry_every_characteristic() {
        let user = schema("https://h/t", "urn:ietf:params:scim:schemas:core:2.0:user").unwrap();
        assert_eq!(
            user["meta"]["location"],
            "https://h/t/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"
        );
        let attrs = user["attributes"].as_array().unwrap();
        let user_name = attrs.iter().find(|a| a["name"] == "userName").unwrap();
        assert_eq!(user_name["uniqueness"], "server");
        assert_eq!(user_name["required"], true);
        assert_eq!(user_name["caseExact"], false);
        let emails = attrs.iter().find(|a| a["name"] == "emails").unwrap();
        assert_eq!(emails["multiValued"], true);
        let ty = emails["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "type")
            .unwrap();
        assert_eq!(ty["canonicalValues"], json!(["work", "home", "other"]));
        let password = attrs.iter().find(|a| a["name"] == "password").unwrap();
        assert_eq!(password["returned"], "never");
        assert_eq!(password["mutability"], "writeOnly");
        assert_eq!(schemas("b").len(), 7);
        assert!(schema("b", "urn:nope").is_none());
        let license = EntitlementType {
            id: "License".into(),
            name: "License".into(),
            endpoint: "/Licenses".into(),
            created: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        };
        for urn in [
            crate::schema::OKTA_ENTITLEMENT_URN,
            crate::schema::IETF_ENTITLEMENT_URN,
        ] {
            let canon = |doc: &Value| {
                doc["attributes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["name"] == "type")
                    .unwrap()["canonicalValues"]
                    .clone()
            };
            assert_eq!(canon(&schema("b", urn).unwrap()), json!(["Entitlement"]));
            let mine =
                tenant_schema(&Registry::STATIC, "b", std::slice::from_ref(&license), urn).unwrap();
            assert_eq!(canon(&mine), json!(["Entitlement", "License"]));
            assert_eq!(
                tenant_schemas(&Registry::STATIC, "b", std::slice::from_ref(&license)).len(),
                7
            );
        }
        for urn in [
            crate::schema::OKTA_ROLE_URN,
            crate::schema::OKTA_ENTITLEMENT_URN,
            crate::schema::IETF_ROLE_URN,
            crate::schema::IETF_ENTITLEMENT_URN,
        ] {
            let doc = schema("b", urn).unwrap();
            assert_eq!(doc["id"], urn);
            let attrs = doc["attributes"].as_array().unwrap();
            assert!(attrs.iter().all(|a| a["mutability"] == "readOnly"), "{urn}");
            assert!(attrs.iter().any(|a| a["name"] == "displayName"), "{urn}");
        }
    }
}
