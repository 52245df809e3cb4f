//! The pure rules of the strict profile (docs/profiles.md), table-driven: each row is a
//! request the interop profile (draft-zollner-scim-interop-profile-02) has a server refuse,
//! with the `scimType` it must get under [`Profile::Strict`], and the proof that
//! [`Profile::Lenient`] accepts the same request (today's behaviour, unchanged).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scim_core::filter::parse_filter;
use scim_core::profile::{check_filter, check_patch, check_resource_body};
use scim_core::resource::parse_resource;
use scim_core::{PatchRequest, Profile, ResourceKind, ScimResult, apply_patch, apply_patch_with};
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn scim_type<T>(r: ScimResult<T>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e
            .scim_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn profile_names_parse_and_print() {
    assert_eq!(Profile::default(), Profile::Lenient);
    for p in [Profile::Strict, Profile::Lenient] {
        assert_eq!(p.as_str().parse::<Profile>(), Ok(p));
        assert_eq!(p.to_string(), p.as_str());
    }
    assert_eq!(" STRICT ".parse::<Profile>(), Ok(Profile::Strict));
    assert!("relaxed".parse::<Profile>().is_err());
    assert!(Profile::Strict.interop_profile_conformant());
    assert!(!Profile::Lenient.interop_profile_conformant());
}

/// POST and PUT bodies: "Attribute and Schema Handling".
#[test]
fn strict_resource_bodies() {
    let rows: Vec<(&str, ResourceKind, Value, &str)> = vec![
        (
            "conformant user",
            ResourceKind::User,
            json!({"schemas": [USER, ENTERPRISE], "userName": "a", "externalId": "x",
                   "emails": [{"value": "a@x", "type": "work", "primary": true}],
                   "id": "echoed", "meta": {"resourceType": "User"},
                   ENTERPRISE: {"department": "R&D", "manager": {"value": "42"}}}),
            "ok",
        ),
        (
            "conformant group",
            ResourceKind::Group,
            json!({"schemas": [GROUP], "displayName": "Eng", "members": [{"value": "1", "type": "User"}]}),
            "ok",
        ),
        (
            "no schemas",
            ResourceKind::User,
            json!({"userName": "a"}),
            "invalidSyntax",
        ),
        (
            "schemas without the core schema",
            ResourceKind::User,
            json!({"schemas": [ENTERPRISE], "userName": "a"}),
            "invalidSyntax",
        ),
        (
            "unknown schema URI",
            ResourceKind::User,
            json!({"schemas": [USER, "urn:example:acme:2.0:User"], "userName": "a"}),
            "invalidSyntax",
        ),
        (
            "a Group schema on a User",
            ResourceKind::User,
            json!({"schemas": [USER, GROUP], "userName": "a"}),
            "invalidSyntax",
        ),
        (
            "unknown core attribute",
            ResourceKind::User,
            json!({"schemas": [USER], "userName": "a", "colour": "red"}),
            "invalidSyntax",
        ),
        (
            "unknown sub-attribute",
            ResourceKind::User,
            json!({"schemas": [USER], "userName": "a", "emails": [{"value": "a@x", "kind": "work"}]}),
            "invalidSyntax",
        ),
        (
            "unknown extension object",
            ResourceKind::User,
            json!({"schemas": [USER], "userName": "a", "urn:example:acme:2.0:User": {"b": 1}}),
            "invalidSyntax",
        ),
        (
            "extension not listed in schemas",
            ResourceKind::User,
            json!({"schemas": [USER], "userName": "a", ENTERPRISE: {"department": "R&D"}}),
            "invalidSyntax",
        ),
        (
            "unknown attribute of a known extension",
            ResourceKind::User,
            json!({"schemas": [USER, ENTERPRISE], "userName": "a", ENTERPRISE: {"team": "x"}}),
            "invalidSyntax",
        ),
        (
            "an extension attribute outside its object (Entra's unqualified form)",
            ResourceKind::User,
            json!({"schemas": [USER], "userName": "a", "department": "R&D"}),
            "invalidSyntax",
        ),
        (
            "a URN-qualified key",
            ResourceKind::User,
            json!({"schemas": [USER], "userName": "a", format!("{ENTERPRISE}:department"): "R&D"}),
            "invalidSyntax",
        ),
        (
            "bare-string manager (Entra)",
            ResourceKind::User,
            json!({"schemas": [USER, ENTERPRISE], "userName": "a", ENTERPRISE: {"manager": "42"}}),
            "invalidSyntax",
        ),
        (
            "a User attribute on a Group",
            ResourceKind::Group,
            json!({"schemas": [GROUP], "displayName": "Eng", "userName": "x"}),
            "invalidSyntax",
        ),
    ];
    for (name, kind, body, want) in rows {
        assert_eq!(
            scim_type(check_resource_body(Profile::Strict, kind, &body)),
            want,
            "strict: {name}"
        );
        // Lenient checks nothing, and today's parser accepts every row.
        assert!(
            check_resource_body(Profile::Lenient, kind, &body).is_ok(),
            "lenient: {name}"
        );
        assert!(parse_resource(kind, &body).is_ok(), "lenient parse: {name}");
    }
}

fn request(ops: Value) -> PatchRequest {
    PatchRequest::from_json(&json!({"schemas": [PATCH_OP], "Operations": ops})).unwrap()
}

/// PATCH requests: "Updating Resources".
#[test]
fn strict_patch_requests() {
    let rows: Vec<(&str, ResourceKind, Value, &str)> = vec![
        (
            "a path per attribute",
            ResourceKind::User,
            json!([{"op": "replace", "path": "active", "value": false},
                   {"op": "add", "path": "name.givenName", "value": "A"},
                   {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "b@x"},
                   {"op": "remove", "path": "phoneNumbers"},
                   {"op": "add", "path": format!("{ENTERPRISE}:department"), "value": "R&D"},
                   {"op": "add", "path": ENTERPRISE, "value": {"costCenter": "1"}},
                   {"op": "replace", "path": "name", "value": {"givenName": "A", "familyName": "B"}}]),
            "ok",
        ),
        (
            "group members by path",
            ResourceKind::Group,
            json!([{"op": "add", "path": "members", "value": [{"value": "1"}]},
                   {"op": "replace", "path": "displayName", "value": "Eng"}]),
            "ok",
        ),
        (
            "group members removed by value (the strict form of a member removal)",
            ResourceKind::Group,
            json!([{"op": "remove", "path": "members", "value": [{"value": "1"}]}]),
            "ok",
        ),
        (
            "path-less replace (Okta)",
            ResourceKind::User,
            json!([{"op": "replace", "value": {"active": false}}]),
            "invalidSyntax",
        ),
        (
            "path-less dotted key (Entra)",
            ResourceKind::User,
            json!([{"op": "Replace", "value": {"name.givenName": "A"}}]),
            "invalidSyntax",
        ),
        (
            "unknown attribute path",
            ResourceKind::User,
            json!([{"op": "replace", "path": "colour", "value": "red"}]),
            "invalidSyntax",
        ),
        (
            "unknown sub-attribute path",
            ResourceKind::User,
            json!([{"op": "replace", "path": "name.nickname", "value": "x"}]),
            "invalidSyntax",
        ),
        (
            "unknown schema URN in the path",
            ResourceKind::User,
            json!([{"op": "add", "path": "urn:example:acme:2.0:User:badge", "value": "7"}]),
            "invalidSyntax",
        ),
        (
            "extension attribute without its URN",
            ResourceKind::User,
            json!([{"op": "add", "path": "department", "value": "R&D"}]),
            "invalidSyntax",
        ),
        (
            "unknown key in a complex value",
            ResourceKind::User,
            json!([{"op": "replace", "path": "name", "value": {"givenName": "A", "nick": "x"}}]),
            "invalidSyntax",
        ),
        (
            "unknown key in an extension value",
            ResourceKind::User,
            json!([{"op": "add", "path": ENTERPRISE, "value": {"team": "x"}}]),
            "invalidSyntax",
        ),
        (
            "unknown sub-attribute in a value filter",
            ResourceKind::User,
            json!([{"op": "replace", "path": "emails[kind eq \"work\"].value", "value": "x"}]),
            "invalidSyntax",
        ),
        (
            "filtered path without a sub-attribute (replace)",
            ResourceKind::User,
            json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "x"}}]),
            "invalidPath",
        ),
        (
            "filtered path without a sub-attribute (remove)",
            ResourceKind::Group,
            json!([{"op": "remove", "path": "members[value eq \"1\"]"}]),
            "invalidPath",
        ),
    ];
    for (name, kind, ops, want) in rows {
        let req = request(ops);
        assert_eq!(
            scim_type(check_patch(Profile::Strict, kind, &req, true)),
            want,
            "strict: {name}"
        );
        assert!(
            check_patch(Profile::Lenient, kind, &req, true).is_ok(),
            "lenient: {name}"
        );
    }
    // `schemas` is required in strict mode only.
    let req = request(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(
        scim_type(check_patch(
            Profile::Strict,
            ResourceKind::User,
            &req,
            false
        )),
        "invalidSyntax"
    );
    assert!(check_patch(Profile::Lenient, ResourceKind::User, &req, false).is_ok());
}

