//! The member-delta recogniser: what a Group PATCH does to `members`, said from the request
//! alone, so that a store can change a large group's membership by delta without reading
//! its member list (review 2026-12 §1(d)).
//!
//! [`split_member_ops`] recognises the shapes Okta and Entra send (`add members [..]`, a
//! path-less value object with a `members` key, `remove members[value eq "id"]`, Entra's
//! `remove members` with a value list, `remove members` without a value, `replace members`)
//! and folds them, in request order, into one [`MemberDelta`]; every other operation is
//! returned untouched in [`MemberSplit::rest`]. The rules are exactly those of
//! [`apply_patch`](super::apply_patch) as the store keeps members (objects with a string
//! `value` plus the `display` and `type` the store derives): re-adding a member or removing
//! an absent one changes nothing, `""` and `null` clear on replace, `display` is ignored.
//!
//! Anything whose outcome could depend on the stored member objects, or that
//! `apply_patch` could reject, makes the whole split `None`, and the caller falls back to
//! the full apply, which produces the same result or the error:
//!
//! - filters other than a single `value eq "…"`, and `add`/`replace` through a filter;
//! - sub-attribute paths (`members.value`, `members[value eq "x"].display`);
//! - member values that are not a string id or an object with a string `value` (numbers,
//!   nested arrays, strings that look like JSON objects, which the normaliser parses), a
//!   lone value other than a bare id string, and values [`crate::limits`] refuses (a NUL,
//!   an over-long id);
//! - a non-null `type` or `$ref` on an added member (both are immutable sub-attributes, so
//!   `apply_patch` rejects a re-add whose `type` differs from the stored one), a `primary`
//!   key, or an object that keeps keys but has no `value`;
//! - a `members` key reached in any other way (inside a core-schema URN object, a
//!   path-less `remove`), or a request on any resource type but Group.

use super::apply::{Target, resolve, resolve_lenient, schema_scope};
use super::request::{PatchOpKind, PatchOperation, PatchRequest, parse_patch_path};
use crate::filter::{CompValue, CompareOp, Filter};
use crate::resource::is_urn;
use crate::schema::{ResourceKind, ResourceType};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// What a PATCH request does to a group's `members`, said without reading them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberDelta {
    /// `Some(ids)`: the membership is first set to exactly these ids (a `replace` of
    /// `members`, or a `remove` of `members` without filter or value = `Some(vec![])`);
    /// `None`: it starts from the current members. Without duplicates, in the order
    /// `apply_patch` would leave them; later adds and removes are folded in.
    pub replace_all: Option<Vec<String>>,
    /// Member ids added after that (ordered, no duplicates, disjoint from `remove`).
    pub add: Vec<String>,
    /// Member ids removed after that (ordered, no duplicates, disjoint from `add`).
    pub remove: Vec<String>,
}

impl MemberDelta {
    /// True when it changes nothing whatever the current members are (no replace, no add,
    /// no remove).
    pub fn is_empty(&self) -> bool {
        self.replace_all.is_none() && self.add.is_empty() && self.remove.is_empty()
    }

    /// The resulting member set given the current one (for tests and for embedders that
    /// keep members in memory): `(replace_all.unwrap_or(current) ∪ add) − remove`, in the
    /// order: kept current members, then added ones in order.
    ///
    /// ```
    /// use scim_core::patch::MemberDelta;
    /// let delta = MemberDelta {
    ///     replace_all: None,
    ///     add: vec!["c".into(), "a".into()],
    ///     remove: vec!["b".into()],
    /// };
    /// let current = ["a".to_string(), "b".to_string()];
    /// assert_eq!(delta.apply_to(&current), ["a", "c"]);
    /// ```
    pub fn apply_to(&self, current: &[String]) -> Vec<String> {
        let start = self.replace_all.as_deref().unwrap_or(current);
        let mut out = IdSet::default();
        for id in start.iter().chain(&self.add) {
            out.insert(id.clone());
        }
        for id in &self.remove {
            out.remove(id);
        }
        out.into_vec()
    }
}

/// A PATCH request split into its effect on `members` and the operations that do not
/// touch `members`.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberSplit {
    /// The combined effect of every member operation, in request order.
    pub delta: MemberDelta,
    /// The remaining operations, in order; none of them reads or writes `members`.
    pub rest: PatchRequest,
}

