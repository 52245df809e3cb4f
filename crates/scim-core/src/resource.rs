//! Resources: schema-driven, tolerant parsing of client JSON into a canonical attribute
//! map, and rendering of stored resources back to SCIM JSON.
//!
//! The canonical form is a JSON object whose attribute names have their schema letter
//! case, whose values have been type-checked against the schema, and whose extension
//! attributes sit under their schema URN. Parsing is tolerant the way real clients need:
//! attribute names ignore case, `"True"`/`"False"` strings are accepted for booleans, a
//! bare string is accepted where a complex attribute has a `value` sub-attribute (Entra's
//! `manager`), unknown schema URIs and unknown attributes of known extensions are kept,
//! and read-only attributes (`id`, `meta`, `groups`) are ignored. Values of the wrong type
//! are rejected with `invalidValue`, and so is a multi-valued attribute that is not a JSON
//! array (`"emails": "a@b.test"`). Values a backend cannot store (NUL, over-long strings,
//! too many values) are `invalidValue` too ([`crate::limits`]). `password` is write-only:
//! it is discarded here and never part of any output.

use crate::error::{ScimError, ScimResult};
use crate::schema::{
    AttributeDef, AttributeType, Mutability, ResourceKind, ResourceType, USER_URN,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// A JSON object of SCIM attributes.
pub type Attributes = Map<String, Value>;

/// Server-maintained metadata of a stored resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// When the resource was created.
    pub created: DateTime<Utc>,
    /// When the resource last changed.
    pub last_modified: DateTime<Utc>,
    /// A counter bumped by every change; the entity tag is derived from it.
    pub version: i64,
}

/// A stored resource: its kind, server-issued id, canonical attributes and metadata.
///
/// `attributes` holds everything but `id`, `meta` and the computed `schemas` list; for a
/// Group it includes `members`, and for a User `groups`, when the store has loaded them.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// User or Group.
    pub kind: ResourceKind,
    /// The server-issued, opaque, case-sensitive id.
    pub id: String,
    /// The canonical attributes.
    pub attributes: Attributes,
    /// Server-maintained metadata.
    pub meta: Meta,
}

