//! What a resource may hold, and what an id may look like: the limits that keep values a
//! backend cannot store (or index) out of every write path, as 400 `invalidValue` instead
//! of a database error.
//!
//! One check, [`check_attributes`], runs on the canonical attributes of every write:
//! [`parse_resource`](crate::resource::parse_resource) (POST, and PUT through
//! [`replace_resource`](crate::replace::replace_resource)) checks the whole body, and
//! [`apply_patch`](crate::patch::apply_patch) checks the attributes its operations wrote.
//! It applies to every attribute, extension and unknown-but-kept ones included:
//!
//! - **No NUL** (U+0000) in any string value or attribute name: PostgreSQL `text` cannot
//!   hold it, and no identity provider sends it. (Lone UTF-16 surrogates cannot occur: a
//!   Rust `String` cannot hold one, and `serde_json` refuses a `\ud800` escape that is not
//!   part of a pair, so such a body is already `invalidSyntax`.)
//! - **Lengths, in bytes of UTF-8**: [`MAX_VALUE_BYTES`] for a string of an attribute the
//!   schema defines as `string` or `dateTime` (`userName`, `displayName`, `externalId`,
//!   `emails.value`, `name.givenName`, `members.value`, ...: the values kept in indexed
//!   columns, where PostgreSQL's B-tree entries stop at about 2 700 bytes);
//!   [`MAX_LONG_VALUE_BYTES`] for `reference` and `binary` attributes (`photos.value`,
//!   `x509Certificates.value`), for values of attributes the schema does not define, and
//!   for attribute names.
//! - **Counts**: at most [`MAX_VALUES`] elements in a multi-valued attribute or any other
//!   array, except a group's `members`, which has no element limit (a group may be as
//!   large as the directory; one request's list is bounded by the HTTP body limit).
//!
//! Ids: [`is_storable_id`] says whether a string can be an id at all (non-empty, at most
//! [`MAX_ID_BYTES`], no NUL). Ids the server issues are UUIDs; an id that fails the check
//! names nothing, so callers answer 404 without asking the store.
//!
//! Filters and PATCH paths have their own limits (`MAX_FILTER_LEN`, `MAX_FILTER_DEPTH`,
//! no NUL), enforced by their parsers as `invalidFilter` and `invalidPath`.

use crate::error::{ScimError, ScimResult};
use crate::resource::{Attributes, is_urn};
use crate::schema::{AttributeDef, AttributeType, ResourceType};
use serde_json::Value;

/// The longest string value of a `string` or `dateTime` attribute the schema defines, in
/// bytes of UTF-8 (1 024 ASCII characters, at least 256 of any script).
pub const MAX_VALUE_BYTES: usize = 1024;

/// The longest string value of a `reference` or `binary` attribute, of an attribute the
/// schema does not define (kept as sent), and the longest attribute name, in bytes.
pub const MAX_LONG_VALUE_BYTES: usize = 64 * 1024;

/// The most elements a multi-valued attribute (other than a group's `members`) or any
/// other array in a resource may have.
pub const MAX_VALUES: usize = 1000;

/// The longest id accepted in a URL or a reference, in bytes.
pub const MAX_ID_BYTES: usize = 1024;

/// Whether `id` could name a stored resource or organization: non-empty, at most
/// [`MAX_ID_BYTES`] long, without NUL. An id that fails this names nothing (404).
///
/// ```
/// use scim_core::limits::is_storable_id;
/// assert!(is_storable_id("2819c223-7f76-453a-919d-413861904646"));
/// assert!(!is_storable_id("a\0b"));
/// assert!(!is_storable_id(&"x".repeat(10_000)));
/// assert!(!is_storable_id(""));
/// ```
pub fn is_storable_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_BYTES && !id.contains('\0')
}

/// Checks that every value of `attrs` can be stored (see the [module docs](self)):
/// `invalidValue` naming the attribute otherwise.
///
/// ```
/// use scim_core::limits::check_attributes;
/// use scim_core::ResourceKind;
/// use serde_json::json;
/// let rt = ResourceKind::User.resource_type();
/// let attrs = |v: serde_json::Value| v.as_object().unwrap().clone();
/// assert!(check_attributes(rt, &attrs(json!({"userName": "ada"}))).is_ok());
/// let err = check_attributes(rt, &attrs(json!({"userName": "a\u{0}b"}))).unwrap_err();
/// assert_eq!(err.scim_type(), Some(scim_core::ScimType::InvalidValue));
/// assert!(err.detail().contains("'userName'"), "{}", err.detail());
/// let err = check_attributes(rt, &attrs(json!({"emails": [{"value": "x".repeat(2000)}]})))
///     .unwrap_err();
/// assert!(err.detail().contains("'emails.value'"), "{}", err.detail());
/// ```
pub fn check_attributes(rt: &ResourceType, attrs: &Attributes) -> ScimResult<()> {
    check_keys(rt, attrs, attrs.keys().map(String::as_str))
}

