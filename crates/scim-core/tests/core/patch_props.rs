//! Property tests: any JSON as a PATCH body, applied to realistic resources, never panics
//! and always ends in success or a 4xx SCIM error; failures leave the input untouched and
//! successes still satisfy the schema.

// clippy.toml allows these inside `#[test]` functions only; the table helpers need them too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::patch_common::*;
use proptest::prelude::*;
use scim_core::ResourceKind;
use scim_core::resource::check_required;
use serde_json::{Map, Value, json};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("".to_string()),
            Just("True".to_string()),
            Just("false".to_string()),
            Just("work".to_string()),
            Just("2819c223-7f76-453a-919d-413861904646".to_string()),
            Just("{\"value\":\"x\"}".to_string()),
            "[a-zA-Z0-9@. ]{0,12}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((arb_key(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "value",
            "type",
            "primary",
            "display",
            "$ref",
            "givenName",
            "familyName",
            "active",
            "userName",
            "displayName",
            "emails",
            "members",
            "name",
            "id",
            "meta",
            "schemas",
            "groups",
            "password",
            "name.givenName",
            "title",
            "addresses",
            "roles",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:x:y",
            "emails[type eq \"work\"].value",
        ])
        .prop_map(String::from),
        "[a-zA-Z.:\\[\\]\" ]{0,10}",
        // Multi-byte characters near the start once made `is_urn` slice inside a char.
        "\\PC{0,8}",
    ]
}

fn arb_path() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        prop::sample::select(vec![
            "members",
            "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]",
            "members[value eq \"u1\"].display",
            "members.value",
            "displayName",
            "userName",
            "active",
            "name",
            "name.givenName",
            "emails",
            "emails[type eq \"work\"]",
            "emails[type eq \"work\"].value",
            "emails[type eq \"home\" and primary eq true].value",
            "emails[value co \"@\"].primary",
            "emails[not (type eq \"work\")]",
            "addresses[type eq \"work\"].locality",
            "roles[primary eq \"True\"].value",
            "phoneNumbers[type eq \"mobile\"]",
            "id",
            "meta",
            "meta.created",
            "groups",
            "schemas",
            "password",
            "title",
            "externalId",
            "x509Certificates",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
            "urn:ietf:params:scim:schemas:core:2.0:Group",
            "nope",
            "emails[",
            "emails[type eq \"work\"].nope",
            "name[givenName eq \"a\"]",
        ])
        .prop_map(Value::from),
        "[a-zA-Z.:\\[\\]\" ]{0,16}".prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
    ]
}

fn arb_op() -> impl Strategy<Value = Value> {
    let op = prop_oneof![
        prop::sample::select(vec![
            "add", "Add", "replace", "Replace", "remove", "REMOVE", "move", ""
        ])
        .prop_map(Value::from),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
    ];
    (op, arb_path(), prop::option::of(arb_json()), any::<bool>()).prop_map(
        |(op, path, value, with_op)| {
            let mut m = Map::new();
            if with_op {
                m.insert("op".into(), op);
            }
            if !path.is_null() {
                m.insert("path".into(), path);
            }
            if let Some(v) = value {
                m.insert("value".into(), v);
            }
            Value::Object(m)
        },
    )
}

fn arb_body() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => prop::collection::vec(arb_op(), 0..6).prop_map(|ops| body(Value::Array(ops))),
        1 => arb_json(),
        1 => prop::collection::vec(arb_op(), 0..3).prop_map(|ops| json!({"Operations": ops, "schemas": "urn:x"})),
    ]
}

fn check(kind: ResourceKind, attrs: &scim_core::resource::Attributes, body: &Value) {
    let before = attrs.clone();
    match try_patch(kind, attrs, body) {
        Ok(out) => {
            check_required(kind.resource_type(), &out.attributes).unwrap();
            assert_eq!(out.changed, out.attributes != before);
            assert!(out.attributes.get("password").is_none());
            assert!(out.attributes.get("id").is_none());
            assert!(out.attributes.get("meta").is_none());
        }
        Err(e) => {
            assert!((400..500).contains(&e.status()), "{e}");
            assert!(e.scim_type().is_some(), "{e}");
        }
    }
    assert_eq!(*attrs, before);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bodies_never_panic_on_users(body in arb_body()) {
        check(ResourceKind::User, &okta_user(), &body);
    }

    #[test]
    fn arbitrary_bodies_never_panic_on_groups(body in arb_body()) {
        check(ResourceKind::Group, &two_member_group(), &body);
    }

    #[test]
    fn patching_a_patched_resource_keeps_the_invariants(ops in prop::collection::vec(arb_op(), 1..4)) {
        let b = body(Value::Array(ops));
        if let Ok(out) = try_patch(ResourceKind::User, &okta_user(), &b) {
            check(ResourceKind::User, &out.attributes, &b);
        }
    }
}

/// Operations reaching every kind of write `apply_patch` does (core and extension
/// attributes, sub-attributes, filters, whole extensions, unknown extensions, path-less
/// objects, value removals), so that `changed`, which compares only the written keys, is
/// checked against a full comparison on each of them.
fn arb_writing_op() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!({"op": "replace", "value": {"active": false}}),
        json!({"op": "replace", "value": {"active": true}}),
        json!({"op": "add", "value": {"urn:x:custom": {"a": 1}}}),
        json!({"op": "add", "value": {"urn:x:custom": {"a": null}}}),
        json!({"op": "replace", "value": {"urn:x:custom": ""}}),
        json!({"op": "add", "value": {ENT: {"department": "R&D", "costCenter": ""}}}),
        json!({"op": "add", "value": {ENT: {"unknownKey": "v"}}}),
        json!({"op": "replace", "value": {ENT: {"unknownKey": ""}}}),
        json!({"op": "remove", "path": ENT}),
        json!({"op": "replace", "path": ENT, "value": null}),
        json!({"op": "add", "path": ENT, "value": {"employeeNumber": "7"}}),
        json!({"op": "add", "path": format!("{ENT}:manager"), "value": "271"}),
        json!({"op": "remove", "path": format!("{ENT}:manager")}),
        json!({"op": "replace", "path": "name.givenName", "value": "Tess"}),
        json!({"op": "remove", "path": "name"}),
        json!({"op": "add", "path": "emails[type eq \"home\"].value", "value": "t@home"}),
        json!({"op": "remove", "path": "emails[type eq \"home\"]"}),
        json!({"op": "remove", "path": "emails[value eq \"test.user@okta.local\"]"}),
        json!({"op": "add", "path": "emails", "value": [{"value": "test.user@okta.local", "type": "work"}]}),
        json!({"op": "add", "path": "x509Certificates", "value": [{"value": "MIIC"}]}),
        json!({"op": "remove", "path": "x509Certificates[value eq \"MIIC\"]"}),
        json!({"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User", "value": {"title": "T"}}),
        json!({"op": "add", "value": {"urn:ietf:params:scim:schemas:core:2.0:User:nickName": "N"}}),
        json!({"op": "add", "value": {"schemas": ["urn:x:custom"], "title": ""}}),
        json!({"op": "replace", "path": "locale", "value": "en-US"}),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn changed_is_exact_for_every_kind_of_write(ops in prop::collection::vec(arb_writing_op(), 1..5)) {
        let b = body(Value::Array(ops));
        check(ResourceKind::User, &okta_user(), &b);
        if let Ok(out) = try_patch(ResourceKind::User, &okta_user(), &b) {
            check(ResourceKind::User, &out.attributes, &b);
        }
    }
}