impl Resource {
    /// A top-level core attribute by its canonical name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.attributes.get(name)
    }

    /// A top-level string attribute by its canonical name.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// `userName` (Users).
    pub fn user_name(&self) -> Option<&str> {
        self.get_str("userName")
    }

    /// `displayName`.
    pub fn display_name(&self) -> Option<&str> {
        self.get_str("displayName")
    }

    /// `externalId`.
    pub fn external_id(&self) -> Option<&str> {
        self.get_str("externalId")
    }

    /// `active` (Users); a user without the attribute counts as active.
    pub fn active(&self) -> bool {
        self.get("active").and_then(Value::as_bool).unwrap_or(true)
    }

    /// The URL of this resource under a tenant's base URL (`.../scim/v2/<tenant>`).
    pub fn location(&self, base_url: &str) -> String {
        format!(
            "{}{}/{}",
            base_url.trim_end_matches('/'),
            self.kind.resource_type().endpoint,
            self.id
        )
    }

    /// The full SCIM JSON representation: `schemas`, `id`, the attributes, and `meta`
    /// (with `location` under `base_url` and the weak entity tag as `version`).
    ///
    /// `$ref` is filled in on `members` and `groups` values that lack it. This copies the
    /// attributes; [`Resource::into_json`] moves them instead.
    pub fn to_json(&self, base_url: &str) -> Value {
        self.clone().into_json(base_url)
    }

    /// [`Resource::to_json`] without copying: the attributes (a group's whole member
    /// list) are moved into the document.
    ///
    /// ```
    /// use chrono::Utc;
    /// use scim_core::ResourceKind;
    /// use scim_core::resource::{Attributes, Meta, Resource};
    /// let mut attributes = Attributes::new();
    /// attributes.insert("displayName".into(), "Eng".into());
    /// attributes.insert("members".into(), serde_json::json!([{"value": "u1", "type": "User"}]));
    /// let now = Utc::now();
    /// let group = Resource {
    ///     kind: ResourceKind::Group,
    ///     id: "g1".into(),
    ///     attributes,
    ///     meta: Meta { created: now, last_modified: now, version: 1 },
    /// };
    /// let doc = group.into_json("https://h/scim/v2/t1");
    /// assert_eq!(doc["members"][0]["$ref"], "https://h/scim/v2/t1/Users/u1");
    /// assert_eq!(doc["meta"]["location"], "https://h/scim/v2/t1/Groups/g1");
    /// ```
    pub fn into_json(self, base_url: &str) -> Value {
        let rt = self.kind.resource_type();
        let location = self.location(base_url);
        let mut out = Map::new();
        out.insert(
            "schemas".into(),
            Value::from(schemas_of(rt, &self.attributes)),
        );
        out.insert("id".into(), Value::from(self.id));
        for (name, mut value) in self.attributes {
            if name == "schemas" {
                continue;
            }
            if name == "members" || name == "groups" {
                fill_refs(&mut value, base_url, name == "groups");
            }
            out.insert(name, value);
        }
        let mut meta = Map::new();
        meta.insert("resourceType".into(), Value::from(rt.name));
        meta.insert(
            "created".into(),
            Value::from(format_datetime(&self.meta.created)),
        );
        meta.insert(
            "lastModified".into(),
            Value::from(format_datetime(&self.meta.last_modified)),
        );
        meta.insert("location".into(), Value::from(location));
        meta.insert(
            "version".into(),
            Value::from(crate::version::etag(self.meta.version)),
        );
        out.insert("meta".into(), Value::Object(meta));
        Value::Object(out)
    }
}

