//! The member-delta recogniser (`split_member_ops`): the exact delta of every Okta and
//! Entra shape, the shapes it must refuse, and the equivalence check against `apply_patch`
//! that the table rows and the property tests (`patch_members_props`) share.

// clippy.toml allows these inside `#[test]` functions only; the table helpers need them too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::patch_common::*;
use proptest::prelude::*;
use scim_core::ResourceKind;
use scim_core::patch::{MemberDelta, PatchRequest, apply_patch, split_member_ops};
use scim_core::resource::Attributes;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

pub(crate) fn request(ops: Value) -> PatchRequest {
    PatchRequest::from_json(&body(ops.clone())).unwrap_or_else(|e| panic!("{ops}: {e}"))
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn delta(replace_all: Option<&[&str]>, add: &[&str], remove: &[&str]) -> MemberDelta {
    MemberDelta {
        replace_all: replace_all.map(ids),
        add: ids(add),
        remove: ids(remove),
    }
}

/// A group as the store hands it to `apply_patch`: members carry the `display` and `type`
/// the store derives.
pub(crate) fn stored_group(members: &[String], others: &Map<String, Value>) -> Attributes {
    let mut attrs = others.clone();
    if !members.is_empty() {
        let list = members
            .iter()
            .map(|id| json!({"value": id, "display": format!("name of {id}"), "type": "User"}))
            .collect();
        attrs.insert("members".into(), Value::Array(list));
    }
    attrs
}

pub(crate) fn others() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("displayName".into(), json!("Engineering"));
    m.insert("externalId".into(), json!("ext-1"));
    m
}

pub(crate) fn id_set<'a>(ids: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    ids.into_iter().cloned().collect()
}

/// `apply_patch` on the whole group versus `rest` on the group without members plus the
/// delta on its member ids. `plain`: the request never rewrites member objects whose id
/// stays (no replace, no remove-all, no re-add after a removal, no unknown keys), so
/// `apply_patch`'s `changed` must be exactly "rest changed or the set changed".
pub(crate) fn check_equivalent(
    current: &[String],
    others: &Map<String, Value>,
    request: &PatchRequest,
    plain: bool,
) -> Result<MemberDelta, TestCaseError> {
    let split = split_member_ops(ResourceKind::Group, request)
        .ok_or_else(|| TestCaseError::fail("split_member_ops refused the request"))?;
    for op in &split.rest.operations {
        let text = format!("{:?}", op).to_lowercase();
        prop_assert!(!text.contains("members"), "rest touches members: {op:?}");
    }
    let with = stored_group(current, others);
    let without = stored_group(&[], others);
    let full = apply_patch(ResourceKind::Group, &with, request);
    let rest = apply_patch(ResourceKind::Group, &without, &split.rest);
    prop_assert_eq!(
        full.is_ok(),
        rest.is_ok(),
        "full {:?} rest {:?}",
        full,
        rest
    );
    let (Ok(full), Ok(rest)) = (full, rest) else {
        return Ok(split.delta);
    };
    let after = member_ids(&full.attributes);
    prop_assert_eq!(
        after.len(),
        id_set(&after).len(),
        "apply_patch left duplicates"
    );
    let expected = split.delta.apply_to(current);
    prop_assert_eq!(id_set(&after), id_set(&expected), "member sets differ");
    prop_assert_eq!(
        expected.len(),
        id_set(&expected).len(),
        "apply_to duplicates"
    );
    let mut full_others = full.attributes.clone();
    full_others.shift_remove("members");
    prop_assert_eq!(
        &full_others,
        &rest.attributes,
        "non-member attributes differ"
    );
    prop_assert!(!rest.attributes.contains_key("members"));
    let set_differs = id_set(&after) != id_set(current);
    if rest.changed || set_differs {
        prop_assert!(full.changed, "a change apply_patch did not report");
    }
    if plain {
        prop_assert_eq!(full.changed, rest.changed || set_differs);
    }
    Ok(split.delta)
}

/// Runs one table row: the exact delta, the rest, and the equivalence on a few groups.
fn row(ops: Value, expected: MemberDelta, rest_len: usize) {
    let req = request(ops.clone());
    let split =
        split_member_ops(ResourceKind::Group, &req).unwrap_or_else(|| panic!("refused {ops}"));
    assert_eq!(split.delta, expected, "{ops}");
    assert_eq!(split.rest.operations.len(), rest_len, "{ops}");
    for current in [ids(&[]), ids(&["u1"]), ids(&["u1", "u2", "u3"])] {
        if let Err(e) = check_equivalent(&current, &others(), &req, false) {
            panic!("{ops} on {current:?}: {e}");
        }
    }
}

