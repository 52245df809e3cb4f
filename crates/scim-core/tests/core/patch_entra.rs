//! The PATCH bodies Microsoft Entra ID sends (entra-rfc.md §1.3, §1.8-§1.10), with and
//! without the `aadOptscim062020` flag.

// clippy.toml allows these inside `#[test]` functions only; the table helpers need them too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::patch_common::*;
use scim_core::ResourceKind;
use serde_json::json;

fn entra_user() -> scim_core::resource::Attributes {
    user(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee@testuser.com", "active": true,
        "emails": [{"primary": true, "type": "home", "value": "home@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": []
    }))
}

#[test]
fn capitalised_ops_and_string_booleans() {
    let u = entra_user();
    let out = patch_user(
        &u,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    );
    assert_eq!(out.attributes["active"], false);
    let out = patch_user(
        &out.attributes,
        json!([{"op": "replace", "path": "active", "value": true}]),
    );
    assert_eq!(out.attributes["active"], true);
    let out = patch_user(
        &u,
        json!([{"op": "Add", "path": "nickName", "value": "Babs"}]),
    );
    assert_eq!(out.attributes["nickName"], "Babs");
    let out = patch_user(
        &u,
        json!([{"op": "ADD", "path": "NICKNAME", "value": "Babs"}]),
    );
    assert_eq!(out.attributes["nickName"], "Babs");
}

#[test]
fn work_email_is_created_then_updated_and_other_emails_kept() {
    let u = entra_user();
    let out = patch_user(
        &u,
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "work@contoso.com"}]),
    );
    assert_eq!(
        out.attributes["emails"],
        json!([
            {"primary": true, "type": "home", "value": "home@testuser.com"},
            {"type": "work", "value": "work@contoso.com"}
        ])
    );
    let out = patch_user(
        &out.attributes,
        json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"}]),
    );
    assert_eq!(
        out.attributes["emails"][1],
        json!({"type": "work", "value": "new@contoso.com"})
    );
    assert_eq!(out.attributes["emails"][0]["value"], "home@testuser.com");
    assert_eq!(out.attributes["emails"].as_array().unwrap().len(), 2);
}

#[test]
fn add_on_missing_filtered_value_creates_it() {
    let u = user(json!({"userName": "x"}));
    let out = patch_user(
        &u,
        json!([
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "x@contoso.com"},
            {"op": "Add", "path": "name.givenName", "value": "Xavier"},
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"}
        ]),
    );
    assert_eq!(
        out.attributes["emails"],
        json!([{"type": "work", "value": "x@contoso.com"}])
    );
    assert_eq!(out.attributes["name"], json!({"givenName": "Xavier"}));
    assert_eq!(
        out.attributes["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555 0100"}])
    );
}