/// "A filter matching more than one element": `invalidFilter` under strict, every match
/// changed under lenient (today's behaviour).
#[test]
fn strict_value_filter_selects_one_element() {
    let user = parse_resource(
        ResourceKind::User,
        &json!({"userName": "a", "emails": [
            {"value": "a@work", "type": "work", "primary": true},
            {"value": "b@work", "type": "work"},
            {"value": "c@home", "type": "home"}
        ]}),
    )
    .unwrap();
    let rows: Vec<(&str, Value, &str)> = vec![
        (
            "two work addresses",
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "z@work"}]),
            "invalidFilter",
        ),
        (
            "remove through a filter selecting two",
            json!([{"op": "remove", "path": "emails[type eq \"work\"].value"}]),
            "invalidFilter",
        ),
        (
            "one home address",
            json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "z@home"}]),
            "ok",
        ),
        (
            "no match: an eq filter creates the element",
            json!([{"op": "add", "path": "emails[type eq \"other\"].value", "value": "o@x"}]),
            "ok",
        ),
        (
            "an earlier operation makes the filter select one",
            json!([{"op": "replace", "path": "emails[value eq \"b@work\"].type", "value": "other"},
                   {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "z@work"}]),
            "ok",
        ),
    ];
    for (name, ops, want) in rows {
        let req = request(ops);
        assert_eq!(
            scim_type(apply_patch_with(
                ResourceKind::User,
                &user,
                &req,
                Profile::Strict
            )),
            want,
            "strict: {name}"
        );
        let lenient = apply_patch_with(ResourceKind::User, &user, &req, Profile::Lenient).unwrap();
        assert_eq!(
            lenient,
            apply_patch(ResourceKind::User, &user, &req).unwrap(),
            "lenient is apply_patch: {name}"
        );
    }
}