/// Whether one value of the attribute `def` passes the checks of [`check_attributes`].
pub(crate) fn is_storable(def: &'static AttributeDef, value: &Value) -> bool {
    check_value(Some(def), value).is_ok()
}

/// [`check_attributes`] for the top-level keys in `keys` only (those a PATCH wrote); keys
/// that are not in `attrs` are skipped.
pub(crate) fn check_keys<'k>(
    rt: &ResourceType,
    attrs: &Attributes,
    keys: impl IntoIterator<Item = &'k str>,
) -> ScimResult<()> {
    for key in keys {
        let Some(value) = attrs.get(key) else {
            continue;
        };
        check_top(rt, key, value).map_err(|v| v.into_error(key))?;
    }
    Ok(())
}

/// One top-level key: `schemas`, an extension object, an unknown URN kept as sent, or a
/// core attribute.
fn check_top(rt: &ResourceType, key: &str, value: &Value) -> Result<(), Violation> {
    if is_urn(key)
        && let Some(ext) = rt.extension(key)
    {
        let Value::Object(inner) = value else {
            return check_value(None, value);
        };
        for (name, v) in inner {
            check_name(name).map_err(|e| e.at(name))?;
            check_value(ext.attribute(name), v).map_err(|e| e.at(name))?;
        }
        return Ok(());
    }
    check_name(key)?;
    let def = if key == "schemas" || is_urn(key) {
        None
    } else {
        rt.resolve(None, key).map(|r| r.def)
    };
    check_value(def, value)
}

