//! Fuzz target: any bytes, read as a JSON PATCH body, through `split_member_ops` never
//! panic; whenever the split answers, `rest` applied to the group without members plus
//! `delta` applied to its member ids is what `apply_patch` does to the whole group
//! (success iff success, the same member set, the same other attributes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::ResourceKind;
use scim_core::patch::{PatchRequest, apply_patch, split_member_ops};
use scim_core::resource::Attributes;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The group as the store hands it over: members carry the derived `display` and `type`.
fn group(with_members: bool) -> Attributes {
    let mut doc = json!({"displayName": "Engineering", "externalId": "e1"});
    if with_members {
        doc["members"] = json!([
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs", "type": "User"},
            {"value": "a", "display": "A", "type": "User"},
            {"value": "b", "display": "B", "type": "Group"}
        ]);
    }
    match doc {
        Value::Object(m) => m,
        _ => Attributes::new(),
    }
}

fn ids(attrs: &Attributes) -> Vec<String> {
    attrs
        .get("members")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| m.get("value").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(request) = PatchRequest::from_json(&body) else {
        return;
    };
    let Some(split) = split_member_ops(ResourceKind::Group, &request) else {
        return;
    };
    let with = group(true);
    let without = group(false);
    let full = apply_patch(ResourceKind::Group, &with, &request);
    let rest = apply_patch(ResourceKind::Group, &without, &split.rest);
    assert_eq!(full.is_ok(), rest.is_ok(), "{full:?} / {rest:?}");
    if let (Ok(full), Ok(rest)) = (full, rest) {
        let after: BTreeSet<String> = ids(&full.attributes).into_iter().collect();
        let expected: BTreeSet<String> = split.delta.apply_to(&ids(&with)).into_iter().collect();
        assert_eq!(after, expected);
        let mut others = full.attributes.clone();
        others.shift_remove("members");
        assert_eq!(others, rest.attributes);
    }
});
