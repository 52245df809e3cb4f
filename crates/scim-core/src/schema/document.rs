//! Organization-defined extension schemas: strict parsing of an RFC 7643 §7 schema
//! document into the `'static` [`Schema`] / [`AttributeDef`] types every other module
//! reads, and the interning that makes that possible without leaking per request.
//!
//! The document is validated before anything is built: its `id` must be a URN of its own
//! (not a core schema, message or the enterprise extension; Entra ID's
//! `urn:ietf:params:scim:schemas:extension:<Name>:2.0:User` form is allowed),
//! every attribute needs a known `type`, names follow ATTRNAME (RFC 7643 §2.1) and are
//! unique ignoring case, only `complex` attributes have `subAttributes` and these are not
//! complex themselves (§2.3.8), and the sizes are bounded ([`MAX_DOCUMENT_BYTES`],
//! [`MAX_ATTRIBUTES`]). Two characteristics this server would not honour are refused
//! instead of advertised falsely: `mutability: writeOnly` (write-only values are never
//! stored) and a `uniqueness` other than `none` (extension values are not indexed).
//! Every error names the offending attribute.
//!
//! **Interning.** The validated document is rendered to a canonical text (every
//! characteristic spelled out, in one order). A process-wide table maps each distinct
//! canonical text to the one `&'static Schema` built for it (`Box::leak`, once), so memory
//! is bounded by the number of distinct documents ever defined, not by requests, and two
//! tenants (or two loads) with the same document share one definition. The table's mutex
//! is held only for the map lookup and insert: no IO.

use super::{AttributeDef, AttributeType, Mutability, Returned, Schema, Uniqueness};
use crate::error::{ScimError, ScimResult};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The largest schema document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// The most attributes one document may define, sub-attributes included.
pub const MAX_ATTRIBUTES: usize = 100;
/// The most extensions one organization may have defined at once.
pub const MAX_EXTENSIONS: usize = 20;
/// The longest URN accepted.
pub const MAX_URN_LEN: usize = 200;
/// The longest attribute name accepted.
pub const MAX_NAME_LEN: usize = 64;
/// The longest description accepted.
pub const MAX_DESCRIPTION_LEN: usize = 1024;
/// The most canonical values (or reference types) of one attribute.
pub const MAX_VALUES: usize = 100;

/// The URN of the schema that schema documents may list in their `schemas`.
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// A validated and interned schema document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaDocument {
    /// The interned definition (the same pointer for the same canonical text).
    pub schema: &'static Schema,
    /// The canonical text: what the store keeps and what parsing it again yields.
    pub canonical: String,
}

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::invalid_value(detail)
}

/// Parses, validates and interns a schema document.
///
/// ```
/// use scim_core::schema::document::parse_schema_document;
/// let doc = r#"{"id": "urn:example:acme:1.0:User", "name": "AcmeUser",
///   "attributes": [{"name": "badge", "type": "integer"}]}"#;
/// let parsed = parse_schema_document(doc).unwrap();
/// assert_eq!(parsed.schema.attribute("BADGE").unwrap().name, "badge");
/// assert!(std::ptr::eq(parsed.schema, parse_schema_document(&parsed.canonical).unwrap().schema));
/// let bad = r#"{"id": "urn:example:x", "name": "X", "attributes": [{"name": "1a", "type": "string"}]}"#;
/// assert!(parse_schema_document(bad).unwrap_err().detail().contains("'1a'"));
/// ```
pub fn parse_schema_document(text: &str) -> ScimResult<SchemaDocument> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(invalid(format!(
            "the schema document is {} bytes; at most {MAX_DOCUMENT_BYTES} are accepted",
            text.len()
        )));
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ScimError::invalid_syntax(format!("the schema document is not JSON: {e}")))?;
    let canonical = canonicalize(&value)?;
    let canonical_text = canonical.to_string();
    let schema = intern(&canonical_text, &canonical)?;
    Ok(SchemaDocument {
        schema,
        canonical: canonical_text,
    })
}