/// Splits a Group PATCH; `None` when some operation touches `members` in a way only the
/// full [`apply_patch`](super::apply_patch) can do (a filter other than `value eq "…"`, a
/// sub-attribute path such as `members[value eq "x"].display` or `members.value`, values
/// that are not ids/objects with a string `value`, a path-less value object containing a
/// `members` key whose shape is odd, …). Never errors: anything doubtful is `None` and the
/// caller falls back to the full apply, which produces the errors.
///
/// Applying [`MemberSplit::rest`] to the group and [`MemberSplit::delta`] to its member
/// ids gives the same group as `apply_patch` on the whole request, and `rest` fails
/// exactly when the whole request does. The group's own id as a member is the store's
/// business.
///
/// ```
/// use scim_core::ResourceKind;
/// use scim_core::patch::{PatchRequest, split_member_ops};
/// let body = serde_json::json!({"Operations": [
///     {"op": "remove", "path": "members[value eq \"u1\"]"},
///     {"op": "add", "path": "members", "value": [{"value": "u2", "display": "Ada"}]},
///     {"op": "replace", "value": {"displayName": "Eng", "members": [{"value": "u3"}]}}
/// ]});
/// let request = PatchRequest::from_json(&body).unwrap();
/// let split = split_member_ops(ResourceKind::Group, &request).unwrap();
/// assert_eq!(split.delta.replace_all, Some(vec!["u3".to_string()]));
/// assert!(split.delta.add.is_empty() && split.delta.remove.is_empty());
/// // What is left: the rename, as a path-less replace of just `displayName`.
/// assert_eq!(split.rest.operations.len(), 1);
/// assert_eq!(split.rest.operations[0].value, Some(serde_json::json!({"displayName": "Eng"})));
/// ```
pub fn split_member_ops(kind: ResourceKind, request: &PatchRequest) -> Option<MemberSplit> {
    split_member_ops_in(kind.resource_type(), request)
}

/// [`split_member_ops`] against a tenant's Group type (operations on its extensions are
/// left in `rest`, resolved against the same type).
pub fn split_member_ops_in(
    rt: &'static ResourceType,
    request: &PatchRequest,
) -> Option<MemberSplit> {
    if rt.kind != ResourceKind::Group {
        return None;
    }
    let mut delta = Folder::default();
    let mut rest = Vec::with_capacity(request.operations.len());
    for op in &request.operations {
        match classify(rt, op)? {
            Class::Other => rest.push(op.clone()),
            Class::Members(change) => delta.fold(change),
            Class::PathLess { changes, others } => {
                for change in changes {
                    delta.fold(change);
                }
                if let Some(others) = others {
                    rest.push(PatchOperation {
                        op: op.op,
                        path: None,
                        value: Some(Value::Object(others)),
                    });
                }
            }
        }
    }
    Some(MemberSplit {
        delta: delta.finish(),
        rest: PatchRequest { operations: rest },
    })
}

/// One recognised change of `members`.
enum Change {
    /// Union with these ids.
    Add(Vec<String>),
    /// Set to exactly these ids.
    Replace(Vec<String>),
    /// Difference with these ids.
    Remove(Vec<String>),
}

/// What one operation is, for the split.
enum Class {
    /// It does not touch `members`.
    Other,
    /// It is a change of `members` and nothing else.
    Members(Change),
    /// A path-less value object with `members` keys (`changes`) and possibly others.
    PathLess {
        changes: Vec<Change>,
        others: Option<Map<String, Value>>,
    },
}

/// Classifies one operation; `None`: it touches `members` in a way not recognised.
fn classify(rt: &'static ResourceType, op: &PatchOperation) -> Option<Class> {
    let Some(path) = &op.path else {
        return match &op.value {
            Some(Value::Object(obj)) => split_object(rt, op.op, obj),
            // `apply_patch` rejects it; `rest` will too.
            _ => Some(Class::Other),
        };
    };
    if schema_scope(rt, path).is_some() {
        // A whole-schema operation: its value object is applied like a path-less one.
        return match &op.value {
            Some(Value::Object(obj)) if op.op != PatchOpKind::Remove => {
                (!object_touches_members(rt, obj)).then_some(Class::Other)
            }
            _ => Some(Class::Other),
        };
    }
    // A path that does not resolve fails the same way in `rest`.
    let Ok(Some(target)) = resolve(rt, path) else {
        return Some(Class::Other);
    };
    if !is_members(&target) {
        return Some(Class::Other);
    }
    if target.sub.is_some() {
        return None;
    }
    let change = match (op.op, &path.filter) {
        (PatchOpKind::Add, None) => Change::Add(added_ids(op.value.as_ref())?),
        (PatchOpKind::Replace, None) => Change::Replace(added_ids(op.value.as_ref())?),
        (PatchOpKind::Remove, None) => match &op.value {
            None | Some(Value::Null) => Change::Replace(Vec::new()),
            Some(listed) => Change::Remove(listed_ids(listed)?),
        },
        (PatchOpKind::Remove, Some(filter)) => Change::Remove(vec![value_eq(filter)?]),
        (_, Some(_)) => return None,
    };
    Some(Class::Members(change))
}

