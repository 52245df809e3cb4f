//! A generated corpus of hostile requests, on SQLite and on PostgreSQL: every SCIM route
//! and method, with malformed ids, tenant ids, bodies, headers, filters, PATCH paths and
//! encodings, built from tables and their products rather than listed one by one.
//!
//! For every request: a 4xx with a SCIM error body (`schemas` names the Error URN, `status`
//! is the code as a string, `application/scim+json`), never a 5xx, never a panic; the
//! status (and `scimType`) a dimension is known to give is checked too. The only 5xx in
//! the corpus is `501 Not Implemented` from `/Bulk` and `/Me`, which RFC 7644 prescribes
//! for a feature the server does not offer (§3.7 with `bulk.supported: false` in
//! `/ServiceProviderConfig`, §3.11 for `/Me`); it is checked to be exactly that, with a
//! SCIM error body. After each batch a probe shows the service still answers, and around
//! the whole corpus (which holds no valid write) the row count of every table and the
//! versions of every resource are unchanged: nothing was partially written.

use crate::helpers::{Backend, PATCH_URN, TestApp, backends};
use actix_web::App;
use actix_web::http::header::HeaderValue;
use actix_web::test::{self, TestRequest};
use scim_http::{Limits, configure};
use serde_json::{Value, json};

/// What a request must get besides "a 4xx with a SCIM error body".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Any 4xx.
    Client,
    /// This status.
    Status(u16),
    /// 400 with this `scimType`.
    Type(&'static str),
    /// RFC 7644's 501 for an unsupported feature (`/Bulk`, `/Me`): the one 5xx allowed.
    NotImplemented,
}

struct Case {
    label: String,
    method: &'static str,
    uri: String,
    headers: Vec<(&'static str, HeaderValue)>,
    body: Option<Vec<u8>>,
    expect: Expect,
    /// Send the tenant's token (`false`: the headers carry whatever `Authorization` the
    /// case is about, or none).
    auth: bool,
}

impl Case {
    fn new(label: impl Into<String>, method: &'static str, uri: String, expect: Expect) -> Case {
        Case {
            label: label.into(),
            method,
            uri,
            headers: Vec::new(),
            body: None,
            expect,
            auth: true,
        }
    }

    fn json(mut self, body: &Value) -> Case {
        self.body = Some(body.to_string().into_bytes());
        self
    }

    fn raw(mut self, body: Vec<u8>) -> Case {
        self.body = Some(body);
        self
    }

    fn header(mut self, name: &'static str, value: HeaderValue) -> Case {
        self.headers.push((name, value));
        self
    }

    fn unauthenticated(mut self) -> Case {
        self.auth = false;
        self
    }
}

fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap()
}

/// The fixtures the corpus aims at (created before the snapshot).
struct Fixture {
    base: String,
    user: String,
    group: String,
    token: String,
}

/// Ids that name nothing, in every shape a URL can carry: NUL (raw and double-encoded),
/// 10 KB, dot segments, invalid and overlong UTF-8, unicode, SQL-looking text.
fn hostile_ids() -> Vec<(String, &'static str)> {
    vec![
        ("%00".into(), "NUL"),
        ("a%00b".into(), "inner NUL"),
        ("%2500".into(), "double-encoded NUL"),
        ("x".repeat(10_000), "10 KB"),
        ("%41".repeat(3_000), "3 000 escapes"),
        ("..".into(), "dot-dot"),
        ("%2e%2e".into(), "encoded dot-dot"),
        ("%2F".into(), "encoded slash"),
        ("%FF%FE".into(), "invalid UTF-8"),
        ("%C0%AF".into(), "overlong UTF-8"),
        ("%E2%80%AE%F0%9F%98%80".into(), "RTL override and emoji"),
        ("%C3%BC".into(), "unicode"),
        ("%20".into(), "space"),
        ("'%20OR%201=1--".into(), "SQL-looking"),
        ("00000000-0000-0000-0000-000000000000".into(), "nil UUID"),
        ("9".repeat(400), "long number"),
        ("%".into(), "lone percent"),
        ("%ZZ".into(), "bad escape"),
    ]
}

