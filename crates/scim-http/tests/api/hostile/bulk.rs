//! The corpus's hostile Bulk requests: wrong types, operations nested too deep, more
//! operations or bytes than the limits, and `bulkId` references that cannot resolve
//! (self-references, unknown ids, cycles of operations that each fail). Each is refused
//! whole with a 4xx SCIM error, or answered with a BulkResponse in which every operation
//! failed with a 4xx; the corpus's snapshot shows none of them wrote anything.

use super::{Case, Expect, Fixture};
use serde_json::{Value, json};

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn ops(operations: Value) -> Value {
    json!({"schemas": [BULK], "Operations": operations})
}

pub(super) fn bulk_cases(f: &Fixture) -> Vec<Case> {
    let uri = format!("{}/Bulk", f.base);
    let user = format!("/Users/{}", f.user);
    let group = format!("/Groups/{}", f.group);
    let mut deep = json!("x");
    for _ in 0..100 {
        deep = json!({"a": deep});
    }
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"method": "DELETE", "path": format!("/Users/x{i}")}))
        .collect();
    let refused: Vec<(&str, Value, Expect)> = vec![
        (
            "no schemas",
            json!({"Operations": []}),
            Expect::Type("invalidSyntax"),
        ),
        (
            "Operations a string",
            json!({"schemas": [BULK], "Operations": "x"}),
            Expect::Type("invalidSyntax"),
        ),
        (
            "failOnErrors negative",
            json!({"schemas": [BULK], "Operations": [], "failOnErrors": -1}),
            Expect::Type("invalidSyntax"),
        ),
        (
            "failOnErrors a string",
            json!({"schemas": [BULK], "Operations": [], "failOnErrors": "1"}),
            Expect::Type("invalidSyntax"),
        ),
        (
            "operation a number",
            ops(json!([5])),
            Expect::Type("invalidSyntax"),
        ),
        (
            "method a number",
            ops(json!([{"method": 5, "path": "/Users", "bulkId": "a", "data": {}}])),
            Expect::Type("invalidSyntax"),
        ),
        (
            "method GET",
            ops(json!([{"method": "GET", "path": &user}])),
            Expect::Type("invalidSyntax"),
        ),
        (
            "path an object",
            ops(json!([{"method": "DELETE", "path": {}}])),
            Expect::Type("invalidSyntax"),
        ),
        (
            "path to discovery",
            ops(json!([{"method": "DELETE", "path": "/Schemas/x"}])),
            Expect::Type("invalidSyntax"),
        ),
        (
            "path with a tenant",
            ops(json!([{"method": "DELETE", "path": format!("{}{user}", f.base)}])),
            Expect::Type("invalidSyntax"),
        ),
        (
            "path traversal",
            ops(json!([{"method": "DELETE", "path": "/Users/../Groups/x"}])),
            Expect::Type("invalidSyntax"),
        ),
        (
            "POST without bulkId",
            ops(json!([{"method": "POST", "path": "/Users", "data": {"userName": "nobulk"}}])),
            Expect::Type("invalidSyntax"),
        ),
        (
            "bulkId a number",
            ops(
                json!([{"method": "POST", "path": "/Users", "bulkId": 7, "data": {"userName": "n"}}]),
            ),
            Expect::Type("invalidSyntax"),
        ),
        (
            "version an array",
            ops(json!([{"method": "DELETE", "path": &user, "version": []}])),
            Expect::Type("invalidSyntax"),
        ),
        (
            "data a string",
            ops(json!([{"method": "PUT", "path": &user, "data": "x"}])),
            Expect::Type("invalidSyntax"),
        ),
        (
            "data nested 100 deep",
            ops(
                json!([{"method": "PUT", "path": &user, "data": {"userName": "d", "urn:x": deep}}]),
            ),
            Expect::Type("invalidSyntax"),
        ),
        (
            "duplicate bulkId",
            ops(json!([
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "dup1"}},
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "dup2"}}])),
            Expect::Type("invalidValue"),
        ),
        (
            "1001 operations",
            ops(Value::Array(many)),
            Expect::Status(413),
        ),
    ];
    let mut out: Vec<Case> = refused
        .into_iter()
        .map(|(what, body, expect)| {
            Case::new(format!("POST Bulk {what}"), "POST", uri.clone(), expect).json(&body)
        })
        .collect();
    out.push(
        Case::new("POST Bulk over maxPayloadSize", "POST", uri.clone(), Expect::Status(413)).json(&ops(
            json!([{"method": "PUT", "path": &user, "data": {"userName": "big", "title": "x".repeat(1_100_000)}}]),
        )),
    );
    // Accepted as a request, and every operation fails: nothing is written.
    let failing: Vec<(&str, Value)> = vec![
        (
            "self-reference",
            ops(json!([{"method": "POST", "path": "/Groups", "bulkId": "me",
            "data": {"displayName": "Self", "members": [{"value": "bulkId:me"}]}}])),
        ),
        (
            "unknown bulkId in data",
            ops(json!([{"method": "POST", "path": "/Groups", "bulkId": "g",
            "data": {"displayName": "G", "members": [{"value": "bulkId:nobody"}]}}])),
        ),
        (
            "unknown bulkId in path",
            ops(json!([{"method": "PATCH", "path": "/Groups/bulkId:nobody",
            "data": {"schemas": [crate::helpers::PATCH_URN], "Operations": []}}])),
        ),
        (
            "a loop of invalid operations",
            ops(json!([
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"manager": {"value": "bulkId:b"}}},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"manager": {"value": "bulkId:a"}}}])),
        ),
        (
            "a chain into a failure",
            ops(json!([
            {"method": "POST", "path": "/Groups", "bulkId": "g1", "data": {"displayName": "G1", "members": [{"value": "bulkId:g2"}]}},
            {"method": "POST", "path": "/Groups", "bulkId": "g2", "data": {"displayName": 5}},
            {"method": "DELETE", "path": "/Groups/bulkId:g1"}])),
        ),
        (
            "stale versions",
            ops(json!([
            {"method": "DELETE", "path": &user, "version": "W/\"999\""},
            {"method": "PUT", "path": &group, "version": "W/\"999\"", "data": {"displayName": "Stale"}}])),
        ),
        (
            "another tenant's ids",
            ops(json!([
            {"method": "DELETE", "path": "/Users/00000000-0000-0000-0000-000000000000"},
            {"method": "PATCH", "path": &group, "data": {"schemas": [crate::helpers::PATCH_URN],
             "Operations": [{"op": "add", "path": "members", "value": [{"value": "not-a-member"}]}]}}])),
        ),
    ];
    for (what, body) in failing {
        out.push(
            Case::new(
                format!("POST Bulk {what}"),
                "POST",
                uri.clone(),
                Expect::BulkRefused,
            )
            .json(&body),
        );
    }
    out
}
