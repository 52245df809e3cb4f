//! `add` and `replace` (RFC 7644 §3.5.2.1, §3.5.2.3): setting a whole attribute, one
//! sub-attribute of every value, or the values a filter selects (creating the value an
//! `eq`-only filter describes when nothing matches, as Entra expects).

use super::apply::Target;
use super::multi::{ValueIndex, finish_items, matching, merge_complex};
use super::request::PatchOpKind;
use super::value::{into_items, into_object, non_empty, single_key};
use crate::error::{ScimError, ScimResult};
use crate::filter::{CompValue, CompareOp, CompiledFilter, Filter};
use crate::resource::{normalize_single, normalize_value};
use crate::schema::{AttributeDef, Mutability};
use serde_json::{Map, Value};

pub(super) fn set_value(
    kind: PatchOpKind,
    target: &Target<'_>,
    current: Option<Value>,
    raw: Value,
) -> ScimResult<Option<Value>> {
    let def = target.def;
    match (&target.filter, target.sub) {
        (None, None) => set_whole(kind, def, current, raw),
        (None, Some(sub)) => {
            if raw.is_null() && kind == PatchOpKind::Add {
                return Ok(current);
            }
            let cleared = raw.is_null();
            let patch = single_key(sub.name, raw);
            if !def.multi_valued {
                let base = current.and_then(into_object);
                return merge_complex(def, base, &patch).map(|m| m.map(Value::Object));
            }
            let mut items = into_items(current);
            if items.is_empty() {
                // `emails.value` on a user without emails: the new value becomes the element.
                return Ok(
                    merge_complex(def, None, &patch)?.map(|m| Value::Array(vec![Value::Object(m)]))
                );
            }
            let all: Vec<usize> = (0..items.len()).collect();
            for item in &mut items {
                let base = into_object(item.take());
                *item = merge_complex(def, base, &patch)?.map_or(Value::Null, Value::Object);
            }
            finish_items(def, items, &all, cleared)
        }
        (Some((filter, compiled)), sub) => {
            set_filtered(def, filter, compiled, sub, current, raw, &target.text)
        }
    }
}

/// `add`/`replace` of a whole attribute.
fn set_whole(
    kind: PatchOpKind,
    def: &'static AttributeDef,
    current: Option<Value>,
    raw: Value,
) -> ScimResult<Option<Value>> {
    if def.multi_valued {
        let raw = match raw {
            // The one lone value accepted for a multi-valued attribute: a bare member id
            // (`{"op":"add","path":"members","value":"<id>"}`), which Microsoft's
            // SCIMReferenceCode test collection sends and expects to succeed. Every other
            // lone value (an object, or a string for another attribute) is `invalidValue`.
            Value::String(id) if def.name == "members" => Value::Array(vec![Value::String(id)]),
            other => other,
        };
        let new_items = match normalize_value(def, raw, def.name)? {
            Value::Null => Vec::new(),
            Value::Array(items) => items,
            other => vec![other],
        };
        return match kind {
            PatchOpKind::Replace => {
                // Wholesale, but without duplicates (the same member listed twice).
                let mut items = Vec::with_capacity(new_items.len());
                let mut index = ValueIndex::new(def, &items);
                for item in new_items {
                    add_item(def, &mut items, &mut index, item)?;
                }
                Ok(non_empty(items))
            }
            _ => {
                let mut items = into_items(current);
                let mut index = ValueIndex::new(def, &items);
                let mut touched = Vec::new();
                for item in new_items {
                    touched.push(add_item(def, &mut items, &mut index, item)?);
                }
                finish_items(def, items, &touched, false)
            }
        };
    }
    if def.is_complex()
        && let Value::Object(obj) = &raw
    {
        // Complex: the listed sub-attributes are set, the others are kept.
        let base = current.and_then(into_object);
        return merge_complex(def, base, obj).map(|m| m.map(Value::Object));
    }
    match normalize_value(def, raw, def.name)? {
        Value::Null if kind == PatchOpKind::Add => Ok(current),
        Value::Null => Ok(None),
        v => Ok(Some(v)),
    }
}

/// Adds one normalised value to a multi-valued attribute unless an equal value is present
/// (then its sub-attributes are merged into that value). Returns the index of the value.
fn add_item(
    def: &'static AttributeDef,
    items: &mut Vec<Value>,
    index: &mut ValueIndex,
    item: Value,
) -> ScimResult<usize> {
    let Some(idx) = index.find(def, items, &item) else {
        let idx = items.len();
        index.insert(def, idx, &item);
        items.push(item);
        return Ok(idx);
    };
    if let (Some(slot), Value::Object(new)) = (items.get_mut(idx), &item)
        && slot.is_object()
    {
        // The stored `value` wins (it is the same value, maybe in another letter case).
        let mut new = new.clone();
        new.retain(|k, _| !k.eq_ignore_ascii_case("value"));
        let base = into_object(slot.take());
        *slot = merge_complex(def, base, &new)?.map_or(Value::Null, Value::Object);
    }
    Ok(idx)
}