/// Routes with an id (every method they serve).
fn id_cases(f: &Fixture) -> Vec<Case> {
    let mut out = Vec::new();
    let user_body = json!({"userName": "never@example.com"});
    let group_body = json!({"displayName": "never"});
    let patch = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    for (id, what) in hostile_ids() {
        for (endpoint, body) in [("Users", &user_body), ("Groups", &group_body)] {
            let uri = format!("{}/{endpoint}/{id}", f.base);
            out.push(Case::new(
                format!("GET {endpoint} {what}"),
                "GET",
                uri.clone(),
                Expect::Status(404),
            ));
            out.push(
                Case::new(
                    format!("PUT {endpoint} {what}"),
                    "PUT",
                    uri.clone(),
                    Expect::Status(404),
                )
                .json(body),
            );
            out.push(
                Case::new(
                    format!("PATCH {endpoint} {what}"),
                    "PATCH",
                    uri.clone(),
                    Expect::Status(404),
                )
                .json(&patch),
            );
            out.push(Case::new(
                format!("DELETE {endpoint} {what}"),
                "DELETE",
                uri,
                Expect::Status(404),
            ));
        }
        for endpoint in ["Schemas", "ResourceTypes"] {
            out.push(Case::new(
                format!("GET {endpoint} {what}"),
                "GET",
                format!("{}/{endpoint}/{id}", f.base),
                Expect::Status(404),
            ));
        }
    }
    out
}

/// Tenant ids in the URL that are not the token's tenant (or any tenant): 401, as for
/// any token that does not belong to the URL's tenant.
fn tenant_cases(_: &Fixture) -> Vec<Case> {
    let mut out = Vec::new();
    for (id, what) in hostile_ids() {
        for path in ["Users", "Groups", "ServiceProviderConfig"] {
            out.push(Case::new(
                format!("tenant {what} GET {path}"),
                "GET",
                format!("/scim/v2/{id}/{path}"),
                Expect::Status(401),
            ));
        }
    }
    out
}

/// Bodies no route accepts: not JSON, not UTF-8, a BOM, nesting 10 000 deep, not an object.
fn generic_bodies() -> Vec<(String, Vec<u8>, Expect)> {
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
fn body_routes(f: &Fixture) -> Vec<(&'static str, String)> {
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
    ]
}

