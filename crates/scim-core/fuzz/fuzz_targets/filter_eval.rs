//! Fuzz target: compiling and evaluating any parsable filter against sample User and
//! Group documents never panics; compile errors are `invalidFilter`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::filter::{CompiledFilter, parse_filter};
use scim_core::{ResourceKind, ScimType};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(filter) = parse_filter(text) else {
        return;
    };
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u1", "userName": "Ada@Example.com", "active": "True",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": "ada@example.com", "type": "work", "primary": true}, null, "bare"],
        "meta": {"lastModified": "2024-06-15T12:00:00Z", "created": "garbage"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "271", "employeeNumber": 7}
    });
    let group = json!({"displayName": "G", "members": [{"value": "u1"}, {"value": 5}, []]});
    for (kind, doc) in [(ResourceKind::User, &user), (ResourceKind::Group, &group)] {
        match CompiledFilter::new(&filter, kind.resource_type()) {
            Ok(compiled) => {
                let _ = compiled.matches(doc);
                let _ = compiled.matches(&json!(null));
            }
            Err(e) => assert_eq!(e.scim_type(), Some(ScimType::InvalidFilter)),
        }
    }
});
