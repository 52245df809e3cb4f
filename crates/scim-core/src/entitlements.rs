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

use crate::error::{ScimError, ScimResult};
use crate::filter::{CompValue, CompareOp, Filter};
use crate::resource::{Attributes, format_datetime};
use crate::schema::{IETF_ENTITLEMENT_URN, IETF_ROLE_URN, OKTA_ENTITLEMENT_URN, OKTA_ROLE_URN};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashSet;

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

/// The `eq` filters the entitlement endpoints answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueFilter {
    /// `id eq "…"`.
    Id(String),
    /// `value eq "…"` (exact).
    Value(String),
    /// `display eq "…"` or `displayName eq "…"` (exact).
    Display(String),
}

/// The filter of a list of values: `id`, `value`, `display` or `displayName` `eq` a
/// string, optionally URN-qualified with one of the Role/Entitlement URNs; anything else
/// is `invalidFilter` (these catalogs are small lists, read whole by the IdP).
pub fn value_filter(filter: &Filter) -> ScimResult<ValueFilter> {
    let unsupported = || {
        ScimError::invalid_filter(
            "This endpoint filters only on id, value, display or displayName with eq and a string",
        )
    };
    let Filter::Compare(path, CompareOp::Eq, CompValue::String(s)) = filter else {
        return Err(unsupported());
    };
    let known_urn = path.urn.as_deref().is_none_or(|u| {
        [
            OKTA_ROLE_URN,
            OKTA_ENTITLEMENT_URN,
            IETF_ROLE_URN,
            IETF_ENTITLEMENT_URN,
        ]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(u))
    });
    if path.sub_attr.is_some() || !known_urn {
        return Err(unsupported());
    }
    let name = path.name.as_str();
    if name.eq_ignore_ascii_case("id") {
        Ok(ValueFilter::Id(s.clone()))
    } else if name.eq_ignore_ascii_case("value") {
        Ok(ValueFilter::Value(s.clone()))
    } else if name.eq_ignore_ascii_case("display") || name.eq_ignore_ascii_case("displayName") {
        Ok(ValueFilter::Display(s.clone()))
    } else {
        Err(unsupported())
    }
}

/// The defined values of one class (roles, or entitlements of every type).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Defined {
    values: HashSet<String>,
    ids: HashSet<String>,
}

impl Defined {
    fn allows(&self, v: &str) -> bool {
        self.values.contains(v) || self.ids.contains(v)
    }
}

/// An organization's catalog as the write check needs it: for roles and for entitlements,
/// `None` when the organization defined no value of that class (any value is accepted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    roles: Option<Defined>,
    entitlements: Option<Defined>,
}

