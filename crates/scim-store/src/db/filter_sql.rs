//! SCIM filter push-down: translates the parts of a `scim-core` [`Filter`] that touch
//! indexed columns into a backend-neutral predicate ([`Pred`]), and lowers it to boxed
//! diesel expressions with bound parameters (never concatenated SQL).
//!
//! Translated: `id`, `externalId` (case-exact), `userName`, `displayName`,
//! `emails.value`, `emails.type` (caseExact=false: the lower-cased column against the
//! value lower-cased in Rust), `active`, `meta.created`, `meta.lastModified`,
//! `emails[...]` value filters (an `IN (SELECT user_id …)` over one and the same e-mail
//! row) and `members.value` on groups. `eq` is `=`, `sw` a range `[v, succ(v))`, `gt`/`ge`/
//! `lt`/`le` comparisons; `co`/`ew` are `LIKE` with `%`/`_`/`\` escaped.
//!
//! Each translation says whether it is *exact* (selects precisely the rows the evaluator
//! would) or only a *superset*. `and` keeps whatever translates; `or` translates only when
//! both sides do; `not`, `ne`, `pr` and unknown attributes do not translate (superset =
//! every row). A superset is refined by evaluating the full filter in Rust.

use super::Db;
use super::schema::{group_members, groups, user_emails, users};
use chrono::NaiveDateTime;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};
use scim_core::ResourceKind;
use scim_core::filter::{AttrPath, CompValue, CompareOp, Filter};

/// A column a predicate can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    Id,
    ExternalId,
    /// `user_name_lower`.
    UserName,
    /// `display_name_lower`.
    DisplayName,
    Active,
    Created,
    LastModified,
}

/// A string test; the value is already lower-cased for case-insensitive columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StrTest {
    Eq(String),
    /// `lo <= col < hi` (no upper bound when `hi` is `None`).
    Range(String, Option<String>),
    /// `col LIKE pattern ESCAPE '\'`.
    Like(String),
    Gt(String),
    Ge(String),
    Lt(String),
    Le(String),
}

/// An ordering test on a timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeTest {
    Eq(NaiveDateTime),
    Gt(NaiveDateTime),
    Ge(NaiveDateTime),
    Lt(NaiveDateTime),
    Le(NaiveDateTime),
}

/// A test on one `user_emails` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EmailPred {
    Value(StrTest),
    Type(StrTest),
    Primary(bool),
    And(Box<EmailPred>, Box<EmailPred>),
    Or(Box<EmailPred>, Box<EmailPred>),
}

/// A backend-neutral predicate over one user or group row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pred {
    Str(Col, StrTest),
    Bool(Col, bool),
    Time(Col, TimeTest),
    /// Some e-mail row of the user satisfies the test.
    Email(EmailPred),
    /// The group has this member id.
    Member(String),
    /// The user's id is one of these (a materialised e-mail predicate).
    IdIn(Vec<String>),
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
}

/// A translation: the predicate (`None` = every row) and whether it is exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Translated<P> {
    pub pred: Option<P>,
    pub exact: bool,
}

impl<P> Translated<P> {
    fn none() -> Self {
        Translated {
            pred: None,
            exact: false,
        }
    }
    fn exact(p: P) -> Self {
        Translated {
            pred: Some(p),
            exact: true,
        }
    }
}

fn and<P>(a: Translated<P>, b: Translated<P>, mk: impl Fn(Box<P>, Box<P>) -> P) -> Translated<P> {
    let exact = a.exact && b.exact;
    let pred = match (a.pred, b.pred) {
        (Some(x), Some(y)) => Some(mk(Box::new(x), Box::new(y))),
        (x, None) => x,
        (None, y) => y,
    };
    Translated { pred, exact }
}

