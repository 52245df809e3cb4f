//! Table tests of the RFC 7644 §3.7 examples and of the bulk parser's refusals.

use super::*;
use proptest::prelude::*;

fn limits() -> BulkLimits {
    BulkLimits {
        max_operations: 10,
        max_payload_bytes: 1 << 20,
    }
}

fn request(ops: Value) -> Value {
    json!({"schemas": [BULK_REQUEST], "Operations": ops})
}

fn parse(ops: Value) -> Result<BulkRequest, ScimError> {
    BulkRequest::from_json(&request(ops), &limits())
}

/// §3.7.3: the request example (POST, PUT, PATCH, DELETE of users).
fn rfc_3_7_3() -> Value {
    json!({
      "schemas": [BULK_REQUEST],
      "failOnErrors": 1,
      "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "qwerty",
         "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:User"], "userName": "Alice"}},
        {"method": "PUT", "path": "/Users/b7c14771-226c-4d05-8860-134711653041",
         "version": "W/\"3694e05e9dff591\"",
         "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                  "id": "b7c14771-226c-4d05-8860-134711653041", "userName": "Bob"}},
        {"method": "PATCH", "path": "/Users/5d8d29d3-342c-4b5f-8683-a3cb6763ffcc",
         "version": "W/\"edac3253e2c0ef2\"",
         "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                  "Operations": [{"op": "remove", "path": "nickName"},
                                 {"op": "replace", "path": "userName", "value": "Dave"}]}},
        {"method": "DELETE", "path": "/Users/e9025315-6bea-44e1-899c-1e07454e468b",
         "version": "W/\"0ee8add0a938e1a\""}
      ]
    })
}

#[test]
fn rfc_3_7_3_request_parses_in_order() {
    let r = BulkRequest::from_json(&rfc_3_7_3(), &limits()).unwrap();
    assert_eq!(r.fail_on_errors, Some(1));
    let methods: Vec<_> = r.operations.iter().map(|o| o.method).collect();
    use BulkMethod::*;
    assert_eq!(methods, [Post, Put, Patch, Delete]);
    assert_eq!(
        r.operations[1].version.as_deref(),
        Some("W/\"3694e05e9dff591\"")
    );
    assert_eq!(
        r.operations[3].id.as_deref(),
        Some("e9025315-6bea-44e1-899c-1e07454e468b")
    );
    let p = plan(&r);
    assert_eq!(
        p.steps,
        [
            Step::Create {
                kind: ResourceKind::User,
                ops: vec![0]
            },
            Step::Single(1),
            Step::Single(2),
            Step::Single(3)
        ]
    );
}

#[test]
fn rfc_3_7_3_response_shape() {
    // The response example: status strings, location and version on success, a SCIM
    // error `response` on failure.
    let ok = OperationResult {
        method: BulkMethod::Post,
        bulk_id: Some("qwerty".into()),
        location: Some("https://example.com/v2/Users/92b725cd".into()),
        version: Some("W/\"4weymrEsh5O6cAEK\"".into()),
        status: 201,
        error: None,
    };
    let failed = OperationResult {
        method: BulkMethod::Post,
        bulk_id: Some("qwerty".into()),
        location: None,
        version: None,
        status: 400,
        error: Some(ScimError::invalid_syntax("Request is unparsable")),
    };
    let doc = bulk_response(&[ok, failed]);
    assert_eq!(doc["schemas"][0], BULK_RESPONSE);
    assert_eq!(doc["Operations"][0]["status"], "201");
    assert_eq!(doc["Operations"][0]["version"], "W/\"4weymrEsh5O6cAEK\"");
    assert!(doc["Operations"][0].get("response").is_none());
    assert_eq!(doc["Operations"][1]["status"], "400");
    assert_eq!(
        doc["Operations"][1]["response"]["scimType"],
        "invalidSyntax"
    );
    assert_eq!(doc["Operations"][1]["response"]["status"], "400");
}

#[test]
fn rfc_3_7_2_bulk_id_in_data_runs_after_its_post() {
    // The group refers to the user created by the earlier operation.
    let r = parse(json!([
        {"method": "POST", "path": "/Users", "bulkId": "qwerty",
         "data": {"userName": "Alice"}},
        {"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
         "data": {"displayName": "Tour Guides",
                  "members": [{"type": "User", "value": "bulkId:qwerty"}]}}
    ]))
    .unwrap();
    assert_eq!(references(&r.operations[1]), ["qwerty"]);
    let p = plan(&r);
    assert_eq!(p.steps.len(), 2);
    let mut res = Resolver::new(&r);
    res.created.insert("qwerty".into(), "u-1".into());
    let data = res.data(&r.operations[1], &HashSet::new()).unwrap();
    assert_eq!(data["members"][0]["value"], "u-1");
}

