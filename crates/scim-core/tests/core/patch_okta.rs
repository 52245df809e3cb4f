//! The PATCH bodies Okta sends (okta.md §2.5, §2.6, §2.9), verbatim.

// clippy.toml allows these inside `#[test]` functions only; the table helpers need them too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::patch_common::*;
use scim_core::ResourceKind;
use serde_json::json;

#[test]
fn deactivate_and_reactivate() {
    let u = okta_user();
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": [{"op": "replace", "value": {"active": false}}]});
    let out = try_patch(ResourceKind::User, &u, &body).unwrap();
    assert!(out.changed);
    assert_eq!(out.attributes["active"], false);
    let mut expected = u.clone();
    expected.insert("active".into(), json!(false));
    assert_eq!(out.attributes, expected, "nothing else changes");

    let again = try_patch(ResourceKind::User, &out.attributes, &body).unwrap();
    assert!(!again.changed, "a repeated deactivation is not a change");

    let back = patch_user(
        &out.attributes,
        json!([{"op": "replace", "value": {"active": true}}]),
    );
    assert!(back.changed);
    assert_eq!(back.attributes, u);
}

#[test]
fn password_sync_is_accepted_and_discarded() {
    let u = okta_user();
    let out = patch_user(
        &u,
        json!([{"op": "replace", "value": {"password": "n3wP@ss"}}]),
    );
    assert!(!out.changed);
    assert!(out.attributes.get("password").is_none());
    let out = patch_user(
        &u,
        json!([{"op": "replace", "path": "password", "value": "n3wP@ss"}]),
    );
    assert!(out.attributes.get("password").is_none());
}

#[test]
fn group_rename_with_id_in_value() {
    let g = two_member_group();
    let out = patch_group(
        &g,
        json!([{"op": "replace", "value": {"id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", "displayName": "Test SCIMv2 renamed"}}]),
    );
    assert_eq!(out.attributes["displayName"], "Test SCIMv2 renamed");
    assert!(out.attributes.get("id").is_none());
    assert_eq!(out.attributes["members"], g["members"]);
}

#[test]
fn remove_member_then_add_member() {
    let out = patch_group(
        &two_member_group(),
        json!([
            {"op": "remove", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"},
            {"op": "remove", "path": "members[value eq \"902c246b-6245-4190-8e05-00816be7344a\"]"},
            {"op": "add", "path": "members", "value": [{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}]}
        ]),
    );
    assert_eq!(
        out.attributes["members"],
        json!([{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173"}])
    );
}

#[test]
fn re_adding_a_member_is_idempotent() {
    let g = two_member_group();
    let out = patch_group(
        &g,
        json!([{"op": "add", "path": "members", "value": [{"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs"}]}]),
    );
    assert!(!out.changed);
    assert_eq!(out.attributes, g);
}

#[test]
fn removing_an_absent_member_is_idempotent() {
    let g = two_member_group();
    let out = patch_group(
        &g,
        json!([{"op": "remove", "path": "members[value eq \"not-a-member\"]"}]),
    );
    assert!(!out.changed);
}

#[test]
fn replace_members_with_empty_list_clears() {
    let out = patch_group(
        &two_member_group(),
        json!([{"op": "replace", "path": "members", "value": []}]),
    );
    assert!(out.changed);
    assert!(out.attributes.get("members").is_none());
}

#[test]
fn full_push_replaces_members() {
    let out = patch_group(
        &two_member_group(),
        json!([{"op": "replace", "path": "members", "value": [
            {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy"},
            {"value": "u3", "display": "third"}
        ]}]),
    );
    assert_eq!(
        member_ids(&out.attributes),
        vec!["902c246b-6245-4190-8e05-00816be7344a", "u3"]
    );
}

#[test]
fn replace_members_listing_one_twice_keeps_one() {
    let out = patch_group(
        &two_member_group(),
        json!([{"op": "replace", "path": "members", "value": [{"value": "u1"}, {"value": "u1", "display": "dup"}]}]),
    );
    assert_eq!(out.attributes["members"], json!([{"value": "u1"}]));
}

#[test]
fn path_less_members_replace() {
    let out = patch_group(
        &two_member_group(),
        json!([{"op": "replace", "value": {"members": [{"value": "u9", "display": "nine"}]}}]),
    );
    assert_eq!(member_ids(&out.attributes), vec!["u9"]);
    assert_eq!(out.attributes["displayName"], "Engineering");
}

#[test]
fn add_members_to_empty_group() {
    let g = group(json!({"displayName": "Test SCIMv2", "members": []}));
    let out = patch_group(
        &g,
        json!([{"op": "add", "path": "members", "value": [{"value": "u1", "display": "a"}, {"value": "u2", "display": "b"}]}]),
    );
    assert_eq!(member_ids(&out.attributes), vec!["u1", "u2"]);
}

#[test]
fn large_group_membership_changes() {
    let members: Vec<_> = (0..3000)
        .map(|i| json!({"value": format!("u{i}")}))
        .collect();
    let g = group(json!({"displayName": "Everyone", "members": members}));
    // Adding 1000 values of which 500 are already members.
    let adds: Vec<_> = (2500..3500)
        .map(|i| json!({"value": format!("u{i}")}))
        .collect();
    let out = patch_group(&g, json!([{"op": "add", "path": "members", "value": adds}]));
    assert_eq!(member_ids(&out.attributes).len(), 3500);
    // Entra-style removal of 1000 listed members, 500 of them absent.
    let gone: Vec<_> = (3000..4000)
        .map(|i| json!({"value": format!("u{i}")}))
        .collect();
    let out = patch_group(
        &out.attributes,
        json!([{"op": "Remove", "path": "members", "value": gone}]),
    );
    assert_eq!(member_ids(&out.attributes), member_ids(&g));
    // A filter removing many members at once.
    let out = patch_group(
        &g,
        json!([{"op": "remove", "path": "members[value sw \"u1\"]"}]),
    );
    assert_eq!(member_ids(&out.attributes).len(), 3000 - 1111);
}
