//! Filters: pushed-down SQL must select exactly what `scim_core::filter::matches` selects
//! on the same data (examples, then a property test over generated users and filters).

use crate::support::*;
use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use scim_core::ResourceKind::{self, Group, User};
use scim_core::filter::{AttrPath, CompValue, CompareOp, Filter, matches, parse_filter};
use scim_core::resource::{Resource, format_datetime};
use scim_store::{ListParams, ResourceRepo};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Every resource of the tenant, with relations.
fn all(db: &TestDb, t: &str, kind: ResourceKind) -> Vec<Resource> {
    db.list(
        t,
        kind,
        &ListParams {
            count: 10_000,
            ..Default::default()
        },
    )
    .unwrap()
    .resources
}

/// Checks the store against the evaluator for one filter; returns the matching ids.
fn check(
    db: &TestDb,
    t: &str,
    kind: ResourceKind,
    everyone: &[Resource],
    filter: &Filter,
) -> BTreeSet<String> {
    let rt = kind.resource_type();
    let expected: Result<BTreeSet<String>, _> = everyone
        .iter()
        .filter_map(|r| match matches(filter, rt, &r.to_json("")) {
            Ok(true) => Some(Ok(r.id.clone())),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        })
        .collect();
    let got = db.list(
        t,
        kind,
        &ListParams {
            filter: Some(filter.clone()),
            count: 10_000,
            ..Default::default()
        },
    );
    match expected {
        Err(_) => {
            assert!(
                got.is_err(),
                "the evaluator rejects {filter:?} but the store answered"
            );
            BTreeSet::new()
        }
        Ok(expected) => {
            let page = got.unwrap_or_else(|e| panic!("{filter:?}: {e:?}"));
            let ids: BTreeSet<String> = page.resources.iter().map(|r| r.id.clone()).collect();
            assert_eq!(ids, expected, "filter {filter:?}");
            assert_eq!(
                page.total_results as usize,
                expected.len(),
                "total for {filter:?}"
            );
            assert_eq!(
                page.resources.len(),
                expected.len(),
                "no duplicates for {filter:?}"
            );
            // A small window agrees with the total too.
            let w = db
                .list(
                    t,
                    kind,
                    &ListParams {
                        filter: Some(filter.clone()),
                        count: 2,
                        start_index: 2,
                        ..Default::default()
                    },
                )
                .unwrap();
            assert_eq!(w.total_results as usize, expected.len());
            assert_eq!(w.resources.len(), expected.len().saturating_sub(1).min(2));
            expected
        }
    }
}

