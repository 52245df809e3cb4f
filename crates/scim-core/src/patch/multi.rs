//! Multi-valued and complex attribute helpers shared by add, replace and remove: the
//! identity of a value and the index over it, merging sub-attributes, filter matches, and
//! the final touches (one primary, no emptied values) after an operation.

use super::value::non_empty;
use crate::error::{ScimError, ScimResult};
use crate::filter::CompiledFilter;
use crate::resource::normalize_value;
use crate::schema::{AttributeDef, Mutability};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The indices of the values a filter selects.
pub(super) fn matching(compiled: &CompiledFilter, items: &[Value]) -> Vec<usize> {
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| compiled.matches(item))
        .map(|(i, _)| i)
        .collect()
}

/// Merges sub-attributes into a complex value: listed sub-attributes are set (`null`
/// clears), others kept; read-only ones are ignored; changing a set immutable one is a
/// `mutability` error. Returns `None` when nothing is left.
pub(super) fn merge_complex(
    def: &'static AttributeDef,
    base: Option<Map<String, Value>>,
    patch: &Map<String, Value>,
) -> ScimResult<Option<Map<String, Value>>> {
    let mut out = base.unwrap_or_default();
    for (key, v) in patch {
        let Some(sub) = def.sub_attribute(key) else {
            // Unknown sub-attributes are kept as sent, like POST does.
            if v.is_null() {
                out.shift_remove(key);
            } else {
                out.insert(key.clone(), v.clone());
            }
            continue;
        };
        if matches!(sub.mutability, Mutability::ReadOnly | Mutability::WriteOnly) {
            continue;
        }
        let path = format!("{}.{}", def.name, sub.name);
        let nv = normalize_value(sub, v.clone(), &path)?;
        let existing_key = out
            .keys()
            .find(|k| k.eq_ignore_ascii_case(sub.name))
            .cloned();
        let existing = existing_key.as_ref().and_then(|k| out.get(k));
        if sub.mutability == Mutability::Immutable
            && let Some(existing) = existing
            && !existing.is_null()
            && *existing != nv
        {
            return Err(ScimError::mutability(format!(
                "'{path}' is immutable and already has a value"
            )));
        }
        if let Some(k) = &existing_key
            && k != sub.name
        {
            out.shift_remove(k);
        }
        if nv.is_null() {
            out.shift_remove(sub.name);
        } else {
            out.insert(sub.name.to_string(), nv);
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

/// Final touches on a multi-valued attribute after an operation: one primary at most (the
/// value this operation made primary wins, RFC 7643 §2.4), values this operation emptied
/// (`cleared`: it removed or cleared sub-attributes) are dropped, and an empty list is
/// unassigned.
pub(super) fn finish_items(
    def: &'static AttributeDef,
    mut items: Vec<Value>,
    touched: &[usize],
    cleared: bool,
) -> ScimResult<Option<Value>> {
    let touched = mask(items.len(), touched);
    let is_touched = |i: usize| touched.get(i).copied().unwrap_or(false);
    if def.is_complex() {
        let primaries: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, v)| is_primary(v))
            .map(|(i, _)| i)
            .collect();
        if primaries.len() > 1 {
            let winners: Vec<usize> = primaries
                .iter()
                .copied()
                .filter(|&i| is_touched(i))
                .collect();
            if winners.len() > 1 {
                return Err(ScimError::invalid_value(format!(
                    "at most one value of '{}' may be primary",
                    def.name
                )));
            }
            if let Some(&keep) = winners.first() {
                for i in primaries {
                    if i != keep
                        && let Some(Value::Object(m)) = items.get_mut(i)
                    {
                        m.insert("primary".into(), Value::Bool(false));
                    }
                }
            }
        }
    }
    let mut i = 0;
    items.retain(|v| {
        let keep = !is_touched(i) || (!cleared && !v.is_null()) || is_meaningful(def, v);
        i += 1;
        keep
    });
    Ok(non_empty(items))
}

pub(super) fn is_primary(v: &Value) -> bool {
    v.get("primary").and_then(Value::as_bool) == Some(true)
}

/// Whether a value still says something: a complex value with only `type`, `primary` or
/// `display` left (its `value` was cleared) is dropped.
pub(super) fn is_meaningful(def: &'static AttributeDef, v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Object(m) if def.is_complex() => m.iter().any(|(k, v)| {
            !v.is_null()
                && !["type", "primary", "display"]
                    .iter()
                    .any(|n| k.eq_ignore_ascii_case(n))
        }),
        _ => true,
    }
}

/// `flags[i]` is true for the listed indices.
pub(super) fn mask(len: usize, indices: &[usize]) -> Vec<bool> {
    let mut flags = vec![false; len];
    for &i in indices {
        if let Some(f) = flags.get_mut(i) {
            *f = true;
        }
    }
    flags
}

/// The identity of a value of a multi-valued attribute: two values are "the same value"
/// when their identities are equal. Complex values with a `value` sub-attribute are
/// identified by it (so re-adding a member is idempotent), simple values by themselves;
/// strings follow `caseExact`. `None`: the value is identified by its whole content.
pub(super) fn identity(def: &'static AttributeDef, v: &Value) -> Option<String> {
    let (key_def, key) = if def.is_complex() {
        (def.sub_attribute("value")?, v.get("value")?)
    } else {
        (def, v)
    };
    Some(match key {
        Value::String(s) if key_def.case_exact => format!("s{s}"),
        Value::String(s) => format!("s{}", s.to_lowercase()),
        other => format!("j{other}"),
    })
}

/// The values of a multi-valued attribute indexed by [`identity`], so that adding many
/// members to a large group stays linear.
pub(super) struct ValueIndex {
    by_key: HashMap<String, usize>,
    /// Values without an identity, compared whole.
    keyless: Vec<usize>,
}

impl ValueIndex {
    pub(super) fn new(def: &'static AttributeDef, items: &[Value]) -> Self {
        let mut index = ValueIndex {
            by_key: HashMap::with_capacity(items.len()),
            keyless: Vec::new(),
        };
        for (i, item) in items.iter().enumerate() {
            index.insert(def, i, item);
        }
        index
    }

    pub(super) fn insert(&mut self, def: &'static AttributeDef, i: usize, item: &Value) {
        match identity(def, item) {
            Some(k) => {
                self.by_key.entry(k).or_insert(i);
            }
            None => self.keyless.push(i),
        }
    }

    pub(super) fn find(
        &self,
        def: &'static AttributeDef,
        items: &[Value],
        item: &Value,
    ) -> Option<usize> {
        match identity(def, item) {
            Some(k) => self.by_key.get(&k).copied(),
            None => self
                .keyless
                .iter()
                .copied()
                .find(|&i| items.get(i) == Some(item)),
        }
    }
}

pub(super) fn values_equal(def: &'static AttributeDef, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if !def.case_exact => {
            x == y || x.to_lowercase() == y.to_lowercase()
        }
        _ => a == b,
    }
}