/// Whether a resolved target is the core `members` attribute as a whole (a filter or a
/// sub-attribute may still be attached).
fn is_members(target: &Target<'_>) -> bool {
    target.ext.is_none() && target.def.name == "members"
}

/// What a path-less value key names, mirroring `apply_value_object`.
enum Key {
    /// Not `members`: ignored, or applied to another attribute.
    Other,
    /// `members`, `MEMBERS`, `urn:…:Group:members`.
    Members,
    /// Something reaching `members` that is not recognised.
    Odd,
}

fn classify_key(rt: &'static ResourceType, key: &str, value: &Value) -> Key {
    let key = key.trim();
    if key.eq_ignore_ascii_case("schemas") {
        return Key::Other;
    }
    if is_urn(key) {
        if rt.schema.id.eq_ignore_ascii_case(key) {
            // Core attributes wrapped in their schema URN: applied recursively.
            return match value {
                Value::Object(inner) if object_touches_members(rt, inner) => Key::Odd,
                _ => Key::Other,
            };
        }
        if rt.extension(key).is_some() {
            return Key::Other;
        }
    }
    let Ok(path) = parse_patch_path(key) else {
        return Key::Other;
    };
    if !is_urn(key) && path.urn.is_some() {
        return Key::Other;
    }
    match resolve_lenient(rt, &path) {
        Some(target) if is_members(&target) => {
            if target.filter.is_none() && target.sub.is_none() {
                Key::Members
            } else {
                Key::Odd
            }
        }
        _ => Key::Other,
    }
}

/// Whether any key of a value object reaches `members`.
fn object_touches_members(rt: &'static ResourceType, obj: &Map<String, Value>) -> bool {
    obj.iter()
        .any(|(k, v)| !matches!(classify_key(rt, k, v), Key::Other))
}

/// Splits a path-less value object into its `members` changes and the other keys.
fn split_object(
    rt: &'static ResourceType,
    kind: PatchOpKind,
    obj: &Map<String, Value>,
) -> Option<Class> {
    let mut changes = Vec::new();
    let mut others = Map::new();
    for (key, value) in obj {
        match classify_key(rt, key, value) {
            Key::Other => {
                others.insert(key.clone(), value.clone());
            }
            Key::Members => changes.push(match kind {
                PatchOpKind::Add => Change::Add(added_ids(Some(value))?),
                PatchOpKind::Replace => Change::Replace(added_ids(Some(value))?),
                // Only a hand-built request has a path-less remove.
                PatchOpKind::Remove => return None,
            }),
            Key::Odd => return None,
        }
    }
    if changes.is_empty() {
        return Some(Class::Other);
    }
    Some(Class::PathLess {
        changes,
        others: (!others.is_empty()).then_some(others),
    })
}

/// The ids of an `add`/`replace` value, read the way `apply_patch` reads it: `""` is
/// `null` anywhere, `null` adds nothing (replace: clears), a bare id string counts as a
/// one-element list (any other lone value is an error there: `None` here), values without
/// an id are dropped. A value that cannot be stored (a NUL, an id too long) is `None` too:
/// the full apply rejects it.
fn added_ids(value: Option<&Value>) -> Option<Vec<String>> {
    let items = match value {
        None | Some(Value::Null) => return Some(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => return Some(Vec::new()),
        Some(Value::Array(items)) => items.as_slice(),
        Some(single @ Value::String(_)) => std::slice::from_ref(single),
        Some(_) => return None,
    };
    let members = crate::schema::GROUP.attribute("members")?;
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        if !crate::limits::is_storable(members, item) {
            return None;
        }
        if let Some(id) = member_id(item, Use::Set)? {
            ids.push(id);
        }
    }
    Some(ids)
}

/// The ids of Entra's `remove members` value list, read the way `remove_listed` reads it
/// (no `""`-to-`null` rewrite there: `""` is the id `""`, which no member has).
fn listed_ids(listed: &Value) -> Option<Vec<String>> {
    let items = match listed {
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        if let Some(id) = member_id(item, Use::Remove)? {
            ids.push(id);
        }
    }
    Some(ids)
}

/// Which operation a member value comes from: their normalisation differs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    /// `add`/`replace`: `""` means `null`; `type` and `$ref` could clash with the stored
    /// (immutable) ones.
    Set,
    /// `remove` with a value list: only `value` is compared.
    Remove,
}

