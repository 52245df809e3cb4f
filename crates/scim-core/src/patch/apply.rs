//! Applying PATCH operations to a canonical attribute map (RFC 7644 §3.5.2).
//!
//! Every operation is resolved against the schema first (attribute, sub-attribute,
//! mutability), then its value is normalised exactly like a POST body
//! ([`crate::resource::normalize_value`]), then the operation is applied to the working copy.
//! The rules where the RFC or the identity providers leave room are listed in the
//! [module documentation](super).
//!
//! This file holds the driver: resolving a path to a [`Target`], schema-wide operations,
//! path-less value objects and extension keys. The operations themselves live in
//! [`super::set`] (add/replace) and [`super::remove`]; [`super::multi`] and
//! [`super::value`] hold the helpers they share.

use super::remove::{ValueRemoval, remove_by_values, remove_value, value_removal};
use super::request::{PatchOpKind, PatchOperation, PatchRequest, parse_patch_path};
use super::set::set_value;
use super::value::{Touched, blank_to_null, is_unassigned, store, take, with_extension};
use crate::error::{ScimError, ScimResult};
use crate::filter::{CompiledFilter, Filter};
use crate::path::PatchPath;
use crate::profile::Profile;
use crate::resource::{Attributes, check_required, is_urn, split_urn};
use crate::schema::{AttributeDef, Mutability, ResourceKind, ResourceType};
use serde_json::{Map, Value};

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
    apply_patch_with(kind, attrs, request, Profile::Lenient)
}

/// [`apply_patch`] under a tenant's [`Profile`]. Lenient is [`apply_patch`]; strict adds
/// the one interop-profile rule that needs the data: an operation whose value filter
/// selects more than one element (`emails[type eq "work"].value` on a user with two work
/// addresses) is 400 `invalidFilter` instead of changing every match. The request's shape
/// is checked beforehand by [`crate::profile::check_patch`].
pub fn apply_patch_with(
    kind: ResourceKind,
    attrs: &Attributes,
    request: &PatchRequest,
    profile: Profile,
) -> ScimResult<PatchOutcome> {
    apply_patch_in(kind.resource_type(), attrs, request, profile)
}

/// [`apply_patch_with`] against a tenant's resource type: its own extensions are
/// resolved and validated like core attributes (closed: unknown attributes and
/// sub-attributes are `invalidValue`), and values for its withheld (removed) extensions
/// are ignored, their stored values untouched.
pub fn apply_patch_in(
    rt: &'static ResourceType,
    attrs: &Attributes,
    request: &PatchRequest,
    profile: Profile,
) -> ScimResult<PatchOutcome> {
    let mut work = attrs.clone();
    let mut touched = Touched::default();
    let ops = &request.operations;
    let mut i = 0;
    while let Some(op) = ops.get(i) {
        // A run of `remove attr[value eq "…"]` on one attribute (Okta removing many
        // members) is one pass over the values instead of one scan per operation.
        let run = value_removal_run(rt, ops.get(i..).unwrap_or_default());
        if profile.is_strict() {
            // Against the state each operation (or run of removals) starts from.
            let n = run.len().max(1);
            for (j, op) in ops.iter().enumerate().skip(i).take(n) {
                check_single_match(rt, &work, op)
                    .map_err(|e| e.with_context(format!("Operations[{j}]")))?;
            }
        }
        if !run.is_empty() {
            i += run.len();
            remove_by_values(&mut work, &mut touched, &run);
            continue;
        }
        apply_operation(rt, &mut work, &mut touched, op)
            .map_err(|e| e.with_context(format!("Operations[{i}]")))?;
        i += 1;
    }
    // A PATCH that leaves a required attribute unassigned is a mutability error
    // (RFC 7644 §3.5.2: "... is defined as a required attribute ... 'mutability'").
    check_required(rt, &work).map_err(|e| ScimError::mutability(e.detail().to_string()))?;
    // What the operations wrote must be storable (NUL, lengths, counts); untouched
    // attributes were checked when they were written.
    touched.check(rt, &work)?;
    // Only written keys can differ: no deep comparison of untouched attributes.
    let changed = touched.differ(attrs, &work);
    Ok(PatchOutcome {
        attributes: work,
        changed,
    })
}

