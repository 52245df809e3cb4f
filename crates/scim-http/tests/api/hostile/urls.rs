//! The corpus's requests whose hostility is in the URL or the headers: ids, tenant ids,
//! routes and methods, filters and other query parameters, `%`-encodings, content types,
//! lengths, entity tags, `Accept` and `Authorization` shapes.

use super::{Case, Expect, Fixture, hv};
use crate::helpers::PATCH_URN;
use actix_web::http::header::HeaderValue;
use serde_json::{Value, json};

/// Ids that name nothing, in every shape a URL can carry: NUL (raw and double-encoded),
/// 10 KB, dot segments, invalid and overlong UTF-8, unicode, SQL-looking text.
pub(super) fn hostile_ids() -> Vec<(String, &'static str)> {
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
pub(super) fn id_cases(f: &Fixture) -> Vec<Case> {
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
pub(super) fn tenant_cases(_: &Fixture) -> Vec<Case> {
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

/// Filters and other list parameters, in the query string and in `/.search` bodies.
pub(super) fn filter_cases(f: &Fixture) -> Vec<Case> {
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
pub(super) fn urlencoding(s: &str) -> String {
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
pub(super) fn header_cases(f: &Fixture) -> Vec<Case> {
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

/// Unknown routes, wrong methods, discovery filters, and the RFC's 501s (`/Me`).
pub(super) fn route_cases(f: &Fixture) -> Vec<Case> {
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
    out.push(Case::new(
        "GET Bulk",
        "GET",
        format!("{}/Bulk", f.base),
        Expect::Status(405),
    ));
    for (method, path) in [("GET", "Me"), ("PATCH", "Me"), ("GET", "Me/x")] {
        out.push(
            Case::new(format!("{method} {path}"), method, format!("{}/{path}", f.base), Expect::NotImplemented)
                .json(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [{"method": "POST", "path": "/Users", "data": {"userName": "bulk"}}]})),
        );
    }
    out
}
