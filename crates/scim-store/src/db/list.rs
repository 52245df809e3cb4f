//! Listing: filter push-down, sorting, paging and exact totals.
//!
//! * No filter, or a filter that translates *exactly* ([`filter_sql`](super::filter_sql)):
//!   `COUNT(*)` plus one `ORDER BY … LIMIT … OFFSET …` query, all in SQL.
//!   When the count is small (at most [`SMALL_RESULT`], i.e. a lookup), the matches are
//!   read without `ORDER BY` and ordered in Rust with the same comparator, so the planner
//!   always uses the filter's index instead of walking the tenant in `(created, id)` order.
//! * Any other filter: the translatable conjuncts run in SQL as a superset pre-filter, and
//!   the candidates are read in bounded batches ([`BATCH`] rows, keyset paging on
//!   `(created, id)`), each batch's relations loaded in one query, and the full filter
//!   evaluated with `scim_core::filter::matches`. Matches are counted (the exact total) and
//!   only the sort keys of the best `startIndex - 1 + count` are kept; the page is then
//!   re-read by id.
//!
//! Order: `sortBy` on `userName`, `displayName` (case-insensitively, via the lower-cased
//! columns), `externalId`, `id`, `meta.created`, `meta.lastModified`, `name.givenName`,
//! `name.familyName` is done in SQL, nulls last ascending / first descending, then
//! `(created, id)` ascending as the stable tiebreak. Any other `sortBy` falls back to the
//! default order `(created, id)`.

use super::filter_sql::{self, Pred};
use super::relations::load_relations;
use super::rows::{GROUP_COLUMNS, GroupTuple, StoredRow, USER_COLUMNS, UserTuple, to_resource};
use super::schema::{groups, users};
use super::{AnyConnection, Db};
use crate::{ListParams, Page, StoreError, StoreResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use scim_core::ResourceKind;
use scim_core::filter::{AttrPath, CompiledFilter, Filter};
use std::cmp::Ordering;

/// Candidate rows read per batch when the filter is evaluated in Rust.
pub(crate) const BATCH: i64 = 500;

/// Up to this many matches, the page is cut in Rust from the unordered matches.
const SMALL_RESULT: u64 = 200;

/// A column the store can sort on in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortCol {
    UserName,
    DisplayName,
    ExternalId,
    Id,
    Created,
    LastModified,
    GivenName,
    FamilyName,
}

fn sort_col(kind: ResourceKind, path: &AttrPath) -> Option<SortCol> {
    if let Some(urn) = &path.urn
        && !kind.resource_type().schema.id.eq_ignore_ascii_case(urn)
    {
        return None;
    }
    let name = path.name.to_ascii_lowercase();
    let sub = path.sub_attr.as_deref().map(str::to_ascii_lowercase);
    let user = kind == ResourceKind::User;
    Some(match (name.as_str(), sub.as_deref()) {
        ("username", None) if user => SortCol::UserName,
        ("displayname", None) => SortCol::DisplayName,
        ("externalid", None) => SortCol::ExternalId,
        ("id", None) => SortCol::Id,
        ("meta", Some("created")) => SortCol::Created,
        ("meta", Some("lastmodified")) => SortCol::LastModified,
        ("name", Some("givenname")) if user => SortCol::GivenName,
        ("name", Some("familyname")) if user => SortCol::FamilyName,
        _ => return None,
    })
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key<'a> {
    Str(&'a str),
    Time(NaiveDateTime),
}

fn key(row: &StoredRow, col: SortCol) -> Option<Key<'_>> {
    match col {
        SortCol::UserName => row.user_name_lower.as_deref().map(Key::Str),
        SortCol::DisplayName => row.display_name_lower.as_deref().map(Key::Str),
        SortCol::ExternalId => row.external_id.as_deref().map(Key::Str),
        SortCol::Id => Some(Key::Str(&row.id)),
        SortCol::Created => Some(Key::Time(row.created)),
        SortCol::LastModified => Some(Key::Time(row.last_modified)),
        SortCol::GivenName => row.given_name.as_deref().map(Key::Str),
        SortCol::FamilyName => row.family_name.as_deref().map(Key::Str),
    }
}

