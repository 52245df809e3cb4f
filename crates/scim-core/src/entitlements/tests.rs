//! The rules of the module, table by table.

use super::*;
use crate::filter::parse_filter;
use crate::resource::Attributes;
use crate::schema::{IETF_ENTITLEMENT_URN, IETF_ROLE_URN, OKTA_ENTITLEMENT_URN, OKTA_ROLE_URN};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

fn value(kind: EntitlementKind, id: &str, v: &str) -> EntitlementValue {
    EntitlementValue {
        id: id.into(),
        kind,
        value: v.into(),
        display: v.to_uppercase(),
        created: DateTime::<Utc>::UNIX_EPOCH,
    }
}

fn attrs(v: Value) -> Attributes {
    match v {
        Value::Object(m) => m,
        _ => Attributes::new(),
    }
}

#[test]
fn kinds_parse_and_name_themselves() {
    for (s, kind, stored, name) in [
        ("role", EntitlementKind::Role, "role", "Role"),
        ("ROLE", EntitlementKind::Role, "role", "Role"),
        (
            "Entitlement",
            EntitlementKind::Entitlement,
            "entitlement",
            "Entitlement",
        ),
        (
            "License",
            EntitlementKind::Custom("License".into()),
            "License",
            "License",
        ),
    ] {
        let k = EntitlementKind::parse(s);
        assert_eq!(k, kind, "{s}");
        assert_eq!(k.as_str(), stored);
        assert_eq!(k.type_name(), name);
    }
    assert_eq!(EntitlementKind::Role.schemas()[0], OKTA_ROLE_URN);
    assert_eq!(
        EntitlementKind::Custom("X".into()).schemas(),
        [OKTA_ENTITLEMENT_URN, IETF_ENTITLEMENT_URN]
    );
}

#[test]
fn type_definitions_table() {
    for (id, name, endpoint, ok) in [
        ("License", "License", "/Licenses", true),
        ("profile_2", "Profiles of the app", "/Profiles-2", true),
        ("", "x", "/X", false),
        ("1abc", "x", "/X", false),
        ("Lic ense", "x", "/X", false),
        ("role", "x", "/X", false),
        ("USER", "x", "/X", false),
        ("License", "", "/Licenses", false),
        ("License", "a\u{7}b", "/Licenses", false),
        ("License", "License", "Licenses", false),
        ("License", "License", "/", false),
        ("License", "License", "/Lic/enses", false),
        ("License", "License", "/users", false),
        ("License", "License", "/Roles", false),
        ("License", "License", "/.search", false),
        ("License", &"n".repeat(65), "/Licenses", false),
    ] {
        assert_eq!(
            check_type_definition(id, name, endpoint).is_ok(),
            ok,
            "{id} {name} {endpoint}"
        );
    }
}

#[test]
fn value_definitions_table() {
    for (v, d, ok) in [
        ("admin", "Administrator", true),
        ("admin", "", true),
        ("", "x", false),
        ("  ", "x", false),
        ("a\u{0}b", "x", false),
        ("a", "x\ny", false),
        (&"v".repeat(1025), "x", false),
    ] {
        assert_eq!(check_value_definition(v, d).is_ok(), ok, "{v:?} {d:?}");
    }
}

#[test]
fn values_render_with_both_vocabularies() {
    let doc = value_json(
        &value(EntitlementKind::Role, "r1", "admin"),
        "https://h/scim/v2/t/",
        "/Roles",
    );
    assert_eq!(doc["schemas"], json!([OKTA_ROLE_URN, IETF_ROLE_URN]));
    assert_eq!(doc["id"], "r1");
    assert_eq!(doc["value"], "admin");
    assert_eq!(doc["display"], "ADMIN");
    assert_eq!(doc["displayName"], "ADMIN");
    assert!(doc.get("type").is_none());
    assert_eq!(doc["meta"]["resourceType"], "Role");
    assert_eq!(doc["meta"]["location"], "https://h/scim/v2/t/Roles/r1");
    let lic = value_json(
        &value(EntitlementKind::Custom("License".into()), "l1", "pro"),
        "https://h/t",
        "/Licenses",
    );
    assert_eq!(lic["type"], "License");
    assert_eq!(lic["schemas"][1], IETF_ENTITLEMENT_URN);
    assert_eq!(lic["meta"]["location"], "https://h/t/Licenses/l1");
}

#[test]
fn resource_types_use_okta_urns() {
    let [role, ent] = builtin_resource_types("https://h/t");
    assert_eq!(role["schema"], OKTA_ROLE_URN);
    assert_eq!(role["endpoint"], "/Roles");
    assert_eq!(ent["schema"], OKTA_ENTITLEMENT_URN);
    assert_eq!(ent["id"], ent["name"]);
    let t = EntitlementType {
        id: "License".into(),
        name: "Licenses".into(),
        endpoint: "/Licenses".into(),
        created: DateTime::<Utc>::UNIX_EPOCH,
    };
    let doc = custom_resource_type(&t, "https://h/t");
    assert_eq!(doc["id"], "License");
    assert_eq!(doc["name"], "Licenses");
    assert_eq!(doc["schema"], OKTA_ENTITLEMENT_URN);
    assert_eq!(doc["meta"]["location"], "https://h/t/ResourceTypes/License");
}

