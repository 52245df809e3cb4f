//! `remove` (RFC 7644 §3.5.2.2): unassigning an attribute or sub-attribute, removing the
//! values a filter selects, and Entra's removal of listed values. Removal is idempotent:
//! removing what is not there succeeds without a change.

use super::apply::Target;
use super::multi::{finish_items, identity, mask, matching, values_equal};
use super::value::{Touched, into_items, into_object, is_unassigned, non_empty, store, take};
use crate::error::{ScimError, ScimResult};
use crate::filter::{CompValue, CompareOp, Filter};
use crate::resource::{Attributes, normalize_single};
use crate::schema::{AttributeDef, AttributeType, Mutability};
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

/// A resolved `remove attr[value eq "needle"]` whose outcome does not depend on anything
/// but the values' `value`: a read-write, optional, multi-valued complex attribute whose
/// `value` is a case-exact string (group `members`), no sub-attribute in the path.
pub(super) struct ValueRemoval<'p> {
    target: Target<'p>,
    needle: &'p str,
}

impl ValueRemoval<'_> {
    /// Whether both remove values of the same attribute.
    pub(super) fn same_attribute(&self, other: &ValueRemoval<'_>) -> bool {
        self.target.ext == other.target.ext && std::ptr::eq(self.target.def, other.target.def)
    }
}

/// Recognises a [`ValueRemoval`]; `None` leaves the operation to [`remove_value`].
pub(super) fn value_removal(target: Target<'_>) -> Option<ValueRemoval<'_>> {
    let def = target.def;
    let value_def = def.sub_attribute("value")?;
    let plain = def.multi_valued
        && def.is_complex()
        && def.mutability == Mutability::ReadWrite
        && !def.required
        && !(target.ext.is_none() && def.name == "schemas")
        && target.sub.is_none()
        && value_def.case_exact
        && matches!(
            value_def.ty,
            AttributeType::String | AttributeType::Reference | AttributeType::Binary
        );
    if !plain {
        return None;
    }
    let (filter, _) = target.filter.as_ref()?;
    let Filter::Compare(path, CompareOp::Eq, CompValue::String(needle)) = filter else {
        return None;
    };
    if path.urn.is_some() || path.sub_attr.is_some() || !path.name.eq_ignore_ascii_case("value") {
        return None;
    }
    Some(ValueRemoval {
        needle: needle.as_str(),
        target,
    })
}

/// Applies a run of [`ValueRemoval`]s on one attribute in one pass: the same result as
/// applying them one by one (each removes the values it matches; removing what is not
/// there changes nothing; an emptied attribute is unassigned). A value whose `value` is a
/// plain string is looked up in a set of the needles; any other shape is tested with the
/// compiled filters, exactly as [`remove_value`] would.
pub(super) fn remove_by_values(
    attrs: &mut Attributes,
    touched: &mut Touched,
    run: &[ValueRemoval<'_>],
) {
    let Some(first) = run.first() else {
        return;
    };
    let (ext, name) = (first.target.ext, first.target.def.name);
    touched.mark(ext.unwrap_or(name));
    let current = take(attrs, ext, name).filter(|v| !is_unassigned(v));
    let new = current.and_then(|current| {
        let needles: HashSet<&str> = run.iter().map(|r| r.needle).collect();
        let mut items = into_items(Some(current));
        items.retain(|item| {
            let doomed = match item.as_object().and_then(|o| o.get("value")) {
                // An exact `value` key wins the filter's case-insensitive key lookup.
                Some(Value::String(s)) => needles.contains(s.as_str()),
                _ => run.iter().any(|r| {
                    r.target
                        .filter
                        .as_ref()
                        .is_some_and(|(_, compiled)| compiled.matches(item))
                }),
            };
            !doomed
        });
        non_empty(items)
    });
    store(attrs, ext, name, new);
}