/// The in-memory twin of the SQL `ORDER BY` (byte order for text on both backends).
fn compare_rows(a: &StoredRow, b: &StoredRow, sort: Option<SortCol>, desc: bool) -> Ordering {
    let primary = match sort {
        Some(col) => {
            let (ka, kb) = (key(a, col), key(b, col));
            let o = (ka.is_none(), ka).cmp(&(kb.is_none(), kb));
            if desc { o.reverse() } else { o }
        }
        None => Ordering::Equal,
    };
    primary
        .then_with(|| a.created.cmp(&b.created))
        .then_with(|| a.id.cmp(&b.id))
}

macro_rules! order_by {
    ($q:expr, $col:expr, $nullable:expr, $desc:expr) => {{
        let q = $q;
        match ($nullable, $desc) {
            (true, false) => q
                .then_order_by($col.is_null().asc())
                .then_order_by($col.asc()),
            (true, true) => q
                .then_order_by($col.is_null().desc())
                .then_order_by($col.desc()),
            (false, false) => q.then_order_by($col.asc()),
            (false, true) => q.then_order_by($col.desc()),
        }
    }};
}

/// Lists one page (see the module documentation for the strategy).
pub(crate) fn list(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    params: &ListParams,
) -> StoreResult<Page> {
    let offset = params.start_index.max(1) - 1;
    let sort = params.sort_by.as_ref().and_then(|p| sort_col(kind, p));
    if let Some(f) = &params.filter {
        // The same acceptance whether or not the filter is pushed down.
        compile(kind, f)?;
    }
    let (pred, exact) = match &params.filter {
        None => (None, true),
        Some(f) => {
            let t = filter_sql::translate(kind, f);
            match t.pred {
                Some(p) => {
                    let (p, still_exact) = filter_sql::materialize(conn, tenant_id, p)?;
                    (p, t.exact && still_exact)
                }
                None => (None, t.exact),
            }
        }
    };
    let pred = pred.as_ref();
    let (total, rows) = match (exact, &params.filter) {
        (false, Some(filter)) => scan(conn, tenant_id, kind, pred, filter, sort, params, offset)?,
        _ => {
            let total = match (pred, &params.filter) {
                // No filter: the tenant's counters, O(1) instead of COUNT(*).
                (None, None) => super::counts::read(conn, tenant_id, kind)?.total(),
                _ => count(conn, tenant_id, kind, pred)?,
            };
            let rows = if params.count == 0 || offset >= total {
                Vec::new()
            } else if total <= SMALL_RESULT {
                // Few matches (a lookup): read them unordered and cut the window in Rust.
                // Without ORDER BY the planner has no reason to walk the (created, id)
                // index of the whole tenant to avoid a sort; it uses the filter's index.
                let mut rows = page(
                    conn,
                    tenant_id,
                    kind,
                    pred,
                    None,
                    false,
                    0,
                    SMALL_RESULT * 4,
                    false,
                )?;
                rows.sort_by(|a, b| compare_rows(a, b, sort, params.descending));
                rows.into_iter()
                    .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                    .take(usize::try_from(params.count).unwrap_or(usize::MAX))
                    .collect()
            } else {
                page(
                    conn,
                    tenant_id,
                    kind,
                    pred,
                    sort,
                    params.descending,
                    offset,
                    params.count,
                    true,
                )?
            };
            (total, rows)
        }
    };
    let mut relations = if params.with_relations && !rows.is_empty() {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        Some(load_relations(conn, tenant_id, kind, &ids)?)
    } else {
        None
    };
    let resources = rows
        .iter()
        .map(|r| to_resource(kind, r, relations.as_mut()))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page {
        total_results: total,
        resources,
        next: None,
    })
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn count(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    pred: Option<&Pred>,
) -> StoreResult<u64> {
    let n: i64 = match kind {
        ResourceKind::User => {
            let mut q = users::table
                .filter(users::tenant_id.eq(tenant_id.to_string()))
                .into_boxed::<Db>();
            if let Some(p) = pred {
                q = q.filter(filter_sql::user_expr(tenant_id, p));
            }
            q.count().get_result(conn)?
        }
        ResourceKind::Group => {
            let mut q = groups::table
                .filter(groups::tenant_id.eq(tenant_id.to_string()))
                .into_boxed::<Db>();
            if let Some(p) = pred {
                q = q.filter(filter_sql::group_expr(tenant_id, p));
            }
            q.count().get_result(conn)?
        }
    };
    Ok(u64::try_from(n).unwrap_or_default())
}