/// Whether `urn` is acceptable as the id of an organization's extension; the error says
/// why not.
pub fn check_urn(urn: &str) -> ScimResult<()> {
    let lower = urn.to_ascii_lowercase();
    if !lower.starts_with("urn:") {
        return Err(invalid(format!(
            "the schema id '{urn}' must be a URN ('urn:…')"
        )));
    }
    if urn.len() > MAX_URN_LEN {
        return Err(invalid(format!(
            "the schema id is longer than {MAX_URN_LEN} characters"
        )));
    }
    if let Some(c) = urn
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '-' | '_')))
    {
        return Err(invalid(format!(
            "the schema id '{urn}' has the character {c:?}; use letters, digits and ': . - _'"
        )));
    }
    let parts: Vec<&str> = urn.split(':').collect();
    if parts.len() < 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(invalid(format!(
            "the schema id '{urn}' must be 'urn:<namespace>:<name…>' with no empty part"
        )));
    }
    // The RFC's own schemas and messages, and the enterprise extension. Other
    // `urn:ietf:params:scim:schemas:extension:<Name>:…` URNs stay available: Microsoft Entra
    // ID sends its custom extension attributes under such URNs.
    let reserved = [
        "urn:ietf:params:scim:schemas:core:",
        "urn:ietf:params:scim:api:",
        "urn:ietf:params:scim:schemas:extension:enterprise:",
        // Okta Identity Governance's Role and Entitlement schemas, published by the server.
        "urn:okta:scim:schemas:core:",
    ];
    if reserved.iter().any(|r| lower.starts_with(r))
        || !lower.starts_with("urn:ietf:params:scim:schemas:extension:")
            && lower.starts_with("urn:ietf:params:scim:")
    {
        return Err(invalid(format!(
            "the schema id '{urn}' is reserved: it names one of the RFC's own schemas or \
             messages (core, enterprise, api) or Okta's core schemas; choose a URN of your organization, or \
             urn:ietf:params:scim:schemas:extension:<Name>:2.0:User as Entra ID does"
        )));
    }
    Ok(())
}

/// Whether `name` is an ATTRNAME (RFC 7643 §2.1): a letter, then letters, digits, `-`, `_`.
fn is_attr_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn canonicalize(doc: &Value) -> ScimResult<Value> {
    let Value::Object(doc) = doc else {
        return Err(ScimError::invalid_syntax(
            "the schema document must be a JSON object",
        ));
    };
    for key in doc.keys() {
        if !matches!(
            key.as_str(),
            "schemas" | "id" | "name" | "description" | "attributes" | "meta"
        ) {
            return Err(invalid(format!(
                "the schema document has an unknown member '{key}'"
            )));
        }
    }
    if let Some(schemas) = doc.get("schemas") {
        let ok = schemas.as_array().is_some_and(|a| {
            a.iter().all(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(SCHEMA_SCHEMA))
            })
        });
        if !ok {
            return Err(invalid(format!(
                "'schemas' of a schema document may only list {SCHEMA_SCHEMA}"
            )));
        }
    }
    let id = doc
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the schema document needs an 'id' (its URN)"))?;
    check_urn(id)?;
    let name = doc
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid("the schema document needs a 'name'"))?;
    if name.len() > MAX_NAME_LEN * 2 {
        return Err(invalid("the schema's 'name' is too long"));
    }
    let description = text_member(doc, "description", "the schema")?;
    let Some(Value::Array(attributes)) = doc.get("attributes") else {
        return Err(invalid(
            "the schema document needs 'attributes', an array of attribute definitions",
        ));
    };
    if attributes.is_empty() {
        return Err(invalid("the schema defines no attribute"));
    }
    let mut count = 0usize;
    let attributes = canonical_attributes(attributes, None, &mut count)?;
    let mut out = Map::new();
    out.insert("id".into(), id.into());
    out.insert("name".into(), name.into());
    out.insert("description".into(), description.into());
    out.insert("attributes".into(), Value::Array(attributes));
    Ok(Value::Object(out))
}

fn text_member(obj: &Map<String, Value>, key: &str, whose: &str) -> ScimResult<String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) if s.len() <= MAX_DESCRIPTION_LEN => Ok(s.clone()),
        Some(Value::String(_)) => Err(invalid(format!(
            "'{key}' of {whose} is longer than {MAX_DESCRIPTION_LEN} bytes"
        ))),
        Some(_) => Err(invalid(format!("'{key}' of {whose} must be a string"))),
    }
}

fn canonical_attributes(
    list: &[Value],
    parent: Option<&str>,
    count: &mut usize,
) -> ScimResult<Vec<Value>> {
    let mut seen: Vec<String> = Vec::with_capacity(list.len());
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        *count += 1;
        if *count > MAX_ATTRIBUTES {
            return Err(invalid(format!(
                "the schema defines more than {MAX_ATTRIBUTES} attributes (sub-attributes included)"
            )));
        }
        let attr = canonical_attribute(item, parent, i, count)?;
        let name = attr
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase();
        if seen.contains(&name) {
            return Err(invalid(format!(
                "attribute '{}' is defined twice (names ignore letter case)",
                qualified(
                    parent,
                    attr.get("name").and_then(Value::as_str).unwrap_or_default()
                )
            )));
        }
        seen.push(name);
        out.push(attr);
    }
    Ok(out)
}

fn qualified(parent: Option<&str>, name: &str) -> String {
    match parent {
        Some(p) => format!("{p}.{name}"),
        None => name.to_string(),
    }
}

