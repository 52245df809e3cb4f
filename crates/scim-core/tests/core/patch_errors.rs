//! PATCH failures with their scimType, atomicity, and change detection.

// clippy.toml allows these inside `#[test]` functions only; the table helpers need them too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::patch_common::*;
use scim_core::ResourceKind::{Group, User};
use scim_core::ScimType::{self, *};
use serde_json::{Value, json};

#[test]
fn malformed_operations_against_a_user() {
    let u = okta_user();
    let cases: Vec<(Value, ScimType)> = vec![
        // read-only targets
        (
            json!({"op": "replace", "path": "id", "value": "x"}),
            Mutability,
        ),
        (
            json!({"op": "replace", "path": "meta", "value": {"created": "2020-01-01T00:00:00Z"}}),
            Mutability,
        ),
        (
            json!({"op": "replace", "path": "meta.lastModified", "value": "2020-01-01T00:00:00Z"}),
            Mutability,
        ),
        (
            json!({"op": "add", "path": "groups", "value": [{"value": "g1"}]}),
            Mutability,
        ),
        (json!({"op": "remove", "path": "groups"}), Mutability),
        (
            json!({"op": "add", "path": "schemas", "value": ["urn:x"]}),
            Mutability,
        ),
        (
            json!({"op": "replace", "path": format!("{ENT}:manager.displayName"), "value": "Boss"}),
            Mutability,
        ),
        // required attribute removed or cleared
        (json!({"op": "remove", "path": "userName"}), Mutability),
        (
            json!({"op": "replace", "path": "userName", "value": ""}),
            Mutability,
        ),
        (
            json!({"op": "replace", "path": "userName", "value": null}),
            Mutability,
        ),
        (
            json!({"op": "replace", "value": {"userName": ""}}),
            Mutability,
        ),
        // unknown attributes and sub-attributes
        (
            json!({"op": "add", "path": "favouriteColour", "value": "blue"}),
            InvalidPath,
        ),
        (
            json!({"op": "remove", "path": "favouriteColour"}),
            InvalidPath,
        ),
        (
            json!({"op": "add", "path": "name.nickname", "value": "x"}),
            InvalidPath,
        ),
        (
            json!({"op": "add", "path": "emails[type eq \"work\"].colour", "value": "x"}),
            InvalidPath,
        ),
        (
            json!({"op": "add", "path": "urn:example:unknown:1.0:User:foo", "value": "x"}),
            InvalidPath,
        ),
        (
            json!({"op": "add", "path": "title.value", "value": "x"}),
            InvalidPath,
        ),
        (
            json!({"op": "add", "path": "name[givenName eq \"Test\"]", "value": {"givenName": "x"}}),
            InvalidPath,
        ),
        // wrong value types
        (
            json!({"op": "replace", "path": "active", "value": "yes"}),
            InvalidValue,
        ),
        (
            json!({"op": "replace", "path": "active", "value": 1}),
            InvalidValue,
        ),
        (
            json!({"op": "replace", "path": "userName", "value": 42}),
            InvalidValue,
        ),
        (
            json!({"op": "replace", "path": "name", "value": 42}),
            InvalidValue,
        ),
        (
            json!({"op": "replace", "path": "name.givenName", "value": {"x": 1}}),
            InvalidValue,
        ),
        (
            json!({"op": "replace", "path": "displayName", "value": ["a", "b"]}),
            InvalidValue,
        ),
        (
            json!({"op": "add", "path": "emails", "value": [{"value": 7}]}),
            InvalidValue,
        ),
        (
            json!({"op": "add", "path": "emails", "value": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]}),
            InvalidValue,
        ),
        (
            json!({"op": "replace", "value": {"active": "maybe"}}),
            InvalidValue,
        ),
        (
            json!({"op": "replace", "value": {ENT: "not an object"}}),
            InvalidValue,
        ),
        (
            json!({"op": "add", "path": ENT, "value": "x"}),
            InvalidValue,
        ),
        (
            json!({"op": "replace", "path": "emails[type eq \"work\"]", "value": [{"value": "a"}, {"value": "b"}]}),
            InvalidValue,
        ),
        // unusable filters are errors whatever the data (no phone numbers here)
        (
            json!({"op": "remove", "path": "phoneNumbers[primary gt true]"}),
            InvalidFilter,
        ),
        (
            json!({"op": "add", "path": "phoneNumbers[display gt null].value", "value": "1"}),
            InvalidFilter,
        ),
        // filters that match nothing and cannot describe a new value
        (
            json!({"op": "replace", "path": "emails[value co \"nowhere\"].type", "value": "home"}),
            NoTarget,
        ),
        (
            json!({"op": "replace", "path": "emails[type eq \"home\" or type eq \"other\"].value", "value": "h@x"}),
            NoTarget,
        ),
        (
            json!({"op": "add", "path": "emails[type ne \"work\"].value", "value": "h@x"}),
            NoTarget,
        ),
        (
            json!({"op": "add", "path": "emails[type eq \"home\" and type eq \"other\"].value", "value": "h@x"}),
            NoTarget,
        ),
        (
            json!({"op": "add", "path": "emails[display pr].value", "value": "h@x"}),
            NoTarget,
        ),
    ];
    for (op, expected) in cases {
        assert_eq!(
            patch_err(User, &u, json!([op.clone()])),
            Some(expected),
            "{op}"
        );
    }
}