#[allow(clippy::too_many_arguments)]
fn page(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    pred: Option<&Pred>,
    sort: Option<SortCol>,
    desc: bool,
    offset: u64,
    count: u64,
    ordered: bool,
) -> StoreResult<Vec<StoredRow>> {
    match kind {
        ResourceKind::User => {
            let mut q = users::table
                .filter(users::tenant_id.eq(tenant_id.to_string()))
                .select(USER_COLUMNS)
                .into_boxed::<Db>();
            if let Some(p) = pred {
                q = q.filter(filter_sql::user_expr(tenant_id, p));
            }
            q = match sort {
                Some(SortCol::UserName) => order_by!(q, users::user_name_lower, false, desc),
                Some(SortCol::DisplayName) => order_by!(q, users::display_name_lower, true, desc),
                Some(SortCol::ExternalId) => order_by!(q, users::external_id, true, desc),
                Some(SortCol::Id) => order_by!(q, users::id, false, desc),
                Some(SortCol::Created) => order_by!(q, users::created, false, desc),
                Some(SortCol::LastModified) => order_by!(q, users::last_modified, false, desc),
                Some(SortCol::GivenName) => order_by!(q, users::given_name, true, desc),
                Some(SortCol::FamilyName) => order_by!(q, users::family_name, true, desc),
                None => q,
            };
            if ordered {
                q = q
                    .then_order_by(users::created.asc())
                    .then_order_by(users::id.asc());
            }
            let rows: Vec<UserTuple> = q.limit(to_i64(count)).offset(to_i64(offset)).load(conn)?;
            Ok(rows.into_iter().map(StoredRow::from).collect())
        }
        ResourceKind::Group => {
            let mut q = groups::table
                .filter(groups::tenant_id.eq(tenant_id.to_string()))
                .select(GROUP_COLUMNS)
                .into_boxed::<Db>();
            if let Some(p) = pred {
                q = q.filter(filter_sql::group_expr(tenant_id, p));
            }
            q = match sort {
                Some(SortCol::DisplayName) => order_by!(q, groups::display_name_lower, false, desc),
                Some(SortCol::ExternalId) => order_by!(q, groups::external_id, true, desc),
                Some(SortCol::Id) => order_by!(q, groups::id, false, desc),
                Some(SortCol::Created) => order_by!(q, groups::created, false, desc),
                Some(SortCol::LastModified) => order_by!(q, groups::last_modified, false, desc),
                _ => q,
            };
            if ordered {
                q = q
                    .then_order_by(groups::created.asc())
                    .then_order_by(groups::id.asc());
            }
            let rows: Vec<GroupTuple> = q.limit(to_i64(count)).offset(to_i64(offset)).load(conn)?;
            Ok(rows.into_iter().map(StoredRow::from).collect())
        }
    }
}