fn body_cases(f: &Fixture) -> Vec<Case> {
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
fn resource_cases(f: &Fixture) -> Vec<Case> {
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
fn patch_cases(f: &Fixture) -> Vec<Case> {
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

/// Filters and other list parameters, in the query string and in `/.search` bodies.
fn filter_cases(f: &Fixture) -> Vec<Case> {
    let filters: Vec<String> = vec![
        "(((".into(),
        "userName eq".into(),
        "userName eq \"a\" and".into(),
        "not".into(),
        "userName eq \"a\u{0}\"".into(),
        "\u{0}".into(),
        format!("userName eq \"{}\"", "x".repeat(5_000)),
        format!("{}userName pr{}", "(".repeat(100), ")".repeat(100)),
        format!("{}userName pr", "not (".repeat(80)),
        "emails[type eq \"work\"".into(),
        "emails[type eq \"work\"]]".into(),
        "meta.created gt \"yesterday\"".into(),
        "meta.created gt true".into(),
        "userName eq 1e999999".into(),
        "userName xx \"a\"".into(),
        "x eq \"a\"]".into(),
        "[".into(),
        "userName[".into(),
        "urn:x:".into(),
        "userName eq \"\\ud800\"".into(),
        "userName eq 'single'".into(),
    ];
    let mut out = Vec::new();
    for filter in &filters {
        let short: String = filter.chars().take(30).collect();
        let q = urlencoding(filter);
        for endpoint in ["Users", "Groups"] {
            out.push(Case::new(
                format!("GET {endpoint} filter {short:?}"),
                "GET",
                format!("{}/{endpoint}?filter={q}", f.base),
                Expect::Type("invalidFilter"),
            ));
            out.push(
                Case::new(
                    format!("POST {endpoint}/.search filter {short:?}"),
                    "POST",
                    format!("{}/{endpoint}/.search", f.base),
                    Expect::Type("invalidFilter"),
                )
                .json(&json!({"filter": filter})),
            );
        }
        out.push(
            Case::new(
                format!("POST /.search filter {short:?}"),
                "POST",
                format!("{}/.search", f.base),
                Expect::Type("invalidFilter"),
            )
            .json(&json!({"filter": filter})),
        );
    }
    // Encodings of the query string itself: bad escapes, overlong and invalid UTF-8,
    // double encoding.
    for q in [
        "filter=%ZZ",
        "filter=%",
        "filter=%E0%80%80",
        "filter=%C0%A2userName%C0%A2",
        "filter=userName%20eq%20%FF",
        "filter=%2500",
        "filter=userName%2520eq%2520%2522a%2522",
        "startIndex=abc",
        "count=abc",
        "count=1e3",
        "cursor=%00",
        "cursor=not-a-cursor",
        "attributes=emails%5B",
        "attributes=%00",
        "excludedAttributes=name..givenName",
        "sortBy=%00&cursor=",
    ] {
        for endpoint in ["Users", "Groups"] {
            out.push(Case::new(
                format!("GET {endpoint}?{q}"),
                "GET",
                format!("{}/{endpoint}?{q}", f.base),
                Expect::Client,
            ));
        }
    }
    for body in [
        json!({"filter": 5}),
        json!({"startIndex": "one"}),
        json!({"count": {}}),
        json!({"attributes": 5}),
        json!({"sortBy": 1}),
        json!({"cursor": "\u{0}"}),
    ] {
        out.push(
            Case::new(
                format!("POST /Users/.search {body}"),
                "POST",
                format!("{}/Users/.search", f.base),
                Expect::Client,
            )
            .json(&body),
        );
    }
    out
}

/// Minimal percent-encoding for a query value.
fn urlencoding(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Headers: content types, content lengths, entity tags, `Accept` and `Authorization`.
fn header_cases(f: &Fixture) -> Vec<Case> {
    let mut out = Vec::new();
    let valid_user = json!({"userName": "valid-but-refused@example.com"});
    let users = format!("{}/Users", f.base);
    let user = format!("{}/Users/{}", f.base, f.user);
    let group = format!("{}/Groups/{}", f.base, f.group);
    // A valid body that the header alone must make the server refuse (so it is also a
    // test that nothing is written).
    for ct in [
        hv("text/plain"),
        hv("application/xml"),
        hv("application/x-www-form-urlencoded"),
        hv("multipart/form-data; boundary=x"),
        hv("application/scim+jsonx"),
        HeaderValue::from_bytes(b"application/json\xff").unwrap(),
    ] {
        for (method, uri) in [("POST", users.clone()), ("PUT", user.clone())] {
            out.push(
                Case::new(
                    format!("{method} Content-Type {ct:?}"),
                    method,
                    uri,
                    Expect::Status(415),
                )
                .json(&valid_user)
                .header("content-type", ct.clone()),
            );
        }
    }
    for len in ["99999999999", "18446744073709551615", "1048577"] {
        out.push(
            Case::new(
                format!("POST Content-Length {len}"),
                "POST",
                users.clone(),
                Expect::Status(413),
            )
            .json(&valid_user)
            .header("content-length", hv(len)),
        );
    }
    for len in ["-1", "abc", "1e9", "0x10"] {
        // Unparseable lengths are ignored; the body decides (here: not JSON).
        out.push(
            Case::new(
                format!("POST Content-Length {len}"),
                "POST",
                users.clone(),
                Expect::Type("invalidSyntax"),
            )
            .raw(b"{\"userName\":".to_vec())
            .header("content-length", hv(len)),
        );
    }
    let put_user = json!({"userName": "renamed-never@example.com"});
    let patch = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "displayName", "value": "never"}]});
    for tag in [
        hv("W/\"999\""),
        hv("\"7\""),
        hv("garbage"),
        hv(""),
        hv("W/\"\""),
        hv("W/\"1x\""),
        hv(&format!("W/\"{}\"", "9".repeat(400))),
        HeaderValue::from_bytes(b"W/\"\xff\"").unwrap(),
    ] {
        for (method, uri, body) in [
            ("PUT", user.clone(), Some(&put_user)),
            ("PATCH", user.clone(), Some(&patch)),
            ("PATCH", group.clone(), Some(&patch)),
            ("DELETE", user.clone(), None),
            ("DELETE", group.clone(), None),
        ] {
            let mut case = Case::new(
                format!("{method} If-Match {tag:?}"),
                method,
                uri,
                Expect::Status(412),
            )
            .header("if-match", tag.clone());
            if let Some(b) = body {
                case = case.json(b);
            }
            out.push(case);
        }
    }
    for accept in [
        "text/html",
        "application/xml",
        "*/*;q=0",
        "garbage/\u{7f}",
        "",
    ] {
        let Ok(v) = HeaderValue::from_str(accept) else {
            continue;
        };
        out.push(
            Case::new(
                format!("GET unknown id Accept {accept:?}"),
                "GET",
                format!("{users}/nope"),
                Expect::Status(404),
            )
            .header("accept", v),
        );
    }
    // Authorization shapes, on every route, with bodies that would be valid writes.
    let other = format!("{}x", f.token);
    let mut tampered = f.token.clone().into_bytes();
    if let Some(last) = tampered.iter_mut().rev().nth(3) {
        *last = if *last == b'A' { b'B' } else { b'A' };
    }
    let tampered = String::from_utf8(tampered).unwrap();
    let auths: Vec<(String, Option<HeaderValue>)> = vec![
        ("missing".into(), None),
        ("empty".into(), Some(hv(""))),
        ("scheme only".into(), Some(hv("Bearer"))),
        ("scheme and space".into(), Some(hv("Bearer "))),
        ("basic".into(), Some(hv("Basic dXNlcjpwYXNz"))),
        ("three dots".into(), Some(hv("Bearer a.b.c"))),
        ("suffixed".into(), Some(hv(&format!("Bearer {other}")))),
        ("tampered".into(), Some(hv(&format!("Bearer {tampered}")))),
        (
            "two tokens".into(),
            Some(hv(&format!("Bearer {} {}", f.token, f.token))),
        ),
        (
            "other scheme".into(),
            Some(hv(&format!("Token {}", f.token))),
        ),
        (
            "alg none".into(),
            Some(hv("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")),
        ),
        (
            "10 KB".into(),
            Some(hv(&format!("Bearer {}", "a".repeat(10_000)))),
        ),
        (
            "non-ASCII".into(),
            Some(HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap()),
        ),
    ];
    let routes: Vec<(&'static str, String, Option<Value>)> = vec![
        ("GET", users.clone(), None),
        ("POST", users.clone(), Some(valid_user.clone())),
        ("GET", user.clone(), None),
        ("PUT", user.clone(), Some(put_user.clone())),
        ("PATCH", user.clone(), Some(patch.clone())),
        ("DELETE", user.clone(), None),
        ("DELETE", group.clone(), None),
        ("POST", format!("{}/Users/.search", f.base), Some(json!({}))),
        ("GET", format!("{}/ServiceProviderConfig", f.base), None),
        ("GET", format!("{}/Schemas", f.base), None),
        ("GET", format!("{}/ResourceTypes/User", f.base), None),
    ];
    for (what, header) in &auths {
        for (method, uri, body) in &routes {
            let mut case = Case::new(
                format!("{method} {uri} Authorization {what}"),
                method,
                uri.clone(),
                Expect::Status(401),
            )
            .unauthenticated();
            if let Some(h) = header {
                case = case.header("authorization", h.clone());
            }
            if let Some(b) = body {
                case = case.json(b);
            }
            out.push(case);
        }
    }
    out
}

