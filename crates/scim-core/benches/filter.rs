//! Filter benchmarks: parsing a typical Okta filter and a complex one, printing,
//! evaluating over a full User document (compiling per call, and precompiled), and
//! parsing a PATCH path.
//!
//! Run: `cargo bench -p scim-core --bench filter` (add `-- --quick` for a short run).

// Benchmark setup may fail loudly: it is not production code.
#![allow(clippy::expect_used)]

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use scim_core::ResourceKind;
use scim_core::filter::{CompiledFilter, matches, parse_filter};
use scim_core::path::parse_path;
use scim_core::resource::{Meta, Resource, parse_resource};
use serde_json::{Value, json};
use std::hint::black_box;

const OKTA: &str = r#"userName eq "test.user@okta.local""#;
const COMPLEX: &str = r#"(emails[type eq "work" and value co "@example.com"] or userName sw "j") and not (active eq false) and meta.lastModified gt "2024-01-01T00:00:00Z""#;
const PATH: &str = r#"emails[type eq "work"].value"#;

fn user() -> Value {
    let body = json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "userName": "Test.User@okta.local",
        "externalId": "00u1abcd",
        "name": {"givenName": "Test", "familyName": "User"},
        "displayName": "Test User",
        "active": true,
        "emails": [
            {"value": "test.user@okta.local", "type": "home", "primary": true},
            {"value": "test.user@example.com", "type": "work"}
        ],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "mobile"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "manager": {"value": "mgr-1"}
        }
    });
    let attributes = parse_resource(ResourceKind::User, &body).expect("valid user");
    Resource {
        kind: ResourceKind::User,
        id: "2819c223-7f76-453a-919d-413861904646".into(),
        attributes,
        meta: Meta {
            created: Utc
                .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
                .single()
                .expect("date"),
            last_modified: Utc
                .with_ymd_and_hms(2024, 6, 15, 12, 0, 0)
                .single()
                .expect("date"),
            version: 3,
        },
    }
    .to_json("https://scim.example.com/scim/v2/acme")
}

fn benches(c: &mut Criterion) {
    let rt = ResourceKind::User.resource_type();
    let doc = user();
    let okta = parse_filter(OKTA).expect("okta filter");
    let complex = parse_filter(COMPLEX).expect("complex filter");
    assert!(matches(&complex, rt, &doc).expect("evaluates"));
    let okta_compiled = CompiledFilter::new(&okta, rt).expect("compiles");
    let complex_compiled = CompiledFilter::new(&complex, rt).expect("compiles");

    c.bench_function("parse/okta_userName_eq", |b| {
        b.iter(|| parse_filter(black_box(OKTA)))
    });
    c.bench_function("parse/complex", |b| {
        b.iter(|| parse_filter(black_box(COMPLEX)))
    });
    c.bench_function("print/complex", |b| {
        b.iter(|| black_box(&complex).to_string())
    });
    c.bench_function("parse/patch_path", |b| {
        b.iter(|| parse_path(black_box(PATH)))
    });
    c.bench_function("eval/okta_userName_eq/compiled", |b| {
        b.iter(|| okta_compiled.matches(black_box(&doc)))
    });
    c.bench_function("eval/complex/matches_compile_each_time", |b| {
        b.iter(|| matches(black_box(&complex), rt, black_box(&doc)))
    });
    c.bench_function("eval/complex/compiled", |b| {
        b.iter(|| complex_compiled.matches(black_box(&doc)))
    });
}

criterion_group!(filter, benches);
criterion_main!(filter);