fn or<P>(a: Translated<P>, b: Translated<P>, mk: impl Fn(Box<P>, Box<P>) -> P) -> Translated<P> {
    match (a.pred, b.pred) {
        (Some(x), Some(y)) => Translated {
            pred: Some(mk(Box::new(x), Box::new(y))),
            exact: a.exact && b.exact,
        },
        _ => Translated::none(),
    }
}

/// What an attribute path names, for push-down purposes.
enum Target {
    Col(Col),
    EmailValue,
    EmailType,
    EmailPrimary,
    MemberValue,
    Emails,
    Members,
}

fn is_core_urn(kind: ResourceKind, urn: Option<&str>) -> bool {
    urn.is_none_or(|u| kind.resource_type().schema.id.eq_ignore_ascii_case(u))
}

fn target(kind: ResourceKind, path: &AttrPath) -> Option<Target> {
    if !is_core_urn(kind, path.urn.as_deref()) {
        return None;
    }
    let name = path.name.to_ascii_lowercase();
    let sub = path.sub_attr.as_deref().map(str::to_ascii_lowercase);
    let user = kind == ResourceKind::User;
    Some(match (name.as_str(), sub.as_deref()) {
        ("id", None) => Target::Col(Col::Id),
        ("externalid", None) => Target::Col(Col::ExternalId),
        ("username", None) if user => Target::Col(Col::UserName),
        ("displayname", None) => Target::Col(Col::DisplayName),
        ("active", None) if user => Target::Col(Col::Active),
        ("meta", Some("created")) => Target::Col(Col::Created),
        ("meta", Some("lastmodified")) => Target::Col(Col::LastModified),
        ("emails", Some("value")) if user => Target::EmailValue,
        ("emails", Some("type")) if user => Target::EmailType,
        ("emails", Some("primary")) if user => Target::EmailPrimary,
        ("emails", None) if user => Target::Emails,
        ("members", Some("value")) if !user => Target::MemberValue,
        ("members", None) if !user => Target::Members,
        _ => return None,
    })
}

/// The smallest string greater than every string with prefix `s` (in code-point order,
/// which is byte order for UTF-8), or `None` when there is none.
pub(crate) fn prefix_successor(s: &str) -> Option<String> {
    let mut chars: Vec<char> = s.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Escapes `%`, `_` and `\` for `LIKE … ESCAPE '\'`.
pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A string test for `op value`, and whether it is exact. `fold` lower-cases the value
/// (case-insensitive columns). `None` when the operator does not translate.
fn str_test(op: CompareOp, value: &CompValue, fold: bool) -> Option<(StrTest, bool)> {
    let CompValue::String(v) = value else {
        return None;
    };
    if v.contains('\0') {
        // PostgreSQL text cannot hold NUL: leave it to the evaluator. (`parse_filter`
        // refuses NUL, so only a `Filter` built in code gets here.)
        return None;
    }
    let v = if fold { v.to_lowercase() } else { v.clone() };
    Some(match op {
        CompareOp::Eq => (StrTest::Eq(v), true),
        CompareOp::Sw => {
            let hi = prefix_successor(&v);
            (StrTest::Range(v, hi), true)
        }
        // SQLite's LIKE ignores ASCII case: exact only on already lower-cased columns.
        CompareOp::Co => (StrTest::Like(format!("%{}%", escape_like(&v))), fold),
        CompareOp::Ew => (StrTest::Like(format!("%{}", escape_like(&v))), fold),
        CompareOp::Gt => (StrTest::Gt(v), true),
        CompareOp::Ge => (StrTest::Ge(v), true),
        CompareOp::Lt => (StrTest::Lt(v), true),
        CompareOp::Le => (StrTest::Le(v), true),
        CompareOp::Ne => return None,
    })
}

fn time_test(op: CompareOp, value: &CompValue) -> Option<TimeTest> {
    let CompValue::String(v) = value else {
        return None;
    };
    let t = scim_core::resource::parse_datetime(v)?.naive_utc();
    Some(match op {
        CompareOp::Eq => TimeTest::Eq(t),
        CompareOp::Gt => TimeTest::Gt(t),
        CompareOp::Ge => TimeTest::Ge(t),
        CompareOp::Lt => TimeTest::Lt(t),
        CompareOp::Le => TimeTest::Le(t),
        _ => return None,
    })
}

/// Trees deeper than this are not pushed down (a long `or` chain nests one level per
/// term, and lowering recurses per level): they are evaluated in Rust instead.
const MAX_PUSHDOWN_DEPTH: usize = 24;

fn depth(f: &Filter) -> usize {
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => 1 + depth(a).max(depth(b)),
        Filter::Not(a) | Filter::ValuePath(_, a) => 1 + depth(a),
        Filter::Compare(..) | Filter::Present(_) => 1,
    }
}