/// "Filtering": an attribute no schema of the resource type defines is `invalidFilter`.
#[test]
fn strict_filters_name_defined_attributes() {
    let rows = [
        ("userName eq \"a\" and active eq true", "ok"),
        ("emails[type eq \"work\"]", "ok"),
        ("emails.value eq \"a\"", "ok"),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"x\"",
            "ok",
        ),
        ("meta.lastModified gt \"2026-01-01T00:00:00Z\"", "ok"),
        ("colour eq \"red\"", "invalidFilter"),
        ("name.nickname eq \"x\"", "invalidFilter"),
        ("urn:example:acme:2.0:User:badge eq \"7\"", "invalidFilter"),
        ("userName eq \"a\" and colour eq \"red\"", "invalidFilter"),
    ];
    for (text, want) in rows {
        let f = parse_filter(text).unwrap();
        assert_eq!(
            scim_type(check_filter(Profile::Strict, &[ResourceKind::User], &f)),
            want,
            "{text}"
        );
        assert!(check_filter(Profile::Lenient, &[ResourceKind::User], &f).is_ok());
    }
    // The root search: defined by any resource type.
    let f = parse_filter("displayName eq \"Eng\"").unwrap();
    assert!(
        check_filter(
            Profile::Strict,
            &[ResourceKind::User, ResourceKind::Group],
            &f
        )
        .is_ok()
    );
    let f = parse_filter("members.value eq \"1\"").unwrap();
    assert_eq!(
        scim_type(check_filter(Profile::Strict, &[ResourceKind::User], &f)),
        "invalidFilter"
    );
}

/// "Canonical Values for Typed Attributes" and "ResourceType id equals name", from the
/// definitions both profiles publish.
#[test]
fn discovery_declares_canonical_values_and_ids() {
    let mut seen = 0;
    for schema in scim_core::discovery::schemas("https://h/scim/v2/t") {
        for attr in schema["attributes"].as_array().unwrap() {
            for sub in attr["subAttributes"].as_array().into_iter().flatten() {
                if sub["name"] == "type" {
                    seen += 1;
                    assert!(
                        sub["canonicalValues"]
                            .as_array()
                            .is_some_and(|c| !c.is_empty()),
                        "{}.type",
                        attr["name"]
                    );
                }
            }
        }
    }
    assert!(seen >= 9, "{seen}");
    for rt in scim_core::discovery::resource_types("https://h/scim/v2/t", &[]) {
        assert_eq!(rt["id"], rt["name"]);
    }
    for profile in [Profile::Strict, Profile::Lenient] {
        let spc = scim_core::discovery::service_provider_config(
            &scim_core::discovery::DiscoveryOptions {
                base_url: "https://h/scim/v2/t".into(),
                max_results: 200,
                default_page_size: 100,
                cursor_timeout_secs: 60,
                documentation_uri: None,
                profile,
                bulk: scim_core::bulk::BulkLimits::default(),
            },
        );
        assert_eq!(
            spc["interopProfileConformant"],
            profile == Profile::Strict,
            "{profile}"
        );
    }
}