/// One value of the attribute `def` (`None`: an attribute the schema does not define).
fn check_value(def: Option<&'static AttributeDef>, value: &Value) -> Result<(), Violation> {
    match value {
        Value::String(s) => check_string(def, s),
        Value::Array(items) => {
            let unbounded = def.is_some_and(|d| d.multi_valued && d.name == "members");
            if !unbounded && items.len() > MAX_VALUES {
                return Err(Violation::new(format!(
                    "has {} values; at most {MAX_VALUES} are accepted",
                    items.len()
                )));
            }
            // Elements of a multi-valued attribute have its definition; elements of a
            // single-valued or unknown one are unknown.
            let element = def.filter(|d| d.multi_valued);
            items.iter().try_for_each(|v| check_value(element, v))
        }
        Value::Object(map) => {
            for (name, v) in map {
                check_name(name).map_err(|e| e.at(name))?;
                let sub = def.and_then(|d| d.sub_attribute(name));
                check_value(sub, v).map_err(|e| e.at(name))?;
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

fn check_string(def: Option<&'static AttributeDef>, s: &str) -> Result<(), Violation> {
    if s.contains('\0') {
        return Err(Violation::new(
            "contains a NUL character (U+0000), which cannot be stored".to_string(),
        ));
    }
    let max = match def.map(|d| d.ty) {
        Some(AttributeType::String | AttributeType::DateTime) => MAX_VALUE_BYTES,
        _ => MAX_LONG_VALUE_BYTES,
    };
    if s.len() > max {
        return Err(Violation::new(format!(
            "is {} bytes long; at most {max} bytes are accepted",
            s.len()
        )));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), Violation> {
    if name.contains('\0') {
        return Err(Violation::new(
            "has an attribute name with a NUL character (U+0000)".to_string(),
        ));
    }
    if name.len() > MAX_LONG_VALUE_BYTES {
        return Err(Violation::new(format!(
            "has an attribute name of {} bytes; at most {MAX_LONG_VALUE_BYTES} are accepted",
            name.len()
        )));
    }
    Ok(())
}

/// A failed check: the reason, and the attribute path collected on the way out (innermost
/// first), so that a passing check allocates nothing.
struct Violation {
    reason: String,
    path: Vec<String>,
}

impl Violation {
    fn new(reason: String) -> Self {
        Violation {
            reason,
            path: Vec::new(),
        }
    }

    fn at(mut self, name: &str) -> Self {
        self.path.push(name.to_string());
        self
    }

    fn into_error(self, key: &str) -> ScimError {
        let mut path = printable(key);
        for name in self.path.iter().rev() {
            path.push('.');
            path.push_str(&printable(name));
        }
        ScimError::invalid_value(format!("'{path}' {}", self.reason))
    }
}

/// A name for an error message: NUL spelled out, at most 100 characters.
fn printable(name: &str) -> String {
    let mut out: String = name.chars().take(100).collect();
    if out.len() < name.len() {
        out.push('…');
    }
    out.replace('\0', "\\u0000")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScimType;
    use crate::schema::{ENTERPRISE_USER_URN, ResourceKind};
    use serde_json::json;

    fn check(kind: ResourceKind, v: Value) -> ScimResult<()> {
        let Value::Object(m) = v else {
            return Err(ScimError::invalid_syntax("not an object"));
        };
        check_attributes(kind.resource_type(), &m)
    }

    fn detail(kind: ResourceKind, v: Value) -> String {
        let err = check(kind, v).unwrap_err();
        assert_eq!(err.scim_type(), Some(ScimType::InvalidValue));
        err.detail().to_string()
    }

    #[test]
    fn nul_is_refused_everywhere_and_named() {
        use ResourceKind::{Group, User};
        let cases = [
            (User, json!({"userName": "a\u{0}"}), "'userName'"),
            (
                User,
                json!({"name": {"givenName": "\u{0}"}}),
                "'name.givenName'",
            ),
            (
                User,
                json!({"emails": [{"value": "a@b"}, {"value": "\u{0}"}]}),
                "'emails.value'",
            ),
            (
                User,
                json!({ENTERPRISE_USER_URN: {"manager": {"value": "m\u{0}"}}}),
                "'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.value'",
            ),
            (
                User,
                json!({ENTERPRISE_USER_URN: {"custom": ["x", "\u{0}"]}}),
                ".custom'",
            ),
            (
                User,
                json!({"urn:x:unknown": {"deep": {"deeper": "\u{0}"}}}),
                "'urn:x:unknown.deep.deeper'",
            ),
            (
                User,
                json!({"urn:x:unknown": {"k\u{0}": 1}}),
                "'urn:x:unknown.k\\u0000'",
            ),
            (User, json!({"schemas": ["urn:x\u{0}"]}), "'schemas'"),
            (
                Group,
                json!({"displayName": "g", "members": [{"value": "u\u{0}"}]}),
                "'members.value'",
            ),
        ];
        for (kind, body, path) in cases {
            let d = detail(kind, body.clone());
            assert!(d.contains(path) && d.contains("NUL"), "{body}: {d}");
        }
    }

    #[test]
    fn lengths_depend_on_the_attribute_type() {
        use ResourceKind::{Group, User};
        let at = |n: usize| "é".repeat(n / 2);
        // 1 024 bytes pass, 1 026 do not, counted in bytes (é is two).
        assert!(check(User, json!({"userName": at(MAX_VALUE_BYTES)})).is_ok());
        let d = detail(User, json!({"userName": at(MAX_VALUE_BYTES + 2)}));
        assert!(d.contains("1026 bytes") && d.contains("'userName'"), "{d}");
        for body in [
            json!({"externalId": "x".repeat(1025)}),
            json!({"displayName": "x".repeat(1025)}),
            json!({"emails": [{"value": "x".repeat(1025)}]}),
            json!({"emails": [{"value": "a", "type": "x".repeat(1025)}]}),
            json!({"name": {"familyName": "x".repeat(1025)}}),
        ] {
            detail(User, body);
        }
        detail(Group, json!({"displayName": "x".repeat(1025)}));
        // References, binaries and undefined attributes get the long limit.
        assert!(check(User, json!({"photos": [{"value": "x".repeat(5000)}]})).is_ok());
        assert!(check(User, json!({"urn:x:y": {"blob": "x".repeat(5000)}})).is_ok());
        detail(
            User,
            json!({"urn:x:y": {"blob": "x".repeat(MAX_LONG_VALUE_BYTES + 1)}}),
        );
    }

    #[test]
    fn counts_spare_members() {
        let many = |n: usize| {
            (0..n)
                .map(|i| json!({"value": format!("v{i}")}))
                .collect::<Vec<_>>()
        };
        let d = detail(ResourceKind::User, json!({"emails": many(MAX_VALUES + 1)}));
        assert!(d.contains("'emails'") && d.contains("1001 values"), "{d}");
        assert!(check(ResourceKind::User, json!({"emails": many(MAX_VALUES)})).is_ok());
        detail(
            ResourceKind::User,
            json!({"urn:x:y": {"list": vec![1; MAX_VALUES + 1]}}),
        );
        assert!(
            check(
                ResourceKind::Group,
                json!({"displayName": "all", "members": many(50_000)})
            )
            .is_ok()
        );
    }

    #[test]
    fn only_the_named_keys_are_checked() {
        let rt = ResourceKind::User.resource_type();
        let Value::Object(m) = json!({"userName": "ok", "title": "bad\u{0}"}) else {
            unreachable!()
        };
        assert!(check_keys(rt, &m, ["userName", "absent"]).is_ok());
        assert!(check_keys(rt, &m, ["title"]).is_err());
    }

    #[test]
    fn lone_surrogates_never_reach_a_string() {
        // serde_json refuses an unpaired surrogate escape, so no value can carry one.
        assert!(serde_json::from_str::<Value>(r#""\ud800""#).is_err());
        assert!(serde_json::from_str::<Value>(r#""\udc00x""#).is_err());
        assert!(serde_json::from_str::<Value>(r#""\ud83d\ude00""#).is_ok());
    }

    #[test]
    fn ids() {
        assert!(is_storable_id("x"));
        assert!(is_storable_id(&"x".repeat(MAX_ID_BYTES)));
        assert!(!is_storable_id(&"x".repeat(MAX_ID_BYTES + 1)));
        assert!(!is_storable_id("\0"));
    }
}
