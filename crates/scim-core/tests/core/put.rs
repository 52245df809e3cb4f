//! PUT replace (RFC 7644 §3.5.1): Okta's read-modify-write, cleared attributes, immutable
//! and read-only attributes.

// clippy.toml allows these inside `#[test]` functions only; the table helpers need them too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scim_core::resource::{Attributes, Meta, Resource, parse_resource};
use scim_core::{ResourceKind, ScimType, replace_resource};
use serde_json::{Value, json};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn user(v: Value) -> Attributes {
    parse_resource(ResourceKind::User, &v).unwrap()
}

fn stored_user() -> Attributes {
    user(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User", "title": "Engineer", "externalId": "00ujl29u0le5T6Aj10h7",
        "active": true,
        ENT: {"department": "R&D", "manager": "42"}
    }))
}

#[test]
fn okta_read_modify_write_echo_is_accepted() {
    let existing = stored_user();
    let t = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
        .unwrap()
        .to_utc();
    let resource = Resource {
        kind: ResourceKind::User,
        id: "u1".into(),
        attributes: existing.clone(),
        meta: Meta {
            created: t,
            last_modified: t,
            version: 3,
        },
    };
    // Okta GETs the user, changes givenName, and PUTs the whole document back.
    let mut doc = resource.to_json("https://scim.example/scim/v2/t1");
    doc["name"]["givenName"] = json!("Tess");
    doc["groups"] = json!([{"value": "g1", "display": "Eng"}]);
    let new = replace_resource(ResourceKind::User, &existing, &doc).unwrap();
    let mut expected = existing.clone();
    expected["name"]["givenName"] = json!("Tess");
    assert_eq!(new, expected);
    // The unchanged echo is a no-op.
    let doc = resource.to_json("https://scim.example/scim/v2/t1");
    assert_eq!(
        replace_resource(ResourceKind::User, &existing, &doc).unwrap(),
        existing
    );
}

#[test]
fn omitted_attributes_are_cleared() {
    let existing = stored_user();
    let new = replace_resource(
        ResourceKind::User,
        &existing,
        &json!({"userName": "test.user@okta.local", "active": "False", "password": "x"}),
    )
    .unwrap();
    assert_eq!(
        Value::Object(new),
        json!({"userName": "test.user@okta.local", "active": false})
    );
}

#[test]
fn active_defaults_to_true_and_extension_is_replaced() {
    let existing = stored_user();
    let new = replace_resource(
        ResourceKind::User,
        &existing,
        &json!({"userName": "u", ENT: {"costCenter": "9"}}),
    )
    .unwrap();
    assert_eq!(new["active"], true);
    assert_eq!(new[ENT], json!({"costCenter": "9"}));
}

#[test]
fn read_only_attributes_of_the_existing_resource_are_kept() {
    let mut existing = stored_user();
    existing.insert("groups".into(), json!([{"value": "g1", "display": "Eng"}]));
    let new = replace_resource(
        ResourceKind::User,
        &existing,
        &json!({"userName": "u", "groups": [{"value": "forged"}], "id": "other", "meta": {"version": "W/\"9\""}}),
    )
    .unwrap();
    assert_eq!(new["groups"], json!([{"value": "g1", "display": "Eng"}]));
    assert!(new.get("id").is_none());
    assert!(new.get("meta").is_none());
}

#[test]
fn group_put_replaces_members() {
    let existing = parse_resource(
        ResourceKind::Group,
        &json!({"displayName": "Eng", "members": [{"value": "u1"}, {"value": "u2"}]}),
    )
    .unwrap();
    let new = replace_resource(
        ResourceKind::Group,
        &existing,
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g", "displayName": "Eng",
                "members": [{"value": "u2", "display": "two"}, {"value": "u3"}]}),
    )
    .unwrap();
    assert_eq!(new["members"], json!([{"value": "u2"}, {"value": "u3"}]));
    let new = replace_resource(
        ResourceKind::Group,
        &existing,
        &json!({"displayName": "Eng"}),
    )
    .unwrap();
    assert!(new.get("members").is_none());
}

#[test]
fn invalid_bodies() {
    let existing = stored_user();
    let cases = [
        (
            json!({"displayName": "no userName"}),
            ScimType::InvalidValue,
        ),
        (json!({"userName": ""}), ScimType::InvalidValue),
        (
            json!({"userName": "u", "active": "sometimes"}),
            ScimType::InvalidValue,
        ),
        (json!(["not", "an", "object"]), ScimType::InvalidSyntax),
    ];
    for (body, expected) in cases {
        let e = replace_resource(ResourceKind::User, &existing, &body).unwrap_err();
        assert_eq!(e.scim_type(), Some(expected), "{body}");
    }
}