/// `add`/`replace` through a value filter.
fn set_filtered(
    def: &'static AttributeDef,
    filter: &Filter,
    compiled: &CompiledFilter,
    sub: Option<&'static AttributeDef>,
    current: Option<Value>,
    raw: Value,
    text: &str,
) -> ScimResult<Option<Value>> {
    let mut items = into_items(current.clone());
    let matched = matching(compiled, &items);
    let patch = match sub {
        Some(sub) => single_key(sub.name, raw.clone()),
        None => element_patch(def, raw.clone())?,
    };
    if matched.is_empty() {
        if raw.is_null() {
            // Clearing something that is not there.
            return Ok(current);
        }
        let Some(seed) = seed_from_filter(def, filter) else {
            return Err(ScimError::no_target(format!(
                "'{text}' matches no value, and its filter does not describe a new one"
            )));
        };
        let Some(element) = merge_complex(def, Some(seed), &patch)? else {
            return Ok(current);
        };
        items.push(Value::Object(element));
        let last = items.len() - 1;
        return finish_items(def, items, &[last], false);
    }
    for &i in &matched {
        if let Some(item) = items.get_mut(i) {
            let base = into_object(item.take());
            *item = merge_complex(def, base, &patch)?.map_or(Value::Null, Value::Object);
        }
    }
    let cleared = raw.is_null() || patch.values().any(Value::is_null);
    finish_items(def, items, &matched, cleared)
}

/// The sub-attributes to merge into each value selected by a filter: an object, or a bare
/// value wrapped as `{"value": ...}` (a one-element array is unwrapped).
fn element_patch(def: &'static AttributeDef, raw: Value) -> ScimResult<Map<String, Value>> {
    let raw = match raw {
        Value::Array(mut items) if items.len() <= 1 => items.pop().unwrap_or(Value::Null),
        Value::Array(_) => {
            return Err(ScimError::invalid_value(format!(
                "a value filter on '{}' selects single values; give one value, not an array",
                def.name
            )));
        }
        other => other,
    };
    match raw {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => Ok(m),
        scalar => match normalize_single(def, scalar, def.name)? {
            Value::Object(m) => Ok(m),
            _ => Ok(Map::new()),
        },
    }
}

/// The element an `eq`-only filter describes: `type eq "work" and primary eq true` gives
/// `{"type": "work", "primary": true}`. `None` when the filter uses anything else.
fn seed_from_filter(def: &'static AttributeDef, filter: &Filter) -> Option<Map<String, Value>> {
    fn collect(def: &'static AttributeDef, f: &Filter, out: &mut Map<String, Value>) -> bool {
        match f {
            Filter::And(a, b) => collect(def, a, out) && collect(def, b, out),
            Filter::Compare(path, CompareOp::Eq, value) => {
                if path.sub_attr.is_some() {
                    return false;
                }
                let Some(sub) = def.sub_attribute(&path.name) else {
                    return false;
                };
                if sub.mutability == Mutability::ReadOnly || sub.multi_valued {
                    return false;
                }
                let raw = match value {
                    CompValue::Null => return false,
                    CompValue::Bool(b) => Value::Bool(*b),
                    CompValue::Number(n) => Value::Number(n.clone()),
                    CompValue::String(s) => Value::String(s.clone()),
                };
                let Ok(v) = normalize_single(sub, raw, sub.name) else {
                    return false;
                };
                if v.is_null() {
                    return false;
                }
                match out.get(sub.name) {
                    Some(existing) if *existing != v => false,
                    _ => {
                        out.insert(sub.name.to_string(), v);
                        true
                    }
                }
            }
            _ => false,
        }
    }
    if !def.is_complex() {
        return None;
    }
    let mut out = Map::new();
    (collect(def, filter, &mut out) && !out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seeds_come_only_from_eq_and_conjunctions() {
        use crate::filter::parse_filter;
        let emails = crate::schema::USER.attribute("emails").unwrap();
        let seed = |f: &str| seed_from_filter(emails, &parse_filter(f).unwrap());
        assert_eq!(
            seed(r#"type eq "work" and primary eq "True""#).map(Value::Object),
            Some(json!({"type": "work", "primary": true}))
        );
        assert_eq!(
            seed(r#"TYPE eq "work""#).map(Value::Object),
            Some(json!({"type": "work"}))
        );
        for f in [
            r#"type ne "work""#,
            r#"type eq "work" or type eq "home""#,
            r#"not (type eq "work")"#,
            r#"type pr"#,
            r#"type eq null"#,
            r#"type eq "work" and type eq "home""#,
            r#"value co "@x""#,
            r#"nope eq "x""#,
            r#"primary eq "maybe""#,
        ] {
            assert_eq!(seed(f), None, "{f}");
        }
    }
}