#[test]
fn forward_references_and_path_references_run_dependencies_first() {
    // §3.7.2 allows a reference to an operation later in the request, and in a path.
    let r = parse(json!([
        {"method": "PATCH", "path": "/Groups/bulkId:g", "data": {"Operations": []}},
        {"method": "POST", "path": "/Groups", "bulkId": "g",
         "data": {"displayName": "G", "members": [{"value": "bulkId:u"}]}},
        {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"userName": "u"}}
    ]))
    .unwrap();
    let p = plan(&r);
    assert_eq!(
        p.steps,
        [
            Step::Create {
                kind: ResourceKind::User,
                ops: vec![2]
            },
            Step::Create {
                kind: ResourceKind::Group,
                ops: vec![1]
            },
            Step::Single(0)
        ]
    );
    let mut res = Resolver::new(&r);
    assert_eq!(
        res.path_id(&r.operations[0]),
        Err(Unresolved::Failed("g".into()))
    );
    res.created.insert("g".into(), "g-1".into());
    assert_eq!(res.path_id(&r.operations[0]), Ok(Some("g-1".into())));
}

#[test]
fn rfc_3_7_1_circular_groups_are_created_then_completed() {
    let r = parse(json!([
        {"method": "POST", "path": "/Groups", "bulkId": "qwerty",
         "data": {"displayName": "Group A",
                  "members": [{"type": "Group", "value": "bulkId:ytrewq"}]}},
        {"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
         "data": {"displayName": "Group B",
                  "members": [{"type": "Group", "value": "bulkId:qwerty"}]}}
    ]))
    .unwrap();
    let p = plan(&r);
    // B first without A, then A with B, then B completed with A.
    assert_eq!(
        p.steps,
        [
            Step::Create {
                kind: ResourceKind::Group,
                ops: vec![1]
            },
            Step::Create {
                kind: ResourceKind::Group,
                ops: vec![0]
            },
            Step::Complete(1)
        ]
    );
    let mut res = Resolver::new(&r);
    let first = res.data(&r.operations[1], &p.deferred[1]).unwrap();
    assert_eq!(first["members"], json!([]));
    res.created.insert("ytrewq".into(), "b".into());
    let a = res.data(&r.operations[0], &p.deferred[0]).unwrap();
    assert_eq!(a["members"][0]["value"], "b");
    res.created.insert("qwerty".into(), "a".into());
    let full = res.data(&r.operations[1], &HashSet::new()).unwrap();
    assert_eq!(full["members"][0]["value"], "a");
}

#[test]
fn a_deferred_singular_complex_value_is_left_out_whole() {
    let r = parse(json!([
        {"method": "POST", "path": "/Users", "bulkId": "a",
         "data": {"userName": "a", "manager": {"value": "bulkId:b"}}},
        {"method": "POST", "path": "/Users", "bulkId": "b",
         "data": {"userName": "b", "manager": {"value": "bulkId:a"}}}
    ]))
    .unwrap();
    let p = plan(&r);
    let d = Resolver::new(&r)
        .data(&r.operations[1], &p.deferred[1])
        .unwrap();
    assert_eq!(d, json!({"userName": "b"}));
}

#[test]
fn unresolvable_references_are_409_invalid_value() {
    let r = parse(json!([
        {"method": "POST", "path": "/Groups", "bulkId": "me",
         "data": {"displayName": "G", "members": [{"value": "bulkId:me"}]}},
        {"method": "POST", "path": "/Groups", "bulkId": "x",
         "data": {"displayName": "H", "members": [{"value": "bulkId:nobody"}]}}
    ]))
    .unwrap();
    let p = plan(&r);
    assert!(p.deferred.iter().all(HashSet::is_empty));
    let res = Resolver::new(&r);
    let own = res.data(&r.operations[0], &HashSet::new()).unwrap_err();
    assert_eq!(own, Unresolved::SelfReference("me".into()));
    let unknown = res.data(&r.operations[1], &HashSet::new()).unwrap_err();
    assert_eq!(unknown, Unresolved::Unknown("nobody".into()));
    for e in [own, unknown] {
        let e = e.to_error();
        assert_eq!(e.status(), 409);
        assert_eq!(e.to_json()["scimType"], "invalidValue");
    }
}

#[test]
fn consecutive_independent_posts_form_one_batch() {
    let ops: Vec<Value> = (0..5)
        .map(|i| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                        "data": {"userName": format!("u{i}")}})
        })
        .chain([json!({"method": "POST", "path": "/Groups", "bulkId": "g",
                       "data": {"displayName": "g", "members": [{"value": "bulkId:u1"}]}})])
        .collect();
    let p = plan(&parse(Value::Array(ops)).unwrap());
    assert_eq!(
        p.steps,
        [
            Step::Create {
                kind: ResourceKind::User,
                ops: vec![0, 1, 2, 3, 4]
            },
            Step::Create {
                kind: ResourceKind::Group,
                ops: vec![5]
            }
        ]
    );
    // A reference inside the run splits it.
    let p = plan(
        &parse(json!([
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "a"}},
            {"method": "POST", "path": "/Users", "bulkId": "b",
             "data": {"userName": "b", "manager": {"value": "bulkId:a"}}}
        ]))
        .unwrap(),
    );
    assert_eq!(p.steps.len(), 2);
}

#[test]
fn rfc_3_7_4_too_many_operations_is_413() {
    let ops: Vec<Value> = (0..11)
        .map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")}))
        .collect();
    let e = parse(Value::Array(ops)).unwrap_err();
    assert_eq!(e.status(), 413);
}