#[test]
fn malformed_operations_against_a_group() {
    let g = two_member_group();
    let cases: Vec<(Value, ScimType)> = vec![
        (json!({"op": "remove", "path": "displayName"}), Mutability),
        (
            json!({"op": "replace", "path": "displayName", "value": ""}),
            Mutability,
        ),
        (
            json!({"op": "replace", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"].display", "value": "x"}),
            Mutability,
        ),
        (
            json!({"op": "replace", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"].value", "value": "other"}),
            Mutability,
        ),
        (
            json!({"op": "replace", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]", "value": {"type": "Group"}}),
            Mutability,
        ),
        (
            json!({"op": "remove", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"].value"}),
            Mutability,
        ),
        (
            json!({"op": "add", "path": "userName", "value": "x"}),
            InvalidPath,
        ),
        (
            json!({"op": "add", "path": "members", "value": [{"display": "no id"}, 5]}),
            InvalidValue,
        ),
        (
            json!({"op": "replace", "path": "members[type eq \"User\" and value sw \"zz\"].type", "value": "User"}),
            NoTarget,
        ),
    ];
    for (op, expected) in cases {
        assert_eq!(
            patch_err(Group, &g, json!([op.clone()])),
            Some(expected),
            "{op}"
        );
    }
}

#[test]
fn failing_operation_leaves_input_untouched() {
    let u = okta_user();
    let before = u.clone();
    let err = try_patch(
        User,
        &u,
        &body(json!([
            {"op": "replace", "path": "active", "value": false},
            {"op": "replace", "path": "title", "value": "CTO"},
            {"op": "replace", "path": "id", "value": "hijack"}
        ])),
    )
    .unwrap_err();
    assert_eq!(err.scim_type(), Some(Mutability));
    assert!(
        err.detail().starts_with("Operations[2]"),
        "{}",
        err.detail()
    );
    assert_eq!(u, before);
}

#[test]
fn read_only_keys_in_path_less_values_are_skipped() {
    let u = okta_user();
    let out = patch_user(
        &u,
        json!([{"op": "replace", "value": {
            "id": "x", "meta": {"resourceType": "User"}, "schemas": ["urn:x"],
            "groups": [{"value": "g1"}], "password": "secret", "unknownThing": 1,
            "name.nickname": "x", "title[value eq \"x\"]": "y", "emails[": 1,
            "urn:okta:custom:user:1.0": {"favourite": "blue"}
        }}]),
    );
    for k in ["id", "meta", "groups", "password", "unknownThing"] {
        assert!(out.attributes.get(k).is_none(), "{k}");
    }
    assert_eq!(out.attributes["schemas"], u["schemas"]);
    assert_eq!(
        out.attributes["urn:okta:custom:user:1.0"],
        json!({"favourite": "blue"}),
        "unknown extension kept like POST"
    );
}

#[test]
fn no_op_operations_report_no_change() {
    let u = okta_user();
    let g = two_member_group();
    let user_cases = [
        json!([{"op": "add", "path": "userName", "value": "test.user@okta.local"}]),
        json!([{"op": "add", "path": "emails", "value": [{"value": "TEST.USER@okta.local", "type": "work"}]}]),
        json!([{"op": "add", "path": "name", "value": {"givenName": "Test"}}]),
        json!([{"op": "replace", "value": {"active": "True", "displayName": "Test User"}}]),
        json!([{"op": "remove", "path": "title"}]),
        json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
        json!([{"op": "remove", "path": "phoneNumbers"}]),
        json!([{"op": "remove", "path": format!("{ENT}:manager")}]),
        json!([{"op": "add", "path": "title", "value": null}]),
        json!([{"op": "replace", "path": "nickName", "value": ""}]),
        json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": null}]),
        json!([{"op": "add", "path": "title", "value": "x"}, {"op": "remove", "path": "title"}]),
        json!([{"op": "replace", "path": "password", "value": "p"}]),
    ];
    for ops in user_cases {
        let out = patch_user(&u, ops.clone());
        assert!(!out.changed, "{ops}");
        assert_eq!(out.attributes, u, "{ops}");
    }
    let out = patch_group(&g, json!([{"op": "add", "path": "members", "value": []}]));
    assert!(!out.changed);
}

#[test]
fn primary_moves_to_the_new_value() {
    let u = okta_user();
    let out = patch_user(
        &u,
        json!([{"op": "add", "path": "emails", "value": [{"value": "t@home.example", "type": "home", "primary": "true"}]}]),
    );
    assert_eq!(
        out.attributes["emails"],
        json!([
            {"primary": false, "value": "test.user@okta.local", "type": "work"},
            {"value": "t@home.example", "type": "home", "primary": true}
        ])
    );
    // Two matches made primary at once is an error.
    let u = user(
        json!({"userName": "p", "emails": [{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "work"}]}),
    );
    assert_eq!(
        patch_err(
            User,
            &u,
            json!([{"op": "replace", "path": "emails[type eq \"work\"].primary", "value": true}])
        ),
        Some(InvalidValue)
    );
}

#[test]
fn removing_sub_attributes() {
    let u = user(
        json!({"userName": "s", "name": {"givenName": "G", "familyName": "F"},
                        "emails": [{"value": "a@x", "type": "work", "display": "A"}, {"value": "b@x", "type": "home"}]}),
    );
    let out = patch_user(&u, json!([{"op": "remove", "path": "name.givenName"}]));
    assert_eq!(out.attributes["name"], json!({"familyName": "F"}));
    let out = patch_user(
        &out.attributes,
        json!([{"op": "remove", "path": "name.familyName"}]),
    );
    assert!(
        out.attributes.get("name").is_none(),
        "empty complex unassigned"
    );
    let out = patch_user(
        &u,
        json!([{"op": "remove", "path": "emails[type eq \"work\"].display"}]),
    );
    assert_eq!(
        out.attributes["emails"][0],
        json!({"value": "a@x", "type": "work"})
    );
    let out = patch_user(
        &u,
        json!([{"op": "remove", "path": "emails[type eq \"work\"].value"}]),
    );
    assert_eq!(
        out.attributes["emails"],
        json!([{"value": "b@x", "type": "home"}]),
        "value-less email dropped"
    );
    let out = patch_user(&u, json!([{"op": "remove", "path": "emails.display"}]));
    assert_eq!(
        out.attributes["emails"][0],
        json!({"value": "a@x", "type": "work"})
    );
    let out = patch_user(
        &u,
        json!([{"op": "remove", "path": "emails[type eq \"work\" or type eq \"home\"]"}]),
    );
    assert!(
        out.attributes.get("emails").is_none(),
        "empty multi-valued unassigned"
    );
}

#[test]
fn whole_extension_as_path() {
    let u = okta_user();
    let out = patch_user(
        &u,
        json!([{"op": "add", "path": ENT, "value": {"department": "Sales", "manager": "7"}}]),
    );
    assert_eq!(
        out.attributes[ENT],
        json!({"department": "Sales", "manager": {"value": "7"}})
    );
    let out = patch_user(&out.attributes, json!([{"op": "remove", "path": ENT}]));
    assert_eq!(out.attributes, u);
    let out = patch_user(
        &u,
        json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User", "value": {"title": "T"}}]),
    );
    assert_eq!(out.attributes["title"], "T");
}

#[test]
fn multi_valued_sub_attribute_without_filter() {
    let u = user(json!({"userName": "s"}));
    let out = patch_user(
        &u,
        json!([{"op": "add", "path": "emails.value", "value": "a@x"}]),
    );
    assert_eq!(out.attributes["emails"], json!([{"value": "a@x"}]));
    let out = patch_user(
        &out.attributes,
        json!([{"op": "replace", "path": "emails.type", "value": "work"}]),
    );
    assert_eq!(
        out.attributes["emails"],
        json!([{"value": "a@x", "type": "work"}])
    );
}

#[test]
fn replace_filter_with_object_value_merges_into_each_match() {
    let u = user(json!({"userName": "s", "phoneNumbers": [
        {"value": "1", "type": "work"}, {"value": "2", "type": "work"}, {"value": "3", "type": "home"}]}));
    let out = patch_user(
        &u,
        json!([{"op": "replace", "path": "phoneNumbers[type eq \"work\"]", "value": {"display": "office"}}]),
    );
    assert_eq!(
        out.attributes["phoneNumbers"],
        json!([{"value": "1", "type": "work", "display": "office"}, {"value": "2", "type": "work", "display": "office"}, {"value": "3", "type": "home"}])
    );
}

#[test]
fn multi_byte_keys_and_paths_are_not_a_panic() {
    // Found by the patch_apply fuzz target: `is_urn` sliced inside a character.
    let u = okta_user();
    let out = patch_user(
        &u,
        json!([{"op": "replace", "value": {"di\u{1F600}splayName": "G", "\u{e9}t\u{e9}": 1, "ur\u{f1}:x": {}}}]),
    );
    assert!(!out.changed);
    assert_eq!(
        patch_err(
            User,
            &u,
            json!([{"op": "add", "path": "di\u{1F600}splayName", "value": "x"}])
        ),
        Some(InvalidPath)
    );
    assert!(
        scim_core::resource::parse_resource(User, &json!({"userName": "a", "\u{1F600}x": 1}))
            .is_ok()
    );
}

#[test]
fn path_less_add_accepts_exactly_what_post_accepts() {
    // A path-less add on a bare resource gives the same attributes as a POST of the same
    // shapes (PATCH reuses the POST normalisation).
    let user_shapes = [
        json!({"active": "False"}),
        json!({"Active": "TRUE", "NickName": "n"}),
        json!({"name": {"GivenName": "G", "familyname": "F", "custom": 1}}),
        json!({"emails": [{"Value": "a@x", "Primary": "true", "Type": "work"}, {"value": "b@x"}]}),
        json!({ENT: {"manager": "42", "Department": "R&D", "customThing": [1]}}),
        json!({ENT: {"manager": {"value": "42", "$ref": null, "displayName": "Boss"}}}),
        json!({"roles": [{"value": "{\"id\":\"1\",\"value\":\"25\"}"}], "title": "T"}),
        json!({"roles": ["{\"value\":\"Admin\",\"primary\":\"True\"}"]}),
        json!({"x509Certificates": [{"value": "MIIB"}], "timezone": "Europe/Paris"}),
        json!({"urn:ietf:params:scim:schemas:core:2.0:User": {"title": "wrapped"}}),
        json!({"urn:example:custom:1.0:User": {"anything": {"goes": true}}}),
    ];
    for shape in user_shapes {
        let mut post = shape.as_object().unwrap().clone();
        post.insert("userName".into(), json!("u"));
        let posted = scim_core::resource::parse_resource(User, &Value::Object(post))
            .unwrap_or_else(|e| panic!("POST {shape}: {e}"));
        let base = user(json!({"userName": "u"}));
        let patched = patch_user(&base, json!([{"op": "add", "value": shape.clone()}]));
        assert_eq!(patched.attributes, posted, "{shape}");
    }
    let group_shapes = [json!(
        {"members": [{"value": "u1", "$ref": null}, "u2", {"Value": "u3", "display": "x", "type": "User"}]}
    )];
    for shape in group_shapes {
        let mut post = shape.as_object().unwrap().clone();
        post.insert("displayName".into(), json!("G"));
        let posted = scim_core::resource::parse_resource(Group, &Value::Object(post)).unwrap();
        let patched = patch_group(
            &group(json!({"displayName": "G"})),
            json!([{"op": "add", "value": shape.clone()}]),
        );
        assert_eq!(patched.attributes, posted, "{shape}");
    }
}

#[test]
fn a_lone_value_for_a_multi_valued_attribute_is_invalid_value() {
    // RFC 7643 §2.4: multi-valued attributes are arrays. POST, PUT and PATCH refuse a lone
    // string or object instead of wrapping it.
    let lone_user = [
        json!({"emails": "a@b.test"}),
        json!({"emails": {"value": "a@b.test"}}),
        json!({"phoneNumbers": "+1 555"}),
        json!({"roles": {"value": "admin"}}),
        json!({"x509Certificates": "MIIB"}),
    ];
    let base = user(json!({"userName": "u"}));
    for shape in lone_user {
        let mut post = shape.as_object().unwrap().clone();
        post.insert("userName".into(), json!("u"));
        let err =
            scim_core::resource::parse_resource(User, &Value::Object(post.clone())).unwrap_err();
        assert_eq!(err.scim_type(), Some(InvalidValue), "POST {shape}");
        assert!(err.detail().contains("multi-valued"), "{}", err.detail());
        let err = scim_core::replace_resource(User, &base, &Value::Object(post)).unwrap_err();
        assert_eq!(err.scim_type(), Some(InvalidValue), "PUT {shape}");
        assert_eq!(
            patch_err(User, &base, json!([{"op": "add", "value": shape.clone()}])),
            Some(InvalidValue),
            "PATCH {shape}"
        );
        let (name, value) = shape.as_object().unwrap().iter().next().unwrap();
        for op in ["add", "replace"] {
            assert_eq!(
                patch_err(
                    User,
                    &base,
                    json!([{"op": op, "path": name, "value": value}])
                ),
                Some(InvalidValue),
                "PATCH {op} {name}"
            );
        }
    }
    // Groups: a lone member object, and a bare id in a POST or PUT body.
    let g = group(json!({"displayName": "G"}));
    for body in [
        json!({"displayName": "G", "members": {"value": "u1"}}),
        json!({"displayName": "G", "members": "u1"}),
    ] {
        let err = scim_core::resource::parse_resource(Group, &body).unwrap_err();
        assert_eq!(err.scim_type(), Some(InvalidValue), "{body}");
    }
    assert_eq!(
        patch_err(
            Group,
            &g,
            json!([{"op": "add", "path": "members", "value": {"value": "u1"}}])
        ),
        Some(InvalidValue)
    );
    // The one exception: PATCH with a bare member id (Microsoft's SCIMReferenceCode
    // "garbage" test expects it to succeed), in a path or a path-less value object.
    for ops in [
        json!([{"op": "add", "path": "members", "value": "u1"}]),
        json!([{"op": "add", "value": {"members": "u1"}}]),
        json!([{"op": "replace", "path": "members", "value": "u1"}]),
    ] {
        let out = patch_group(&g, ops.clone());
        assert_eq!(out.attributes["members"], json!([{"value": "u1"}]), "{ops}");
    }
}

#[test]
fn values_that_cannot_be_stored_are_invalid_value() {
    let base = user(json!({"userName": "u", "emails": [{"value": "a@b"}]}));
    for ops in [
        json!([{"op": "replace", "path": "userName", "value": "a\u{0}b"}]),
        json!([{"op": "add", "path": "emails[type eq \"work\"].value", "value": "x\u{0}"}]),
        json!([{"op": "add", "value": {"urn:x:custom": {"k": "\u{0}"}}}]),
        json!([{"op": "replace", "path": "displayName", "value": "x".repeat(1025)}]),
        json!([{"op": "add", "path": "emails", "value": (0..1001).map(|i| json!({"value": format!("e{i}@x")})).collect::<Vec<_>>()}]),
    ] {
        assert_eq!(
            patch_err(User, &base, ops.clone()),
            Some(InvalidValue),
            "{ops}"
        );
    }
    // NUL in a path or a path filter is an invalid path.
    for path in ["title\u{0}", "emails[type eq \"w\u{0}\"].value"] {
        let ops = json!([{"op": "add", "path": path, "value": "x"}]);
        assert_eq!(patch_err(User, &base, ops), Some(InvalidPath), "{path}");
    }
    // A NUL member id in a group PATCH falls back from the split to the full apply, which
    // refuses it.
    let g = group(json!({"displayName": "G"}));
    let ops = json!([{"op": "add", "path": "members", "value": [{"value": "u\u{0}"}]}]);
    let request = scim_core::PatchRequest::from_json(&json!({"Operations": ops})).unwrap();
    assert!(scim_core::patch::split_member_ops(Group, &request).is_none());
    assert_eq!(patch_err(Group, &g, ops), Some(InvalidValue));
}