/// Formats a timestamp the way SCIM responses carry it: RFC 3339, UTC, millisecond precision.
pub fn format_datetime(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an `xsd:dateTime` / RFC 3339 value.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn fill_refs(value: &mut Value, base_url: &str, always_group: bool) {
    let Value::Array(items) = value else {
        return;
    };
    // The two prefixes are built once, not once per member.
    let base = base_url.trim_end_matches('/');
    let users = format!("{base}/Users/");
    let groups = format!("{base}/Groups/");
    for item in items {
        let Value::Object(m) = item else {
            continue;
        };
        if m.contains_key("$ref") {
            continue;
        }
        let Some(id) = m.get("value").and_then(Value::as_str) else {
            continue;
        };
        let prefix = if always_group || m.get("type").and_then(Value::as_str) == Some("Group") {
            &groups
        } else {
            &users
        };
        let mut reference = String::with_capacity(prefix.len() + id.len());
        reference.push_str(prefix);
        reference.push_str(id);
        m.insert("$ref".into(), Value::from(reference));
    }
}

/// The `schemas` list of a resource: the core schema first, then URIs the client listed,
/// then the URN of every extension object present, without duplicates.
pub fn schemas_of(rt: &ResourceType, attributes: &Attributes) -> Vec<String> {
    let mut out: Vec<String> = vec![rt.schema.id.to_string()];
    let mut push = |urn: &str| {
        if !out.iter().any(|s| s.eq_ignore_ascii_case(urn)) {
            out.push(urn.to_string());
        }
    };
    if let Some(Value::Array(listed)) = attributes.get("schemas") {
        for urn in listed.iter().filter_map(Value::as_str) {
            push(urn);
        }
    }
    for (key, value) in attributes {
        if value.is_object() && is_urn(key) {
            push(key);
        }
    }
    out
}

/// Whether a JSON key is a schema URN rather than an attribute name.
pub fn is_urn(key: &str) -> bool {
    key.len() > 4 && key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}

/// Splits `urn:...:User:attr.sub` at the last `:` into the schema URN and the rest.
pub fn split_urn(key: &str) -> Option<(&str, &str)> {
    let idx = key.rfind(':')?;
    Some((&key[..idx], &key[idx + 1..]))
}

/// Parses a client's resource body (POST or PUT) into canonical attributes.
///
/// Read-only attributes are ignored, `password` is discarded, unknown core attributes are
/// ignored, and required attributes must be present (`invalidValue` otherwise). A body that
/// is not a JSON object is `invalidSyntax`.
///
/// ```
/// use scim_core::resource::parse_resource;
/// use scim_core::ResourceKind;
/// let body = serde_json::json!({
///     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
///     "USERNAME": "ada@example.com",
///     "active": "False",
///     "password": "secret",
///     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "42"}
/// });
/// let attrs = parse_resource(ResourceKind::User, &body).unwrap();
/// assert_eq!(attrs["userName"], "ada@example.com");
/// assert_eq!(attrs["active"], false);
/// assert!(attrs.get("password").is_none());
/// assert_eq!(
///     attrs["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"],
///     serde_json::json!({"value": "42"})
/// );
/// ```
pub fn parse_resource(kind: ResourceKind, body: &Value) -> ScimResult<Attributes> {
    parse_resource_in(kind.resource_type(), body)
}

/// [`parse_resource`] against a tenant's resource type
/// ([`crate::schema::registry::Registry::resource_type`]): its own extensions are
/// validated like the core attributes, and values under its withheld (removed) extensions
/// are ignored.
pub fn parse_resource_in(rt: &'static ResourceType, body: &Value) -> ScimResult<Attributes> {
    let kind = rt.kind;
    let Value::Object(input) = body else {
        return Err(ScimError::invalid_syntax(format!(
            "a {} must be a JSON object",
            rt.name
        )));
    };
    let mut out = Map::new();
    merge_object(rt, None, input, &mut out)?;
    check_required(rt, &out)?;
    crate::limits::check_attributes(rt, &out)?;
    if kind == ResourceKind::User && !out.contains_key("active") {
        // Clients (Okta) rely on `active` being present on every user; a user created
        // without it is active.
        out.insert("active".into(), Value::Bool(true));
    }
    Ok(out)
}

pub use crate::required::{check_closed_value, check_required};

/// Merges the attributes of `input` into `out` in canonical form. `urn` is the schema the
/// keys belong to when `input` is an extension object.
fn merge_object(
    rt: &ResourceType,
    urn: Option<&str>,
    input: &Map<String, Value>,
    out: &mut Attributes,
) -> ScimResult<()> {
    for (key, value) in input {
        if value.is_null() {
            continue;
        }
        if urn.is_none() && key.eq_ignore_ascii_case("schemas") {
            out.insert("schemas".into(), Value::Array(parse_schemas(value)?));
            continue;
        }
        if urn.is_none() && is_urn(key) {
            merge_urn_key(rt, key, value, out)?;
            continue;
        }
        let Some(resolved) = rt.resolve(urn, key) else {
            if let Some(urn) = urn {
                if rt.extension(urn).is_some_and(|s| s.closed) {
                    // The organization's own extension accepts only what it defines.
                    return Err(ScimError::invalid_value(format!(
                        "'{key}' is not an attribute of the extension '{urn}'"
                    )));
                }
                // Unknown attribute of a known extension: kept as sent.
                extension_object(out, urn)?.insert(key.clone(), value.clone());
            }
            // Unknown core attributes are ignored (RFC 7644 §3.3 lets servers do so).
            continue;
        };
        set_attribute(rt, out, resolved.extension, resolved.def, value)?;
    }
    Ok(())
}

fn merge_urn_key(
    rt: &ResourceType,
    key: &str,
    value: &Value,
    out: &mut Attributes,
) -> ScimResult<()> {
    if rt.schema.id.eq_ignore_ascii_case(key) {
        // Core attributes wrapped in their own schema URN.
        let Value::Object(inner) = value else {
            return Err(ScimError::invalid_syntax(format!(
                "'{key}' must be an object"
            )));
        };
        return merge_object(rt, None, inner, out);
    }
    if let Some(ext) = rt.extension(key) {
        let Value::Object(inner) = value else {
            return Err(ScimError::invalid_syntax(format!(
                "the extension '{key}' must be an object"
            )));
        };
        return merge_object(rt, Some(ext.id), inner, out);
    }
    if rt.is_withheld(key) {
        // A removed organization extension: no longer accepted (its stored values are
        // kept by PUT and PATCH, see `replace`).
        return Ok(());
    }
    // A URN-qualified attribute (`urn:...:User:department`)?
    if let Some((schema_urn, attr)) = split_urn(key) {
        if rt.is_withheld(schema_urn) {
            return Ok(());
        }
        if !attr.contains('.')
            && let Some(resolved) = rt.resolve(Some(schema_urn), attr)
        {
            return set_attribute(rt, out, resolved.extension, resolved.def, value);
        }
        if let Some(ext) = rt.extension(schema_urn).filter(|s| s.closed) {
            return Err(ScimError::invalid_value(format!(
                "'{attr}' is not an attribute of the extension '{}'",
                ext.id
            )));
        }
    }
    // An unknown extension: kept as sent.
    out.insert(key.to_string(), value.clone());
    Ok(())
}

fn extension_object<'a>(out: &'a mut Attributes, urn: &str) -> ScimResult<&'a mut Attributes> {
    let slot = out
        .entry(urn.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    match slot {
        Value::Object(m) => Ok(m),
        _ => Err(ScimError::invalid_syntax(format!(
            "'{urn}' must be an object"
        ))),
    }
}

