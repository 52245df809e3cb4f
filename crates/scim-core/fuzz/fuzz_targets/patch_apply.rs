//! Fuzz target: any bytes, read as a JSON PATCH body and applied to a fixed Okta user and
//! a group, never panic; every failure is a 4xx SCIM error, a failed request leaves the
//! input untouched, and a successful one still satisfies the schema.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::ResourceKind;
use scim_core::patch::{PatchRequest, apply_patch};
use scim_core::resource::{Attributes, check_required, parse_resource};
use serde_json::{Value, json};
use std::sync::OnceLock;

fn fixtures() -> &'static [(ResourceKind, Attributes)] {
    static FIXTURES: OnceLock<Vec<(ResourceKind, Attributes)>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"},
                       {"value": "t@home.example", "type": "home"}],
            "addresses": [{"type": "work", "locality": "Redmond"}],
            "displayName": "Test User", "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7", "groups": [],
            "password": "1mz050nq", "active": true,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "271", "department": "R&D"}
        });
        let group = json!({
            "displayName": "Engineering",
            "members": [{"value": "2819c223-7f76-453a-919d-413861904646", "type": "User"},
                        {"value": "902c246b-6245-4190-8e05-00816be7344a"}]
        });
        let mut out = Vec::new();
        for (kind, body) in [(ResourceKind::User, user), (ResourceKind::Group, group)] {
            if let Ok(attrs) = parse_resource(kind, &body) {
                out.push((kind, attrs));
            }
        }
        assert_eq!(out.len(), 2, "fixtures must parse");
        out
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let request = match PatchRequest::from_json(&body) {
        Ok(r) => r,
        Err(e) => {
            assert_eq!(e.status(), 400, "{e}");
            return;
        }
    };
    for (kind, attrs) in fixtures() {
        let before = attrs.clone();
        match apply_patch(*kind, attrs, &request) {
            Ok(out) => {
                assert!(check_required(kind.resource_type(), &out.attributes).is_ok());
                assert_eq!(out.changed, out.attributes != before);
                assert!(out.attributes.get("password").is_none());
            }
            Err(e) => assert!((400..500).contains(&e.status()), "{e}"),
        }
        assert_eq!(*attrs, before);
    }
});