#[test]
fn address_ops_land_in_one_address() {
    let out = patch_user(
        &entra_user(),
        json!([
            {"op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Microsoft Way"},
            {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"},
            {"op": "Add", "path": "addresses[type eq \"work\"].region", "value": "WA"},
            {"op": "Replace", "path": "addresses[type eq \"work\"].postalCode", "value": "98052"},
            {"op": "Replace", "path": "addresses[type eq \"work\"].country", "value": "US"},
            {"op": "Add", "path": "addresses[type eq \"work\"].formatted", "value": "1 Microsoft Way, Redmond"}
        ]),
    );
    assert_eq!(
        out.attributes["addresses"],
        json!([{"type": "work", "streetAddress": "1 Microsoft Way", "locality": "Redmond", "region": "WA",
                "postalCode": "98052", "country": "US", "formatted": "1 Microsoft Way, Redmond"}])
    );
}

#[test]
fn several_attributes_one_replace_each() {
    let out = patch_user(
        &entra_user(),
        json!([
            {"op": "Replace", "path": "displayName", "value": "Jane Doe"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "jane@contoso.com"},
            {"op": "Replace", "path": "name.givenName", "value": "Jane"},
            {"op": "Replace", "path": "name.familyName", "value": "Doe"},
            {"op": "Replace", "path": "externalId", "value": "jdoe"},
            {"op": "Replace", "path": format!("{ENT}:employeeNumber"), "value": "701984"}
        ]),
    );
    let a = &out.attributes;
    assert_eq!(a["displayName"], "Jane Doe");
    assert_eq!(a["name"]["givenName"], "Jane");
    assert_eq!(a["name"]["familyName"], "Doe");
    assert_eq!(a["name"]["formatted"], "givenName familyName");
    assert_eq!(a["externalId"], "jdoe");
    assert_eq!(a[ENT]["employeeNumber"], "701984");
    assert_eq!(a["emails"].as_array().unwrap().len(), 2);
}

#[test]
fn path_less_replace_with_dotted_and_urn_keys() {
    let out = patch_user(
        &entra_user(),
        json!([{"op": "replace", "value": {
            "displayName": "Jane Doe",
            "name.givenName": "Jane",
            "name.familyName": "Doe",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": "271",
            "urn:ietf:params:scim:schemas:core:2.0:User:title": "Engineer"
        }}]),
    );
    let a = &out.attributes;
    assert_eq!(a["displayName"], "Jane Doe");
    assert_eq!(
        a["name"],
        json!({"formatted": "givenName familyName", "familyName": "Doe", "givenName": "Jane"})
    );
    assert_eq!(a[ENT]["employeeNumber"], "701984");
    assert_eq!(a[ENT]["manager"], json!({"value": "271"}));
    assert_eq!(a["title"], "Engineer");
}

#[test]
fn path_less_nested_extension_object_and_case_insensitive_names() {
    let out = patch_user(
        &entra_user(),
        json!([{"op": "add", "value": {
            ENT: {"Department": "R&D", "costCenter": "42", "customThing": "kept"},
            "NickName": "JD"
        }}]),
    );
    assert_eq!(
        out.attributes[ENT],
        json!({"department": "R&D", "costCenter": "42", "customThing": "kept"})
    );
    assert_eq!(out.attributes["nickName"], "JD");
}

#[test]
fn manager_add_replace_remove_and_clear() {
    let path = format!("{ENT}:manager");
    let out = patch_user(
        &entra_user(),
        json!([{"op": "Add", "path": path, "value": "271"}]),
    );
    assert_eq!(out.attributes[ENT]["manager"], json!({"value": "271"}));
    let out = patch_user(
        &out.attributes,
        json!([{"op": "Replace", "path": path, "value": "272"}]),
    );
    assert_eq!(out.attributes[ENT]["manager"], json!({"value": "272"}));
    let out2 = patch_user(&out.attributes, json!([{"op": "Remove", "path": path}]));
    assert!(
        out2.attributes.get(ENT).is_none(),
        "empty extension object dropped"
    );
    let out3 = patch_user(
        &out.attributes,
        json!([{"op": "Replace", "path": path, "value": ""}]),
    );
    assert!(out3.attributes.get(ENT).is_none());
    let out4 = patch_user(
        &out.attributes,
        json!([{"op": "Replace", "path": path, "value": null}]),
    );
    assert!(out4.attributes.get(ENT).is_none());
    // The legacy form: unqualified path and a one-element array.
    let out5 = patch_user(
        &entra_user(),
        json!([{"op": "Add", "path": "manager", "value": [{"$ref": null, "value": "273"}]}]),
    );
    assert_eq!(out5.attributes[ENT]["manager"], json!({"value": "273"}));
    // A manager object is replaced whole when a bare id arrives.
    let u = user(json!({"userName": "m", ENT: {"manager": {"value": "1", "$ref": "../Users/1"}}}));
    let out6 = patch_user(&u, json!([{"op": "Replace", "path": path, "value": "2"}]));
    assert_eq!(out6.attributes[ENT]["manager"], json!({"value": "2"}));
}

#[test]
fn member_removal_by_value_list_removes_only_those() {
    let g = group(
        json!({"displayName": "G", "members": [{"value": "u1"}, {"value": "u2"}, {"value": "u3"}]}),
    );
    let out = patch_group(
        &g,
        json!([{"op": "Remove", "path": "members", "value": [{"value": "u2"}, {"value": "u4"}]}]),
    );
    assert_eq!(member_ids(&out.attributes), vec!["u1", "u3"]);
    let out = patch_group(
        &g,
        json!([{"op": "Remove", "path": "members", "value": [{"value": "nope"}]}]),
    );
    assert!(!out.changed, "never wipes the list");
    let out = patch_group(
        &g,
        json!([{"op": "Remove", "path": "members", "value": []}]),
    );
    assert!(!out.changed);
    let out = patch_group(
        &g,
        json!([{"op": "remove", "path": "members", "value": ["u1", "u3"]}]),
    );
    assert_eq!(member_ids(&out.attributes), vec!["u2"]);
}

#[test]
fn member_add_with_null_ref_and_bare_string() {
    let g = group(json!({"displayName": "G"}));
    let out = patch_group(
        &g,
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}, {"value": "u2"}]}]),
    );
    assert_eq!(
        out.attributes["members"],
        json!([{"value": "f648f8d5ea4e4cd38e9c"}, {"value": "u2"}])
    );
    let out = patch_group(&g, json!([{"op": "Add", "path": "members", "value": "u7"}]));
    assert_eq!(member_ids(&out.attributes), vec!["u7"]);
}