/// Strict profile: the value filter of `op`'s path selects at most one element of the
/// current values. Paths that do not resolve are left to the apply's own errors.
fn check_single_match(
    rt: &'static ResourceType,
    attrs: &Attributes,
    op: &PatchOperation,
) -> ScimResult<()> {
    let Some(path) = &op.path else {
        return Ok(());
    };
    if schema_scope(rt, path).is_some() {
        return Ok(());
    }
    let Ok(Some(target)) = resolve(rt, path) else {
        return Ok(());
    };
    let Some((_, compiled)) = &target.filter else {
        return Ok(());
    };
    let current = match target.ext {
        None => attrs.get(target.def.name),
        Some(urn) => attrs.get(urn).and_then(|e| e.get(target.def.name)),
    };
    let Some(Value::Array(items)) = current else {
        return Ok(());
    };
    let n = super::multi::matching(compiled, items).len();
    if n > 1 {
        return Err(ScimError::invalid_filter(format!(
            "'{}' selects {n} values; the strict interop profile needs a filter that selects one",
            target.text
        )));
    }
    Ok(())
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
pub(super) struct Target<'p> {
    /// The extension URN, for an extension attribute.
    pub(super) ext: Option<&'static str>,
    pub(super) def: &'static AttributeDef,
    /// The value filter, with its compiled form (compiled when the path is resolved, so
    /// an unusable filter is an error whatever the data).
    pub(super) filter: Option<(&'p Filter, CompiledFilter)>,
    pub(super) sub: Option<&'static AttributeDef>,
    /// The path as the client wrote it, for error details.
    pub(super) text: String,
    /// The attribute belongs to a closed (organization-defined) extension: values may
    /// carry only its sub-attributes.
    pub(super) closed: bool,
}

fn apply_operation(
    rt: &'static ResourceType,
    attrs: &mut Attributes,
    touched: &mut Touched,
    op: &PatchOperation,
) -> ScimResult<()> {
    let value = op.value.as_ref().unwrap_or(&Value::Null);
    let Some(path) = &op.path else {
        return match value {
            Value::Object(obj) => apply_value_object(rt, attrs, touched, op.op, None, obj),
            _ => Err(ScimError::invalid_value(format!(
                "a '{}' operation without a 'path' requires an object 'value' of attributes",
                op.op
            ))),
        };
    };
    if let Some(scope) = schema_scope(rt, path) {
        return apply_to_schema(rt, attrs, touched, op.op, scope, value);
    }
    let target = resolve(rt, path)?.ok_or_else(|| {
        ScimError::invalid_path(format!(
            "'{}' is not an attribute of the {} resource type",
            path_text(path),
            rt.name
        ))
    })?;
    apply_target(attrs, touched, op.op, &target, op.value.as_ref(), Via::Path)
}

/// The longest run of operations at the start of `ops` that are each a `remove` of the
/// same attribute through a single `value eq "…"` filter (see [`value_removal`]); empty
/// when the first operation is not one.
fn value_removal_run<'p>(
    rt: &'static ResourceType,
    ops: &'p [PatchOperation],
) -> Vec<ValueRemoval<'p>> {
    let mut run: Vec<ValueRemoval<'p>> = Vec::new();
    for op in ops {
        if op.op != PatchOpKind::Remove {
            break;
        }
        let Some(path) = &op.path else { break };
        if schema_scope(rt, path).is_some() {
            break;
        }
        let Ok(Some(target)) = resolve(rt, path) else {
            break;
        };
        let Some(removal) = value_removal(target) else {
            break;
        };
        if let Some(first) = run.first()
            && !first.same_attribute(&removal)
        {
            break;
        }
        run.push(removal);
    }
    run
}