const ATTRIBUTE_KEYS: [&str; 12] = [
    "name",
    "type",
    "multiValued",
    "description",
    "required",
    "canonicalValues",
    "caseExact",
    "mutability",
    "returned",
    "uniqueness",
    "referenceTypes",
    "subAttributes",
];

fn canonical_attribute(
    item: &Value,
    parent: Option<&str>,
    index: usize,
    count: &mut usize,
) -> ScimResult<Value> {
    let Value::Object(obj) = item else {
        return Err(invalid(format!(
            "attribute #{} of {} is not a JSON object",
            index + 1,
            parent.map_or("the schema".to_string(), |p| format!("'{p}'"))
        )));
    };
    let raw_name = obj.get("name").and_then(Value::as_str).unwrap_or_default();
    if !is_attr_name(raw_name) || raw_name.len() > MAX_NAME_LEN {
        return Err(invalid(format!(
            "attribute '{}': the name must be a letter followed by letters, digits, '-' or '_' \
             (RFC 7643 §2.1 ATTRNAME), at most {MAX_NAME_LEN} characters",
            qualified(parent, raw_name)
        )));
    }
    let path = qualified(parent, raw_name);
    let bad = |detail: String| invalid(format!("attribute '{path}': {detail}"));
    if let Some(key) = obj.keys().find(|k| !ATTRIBUTE_KEYS.contains(&k.as_str())) {
        return Err(bad(format!("unknown characteristic '{key}'")));
    }
    let flag = |key: &str| -> ScimResult<bool> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(bad(format!("'{key}' must be true or false"))),
        }
    };
    let word = |key: &str, default: &'static str, allowed: &[&str]| -> ScimResult<String> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(default.to_string()),
            Some(Value::String(s)) => allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(s))
                .map(|a| a.to_string())
                .ok_or_else(|| {
                    bad(format!(
                        "'{key}' is '{s}'; expected one of {}",
                        allowed.join(", ")
                    ))
                }),
            Some(_) => Err(bad(format!("'{key}' must be a string"))),
        }
    };
    let ty = match obj.get("type") {
        Some(Value::String(_)) => word(
            "type",
            "string",
            &[
                "string",
                "boolean",
                "decimal",
                "integer",
                "dateTime",
                "binary",
                "reference",
                "complex",
            ],
        )?,
        _ => return Err(bad("'type' is required".into())),
    };
    let multi_valued = flag("multiValued")?;
    let required = flag("required")?;
    let case_exact = flag("caseExact")?;
    let mutability = word(
        "mutability",
        "readWrite",
        &["readOnly", "readWrite", "immutable", "writeOnly"],
    )?;
    if mutability == "writeOnly" {
        return Err(bad(
            "'mutability' writeOnly is not supported: this server never stores write-only values"
                .into(),
        ));
    }
    let returned = word(
        "returned",
        "default",
        &["always", "never", "default", "request"],
    )?;
    let uniqueness = word("uniqueness", "none", &["none", "server", "global"])?;
    if uniqueness != "none" {
        return Err(bad(format!(
            "'uniqueness' {uniqueness} is not enforced for extension attributes; declare 'none'"
        )));
    }
    let strings = |key: &str| -> ScimResult<Option<Vec<Value>>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) if a.len() <= MAX_VALUES => {
                let mut out: Vec<Value> = Vec::with_capacity(a.len());
                for v in a {
                    match v.as_str() {
                        Some(s) if !s.is_empty() && s.len() <= MAX_NAME_LEN * 4 => {
                            if !out.iter().any(|o| o.as_str() == Some(s)) {
                                out.push(s.into());
                            }
                        }
                        _ => {
                            return Err(bad(format!(
                                "'{key}' must be an array of non-empty strings"
                            )));
                        }
                    }
                }
                Ok(Some(out))
            }
            Some(_) => Err(bad(format!(
                "'{key}' must be an array of at most {MAX_VALUES} strings"
            ))),
        }
    };
    let canonical_values = strings("canonicalValues")?.unwrap_or_default();
    let reference_types = strings("referenceTypes")?;
    match (ty.as_str(), &reference_types) {
        ("reference", None) => {
            return Err(bad(
                "a reference needs 'referenceTypes' (e.g. [\"external\"] or [\"User\"])".into(),
            ));
        }
        ("reference", Some(r)) if r.is_empty() => {
            return Err(bad("'referenceTypes' must not be empty".into()));
        }
        ("reference", _) => {}
        (_, Some(r)) if !r.is_empty() => {
            return Err(bad(
                "'referenceTypes' is only for attributes of type reference".into(),
            ));
        }
        _ => {}
    }
    let description = text_member(obj, "description", &format!("attribute '{path}'"))?;
    let mut out = Map::new();
    out.insert("name".into(), raw_name.into());
    out.insert("type".into(), ty.as_str().into());
    out.insert("multiValued".into(), multi_valued.into());
    out.insert("description".into(), description.into());
    out.insert("required".into(), required.into());
    out.insert("canonicalValues".into(), Value::Array(canonical_values));
    out.insert("caseExact".into(), case_exact.into());
    out.insert("mutability".into(), mutability.into());
    out.insert("returned".into(), returned.into());
    out.insert("uniqueness".into(), uniqueness.into());
    out.insert(
        "referenceTypes".into(),
        Value::Array(reference_types.unwrap_or_default()),
    );
    let subs = match obj.get("subAttributes") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(a),
        Some(_) => return Err(bad("'subAttributes' must be an array".into())),
    };
    match (ty.as_str(), subs) {
        ("complex", None) => {
            return Err(bad("a complex attribute needs 'subAttributes'".into()));
        }
        ("complex", Some(subs)) if subs.is_empty() => {
            return Err(bad("'subAttributes' must not be empty".into()));
        }
        ("complex", Some(_)) if parent.is_some() => {
            return Err(bad(
                "a sub-attribute cannot be complex (RFC 7643 §2.3.8: no nested complex attributes)"
                    .into(),
            ));
        }
        ("complex", Some(subs)) => {
            let subs = canonical_attributes(subs, Some(&path), count)?;
            out.insert("subAttributes".into(), Value::Array(subs));
        }
        (_, Some(subs)) if !subs.is_empty() => {
            return Err(bad("only complex attributes have 'subAttributes'".into()));
        }
        _ => {}
    }
    Ok(Value::Object(out))
}