#[test]
fn filters_table() {
    for (f, want) in [
        (r#"value eq "a""#, Some(ValueFilter::Value("a".into()))),
        (r#"VALUE eq "a""#, Some(ValueFilter::Value("a".into()))),
        (r#"id eq "x""#, Some(ValueFilter::Id("x".into()))),
        (
            r#"displayName eq "A b""#,
            Some(ValueFilter::Display("A b".into())),
        ),
        (r#"display eq "A""#, Some(ValueFilter::Display("A".into()))),
        (
            r#"urn:okta:scim:schemas:core:1.0:Role:value eq "a""#,
            Some(ValueFilter::Value("a".into())),
        ),
        (r#"urn:example:x:value eq "a""#, None),
        (r#"value ne "a""#, None),
        (r#"value sw "a""#, None),
        (r#"value eq 1"#, None),
        (r#"value pr"#, None),
        (r#"type eq "License""#, None),
        (r#"value eq "a" and id eq "b""#, None),
    ] {
        let parsed = parse_filter(f).unwrap();
        let got = value_filter(&parsed);
        match want {
            Some(w) => assert_eq!(got.unwrap(), w, "{f}"),
            None => assert_eq!(
                got.unwrap_err().scim_type().map(|t| t.as_str()),
                Some("invalidFilter"),
                "{f}"
            ),
        }
    }
}

#[test]
fn the_catalog_checks_new_values_only() {
    let defined = [
        value(EntitlementKind::Role, "r-admin", "admin"),
        value(EntitlementKind::Custom("License".into()), "l-pro", "pro"),
    ];
    let c = Catalog::new(&defined);
    assert!(!c.is_empty());
    let ok = attrs(json!({"roles": [{"value": "admin"}], "entitlements": [{"value": "pro"}]}));
    assert!(c.check(None, &ok).is_ok());
    // Okta grants by the Role's id.
    let by_id = attrs(json!({"roles": [{"value": "r-admin", "display": "Admin"}]}));
    assert!(c.check(None, &by_id).is_ok());
    let bad = attrs(json!({"roles": [{"value": "admin"}, {"value": "root"}]}));
    let e = c.check(None, &bad).unwrap_err();
    assert_eq!(e.status(), 400);
    assert_eq!(e.scim_type().map(|t| t.as_str()), Some("invalidValue"));
    assert!(e.detail().contains("'root'"), "{}", e.detail());
    // Exact match: letter case matters.
    let case = attrs(json!({"roles": [{"value": "Admin"}]}));
    assert!(c.check(None, &case).is_err());
    // A value already held is not checked again.
    assert!(c.check(Some(&bad), &bad).is_ok());
    let ent = attrs(json!({"entitlements": [{"value": "free"}]}));
    assert!(
        c.check(None, &ent)
            .unwrap_err()
            .detail()
            .contains("entitlement")
    );
}

#[test]
fn without_a_catalog_of_a_class_anything_goes() {
    let c = Catalog::new(&[value(EntitlementKind::Role, "r", "admin")]);
    let ent = attrs(json!({"entitlements": [{"value": "anything"}]}));
    assert!(c.check(None, &ent).is_ok());
    let none = Catalog::default();
    assert!(none.is_empty());
    let roles = attrs(json!({"roles": [{"value": "anything"}]}));
    assert!(none.check(None, &roles).is_ok());
}

#[test]
fn grants_are_detected_conservatively() {
    for (body, touches) in [
        (json!({"userName": "a", "roles": []}), true),
        (
            json!({"Operations": [{"op": "add", "path": "entitlements", "value": []}]}),
            true,
        ),
        (
            json!({"Operations": [{"op": "replace", "path": "ROLES[value eq \"x\"].display", "value": "y"}]}),
            true,
        ),
        (
            json!({"Operations": [{"op": "replace", "value": {"Roles": [{"value": "x"}]}}]}),
            true,
        ),
        (
            json!({"urn:ietf:params:scim:schemas:core:2.0:User:roles": []}),
            true,
        ),
        (
            json!({"Operations": [{"op": "replace", "value": {"active": false}}]}),
            false,
        ),
        (json!({"userName": "a", "name": {"givenName": "b"}}), false),
    ] {
        assert_eq!(may_touch_grants(&body), touches, "{body}");
    }
    for (body, touches) in [
        (
            json!({"Operations": [{"op": "add", "path": "roles", "value": [{"value": "a"}]}]}),
            true,
        ),
        (
            json!({"Operations": [{"op": "remove", "path": "entitlements[value eq \"a\"]"}]}),
            true,
        ),
        (
            json!({"Operations": [{"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:User:roles", "value": []}]}),
            true,
        ),
        (
            json!({"Operations": [{"op": "replace", "value": {"roles": []}}]}),
            true,
        ),
        (
            json!({"Operations": [{"op": "replace", "path": "displayName", "value": "roles"}]}),
            false,
        ),
        (
            json!({"Operations": [{"op": "replace", "value": {"active": false}}]}),
            false,
        ),
    ] {
        let request = crate::patch::PatchRequest::from_json(&body).unwrap();
        assert_eq!(patch_may_touch_grants(&request), touches, "{body}");
    }
}