fn set_attribute(
    rt: &ResourceType,
    out: &mut Attributes,
    extension: Option<&str>,
    def: &'static AttributeDef,
    value: &Value,
) -> ScimResult<()> {
    if matches!(def.mutability, Mutability::ReadOnly | Mutability::WriteOnly) {
        // readOnly values in a request body are ignored (RFC 7644 §3.3, §3.5.1); writeOnly
        // ones (password) are accepted and discarded: this server never stores them.
        return Ok(());
    }
    if let Some(urn) = extension
        && rt.extension(urn).is_some_and(|s| s.closed)
    {
        check_closed_value(def, value, &format!("{urn}:{}", def.name))?;
    }
    let normalized = normalize_value(def, value.clone(), def.name)?;
    if normalized.is_null() {
        return Ok(());
    }
    match extension {
        None => {
            out.insert(def.name.to_string(), normalized);
        }
        Some(urn) => {
            extension_object(out, urn)?.insert(def.name.to_string(), normalized);
        }
    }
    Ok(())
}

fn parse_schemas(value: &Value) -> ScimResult<Vec<Value>> {
    let items = match value {
        Value::Array(a) => a.clone(),
        Value::String(_) => vec![value.clone()],
        _ => {
            return Err(ScimError::invalid_syntax(
                "'schemas' must be an array of URIs",
            ));
        }
    };
    if items.iter().any(|v| !v.is_string()) {
        return Err(ScimError::invalid_syntax(
            "'schemas' must be an array of URIs",
        ));
    }
    Ok(items)
}