/// The process-wide table of interned schemas, keyed by canonical text.
static INTERNED: Mutex<BTreeMap<String, &'static Schema>> = Mutex::new(BTreeMap::new());

fn intern(canonical_text: &str, canonical: &Value) -> ScimResult<&'static Schema> {
    let mut table = INTERNED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(schema) = table.get(canonical_text) {
        return Ok(schema);
    }
    let schema: &'static Schema = Box::leak(Box::new(build_schema(canonical)?));
    table.insert(canonical_text.to_string(), schema);
    Ok(schema)
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

fn leak_list(v: Option<&Value>) -> &'static [&'static str] {
    let items: Vec<&'static str> = v
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(leak).collect())
        .unwrap_or_default();
    if items.is_empty() {
        return &[];
    }
    Box::leak(items.into_boxed_slice())
}

fn str_of<'a>(obj: &'a Value, key: &str) -> &'a str {
    obj.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn build_schema(canonical: &Value) -> ScimResult<Schema> {
    let attributes = build_attributes(canonical.get("attributes"))?;
    Ok(Schema {
        id: leak(str_of(canonical, "id")),
        name: leak(str_of(canonical, "name")),
        description: leak(str_of(canonical, "description")),
        attributes,
        closed: true,
    })
}

fn build_attributes(list: Option<&Value>) -> ScimResult<&'static [AttributeDef]> {
    let Some(list) = list.and_then(Value::as_array) else {
        return Ok(&[]);
    };
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        out.push(build_attribute(a)?);
    }
    Ok(Box::leak(out.into_boxed_slice()))
}

fn build_attribute(a: &Value) -> ScimResult<AttributeDef> {
    // The canonical form was produced by `canonicalize`; a mismatch here is a bug, reported
    // as an error rather than a panic.
    let internal = || ScimError::internal("inconsistent canonical schema document");
    let ty = match str_of(a, "type") {
        "string" => AttributeType::String,
        "boolean" => AttributeType::Boolean,
        "decimal" => AttributeType::Decimal,
        "integer" => AttributeType::Integer,
        "dateTime" => AttributeType::DateTime,
        "binary" => AttributeType::Binary,
        "reference" => AttributeType::Reference,
        "complex" => AttributeType::Complex,
        _ => return Err(internal()),
    };
    let mutability = match str_of(a, "mutability") {
        "readOnly" => Mutability::ReadOnly,
        "readWrite" => Mutability::ReadWrite,
        "immutable" => Mutability::Immutable,
        _ => return Err(internal()),
    };
    let returned = match str_of(a, "returned") {
        "always" => Returned::Always,
        "never" => Returned::Never,
        "default" => Returned::Default,
        "request" => Returned::Request,
        _ => return Err(internal()),
    };
    let flag = |k: &str| a.get(k).and_then(Value::as_bool).unwrap_or(false);
    Ok(AttributeDef {
        name: leak(str_of(a, "name")),
        ty,
        multi_valued: flag("multiValued"),
        description: leak(str_of(a, "description")),
        required: flag("required"),
        case_exact: flag("caseExact"),
        mutability,
        returned,
        uniqueness: Uniqueness::None,
        canonical_values: leak_list(a.get("canonicalValues")),
        reference_types: leak_list(a.get("referenceTypes")),
        sub_attributes: build_attributes(a.get("subAttributes"))?,
    })
}
