//! Every PATCH example of RFC 7644 §3.5.2, applied to realistic resources.

// clippy.toml allows these inside `#[test]` functions only; the table helpers need them too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::patch_common::*;
use serde_json::json;

const BABS: &str = "2819c223-7f76-453a-919d-413861904646";
const JAMES: &str = "08e1d05d-121c-4561-8b96-473d93df9210";
const MANDY: &str = "902c246b-6245-4190-8e05-00816be7344a";

fn babs_jensen() -> scim_core::resource::Attributes {
    user(json!({
        "userName": "bjensen@example.com",
        "name": {"familyName": "Jensen", "givenName": "Barbara"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [
            {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
             "region": "CA", "postalCode": "91608", "country": "USA", "primary": true},
            {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood",
             "region": "CA", "postalCode": "91608", "country": "USA"}
        ]
    }))
}

#[test]
fn add_member_to_group() {
    let g = group(json!({"displayName": "Tour Guides", "members": [{"value": MANDY}]}));
    let out = patch_group(
        &g,
        json!([{"op": "add", "path": "members", "value": [{
            "display": "Babs Jensen",
            "$ref": format!("https://example.com/v2/Users/{BABS}"),
            "value": BABS
        }]}]),
    );
    assert!(out.changed);
    assert_eq!(member_ids(&out.attributes), vec![MANDY, BABS]);
    assert_eq!(
        out.attributes["members"][1]["$ref"],
        format!("https://example.com/v2/Users/{BABS}")
    );
    assert!(
        out.attributes["members"][1].get("display").is_none(),
        "display is read-only"
    );
}

#[test]
fn add_without_path_merges_attributes() {
    let u = user(
        json!({"userName": "bjensen", "emails": [{"value": "bjensen@example.com", "type": "work"}]}),
    );
    let out = patch_user(
        &u,
        json!([{"op": "add", "value": {
            "emails": [{"value": "babs@jensen.org", "type": "home"}],
            "nickname": "Babs"
        }}]),
    );
    assert_eq!(out.attributes["nickName"], "Babs");
    assert_eq!(
        out.attributes["emails"],
        json!([{"value": "bjensen@example.com", "type": "work"}, {"value": "babs@jensen.org", "type": "home"}])
    );
}

#[test]
fn remove_single_member() {
    let out = patch_group(
        &two_member_group(),
        json!([{"op": "remove", "path": format!("members[value eq \"{BABS}\"]")}]),
    );
    assert_eq!(member_ids(&out.attributes), vec![MANDY]);
}

#[test]
fn remove_all_members() {
    let out = patch_group(
        &two_member_group(),
        json!([{"op": "remove", "path": "members"}]),
    );
    assert!(out.attributes.get("members").is_none());
    assert_eq!(out.attributes["displayName"], "Engineering");
}

#[test]
fn remove_values_by_complex_filter() {
    let u = user(json!({"userName": "b", "emails": [
        {"value": "b@example.com", "type": "work"},
        {"value": "b@example.org", "type": "work"},
        {"value": "b@home.example.com", "type": "home"}
    ]}));
    let out = patch_user(
        &u,
        json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
    );
    assert_eq!(
        out.attributes["emails"],
        json!([{"value": "b@example.org", "type": "work"}, {"value": "b@home.example.com", "type": "home"}])
    );
}

#[test]
fn remove_all_members_then_add_new_ones() {
    let out = patch_group(
        &two_member_group(),
        json!([
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [
                {"display": "Babs Jensen", "$ref": format!("https://example.com/v2/Users/{BABS}"), "value": BABS},
                {"display": "James Smith", "$ref": format!("https://example.com/v2/Users/{JAMES}"), "value": JAMES}
            ]}
        ]),
    );
    assert_eq!(member_ids(&out.attributes), vec![BABS, JAMES]);
}

#[test]
fn replace_all_members() {
    let out = patch_group(
        &two_member_group(),
        json!([{"op": "replace", "path": "members", "value": [
            {"display": "Babs Jensen", "$ref": format!("https://example.com/v2/Users/{BABS}"), "value": BABS},
            {"display": "James Smith", "$ref": format!("https://example.com/v2/Users/{JAMES}"), "value": JAMES}
        ]}]),
    );
    assert_eq!(member_ids(&out.attributes), vec![BABS, JAMES]);
    assert!(
        out.attributes["members"][0].get("type").is_none(),
        "replaced, not merged"
    );
}

#[test]
fn replace_value_selected_by_filter() {
    let out = patch_user(
        &babs_jensen(),
        json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": {
            "type": "work",
            "streetAddress": "911 Universal City Plaza",
            "locality": "Hollywood", "region": "CA", "postalCode": "91608", "country": "US",
            "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
            "primary": true
        }}]),
    );
    let addresses = out.attributes["addresses"].as_array().unwrap();
    assert_eq!(addresses.len(), 2);
    assert_eq!(addresses[0]["streetAddress"], "911 Universal City Plaza");
    assert_eq!(addresses[0]["country"], "US");
    assert_eq!(
        addresses[0]["formatted"],
        "911 Universal City Plaza\nHollywood, CA 91608 US"
    );
    assert_eq!(
        addresses[1]["streetAddress"], "456 Hollywood Blvd",
        "other values kept"
    );
}

#[test]
fn replace_sub_attribute_of_selected_values() {
    let out = patch_user(
        &babs_jensen(),
        json!([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}]),
    );
    assert_eq!(
        out.attributes["addresses"][0]["streetAddress"],
        "1010 Broadway Ave"
    );
    assert_eq!(out.attributes["addresses"][0]["locality"], "Hollywood");
    assert_eq!(
        out.attributes["addresses"][1]["streetAddress"],
        "456 Hollywood Blvd"
    );
}

#[test]
fn replace_without_path_replaces_multi_valued_attributes() {
    let out = patch_user(
        &babs_jensen(),
        json!([{"op": "replace", "value": {
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "nickname": "Babs"
        }}]),
    );
    assert_eq!(out.attributes["nickName"], "Babs");
    assert_eq!(out.attributes["emails"].as_array().unwrap().len(), 2);
    assert_eq!(
        out.attributes["name"]["givenName"], "Barbara",
        "untouched attributes kept"
    );
}

#[test]
fn replace_complex_keeps_unlisted_sub_attributes() {
    let out = patch_user(
        &babs_jensen(),
        json!([{"op": "replace", "path": "name", "value": {"givenName": "Babs"}}]),
    );
    assert_eq!(
        out.attributes["name"],
        json!({"familyName": "Jensen", "givenName": "Babs"})
    );
}

#[test]
fn replace_missing_attribute_is_an_add() {
    let out = patch_user(
        &babs_jensen(),
        json!([{"op": "replace", "path": "title", "value": "Tour Guide"}]),
    );
    assert_eq!(out.attributes["title"], "Tour Guide");
}

#[test]
fn replace_with_filter_matching_nothing_is_no_target() {
    let t = patch_err(
        scim_core::ResourceKind::User,
        &babs_jensen(),
        json!([{"op": "replace", "path": "addresses[locality sw \"Paris\"].region", "value": "IDF"}]),
    );
    assert_eq!(t, Some(scim_core::ScimType::NoTarget));
}

#[test]
fn add_existing_value_changes_nothing() {
    let out = patch_user(
        &babs_jensen(),
        json!([{"op": "add", "path": "emails", "value": [{"value": "babs@jensen.org", "type": "home"}]}]),
    );
    assert!(!out.changed);
}
