//! Listing: filter push-down, sorting, index and cursor paging, exact totals, each list in
//! statements that stay O(page) wherever the total allows it.
//!
//! * **No filter.** The total is the tenant's counters ([`counts`](super::counts)), O(1).
//!   Index paging in the default order reads after a remembered keyset when the request
//!   continues a sequential walk ([`hints`]), else after the nearest position checkpoint
//!   with an `OFFSET` below [`positions::EVERY`] ([`positions`]), remembering a keyset for
//!   the next page; cursor paging reads after the cursor. Both keyset reads walk
//!   `(tenant_id, created, id)` from the keyset on.
//! * **A filter that translates exactly** ([`filter_sql`](super::filter_sql)): first one
//!   unordered read of at most `max(count, SMALL_RESULT) + 1` matches. Without `ORDER BY`
//!   the planner uses the filter's index instead of walking the tenant in `(created, id)`
//!   order. When it does not overflow (a lookup: a hit is this statement plus the
//!   relations, a miss this statement alone) the matches are the whole result: ordered in
//!   Rust with the SQL comparator and cut. When it overflows: `COUNT(*)`, then the ordered
//!   page (`OFFSET`, or after the cursor).
//! * **Any other filter**: the batched walk of [`scan`], which reads at most the store's
//!   scan budget of candidate rows (then `StoreError::TooMany`, 400 `tooMany`).
//!
//! Order: `sortBy` on `userName`, `displayName` (case-insensitively, via the lower-cased
//! columns), `externalId`, `id`, `meta.created`, `meta.lastModified`, `name.givenName`,
//! `name.familyName` is done in SQL, nulls last ascending / first descending, then
//! `(created, id)` ascending as the stable tiebreak. Any other `sortBy` falls back to the
//! default order `(created, id)`. Cursor paging is in the default order only.

mod hints;
mod positions;
mod scan;
mod sort;
mod sql;

pub(crate) use hints::KeysetHints;

use self::hints::HintKey;
use self::sort::{Pos, SortCol, compare_rows, is_after, pos, sort_col};
use self::sql::PageQuery;
use super::AnyConnection;
use super::filter_sql::{self, Pred};
use super::relations::load_relations;
use super::rows::{StoredRow, to_resource};
use crate::{Keyset, ListParams, Page, Paging, StoreError, StoreResult};
use scim_core::ResourceKind;

/// Up to this many matches (or `count`, when larger), an exactly translated filter's
/// result is read whole, unordered, and cut in Rust; beyond it the list counts.
const SMALL_RESULT: u64 = 200;

/// Which window of the result a request asks for.
#[derive(Debug, Clone)]
pub(crate) enum Mode {
    /// `count` rows from 0-based `offset` in the requested order.
    Index {
        offset: u64,
        count: u64,
        sort: Option<SortCol>,
        desc: bool,
    },
    /// `count` rows after `after` in the default order.
    Cursor { after: Option<Pos>, count: u64 },
}

/// The rows of a page, the exact total, and for cursor paging where the next page starts.
#[derive(Debug)]
pub(crate) struct Window {
    total: u64,
    rows: Vec<StoredRow>,
    next: Option<Pos>,
}

impl Window {
    fn index(total: u64, rows: Vec<StoredRow>) -> Window {
        Window {
            total,
            rows,
            next: None,
        }
    }

    /// A cursor page from up to `count + 1` rows in the default order: the extra row only
    /// says that more follow.
    fn cursor(total: u64, mut rows: Vec<StoredRow>, count: u64) -> Window {
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        let next = if rows.len() > count {
            rows.truncate(count);
            rows.last().map(pos)
        } else {
            None
        };
        Window { total, rows, next }
    }
}

/// Lists one page (see the module documentation for the strategy). A filter evaluated in
/// Rust reads at most `scan_budget` candidate rows; past it, or when a statement runs past
/// the statement timeout, the list is [`StoreError::TooMany`].
pub(crate) fn list(
    conn: &mut AnyConnection,
    hints: &KeysetHints,
    scan_budget: Option<u64>,
    tenant_id: &str,
    kind: ResourceKind,
    params: &ListParams,
) -> StoreResult<Page> {
    list_page(conn, hints, scan_budget, tenant_id, kind, params).map_err(|e| match e {
        // A list that runs that long is one the filter (or the offset) makes expensive:
        // retrying it would cost as much again.
        StoreError::Timeout(_) => StoreError::TooMany(
            "The list took longer than the server's statement timeout; use a filter on an \
             indexed attribute (userName, externalId, emails, displayName, members) or a \
             cursor"
                .into(),
        ),
        other => other,
    })
}