/// Normalises one attribute value against its definition.
///
/// Returns `Value::Null` when the value is unassigned (`null`, `[]`, or an object with no
/// assigned sub-attributes). `path` names the attribute in error messages.
pub fn normalize_value(def: &'static AttributeDef, value: Value, path: &str) -> ScimResult<Value> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    if def.multi_valued {
        // RFC 7643 §2.4: a multi-valued attribute is a JSON array. A lone value
        // (`"emails": "a@b"`, `"emails": {"value": "a@b"}`) is refused rather than
        // silently wrapped.
        let Value::Array(items) = value else {
            return Err(ScimError::invalid_value(format!(
                "'{path}' is multi-valued: send a JSON array of values, even for one value"
            )));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let v = normalize_single(def, item, path)?;
            if !v.is_null() {
                out.push(v);
            }
        }
        if def.is_complex() {
            let primaries = out
                .iter()
                .filter(|v| v.get("primary").and_then(Value::as_bool) == Some(true))
                .count();
            if primaries > 1 {
                return Err(ScimError::invalid_value(format!(
                    "at most one value of '{path}' may be primary"
                )));
            }
        }
        return Ok(if out.is_empty() {
            Value::Null
        } else {
            Value::Array(out)
        });
    }
    match value {
        Value::Array(mut items) if items.len() <= 1 => match items.pop() {
            // A one-element array for a single-valued attribute (Entra's legacy manager form).
            Some(item) => normalize_single(def, item, path),
            None => Ok(Value::Null),
        },
        Value::Array(_) => Err(ScimError::invalid_value(format!(
            "'{path}' is single-valued; an array of values is not allowed"
        ))),
        other => normalize_single(def, other, path),
    }
}

/// Normalises one (non-array) value against its definition.
pub fn normalize_single(def: &'static AttributeDef, value: Value, path: &str) -> ScimResult<Value> {
    let wrong_type =
        |expected: &str| ScimError::invalid_value(format!("'{path}' must be {expected}"));
    match (def.ty, value) {
        (_, Value::Null) => Ok(Value::Null),
        (AttributeType::Complex, Value::Object(input)) => {
            let mut out = Map::new();
            for (key, v) in input {
                if v.is_null() {
                    continue;
                }
                match def.sub_attribute(&key) {
                    Some(sub) if sub.mutability == Mutability::ReadOnly => {}
                    Some(sub) => {
                        let sub_path = format!("{path}.{}", sub.name);
                        let nv = normalize_single(sub, v, &sub_path)?;
                        if !nv.is_null() {
                            out.insert(sub.name.to_string(), nv);
                        }
                    }
                    // Unknown sub-attributes are kept as sent.
                    None => {
                        out.insert(key, v);
                    }
                }
            }
            Ok(if out.is_empty() {
                Value::Null
            } else {
                Value::Object(out)
            })
        }
        (AttributeType::Complex, Value::String(s)) if s.trim_start().starts_with('{') => {
            // Entra sends some complex values (roles) as JSON-encoded strings.
            match serde_json::from_str::<Value>(&s) {
                Ok(parsed @ Value::Object(_)) => normalize_single(def, parsed, path),
                _ => wrap_as_value(def, Value::String(s), path),
            }
        }
        (
            AttributeType::Complex,
            scalar @ (Value::String(_) | Value::Number(_) | Value::Bool(_)),
        ) => wrap_as_value(def, scalar, path),
        (AttributeType::Complex, _) => Err(wrong_type("a complex value (a JSON object)")),
        (AttributeType::Boolean, Value::Bool(b)) => Ok(Value::Bool(b)),
        (AttributeType::Boolean, Value::String(s)) => {
            match s.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(wrong_type("a boolean")),
            }
        }
        (AttributeType::Boolean, _) => Err(wrong_type("a boolean")),
        (
            AttributeType::String | AttributeType::Reference | AttributeType::Binary,
            Value::String(s),
        ) => Ok(Value::String(s)),
        (AttributeType::String | AttributeType::Reference | AttributeType::Binary, _) => {
            Err(wrong_type("a string"))
        }
        (AttributeType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => {
            Ok(Value::Number(n))
        }
        (AttributeType::Integer, _) => Err(wrong_type("an integer")),
        (AttributeType::Decimal, Value::Number(n)) => Ok(Value::Number(n)),
        (AttributeType::Decimal, _) => Err(wrong_type("a number")),
        (AttributeType::DateTime, Value::String(s)) => {
            if parse_datetime(&s).is_some() {
                Ok(Value::String(s))
            } else {
                Err(wrong_type("an xsd:dateTime such as 2024-01-23T04:56:22Z"))
            }
        }
        (AttributeType::DateTime, _) => Err(wrong_type("an xsd:dateTime string")),
    }
}

