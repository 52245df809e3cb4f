//! PATCH throughput: Okta's deactivation, a 10-operation Entra update, and membership
//! changes on a 10 000-member group (Okta's full push replaces the whole list).

use criterion::{Criterion, criterion_group, criterion_main};
use scim_core::ResourceKind;
use scim_core::patch::{PatchRequest, apply_patch};
use scim_core::resource::{Attributes, parse_resource};
use serde_json::json;
use std::hint::black_box;

fn okta_user() -> Option<Attributes> {
    parse_resource(
        ResourceKind::User,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User", "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7", "groups": [],
            "password": "1mz050nq", "active": true
        }),
    )
    .ok()
}

fn bench(c: &mut Criterion) {
    let Some(user) = okta_user() else {
        return;
    };
    let deactivate = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]
    });
    let entra = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "displayName", "value": "Jane Doe"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "jane@contoso.com"},
            {"op": "Replace", "path": "name.givenName", "value": "Jane"},
            {"op": "Replace", "path": "name.familyName", "value": "Doe"},
            {"op": "Replace", "path": "externalId", "value": "jdoe"},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "701984"},
            {"op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Microsoft Way"},
            {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "271"},
            {"op": "Replace", "path": "active", "value": "False"}
        ]
    });

    c.bench_function("okta_deactivate/parse+apply", |b| {
        b.iter(|| {
            let request = PatchRequest::from_json(black_box(&deactivate));
            request.and_then(|r| apply_patch(ResourceKind::User, black_box(&user), &r))
        })
    });
    if let Ok(request) = PatchRequest::from_json(&deactivate) {
        c.bench_function("okta_deactivate/apply", |b| {
            b.iter(|| apply_patch(ResourceKind::User, black_box(&user), black_box(&request)))
        });
    }
    c.bench_function("entra_10_ops/parse+apply", |b| {
        b.iter(|| {
            let request = PatchRequest::from_json(black_box(&entra));
            request.and_then(|r| apply_patch(ResourceKind::User, black_box(&user), &r))
        })
    });
    if let Ok(request) = PatchRequest::from_json(&entra) {
        c.bench_function("entra_10_ops/apply", |b| {
            b.iter(|| apply_patch(ResourceKind::User, black_box(&user), black_box(&request)))
        });
    }
}

fn big_group(c: &mut Criterion) {
    let members: Vec<_> = (0..10_000)
        .map(|i| json!({"value": format!("user-{i:08}")}))
        .collect();
    let Ok(group) = parse_resource(
        ResourceKind::Group,
        &json!({"displayName": "Everyone", "members": members.clone()}),
    ) else {
        return;
    };
    let mut pushed = members;
    pushed.push(json!({"value": "newcomer"}));
    let replace = json!({"Operations": [{"op": "replace", "path": "members", "value": pushed}]});
    let add = json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": "user-00000007"}, {"value": "newcomer"}]}]});
    let remove =
        json!({"Operations": [{"op": "remove", "path": "members[value eq \"user-00005000\"]"}]});
    for (name, body) in [
        ("group_10k/replace_members", replace),
        ("group_10k/add_2_members", add),
        ("group_10k/remove_1_member", remove),
    ] {
        if let Ok(request) = PatchRequest::from_json(&body) {
            c.bench_function(name, |b| {
                b.iter(|| apply_patch(ResourceKind::Group, black_box(&group), black_box(&request)))
            });
        }
    }
}

criterion_group!(benches, bench, big_group);
criterion_main!(benches);
