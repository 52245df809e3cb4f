//! Paging and sorting: stable, complete, exact totals; cursor paging (RFC 9865); the
//! counters behind unfiltered totals.

use crate::support::*;
use scim_core::ResourceKind::User;
use scim_core::filter::{AttrPath, CompValue, CompareOp, Filter};
use scim_core::resource::Resource;
use scim_store::{Keyset, ListParams, Paging, ResourceRepo, StoreError};
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

fn cursor_walk(db: &TestDb, t: &str, filter: Option<Filter>, count: u64) -> (Vec<Resource>, u64) {
    let mut out = Vec::new();
    let mut after = None;
    let mut total = None;
    for _ in 0..100 {
        let page = db
            .list(
                t,
                User,
                &ListParams {
                    filter: filter.clone(),
                    count,
                    paging: Paging::Cursor { after },
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(*total.get_or_insert(page.total_results), page.total_results);
        assert!(page.resources.len() as u64 <= count);
        out.extend(page.resources);
        match page.next {
            Some(next) => after = Some(next),
            None => return (out, total.unwrap_or_default()),
        }
    }
    panic!("the cursor walk does not end");
}

fn id_list(rs: &[Resource]) -> Vec<String> {
    rs.iter().map(|r| r.id.clone()).collect()
}

pub fn cursor_pages_follow_the_default_order(db: &TestDb) {
    let t = tenant(db);
    let users = fifty(db, &t);
    let index = walk(db, &t, ListParams::default());
    for count in [1, 7, 50, 51] {
        let (all, total) = cursor_walk(db, &t, None, count);
        assert_eq!(total, 50);
        assert_eq!(id_list(&all), id_list(&index), "count={count}");
    }
    assert_each_once(&cursor_walk(db, &t, None, 7).0, &users);
    // Pushed down (`active eq true`, 37 users) and evaluated in Rust (its negation, 13).
    let active = Filter::Compare(
        AttrPath::new("active"),
        CompareOp::Eq,
        CompValue::Bool(true),
    );
    let (on, total_on) = cursor_walk(db, &t, Some(active.clone()), 5);
    let (off, total_off) = cursor_walk(db, &t, Some(Filter::Not(Box::new(active))), 5);
    assert_eq!((total_on, total_off), (37, 13));
    assert_eq!((on.len(), off.len()), (37, 13));
    let mut both: Vec<String> = id_list(&on).into_iter().chain(id_list(&off)).collect();
    both.sort_by_key(|id| index.iter().position(|r| &r.id == id));
    assert_eq!(both, id_list(&index));
    // The last page says so; a cursor past the end is an empty last page.
    let last = index.last().unwrap();
    let past = db
        .list(
            &t,
            User,
            &ListParams {
                paging: Paging::Cursor {
                    after: Some(Keyset {
                        created: last.meta.created,
                        id: last.id.clone(),
                    }),
                },
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((past.total_results, past.resources.len()), (50, 0));
    assert_eq!(past.next, None);
    // A client's cursor can hold anything: a NUL in the id, a time no backend stores.
    let cursor_at = |created: chrono::DateTime<chrono::Utc>, id: String| {
        db.list(
            &t,
            User,
            &ListParams {
                count: 3,
                paging: Paging::Cursor {
                    after: Some(Keyset { created, id }),
                },
                ..Default::default()
            },
        )
        .unwrap()
    };
    let tenth = &index[9];
    let page = cursor_at(tenth.meta.created, format!("{}\0zz", tenth.id));
    assert_eq!(id_list(&page.resources), id_list(&index[10..13]));
    let page = cursor_at(tenth.meta.created, "\0".into());
    assert_eq!(page.resources[0].meta.created, tenth.meta.created);
    let page = cursor_at(chrono::DateTime::<chrono::Utc>::MIN_UTC, "x".into());
    assert_eq!(id_list(&page.resources), id_list(&index[..3]));
    let page = cursor_at(chrono::DateTime::<chrono::Utc>::MAX_UTC, String::new());
    assert!(page.resources.is_empty() && page.next.is_none());
    assert_eq!(page.total_results, 50);
    // count=0: only the total.
    let zero = db
        .list(
            &t,
            User,
            &ListParams {
                count: 0,
                paging: Paging::Cursor { after: None },
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((zero.total_results, zero.resources.len()), (50, 0));
    assert_eq!(zero.next, None);
    // Groups page the same way (their own (created, id) index).
    for i in 0..5 {
        create_group(db, &t, &format!("g{i}"), &[]);
    }
    let groups = |paging: Paging, count: u64| {
        db.list(
            &t,
            scim_core::ResourceKind::Group,
            &ListParams {
                count,
                paging,
                ..Default::default()
            },
        )
        .unwrap()
    };
    let listed = id_list(&groups(Paging::Index, 10).resources);
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = groups(Paging::Cursor { after }, 2);
        assert_eq!(page.total_results, 5);
        walked.extend(id_list(&page.resources));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(walked, listed);
    assert_eq!(walked.len(), 5);
    // sortBy cannot be combined with a cursor.
    let err = db
        .list(
            &t,
            User,
            &ListParams {
                sort_by: Some(AttrPath::new("userName")),
                paging: Paging::Cursor { after: None },
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Unsupported(_)), "{err:?}");
}

/// More matches than a small result: the pushed-down list counts and pages in SQL, and
/// agrees with the unfiltered walk (and with the superset path) page by page.
pub fn large_pushed_down_results_page_in_sql(db: &TestDb) {
    let t = tenant(db);
    let batch: Vec<_> = (0..450)
        .map(|i| user_attrs(json!({"userName": format!("bulk{i:03}"), "active": i % 2 == 0})))
        .collect();
    db.create_many(&actor(), &t, User, batch).unwrap();
    let all = |filter: &str| Some(scim_core::filter::parse_filter(filter).unwrap());
    let everything = all("meta.created ge \"2000-01-01T00:00:00Z\"");
    let superset = all("meta.created ge \"2000-01-01T00:00:00Z\" and not (userName eq \"x\")");
    let plain: Vec<String> = walk_n(db, &t, ListParams::default(), 450, 90);
    assert_eq!(plain.len(), 450);
    for f in [everything.clone(), superset] {
        let paged = walk_n(
            db,
            &t,
            ListParams {
                filter: f.clone(),
                ..Default::default()
            },
            450,
            90,
        );
        assert_eq!(paged, plain);
        let (cursor, total) = cursor_walk(db, &t, f, 90);
        assert_eq!(total, 450);
        assert_eq!(id_list(&cursor), plain);
    }
    // Half of them, still more than a small result.
    let (active, total) = cursor_walk(db, &t, all("active eq true"), 100);
    assert_eq!((total, active.len()), (225, 225));
    // A count larger than the small-result size reads the whole result in one statement.
    let page = db
        .list(
            &t,
            User,
            &ListParams {
                filter: everything,
                count: 500,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(id_list(&page.resources), plain);
}

fn walk_n(db: &TestDb, t: &str, base: ListParams, total: u64, count: u64) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 1;
    loop {
        let page = db
            .list(
                t,
                User,
                &ListParams {
                    start_index: start,
                    count,
                    ..base.clone()
                },
            )
            .unwrap();
        assert_eq!(page.total_results, total);
        if page.resources.is_empty() {
            return out;
        }
        start += page.resources.len() as u64;
        out.extend(id_list(&page.resources));
    }
}

/// `COUNT(*)` of a tenant's users, in raw SQL.
fn count_star(db: &TestDb, t: &str) -> u64 {
    let column = if db.backend() == "postgres" {
        "\"QUERY PLAN\""
    } else {
        "detail"
    };
    db.with_connection(|c| {
        c.query_text_rows(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) AS {column} FROM users WHERE tenant_id = '{t}'"
        ))
    })
    .unwrap()[0]
        .parse()
        .unwrap()
}

/// The counters behind the unfiltered total agree with `COUNT(*)` after random creates and
/// deletes in two tenants.
pub fn unfiltered_totals_equal_count_star(db: &TestDb) {
    let tenants = [tenant(db), tenant(db)];
    let mut live: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    let mut x = 0x2545_f491_u64;
    for step in 0..120 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let k = (x % 2) as usize;
        if x.is_multiple_of(5) && !live[k].is_empty() {
            let id = live[k].remove((x as usize / 5) % live[k].len());
            db.delete(&actor(), &tenants[k], User, &id, None).unwrap();
        } else if x.is_multiple_of(7) {
            let ids = db
                .create_many(
                    &actor(),
                    &tenants[k],
                    User,
                    (0..3)
                        .map(|i| user_attrs(json!({"userName": format!("m{step}-{i}")})))
                        .collect(),
                )
                .unwrap();
            live[k].extend(ids);
        } else {
            live[k].push(create_user(db, &tenants[k], &format!("u{step}")).id);
        }
    }
    for (k, t) in tenants.iter().enumerate() {
        let page = db
            .list(
                t,
                User,
                &ListParams {
                    count: 0,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(page.total_results, live[k].len() as u64);
        assert_eq!(page.total_results, count_star(db, t));
    }
}