/// Unknown routes, wrong methods, discovery filters, and the RFC's 501s.
fn route_cases(f: &Fixture) -> Vec<Case> {
    let mut out = Vec::new();
    for path in [
        "/",
        "/scim",
        "/scim/v2",
        "/scim/v2/",
        "/%00",
        "/scim/v2/%00/%00/%00",
    ] {
        out.push(Case::new(
            format!("GET {path}"),
            "GET",
            path.to_string(),
            Expect::Status(404),
        ));
    }
    for path in [
        "Nope",
        "Users/a/b",
        "Groupz",
        "Users%00",
        "%ZZ",
        "Users/.search/x",
        "Schemas/a/b",
    ] {
        out.push(Case::new(
            format!("GET {path}"),
            "GET",
            format!("{}/{path}", f.base),
            Expect::Status(404),
        ));
    }
    let routes = [
        ("Users", &["DELETE", "PUT", "PATCH"][..]),
        ("Users/.search", &["GET", "PUT", "DELETE"][..]),
        (".search", &["GET", "PATCH"][..]),
        ("ServiceProviderConfig", &["POST", "PUT", "DELETE"][..]),
        ("Schemas", &["POST", "PATCH"][..]),
        ("ResourceTypes/User", &["POST", "DELETE"][..]),
    ];
    for (path, methods) in routes {
        for &method in methods {
            out.push(
                Case::new(
                    format!("{method} {path}"),
                    method,
                    format!("{}/{path}", f.base),
                    Expect::Status(405),
                )
                .json(&json!({})),
            );
        }
    }
    for kind in ["Users", "Groups"] {
        out.push(
            Case::new(
                format!("POST {kind}/id"),
                "POST",
                format!("{}/{kind}/{}", f.base, f.user),
                Expect::Status(405),
            )
            .json(&json!({})),
        );
    }
    for path in ["Schemas", "ResourceTypes", "ServiceProviderConfig"] {
        out.push(Case::new(
            format!("GET {path} filter"),
            "GET",
            format!("{}/{path}?filter=id%20eq%20%22x%22", f.base),
            Expect::Status(403),
        ));
    }
    for (method, path) in [
        ("POST", "Bulk"),
        ("GET", "Bulk"),
        ("GET", "Me"),
        ("PATCH", "Me"),
        ("GET", "Me/x"),
    ] {
        out.push(
            Case::new(format!("{method} {path}"), method, format!("{}/{path}", f.base), Expect::NotImplemented)
                .json(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [{"method": "POST", "path": "/Users", "data": {"userName": "bulk"}}]})),
        );
    }
    out
}

