//! What a request-log entry says about a request, and the masking rule.
//!
//! **The rule: structure, never values.** An entry records names (of attributes, query
//! parameters, PATCH operations and their paths) and counts; it never records a value the
//! client sent, with two exceptions that cannot carry a secret or personal data: the
//! values of the paging, sorting and projection parameters
//! ([`LOGGED_QUERY_PARAMETERS`], the structured log's allowlist) and the `op` of a PATCH
//! operation. Concretely:
//!
//! - the path is kept (every routed segment is a server-issued id), the query with every
//!   value outside the allowlist replaced by `***` (a `filter`, a `cursor`, anything
//!   unknown);
//! - a filter (query or `.search` body, a PATCH path's brackets) is kept as its shape:
//!   `userName eq ***`, `emails[type eq *** and value co ***]`;
//! - a body is kept as the **names** of its attributes (`password` is listed as sent, its
//!   value never is), extension attributes as `urn:…:name`;
//! - a PATCH as its operations: `op`, the path (masked as above), and for a path-less
//!   operation the names of the attributes its value sets; a value is counted, not shown;
//! - a Bulk as its operations' method, path (`bulkId:` references masked) and names.
//!
//! Headers are never read, except `User-Agent`, reduced to a client name ([`client_of`]).
//! Names are cut at [`MAX_NAME_CHARS`] and lists at [`MAX_ITEMS`], so an entry stays small
//! whatever the request.

use crate::telemetry::{LOGGED_QUERY_PARAMETERS, REDACTED};
use scim_core::filter::{AttrPath, CompareOp, Filter};
use scim_core::path::PatchPath;
use scim_store::RequestAction;
use serde_json::{Map, Value, json};

/// Names longer than this are cut (with `…`).
pub const MAX_NAME_CHARS: usize = 100;
/// Lists (attribute names, operations) keep at most this many items, then say how many
/// more there were.
pub const MAX_ITEMS: usize = 50;

/// The client, from the `User-Agent` header: `okta` (real Okta sends `Okta SCIM Client
/// 1.0.0`, its Runscope tests `OKTA SCIM Integration`), `entra` (`Microsoft.AAD.…`, `AAD
/// Provisioning`, `Azure AD …`; Entra's Test Connection has been seen without any, which
/// is `other`), anything else `other`.
pub fn client_of(user_agent: Option<&str>) -> &'static str {
    let Some(ua) = user_agent else {
        return "other";
    };
    let ua = ua.to_ascii_lowercase();
    if ua.contains("okta") {
        "okta"
    } else if ua.starts_with("microsoft.aad")
        || ua.contains("aad provisioning")
        || ua.contains("azure ad")
        || ua.contains("azuread")
    {
        "entra"
    } else {
        "other"
    }
}

/// The clients [`client_of`] names.
pub const CLIENTS: [&str; 3] = ["okta", "entra", "other"];