/// The schema a path names when it is exactly a schema URN: `Some(None)` for the core
/// schema, `Some(Some(urn))` for an extension.
pub(super) fn schema_scope(
    rt: &'static ResourceType,
    path: &PatchPath,
) -> Option<Option<&'static str>> {
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
    touched: &mut Touched,
    kind: PatchOpKind,
    scope: Option<&'static str>,
    value: &Value,
) -> ScimResult<()> {
    match (kind, scope, value) {
        (PatchOpKind::Remove, None, _) => Err(ScimError::mutability(
            "the core schema cannot be removed from a resource",
        )),
        (PatchOpKind::Remove, Some(urn), _) => {
            touched.mark(urn);
            attrs.shift_remove(urn);
            Ok(())
        }
        (_, _, Value::Object(obj)) => apply_value_object(rt, attrs, touched, kind, scope, obj),
        (_, _, Value::Null) if kind == PatchOpKind::Replace => {
            if let Some(urn) = scope {
                touched.mark(urn);
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
    touched: &mut Touched,
    kind: PatchOpKind,
    scope: Option<&'static str>,
    obj: &Map<String, Value>,
) -> ScimResult<()> {
    for (key, value) in obj {
        let key = key.trim();
        if let Some(urn) = scope {
            apply_extension_key(rt, attrs, touched, kind, urn, key, value)?;
            continue;
        }
        if key.eq_ignore_ascii_case("schemas") {
            // The server derives `schemas`; a client echo is ignored.
            continue;
        }
        if is_urn(key) {
            if rt.schema.id.eq_ignore_ascii_case(key) {
                let inner = expect_object(key, value)?;
                apply_value_object(rt, attrs, touched, kind, None, inner)?;
                continue;
            }
            if let Some(ext) = rt.extension(key) {
                let inner = expect_object(key, value)?;
                apply_value_object(rt, attrs, touched, kind, Some(ext.id), inner)?;
                continue;
            }
            if let Ok(path) = parse_patch_path(key)
                && let Some(target) = resolve_lenient(rt, &path)
            {
                apply_target(attrs, touched, kind, &target, Some(value), Via::ValueKey)?;
                continue;
            }
            let schema_urn = split_urn(key).map_or(key, |(u, _)| u);
            if rt.is_withheld(key) || rt.is_withheld(schema_urn) {
                // A removed organization extension: no longer accepted; its stored
                // values stay as they are.
                continue;
            }
            if let Some(ext) = rt.extension(schema_urn).filter(|s| s.closed) {
                return Err(ScimError::invalid_value(format!(
                    "'{key}' is not an attribute of the extension '{}'",
                    ext.id
                )));
            }
            // An extension this server does not know: kept as sent, like POST does.
            merge_unknown(attrs, touched, key, value);
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
            apply_target(attrs, touched, kind, &target, Some(value), Via::ValueKey)?;
        }
    }
    Ok(())
}

/// One key of an extension object inside a path-less value.
fn apply_extension_key(
    rt: &'static ResourceType,
    attrs: &mut Attributes,
    touched: &mut Touched,
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
            return apply_target(attrs, touched, kind, &target, Some(value), Via::ValueKey);
        }
    }
    if rt.extension(urn).is_some_and(|s| s.closed) {
        return Err(ScimError::invalid_value(format!(
            "'{key}' is not an attribute of the extension '{urn}'"
        )));
    }
    // An unknown attribute of a known extension: kept as sent, like POST does.
    let value = blank_to_null(value.clone());
    touched.mark_added(urn);
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

fn merge_unknown(attrs: &mut Attributes, touched: &mut Touched, key: &str, value: &Value) {
    let value = blank_to_null(value.clone());
    touched.mark_added(key);
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
pub(super) fn resolve_lenient<'p>(
    rt: &'static ResourceType,
    path: &'p PatchPath,
) -> Option<Target<'p>> {
    resolve(rt, path).ok().flatten()
}

/// Resolves a path against the schema. `Ok(None)`: no such attribute. Errors: the path
/// names an attribute but is not usable (an unknown sub-attribute, a filter on a
/// single-valued attribute).
pub(super) fn resolve<'p>(
    rt: &'static ResourceType,
    path: &'p PatchPath,
) -> ScimResult<Option<Target<'p>>> {
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
    let closed = resolved
        .extension
        .and_then(|u| rt.extension(u))
        .is_some_and(|s| s.closed);
    Ok(Some(Target {
        closed,
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
    touched: &mut Touched,
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
    if target.closed
        && target.sub.is_none()
        && kind != PatchOpKind::Remove
        && let Some(v) = value
    {
        crate::resource::check_closed_value(def, v, &target.text)?;
    }
    // The value is moved out of the working copy (a large `members` list is not cloned);
    // on error the whole working copy is discarded, so nothing needs restoring.
    let key = target.ext.unwrap_or(def.name);
    if kind == PatchOpKind::Remove {
        touched.mark(key);
    } else {
        touched.mark_added(key);
    }
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
            closed: false,
        }
    }

    fn run(attrs: &mut Attributes, kind: PatchOpKind, value: Option<Value>) -> ScimResult<()> {
        apply_target(
            attrs,
            &mut Touched::default(),
            kind,
            &target(),
            value.as_ref(),
            Via::Path,
        )
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
}