/// A bare value where a complex attribute is expected becomes `{"value": ...}` when the
/// attribute has a `value` sub-attribute (`manager: "42"`, Entra's member lists).
fn wrap_as_value(def: &'static AttributeDef, scalar: Value, path: &str) -> ScimResult<Value> {
    match def.sub_attribute("value") {
        Some(value_def) => {
            let v = normalize_single(value_def, scalar, &format!("{path}.value"))?;
            let mut m = Map::new();
            if !v.is_null() {
                m.insert("value".into(), v);
            }
            Ok(Value::Object(m))
        }
        None => Err(ScimError::invalid_value(format!(
            "'{path}' must be a complex value (a JSON object)"
        ))),
    }
}

/// The core schema URN of Users, re-exported for convenience in tests and examples.
pub const USER_SCHEMA: &str = USER_URN;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ENTERPRISE_USER_URN, ResourceKind};
    use chrono::TimeZone;
    use serde_json::json;

    fn user(body: Value) -> ScimResult<Attributes> {
        parse_resource(ResourceKind::User, &body)
    }

    #[test]
    fn okta_create_body_parses() {
        let attrs = user(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User", "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7", "groups": [],
            "password": "1mz050nq", "active": true
        }))
        .unwrap();
        assert_eq!(attrs["userName"], "test.user@okta.local");
        assert_eq!(attrs["externalId"], "00ujl29u0le5T6Aj10h7");
        assert_eq!(attrs["emails"][0]["primary"], true);
        assert!(attrs.get("password").is_none());
        assert!(attrs.get("groups").is_none());
    }

    #[test]
    fn names_are_canonicalised_and_booleans_coerced() {
        let attrs = user(json!({
            "UserName": "a", "NAME": {"GivenName": "A"}, "Active": "True",
            "emails": [{"Value": "a@x", "Primary": "false", "Type": "work"}]
        }))
        .unwrap();
        assert_eq!(attrs["userName"], "a");
        assert_eq!(attrs["name"]["givenName"], "A");
        assert_eq!(attrs["active"], true);
        assert_eq!(
            attrs["emails"][0],
            json!({"value": "a@x", "primary": false, "type": "work"})
        );
    }

    #[test]
    fn read_only_attributes_are_ignored() {
        let attrs = user(json!({
            "id": "client-chosen", "meta": {"resourceType": "User"}, "userName": "a",
            "groups": [{"value": "g1"}]
        }))
        .unwrap();
        assert!(attrs.get("id").is_none());
        assert!(attrs.get("meta").is_none());
        assert!(attrs.get("groups").is_none());
    }

    #[test]
    fn manager_accepts_string_or_object() {
        for manager in [
            json!("m1"),
            json!({"value": "m1"}),
            json!({"Value": "m1", "displayName": "x"}),
        ] {
            let attrs = user(json!({
                "userName": "a",
                ENTERPRISE_USER_URN: {"manager": manager, "department": "R&D", "custom": 1}
            }))
            .unwrap();
            assert_eq!(
                attrs[ENTERPRISE_USER_URN]["manager"],
                json!({"value": "m1"})
            );
            assert_eq!(attrs[ENTERPRISE_USER_URN]["custom"], 1);
        }
    }

    #[test]
    fn unknown_schemas_and_extensions_are_kept() {
        let attrs = parse_resource(
            ResourceKind::Group,
            &json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                "displayName": "Eng",
                "urn:okta:custom:group:1.0": {"description": "d"}
            }),
        )
        .unwrap();
        let rt = ResourceKind::Group.resource_type();
        let schemas = schemas_of(rt, &attrs);
        assert_eq!(schemas[0], "urn:ietf:params:scim:schemas:core:2.0:Group");
        assert!(schemas.iter().any(|s| s.contains("ADSCIM")));
        assert!(schemas.iter().any(|s| s == "urn:okta:custom:group:1.0"));
    }

    #[test]
    fn wrong_types_are_invalid_value() {
        let cases = [
            json!({"userName": 42}),
            json!({"userName": "a", "active": "yes"}),
            json!({"userName": "a", "name": "Ada"}),
            json!({"userName": "a", "emails": [{"value": 1}]}),
            json!({"userName": "a", "displayName": ["a", "b"]}),
            json!({"userName": "a", "emails": [{"value": "a", "primary": true}, {"value": "b", "primary": true}]}),
            json!({"userName": ""}),
            json!({"displayName": "no user name"}),
        ];
        for body in cases {
            let err = user(body.clone()).unwrap_err();
            assert_eq!(
                err.scim_type(),
                Some(crate::ScimType::InvalidValue),
                "{body}"
            );
        }
        assert_eq!(
            user(json!(["not", "an", "object"]))
                .unwrap_err()
                .scim_type(),
            Some(crate::ScimType::InvalidSyntax)
        );
    }

    #[test]
    fn nulls_and_empty_arrays_are_unassigned() {
        let attrs =
            user(json!({"userName": "a", "title": null, "roles": [], "addresses": null})).unwrap();
        assert!(attrs.get("title").is_none());
        assert!(attrs.get("roles").is_none());
        assert!(attrs.get("addresses").is_none());
        assert_eq!(attrs["active"], true, "active defaults to true");
    }

    #[test]
    fn renders_with_meta_and_refs() {
        let t = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        let mut attributes = Map::new();
        attributes.insert("displayName".into(), json!("Eng"));
        attributes.insert("members".into(), json!([{"value": "u1", "type": "User"}]));
        let r = Resource {
            kind: ResourceKind::Group,
            id: "g1".into(),
            attributes,
            meta: Meta {
                created: t,
                last_modified: t,
                version: 3,
            },
        };
        let doc = r.to_json("https://h/scim/v2/t1/");
        assert_eq!(
            doc["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:Group"])
        );
        assert_eq!(doc["id"], "g1");
        assert_eq!(doc["members"][0]["$ref"], "https://h/scim/v2/t1/Users/u1");
        assert_eq!(doc["meta"]["location"], "https://h/scim/v2/t1/Groups/g1");
        assert_eq!(doc["meta"]["version"], "W/\"3\"");
        assert_eq!(doc["meta"]["created"], "2024-01-02T03:04:05.000Z");
        assert_eq!(doc["meta"]["resourceType"], "Group");
        assert_eq!(r.into_json("https://h/scim/v2/t1/"), doc);
    }

    #[test]
    fn into_json_equals_to_json_for_users() {
        let t = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        let attributes = user(json!({
            "userName": "ada", "schemas": ["urn:x:listed"],
            ENTERPRISE_USER_URN: {"department": "R&D"}
        }))
        .unwrap();
        let mut attributes = attributes;
        attributes.insert(
            "groups".into(),
            json!([{"value": "g1", "display": "Eng"}, {"value": "g2", "$ref": "kept"}]),
        );
        let r = Resource {
            kind: ResourceKind::User,
            id: "u1".into(),
            attributes,
            meta: Meta {
                created: t,
                last_modified: t,
                version: 9,
            },
        };
        let copied = r.to_json("https://h/scim/v2/t1");
        assert_eq!(
            copied["groups"][0]["$ref"],
            "https://h/scim/v2/t1/Groups/g1"
        );
        assert_eq!(copied["groups"][1]["$ref"], "kept");
        assert_eq!(
            copied["schemas"],
            json!([USER_SCHEMA, "urn:x:listed", ENTERPRISE_USER_URN])
        );
        assert_eq!(r.into_json("https://h/scim/v2/t1"), copied);
    }
}