/// A name as kept: cut at [`MAX_NAME_CHARS`].
fn name(s: &str) -> String {
    match s.char_indices().nth(MAX_NAME_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

/// At most [`MAX_ITEMS`] items, then `"+N more"`.
fn capped(items: Vec<Value>) -> Value {
    let n = items.len();
    let mut out: Vec<Value> = items.into_iter().take(MAX_ITEMS).collect();
    if n > MAX_ITEMS {
        out.push(Value::String(format!("+{} more", n - MAX_ITEMS)));
    }
    Value::Array(out)
}

fn op_name(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "eq",
        CompareOp::Ne => "ne",
        CompareOp::Co => "co",
        CompareOp::Sw => "sw",
        CompareOp::Ew => "ew",
        CompareOp::Gt => "gt",
        CompareOp::Ge => "ge",
        CompareOp::Lt => "lt",
        CompareOp::Le => "le",
    }
}

fn attr_path(p: &AttrPath) -> String {
    name(&p.to_string())
}

/// A filter's shape: attribute paths and operators, every comparison value `***`.
pub fn masked_filter(f: &Filter) -> String {
    match f {
        Filter::Compare(p, op, _) => format!("{} {} {REDACTED}", attr_path(p), op_name(*op)),
        Filter::Present(p) => format!("{} pr", attr_path(p)),
        Filter::Not(inner) => format!("not ({})", masked_filter(inner)),
        Filter::And(a, b) => format!("({} and {})", masked_filter(a), masked_filter(b)),
        Filter::Or(a, b) => format!("({} or {})", masked_filter(a), masked_filter(b)),
        Filter::ValuePath(p, inner) => format!("{}[{}]", attr_path(p), masked_filter(inner)),
    }
}

/// A filter text's shape, or `***` when it does not parse (a broken filter is shown as
/// nothing rather than as the client's text).
pub fn masked_filter_text(text: &str) -> String {
    match scim_core::filter::parse_filter(text) {
        Ok(f) => masked_filter(&f),
        Err(_) => REDACTED.to_string(),
    }
}

/// A PATCH path's shape (its bracket filter masked); `***` when it does not parse.
pub fn masked_patch_path(text: &str) -> String {
    match scim_core::path::parse_path(text) {
        Ok(p) => patch_path(&p),
        Err(_) => REDACTED.to_string(),
    }
}

fn patch_path(p: &PatchPath) -> String {
    let mut out = String::new();
    if let Some(urn) = &p.urn {
        out.push_str(urn);
        out.push(':');
    }
    out.push_str(&p.attr);
    if let Some(f) = &p.filter {
        out.push('[');
        out.push_str(&masked_filter(f));
        out.push(']');
    }
    if let Some(sub) = &p.sub_attr {
        out.push('.');
        out.push_str(sub);
    }
    name(&out)
}

/// The query parameters: allowlisted values as sent, `filter` as its shape, every other
/// value `***` (names cut, at most [`MAX_ITEMS`]).
pub fn masked_query(pairs: &[(String, String)]) -> Value {
    let mut out = Map::new();
    for (k, v) in pairs.iter().take(MAX_ITEMS) {
        let shown = if k.eq_ignore_ascii_case("filter") {
            masked_filter_text(v)
        } else if LOGGED_QUERY_PARAMETERS
            .iter()
            .any(|p| p.eq_ignore_ascii_case(k))
        {
            name(v)
        } else {
            REDACTED.to_string()
        };
        out.insert(name(k), Value::String(shown));
    }
    Value::Object(out)
}

/// The names of the attributes a resource body sets: top-level names, and the
/// sub-attribute names of an extension object as `urn:…:name`. Values never.
pub fn attribute_names(body: &Value) -> Value {
    let Some(obj) = body.as_object() else {
        return Value::Array(Vec::new());
    };
    let mut names = Vec::new();
    for (k, v) in obj {
        if scim_core::resource::is_urn(k)
            && let Value::Object(ext) = v
        {
            names.extend(ext.keys().map(|s| Value::String(name(&format!("{k}:{s}")))));
        } else {
            names.push(Value::String(name(k)));
        }
    }
    capped(names)
}

/// How many values a PATCH value holds (an array's length; one for anything else).
fn value_count(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.len(),
        Value::Null => 0,
        _ => 1,
    }
}

/// A PATCH body's operations: `op`, masked `path`, and for path-less operations the names
/// their value sets; values only counted.
pub fn patch_operations(body: &Value) -> Value {
    let ops = body
        .as_object()
        .and_then(|o| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
                .map(|(_, v)| v)
        })
        .and_then(Value::as_array);
    let Some(ops) = ops else {
        return Value::Array(Vec::new());
    };
    let items = ops
        .iter()
        .map(|op| {
            let field = |n: &str| {
                op.as_object().and_then(|o| {
                    o.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(n))
                        .map(|(_, v)| v)
                })
            };
            let kind = field("op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
                .filter(|o| ["add", "replace", "remove"].contains(&o.as_str()))
                .unwrap_or_else(|| REDACTED.to_string());
            let mut item = Map::new();
            item.insert("op".into(), Value::String(kind));
            match field("path").and_then(Value::as_str) {
                Some(path) => {
                    item.insert("path".into(), Value::String(masked_patch_path(path)));
                    if let Some(v) = field("value") {
                        item.insert("values".into(), json!(value_count(v)));
                    }
                }
                None => {
                    if let Some(v) = field("value") {
                        item.insert("attributes".into(), attribute_names(v));
                    }
                }
            }
            Value::Object(item)
        })
        .collect();
    capped(items)
}

