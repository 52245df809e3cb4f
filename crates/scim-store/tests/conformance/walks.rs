//! Property tests of whole list walks against a model of the tenant: random creates and
//! deletes (beside a second tenant whose rows must never appear), then
//!
//! * an index walk page by page (sequential `startIndex`, so the keyset hints serve every
//!   page after the first) equals the `OFFSET` slices of the full ordered list;
//! * a cursor walk visits the full ordered list exactly once, unfiltered, with filters
//!   pushed down and with filters evaluated in Rust;
//! * with creates and deletes between the requests, each index page equals the `OFFSET`
//!   slice of the list *as it is at that request* (a write invalidates the hint), and a
//!   cursor walk returns every row that existed for the whole walk exactly once, in order,
//!   without duplicates.
//!
//! The model orders by `(meta.created, id)` as returned by `create`, independently of the
//! store's list code. `SCIM_STORE_PROPTEST_CASES` sets the cases per property (default 6).

use crate::support::*;
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use scim_core::ResourceKind::User;
use scim_core::filter::{Filter, parse_filter};
use scim_store::{Keyset, ListParams, Page, Paging, ResourceRepo};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};

/// One change to a tenant.
#[derive(Debug, Clone)]
enum Op {
    /// A user with this `active` and a userName starting with `a`, `b` or `c`.
    Create { active: bool, letter: u8 },
    /// Deletes the live user at this index (modulo the number of live users).
    Delete(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<bool>(), 0_u8..3).prop_map(|(active, letter)| Op::Create { active, letter }),
        1 => any::<usize>().prop_map(Op::Delete),
    ]
}

/// A model row: what the list must return, in `(created, id)` order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    created: DateTime<Utc>,
    id: String,
    active: bool,
    user_name: String,
}

/// The live users of one tenant, as the store should have them.
struct Model<'a> {
    db: &'a TestDb,
    tenant: String,
    rows: BTreeSet<Row>,
    serial: usize,
}

impl<'a> Model<'a> {
    fn new(db: &'a TestDb) -> Self {
        Model {
            db,
            tenant: tenant(db),
            rows: BTreeSet::new(),
            serial: 0,
        }
    }

    /// Applies `op` to the store and the model; returns whether anything changed.
    fn apply(&mut self, op: &Op) -> bool {
        match op {
            Op::Create { active, letter } => {
                self.serial += 1;
                let user_name = format!("{}{:04}", char::from(b'a' + letter), self.serial);
                let r = self
                    .db
                    .create(
                        &actor(),
                        &self.tenant,
                        User,
                        user_attrs(json!({"userName": user_name, "active": active})),
                    )
                    .unwrap();
                self.rows.insert(Row {
                    created: r.meta.created,
                    id: r.id,
                    active: *active,
                    user_name,
                });
                true
            }
            Op::Delete(i) => {
                if self.rows.is_empty() {
                    return false;
                }
                let row = self.rows.iter().nth(i % self.rows.len()).unwrap().clone();
                self.db
                    .delete(&actor(), &self.tenant, User, &row.id, None)
                    .unwrap();
                self.rows.remove(&row);
                true
            }
        }
    }

    fn ids(&self, filter: &Probe) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| filter.keeps(r))
            .map(|r| r.id.clone())
            .collect()
    }
}

/// A filter, and what it means on the model.
struct Probe {
    text: Option<&'static str>,
    keeps: fn(&Row) -> bool,
}

impl Probe {
    fn keeps(&self, r: &Row) -> bool {
        (self.keeps)(r)
    }
    fn filter(&self) -> Option<Filter> {
        self.text.map(|t| parse_filter(t).unwrap())
    }
}

/// No filter; pushed down exactly; evaluated in Rust; pushed down as a superset and refined.
fn probes() -> Vec<Probe> {
    vec![
        Probe {
            text: None,
            keeps: |_| true,
        },
        Probe {
            text: Some("active eq true"),
            keeps: |r| r.active,
        },
        Probe {
            text: Some("userName sw \"B\""),
            keeps: |r| r.user_name.starts_with('b'),
        },
        Probe {
            text: Some("not (active eq true)"),
            keeps: |r| !r.active,
        },
        Probe {
            text: Some("userName sw \"a\" and not (active eq false)"),
            keeps: |r| r.user_name.starts_with('a') && r.active,
        },
    ]
}