/// Translates a filter on `kind` into a pushed-down predicate.
pub(crate) fn translate(kind: ResourceKind, f: &Filter) -> Translated<Pred> {
    if depth(f) > MAX_PUSHDOWN_DEPTH {
        return Translated::none();
    }
    translate_tree(kind, f)
}

fn translate_tree(kind: ResourceKind, f: &Filter) -> Translated<Pred> {
    match f {
        Filter::And(a, b) => and(translate_tree(kind, a), translate_tree(kind, b), Pred::And),
        Filter::Or(a, b) => or(translate_tree(kind, a), translate_tree(kind, b), Pred::Or),
        Filter::Compare(path, op, value) => compare(kind, path, *op, value),
        Filter::ValuePath(path, inner) => match target(kind, path) {
            Some(Target::Emails) => {
                let t = translate_email(inner);
                Translated {
                    pred: t.pred.map(Pred::Email),
                    exact: t.exact,
                }
            }
            Some(Target::Members) => match inner.as_ref() {
                Filter::Compare(p, CompareOp::Eq, CompValue::String(v))
                    if p.urn.is_none()
                        && p.sub_attr.is_none()
                        && p.name.eq_ignore_ascii_case("value") =>
                {
                    Translated::exact(Pred::Member(v.clone()))
                }
                _ => Translated::none(),
            },
            _ => Translated::none(),
        },
        Filter::Not(_) | Filter::Present(_) => Translated::none(),
    }
}

fn compare(
    kind: ResourceKind,
    path: &AttrPath,
    op: CompareOp,
    value: &CompValue,
) -> Translated<Pred> {
    let Some(t) = target(kind, path) else {
        return Translated::none();
    };
    let str_pred = |col: Col, fold: bool| match str_test(op, value, fold) {
        Some((test, exact)) => Translated {
            pred: Some(Pred::Str(col, test)),
            exact,
        },
        None => Translated::none(),
    };
    match t {
        Target::Col(col @ (Col::Id | Col::ExternalId)) => str_pred(col, false),
        Target::Col(col @ (Col::UserName | Col::DisplayName)) => str_pred(col, true),
        Target::Col(Col::Active) => match (op, value) {
            (CompareOp::Eq, CompValue::Bool(b)) => Translated::exact(Pred::Bool(Col::Active, *b)),
            _ => Translated::none(),
        },
        Target::Col(col @ (Col::Created | Col::LastModified)) => match time_test(op, value) {
            Some(test) => Translated::exact(Pred::Time(col, test)),
            None => Translated::none(),
        },
        Target::EmailValue | Target::EmailType | Target::EmailPrimary => {
            let t = email_compare(&t, op, value);
            Translated {
                pred: t.pred.map(Pred::Email),
                exact: t.exact,
            }
        }
        Target::MemberValue => match (op, value) {
            (CompareOp::Eq, CompValue::String(v)) => Translated::exact(Pred::Member(v.clone())),
            _ => Translated::none(),
        },
        Target::Emails | Target::Members => Translated::none(),
    }
}

