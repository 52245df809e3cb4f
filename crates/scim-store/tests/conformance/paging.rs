//! Paging and sorting: stable, complete, exact totals.

use crate::support::*;
use scim_core::ResourceKind::User;
use scim_core::filter::{AttrPath, CompValue, CompareOp, Filter};
use scim_core::resource::Resource;
use scim_store::{ListParams, ResourceRepo};
use serde_json::json;
use std::collections::HashSet;

fn fifty(db: &TestDb, t: &str) -> Vec<Resource> {
    (0..50)
        .map(|i| {
            // Mixed case, out-of-order names; every third user has no externalId.
            let name = format!(
                "{}user{:02}",
                if i % 2 == 0 { "Z" } else { "a" },
                (i * 37) % 50
            );
            let mut body = json!({"userName": name, "active": i % 4 != 0});
            if i % 3 != 0 {
                body["externalId"] = json!(format!("ext-{:02}", (i * 13) % 50));
            }
            db.create(&actor(), t, User, user_attrs(body)).unwrap()
        })
        .collect()
}

fn walk(db: &TestDb, t: &str, base: ListParams) -> Vec<Resource> {
    let mut out = Vec::new();
    let mut start = 1;
    loop {
        let page = db
            .list(
                t,
                User,
                &ListParams {
                    start_index: start,
                    count: 7,
                    ..base.clone()
                },
            )
            .unwrap();
        assert_eq!(
            page.total_results,
            50 - base.filter.as_ref().map_or(0, |_| 0)
        );
        if page.resources.is_empty() {
            break;
        }
        assert!(page.resources.len() <= 7);
        start += page.resources.len() as u64;
        out.extend(page.resources);
    }
    out
}

fn assert_each_once(all: &[Resource], users: &[Resource]) {
    assert_eq!(all.len(), 50);
    let ids: HashSet<_> = all.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), 50, "no repeats");
    assert!(users.iter().all(|u| ids.contains(&u.id)), "no skips");
}

pub fn pages_of_seven_over_fifty_users(db: &TestDb) {
    let t = tenant(db);
    let users = fifty(db, &t);
    let all = walk(db, &t, ListParams::default());
    assert_each_once(&all, &users);
    // Default order is creation order.
    let ids: Vec<_> = all.iter().map(|r| r.id.clone()).collect();
    let mut expected = users.clone();
    expected.sort_by(|a, b| (a.meta.created, &a.id).cmp(&(b.meta.created, &b.id)));
    assert_eq!(
        ids,
        expected.iter().map(|r| r.id.clone()).collect::<Vec<_>>()
    );
    // A second walk gives the same sequence.
    let again: Vec<_> = walk(db, &t, ListParams::default())
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, again);
}

pub fn sorted_pages_are_stable(db: &TestDb) {
    let t = tenant(db);
    let users = fifty(db, &t);
    for desc in [false, true] {
        let by_name = walk(
            db,
            &t,
            ListParams {
                sort_by: Some(AttrPath::new("userName")),
                descending: desc,
                ..Default::default()
            },
        );
        assert_each_once(&by_name, &users);
        let names: Vec<String> = by_name
            .iter()
            .map(|r| r.user_name().unwrap().to_lowercase())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        if desc {
            sorted.reverse();
        }
        assert_eq!(
            names, sorted,
            "case-insensitive userName order (desc={desc})"
        );
        let by_ext = walk(
            db,
            &t,
            ListParams {
                sort_by: Some(AttrPath::new("externalId")),
                descending: desc,
                ..Default::default()
            },
        );
        assert_each_once(&by_ext, &users);
        let ext: Vec<Option<&str>> = by_ext.iter().map(|r| r.external_id()).collect();
        let nulls = ext.iter().filter(|e| e.is_none()).count();
        assert_eq!(nulls, 17);
        if desc {
            assert!(
                ext[..nulls].iter().all(Option::is_none),
                "nulls first when descending"
            );
        } else {
            assert!(
                ext[50 - nulls..].iter().all(Option::is_none),
                "nulls last when ascending"
            );
        }
    }
    // An attribute the store cannot sort on falls back to the default order.
    let fallback = walk(
        db,
        &t,
        ListParams {
            sort_by: Some(AttrPath::new("title")),
            ..Default::default()
        },
    );
    assert_each_once(&fallback, &users);
}

pub fn count_zero_returns_only_total(db: &TestDb) {
    let t = tenant(db);
    fifty(db, &t);
    let page = db
        .list(
            &t,
            User,
            &ListParams {
                count: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(page.total_results, 50);
    assert!(page.resources.is_empty());
    let page = db
        .list(
            &t,
            User,
            &ListParams {
                start_index: 49,
                count: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((page.total_results, page.resources.len()), (50, 2));
    let page = db
        .list(
            &t,
            User,
            &ListParams {
                start_index: 51,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((page.total_results, page.resources.len()), (50, 0));
}

pub fn fallback_filter_pages_and_counts(db: &TestDb) {
    // `not (...)` is not pushed down: evaluated in Rust over batches, still paged/counted.
    let t = tenant(db);
    let users = fifty(db, &t);
    let filter = Filter::Not(Box::new(Filter::Compare(
        AttrPath::new("active"),
        CompareOp::Eq,
        CompValue::Bool(true),
    )));
    let expected: HashSet<String> = users
        .iter()
        .filter(|u| !u.active())
        .map(|u| u.id.clone())
        .collect();
    assert_eq!(expected.len(), 13);
    for sort in [None, Some(AttrPath::new("userName"))] {
        let mut seen = Vec::new();
        let mut start = 1;
        loop {
            let page = db
                .list(
                    &t,
                    User,
                    &ListParams {
                        filter: Some(filter.clone()),
                        start_index: start,
                        count: 4,
                        sort_by: sort.clone(),
                        ..Default::default()
                    },
                )
                .unwrap();
            assert_eq!(page.total_results, 13);
            if page.resources.is_empty() {
                break;
            }
            start += page.resources.len() as u64;
            seen.extend(page.resources);
        }
        let ids: HashSet<String> = seen.iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids, expected);
        assert_eq!(seen.len(), 13);
        if sort.is_some() {
            let names: Vec<String> = seen
                .iter()
                .map(|r| r.user_name().unwrap().to_lowercase())
                .collect();
            let mut sorted = names.clone();
            sorted.sort();
            assert_eq!(names, sorted);
        }
    }
}
