//! The corpus's requests whose hostility is in the body: bytes that are not JSON (or not
//! UTF-8, or nested 10 000 deep), wrong types and unstorable values attribute by attribute,
//! and PATCH messages, paths and values.

use super::{Case, Expect, Fixture};
use crate::helpers::PATCH_URN;
use serde_json::{Value, json};

/// Bodies no route accepts: not JSON, not UTF-8, a BOM, nesting 10 000 deep, not an object.
pub(super) fn generic_bodies() -> Vec<(String, Vec<u8>, Expect)> {
    let valid = json!({"userName": "trunc@example.com", "displayName": "T",
                       "emails": [{"value": "trunc@example.com"}]})
    .to_string();
    let mut out: Vec<(String, Vec<u8>, Expect)> = Vec::new();
    for cut in [1, valid.len() / 3, valid.len() / 2, valid.len() - 1] {
        out.push((
            format!("truncated at {cut}"),
            valid.as_bytes()[..cut].to_vec(),
            Expect::Type("invalidSyntax"),
        ));
    }
    let mut bad_utf8 = br#"{"userName": "a"#.to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe, 0xc0, 0xaf]);
    bad_utf8.extend_from_slice(br#""}"#);
    out.push((
        "invalid UTF-8".into(),
        bad_utf8,
        Expect::Type("invalidSyntax"),
    ));
    let mut bom = "\u{feff}".as_bytes().to_vec();
    bom.extend_from_slice(valid.as_bytes());
    out.push(("BOM".into(), bom, Expect::Type("invalidSyntax")));
    out.push((
        "arrays 10 000 deep".into(),
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
        Expect::Type("invalidSyntax"),
    ));
    out.push((
        "objects 10 000 deep".into(),
        format!(
            "{{\"userName\":\"deep\",\"urn:x:y\":{}1{}}}",
            "{\"a\":".repeat(10_000),
            "}".repeat(10_000)
        )
        .into_bytes(),
        Expect::Type("invalidSyntax"),
    ));
    for (what, body) in [
        ("empty", ""),
        ("whitespace", " \n\t "),
        ("null", "null"),
        ("number", "1e400"),
        ("string", "\"x\""),
        ("array", "[{}]"),
        ("lone surrogate", r#"{"userName": "\ud800"}"#),
        ("trailing garbage", r#"{"userName": "x"} {"#),
        (
            "duplicate keys then junk",
            r#"{"userName": "a", "userName": }"#,
        ),
    ] {
        out.push((what.to_string(), body.as_bytes().to_vec(), Expect::Client));
    }
    out.push((
        "over the body limit".into(),
        json!({"userName": "big", "title": "x".repeat(1_100_000)})
            .to_string()
            .into_bytes(),
        Expect::Status(413),
    ));
    out
}

/// Every route that reads a body.
pub(super) fn body_routes(f: &Fixture) -> Vec<(&'static str, String)> {
    vec![
        ("POST", format!("{}/Users", f.base)),
        ("POST", format!("{}/Groups", f.base)),
        ("PUT", format!("{}/Users/{}", f.base, f.user)),
        ("PUT", format!("{}/Groups/{}", f.base, f.group)),
        ("PATCH", format!("{}/Users/{}", f.base, f.user)),
        ("PATCH", format!("{}/Groups/{}", f.base, f.group)),
        ("POST", format!("{}/Users/.search", f.base)),
        ("POST", format!("{}/Groups/.search", f.base)),
        ("POST", format!("{}/.search", f.base)),
        ("POST", format!("{}/Bulk", f.base)),
    ]
}

pub(super) fn body_cases(f: &Fixture) -> Vec<Case> {
    let mut out = Vec::new();
    for (what, body, expect) in generic_bodies() {
        for (method, uri) in body_routes(f) {
            out.push(
                Case::new(format!("{method} {uri} body {what}"), method, uri, expect)
                    .raw(body.clone()),
            );
        }
    }
    out
}

/// Wrong types and unstorable values, attribute by attribute, for POST and PUT.
pub(super) fn resource_cases(f: &Fixture) -> Vec<Case> {
    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let nul = "a\u{0}b";
    let long = "x".repeat(2_000);
    // (attribute, hostile values, scimType)
    let user_table: Vec<(&str, Vec<Value>)> = vec![
        (
            "userName",
            vec![
                json!(1),
                json!(true),
                json!({}),
                json!(["a", "b"]),
                json!(nul),
                json!(long),
            ],
        ),
        ("active", vec![json!("maybe"), json!(3), json!({})]),
        (
            "emails",
            vec![
                json!("a@b.test"),
                json!({"value": "a@b.test"}),
                json!(5),
                json!([{"value": 1}]),
                json!([{"value": nul}]),
                json!([{"value": long}]),
                json!([{"value": "a", "primary": true}, {"value": "b", "primary": true}]),
                json!(
                    (0..1_001)
                        .map(|i| json!({"value": format!("e{i}@x")}))
                        .collect::<Vec<_>>()
                ),
            ],
        ),
        (
            "name",
            vec![
                json!("Ada"),
                json!([1]),
                json!({"givenName": nul}),
                json!({"familyName": long}),
            ],
        ),
        (
            "displayName",
            vec![json!(1), json!(["a", "b"]), json!(nul), json!(long)],
        ),
        ("externalId", vec![json!({}), json!(nul), json!(long)]),
        (
            "phoneNumbers",
            vec![json!("+1 555"), json!({"value": "+1"})],
        ),
        ("meta", vec![]),
        (
            ENT,
            vec![
                json!("str"),
                json!({"manager": {"value": nul}}),
                json!({"department": long}),
                json!({"custom": nul}),
            ],
        ),
        (
            "urn:x:custom",
            vec![
                json!({"k": nul}),
                json!({"k\u{0}": 1}),
                json!({"list": vec![0; 1_001]}),
            ],
        ),
        ("schemas", vec![json!(5), json!([nul]), json!([{}])]),
    ];
    let group_table: Vec<(&str, Vec<Value>)> = vec![
        (
            "displayName",
            vec![json!(1), json!({}), json!(nul), json!(long)],
        ),
        (
            "members",
            vec![
                json!("u1"),
                json!({"value": "u1"}),
                json!([{"value": 1}]),
                json!([{"value": nul}]),
                json!([{"value": "not-a-member"}]),
            ],
        ),
        ("externalId", vec![json!(nul), json!(long)]),
    ];
    let mut out = Vec::new();
    for (endpoint, table, required, target) in [
        (
            "Users",
            user_table,
            ("userName", "hostile@example.com"),
            &f.user,
        ),
        ("Groups", group_table, ("displayName", "hostile"), &f.group),
    ] {
        for (attr, values) in table {
            for value in values {
                let mut body = json!({ required.0: required.1 });
                body[attr] = value.clone();
                for (method, uri) in [
                    ("POST", format!("{}/{endpoint}", f.base)),
                    ("PUT", format!("{}/{endpoint}/{target}", f.base)),
                ] {
                    let short: String = value.to_string().chars().take(40).collect();
                    out.push(
                        Case::new(
                            format!("{method} {endpoint} {attr}={short}"),
                            method,
                            uri,
                            Expect::Client,
                        )
                        .json(&body),
                    );
                }
            }
        }
    }
    out
}

/// PATCH operations: junk paths, unstorable and wrong-typed values, malformed messages.
pub(super) fn patch_cases(f: &Fixture) -> Vec<Case> {
    let paths = [
        "",
        " ",
        "[",
        "]",
        "emails[",
        "emails[type eq]",
        "emails]",
        "emails[type eq \"work\"]]",
        "name..givenName",
        "name.",
        ".name",
        "urn:",
        "urn:x:",
        "urn:ietf:params:scim:schemas:core:2.0:User:",
        "title\u{0}",
        "emails[type eq \"w\u{0}\"].value",
        "nope",
        "nope.deeper",
        "emails[primary gt true]",
        "emails[[type eq \"x\"]]",
        "id",
        "meta.created",
        "groups",
        "members[value eq \"x\"].display.x",
        "userName[value eq \"x\"]",
    ];
    let long_path = "a".repeat(5_000);
    let deep_path = format!(
        "emails[{}type eq \"x\"{}]",
        "(".repeat(100),
        ")".repeat(100)
    );
    let mut out = Vec::new();
    for (endpoint, target) in [("Users", &f.user), ("Groups", &f.group)] {
        let uri = format!("{}/{endpoint}/{target}", f.base);
        for path in paths
            .iter()
            .copied()
            .chain([long_path.as_str(), deep_path.as_str()])
        {
            for op in ["add", "replace", "remove"] {
                let body = json!({"schemas": [PATCH_URN], "Operations": [{"op": op, "path": path, "value": "x"}]});
                let short: String = path.chars().take(30).collect();
                out.push(
                    Case::new(
                        format!("PATCH {endpoint} {op} {short:?}"),
                        "PATCH",
                        uri.clone(),
                        Expect::Client,
                    )
                    .json(&body),
                );
            }
        }
        let messages = [
            json!({"schemas": [PATCH_URN]}),
            json!({"schemas": [PATCH_URN], "Operations": "nope"}),
            json!({"schemas": [PATCH_URN], "Operations": [1]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"op": "explode", "path": "title"}]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"op": 1}]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"path": "title", "value": "x"}]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"op": "add", "path": 5, "value": "x"}]}),
            json!({"schemas": ["urn:wrong"], "Operations": []}),
            json!({"schemas": [PATCH_URN], "Operations": vec![json!({"op": "add", "path": "title", "value": "x"}); 1_001]}),
        ];
        for m in messages {
            let short: String = m.to_string().chars().take(40).collect();
            out.push(
                Case::new(
                    format!("PATCH {endpoint} message {short}"),
                    "PATCH",
                    uri.clone(),
                    Expect::Client,
                )
                .json(&m),
            );
        }
    }
    // Values: wrong types and unstorable values through a path and path-less.
    let user_uri = format!("{}/Users/{}", f.base, f.user);
    let values: Vec<(&str, Value)> = vec![
        ("userName", json!("a\u{0}b")),
        ("userName", json!("x".repeat(2_000))),
        ("userName", json!(5)),
        ("active", json!("maybe")),
        ("emails", json!("a@b.test")),
        ("emails", json!({"value": "a@b.test"})),
        ("emails", json!([{"value": "a\u{0}"}])),
        ("emails[type eq \"work\"].value", json!("a\u{0}")),
        ("name.givenName", json!({"nested": 1})),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            json!({"value": "\u{0}"}),
        ),
        (
            "phoneNumbers",
            json!(
                (0..1_001)
                    .map(|i| json!({"value": format!("{i}")}))
                    .collect::<Vec<_>>()
            ),
        ),
    ];
    for (path, value) in values {
        for op in ["add", "replace"] {
            let with_path = json!({"schemas": [PATCH_URN], "Operations": [{"op": op, "path": path, "value": value}]});
            out.push(
                Case::new(
                    format!("PATCH Users {op} {path} value"),
                    "PATCH",
                    user_uri.clone(),
                    Expect::Type("invalidValue"),
                )
                .json(&with_path),
            );
            if !path.contains('[') {
                let path_less = json!({"schemas": [PATCH_URN], "Operations": [{"op": op, "value": {path: value}}]});
                out.push(
                    Case::new(
                        format!("PATCH Users {op} path-less {path}"),
                        "PATCH",
                        user_uri.clone(),
                        Expect::Type("invalidValue"),
                    )
                    .json(&path_less),
                );
            }
        }
    }
    let group_uri = format!("{}/Groups/{}", f.base, f.group);
    for value in [
        json!({"value": "u"}),
        json!([{"value": "u\u{0}"}]),
        json!([{"value": "x".repeat(2_000)}]),
        json!([{"value": "not-a-member"}]),
    ] {
        for op in ["add", "replace"] {
            let body = json!({"schemas": [PATCH_URN], "Operations": [{"op": op, "path": "members", "value": value}]});
            out.push(
                Case::new(
                    format!("PATCH Groups {op} members"),
                    "PATCH",
                    group_uri.clone(),
                    Expect::Client,
                )
                .json(&body),
            );
        }
    }
    out
}