fn email_compare(t: &Target, op: CompareOp, value: &CompValue) -> Translated<EmailPred> {
    let mk = |f: fn(StrTest) -> EmailPred| match str_test(op, value, true) {
        Some((test, exact)) => Translated {
            pred: Some(f(test)),
            exact,
        },
        None => Translated::none(),
    };
    match t {
        Target::EmailValue => mk(EmailPred::Value),
        Target::EmailType => mk(EmailPred::Type),
        Target::EmailPrimary => match (op, value) {
            (CompareOp::Eq, CompValue::Bool(b)) => Translated::exact(EmailPred::Primary(*b)),
            _ => Translated::none(),
        },
        _ => Translated::none(),
    }
}

/// Translates the inner filter of `emails[...]` (paths are sub-attributes of one e-mail).
fn translate_email(f: &Filter) -> Translated<EmailPred> {
    match f {
        Filter::And(a, b) => and(translate_email(a), translate_email(b), EmailPred::And),
        Filter::Or(a, b) => or(translate_email(a), translate_email(b), EmailPred::Or),
        Filter::Compare(p, op, value) if p.urn.is_none() && p.sub_attr.is_none() => {
            let t = match p.name.to_ascii_lowercase().as_str() {
                "value" => Target::EmailValue,
                "type" => Target::EmailType,
                "primary" => Target::EmailPrimary,
                _ => return Translated::none(),
            };
            email_compare(&t, *op, value)
        }
        _ => Translated::none(),
    }
}

/// A boxed boolean SQL expression over `T`.
pub(crate) type BoxedPred<T> = Box<dyn BoxableExpression<T, Db, SqlType = Nullable<Bool>>>;

macro_rules! str_expr {
    ($col:expr, $test:expr) => {{
        let b: BoxedPred<_> = match $test.clone() {
            StrTest::Eq(v) => Box::new($col.eq(v).nullable()),
            StrTest::Range(lo, Some(hi)) => Box::new($col.ge(lo).and($col.lt(hi)).nullable()),
            StrTest::Range(lo, None) => Box::new($col.ge(lo).nullable()),
            StrTest::Like(p) => Box::new($col.like(p).escape('\\').nullable()),
            StrTest::Gt(v) => Box::new($col.gt(v).nullable()),
            StrTest::Ge(v) => Box::new($col.ge(v).nullable()),
            StrTest::Lt(v) => Box::new($col.lt(v).nullable()),
            StrTest::Le(v) => Box::new($col.le(v).nullable()),
        };
        b
    }};
}

macro_rules! time_expr {
    ($col:expr, $test:expr) => {{
        let b: BoxedPred<_> = match $test {
            TimeTest::Eq(t) => Box::new($col.eq(t).nullable()),
            TimeTest::Gt(t) => Box::new($col.gt(t).nullable()),
            TimeTest::Ge(t) => Box::new($col.ge(t).nullable()),
            TimeTest::Lt(t) => Box::new($col.lt(t).nullable()),
            TimeTest::Le(t) => Box::new($col.le(t).nullable()),
        };
        b
    }};
}

/// `value eq`, `type eq`, or both on the same row: the shapes lowered as an
/// `IN (SELECT user_id FROM user_emails …)` subquery of concrete column tests.
fn simple_email(p: &EmailPred) -> Option<(Option<String>, Option<String>)> {
    match p {
        EmailPred::Value(StrTest::Eq(v)) => Some((Some(v.clone()), None)),
        EmailPred::Type(StrTest::Eq(t)) => Some((None, Some(t.clone()))),
        EmailPred::And(a, b) => match (simple_email(a)?, simple_email(b)?) {
            ((Some(v), None), (None, Some(t))) | ((None, Some(t)), (Some(v), None)) => {
                Some((Some(v), Some(t)))
            }
            _ => None,
        },
        _ => None,
    }
}

/// At most this many user ids are materialised for an e-mail predicate; beyond it the
/// predicate is dropped from the SQL pre-filter (and evaluated in Rust).
const MATERIALIZE_CAP: i64 = 2000;