fn list_page(
    conn: &mut AnyConnection,
    hints: &KeysetHints,
    scan_budget: Option<u64>,
    tenant_id: &str,
    kind: ResourceKind,
    params: &ListParams,
) -> StoreResult<Page> {
    let mode = match &params.paging {
        Paging::Index => Mode::Index {
            offset: params.start_index.max(1) - 1,
            count: params.count,
            sort: params.sort_by.as_ref().and_then(|p| sort_col(kind, p)),
            desc: params.descending,
        },
        Paging::Cursor { .. } if params.sort_by.is_some() => {
            return Err(StoreError::Unsupported(
                "sortBy cannot be combined with cursor paging",
            ));
        }
        Paging::Cursor { after } => Mode::Cursor {
            after: after.as_ref().and_then(keyset_pos),
            count: params.count,
        },
    };
    let window = match &params.filter {
        None => unfiltered(conn, hints, tenant_id, kind, &mode)?,
        Some(f) => {
            // The same acceptance whether or not the filter is pushed down.
            // Against the tenant's own resource type, so its extension attributes resolve.
            let rt = params.resource_type.unwrap_or(kind.resource_type());
            scan::compile(rt, f)?;
            let t = filter_sql::translate(kind, f);
            let (pred, exact) = match t.pred {
                Some(p) => {
                    let (p, still_exact) = filter_sql::materialize(conn, tenant_id, p)?;
                    (p, t.exact && still_exact)
                }
                None => (None, t.exact),
            };
            if exact {
                pushed_down(conn, tenant_id, kind, pred.as_ref(), &mode)?
            } else {
                scan::scan(conn, tenant_id, rt, pred.as_ref(), f, &mode, scan_budget)?
            }
        }
    };
    let mut relations = if params.with_relations && !window.rows.is_empty() {
        let ids: Vec<String> = window.rows.iter().map(|r| r.id.clone()).collect();
        Some(load_relations(conn, tenant_id, kind, &ids)?)
    } else {
        None
    };
    let resources = window
        .rows
        .iter()
        .map(|r| to_resource(kind, r, relations.as_mut()))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page {
        total_results: window.total,
        resources,
        next: window.next.map(|(created, id)| Keyset {
            created: super::utc(created),
            id,
        }),
    })
}