/// Row counts of every table, and the versions of the resources.
fn snapshot(app: &TestApp) -> Vec<(String, String)> {
    let pg = app.db.backend() == "postgres";
    app.db
        .with_connection(|c| {
            let (tables, count) = if pg {
                (
                    "SELECT tablename AS \"QUERY PLAN\" FROM pg_tables \
                     WHERE schemaname = current_schema() ORDER BY tablename",
                    "SELECT COUNT(*)::text AS \"QUERY PLAN\" FROM",
                )
            } else {
                (
                    "SELECT name AS detail FROM sqlite_master WHERE type = 'table' ORDER BY name",
                    "SELECT CAST(COUNT(*) AS TEXT) AS detail FROM",
                )
            };
            let mut out = Vec::new();
            for table in c.query_text_rows(tables)? {
                let n = c.query_text_rows(&format!("{count} \"{table}\""))?;
                out.push((table, n.join(",")));
            }
            for table in ["users", "groups"] {
                let sql = if pg {
                    format!("SELECT id || ':' || version::text AS \"QUERY PLAN\" FROM {table} ORDER BY id")
                } else {
                    format!("SELECT id || ':' || CAST(version AS TEXT) AS detail FROM {table} ORDER BY id")
                };
                out.push((format!("{table} versions"), c.query_text_rows(&sql)?.join(",")));
            }
            Ok(out)
        })
        .unwrap()
}

