//! Interim stand-in for `scim_core::patch::split_member_ops` (being written in scim-core;
//! same signature, so switching is a one-line change in [`super::write`]).
//!
//! It recognises only the member operations identity providers send (Entra, Okta):
//! `add` to `members` with `{"value": id}` objects, `remove` of `members[value eq "id"]`,
//! and `remove` of `members` with a list of `{"value": id}` objects. Anything else that
//! touches `members` gives `None`: the caller then applies the whole request to the group
//! with its members loaded, which is always correct, only slower.

use scim_core::filter::{CompValue, CompareOp, Filter};
use scim_core::patch::{MemberDelta, PatchOpKind, PatchOperation, PatchRequest};
use scim_core::schema::ResourceKind;
use serde_json::Value;

/// A group PATCH split into its membership delta and the rest of its operations.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberSplit {
    /// What the request does to `members`.
    pub delta: MemberDelta,
    /// The operations that do not touch `members`, in order.
    pub rest: PatchRequest,
}

/// Splits `request` when every operation on `members` is one of the recognised forms.
pub fn split_member_ops(kind: ResourceKind, request: &PatchRequest) -> Option<MemberSplit> {
    if kind != ResourceKind::Group {
        return None;
    }
    let mut delta = MemberDelta::default();
    let mut rest = Vec::new();
    for op in &request.operations {
        match classify(op)? {
            Op::Other => rest.push(op.clone()),
            Op::Add(ids) => ids.into_iter().for_each(|id| add(&mut delta, id)),
            Op::Remove(ids) => ids.into_iter().for_each(|id| remove(&mut delta, id)),
        }
    }
    Some(MemberSplit {
        delta,
        rest: PatchRequest { operations: rest },
    })
}

// Sequential semantics: a later add undoes an earlier remove of the same id and vice versa.
fn add(delta: &mut MemberDelta, id: String) {
    delta.remove.retain(|r| *r != id);
    if !delta.add.contains(&id) {
        delta.add.push(id);
    }
}

fn remove(delta: &mut MemberDelta, id: String) {
    delta.add.retain(|a| *a != id);
    if !delta.remove.contains(&id) {
        delta.remove.push(id);
    }
}

/// A recognised operation.
enum Op {
    /// It does not touch `members`.
    Other,
    /// It adds these member ids.
    Add(Vec<String>),
    /// It removes these member ids.
    Remove(Vec<String>),
}

/// What `op` does to `members`; `None` when it touches them in a form not recognised.
fn classify(op: &PatchOperation) -> Option<Op> {
    let Some(path) = &op.path else {
        // A path-less add/replace names attributes in its value object.
        let touches = op
            .value
            .as_ref()
            .and_then(Value::as_object)
            .is_some_and(|m| m.keys().any(|k| k.eq_ignore_ascii_case("members")));
        return if touches { None } else { Some(Op::Other) };
    };
    if !path.attr.eq_ignore_ascii_case("members") {
        return Some(Op::Other);
    }
    if path.urn.is_some() || path.sub_attr.is_some() {
        return None;
    }
    match (op.op, &path.filter, &op.value) {
        (PatchOpKind::Add, None, Some(v)) => Some(Op::Add(value_ids(v)?)),
        (PatchOpKind::Remove, None, Some(v)) => Some(Op::Remove(value_ids(v)?)),
        (PatchOpKind::Remove, Some(f), None) => Some(Op::Remove(vec![value_eq(f)?])),
        _ => None,
    }
}

/// The ids of `[{"value": id}, ...]` (or of one such object).
fn value_ids(v: &Value) -> Option<Vec<String>> {
    let one = |item: &Value| {
        item.as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("value"))?
            .1
            .as_str()
            .map(str::to_string)
    };
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        Value::Object(_) => one(v).map(|id| vec![id]),
        _ => None,
    }
}

/// The id of a `value eq "id"` filter.
fn value_eq(f: &Filter) -> Option<String> {
    match f {
        Filter::Compare(p, CompareOp::Eq, CompValue::String(id))
            if p.urn.is_none() && p.sub_attr.is_none() && p.name.eq_ignore_ascii_case("value") =>
        {
            Some(id.clone())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(ops: Value) -> PatchRequest {
        PatchRequest::from_json(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": ops
        }))
        .unwrap()
    }

    #[test]
    fn splits_idp_member_operations() {
        let r = request(json!([
            {"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
            {"op": "remove", "path": "members[value eq \"c\"]"},
            {"op": "replace", "path": "displayName", "value": "Eng"},
            {"op": "remove", "path": "members", "value": [{"value": "a"}]},
        ]));
        let split = split_member_ops(ResourceKind::Group, &r).unwrap();
        assert_eq!(split.delta.replace_all, None);
        assert_eq!(split.delta.add, vec!["b".to_string()]);
        assert_eq!(split.delta.remove, vec!["c".to_string(), "a".to_string()]);
        assert_eq!(split.rest.operations.len(), 1);
        assert_eq!(split.rest.operations[0].op, PatchOpKind::Replace);
    }

    #[test]
    fn unrecognised_member_operations_fall_back() {
        for ops in [
            json!([{"op": "replace", "path": "members", "value": [{"value": "a"}]}]),
            json!([{"op": "remove", "path": "members"}]),
            json!([{"op": "add", "value": {"members": [{"value": "a"}]}}]),
            json!([{"op": "remove", "path": "members[display eq \"x\"]"}]),
        ] {
            assert_eq!(
                split_member_ops(ResourceKind::Group, &request(ops.clone())),
                None,
                "{ops}"
            );
        }
        let users = request(json!([{"op": "replace", "path": "active", "value": false}]));
        assert_eq!(split_member_ops(ResourceKind::User, &users), None);
        let plain = split_member_ops(
            ResourceKind::Group,
            &request(json!([
                {"op": "replace", "value": {"displayName": "x"}}
            ])),
        )
        .unwrap();
        assert!(plain.delta.is_empty());
        assert_eq!(plain.rest.operations.len(), 1);
    }
}
