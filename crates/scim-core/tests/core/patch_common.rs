//! Shared helpers for the PATCH integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scim_core::patch::{PatchOutcome, PatchRequest, apply_patch};
use scim_core::resource::{Attributes, parse_resource};
use scim_core::{ResourceKind, ScimResult, ScimType};
use serde_json::{Value, json};

pub const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Wraps operations in a PatchOp message.
pub fn body(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

/// Parses and applies a PATCH body.
pub fn try_patch(kind: ResourceKind, attrs: &Attributes, body: &Value) -> ScimResult<PatchOutcome> {
    let request = PatchRequest::from_json(body)?;
    apply_patch(kind, attrs, &request)
}

/// Applies operations to a user, expecting success.
pub fn patch_user(attrs: &Attributes, ops: Value) -> PatchOutcome {
    try_patch(ResourceKind::User, attrs, &body(ops.clone()))
        .unwrap_or_else(|e| panic!("PATCH {ops} failed: {e}"))
}

/// Applies operations to a group, expecting success.
pub fn patch_group(attrs: &Attributes, ops: Value) -> PatchOutcome {
    try_patch(ResourceKind::Group, attrs, &body(ops.clone()))
        .unwrap_or_else(|e| panic!("PATCH {ops} failed: {e}"))
}

/// Applies operations, expecting a failure, and returns its scimType.
pub fn patch_err(kind: ResourceKind, attrs: &Attributes, ops: Value) -> Option<ScimType> {
    match try_patch(kind, attrs, &body(ops.clone())) {
        Ok(out) => panic!(
            "PATCH {ops} unexpectedly succeeded: {}",
            Value::Object(out.attributes)
        ),
        Err(e) => {
            assert_eq!(e.status(), 400, "{e}");
            e.scim_type()
        }
    }
}

pub fn user(v: Value) -> Attributes {
    parse_resource(ResourceKind::User, &v).unwrap()
}

pub fn group(v: Value) -> Attributes {
    parse_resource(ResourceKind::Group, &v).unwrap()
}

/// The user Okta creates (DOC20 POST body).
pub fn okta_user() -> Attributes {
    user(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User", "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7", "groups": [],
        "password": "1mz050nq", "active": true
    }))
}

/// A group with two members.
pub fn two_member_group() -> Attributes {
    group(json!({
        "displayName": "Engineering",
        "members": [
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen", "type": "User"},
            {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge", "type": "User"}
        ]
    }))
}

pub fn member_ids(attrs: &Attributes) -> Vec<String> {
    attrs
        .get("members")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| m["value"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}
