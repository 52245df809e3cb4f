//! Parsing PatchOp messages: accepted shapes and the scimType of every malformed one.

// clippy.toml allows these inside `#[test]` functions only; the table helpers need them too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scim_core::ScimType;
use scim_core::patch::{MAX_OPERATIONS, PatchOpKind, PatchRequest};
use serde_json::{Value, json};

fn parse(v: Value) -> Result<PatchRequest, scim_core::ScimError> {
    PatchRequest::from_json(&v)
}

fn err(v: Value) -> Option<ScimType> {
    match parse(v.clone()) {
        Ok(r) => panic!("{v} parsed: {r:?}"),
        Err(e) => {
            assert_eq!(e.status(), 400);
            e.scim_type()
        }
    }
}

#[test]
fn accepted_shapes() {
    let cases = [
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "title", "value": "x"}]}),
        json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]}),
        json!({"schemas": "urn:ietf:params:scim:api:messages:2.0:PatchOp", "operations": [{"OP": "Add", "Path": "title", "Value": "x"}]}),
        json!({"schemas": ["URN:IETF:params:scim:api:messages:2.0:patchop"], "OPERATIONS": [{"op": " ADD ", "path": "title", "value": "x"}]}),
    ];
    for c in cases {
        let r = parse(c.clone()).unwrap_or_else(|e| panic!("{c}: {e}"));
        assert_eq!(r.operations.len(), 1);
        assert_eq!(r.operations[0].op, PatchOpKind::Add);
        assert_eq!(r.operations[0].path.as_ref().unwrap().attr, "title");
    }
}

#[test]
fn op_kinds_in_any_case() {
    for (op, kind) in [
        ("add", PatchOpKind::Add),
        ("Add", PatchOpKind::Add),
        ("REPLACE", PatchOpKind::Replace),
        ("Replace", PatchOpKind::Replace),
        ("remove", PatchOpKind::Remove),
        ("Remove", PatchOpKind::Remove),
    ] {
        let r = parse(json!({"Operations": [{"op": op, "path": "title", "value": "x"}]})).unwrap();
        assert_eq!(r.operations[0].op, kind, "{op}");
    }
}

#[test]
fn empty_operations_and_empty_path() {
    assert!(
        parse(json!({"Operations": []}))
            .unwrap()
            .operations
            .is_empty()
    );
    let r =
        parse(json!({"Operations": [{"op": "replace", "path": "", "value": {"active": false}}]}))
            .unwrap();
    assert!(r.operations[0].path.is_none());
    let r =
        parse(json!({"Operations": [{"op": "replace", "path": null, "value": {"active": false}}]}))
            .unwrap();
    assert!(r.operations[0].path.is_none());
}

#[test]
fn remove_value_is_optional_and_kept() {
    let r = parse(
        json!({"Operations": [{"op": "Remove", "path": "members", "value": [{"value": "u1"}]}]}),
    )
    .unwrap();
    assert_eq!(r.operations[0].value, Some(json!([{"value": "u1"}])));
    let r = parse(json!({"Operations": [{"op": "remove", "path": "members"}]})).unwrap();
    assert_eq!(r.operations[0].value, None);
}

#[test]
fn replace_with_explicit_null_is_kept() {
    let r =
        parse(json!({"Operations": [{"op": "replace", "path": "title", "value": null}]})).unwrap();
    assert_eq!(r.operations[0].value, Some(Value::Null));
}

#[test]
fn malformed_requests() {
    use ScimType::*;
    let cases: Vec<(Value, ScimType)> = vec![
        (json!([]), InvalidSyntax),
        (json!("Operations"), InvalidSyntax),
        (json!({}), InvalidSyntax),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "Operations": []}),
            InvalidSyntax,
        ),
        (json!({"schemas": 7, "Operations": []}), InvalidSyntax),
        (json!({"Operations": {"op": "add"}}), InvalidSyntax),
        (json!({"Operations": "add"}), InvalidSyntax),
        (json!({"Operations": [7]}), InvalidSyntax),
        (
            json!({"Operations": [{"path": "title", "value": "x"}]}),
            InvalidSyntax,
        ),
        (
            json!({"Operations": [{"op": null, "path": "title", "value": "x"}]}),
            InvalidSyntax,
        ),
        (
            json!({"Operations": [{"op": "move", "path": "title", "value": "x"}]}),
            InvalidSyntax,
        ),
        (
            json!({"Operations": [{"op": "copy", "from": "title", "path": "nickName"}]}),
            InvalidSyntax,
        ),
        (
            json!({"Operations": [{"op": 1, "path": "title", "value": "x"}]}),
            InvalidSyntax,
        ),
        (
            json!({"Operations": [{"op": "add", "path": "title"}]}),
            InvalidValue,
        ),
        (
            json!({"Operations": [{"op": "replace", "path": "title"}]}),
            InvalidValue,
        ),
        (
            json!({"Operations": [{"op": "add", "value": "x"}]}),
            InvalidValue,
        ),
        (
            json!({"Operations": [{"op": "replace", "value": [{"active": false}]}]}),
            InvalidValue,
        ),
        (
            json!({"Operations": [{"op": "replace", "value": null}]}),
            InvalidValue,
        ),
        (json!({"Operations": [{"op": "remove"}]}), NoTarget),
        (
            json!({"Operations": [{"op": "remove", "path": ""}]}),
            NoTarget,
        ),
        (
            json!({"Operations": [{"op": "remove", "value": [{"value": "u1"}]}]}),
            NoTarget,
        ),
        (
            json!({"Operations": [{"op": "add", "path": "emails[type eq", "value": "x"}]}),
            InvalidPath,
        ),
        (
            json!({"Operations": [{"op": "add", "path": "name..givenName", "value": "x"}]}),
            InvalidPath,
        ),
        (
            json!({"Operations": [{"op": "add", "path": "emails[type xx \"work\"]", "value": "x"}]}),
            InvalidPath,
        ),
        (
            json!({"Operations": [{"op": "add", "path": 42, "value": "x"}]}),
            InvalidPath,
        ),
        (
            json!({"Operations": [{"op": "add", "path": "urn:", "value": "x"}]}),
            InvalidPath,
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(err(body.clone()), Some(expected), "{body}");
    }
}

#[test]
fn error_detail_names_the_operation() {
    let e =
        parse(json!({"Operations": [{"op": "add", "path": "title", "value": 1}, {"op": "nope"}]}))
            .unwrap_err();
    assert!(e.detail().starts_with("Operations[1]"), "{}", e.detail());
}

#[test]
fn operation_count_is_limited() {
    let op = json!({"op": "add", "path": "title", "value": "x"});
    let ok = json!({"Operations": vec![op.clone(); MAX_OPERATIONS]});
    assert_eq!(parse(ok).unwrap().operations.len(), MAX_OPERATIONS);
    let too_many = json!({"Operations": vec![op; MAX_OPERATIONS + 1]});
    assert_eq!(err(too_many), Some(ScimType::InvalidValue));
}