/// One member value: `Some(Some(id))`, `Some(None)` when normalisation drops it, `None`
/// when it is not a recognised shape.
fn member_id(item: &Value, usage: Use) -> Option<Option<String>> {
    // For `add`/`replace`, `""` was turned into `null` before normalisation.
    let blank = |v: &Value| match v {
        Value::Null => true,
        Value::String(s) => usage == Use::Set && s.is_empty(),
        _ => false,
    };
    if blank(item) {
        return Some(None);
    }
    match item {
        // A string starting with `{` is parsed as a JSON object by the normaliser.
        Value::String(s) if s.trim_start().starts_with('{') => None,
        Value::String(s) => Some(Some(s.clone())),
        Value::Object(obj) => {
            let mut id = None;
            let mut values = 0;
            let mut kept_other = false;
            for (key, v) in obj {
                if key.eq_ignore_ascii_case("display") {
                    // readOnly: dropped whatever its type.
                    continue;
                }
                if blank(v) {
                    continue;
                }
                if key.eq_ignore_ascii_case("value") {
                    values += 1;
                    match v {
                        Value::String(s) => id = Some(s.clone()),
                        // `value` must be a string: `apply_patch` rejects the request.
                        _ => return None,
                    }
                } else if key.eq_ignore_ascii_case("type") || key.eq_ignore_ascii_case("$ref") {
                    match (usage, v) {
                        // Immutable sub-attributes: a re-add may clash with the stored one.
                        (Use::Set, _) => return None,
                        (Use::Remove, Value::String(_)) => kept_other = true,
                        (Use::Remove, _) => return None,
                    }
                } else if key.eq_ignore_ascii_case("primary") {
                    // Unknown to members, but `finish_items` counts primaries.
                    return None;
                } else {
                    // Unknown sub-attributes are kept as sent by `apply_patch`; the store
                    // keeps only ids, so they change nothing.
                    kept_other = true;
                }
            }
            match (values, id) {
                (0, _) if !kept_other => Some(None),
                (1, Some(id)) => Some(Some(id)),
                // Two `value` keys in different cases, or an object that keeps keys
                // but has no id (a remove would then compare whole objects).
                _ => None,
            }
        }
        // Numbers and booleans are not strings; arrays are not members.
        _ => None,
    }
}

/// The id of a `value eq "id"` filter.
fn value_eq(filter: &Filter) -> Option<String> {
    match filter {
        Filter::Compare(path, CompareOp::Eq, CompValue::String(s))
            if path.urn.is_none()
                && path.sub_attr.is_none()
                && path.name.eq_ignore_ascii_case("value") =>
        {
            Some(s.clone())
        }
        _ => None,
    }
}

/// Folds changes in order into a [`MemberDelta`].
#[derive(Default)]
struct Folder {
    /// Set once a replace has been seen; adds and removes then apply to it directly.
    base: Option<IdSet>,
    add: IdSet,
    remove: IdSet,
}

impl Folder {
    fn fold(&mut self, change: Change) {
        match change {
            Change::Replace(ids) => {
                let mut base = IdSet::default();
                for id in ids {
                    base.insert(id);
                }
                self.base = Some(base);
                self.add = IdSet::default();
                self.remove = IdSet::default();
            }
            Change::Add(ids) => {
                for id in ids {
                    match &mut self.base {
                        Some(base) => base.insert(id),
                        None => {
                            self.remove.remove(&id);
                            self.add.insert(id);
                        }
                    }
                }
            }
            Change::Remove(ids) => {
                for id in ids {
                    match &mut self.base {
                        Some(base) => base.remove(&id),
                        None => {
                            self.add.remove(&id);
                            self.remove.insert(id);
                        }
                    }
                }
            }
        }
    }

    fn finish(self) -> MemberDelta {
        MemberDelta {
            replace_all: self.base.map(IdSet::into_vec),
            add: self.add.into_vec(),
            remove: self.remove.into_vec(),
        }
    }
}

/// An insertion-ordered set of ids with O(1) insert and remove (removed slots are left
/// empty), so a request listing thousands of ids stays linear.
#[derive(Default)]
struct IdSet {
    slots: Vec<Option<String>>,
    index: HashMap<String, usize>,
}

impl IdSet {
    /// Adds `id` at the end unless present.
    fn insert(&mut self, id: String) {
        if self.index.contains_key(&id) {
            return;
        }
        self.index.insert(id.clone(), self.slots.len());
        self.slots.push(Some(id));
    }

    fn remove(&mut self, id: &str) {
        if let Some(i) = self.index.remove(id)
            && let Some(slot) = self.slots.get_mut(i)
        {
            *slot = None;
        }
    }

    fn into_vec(self) -> Vec<String> {
        self.slots.into_iter().flatten().collect()
    }
}
