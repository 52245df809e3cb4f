//! Applying PATCH operations to a canonical attribute map (RFC 7644 §3.5.2).
//!
//! Every operation is resolved against the schema first (attribute, sub-attribute,
//! mutability), then its value is normalised exactly like a POST body
//! ([`crate::resource::normalize_value`]), then the operation is applied to the working copy.
//! The rules where the RFC or the identity providers leave room are listed in the
//! [module documentation](super).

use super::request::{PatchOpKind, PatchOperation, PatchRequest, parse_patch_path};
use crate::error::{ScimError, ScimResult};
use crate::filter::{CompValue, CompareOp, CompiledFilter, Filter};
use crate::path::PatchPath;
use crate::resource::{Attributes, check_required, is_urn, normalize_single, normalize_value};
use crate::schema::{AttributeDef, Mutability, ResourceKind, ResourceType};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// The result of applying a PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOutcome {
    /// The attributes after every operation.
    pub attributes: Attributes,
    /// Whether the attributes differ from the input. When `false` the caller must not bump
    /// the resource's version or `meta.lastModified` (RFC 7644 §3.5.2.1).
    pub changed: bool,
}

/// Applies a PATCH request to a resource's canonical attributes.
///
/// The request is atomic: the operations run in order on a copy, and the first failing
/// operation fails the whole request (its index is prefixed to the error detail) while
/// `attrs` stays untouched. The result must still carry every required attribute.
///
/// ```
/// use scim_core::patch::{PatchRequest, apply_patch};
/// use scim_core::resource::parse_resource;
/// use scim_core::ResourceKind;
/// use serde_json::json;
///
/// // Another service keeps its users as SCIM JSON and receives Okta's deactivation.
/// let stored = json!({"userName": "ada@example.com", "active": true,
///                     "emails": [{"value": "ada@example.com", "type": "work", "primary": true}]});
/// let attrs = parse_resource(ResourceKind::User, &stored).unwrap();
/// let body = json!({
///     "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
///     "Operations": [
///         {"op": "replace", "value": {"active": false}},
///         {"op": "Add", "path": "emails[type eq \"home\"].value", "value": "ada@home.example"}
///     ]
/// });
/// let request = PatchRequest::from_json(&body).unwrap();
/// let outcome = apply_patch(ResourceKind::User, &attrs, &request).unwrap();
/// assert!(outcome.changed);
/// assert_eq!(outcome.attributes["active"], false);
/// assert_eq!(outcome.attributes["emails"][1], json!({"type": "home", "value": "ada@home.example"}));
///
/// // Sending it again changes nothing: the caller keeps the version and lastModified.
/// let again = apply_patch(ResourceKind::User, &outcome.attributes, &request).unwrap();
/// assert!(!again.changed);
/// ```
pub fn apply_patch(
    kind: ResourceKind,
    attrs: &Attributes,
    request: &PatchRequest,
) -> ScimResult<PatchOutcome> {
    let rt = kind.resource_type();
    let mut work = attrs.clone();
    for (i, op) in request.operations.iter().enumerate() {
        apply_operation(rt, &mut work, op)
            .map_err(|e| e.with_context(format!("Operations[{i}]")))?;
    }
    // A PATCH that leaves a required attribute unassigned is a mutability error
    // (RFC 7644 §3.5.2: "... is defined as a required attribute ... 'mutability'").
    check_required(rt, &work).map_err(|e| ScimError::mutability(e.detail().to_string()))?;
    let changed = work != *attrs;
    Ok(PatchOutcome {
        attributes: work,
        changed,
    })
}

/// How an operation reached its target: through an explicit `path`, or through a key of a
/// path-less `value` object. Read-only targets are errors in the first case and skipped in
/// the second (Okta's group rename sends `id`; read-modify-write clients echo `meta`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Path,
    ValueKey,
}