#[test]
fn okta_shapes() {
    // DOC20 membership update: a removal by filter, then an add with `display`.
    row(
        json!([
            {"op": "remove", "path": "members[value eq \"u1\"]"},
            {"op": "add", "path": "members", "value": [{"value": "u4", "display": "u4@okta.local"}]}
        ]),
        delta(None, &["u4"], &["u1"]),
        0,
    );
    // Full push, and "Push now" on an empty group.
    row(
        json!([{"op": "replace", "path": "members", "value": [{"value": "u2"}, {"value": "u5"}, {"value": "u2"}]}]),
        delta(Some(&["u2", "u5"]), &[], &[]),
        0,
    );
    row(
        json!([{"op": "replace", "path": "members", "value": []}]),
        delta(Some(&[]), &[], &[]),
        0,
    );
    // Path-less replace with `members` (Metatavu #100) next to the rename Okta sends.
    row(
        json!([{"op": "replace", "value": {"id": "g1", "displayName": "Eng", "members": [{"value": "u9"}]}}]),
        delta(Some(&["u9"]), &[], &[]),
        1,
    );
    // The rename alone never touches members.
    row(
        json!([{"op": "replace", "value": {"id": "g1", "displayName": "Eng 2"}}]),
        delta(None, &[], &[]),
        1,
    );
}

#[test]
fn entra_shapes() {
    row(
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u7"}, {"value": "u8"}]}]),
        delta(None, &["u7", "u8"], &[]),
        0,
    );
    // The validator's form with `displayName` (kept as sent by apply_patch, ignored here).
    row(
        json!([{"op": "Add", "path": "members", "value": [{"displayName": "Ada", "value": "u7"}]}]),
        delta(None, &["u7"], &[]),
        0,
    );
    row(
        json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "zz"}]}]),
        delta(None, &[], &["u1", "zz"]),
        0,
    );
    // An empty list removes nothing; no value removes everything.
    row(
        json!([{"op": "Remove", "path": "members", "value": []}]),
        delta(None, &[], &[]),
        0,
    );
    row(
        json!([{"op": "Remove", "path": "members"}]),
        delta(Some(&[]), &[], &[]),
        0,
    );
    row(
        json!([{"op": "Remove", "path": "members", "value": null}]),
        delta(Some(&[]), &[], &[]),
        0,
    );
    // The "garbage" add with a bare string id, and the path-less add.
    row(
        json!([{"op": "Add", "path": "members", "value": "u6"}]),
        delta(None, &["u6"], &[]),
        0,
    );
    row(
        json!([{"op": "Add", "value": {"members": [{"value": "u6"}], "externalId": "e"}}]),
        delta(None, &["u6"], &[]),
        1,
    );
}

#[test]
fn path_spellings_and_blank_values() {
    for path in [
        "members",
        "MEMBERS",
        " Members ",
        &format!("{GROUP_URN}:members"),
    ] {
        row(
            json!([{"op": "add", "path": path, "value": [{"Value": "u2"}]}]),
            delta(None, &["u2"], &[]),
            0,
        );
    }
    row(
        json!([{"op": "add", "value": {format!("{GROUP_URN}:members"): ["u3"]}}]),
        delta(None, &["u3"], &[]),
        0,
    );
    row(
        json!([{"op": "remove", "path": "members[VALUE eq \"u2\"]"}]),
        delta(None, &[], &["u2"]),
        0,
    );
    // `""` and `null` clear on replace and add nothing; blank items are dropped.
    for value in [json!(null), json!(""), json!([null, "", {"value": ""}, {}])] {
        row(
            json!([{"op": "replace", "path": "members", "value": value}]),
            delta(Some(&[]), &[], &[]),
            0,
        );
        row(
            json!([{"op": "add", "path": "members", "value": value}]),
            delta(None, &[], &[]),
            0,
        );
    }
    // Ids are case-exact: `U1` is another member than `u1`.
    row(
        json!([{"op": "remove", "path": "members", "value": ["U1"]}]),
        delta(None, &[], &["U1"]),
        0,
    );
}

#[test]
fn sequences_compose_in_order() {
    row(
        json!([
            {"op": "replace", "path": "members", "value": ["a", "b"]},
            {"op": "add", "path": "members", "value": ["c", "a"]},
            {"op": "remove", "path": "members[value eq \"b\"]"}
        ]),
        delta(Some(&["a", "c"]), &[], &[]),
        0,
    );
    row(
        json!([
            {"op": "add", "path": "members", "value": ["u5"]},
            {"op": "remove", "path": "members[value eq \"u5\"]"}
        ]),
        delta(None, &[], &["u5"]),
        0,
    );
    row(
        json!([
            {"op": "remove", "path": "members[value eq \"u1\"]"},
            {"op": "add", "path": "members", "value": ["u1"]}
        ]),
        delta(None, &["u1"], &[]),
        0,
    );
    row(
        json!([
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": ["u2"]},
            {"op": "replace", "path": "displayName", "value": "New"}
        ]),
        delta(Some(&["u2"]), &[], &[]),
        1,
    );
}