/// Replaces e-mail predicates of other shapes than [`simple_email`] by the user ids they
/// select (one indexed query each, capped); returns the predicate (`None` = every row) and
/// whether it is still exact.
pub(crate) fn materialize(
    conn: &mut super::AnyConnection,
    tenant_id: &str,
    p: Pred,
) -> crate::StoreResult<(Option<Pred>, bool)> {
    Ok(match p {
        Pred::Email(e) if simple_email(&e).is_some() => (Some(Pred::Email(e)), true),
        Pred::Email(e) => {
            let ids: Vec<String> = user_emails::table
                .filter(user_emails::tenant_id.eq(tenant_id.to_string()))
                .select(user_emails::user_id)
                .distinct()
                .into_boxed::<Db>()
                .filter(email_expr(&e))
                .limit(MATERIALIZE_CAP + 1)
                .load(conn)?;
            if i64::try_from(ids.len()).unwrap_or(i64::MAX) > MATERIALIZE_CAP {
                (None, false)
            } else {
                (Some(Pred::IdIn(ids)), true)
            }
        }
        Pred::And(a, b) => {
            let (a, ea) = materialize(conn, tenant_id, *a)?;
            let (b, eb) = materialize(conn, tenant_id, *b)?;
            let pred = match (a, b) {
                (Some(x), Some(y)) => Some(Pred::And(Box::new(x), Box::new(y))),
                (x, None) => x,
                (None, y) => y,
            };
            (pred, ea && eb)
        }
        Pred::Or(a, b) => {
            let (a, ea) = materialize(conn, tenant_id, *a)?;
            let (b, eb) = materialize(conn, tenant_id, *b)?;
            match (a, b) {
                (Some(x), Some(y)) => (Some(Pred::Or(Box::new(x), Box::new(y))), ea && eb),
                _ => (None, false),
            }
        }
        other => (Some(other), true),
    })
}

fn email_expr(p: &EmailPred) -> BoxedPred<user_emails::table> {
    match p {
        EmailPred::Value(t) => str_expr!(user_emails::value_lower, t),
        EmailPred::Type(t) => str_expr!(user_emails::email_type, t),
        EmailPred::Primary(b) => Box::new(user_emails::is_primary.eq(*b).nullable()),
        EmailPred::And(a, b) => Box::new(email_expr(a).and(email_expr(b))),
        EmailPred::Or(a, b) => Box::new(email_expr(a).or(email_expr(b))),
    }
}

/// Lowers a predicate to a SQL expression over `users` (tenant-scoped subqueries).
pub(crate) fn user_expr(tenant_id: &str, p: &Pred) -> BoxedPred<users::table> {
    match p {
        Pred::Str(Col::Id, t) => str_expr!(users::id, t),
        Pred::Str(Col::ExternalId, t) => str_expr!(users::external_id, t),
        Pred::Str(Col::UserName, t) => str_expr!(users::user_name_lower, t),
        Pred::Str(Col::DisplayName, t) => str_expr!(users::display_name_lower, t),
        Pred::Bool(_, b) => Box::new(users::active.eq(*b)),
        Pred::Time(Col::LastModified, t) => time_expr!(users::last_modified, *t),
        Pred::Time(_, t) => time_expr!(users::created, *t),
        Pred::Email(e) => match simple_email(e) {
            Some((Some(value), None)) => Box::new(
                users::id
                    .eq_any(
                        user_emails::table
                            .filter(user_emails::tenant_id.eq(tenant_id.to_string()))
                            .filter(user_emails::value_lower.eq(value))
                            .select(user_emails::user_id),
                    )
                    .nullable(),
            ),
            Some((None, Some(ty))) => Box::new(
                users::id
                    .eq_any(
                        user_emails::table
                            .filter(user_emails::tenant_id.eq(tenant_id.to_string()))
                            .filter(user_emails::email_type.eq(ty))
                            .select(user_emails::user_id),
                    )
                    .nullable(),
            ),
            Some((Some(value), Some(ty))) => Box::new(
                users::id
                    .eq_any(
                        user_emails::table
                            .filter(user_emails::tenant_id.eq(tenant_id.to_string()))
                            .filter(user_emails::value_lower.eq(value))
                            .filter(user_emails::email_type.eq(ty))
                            .select(user_emails::user_id),
                    )
                    .nullable(),
            ),
            // `materialize` replaces every other shape by `IdIn` before lowering; a
            // stray one selects every row (a superset, never a loss).
            _ => Box::new(users::id.eq(users::id).nullable()),
        },
        Pred::IdIn(ids) => Box::new(users::id.eq_any(ids.clone()).nullable()),
        Pred::And(a, b) => Box::new(user_expr(tenant_id, a).and(user_expr(tenant_id, b))),
        Pred::Or(a, b) => Box::new(user_expr(tenant_id, a).or(user_expr(tenant_id, b))),
        // Not produced for users.
        Pred::Str(_, _) | Pred::Member(_) => Box::new(users::id.ne(users::id).nullable()),
    }
}