/// A resolved target.
struct Target<'p> {
    ext: Option<&'static str>,
    def: &'static AttributeDef,
    /// The value filter, with its compiled form (compiled when the path is resolved, so
    /// an unusable filter is an error whatever the data).
    filter: Option<(&'p Filter, CompiledFilter)>,
    sub: Option<&'static AttributeDef>,
    /// The path as the client wrote it, for error details.
    text: String,
}

fn apply_operation(
    rt: &'static ResourceType,
    attrs: &mut Attributes,
    op: &PatchOperation,
) -> ScimResult<()> {
    let value = op.value.as_ref().unwrap_or(&Value::Null);
    let Some(path) = &op.path else {
        return match value {
            Value::Object(obj) => apply_value_object(rt, attrs, op.op, None, obj),
            _ => Err(ScimError::invalid_value(format!(
                "a '{}' operation without a 'path' requires an object 'value' of attributes",
                op.op
            ))),
        };
    };
    if let Some(scope) = schema_scope(rt, path) {
        return apply_to_schema(rt, attrs, op.op, scope, value);
    }
    let target = resolve(rt, path)?.ok_or_else(|| {
        ScimError::invalid_path(format!(
            "'{}' is not an attribute of the {} resource type",
            path_text(path),
            rt.name
        ))
    })?;
    apply_target(attrs, op.op, &target, op.value.as_ref(), Via::Path)
}

/// The schema a path names when it is exactly a schema URN: `Some(None)` for the core
/// schema, `Some(Some(urn))` for an extension.
fn schema_scope(rt: &'static ResourceType, path: &PatchPath) -> Option<Option<&'static str>> {
    let full = path.as_schema_urn()?;
    if rt.schema.id.eq_ignore_ascii_case(&full) {
        return Some(None);
    }
    rt.extension(&full).map(|s| Some(s.id))
}

/// An operation whose path is a whole schema: `add`/`replace` apply the value object to
/// that schema's attributes; `remove` of an extension removes all its attributes.
fn apply_to_schema(
    rt: &'static ResourceType,
    attrs: &mut Attributes,
    kind: PatchOpKind,
    scope: Option<&'static str>,
    value: &Value,
) -> ScimResult<()> {
    match (kind, scope, value) {
        (PatchOpKind::Remove, None, _) => Err(ScimError::mutability(
            "the core schema cannot be removed from a resource",
        )),
        (PatchOpKind::Remove, Some(urn), _) => {
            attrs.shift_remove(urn);
            Ok(())
        }
        (_, _, Value::Object(obj)) => apply_value_object(rt, attrs, kind, scope, obj),
        (_, _, Value::Null) if kind == PatchOpKind::Replace => {
            if let Some(urn) = scope {
                attrs.shift_remove(urn);
                Ok(())
            } else {
                Err(ScimError::mutability(
                    "the core schema cannot be removed from a resource",
                ))
            }
        }
        _ => Err(ScimError::invalid_value(
            "the value of an operation on a whole schema must be an object of attributes",
        )),
    }
}

/// Applies a path-less `add`/`replace` value: every key is an attribute name, a dotted
/// `attr.sub` path, a URN-qualified attribute, or a schema URN holding an object.
fn apply_value_object(
    rt: &'static ResourceType,
    attrs: &mut Attributes,
    kind: PatchOpKind,
    scope: Option<&'static str>,
    obj: &Map<String, Value>,
) -> ScimResult<()> {
    for (key, value) in obj {
        let key = key.trim();
        if let Some(urn) = scope {
            apply_extension_key(rt, attrs, kind, urn, key, value)?;
            continue;
        }
        if key.eq_ignore_ascii_case("schemas") {
            // The server derives `schemas`; a client echo is ignored.
            continue;
        }
        if is_urn(key) {
            if rt.schema.id.eq_ignore_ascii_case(key) {
                let inner = expect_object(key, value)?;
                apply_value_object(rt, attrs, kind, None, inner)?;
                continue;
            }
            if let Some(ext) = rt.extension(key) {
                let inner = expect_object(key, value)?;
                apply_value_object(rt, attrs, kind, Some(ext.id), inner)?;
                continue;
            }
            if let Ok(path) = parse_patch_path(key)
                && let Some(target) = resolve_lenient(rt, &path)
            {
                apply_target(attrs, kind, &target, Some(value), Via::ValueKey)?;
                continue;
            }
            // An extension this server does not know: kept as sent, like POST does.
            merge_unknown(attrs, key, value);
            continue;
        }
        // Unknown or malformed core attribute names are ignored, like POST does.
        let Ok(path) = parse_patch_path(key) else {
            continue;
        };
        if path.urn.is_some() {
            continue;
        }
        if let Some(target) = resolve_lenient(rt, &path) {
            apply_target(attrs, kind, &target, Some(value), Via::ValueKey)?;
        }
    }
    Ok(())
}

/// One key of an extension object inside a path-less value.
fn apply_extension_key(
    rt: &'static ResourceType,
    attrs: &mut Attributes,
    kind: PatchOpKind,
    urn: &'static str,
    key: &str,
    value: &Value,
) -> ScimResult<()> {
    if let Ok(mut path) = parse_patch_path(key)
        && path.urn.is_none()
    {
        path.urn = Some(urn.to_string());
        if let Some(target) = resolve_lenient(rt, &path) {
            return apply_target(attrs, kind, &target, Some(value), Via::ValueKey);
        }
    }
    // An unknown attribute of a known extension: kept as sent, like POST does.
    let value = blank_to_null(value.clone());
    with_extension(attrs, urn, |slot| {
        if value.is_null() {
            slot.shift_remove(key);
        } else {
            slot.insert(key.to_string(), value);
        }
    });
    Ok(())
}

fn expect_object<'v>(key: &str, value: &'v Value) -> ScimResult<&'v Map<String, Value>> {
    match value {
        Value::Object(m) => Ok(m),
        _ => Err(ScimError::invalid_value(format!(
            "'{key}' must be an object of attributes"
        ))),
    }
}

