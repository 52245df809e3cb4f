//! The list statements: `COUNT(*)` of a pushed-down predicate, one page (ordered or not,
//! after a keyset or at an `OFFSET`), and the re-read of a page by id.
//!
//! The keyset condition is written `created >= c AND (created > c OR id > i)`, not as the
//! plain disjunction `created > c OR (created = c AND id > i)`: PostgreSQL turns only the
//! first conjunct into an index bound on `(tenant_id, created, id)` and starts the index
//! scan at the keyset; with the disjunction alone it walks the tenant from its first row
//! and filters (an `OFFSET` scan in disguise). SQLite starts its range at `created >= c`
//! either way. The second conjunct only skips the rows of the keyset's millisecond.

use super::sort::{Pos, SortCol};
use crate::StoreResult;
use crate::db::filter_sql::{self, Pred};
use crate::db::rows::{GROUP_COLUMNS, GroupTuple, StoredRow, USER_COLUMNS, UserTuple};
use crate::db::schema::{groups, users};
use crate::db::{AnyConnection, Db};
use diesel::prelude::*;
use scim_core::ResourceKind;

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `COUNT(*)` of the tenant's rows matching `pred` (every row when `None`).
pub(crate) fn count(
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

/// What one page statement selects.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageQuery<'a> {
    /// The pushed-down predicate (`None` = every row of the tenant).
    pub pred: Option<&'a Pred>,
    /// `ORDER BY` at all: unordered reads let the planner pick the filter's index.
    pub ordered: bool,
    /// The `sortBy` column (before the `(created, id)` tiebreak); `None` = default order.
    pub sort: Option<SortCol>,
    /// Descending `sortBy`.
    pub desc: bool,
    /// Only rows after this keyset (default order only).
    pub after: Option<&'a Pos>,
    /// Rows skipped (`OFFSET`); 0 with a keyset.
    pub offset: u64,
    /// `LIMIT`.
    pub limit: u64,
}

impl PageQuery<'_> {
    /// An unordered read of at most `limit` matches of `pred`.
    pub(crate) fn unordered(pred: Option<&Pred>, limit: u64) -> PageQuery<'_> {
        PageQuery {
            pred,
            ordered: false,
            sort: None,
            desc: false,
            after: None,
            offset: 0,
            limit,
        }
    }

    /// At most `limit` matches of `pred` after `after`, in the default order.
    pub(crate) fn keyset<'a>(
        pred: Option<&'a Pred>,
        after: Option<&'a Pos>,
        limit: u64,
    ) -> PageQuery<'a> {
        PageQuery {
            pred,
            ordered: true,
            sort: None,
            desc: false,
            after,
            offset: 0,
            limit,
        }
    }
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

/// The keyset condition (see the module documentation for its shape).
macro_rules! after {
    ($q:expr, $table:ident, $after:expr) => {{
        let q = $q;
        match $after {
            Some((c, id)) => q.filter(
                $table::created
                    .ge(*c)
                    .and($table::created.gt(*c).or($table::id.gt(id.clone()))),
            ),
            None => q,
        }
    }};
}

/// One page of rows (see [`PageQuery`]).
pub(crate) fn page(
    conn: &mut AnyConnection,
    tenant_id: &str,
    kind: ResourceKind,
    p: PageQuery<'_>,
) -> StoreResult<Vec<StoredRow>> {
    let desc = p.desc;
    match kind {
        ResourceKind::User => {
            let mut q = users::table
                .filter(users::tenant_id.eq(tenant_id.to_string()))
                .select(USER_COLUMNS)
                .into_boxed::<Db>();
            if let Some(pred) = p.pred {
                q = q.filter(filter_sql::user_expr(tenant_id, pred));
            }
            q = after!(q, users, p.after);
            if p.ordered {
                q = match p.sort {
                    Some(SortCol::UserName) => order_by!(q, users::user_name_lower, false, desc),
                    Some(SortCol::DisplayName) => {
                        order_by!(q, users::display_name_lower, true, desc)
                    }
                    Some(SortCol::ExternalId) => order_by!(q, users::external_id, true, desc),
                    Some(SortCol::Id) => order_by!(q, users::id, false, desc),
                    Some(SortCol::Created) => order_by!(q, users::created, false, desc),
                    Some(SortCol::LastModified) => order_by!(q, users::last_modified, false, desc),
                    Some(SortCol::GivenName) => order_by!(q, users::given_name, true, desc),
                    Some(SortCol::FamilyName) => order_by!(q, users::family_name, true, desc),
                    None => q,
                };
                q = q
                    .then_order_by(users::created.asc())
                    .then_order_by(users::id.asc());
            }
            q = q.limit(to_i64(p.limit));
            if p.offset > 0 {
                q = q.offset(to_i64(p.offset));
            }
            let rows: Vec<UserTuple> = q.load(conn)?;
            Ok(rows.into_iter().map(StoredRow::from).collect())
        }
        ResourceKind::Group => {
            let mut q = groups::table
                .filter(groups::tenant_id.eq(tenant_id.to_string()))
                .select(GROUP_COLUMNS)
                .into_boxed::<Db>();
            if let Some(pred) = p.pred {
                q = q.filter(filter_sql::group_expr(tenant_id, pred));
            }
            q = after!(q, groups, p.after);
            if p.ordered {
                q = match p.sort {
                    Some(SortCol::DisplayName) => {
                        order_by!(q, groups::display_name_lower, false, desc)
                    }
                    Some(SortCol::ExternalId) => order_by!(q, groups::external_id, true, desc),
                    Some(SortCol::Id) => order_by!(q, groups::id, false, desc),
                    Some(SortCol::Created) => order_by!(q, groups::created, false, desc),
                    Some(SortCol::LastModified) => {
                        order_by!(q, groups::last_modified, false, desc)
                    }
                    _ => q,
                };
                q = q
                    .then_order_by(groups::created.asc())
                    .then_order_by(groups::id.asc());
            }
            q = q.limit(to_i64(p.limit));
            if p.offset > 0 {
                q = q.offset(to_i64(p.offset));
            }
            let rows: Vec<GroupTuple> = q.load(conn)?;
            Ok(rows.into_iter().map(StoredRow::from).collect())
        }
    }
}

/// Re-reads the rows of `ids` (the page), in no particular order.
pub(crate) fn rows_by_id(
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