pub fn indexed_filters_examples(db: &TestDb) {
    let t = tenant(db);
    let body = |n: &str, ext: &str, email: &str, ty: &str, active: bool| {
        json!({"userName": n, "externalId": ext, "displayName": n.to_uppercase(), "active": active,
               "emails": [{"value": email, "type": ty, "primary": true}, {"value": format!("alt.{email}"), "type": "home"}]})
    };
    let ada = db
        .create(
            &actor(),
            &t,
            User,
            user_attrs(body("Ada%", "E1", "Ada@Work.example", "work", true)),
        )
        .unwrap();
    let bob = db
        .create(
            &actor(),
            &t,
            User,
            user_attrs(body("bob_1", "e1", "bob@work.example", "Home", false)),
        )
        .unwrap();
    let cy = db
        .create(
            &actor(),
            &t,
            User,
            user_attrs(body("Cyäx", "E2", "cy@home.example", "other", true)),
        )
        .unwrap();
    let g = create_group(db, &t, "Admins", &[&ada.id, &bob.id]);
    create_group(db, &t, "admins-2", &[&cy.id]);
    let users = all(db, &t, User);
    let groups = all(db, &t, Group);
    let ids = |v: &[&Resource]| v.iter().map(|r| r.id.clone()).collect::<BTreeSet<_>>();
    let by_id = format!(r#"id eq "{}""#, bob.id);
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        (r#"userName eq "ADA%""#, ids(&[&ada])),
        (r#"userName sw "a""#, ids(&[&ada])),
        (r#"userName co "%""#, ids(&[&ada])),
        (r#"userName co "_""#, ids(&[&bob])),
        (r#"userName ew "ÄX""#, ids(&[&cy])),
        (r#"userName gt "b""#, ids(&[&bob, &cy])),
        (r#"externalId eq "E1""#, ids(&[&ada])),
        (r#"externalId sw "e""#, ids(&[&bob])),
        (r#"displayName eq "bob_1""#, ids(&[&bob])),
        (r#"active eq false"#, ids(&[&bob])),
        (r#"emails.value eq "ADA@work.EXAMPLE""#, ids(&[&ada])),
        (r#"emails.type eq "HOME""#, ids(&[&ada, &bob, &cy])),
        (
            r#"emails[type eq "work" and value eq "ada@work.example"]"#,
            ids(&[&ada]),
        ),
        (
            r#"emails[type eq "home" and value eq "ada@work.example"]"#,
            ids(&[]),
        ),
        (
            r#"emails[type eq "work"].value eq "bob@work.example""#,
            ids(&[]),
        ),
        (r#"emails[value sw "alt."]"#, ids(&[&ada, &bob, &cy])),
        (r#"emails.value ew "@home.example""#, ids(&[&cy])),
        (&by_id, ids(&[&bob])),
        (
            r#"userName eq "ada%" or externalId eq "E2""#,
            ids(&[&ada, &cy]),
        ),
        (r#"userName sw "a" and title pr"#, ids(&[])),
        (r#"not (active eq true)"#, ids(&[&bob])),
        (r#"userName ne "bob_1""#, ids(&[&ada, &cy])),
    ];
    for (text, want) in cases {
        let f = parse_filter(text).unwrap();
        assert_eq!(check(db, &t, User, &users, &f), want, "{text}");
    }
    let created = format_datetime(&ada.meta.created);
    for text in [
        format!(r#"meta.created ge "{created}""#),
        format!(r#"meta.created gt "{created}""#),
        format!(r#"meta.lastModified le "{created}""#),
        format!(r#"meta.created eq "{created}""#),
    ] {
        check(db, &t, User, &users, &parse_filter(&text).unwrap());
    }
    let member = format!(r#"members.value eq "{}""#, ada.id);
    assert_eq!(
        check(db, &t, Group, &groups, &parse_filter(&member).unwrap()),
        ids(&[&g])
    );
    let member = format!(r#"members[value eq "{}"]"#, bob.id);
    assert_eq!(
        check(db, &t, Group, &groups, &parse_filter(&member).unwrap()),
        ids(&[&g])
    );
    assert_eq!(
        check(
            db,
            &t,
            Group,
            &groups,
            &parse_filter(r#"displayName eq "ADMINS""#).unwrap()
        ),
        ids(&[&g])
    );
    check(
        db,
        &t,
        Group,
        &groups,
        &parse_filter(r#"displayName sw "admins""#).unwrap(),
    );
    // Invalid for the schema: rejected, not silently answered from SQL.
    assert!(
        db.list(
            &t,
            User,
            &ListParams {
                filter: Some(parse_filter("active gt true").unwrap()),
                ..Default::default()
            }
        )
        .is_err()
    );
}

// ---- property test ----

#[derive(Debug, Clone)]
struct GenUser {
    user_name: String,
    external_id: Option<String>,
    display_name: Option<String>,
    active: Option<bool>,
    emails: Vec<(String, Option<String>, bool)>,
}

fn text() -> impl Strategy<Value = String> {
    // Small alphabets so values collide, differ only in case, share prefixes, and
    // contain LIKE wildcards and non-ASCII letters.
    "[aAbB%_éÉ]{1,3}"
}

fn gen_user() -> impl Strategy<Value = GenUser> {
    (
        text(),
        proptest::option::of("[xX][12]"),
        proptest::option::of(text()),
        proptest::option::of(any::<bool>()),
        proptest::collection::vec(
            (
                text(),
                proptest::option::of(prop_oneof!["work", "Work", "home"].prop_map(String::from)),
                any::<bool>(),
            ),
            0..3,
        ),
    )
        .prop_map(
            |(user_name, external_id, display_name, active, emails)| GenUser {
                user_name,
                external_id,
                display_name,
                active,
                emails,
            },
        )
}

/// A filter over indexed attributes, with date and id leaves resolved against the data.
#[derive(Debug, Clone)]
enum Spec {
    Str(&'static str, CompareOp, String),
    Active(CompareOp, bool),
    Date(&'static str, CompareOp, usize, i64),
    Id(usize),
    Pr(&'static str),
    EmailPath(Option<String>, CompareOp, String),
    And(Box<Spec>, Box<Spec>),
    Or(Box<Spec>, Box<Spec>),
    Not(Box<Spec>),
}

fn str_op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Eq),
        Just(CompareOp::Ne),
        Just(CompareOp::Co),
        Just(CompareOp::Sw),
        Just(CompareOp::Ew),
        Just(CompareOp::Gt),
        Just(CompareOp::Ge),
        Just(CompareOp::Lt),
        Just(CompareOp::Le),
    ]
}

fn leaf() -> impl Strategy<Value = Spec> {
    prop_oneof![
        4 => (prop_oneof![Just("userName"), Just("externalId"), Just("displayName"), Just("emails.value"), Just("emails.type")], str_op(), prop_oneof![text(), "[xX][12]", Just("work".to_string())])
            .prop_map(|(a, op, v)| Spec::Str(a, op, v)),
        1 => (prop_oneof![Just(CompareOp::Eq), Just(CompareOp::Ne)], any::<bool>()).prop_map(|(op, b)| Spec::Active(op, b)),
        1 => (prop_oneof![Just("meta.created"), Just("meta.lastModified")],
              prop_oneof![Just(CompareOp::Eq), Just(CompareOp::Gt), Just(CompareOp::Ge), Just(CompareOp::Lt), Just(CompareOp::Le)],
              0usize..16, -1i64..=1)
            .prop_map(|(a, op, i, d)| Spec::Date(a, op, i, d)),
        1 => (0usize..16).prop_map(Spec::Id),
        1 => prop_oneof![Just("externalId"), Just("displayName"), Just("emails")].prop_map(Spec::Pr),
        1 => (proptest::option::of(prop_oneof!["work", "HOME"].prop_map(String::from)), str_op(), text())
            .prop_map(|(t, op, v)| Spec::EmailPath(t, op, v)),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    // Mostly pushed-down shapes (single tests, conjunctions, disjunctions of leaves), some
    // arbitrary trees (with `not`, `pr`, `ne`) that take the evaluate-in-Rust path.
    prop_oneof![
        4 => leaf(),
        2 => (leaf(), leaf()).prop_map(|(a, b)| Spec::And(Box::new(a), Box::new(b))),
        1 => (leaf(), leaf()).prop_map(|(a, b)| Spec::Or(Box::new(a), Box::new(b))),
        2 => tree(),
    ]
}

fn tree() -> impl Strategy<Value = Spec> {
    leaf().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Spec::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Spec::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Spec::Not(Box::new(a))),
        ]
    })
}

fn path(a: &str) -> AttrPath {
    match a.split_once('.') {
        Some((n, s)) => AttrPath::new(n).with_sub_attr(s),
        None => AttrPath::new(a),
    }
}

fn build(spec: &Spec, users: &[Resource]) -> Filter {
    let pick = |i: usize| &users[i % users.len()];
    match spec {
        Spec::Str(a, op, v) => Filter::Compare(path(a), *op, CompValue::String(v.clone())),
        Spec::Active(op, b) => Filter::Compare(AttrPath::new("active"), *op, CompValue::Bool(*b)),
        Spec::Date(a, op, i, d) => {
            let base: DateTime<Utc> = if *a == "meta.created" {
                pick(*i).meta.created
            } else {
                pick(*i).meta.last_modified
            };
            let t = base + TimeDelta::milliseconds(*d);
            Filter::Compare(path(a), *op, CompValue::String(format_datetime(&t)))
        }
        Spec::Id(i) => Filter::Compare(
            AttrPath::new("id"),
            CompareOp::Eq,
            CompValue::String(pick(*i).id.clone()),
        ),
        Spec::Pr(a) => Filter::Present(path(a)),
        Spec::EmailPath(ty, op, v) => {
            let value = Filter::Compare(AttrPath::new("value"), *op, CompValue::String(v.clone()));
            let inner = match ty {
                Some(ty) => Filter::And(
                    Box::new(Filter::Compare(
                        AttrPath::new("type"),
                        CompareOp::Eq,
                        CompValue::String(ty.clone()),
                    )),
                    Box::new(value),
                ),
                None => value,
            };
            Filter::ValuePath(AttrPath::new("emails"), Box::new(inner))
        }
        Spec::And(a, b) => Filter::And(Box::new(build(a, users)), Box::new(build(b, users))),
        Spec::Or(a, b) => Filter::Or(Box::new(build(a, users)), Box::new(build(b, users))),
        Spec::Not(a) => Filter::Not(Box::new(build(a, users))),
    }
}

pub fn pushed_down_filters_agree_with_evaluator(db: &TestDb) {
    // proptest's strategy trees for these nested types need more than the 2 MiB default
    // test-thread stack in debug builds (the store itself does not).
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn_scoped(s, || run_property(db))
            .unwrap()
            .join()
            .unwrap();
    });
}

fn run_property(db: &TestDb) {
    let cases = std::env::var("SCIM_STORE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        proptest::collection::vec(gen_user(), 1..14),
        proptest::collection::vec(spec(), 1..10),
    );
    runner
        .run(&strategy, |(gen_users, specs)| {
            let t = tenant(db);
            let mut seen = BTreeSet::new();
            for u in &gen_users {
                if !seen.insert(u.user_name.to_lowercase()) {
                    continue; // userName is unique ignoring case
                }
                let emails: Vec<Value> = u
                    .emails
                    .iter()
                    .enumerate()
                    .map(|(i, (v, ty, primary))| {
                        let mut e = json!({"value": v, "primary": *primary && i == 0});
                        if let Some(ty) = ty {
                            e["type"] = json!(ty);
                        }
                        e
                    })
                    .collect();
                let mut body = json!({"userName": u.user_name, "emails": emails});
                if let Some(x) = &u.external_id {
                    body["externalId"] = json!(x);
                }
                if let Some(d) = &u.display_name {
                    body["displayName"] = json!(d);
                }
                let mut attrs = user_attrs(body);
                match u.active {
                    Some(a) => {
                        attrs.insert("active".into(), json!(a));
                    }
                    None => {
                        attrs.remove("active");
                    }
                }
                db.create(&actor(), &t, User, attrs).unwrap();
            }
            let users = all(db, &t, User);
            for s in &specs {
                let f = build(s, &users);
                check(db, &t, User, &users, &f);
            }
            Ok(())
        })
        .unwrap();
}

pub fn long_filters_stay_within_the_stack(db: &TestDb) {
    let t = tenant(db);
    let a = create_user(db, &t, "u5");
    create_user(db, &t, "other");
    // Left-nested `or` chains, one level per term, within the parser's 4 KiB limit: a
    // short one (pushed down to SQL) and a long one (250 levels, evaluated in Rust).
    let short = (0..20)
        .map(|i| format!(r#"userName eq "u{i}""#))
        .collect::<Vec<_>>()
        .join(" or ");
    let long = (0..250)
        .map(|i| {
            if i == 7 {
                format!(r#"id eq "{}""#, a.id)
            } else {
                format!(r#"id eq "{i}""#)
            }
        })
        .collect::<Vec<_>>()
        .join(" or ");
    for text in [short, long] {
        let f = parse_filter(&text).unwrap();
        // A thread with the usual 2 MiB stack (like a blocking-pool worker).
        let page = std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn_scoped(s, || {
                    db.list(
                        &t,
                        User,
                        &ListParams {
                            filter: Some(f),
                            ..Default::default()
                        },
                    )
                })
                .unwrap()
                .join()
                .unwrap()
        })
        .unwrap();
        assert_eq!(page.total_results, 1);
        assert_eq!(page.resources[0].id, a.id);
    }
}