/// A `.search` body: the filter's shape, allowlisted parameters as sent, the rest masked.
pub fn search_body(body: &Value) -> Value {
    let pairs: Vec<(String, String)> = body
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Array(a) => a
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(","),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default();
    masked_query(&pairs)
}

/// A Bulk path: `/Users`, `/Groups`, or one of those and an id made of id characters
/// (server ids), a `bulkId:` reference masked; anything else `***` (a Bulk path is
/// client text).
fn bulk_path(path: &str) -> String {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let collection = match parts.next() {
        Some(c @ ("Users" | "Groups")) => c,
        _ => return REDACTED.to_string(),
    };
    match parts.next() {
        None => format!("/{collection}"),
        Some(r) if r.starts_with("bulkId:") => format!("/{collection}/bulkId:{REDACTED}"),
        Some(id)
            if !id.is_empty()
                && id.len() <= MAX_NAME_CHARS
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) =>
        {
            format!("/{collection}/{id}")
        }
        Some(_) => format!("/{collection}/{REDACTED}"),
    }
}

/// A Bulk body's operations: method, masked path, attribute names of `data`.
pub fn bulk_operations(body: &Value) -> Value {
    let ops = body
        .as_object()
        .and_then(|o| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
                .map(|(_, v)| v)
        })
        .and_then(Value::as_array);
    let Some(ops) = ops else {
        return Value::Array(Vec::new());
    };
    let items = ops
        .iter()
        .map(|op| {
            let get = |n: &str| op.get(n).or_else(|| op.get(n.to_ascii_lowercase()));
            let method = get("method")
                .and_then(Value::as_str)
                .map(str::to_ascii_uppercase)
                .filter(|m| ["POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()))
                .unwrap_or_else(|| REDACTED.to_string());
            let mut item = Map::new();
            item.insert("method".into(), Value::String(method.clone()));
            if let Some(p) = get("path").and_then(Value::as_str) {
                item.insert("path".into(), Value::String(bulk_path(p)));
            }
            if let Some(data) = get("data") {
                if method == "PATCH" {
                    item.insert("operations".into(), patch_operations(data));
                } else {
                    item.insert("attributes".into(), attribute_names(data));
                }
            }
            Value::Object(item)
        })
        .collect();
    capped(items)
}

/// The action a request names by its method and path (before any body is read): the
/// fallback for a request refused before its handler ran.
pub fn action_of_route(method: &str, segments: &[&str], filtered: bool) -> RequestAction {
    use RequestAction as A;
    let list = if filtered { A::Lookup } else { A::ImportPage };
    match (method, segments) {
        (_, ["ServiceProviderConfig" | "ResourceTypes" | "Schemas", ..]) => A::Discovery,
        ("POST", ["Bulk"]) => A::Bulk,
        ("GET", ["Users" | "Groups"]) => list,
        ("POST", ["Users" | "Groups" | "", ".search"] | [".search"]) => list,
        ("POST", ["Users"]) => A::CreateUser,
        ("POST", ["Groups"]) => A::CreateGroup,
        ("GET", ["Users" | "Groups", _]) => A::Lookup,
        ("PUT" | "PATCH", ["Users", _]) => A::UpdateUser,
        ("PUT" | "PATCH", ["Groups", _]) => A::UpdateGroup,
        ("DELETE", ["Users", _]) => A::DeleteUser,
        ("DELETE", ["Groups", _]) => A::DeleteGroup,
        _ => A::Other,
    }
}

/// The action a PATCH asks for, from its operations: a user's `active` set to false or
/// true is a deactivation or reactivation; a group PATCH that only touches `members` adds,
/// removes or changes members. `None`: the route's own action.
pub fn patch_action(kind: scim_core::ResourceKind, body: &Value) -> Option<RequestAction> {
    use RequestAction as A;
    let request = scim_core::patch::PatchRequest::from_json(body).ok()?;
    match kind {
        scim_core::ResourceKind::User => {
            let mut active = None;
            for op in &request.operations {
                let set = |v: &Value| match v {
                    Value::Bool(b) => Some(*b),
                    Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
                    Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
                    _ => None,
                };
                let value = op.value.as_ref();
                match &op.path {
                    Some(p) if p.attr.eq_ignore_ascii_case("active") && p.filter.is_none() => {
                        active = value.and_then(set).or(active);
                    }
                    None => {
                        if let Some(Value::Object(o)) = value
                            && let Some((_, v)) =
                                o.iter().find(|(k, _)| k.eq_ignore_ascii_case("active"))
                        {
                            active = set(v).or(active);
                        }
                    }
                    Some(_) => {}
                }
            }
            Some(match active {
                Some(false) => A::DeactivateUser,
                Some(true) => A::ReactivateUser,
                None => A::UpdateUser,
            })
        }
        scim_core::ResourceKind::Group => {
            use scim_core::patch::PatchOpKind;
            let members_only = !request.operations.is_empty()
                && request.operations.iter().all(|op| {
                    op.path
                        .as_ref()
                        .is_some_and(|p| p.attr.eq_ignore_ascii_case("members"))
                });
            if !members_only {
                return Some(A::UpdateGroup);
            }
            let all = |k: PatchOpKind| request.operations.iter().all(|op| op.op == k);
            Some(if all(PatchOpKind::Add) {
                A::GroupAddMember
            } else if all(PatchOpKind::Remove) {
                A::GroupRemoveMember
            } else {
                A::GroupChangeMembers
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_from_user_agents() {
        let cases: &[(Option<&str>, &str)] = &[
            (Some("Okta SCIM Client 1.0.0"), "okta"),
            (Some("OKTA SCIM Integration"), "okta"),
            (Some("Microsoft.AAD.Provisioning/1.0"), "entra"),
            (Some("AAD Provisioning"), "entra"),
            (Some("Azure AD SCIM"), "entra"),
            (Some("curl/8.5.0"), "other"),
            (Some(""), "other"),
            (None, "other"),
        ];
        for (ua, want) in cases {
            assert_eq!(client_of(*ua), *want, "{ua:?}");
        }
    }

    #[test]
    fn filters_keep_their_shape_only() {
        let cases = [
            (r#"userName eq "ada@example.com""#, "userName eq ***"),
            (
                r#"externalId eq "x" and active eq true"#,
                "(externalId eq *** and active eq ***)",
            ),
            (
                r#"emails[type eq "work" and value co "@example.com"]"#,
                "emails[(type eq *** and value co ***)]",
            ),
            ("title pr", "title pr"),
            (r#"not (userName sw "a")"#, "not (userName sw ***)"),
            (r#"userName eq "unterminated"#, "***"),
        ];
        for (text, want) in cases {
            assert_eq!(masked_filter_text(text), want, "{text}");
        }
        assert_eq!(
            masked_patch_path(r#"members[value eq "u-1"]"#),
            "members[value eq ***]"
        );
        assert_eq!(
            masked_patch_path(r#"emails[type eq "work"].value"#),
            "emails[type eq ***].value"
        );
        assert_eq!(masked_patch_path("name.givenName"), "name.givenName");
        assert_eq!(masked_patch_path("bad[[["), "***");
    }

    #[test]
    fn queries_keep_allowlisted_values() {
        let pairs = |q: &[(&str, &str)]| -> Vec<(String, String)> {
            q.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let got = masked_query(&pairs(&[
            ("filter", r#"userName eq "ada""#),
            ("startIndex", "1"),
            ("count", "100"),
            ("cursor", "c2VjcmV0"),
            ("access_token", "scim_secret"),
        ]));
        assert_eq!(
            got,
            json!({"filter": "userName eq ***", "startIndex": "1", "count": "100",
                   "cursor": "***", "access_token": "***"})
        );
    }

    #[test]
    fn bodies_and_operations_are_names() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada@example.com",
            "password": "hunter2",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "42"}
        });
        let names = attribute_names(&body);
        let text = names.to_string();
        assert!(
            text.contains("\"password\"") && text.contains("userName"),
            "{text}"
        );
        assert!(
            text.contains("enterprise:2.0:User:employeeNumber"),
            "{text}"
        );
        assert!(!text.contains("hunter2") && !text.contains("ada@") && !text.contains("42\""));

        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "replace", "path": "active", "value": false},
            {"op": "Add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]},
            {"op": "remove", "path": "members[value eq \"u3\"]"},
            {"op": "replace", "value": {"password": "pw", "name": {"givenName": "Ada"}}},
            {"op": "copy", "path": "x"}
        ]});
        assert_eq!(
            patch_operations(&patch),
            json!([
                {"op": "replace", "path": "active", "values": 1},
                {"op": "add", "path": "members", "values": 2},
                {"op": "remove", "path": "members[value eq ***]"},
                {"op": "replace", "attributes": ["password", "name"]},
                {"op": "***", "path": "x"}
            ])
        );
        let bulk = json!({"Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "b1", "data": {"userName": "x", "password": "p"}},
            {"method": "PATCH", "path": "/Groups/bulkId:b1", "data": {"Operations": [{"op": "add", "path": "members", "value": []}]}},
            {"method": "DELETE", "path": "/Users/abc"}
        ]});
        assert_eq!(
            bulk_operations(&bulk),
            json!([
                {"method": "POST", "path": "/Users", "attributes": ["userName", "password"]},
                {"method": "PATCH", "path": "/Groups/bulkId:***", "operations": [{"op": "add", "path": "members", "values": 0}]},
                {"method": "DELETE", "path": "/Users/abc"}
            ])
        );
        let bulk = json!({"Operations": [
            {"method": "DELETE", "path": "/Users/a b\"secret"},
            {"method": "DELETE", "path": "secret"}
        ]});
        assert_eq!(
            bulk_operations(&bulk),
            json!([{"method": "DELETE", "path": "/Users/***"}, {"method": "DELETE", "path": "***"}])
        );
    }

    #[test]
    fn lists_and_names_are_bounded() {
        let mut body = Map::new();
        for i in 0..80 {
            body.insert(format!("attr{i}"), json!(i));
        }
        let names = attribute_names(&Value::Object(body));
        let names = names.as_array().unwrap();
        assert_eq!(names.len(), MAX_ITEMS + 1);
        assert_eq!(names[MAX_ITEMS], json!("+30 more"));
        let long = "a".repeat(500);
        let names = attribute_names(&json!({ long.clone(): 1 }));
        assert_eq!(
            names[0].as_str().unwrap().chars().count(),
            MAX_NAME_CHARS + 1
        );
    }

    #[test]
    fn actions_of_routes_and_patches() {
        use RequestAction as A;
        type Case = (&'static str, &'static [&'static str], bool, A);
        let cases: &[Case] = &[
            ("GET", &["Users"], false, A::ImportPage),
            ("GET", &["Users"], true, A::Lookup),
            ("GET", &["Groups", "g"], false, A::Lookup),
            ("POST", &["Users"], false, A::CreateUser),
            ("POST", &["Groups"], false, A::CreateGroup),
            ("POST", &["Users", ".search"], true, A::Lookup),
            ("POST", &[".search"], false, A::ImportPage),
            ("PUT", &["Users", "u"], false, A::UpdateUser),
            ("PATCH", &["Groups", "g"], false, A::UpdateGroup),
            ("DELETE", &["Users", "u"], false, A::DeleteUser),
            ("DELETE", &["Groups", "g"], false, A::DeleteGroup),
            ("GET", &["Schemas", "urn:x"], false, A::Discovery),
            ("GET", &["ServiceProviderConfig"], false, A::Discovery),
            ("POST", &["Bulk"], false, A::Bulk),
            ("GET", &["Me"], false, A::Other),
            ("DELETE", &["Users"], false, A::Other),
        ];
        for (method, segs, filtered, want) in cases {
            assert_eq!(
                action_of_route(method, segs, *filtered),
                *want,
                "{method} {segs:?}"
            );
        }
        use scim_core::ResourceKind::{Group, User};
        let ops = |ops: Value| json!({"Operations": ops});
        let cases: &[(scim_core::ResourceKind, Value, A)] = &[
            (
                User,
                ops(json!([{"op": "replace", "path": "active", "value": false}])),
                A::DeactivateUser,
            ),
            (
                User,
                ops(json!([{"op": "replace", "value": {"active": "True"}}])),
                A::ReactivateUser,
            ),
            (
                User,
                ops(json!([{"op": "replace", "path": "title", "value": "x"}])),
                A::UpdateUser,
            ),
            (
                Group,
                ops(json!([{"op": "add", "path": "members", "value": [{"value": "u"}]}])),
                A::GroupAddMember,
            ),
            (
                Group,
                ops(json!([{"op": "remove", "path": "members[value eq \"u\"]"}])),
                A::GroupRemoveMember,
            ),
            (
                Group,
                ops(
                    json!([{"op": "add", "path": "members", "value": []}, {"op": "remove", "path": "members"}]),
                ),
                A::GroupChangeMembers,
            ),
            (
                Group,
                ops(json!([{"op": "replace", "path": "displayName", "value": "x"}])),
                A::UpdateGroup,
            ),
        ];
        for (kind, body, want) in cases {
            assert_eq!(patch_action(*kind, body), Some(*want), "{body}");
        }
        assert_eq!(patch_action(User, &json!({"nope": 1})), None);
    }

    /// Property-style: bodies built from random secrets in every position a value can
    /// take never show a secret in any summary.
    #[test]
    fn no_value_ever_reaches_a_summary() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let secret = format!("s3cr3t{:x}", next());
            let token = format!("scim_{:043x}", next());
            let n = next() % 4;
            let value = match n {
                0 => json!(secret),
                1 => json!([{"value": secret, "display": token}]),
                2 => json!({"givenName": secret, "password": token}),
                _ => json!({"value": secret}),
            };
            let body = json!({
                "userName": secret, "password": token, "externalId": secret,
                "emails": [{"value": secret, "type": "work"}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": secret}},
                "Operations": [
                    {"op": "replace", "path": "password", "value": value.clone()},
                    {"op": "add", "value": {"password": token, "title": value.clone()}},
                    {"op": "remove", "path": format!("members[value eq \"{secret}\"]")},
                    {"op": "replace", "path": format!("emails[value eq \"{secret}\"].value"), "value": token},
                    {"method": "POST", "path": format!("/Users/bulkId:{secret}"), "data": {"password": token}}
                ],
                "filter": format!("userName eq \"{secret}\" or password eq \"{token}\""),
                "cursor": token,
            });
            let query = vec![
                ("filter".to_string(), format!("userName eq \"{secret}\"")),
                ("cursor".to_string(), token.clone()),
                ("q".to_string(), secret.clone()),
            ];
            let summaries = [
                attribute_names(&body),
                patch_operations(&body),
                bulk_operations(&body),
                search_body(&body),
                masked_query(&query),
            ];
            for s in summaries {
                let text = s.to_string();
                assert!(!text.contains(&secret), "{text}");
                assert!(!text.contains(&token), "{text}");
            }
        }
    }
}