/// One batch of candidates after `after` in `(created, id)` order.
fn batch(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    pred: Option<&Pred>,
    after: Option<&(NaiveDateTime, String)>,
) -> StoreResult<Vec<StoredRow>> {
    match kind {
        ResourceKind::User => {
            let mut q = users::table
                .filter(users::tenant_id.eq(tenant_id.to_string()))
                .select(USER_COLUMNS)
                .into_boxed::<Db>();
            if let Some(p) = pred {
                q = q.filter(filter_sql::user_expr(tenant_id, p));
            }
            if let Some((c, id)) = after {
                q = q.filter(
                    users::created
                        .gt(*c)
                        .or(users::created.eq(*c).and(users::id.gt(id.clone()))),
                );
            }
            let rows: Vec<UserTuple> = q
                .order((users::created.asc(), users::id.asc()))
                .limit(BATCH)
                .load(conn)?;
            Ok(rows.into_iter().map(StoredRow::from).collect())
        }
        ResourceKind::Group => {
            let mut q = groups::table
                .filter(groups::tenant_id.eq(tenant_id.to_string()))
                .select(GROUP_COLUMNS)
                .into_boxed::<Db>();
            if let Some(p) = pred {
                q = q.filter(filter_sql::group_expr(tenant_id, p));
            }
            if let Some((c, id)) = after {
                q = q.filter(
                    groups::created
                        .gt(*c)
                        .or(groups::created.eq(*c).and(groups::id.gt(id.clone()))),
                );
            }
            let rows: Vec<GroupTuple> = q
                .order((groups::created.asc(), groups::id.asc()))
                .limit(BATCH)
                .load(conn)?;
            Ok(rows.into_iter().map(StoredRow::from).collect())
        }
    }
}

/// Re-reads the rows of `ids` (the page), in no particular order.
fn rows_by_id(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    ids: &[String],
) -> StoreResult<Vec<StoredRow>> {
    Ok(match kind {
        ResourceKind::User => users::table
            .filter(users::tenant_id.eq(tenant_id))
            .filter(users::id.eq_any(ids))
            .select(USER_COLUMNS)
            .load::<UserTuple>(conn)?
            .into_iter()
            .map(StoredRow::from)
            .collect(),
        ResourceKind::Group => groups::table
            .filter(groups::tenant_id.eq(tenant_id))
            .filter(groups::id.eq_any(ids))
            .select(GROUP_COLUMNS)
            .load::<GroupTuple>(conn)?
            .into_iter()
            .map(StoredRow::from)
            .collect(),
    })
}

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
fn compile(kind: ResourceKind, filter: &Filter) -> StoreResult<CompiledFilter> {
    CompiledFilter::new(filter, kind.resource_type()).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// The superset path: batched candidates, evaluated in Rust, exact total, bounded memory.
#[allow(clippy::too_many_arguments)]
fn scan(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    pred: Option<&Pred>,
    filter: &Filter,
    sort: Option<SortCol>,
    params: &ListParams,
    offset: u64,
) -> StoreResult<(u64, Vec<StoredRow>)> {
    let want = usize::try_from(offset.saturating_add(params.count)).unwrap_or(usize::MAX);
    let desc = params.descending;
    let compiled = compile(kind, filter)?;
    let needs_relations = mentions_relation(kind, filter);
    let mut total = 0_u64;
    let mut keep: Vec<StoredRow> = Vec::new();
    let mut after: Option<(NaiveDateTime, String)> = None;
    loop {
        let rows = batch(conn, tenant_id, kind, pred, after.as_ref())?;
        let Some(last) = rows.last() else { break };
        after = Some((last.created, last.id.clone()));
        let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= BATCH;
        let mut relations = if needs_relations {
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            Some(load_relations(conn, tenant_id, kind, &ids)?)
        } else {
            None
        };
        for mut row in rows {
            let resource = to_resource(kind, &row, relations.as_mut())?;
            if !compiled.matches(&resource.to_json("")) {
                continue;
            }
            total += 1;
            if params.count > 0 {
                // Keep only the sort keys; the page is re-read at the end.
                row.document = String::new();
                keep.push(row);
                if keep.len() > want.saturating_mul(2).max(1024) {
                    keep.sort_by(|a, b| compare_rows(a, b, sort, desc));
                    keep.truncate(want);
                }
            }
        }
        if !full {
            break;
        }
    }
    keep.sort_by(|a, b| compare_rows(a, b, sort, desc));
    let window: Vec<StoredRow> = keep
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(params.count).unwrap_or(usize::MAX))
        .collect();
    if window.is_empty() {
        return Ok((total, Vec::new()));
    }
    let ids: Vec<String> = window.iter().map(|r| r.id.clone()).collect();
    let mut rows = rows_by_id(conn, tenant_id, kind, &ids)?;
    rows.sort_by(|a, b| compare_rows(a, b, sort, desc));
    Ok((total, rows))
}