#[test]
fn malformed_requests_are_refused_whole() {
    let cases = [
        json!({"Operations": []}),
        json!({"schemas": [BULK_REQUEST]}),
        json!({"schemas": [BULK_REQUEST], "Operations": {}}),
        json!({"schemas": [BULK_REQUEST], "Operations": [], "failOnErrors": 0}),
        json!({"schemas": [BULK_REQUEST], "Operations": [], "failOnErrors": "1"}),
        request(json!([1])),
        request(json!([{"method": "GET", "path": "/Users"}])),
        request(json!([{"method": "POST", "path": "/Users", "data": {}}])),
        request(json!([{"method": "POST", "path": "/Users/1", "bulkId": "a", "data": {}}])),
        request(json!([{"method": "PUT", "path": "/Users", "data": {}}])),
        request(json!([{"method": "PUT", "path": "/Users/1/x", "data": {}}])),
        request(json!([{"method": "PUT", "path": "/Other/1", "data": {}}])),
        request(json!([{"method": "PUT", "path": "Users/1", "data": {}}])),
        request(json!([{"method": "PUT", "path": "/Users/1", "data": []}])),
        request(json!([{"method": "PUT", "path": "/Users/1", "data": {}, "version": 3}])),
        request(json!([{"method": "POST", "path": 7, "bulkId": "a", "data": {}}])),
        json!([]),
    ];
    for c in cases {
        let e = BulkRequest::from_json(&c, &limits()).unwrap_err();
        assert_eq!(e.status(), 400, "{c}");
    }
    let dup = parse(json!([
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": {}},
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": {}}
    ]))
    .unwrap_err();
    assert_eq!(dup.to_json()["scimType"], "invalidValue");
}

#[test]
fn deep_data_is_refused() {
    let mut v = json!("x");
    for _ in 0..(MAX_DATA_DEPTH + 2) {
        v = json!([v]);
    }
    let e = parse(json!([{"method": "PUT", "path": "/Users/1", "data": {"a": v}}])).unwrap_err();
    assert_eq!(e.status(), 400);
}

#[test]
fn a_long_chain_of_forward_references_plans_without_recursion() {
    // u0 -> u1 -> ... -> u999: the walk is iterative.
    let n = 1000;
    let ops: Vec<Value> = (0..n)
        .map(|i| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                   "data": {"userName": format!("u{i}"),
                            "manager": {"value": format!("bulkId:u{}", (i + 1) % n)}}})
        })
        .collect();
    let r = BulkRequest::from_json(
        &request(Value::Array(ops)),
        &BulkLimits {
            max_operations: n,
            max_payload_bytes: 1 << 30,
        },
    )
    .unwrap();
    let p = plan(&r);
    // One cycle through all of them: exactly one deferred reference.
    assert_eq!(p.deferred.iter().filter(|d| !d.is_empty()).count(), 1);
    let creates: usize = p
        .steps
        .iter()
        .map(|s| match s {
            Step::Create { ops, .. } => ops.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(creates, n);
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "(bulkId:)?[a-c]{0,2}".prop_map(Value::String),
        "[A-Za-z/:]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("method".to_string()),
                    Just("path".to_string()),
                    Just("bulkId".to_string()),
                    Just("data".to_string()),
                    Just("version".to_string()),
                    Just("value".to_string()),
                    Just("Operations".to_string()),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_op() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("POST"), Just("PUT"), Just("PATCH"), Just("DELETE")],
        prop_oneof![
            Just("/Users".to_string()),
            Just("/Groups".to_string()),
            "/(Users|Groups)/(bulkId:)?[a-c]{1,2}".prop_map(|s| s),
        ],
        "[a-c]{1,2}",
        arb_json(),
    )
        .prop_map(|(m, p, b, d)| {
            json!({"method": m, "path": p, "bulkId": b, "data": {"x": d, "members": [{"value": format!("bulkId:{b}")}]}})
        })
}

proptest! {
    /// Parsing, planning and resolving never panic, and every operation is planned once.
    #[test]
    fn parse_plan_resolve_never_panic(
        body in arb_json(),
        ops in prop::collection::vec(arb_op(), 0..12),
    ) {
        let _ = BulkRequest::from_json(&body, &limits());
        if let Ok(r) = BulkRequest::from_json(&request(Value::Array(ops)), &limits()) {
            let p = plan(&r);
            let mut seen = vec![0; r.operations.len()];
            for s in &p.steps {
                match s {
                    Step::Create { ops, .. } => ops.iter().for_each(|&i| seen[i] += 1),
                    Step::Single(i) => seen[*i] += 1,
                    Step::Complete(_) => {}
                }
            }
            prop_assert!(seen.iter().all(|&n| n == 1));
            let mut res = Resolver::new(&r);
            for (i, op) in r.operations.iter().enumerate() {
                let _ = res.path_id(op);
                let _ = res.data(op, &p.deferred[i]);
                if let Some(b) = &op.bulk_id {
                    res.created.insert(b.clone(), format!("id{i}"));
                }
            }
        }
    }
}