async fn run_corpus(backend: Backend) -> usize {
    let app = TestApp::on(backend, Limits::default());
    let user = app.user("target@example.com").await;
    let v = app
        .call(
            "POST",
            "/Groups",
            Some(&json!({"displayName": "Target", "members": [{"value": user}]})),
        )
        .await
        .expect(201);
    let fixture = Fixture {
        base: app.base(),
        user,
        group: v["id"].as_str().unwrap().to_string(),
        token: app.token.clone(),
    };
    let before = snapshot(&app);
    assert!(
        before.iter().any(|(t, n)| t == "users" && n == "1"),
        "{before:?}"
    );
    let service = test::init_service(App::new().configure(configure(app.state.clone()))).await;
    let batches: Vec<(&str, Vec<Case>)> = vec![
        ("ids", id_cases(&fixture)),
        ("tenants", tenant_cases(&fixture)),
        ("bodies", body_cases(&fixture)),
        ("resources", resource_cases(&fixture)),
        ("patch", patch_cases(&fixture)),
        ("filters", filter_cases(&fixture)),
        ("headers", header_cases(&fixture)),
        ("routes", route_cases(&fixture)),
    ];
    let mut total = 0;
    let mut failures = Vec::new();
    for (batch, cases) in batches {
        for case in cases {
            total += 1;
            let mut req = TestRequest::default()
                .method(case.method.parse().unwrap())
                .uri(&case.uri);
            if case.auth {
                req = req.insert_header(("authorization", format!("Bearer {}", fixture.token)));
            }
            if case.body.is_some() && !case.headers.iter().any(|(n, _)| *n == "content-type") {
                req = req.insert_header(("content-type", "application/scim+json"));
            }
            if let Some(body) = &case.body {
                req = req.set_payload(body.clone());
            }
            // After the payload, which sets its own Content-Length.
            for (name, value) in &case.headers {
                req = req.insert_header((*name, value.clone()));
            }
            let resp = test::call_service(&service, req.to_request()).await;
            let status = resp.status().as_u16();
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = test::read_body(resp).await;
            if let Err(why) = judge(case.expect, status, ct.as_deref(), &body) {
                failures.push(format!("[{backend:?} {batch}] {}: {why}", case.label));
            }
        }
        // The service still answers after the batch.
        let probe = TestRequest::get()
            .uri(&format!("{}/Users?count=1", fixture.base))
            .insert_header(("authorization", format!("Bearer {}", fixture.token)));
        let resp = test::call_service(&service, probe.to_request()).await;
        assert_eq!(
            resp.status().as_u16(),
            200,
            "[{backend:?}] probe after {batch}"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {total} requests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        snapshot(&app),
        before,
        "[{backend:?}] the corpus changed the database"
    );
    total
}

/// Checks one answer; `Err` says what is wrong.
fn judge(expect: Expect, status: u16, ct: Option<&str>, body: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(body);
    let shown: String = text.chars().take(300).collect();
    match expect {
        Expect::NotImplemented if status != 501 => {
            return Err(format!("{status}, expected 501: {shown}"));
        }
        Expect::NotImplemented => {}
        _ if !(400..500).contains(&status) => {
            return Err(format!("{status}, expected a 4xx: {shown}"));
        }
        Expect::Status(s) if s != status => return Err(format!("{status}, expected {s}: {shown}")),
        _ => {}
    }
    if ct != Some("application/scim+json") {
        return Err(format!("content type {ct:?}: {shown}"));
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON ({e}): {shown}"))?;
    if v["schemas"] != json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        || v["status"] != status.to_string()
    {
        return Err(format!("not a SCIM error body for {status}: {shown}"));
    }
    if let Expect::Type(t) = expect
        && (status != 400 || v["scimType"] != t)
    {
        return Err(format!(
            "{status} {}, expected 400 {t}: {shown}",
            v["scimType"]
        ));
    }
    Ok(())
}

#[actix_web::test]
async fn a_hostile_corpus_gets_4xx_scim_errors_and_writes_nothing() {
    for backend in backends() {
        let total = run_corpus(backend).await;
        assert!(total >= 300, "only {total} requests");
        eprintln!("hostile corpus: {total} requests on {backend:?}");
    }
}