impl Catalog {
    /// The catalog of these values.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a EntitlementValue>) -> Self {
        let mut c = Catalog::default();
        for v in values {
            c.add(&v.kind, &v.id, &v.value);
        }
        c
    }

    /// Adds one defined value of `kind`.
    pub fn add(&mut self, kind: &EntitlementKind, id: &str, value: &str) {
        let class = if kind.is_role() {
            &mut self.roles
        } else {
            &mut self.entitlements
        };
        let d = class.get_or_insert_with(Defined::default);
        d.values.insert(value.to_string());
        d.ids.insert(id.to_string());
    }

    /// Whether nothing is defined (every value accepted).
    pub fn is_empty(&self) -> bool {
        self.roles.is_none() && self.entitlements.is_none()
    }

    /// Checks the `roles` and `entitlements` of `after` (a user's new canonical
    /// attributes): every value not already held in `before` must be defined, when a
    /// catalog of its class exists. The error (`invalidValue`) names the first one that
    /// is not.
    pub fn check(&self, before: Option<&Attributes>, after: &Attributes) -> ScimResult<()> {
        for (attr, defined, what) in [
            ("roles", &self.roles, "role"),
            ("entitlements", &self.entitlements, "entitlement"),
        ] {
            let Some(defined) = defined else { continue };
            let held: HashSet<&str> = before
                .map(|b| values_of(b, attr).collect())
                .unwrap_or_default();
            for v in values_of(after, attr) {
                if !held.contains(v) && !defined.allows(v) {
                    return Err(ScimError::invalid_value(format!(
                        "{attr}: '{v}' is not a {what} this organization defined"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The string `value`s of a multi-valued attribute of canonical attributes.
fn values_of<'a>(attrs: &'a Attributes, attr: &str) -> impl Iterator<Item = &'a str> {
    attrs
        .get(attr)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("value").and_then(Value::as_str))
}

/// Whether a request body may change a user's `roles` or `entitlements`: some key or string
/// in it contains either name (letter case ignored). A superset, so a write that does not
/// qualify never needs the catalog (Okta's deactivate PATCH, most profile updates).
pub fn may_touch_grants(body: &Value) -> bool {
    fn mentions(s: &str) -> bool {
        let s = s.to_ascii_lowercase();
        s.contains("roles") || s.contains("entitlements")
    }
    match body {
        Value::Object(m) => m.iter().any(|(k, v)| mentions(k) || may_touch_grants(v)),
        Value::Array(a) => a.iter().any(may_touch_grants),
        Value::String(s) => mentions(s),
        _ => false,
    }
}

/// Whether a PATCH may change a user's `roles` or `entitlements`: an operation whose path
/// names either attribute (with or without the User URN), or a path-less operation whose
/// value [may touch them](may_touch_grants).
pub fn patch_may_touch_grants(request: &crate::patch::PatchRequest) -> bool {
    request.operations.iter().any(|op| match &op.path {
        Some(p) => {
            p.attr.eq_ignore_ascii_case("roles") || p.attr.eq_ignore_ascii_case("entitlements")
        }
        None => op.value.as_ref().is_some_and(may_touch_grants),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;

    fn value(kind: EntitlementKind, id: &str, v: &str) -> EntitlementValue {
        EntitlementValue {
            id: id.into(),
            kind,
            value: v.into(),
            display: v.to_uppercase(),
            created: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    fn attrs(v: Value) -> Attributes {
        match v {
            Value::Object(m) => m,
            _ => Attributes::new(),
        }
    }

    #[test]
    fn kinds_parse_and_name_themselves() {
        for (s, kind, stored, name) in [
            ("role", EntitlementKind::Role, "role", "Role"),
            ("ROLE", EntitlementKind::Role, "role", "Role"),
            (
                "Entitlement",
                EntitlementKind::Entitlement,
                "entitlement",
                "Entitlement",
            ),
            (
                "License",
                EntitlementKind::Custom("License".into()),
                "License",
                "License",
            ),
        ] {
            let k = EntitlementKind::parse(s);
            assert_eq!(k, kind, "{s}");
            assert_eq!(k.as_str(), stored);
            assert_eq!(k.type_name(), name);
        }
        assert_eq!(EntitlementKind::Role.schemas()[0], OKTA_ROLE_URN);
        assert_eq!(
            EntitlementKind::Custom("X".into()).schemas(),
            [OKTA_ENTITLEMENT_URN, IETF_ENTITLEMENT_URN]
        );
    }

    #[test]
    fn type_definitions_table() {
        for (id, name, endpoint, ok) in [
            ("License", "License", "/Licenses", true),
            ("profile_2", "Profiles of the app", "/Profiles-2", true),
            ("", "x", "/X", false),
            ("1abc", "x", "/X", false),
            ("Lic ense", "x", "/X", false),
            ("role", "x", "/X", false),
            ("USER", "x", "/X", false),
            ("License", "", "/Licenses", false),
            ("License", "a\u{7}b", "/Licenses", false),
            ("License", "License", "Licenses", false),
            ("License", "License", "/", false),
            ("License", "License", "/Lic/enses", false),
            ("License", "License", "/users", false),
            ("License", "License", "/Roles", false),
            ("License", "License", "/.search", false),
            ("License", &"n".repeat(65), "/Licenses", false),
        ] {
            assert_eq!(
                check_type_definition(id, name, endpoint).is_ok(),
                ok,
                "{id} {name} {endpoint}"
            );
        }
    }

    #[test]
    fn value_definitions_table() {
        for (v, d, ok) in [
            ("admin", "Administrator", true),
            ("admin", "", true),
            ("", "x", false),
            ("  ", "x", false),
            ("a\u{0}b", "x", false),
            ("a", "x\ny", false),
            (&"v".repeat(1025), "x", false),
        ] {
            assert_eq!(check_value_definition(v, d).is_ok(), ok, "{v:?} {d:?}");
        }
    }

    #[test]
    fn values_render_with_both_vocabularies() {
        let doc = value_json(
            &value(EntitlementKind::Role, "r1", "admin"),
            "https://h/scim/v2/t/",
            "/Roles",
        );
        assert_eq!(doc["schemas"], json!([OKTA_ROLE_URN, IETF_ROLE_URN]));
        assert_eq!(doc["id"], "r1");
        assert_eq!(doc["value"], "admin");
        assert_eq!(doc["display"], "ADMIN");
        assert_eq!(doc["displayName"], "ADMIN");
        assert!(doc.get("type").is_none());
        assert_eq!(doc["meta"]["resourceType"], "Role");
        assert_eq!(doc["meta"]["location"], "https://h/scim/v2/t/Roles/r1");
        let lic = value_json(
            &value(EntitlementKind::Custom("License".into()), "l1", "pro"),
            "https://h/t",
            "/Licenses",
        );
        assert_eq!(lic["type"], "License");
        assert_eq!(lic["schemas"][1], IETF_ENTITLEMENT_URN);
        assert_eq!(lic["meta"]["location"], "https://h/t/Licenses/l1");
    }

    #[test]
    fn resource_types_use_okta_urns() {
        let [role, ent] = builtin_resource_types("https://h/t");
        assert_eq!(role["schema"], OKTA_ROLE_URN);
        assert_eq!(role["endpoint"], "/Roles");
        assert_eq!(ent["schema"], OKTA_ENTITLEMENT_URN);
        assert_eq!(ent["id"], ent["name"]);
        let t = EntitlementType {
            id: "License".into(),
            name: "Licenses".into(),
            endpoint: "/Licenses".into(),
            created: DateTime::<Utc>::UNIX_EPOCH,
        };
        let doc = custom_resource_type(&t, "https://h/t");
        assert_eq!(doc["id"], "License");
        assert_eq!(doc["name"], "Licenses");
        assert_eq!(doc["schema"], OKTA_ENTITLEMENT_URN);
        assert_eq!(doc["meta"]["location"], "https://h/t/ResourceTypes/License");
    }

    #[test]
    fn filters_table() {
        for (f, want) in [
            (r#"value eq "a""#, Some(ValueFilter::Value("a".into()))),
            (r#"VALUE eq "a""#, Some(ValueFilter::Value("a".into()))),
            (r#"id eq "x""#, Some(ValueFilter::Id("x".into()))),
            (
                r#"displayName eq "A b""#,
                Some(ValueFilter::Display("A b".into())),
            ),
            (r#"display eq "A""#, Some(ValueFilter::Display("A".into()))),
            (
                r#"urn:okta:scim:schemas:core:1.0:Role:value eq "a""#,
                Some(ValueFilter::Value("a".into())),
            ),
            (r#"urn:example:x:value eq "a""#, None),
            (r#"value ne "a""#, None),
            (r#"value sw "a""#, None),
            (r#"value eq 1"#, None),
            (r#"value pr"#, None),
            (r#"type eq "License""#, None),
            (r#"value eq "a" and id eq "b""#, None),
        ] {
            let parsed = parse_filter(f).unwrap();
            let got = value_filter(&parsed);
            match want {
                Some(w) => assert_eq!(got.unwrap(), w, "{f}"),
                None => assert_eq!(
                    got.unwrap_err().scim_type().map(|t| t.as_str()),
                    Some("invalidFilter"),
                    "{f}"
                ),
            }
        }
    }

    #[test]
    fn the_catalog_checks_new_values_only() {
        let defined = [
            value(EntitlementKind::Role, "r-admin", "admin"),
            value(EntitlementKind::Custom("License".into()), "l-pro", "pro"),
        ];
        let c = Catalog::new(&defined);
        assert!(!c.is_empty());
        let ok = attrs(json!({"roles": [{"value": "admin"}], "entitlements": [{"value": "pro"}]}));
        assert!(c.check(None, &ok).is_ok());
        // Okta grants by the Role's id.
        let by_id = attrs(json!({"roles": [{"value": "r-admin", "display": "Admin"}]}));
        assert!(c.check(None, &by_id).is_ok());
        let bad = attrs(json!({"roles": [{"value": "admin"}, {"value": "root"}]}));
        let e = c.check(None, &bad).unwrap_err();
        assert_eq!(e.status(), 400);
        assert_eq!(e.scim_type().map(|t| t.as_str()), Some("invalidValue"));
        assert!(e.detail().contains("'root'"), "{}", e.detail());
        // Exact match: letter case matters.
        let case = attrs(json!({"roles": [{"value": "Admin"}]}));
        assert!(c.check(None, &case).is_err());
        // A value already held is not checked again.
        assert!(c.check(Some(&bad), &bad).is_ok());
        let ent = attrs(json!({"entitlements": [{"value": "free"}]}));
        assert!(
            c.check(None, &ent)
                .unwrap_err()
                .detail()
                .contains("entitlement")
        );
    }

    #[test]
    fn without_a_catalog_of_a_class_anything_goes() {
        let c = Catalog::new(&[value(EntitlementKind::Role, "r", "admin")]);
        let ent = attrs(json!({"entitlements": [{"value": "anything"}]}));
        assert!(c.check(None, &ent).is_ok());
        let none = Catalog::default();
        assert!(none.is_empty());
        let roles = attrs(json!({"roles": [{"value": "anything"}]}));
        assert!(none.check(None, &roles).is_ok());
    }

    #[test]
    fn grants_are_detected_conservatively() {
        for (body, touches) in [
            (json!({"userName": "a", "roles": []}), true),
            (
                json!({"Operations": [{"op": "add", "path": "entitlements", "value": []}]}),
                true,
            ),
            (
                json!({"Operations": [{"op": "replace", "path": "ROLES[value eq \"x\"].display", "value": "y"}]}),
                true,
            ),
            (
                json!({"Operations": [{"op": "replace", "value": {"Roles": [{"value": "x"}]}}]}),
                true,
            ),
            (
                json!({"urn:ietf:params:scim:schemas:core:2.0:User:roles": []}),
                true,
            ),
            (
                json!({"Operations": [{"op": "replace", "value": {"active": false}}]}),
                false,
            ),
            (json!({"userName": "a", "name": {"givenName": "b"}}), false),
        ] {
            assert_eq!(may_touch_grants(&body), touches, "{body}");
        }
        for (body, touches) in [
            (
                json!({"Operations": [{"op": "add", "path": "roles", "value": [{"value": "a"}]}]}),
                true,
            ),
            (
                json!({"Operations": [{"op": "remove", "path": "entitlements[value eq \"a\"]"}]}),
                true,
            ),
            (
                json!({"Operations": [{"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:User:roles", "value": []}]}),
                true,
            ),
            (
                json!({"Operations": [{"op": "replace", "value": {"roles": []}}]}),
                true,
            ),
            (
                json!({"Operations": [{"op": "replace", "path": "displayName", "value": "roles"}]}),
                false,
            ),
            (
                json!({"Operations": [{"op": "replace", "value": {"active": false}}]}),
                false,
            ),
        ] {
            let request = crate::patch::PatchRequest::from_json(&body).unwrap();
            assert_eq!(patch_may_touch_grants(&request), touches, "{body}");
        }
    }
}
