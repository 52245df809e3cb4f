//! PUT: replacing a resource's attributes with a client's full representation
//! (RFC 7644 §3.5.1).
//!
//! The body is parsed exactly like a POST body ([`parse_resource`]): read-only values
//! (`id`, `meta`, `groups`) are ignored, so Okta's read-modify-write PUT, which echoes
//! everything the server returned, is accepted; `password` is discarded; required
//! attributes must be present. Attributes the body omits are cleared, extension data
//! included. Two rules protect what a client may not change:
//!
//! - an `immutable` attribute that already has a value must be sent with the same value
//!   (`mutability` otherwise); when omitted, its value is kept, since it cannot be cleared;
//! - read-only attributes of the existing resource (a user's `groups`, when the store
//!   loaded them) are carried over unchanged: they are derived, not replaced.

use crate::error::{ScimError, ScimResult};
use crate::resource::{Attributes, parse_resource_in};
use crate::schema::{AttributeDef, Mutability, ResourceKind, ResourceType};
use serde_json::Value;

/// Replaces a resource's attributes with a PUT body and returns the new attributes.
///
/// ```
/// use scim_core::replace::replace_resource;
/// use scim_core::resource::parse_resource;
/// use scim_core::ResourceKind;
/// use serde_json::json;
///
/// let existing = parse_resource(ResourceKind::User,
///     &json!({"userName": "ada", "title": "Engineer", "nickName": "Ada"})).unwrap();
/// // Okta echoes `id` and `meta` from its GET and drops `nickName`.
/// let body = json!({"id": "42", "meta": {"resourceType": "User"},
///                   "userName": "ada", "title": "CTO", "active": "False"});
/// let new = replace_resource(ResourceKind::User, &existing, &body).unwrap();
/// assert_eq!(new["title"], "CTO");
/// assert_eq!(new["active"], false);
/// assert!(new.get("nickName").is_none());
/// assert!(new.get("id").is_none());
/// ```
pub fn replace_resource(
    kind: ResourceKind,
    existing: &Attributes,
    body: &Value,
) -> ScimResult<Attributes> {
    replace_resource_in(kind.resource_type(), existing, body)
}

/// [`replace_resource`] against a tenant's resource type. Values the client cannot see
/// are kept, not cleared: those under a withheld (removed) extension, and those of
/// attributes a closed extension no longer defines.
pub fn replace_resource_in(
    rt: &'static ResourceType,
    existing: &Attributes,
    body: &Value,
) -> ScimResult<Attributes> {
    let mut new = parse_resource_in(rt, body)?;
    keep_hidden(rt, existing, &mut new);
    let scopes = std::iter::once((None, rt.schema.attributes)).chain(
        rt.extensions
            .iter()
            .map(|e| (Some(e.schema.id), e.schema.attributes)),
    );
    for (ext, defs) in scopes {
        for def in defs {
            carry_over(&mut new, existing, ext, def)?;
        }
    }
    Ok(new)
}

/// Carries over what [`crate::projection`] withholds from every response, so a PUT (which
/// cannot have seen it) does not erase it.
fn keep_hidden(rt: &ResourceType, existing: &Attributes, new: &mut Attributes) {
    if !rt.withheld.is_empty() {
        for (key, value) in existing {
            if rt.is_withheld(key) {
                new.insert(key.clone(), value.clone());
            }
        }
    }
    for ext in rt.extensions.iter().filter(|e| e.schema.closed) {
        let Some(Value::Object(old)) = existing.get(ext.schema.id) else {
            continue;
        };
        let hidden: Vec<(&String, &Value)> = old
            .iter()
            .filter(|(k, _)| ext.schema.attribute(k).is_none())
            .collect();
        if hidden.is_empty() {
            continue;
        }
        let slot = new
            .entry(ext.schema.id.to_string())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Value::Object(m) = slot {
            for (k, v) in hidden {
                m.insert(k.clone(), v.clone());
            }
        }
    }
}

fn carry_over(
    new: &mut Attributes,
    existing: &Attributes,
    ext: Option<&'static str>,
    def: &'static AttributeDef,
) -> ScimResult<()> {
    let old = lookup(existing, ext, def.name)
        .filter(|v| !v.is_null())
        .cloned();
    match def.mutability {
        Mutability::ReadOnly => {
            match old {
                Some(v) => put(new, ext, def.name, v),
                None => remove(new, ext, def.name),
            }
            Ok(())
        }
        Mutability::Immutable => {
            let Some(old) = old else {
                return Ok(());
            };
            match lookup(new, ext, def.name) {
                None | Some(Value::Null) => {
                    put(new, ext, def.name, old);
                    Ok(())
                }
                Some(v) if *v == old => Ok(()),
                Some(_) => Err(ScimError::mutability(format!(
                    "'{}' is immutable; a PUT must send its current value",
                    def.name
                ))),
            }
        }
        Mutability::ReadWrite | Mutability::WriteOnly => Ok(()),
    }
}

fn lookup<'a>(attrs: &'a Attributes, ext: Option<&str>, name: &str) -> Option<&'a Value> {
    match ext {
        None => attrs.get(name),
        Some(urn) => attrs.get(urn)?.get(name),
    }
}

fn put(attrs: &mut Attributes, ext: Option<&str>, name: &str, value: Value) {
    match ext {
        None => {
            attrs.insert(name.to_string(), value);
        }
        Some(urn) => {
            let slot = attrs
                .entry(urn.to_string())
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(m) = slot {
                m.insert(name.to_string(), value);
            }
        }
    }
}

fn remove(attrs: &mut Attributes, ext: Option<&str>, name: &str) {
    match ext {
        None => {
            attrs.shift_remove(name);
        }
        Some(urn) => {
            if let Some(Value::Object(m)) = attrs.get_mut(urn) {
                m.shift_remove(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScimType;
    use serde_json::json;

    /// No core attribute is `immutable` at the top level, so the rule is tested on a
    /// made-up one.
    static BADGE: AttributeDef = AttributeDef {
        mutability: Mutability::Immutable,
        ..AttributeDef::string("badge", "An immutable test attribute.")
    };

    fn attrs(v: Value) -> Attributes {
        match v {
            Value::Object(m) => m,
            _ => Attributes::new(),
        }
    }

    #[test]
    fn immutable_must_match_and_is_kept_when_omitted() {
        let existing = attrs(json!({"badge": "B-1"}));
        let mut same = attrs(json!({"badge": "B-1"}));
        carry_over(&mut same, &existing, None, &BADGE).unwrap();
        assert_eq!(same["badge"], "B-1");
        let mut omitted = Attributes::new();
        carry_over(&mut omitted, &existing, None, &BADGE).unwrap();
        assert_eq!(omitted["badge"], "B-1");
        let mut changed = attrs(json!({"badge": "B-2"}));
        let e = carry_over(&mut changed, &existing, None, &BADGE).unwrap_err();
        assert_eq!(e.scim_type(), Some(ScimType::Mutability));
        // Without a current value, any value may be set.
        let mut first = attrs(json!({"badge": "B-2"}));
        carry_over(&mut first, &Attributes::new(), None, &BADGE).unwrap();
        assert_eq!(first["badge"], "B-2");
    }
}
