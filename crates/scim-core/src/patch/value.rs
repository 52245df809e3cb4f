//! Small value helpers of the PATCH engine: what counts as unassigned, `""` as `null`,
//! conversions, and moving an attribute out of and back into the working copy (core or
//! extension) without cloning it.

use crate::error::ScimResult;
use crate::resource::Attributes;
use crate::schema::ResourceType;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// The top-level keys (attribute names, extension URNs, unknown keys) the operations may
/// have written, so that `changed` compares only those instead of the whole resource (a
/// group's whole member list), and the subset `add`/`replace` wrote new values into, the
/// only ones the storage limits need to check again (a removal leaves a part of what was
/// already stored).
#[derive(Debug, Default)]
pub(super) struct Touched {
    keys: HashSet<String>,
    added: HashSet<String>,
}

impl Touched {
    /// Records that `key` may have lost values (a removal).
    pub(super) fn mark(&mut self, key: &str) {
        if !self.keys.contains(key) {
            self.keys.insert(key.to_string());
        }
    }

    /// Records that `key` may have new values (`add`, `replace`).
    pub(super) fn mark_added(&mut self, key: &str) {
        self.mark(key);
        if !self.added.contains(key) {
            self.added.insert(key.to_string());
        }
    }

    /// Whether `after` differs from `before`, given that only marked keys were written.
    pub(super) fn differ(&self, before: &Attributes, after: &Attributes) -> bool {
        self.keys.iter().any(|k| before.get(k) != after.get(k))
    }

    /// [`crate::limits::check_attributes`] on the keys of `after` that got new values.
    pub(super) fn check(&self, rt: &ResourceType, after: &Attributes) -> ScimResult<()> {
        crate::limits::check_keys(rt, after, self.added.iter().map(String::as_str))
    }
}

pub(super) fn single_key(name: &str, value: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(name.to_string(), value);
    m
}

pub(super) fn into_object(v: Value) -> Option<Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

pub(super) fn into_items(v: Option<Value>) -> Vec<Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
    }
}

pub(super) fn non_empty(items: Vec<Value>) -> Option<Value> {
    (!items.is_empty()).then_some(Value::Array(items))
}

/// `null`, `""`, `[]` and `{}` are unassigned (RFC 7643 §2.5; Entra clears with `""`).
pub(super) fn is_unassigned(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// Turns every `""` into `null`: in a PATCH value an empty string clears (Entra's null-update
/// test replaces attributes with `""`).
pub(super) fn blank_to_null(mut v: Value) -> Value {
    blank_to_null_in_place(&mut v);
    v
}

pub(super) fn blank_to_null_in_place(v: &mut Value) {
    match v {
        Value::String(s) if s.is_empty() => *v = Value::Null,
        Value::Array(items) => items.iter_mut().for_each(blank_to_null_in_place),
        Value::Object(m) => m.values_mut().for_each(blank_to_null_in_place),
        _ => {}
    }
}

/// Moves an attribute's value out of the map, leaving `null` in its place (so that
/// [`store`] puts the new value back at the same position).
pub(super) fn take(attrs: &mut Attributes, ext: Option<&str>, name: &str) -> Option<Value> {
    let slot = match ext {
        None => attrs.get_mut(name),
        Some(urn) => attrs.get_mut(urn)?.get_mut(name),
    };
    slot.map(Value::take)
}

/// Runs `f` on the object of an extension (created when missing), then drops the object
/// if it ended up empty.
pub(super) fn with_extension(
    attrs: &mut Attributes,
    urn: &str,
    f: impl FnOnce(&mut Map<String, Value>),
) {
    let slot = attrs
        .entry(urn.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(m) = slot {
        f(m);
    }
    drop_empty_extension(attrs, urn);
}

pub(super) fn drop_empty_extension(attrs: &mut Attributes, urn: &str) {
    if attrs
        .get(urn)
        .is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
    {
        attrs.shift_remove(urn);
    }
}

pub(super) fn store(attrs: &mut Attributes, ext: Option<&str>, name: &str, new: Option<Value>) {
    match ext {
        None => match new {
            Some(v) => {
                attrs.insert(name.to_string(), v);
            }
            None => {
                attrs.shift_remove(name);
            }
        },
        Some(urn) => with_extension(attrs, urn, |slot| match new {
            Some(v) => {
                slot.insert(name.to_string(), v);
            }
            None => {
                slot.shift_remove(name);
            }
        }),
    }
}