/// Lowers a predicate to a SQL expression over `groups` (tenant-scoped subqueries).
pub(crate) fn group_expr(tenant_id: &str, p: &Pred) -> BoxedPred<groups::table> {
    match p {
        Pred::Str(Col::Id, t) => str_expr!(groups::id, t),
        Pred::Str(Col::ExternalId, t) => str_expr!(groups::external_id, t),
        Pred::Str(Col::DisplayName, t) => str_expr!(groups::display_name_lower, t),
        Pred::Time(Col::LastModified, t) => time_expr!(groups::last_modified, *t),
        Pred::Time(_, t) => time_expr!(groups::created, *t),
        Pred::Member(m) => Box::new(
            groups::id
                .eq_any(
                    group_members::table
                        .filter(group_members::tenant_id.eq(tenant_id.to_string()))
                        .filter(group_members::member_id.eq(m.clone()))
                        .select(group_members::group_id),
                )
                .nullable(),
        ),
        Pred::And(a, b) => Box::new(group_expr(tenant_id, a).and(group_expr(tenant_id, b))),
        Pred::Or(a, b) => Box::new(group_expr(tenant_id, a).or(group_expr(tenant_id, b))),
        // Not produced for groups.
        Pred::Str(_, _) | Pred::Bool(_, _) | Pred::Email(_) | Pred::IdIn(_) => {
            Box::new(groups::id.ne(groups::id).nullable())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successor_and_escape() {
        assert_eq!(prefix_successor("abc").as_deref(), Some("abd"));
        assert_eq!(prefix_successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_successor(""), None);
        assert_eq!(escape_like("a%b_c\\"), "a\\%b\\_c\\\\");
    }

    #[test]
    fn or_with_untranslatable_side_is_superset() {
        let f = Filter::Or(
            Box::new(Filter::Compare(
                AttrPath::new("userName"),
                CompareOp::Eq,
                CompValue::String("A".into()),
            )),
            Box::new(Filter::Compare(
                AttrPath::new("title"),
                CompareOp::Eq,
                CompValue::String("x".into()),
            )),
        );
        let t = translate(ResourceKind::User, &f);
        assert!(t.pred.is_none() && !t.exact);
        let g = Filter::And(
            Box::new(Filter::Compare(
                AttrPath::new("userName"),
                CompareOp::Eq,
                CompValue::String("A".into()),
            )),
            Box::new(Filter::Compare(
                AttrPath::new("title"),
                CompareOp::Eq,
                CompValue::String("x".into()),
            )),
        );
        let t = translate(ResourceKind::User, &g);
        assert_eq!(
            t.pred,
            Some(Pred::Str(Col::UserName, StrTest::Eq("a".into())))
        );
        assert!(!t.exact);
    }
}