#[test]
fn odd_shapes_are_refused() {
    let odd = [
        json!({"op": "add", "path": "members[value eq \"u1\"]", "value": {"value": "u1"}}),
        json!({"op": "replace", "path": "members[value eq \"u1\"]", "value": {"value": "u2"}}),
        json!({"op": "remove", "path": "members[display eq \"Ada\"]"}),
        json!({"op": "remove", "path": "members[value eq \"u1\" or value eq \"u2\"]"}),
        json!({"op": "remove", "path": "members[value ne \"u1\"]"}),
        json!({"op": "remove", "path": "members[value eq \"u1\"].display"}),
        json!({"op": "replace", "path": "members.value", "value": "u1"}),
        json!({"op": "add", "path": "members", "value": [{"value": 7}]}),
        json!({"op": "add", "path": "members", "value": [7]}),
        json!({"op": "add", "path": "members", "value": [["u1"]]}),
        json!({"op": "add", "path": "members", "value": ["{\"value\":\"u1\"}"]}),
        json!({"op": "add", "path": "members", "value": [{"value": "u1", "type": "Group"}]}),
        json!({"op": "add", "path": "members", "value": [{"value": "u1", "$ref": "https://x/Users/u1"}]}),
        json!({"op": "add", "path": "members", "value": [{"value": "u1", "primary": true}]}),
        json!({"op": "add", "path": "members", "value": [{"value": "u1", "VALUE": "u2"}]}),
        json!({"op": "add", "path": "members", "value": [{"foo": "bar"}]}),
        json!({"op": "remove", "path": "members", "value": [{"type": "User"}]}),
        json!({"op": "remove", "path": "members", "value": [true]}),
        json!({"op": "add", "value": {"members.value": "u1"}}),
        json!({"op": "add", "value": {"members[value eq \"u1\"]": {"value": "u1"}}}),
        json!({"op": "replace", "value": {GROUP_URN: {"members": []}}}),
        json!({"op": "replace", "path": GROUP_URN, "value": {"members": []}}),
    ];
    for op in odd {
        let req = request(json!([{"op": "add", "path": "members", "value": ["u1"]}, op]));
        assert!(
            split_member_ops(ResourceKind::Group, &req).is_none(),
            "accepted {op}"
        );
    }
    // Users have no members to split.
    let req = request(json!([{"op": "replace", "path": "active", "value": false}]));
    assert!(split_member_ops(ResourceKind::User, &req).is_none());
}

#[test]
fn rest_keeps_only_the_other_keys_in_order() {
    let req = request(json!([
        {"op": "replace", "value": {"externalId": "x", "members": ["a"], "displayName": "D", "schemas": [GROUP_URN]}}
    ]));
    let split = split_member_ops(ResourceKind::Group, &req).unwrap();
    assert_eq!(
        split.rest.operations[0].value,
        Some(json!({"externalId": "x", "displayName": "D", "schemas": [GROUP_URN]}))
    );
    let keys: Vec<&String> = split.rest.operations[0]
        .value
        .as_ref()
        .and_then(Value::as_object)
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["externalId", "displayName", "schemas"]);
}

#[test]
fn errors_of_other_operations_stay_in_rest() {
    // Clearing the required displayName fails the whole request, so `rest` must fail too.
    for ops in [
        json!([{"op": "add", "path": "members", "value": ["u1"]}, {"op": "replace", "path": "displayName", "value": ""}]),
        json!([{"op": "add", "path": "nope", "value": "x"}, {"op": "add", "path": "members", "value": ["u1"]}]),
        json!([{"op": "replace", "value": {"members": ["u1"], "displayName": 5}}]),
    ] {
        let req = request(ops.clone());
        let split = split_member_ops(ResourceKind::Group, &req).unwrap();
        let with = stored_group(&ids(&["u2"]), &others());
        assert!(
            apply_patch(ResourceKind::Group, &with, &req).is_err(),
            "{ops}"
        );
        let without = stored_group(&[], &others());
        assert!(
            apply_patch(ResourceKind::Group, &without, &split.rest).is_err(),
            "{ops}"
        );
    }
}

#[test]
fn apply_to_and_is_empty() {
    let current = ids(&["a", "b", "a"]);
    assert!(MemberDelta::default().is_empty());
    assert_eq!(MemberDelta::default().apply_to(&current), ids(&["a", "b"]));
    assert!(!delta(Some(&[]), &[], &[]).is_empty());
    assert_eq!(delta(Some(&[]), &[], &[]).apply_to(&current), ids(&[]));
    assert_eq!(
        delta(Some(&["c"]), &["d", "c"], &["x"]).apply_to(&current),
        ids(&["c", "d"])
    );
    assert_eq!(
        delta(None, &["c", "a"], &["b"]).apply_to(&current),
        ids(&["a", "c"])
    );
}

pub(crate) fn arb_id() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "c", "d", "A"]).prop_map(String::from)
}
