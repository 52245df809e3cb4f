//! The superset path: the translatable conjuncts run in SQL as a pre-filter, the candidates
//! are read in bounded batches ([`BATCH`] rows, keyset paging on `(created, id)`), each
//! batch's relations loaded in one query when the filter reads them, and the full filter
//! evaluated with `scim_core::filter::matches`. Every match is counted (the exact total, so
//! the walk always covers the tenant's candidates); only the page is kept:
//!
//! * index paging: the sort keys of the best `startIndex - 1 + count` matches, the page
//!   re-read by id at the end;
//! * cursor paging: the first `count + 1` matches after the cursor (the batches arrive in
//!   the cursor's order), documents included.
//!
//! The walk reads at most the store's scan budget of candidates (then
//! [`StoreError::TooMany`]): that bounds its time, the connection it holds, and the sort
//! keys a deep `startIndex` makes it keep (never more than the candidates read).

use super::sort::{Pos, SortCol, compare_rows, is_after};
use super::sql::{self, PageQuery};
use super::{Mode, Window};
use crate::db::AnyConnection;
use crate::db::filter_sql::Pred;
use crate::db::relations::load_relations;
use crate::db::rows::{StoredRow, to_resource};
use crate::{StoreError, StoreResult};
use scim_core::ResourceKind;
use scim_core::filter::{CompiledFilter, Filter};

/// Candidate rows read per batch when the filter is evaluated in Rust.
pub(crate) const BATCH: u64 = 500;

/// Whether the filter reads `groups` (Users) or `members` (Groups), which the batches
/// then load (one query per batch); otherwise they are skipped.
fn mentions_relation(kind: ResourceKind, f: &Filter) -> bool {
    let relation = match kind {
        ResourceKind::User => "groups",
        ResourceKind::Group => "members",
    };
    match f {
        Filter::Compare(p, _, _) | Filter::Present(p) => p.name.eq_ignore_ascii_case(relation),
        Filter::ValuePath(p, inner) => {
            p.name.eq_ignore_ascii_case(relation) || mentions_relation(kind, inner)
        }
        Filter::Not(a) => mentions_relation(kind, a),
        Filter::And(a, b) | Filter::Or(a, b) => {
            mentions_relation(kind, a) || mentions_relation(kind, b)
        }
    }
}

/// Compiles the filter for in-Rust evaluation. An invalid filter (which the HTTP layer
/// rejects first with `scim_core::filter::validate_filter`) is a `Backend` error whose
/// source is the `ScimError`.
pub(crate) fn compile(
    rt: &scim_core::schema::ResourceType,
    filter: &Filter,
) -> StoreResult<CompiledFilter> {
    CompiledFilter::new(filter, rt).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// What the walk keeps of the matches.
enum Keep {
    /// Sort keys of the best `offset + count` matches in the requested order.
    Best {
        offset: u64,
        count: u64,
        want: usize,
        sort: Option<SortCol>,
        desc: bool,
        rows: Vec<StoredRow>,
    },
    /// The first `count + 1` matches after `after` (whole rows; none when `count` is 0).
    After {
        after: Option<Pos>,
        count: u64,
        want: usize,
        rows: Vec<StoredRow>,
    },
}

impl Keep {
    fn offer(&mut self, mut row: StoredRow) {
        match self {
            Keep::Best {
                want,
                sort,
                desc,
                rows,
                ..
            } => {
                if *want == 0 {
                    return;
                }
                // Only the sort keys are kept; the page is re-read at the end.
                row.document = String::new();
                rows.push(row);
                if rows.len() > want.saturating_mul(2).max(1024) {
                    rows.sort_by(|a, b| compare_rows(a, b, *sort, *desc));
                    rows.truncate(*want);
                }
            }
            Keep::After {
                after, want, rows, ..
            } => {
                if rows.len() < *want && is_after(&row, after.as_ref()) {
                    rows.push(row);
                }
            }
        }
    }
}

/// Runs the walk and returns the window `mode` asks for, with the exact total; fails with
/// [`StoreError::TooMany`] as soon as it would read more than `budget` candidates.
pub(crate) fn scan(
    conn: &mut AnyConnection,
    tenant_id: &str,
    rt: &scim_core::schema::ResourceType,
    pred: Option<&Pred>,
    filter: &Filter,
    mode: &Mode,
    budget: Option<u64>,
) -> StoreResult<Window> {
    let kind = rt.kind;
    let compiled = compile(rt, filter)?;
    let needs_relations = mentions_relation(kind, filter);
    let mut keep = match mode {
        Mode::Index {
            offset,
            count,
            sort,
            desc,
        } => Keep::Best {
            offset: *offset,
            count: *count,
            want: usize::try_from(offset.saturating_add(*count)).unwrap_or(usize::MAX),
            sort: *sort,
            desc: *desc,
            rows: Vec::new(),
        },
        Mode::Cursor { after, count } => Keep::After {
            after: after.clone(),
            count: *count,
            want: usize::try_from(count.saturating_add(u64::from(*count > 0)))
                .unwrap_or(usize::MAX),
            rows: Vec::new(),
        },
    };
    let mut total = 0_u64;
    let mut read = 0_u64;
    let mut from: Option<Pos> = None;
    loop {
        // The last batch reads one row past the budget: exactly `budget` candidates is
        // still a complete (allowed) walk.
        let batch = match budget {
            Some(b) => BATCH.min(b.saturating_sub(read).saturating_add(1)),
            None => BATCH,
        };
        let rows = sql::page(
            conn,
            tenant_id,
            kind,
            PageQuery::keyset(pred, from.as_ref(), batch),
        )?;
        read = read.saturating_add(u64::try_from(rows.len()).unwrap_or(u64::MAX));
        if let Some(b) = budget
            && read > b
        {
            return Err(StoreError::TooMany(format!(
                "The filter cannot be answered from an index and matches more than {b} \
                 candidates, more than this server evaluates per request; add a condition on \
                 an indexed attribute (userName, externalId, emails, displayName, members, \
                 meta.created, meta.lastModified)"
            )));
        }
        let Some(last) = rows.last() else { break };
        from = Some(super::sort::pos(last));
        let full = u64::try_from(rows.len()).unwrap_or(u64::MAX) >= batch;
        let mut relations = if needs_relations {
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            Some(load_relations(conn, tenant_id, kind, &ids)?)
        } else {
            None
        };
        for row in rows {
            let resource = to_resource(kind, &row, relations.as_mut())?;
            if compiled.matches(&resource.to_json("")) {
                total += 1;
                keep.offer(row);
            }
        }
        if !full {
            break;
        }
    }
    keep.finish(conn, tenant_id, kind, total)
}

impl Keep {
    /// The window from what was kept.
    fn finish(
        self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        kind: ResourceKind,
        total: u64,
    ) -> StoreResult<Window> {
        match self {
            Keep::After { rows, count, .. } => Ok(Window::cursor(total, rows, count)),
            Keep::Best {
                offset,
                count,
                sort,
                desc,
                mut rows,
                ..
            } => {
                rows.sort_by(|a, b| compare_rows(a, b, sort, desc));
                let window: Vec<String> = rows
                    .into_iter()
                    .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                    .take(usize::try_from(count).unwrap_or(usize::MAX))
                    .map(|r| r.id)
                    .collect();
                if window.is_empty() {
                    return Ok(Window::index(total, Vec::new()));
                }
                let mut rows = sql::rows_by_id(conn, tenant_id, kind, &window)?;
                rows.sort_by(|a, b| compare_rows(a, b, sort, desc));
                Ok(Window::index(total, rows))
            }
        }
    }
}