fn merge_unknown(attrs: &mut Attributes, key: &str, value: &Value) {
    let value = blank_to_null(value.clone());
    match (attrs.get_mut(key), value) {
        (_, Value::Null) => {
            attrs.shift_remove(key);
        }
        (Some(Value::Object(existing)), Value::Object(new)) => {
            for (k, v) in new {
                if v.is_null() {
                    existing.shift_remove(&k);
                } else {
                    existing.insert(k, v);
                }
            }
        }
        (_, value) => {
            attrs.insert(key.to_string(), value);
        }
    }
}

fn path_text(path: &PatchPath) -> String {
    path.to_string()
}

/// Resolves a key of a path-less value: a key that names nothing usable (an unknown
/// sub-attribute, a filter on a single-valued attribute) is ignored like an unknown
/// attribute of a POST body.
fn resolve_lenient<'p>(rt: &'static ResourceType, path: &'p PatchPath) -> Option<Target<'p>> {
    resolve(rt, path).ok().flatten()
}

/// Resolves a path against the schema. `Ok(None)`: no such attribute. Errors: the path
/// names an attribute but is not usable (an unknown sub-attribute, a filter on a
/// single-valued attribute).
fn resolve<'p>(rt: &'static ResourceType, path: &'p PatchPath) -> ScimResult<Option<Target<'p>>> {
    let Some(resolved) = rt.resolve(path.urn.as_deref(), &path.attr) else {
        return Ok(None);
    };
    let def = resolved.def;
    let text = path_text(path);
    let sub = match &path.sub_attr {
        None => None,
        Some(name) => Some(def.sub_attribute(name).ok_or_else(|| {
            ScimError::invalid_path(format!(
                "'{text}': '{}' has no sub-attribute '{name}'",
                def.name
            ))
        })?),
    };
    if path.filter.is_some() && !def.multi_valued {
        return Err(ScimError::invalid_path(format!(
            "'{text}': a value filter needs a multi-valued attribute, and '{}' is single-valued",
            def.name
        )));
    }
    let filter = match &path.filter {
        None => None,
        Some(f) => Some((f, CompiledFilter::for_value(f, def)?)),
    };
    Ok(Some(Target {
        ext: resolved.extension,
        def,
        filter,
        sub,
        text,
    }))
}