fn cases() -> u32 {
    std::env::var("SCIM_STORE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

fn index_page(m: &Model, filter: Option<Filter>, start_index: u64, count: u64) -> Page {
    m.db.list(
        &m.tenant,
        User,
        &ListParams {
            filter,
            start_index,
            count,
            ..Default::default()
        },
    )
    .unwrap()
}

fn cursor_page(m: &Model, filter: Option<Filter>, after: Option<Keyset>, count: u64) -> Page {
    m.db.list(
        &m.tenant,
        User,
        &ListParams {
            filter,
            count,
            paging: Paging::Cursor { after },
            ..Default::default()
        },
    )
    .unwrap()
}

fn ids(page: &Page) -> Vec<String> {
    page.resources.iter().map(|r| r.id.clone()).collect()
}

/// The other tenant's rows, created before and interleaved with the walked tenant's.
fn other_tenant(db: &TestDb, ops: &[Op]) -> Vec<String> {
    let mut other = Model::new(db);
    for op in ops {
        other.apply(op);
    }
    other.rows.into_iter().map(|r| r.id).collect()
}

fn assert_isolated(seen: &[String], other: &[String]) {
    let other: BTreeSet<&String> = other.iter().collect();
    assert!(
        seen.iter().all(|id| !other.contains(id)),
        "another tenant's row appeared"
    );
}

pub fn index_walks_equal_offset_slices(db: &TestDb) {
    let strategy = (
        proptest::collection::vec(op(), 0..40),
        proptest::collection::vec(op(), 0..8),
        1_u64..9,
    );
    runner()
        .run(&strategy, |(ops, other_ops, count)| {
            let other = other_tenant(db, &other_ops);
            let mut m = Model::new(db);
            for op in &ops {
                m.apply(op);
            }
            for probe in probes() {
                let expected = m.ids(&probe);
                let total = expected.len() as u64;
                let hits_before = db.keyset_hint_hits();
                let mut start = 1_u64;
                let mut pages = 0_u64;
                let mut seen = Vec::new();
                loop {
                    let page = index_page(&m, probe.filter(), start, count);
                    prop_assert_eq!(page.total_results, total, "{:?}", probe.text);
                    prop_assert_eq!(page.next.clone(), None);
                    let from = usize::try_from(start - 1).unwrap().min(expected.len());
                    let to = (from + count as usize).min(expected.len());
                    prop_assert_eq!(ids(&page), expected[from..to].to_vec(), "{:?}", probe.text);
                    if page.resources.is_empty() {
                        break;
                    }
                    pages += 1;
                    start += page.resources.len() as u64;
                    seen.extend(ids(&page));
                }
                prop_assert_eq!(&seen, &expected);
                assert_isolated(&seen, &other);
                // Unfiltered: every page after the first continued from a hint.
                let hits = db.keyset_hint_hits() - hits_before;
                if probe.text.is_none() {
                    prop_assert_eq!(hits, pages.saturating_sub(1));
                } else {
                    prop_assert_eq!(hits, 0, "filtered lists use no hints");
                }
            }
            Ok(())
        })
        .unwrap();
}

pub fn cursor_walks_visit_each_row_once(db: &TestDb) {
    let strategy = (
        proptest::collection::vec(op(), 0..40),
        proptest::collection::vec(op(), 0..8),
        1_u64..9,
    );
    runner()
        .run(&strategy, |(ops, other_ops, count)| {
            let other = other_tenant(db, &other_ops);
            let mut m = Model::new(db);
            for op in &ops {
                m.apply(op);
            }
            for probe in probes() {
                let expected = m.ids(&probe);
                let mut after = None;
                let mut seen = Vec::new();
                for _ in 0..=expected.len() + 1 {
                    let page = cursor_page(&m, probe.filter(), after.clone(), count);
                    prop_assert_eq!(page.total_results, expected.len() as u64);
                    prop_assert!(page.resources.len() as u64 <= count);
                    seen.extend(ids(&page));
                    match page.next {
                        Some(next) => {
                            // The cursor is the last row of the page, and more rows follow.
                            let last = page.resources.last().unwrap();
                            prop_assert_eq!(&next.id, &last.id);
                            prop_assert_eq!(next.created, last.meta.created);
                            prop_assert!(seen.len() < expected.len());
                            after = Some(next);
                        }
                        None => break,
                    }
                }
                prop_assert_eq!(&seen, &expected, "{:?}", probe.text);
                assert_isolated(&seen, &other);
                // count=0 returns only the total.
                let page = cursor_page(&m, probe.filter(), None, 0);
                prop_assert_eq!(page.total_results, expected.len() as u64);
                prop_assert!(page.resources.is_empty() && page.next.is_none());
            }
            Ok(())
        })
        .unwrap();
}

/// A write between two page requests (or none).
fn between() -> impl Strategy<Value = Option<Op>> {
    prop_oneof![2 => Just(None), 2 => op().prop_map(Some)]
}

pub fn walks_under_concurrent_writes(db: &TestDb) {
    let strategy = (
        proptest::collection::vec(op(), 5..40),
        proptest::collection::vec(between(), 60),
        1_u64..7,
    );
    runner()
        .run(&strategy, |(ops, writes, count)| {
            let mut m = Model::new(db);
            for op in &ops {
                m.apply(op);
            }
            let all = Probe {
                text: None,
                keeps: |_| true,
            };
            // Index walk: each page is the OFFSET slice of the list at that moment.
            let mut writes_iter = writes.iter().cycle();
            let mut start = 1_u64;
            let mut expected_hits = 0_u64;
            let hits_before = db.keyset_hint_hits();
            let mut wrote_since_last = true;
            for _ in 0..200 {
                let now = m.ids(&all);
                let offset = usize::try_from(start - 1).unwrap();
                if !wrote_since_last && offset > 0 && offset < now.len() {
                    expected_hits += 1;
                }
                let page = index_page(&m, None, start, count);
                prop_assert_eq!(page.total_results, now.len() as u64);
                let from = offset.min(now.len());
                let to = (from + count as usize).min(now.len());
                prop_assert_eq!(ids(&page), now[from..to].to_vec());
                if page.resources.is_empty() {
                    break;
                }
                start += page.resources.len() as u64;
                wrote_since_last = match writes_iter.next().unwrap() {
                    Some(op) => m.apply(op),
                    None => false,
                };
            }
            prop_assert_eq!(db.keyset_hint_hits() - hits_before, expected_hits);

            // Cursor walk: every row that lives through the walk, once, in order.
            let mut survivors: BTreeSet<String> = m.ids(&all).into_iter().collect();
            let created: HashMap<String, DateTime<Utc>> =
                m.rows.iter().map(|r| (r.id.clone(), r.created)).collect();
            let mut after: Option<Keyset> = None;
            let mut seen: Vec<(DateTime<Utc>, String)> = Vec::new();
            let mut writes_iter = writes.iter().cycle();
            let mut finished = false;
            for _ in 0..200 {
                let page = cursor_page(&m, None, after.clone(), count);
                prop_assert_eq!(page.total_results, m.rows.len() as u64);
                seen.extend(
                    page.resources
                        .iter()
                        .map(|r| (r.meta.created, r.id.clone())),
                );
                let Some(next) = page.next else {
                    finished = true;
                    break;
                };
                after = Some(next);
                if let Some(op) = writes_iter.next().unwrap() {
                    let before: BTreeSet<String> = m.ids(&all).into_iter().collect();
                    m.apply(op);
                    let now: BTreeSet<String> = m.ids(&all).into_iter().collect();
                    for gone in before.difference(&now) {
                        survivors.remove(gone);
                    }
                }
            }
            prop_assert!(finished, "the cursor walk ends");
            prop_assert!(
                seen.windows(2).all(|w| w[0] < w[1]),
                "strictly increasing, so no duplicates"
            );
            let seen_ids: BTreeSet<String> = seen.iter().map(|(_, id)| id.clone()).collect();
            for id in &survivors {
                prop_assert!(
                    seen_ids.contains(id),
                    "row {} (created {:?}) missed",
                    id,
                    created.get(id)
                );
            }
            Ok(())
        })
        .unwrap();
}