/// A cursor's keyset as a position both backends can bind, with the same meaning. A
/// cursor comes from a client, so any value must work: an id is cut at its first NUL
/// (PostgreSQL text cannot hold one; no stored id starts with the cut prefix followed by a
/// NUL, so "after the cut id" selects the same rows), and a time outside the years
/// 1..=9999 is clamped into them (before year 1 every row follows: no keyset at all; after
/// 9999 no row does, and neither does one after the last millisecond of 9999).
fn keyset_pos(k: &Keyset) -> Option<Pos> {
    let id = k.id.split('\0').next().unwrap_or_default().to_string();
    let created = k.created.naive_utc();
    let first = chrono::NaiveDate::from_ymd_opt(1, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
    let last = chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 999));
    match (first, last) {
        (Some(first), _) if created < first => None,
        (_, Some(last)) if created > last => Some((last, id)),
        _ => Some((created, id)),
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Orders a whole (small) result in Rust and cuts the window `mode` asks for.
fn cut(mut rows: Vec<StoredRow>, mode: &Mode) -> Window {
    let total = u64::try_from(rows.len()).unwrap_or(u64::MAX);
    match mode {
        Mode::Index {
            offset,
            count,
            sort,
            desc,
        } => {
            rows.sort_by(|a, b| compare_rows(a, b, *sort, *desc));
            let rows = rows
                .into_iter()
                .skip(to_usize(*offset))
                .take(to_usize(*count))
                .collect();
            Window::index(total, rows)
        }
        Mode::Cursor { after, count } => {
            rows.sort_by(|a, b| compare_rows(a, b, None, false));
            let rows = if *count == 0 {
                Vec::new()
            } else {
                rows.into_iter()
                    .filter(|r| is_after(r, after.as_ref()))
                    .take(to_usize(*count).saturating_add(1))
                    .collect()
            };
            Window::cursor(total, rows, *count)
        }
    }
}

/// The ordered window of a result of `total` rows, in SQL: a keyset page, or an `OFFSET`
/// page.
fn ordered(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    pred: Option<&Pred>,
    total: u64,
    mode: &Mode,
) -> StoreResult<Window> {
    match mode {
        Mode::Index {
            offset,
            count,
            sort,
            desc,
        } => {
            if *count == 0 || *offset >= total {
                return Ok(Window::index(total, Vec::new()));
            }
            let rows = sql::page(
                conn,
                tenant_id,
                kind,
                PageQuery {
                    pred,
                    ordered: true,
                    sort: *sort,
                    desc: *desc,
                    after: None,
                    offset: *offset,
                    limit: *count,
                },
            )?;
            Ok(Window::index(total, rows))
        }
        Mode::Cursor { after, count } => {
            if *count == 0 || total == 0 {
                return Ok(Window::cursor(total, Vec::new(), *count));
            }
            let rows = sql::page(
                conn,
                tenant_id,
                kind,
                PageQuery::keyset(pred, after.as_ref(), count.saturating_add(1)),
            )?;
            Ok(Window::cursor(total, rows, *count))
        }
    }
}

/// A list without a filter: counters for the total, keyset hints for index walks.
fn unfiltered(
    conn: &mut AnyConnection,
    hints: &KeysetHints,
    tenant_id: &str,
    kind: ResourceKind,
    mode: &Mode,
) -> StoreResult<Window> {
    let counts = super::counts::read(conn, tenant_id, kind)?;
    let total = counts.total();
    let Mode::Index {
        offset,
        count,
        sort: None,
        ..
    } = *mode
    else {
        // Cursor paging, or a sorted index page (no hints: only the default order has
        // an index that serves a keyset).
        return ordered(conn, tenant_id, kind, None, total, mode);
    };
    if count == 0 || offset >= total {
        return Ok(Window::index(total, Vec::new()));
    }
    let key = |start_index: u64| HintKey {
        tenant_id: tenant_id.to_string(),
        kind,
        start_index,
    };
    let hinted = if offset > 0 {
        hints.get(&key(offset + 1), counts)
    } else {
        None
    };
    let window = match hinted {
        Some(after) => {
            let rows = sql::page(
                conn,
                tenant_id,
                kind,
                PageQuery::keyset(None, Some(&after), count),
            )?;
            Window::index(total, rows)
        }
        // A page that continues no walk: from the nearest position checkpoint.
        None => {
            let (after, skip) = hints
                .positions
                .seek(conn, tenant_id, kind, offset, counts)?;
            let rows = sql::page(
                conn,
                tenant_id,
                kind,
                PageQuery {
                    offset: skip,
                    ..PageQuery::keyset(None, after.as_ref(), count)
                },
            )?;
            Window::index(total, rows)
        }
    };
    let served = u64::try_from(window.rows.len()).unwrap_or(u64::MAX);
    if let Some(last) = window.rows.last()
        && offset + served < total
    {
        hints.put(key(offset + served + 1), pos(last), counts);
    }
    Ok(window)
}

/// A list whose filter runs exactly in SQL (see the module documentation).
fn pushed_down(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    pred: Option<&Pred>,
    mode: &Mode,
) -> StoreResult<Window> {
    let count = match mode {
        Mode::Index { count, .. } | Mode::Cursor { count, .. } => *count,
    };
    if count == 0 {
        // Only the total is asked for: one COUNT, no rows.
        let total = sql::count(conn, tenant_id, kind, pred)?;
        return Ok(match mode {
            Mode::Index { .. } => Window::index(total, Vec::new()),
            Mode::Cursor { .. } => Window::cursor(total, Vec::new(), 0),
        });
    }
    let whole = count.max(SMALL_RESULT);
    let rows = sql::page(
        conn,
        tenant_id,
        kind,
        PageQuery::unordered(pred, whole.saturating_add(1)),
    )?;
    if u64::try_from(rows.len()).unwrap_or(u64::MAX) <= whole {
        return Ok(cut(rows, mode));
    }
    let total = sql::count(conn, tenant_id, kind, pred)?;
    ordered(conn, tenant_id, kind, pred, total, mode)
}
