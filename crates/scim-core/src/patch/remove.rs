//! `remove` (RFC 7644 §3.5.2.2): unassigning an attribute or sub-attribute, removing the
//! values a filter selects, and Entra's removal of listed values. Removal is idempotent:
//! removing what is not there succeeds without a change.

use super::apply::Target;
use super::multi::{finish_items, identity, mask, matching, values_equal};
use super::value::{into_items, into_object, non_empty};
use crate::error::{ScimError, ScimResult};
use crate::resource::normalize_single;
use crate::schema::{AttributeDef, Mutability};
use serde_json::{Map, Value};
use std::collections::HashSet;

pub(super) fn remove_value(
    target: &Target<'_>,
    current: Option<Value>,
    value: Option<&Value>,
) -> ScimResult<Option<Value>> {
    let def = target.def;
    // Removing what is not there succeeds without a change (see the module docs).
    let Some(current) = current else {
        return Ok(None);
    };
    match (&target.filter, target.sub) {
        (None, None) => match value {
            Some(listed) if def.multi_valued && !listed.is_null() => {
                remove_listed(def, into_items(Some(current)), listed)
            }
            _ => Ok(None),
        },
        (None, Some(sub)) => {
            if !def.multi_valued {
                let mut obj = into_object(current).unwrap_or_default();
                remove_sub(sub, &mut obj, &target.text)?;
                return Ok((!obj.is_empty()).then_some(Value::Object(obj)));
            }
            let mut items = into_items(Some(current));
            for item in &mut items {
                if let Value::Object(obj) = item {
                    remove_sub(sub, obj, &target.text)?;
                }
            }
            let all: Vec<usize> = (0..items.len()).collect();
            finish_items(def, items, &all, true)
        }
        (Some((_, compiled)), sub) => {
            let mut items = into_items(Some(current));
            let matched = matching(compiled, &items);
            match sub {
                None => {
                    let doomed = mask(items.len(), &matched);
                    let mut flags = doomed.iter();
                    items.retain(|_| !flags.next().copied().unwrap_or(false));
                    Ok(non_empty(items))
                }
                Some(sub) => {
                    for &i in &matched {
                        if let Some(Value::Object(obj)) = items.get_mut(i) {
                            remove_sub(sub, obj, &target.text)?;
                        }
                    }
                    finish_items(def, items, &matched, true)
                }
            }
        }
    }
}

fn remove_sub(
    sub: &'static AttributeDef,
    obj: &mut Map<String, Value>,
    text: &str,
) -> ScimResult<()> {
    let Some(key) = obj
        .keys()
        .find(|k| k.eq_ignore_ascii_case(sub.name))
        .cloned()
    else {
        return Ok(());
    };
    if sub.mutability == Mutability::Immutable {
        return Err(ScimError::mutability(format!(
            "'{text}' is immutable and cannot be removed"
        )));
    }
    obj.shift_remove(&key);
    Ok(())
}

/// Entra's `{"op":"Remove","path":"members","value":[{"value":"id"}]}`: removes only the
/// listed values, never the whole attribute.
fn remove_listed(
    def: &'static AttributeDef,
    mut items: Vec<Value>,
    listed: &Value,
) -> ScimResult<Option<Value>> {
    let raw = match listed {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    let mut wanted = Vec::new();
    for item in raw {
        let v = normalize_single(def, item, def.name)?;
        match &v {
            Value::Null => {}
            Value::Object(m) if m.is_empty() => {}
            _ => wanted.push(v),
        }
    }
    let mut keys = HashSet::new();
    let mut others = Vec::new();
    for w in wanted {
        match identity(def, &w) {
            Some(k) => {
                keys.insert(k);
            }
            None => others.push(w),
        }
    }
    items.retain(|e| {
        let by_key = identity(def, e).is_some_and(|k| keys.contains(&k));
        !by_key && !others.iter().any(|w| listed_matches(def, e, w))
    });
    Ok(non_empty(items))
}

fn listed_matches(def: &'static AttributeDef, element: &Value, wanted: &Value) -> bool {
    match (element, wanted) {
        (Value::Object(e), Value::Object(w)) => {
            if let (Some(value_def), Some(wv)) = (def.sub_attribute("value"), w.get("value")) {
                return e
                    .get("value")
                    .is_some_and(|ev| values_equal(value_def, ev, wv));
            }
            w.iter().all(|(k, wv)| {
                let sub = def.sub_attribute(k);
                e.get(k).is_some_and(|ev| match sub {
                    Some(sub) => values_equal(sub, ev, wv),
                    None => ev == wv,
                })
            })
        }
        _ => values_equal(def, element, wanted),
    }
}