/// Applies one operation to one resolved target.
fn apply_target(
    attrs: &mut Attributes,
    kind: PatchOpKind,
    target: &Target<'_>,
    value: Option<&Value>,
    via: Via,
) -> ScimResult<()> {
    let def = target.def;
    let read_only = |what: &str| -> ScimResult<()> {
        match via {
            Via::ValueKey => Ok(()),
            Via::Path => Err(ScimError::mutability(format!(
                "'{}' is read-only{what}",
                target.text
            ))),
        }
    };
    if target.ext.is_none() && def.name == "schemas" {
        return read_only("; the server maintains 'schemas'");
    }
    match def.mutability {
        Mutability::ReadOnly => return read_only(""),
        // `password`: accepted and discarded, never stored.
        Mutability::WriteOnly => return Ok(()),
        Mutability::ReadWrite | Mutability::Immutable => {}
    }
    if let Some(sub) = target.sub {
        match sub.mutability {
            Mutability::ReadOnly => return read_only(""),
            Mutability::WriteOnly => return Ok(()),
            Mutability::ReadWrite | Mutability::Immutable => {}
        }
    }
    // The value is moved out of the working copy (a large `members` list is not cloned);
    // on error the whole working copy is discarded, so nothing needs restoring.
    let current = take(attrs, target.ext, def.name).filter(|v| !is_unassigned(v));
    let guarded = def.mutability == Mutability::Immutable || def.required;
    let old = if guarded { current.clone() } else { None };
    let new = match kind {
        PatchOpKind::Add | PatchOpKind::Replace => {
            let raw = blank_to_null(value.cloned().unwrap_or(Value::Null));
            set_value(kind, target, current, raw)?
        }
        PatchOpKind::Remove => remove_value(target, current, value)?,
    };
    let new = new.filter(|v| !is_unassigned(v));
    if guarded && new != old {
        if def.mutability == Mutability::Immutable && old.is_some() {
            return Err(ScimError::mutability(format!(
                "'{}' is immutable and already has a value",
                target.text
            )));
        }
        if def.required && new.is_none() {
            return Err(ScimError::mutability(format!(
                "'{}' is required and cannot be removed",
                def.name
            )));
        }
    }
    store(attrs, target.ext, def.name, new);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// add / replace

fn set_value(
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

// ---------------------------------------------------------------------------------------
// remove

fn remove_value(
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

// ---------------------------------------------------------------------------------------
// helpers

/// The indices of the values a filter selects.
fn matching(compiled: &CompiledFilter, items: &[Value]) -> Vec<usize> {
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
fn merge_complex(
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
fn finish_items(
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

fn is_primary(v: &Value) -> bool {
    v.get("primary").and_then(Value::as_bool) == Some(true)
}

/// Whether a value still says something: a complex value with only `type`, `primary` or
/// `display` left (its `value` was cleared) is dropped.
fn is_meaningful(def: &'static AttributeDef, v: &Value) -> bool {
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
fn mask(len: usize, indices: &[usize]) -> Vec<bool> {
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
fn identity(def: &'static AttributeDef, v: &Value) -> Option<String> {
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
struct ValueIndex {
    by_key: HashMap<String, usize>,
    /// Values without an identity, compared whole.
    keyless: Vec<usize>,
}

impl ValueIndex {
    fn new(def: &'static AttributeDef, items: &[Value]) -> Self {
        let mut index = ValueIndex {
            by_key: HashMap::with_capacity(items.len()),
            keyless: Vec::new(),
        };
        for (i, item) in items.iter().enumerate() {
            index.insert(def, i, item);
        }
        index
    }

    fn insert(&mut self, def: &'static AttributeDef, i: usize, item: &Value) {
        match identity(def, item) {
            Some(k) => {
                self.by_key.entry(k).or_insert(i);
            }
            None => self.keyless.push(i),
        }
    }

    fn find(&self, def: &'static AttributeDef, items: &[Value], item: &Value) -> Option<usize> {
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

fn values_equal(def: &'static AttributeDef, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if !def.case_exact => {
            x == y || x.to_lowercase() == y.to_lowercase()
        }
        _ => a == b,
    }
}

fn single_key(name: &str, value: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(name.to_string(), value);
    m
}

fn into_object(v: Value) -> Option<Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn into_items(v: Option<Value>) -> Vec<Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
    }
}

fn non_empty(items: Vec<Value>) -> Option<Value> {
    (!items.is_empty()).then_some(Value::Array(items))
}

/// `null`, `""`, `[]` and `{}` are unassigned (RFC 7643 §2.5; Entra clears with `""`).
fn is_unassigned(v: &Value) -> bool {
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
fn blank_to_null(mut v: Value) -> Value {
    blank_to_null_in_place(&mut v);
    v
}

fn blank_to_null_in_place(v: &mut Value) {
    match v {
        Value::String(s) if s.is_empty() => *v = Value::Null,
        Value::Array(items) => items.iter_mut().for_each(blank_to_null_in_place),
        Value::Object(m) => m.values_mut().for_each(blank_to_null_in_place),
        _ => {}
    }
}

/// Moves an attribute's value out of the map, leaving `null` in its place (so that
/// [`store`] puts the new value back at the same position).
fn take(attrs: &mut Attributes, ext: Option<&str>, name: &str) -> Option<Value> {
    let slot = match ext {
        None => attrs.get_mut(name),
        Some(urn) => attrs.get_mut(urn)?.get_mut(name),
    };
    slot.map(Value::take)
}

/// Runs `f` on the object of an extension (created when missing), then drops the object
/// if it ended up empty.
fn with_extension(attrs: &mut Attributes, urn: &str, f: impl FnOnce(&mut Map<String, Value>)) {
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

fn drop_empty_extension(attrs: &mut Attributes, urn: &str) {
    if attrs
        .get(urn)
        .is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
    {
        attrs.shift_remove(urn);
    }
}

fn store(attrs: &mut Attributes, ext: Option<&str>, name: &str, new: Option<Value>) {
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

    fn target() -> Target<'static> {
        Target {
            ext: None,
            def: &BADGE,
            filter: None,
            sub: None,
            text: "badge".into(),
        }
    }

    fn run(attrs: &mut Attributes, kind: PatchOpKind, value: Option<Value>) -> ScimResult<()> {
        apply_target(attrs, kind, &target(), value.as_ref(), Via::Path)
    }

    #[test]
    fn immutable_may_be_added_once_then_never_changed() {
        let mut attrs = Attributes::new();
        run(&mut attrs, PatchOpKind::Add, Some(json!("B-1"))).unwrap();
        assert_eq!(attrs["badge"], "B-1");
        // Re-adding the same value is not a change.
        run(&mut attrs, PatchOpKind::Add, Some(json!("B-1"))).unwrap();
        run(&mut attrs, PatchOpKind::Replace, Some(json!("B-1"))).unwrap();
        for (kind, value) in [
            (PatchOpKind::Add, Some(json!("B-2"))),
            (PatchOpKind::Replace, Some(json!("B-2"))),
            (PatchOpKind::Replace, Some(json!(""))),
            (PatchOpKind::Remove, None),
        ] {
            // apply_patch works on a copy; a failed operation may leave its copy half done.
            let mut copy = attrs.clone();
            let e = run(&mut copy, kind, value).unwrap_err();
            assert_eq!(e.scim_type(), Some(ScimType::Mutability), "{kind}");
        }
        assert_eq!(attrs["badge"], "B-1");
    }

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
