//! PATCH throughput: Okta's deactivation, a 10-operation Entra update, membership changes
//! on a 10 000-member group (Okta's full push replaces the whole list), 500 removals on a
//! 100 000-member group, the member-delta recogniser on Okta's and Entra's requests, and
//! rendering a user (`into_json` versus `to_json`, with the default projection).

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use scim_core::ResourceKind;
use scim_core::patch::{PatchRequest, apply_patch, split_member_ops};
use scim_core::projection::Projection;
use scim_core::resource::{Attributes, Meta, Resource, parse_resource};
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

/// 500 `remove members[value eq "…"]` operations on a 100 000-member group, as the store
/// hands it over (members with `display` and `type`).
fn huge_group_removals(c: &mut Criterion) {
    let members: Vec<_> = (0..100_000)
        .map(|i| json!({"value": format!("user-{i:08}"), "display": format!("user {i}"), "type": "User"}))
        .collect();
    let mut group = Attributes::new();
    group.insert("displayName".into(), json!("Everyone"));
    group.insert("members".into(), json!(members));
    let ops: Vec<_> = (0..500)
        .map(|i| json!({"op": "remove", "path": format!("members[value eq \"user-{:08}\"]", i * 200)}))
        .collect();
    if let Ok(request) = PatchRequest::from_json(&json!({"Operations": ops})) {
        c.bench_function("group_100k/remove_500_members", |b| {
            b.iter(|| apply_patch(ResourceKind::Group, black_box(&group), black_box(&request)))
        });
    }
}

fn member_split(c: &mut Criterion) {
    let okta_add = json!({"Operations": [
        {"op": "add", "path": "members", "value": [{"value": "00u1abcd", "display": "ada@okta.local"}]}
    ]});
    let entra = |op: &str| {
        let values: Vec<_> = (0..50)
            .map(|i| json!({"value": format!("7f4b{i:04}-aaaa-bbbb-cccc-000000000000")}))
            .collect();
        json!({"Operations": [{"op": op, "path": "members", "value": values}]})
    };
    for (name, body) in [
        ("split_member_ops/okta_add_1", okta_add),
        ("split_member_ops/entra_add_50", entra("Add")),
        ("split_member_ops/entra_remove_50", entra("Remove")),
    ] {
        if let Ok(request) = PatchRequest::from_json(&body) {
            c.bench_function(name, |b| {
                b.iter(|| split_member_ops(ResourceKind::Group, black_box(&request)))
            });
        }
    }
}

fn render(c: &mut Criterion) {
    let Some(attributes) = okta_user() else {
        return;
    };
    let t = Utc
        .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
        .single()
        .unwrap_or_default();
    let user = Resource {
        kind: ResourceKind::User,
        id: "2819c223-7f76-453a-919d-413861904646".into(),
        attributes,
        meta: Meta {
            created: t,
            last_modified: t,
            version: 3,
        },
    };
    let base = "https://scim.example.com/scim/v2/acme";
    let rt = ResourceKind::User.resource_type();
    let projection = Projection::default();
    c.bench_function("render_user/to_json", |b| {
        b.iter(|| black_box(&user).to_json(base))
    });
    // The clone stands for the resource the store hands over, which into_json consumes.
    c.bench_function("render_user/clone+into_json", |b| {
        b.iter(|| black_box(&user).clone().into_json(base))
    });
    c.bench_function("render_user/to_json+default_projection", |b| {
        b.iter(|| {
            let mut doc = black_box(&user).to_json(base);
            projection.apply(rt, &mut doc);
            doc
        })
    });
    c.bench_function("render_user/into_json+default_projection", |b| {
        b.iter_batched(
            || user.clone(),
            |user| {
                let mut doc = user.into_json(base);
                projection.apply(rt, &mut doc);
                doc
            },
            criterion::BatchSize::SmallInput,
        )
    });
}

/// A 10 000-member group as the store loads it: `to_json` copies every member,
/// `into_json` moves them (the clone that feeds it is setup, outside the measurement).
fn render_group(c: &mut Criterion) {
    let members: Vec<_> = (0..10_000)
        .map(|i| json!({"value": format!("user-{i:08}"), "display": format!("user {i}"), "type": "User"}))
        .collect();
    let mut attributes = Attributes::new();
    attributes.insert("displayName".into(), json!("Everyone"));
    attributes.insert("members".into(), json!(members));
    let t = Utc
        .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
        .single()
        .unwrap_or_default();
    let group = Resource {
        kind: ResourceKind::Group,
        id: "g1".into(),
        attributes,
        meta: Meta {
            created: t,
            last_modified: t,
            version: 3,
        },
    };
    let base = "https://scim.example.com/scim/v2/acme";
    let rt = ResourceKind::Group.resource_type();
    let projection = Projection::default();
    c.bench_function("render_group_10k/to_json+default_projection", |b| {
        b.iter(|| {
            let mut doc = black_box(&group).to_json(base);
            projection.apply(rt, &mut doc);
            doc
        })
    });
    c.bench_function("render_group_10k/into_json+default_projection", |b| {
        b.iter_batched(
            || group.clone(),
            |group| {
                let mut doc = group.into_json(base);
                projection.apply(rt, &mut doc);
                doc
            },
            criterion::BatchSize::LargeInput,
        )
    });
}

criterion_group!(
    benches,
    bench,
    big_group,
    huge_group_removals,
    member_split,
    render,
    render_group
);
criterion_main!(benches);