#[test]
fn group_display_name_replace() {
    let out = patch_group(
        &two_member_group(),
        json!([{"op": "Replace", "path": "displayName", "value": "Renamed"}]),
    );
    assert_eq!(out.attributes["displayName"], "Renamed");
}

#[test]
fn roles_with_primary_string_filter() {
    let u = entra_user();
    let out = patch_user(
        &u,
        json!([{"op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "Admin"}]),
    );
    assert_eq!(
        out.attributes["roles"],
        json!([{"primary": true, "value": "Admin"}])
    );
    let out = patch_user(
        &out.attributes,
        json!([{"op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "Reader"}]),
    );
    assert_eq!(
        out.attributes["roles"],
        json!([{"primary": true, "value": "Reader"}])
    );
    let out = patch_user(
        &u,
        json!([{"op": "Add", "path": "roles", "value": [{"value": "{\"id\":\"06b0\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}]}]),
    );
    assert_eq!(out.attributes["roles"].as_array().unwrap().len(), 1);
    let out = patch_user(
        &u,
        json!([{"op": "replace", "path": "roles", "value": [{"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]}]),
    );
    assert_eq!(out.attributes["roles"][0]["primary"], true);
}

#[test]
fn empty_operations_is_a_no_op() {
    let u = entra_user();
    let out = try_patch(ResourceKind::User, &u, &body(json!([]))).unwrap();
    assert!(!out.changed);
    assert_eq!(out.attributes, u);
}

#[test]
fn null_update_clears_optional_attributes() {
    let u = user(
        json!({"userName": "n", "title": "T", "nickName": "N", "externalId": "e",
                        "name": {"givenName": "G", "familyName": "F"}, ENT: {"department": "D"}}),
    );
    let out = patch_user(
        &u,
        json!([
            {"op": "Replace", "path": "title", "value": ""},
            {"op": "Replace", "path": "nickName", "value": null},
            {"op": "Replace", "path": "name.givenName", "value": ""},
            {"op": "Replace", "path": format!("{ENT}:department"), "value": ""},
            {"op": "replace", "value": {"externalId": ""}}
        ]),
    );
    assert_eq!(
        serde_json::Value::Object(out.attributes),
        json!({"userName": "n", "name": {"familyName": "F"}, "active": true})
    );
}

#[test]
fn clearing_the_work_email_value_drops_the_element() {
    let u = user(
        json!({"userName": "n", "emails": [{"type": "work", "value": "w@x"}, {"type": "home", "value": "h@x"}]}),
    );
    let out = patch_user(
        &u,
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": ""}]),
    );
    assert_eq!(
        out.attributes["emails"],
        json!([{"type": "home", "value": "h@x"}])
    );
}

#[test]
fn mixed_email_ops_with_primary() {
    let u = user(
        json!({"userName": "n", "emails": [{"type": "home", "value": "h@x", "primary": true}]}),
    );
    let out = patch_user(
        &u,
        json!([
            {"op": "add", "path": "emails[type eq \"work\"].value", "value": "w@x"},
            {"op": "replace", "path": "emails[type eq \"work\"].primary", "value": true},
            {"op": "add", "path": "emails[type eq \"other\"].display", "value": "Other"},
            {"op": "add", "path": "emails[type eq \"other\"].value", "value": "o@x"}
        ]),
    );
    assert_eq!(
        out.attributes["emails"],
        json!([
            {"type": "home", "value": "h@x", "primary": false},
            {"type": "work", "value": "w@x", "primary": true},
            {"type": "other", "display": "Other", "value": "o@x"}
        ])
    );
}
