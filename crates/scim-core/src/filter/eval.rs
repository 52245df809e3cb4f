//! The filter evaluator: decides whether a JSON resource (or one value of a multi-valued
//! attribute) matches a [`Filter`], following the attribute characteristics of the schema.
//!
//! A filter is first *compiled* against a resource type ([`CompiledFilter::new`]) or
//! against one attribute ([`CompiledFilter::for_value`]): paths are resolved in the schema
//! and comparison values are checked and prepared once. Every `invalidFilter` error is
//! raised there, so whether a filter is acceptable never depends on the data it meets
//! (a filter is rejected even when no resource exists). Evaluating a compiled filter
//! cannot fail. [`matches()`] and [`matches_value`] compile and evaluate in one call.
//!
//! # Semantics
//!
//! - **Input.** Any JSON document: the output of `Resource::to_json`, or plain JSON from
//!   another service. Keys are looked up ignoring case. Extension attributes are read
//!   from under their schema URN key (`{"urn:...:enterprise:2.0:User": {"manager": ...}}`),
//!   falling back to a flat `"urn:...:User:manager"` key and then to a top-level key.
//! - **Unknown attributes** (not in the schema, an unknown schema URN, an unknown
//!   sub-attribute): every test on them is false: `eq`, `ne`, `co`, ..., and `pr`. It is
//!   not an error. `not (...)` around such a test is therefore true.
//! - **Strings** (`string`, `reference`, `binary`): compared with the attribute's
//!   `caseExact` (`userName`, `emails.value` ignore case; `id`, `externalId`, `members.value`
//!   do not). Ignoring case means comparing Unicode lower-case forms. `gt`/`ge`/`lt`/`le`
//!   are lexicographic (code point order). A number or boolean literal is compared by its
//!   JSON text.
//! - **dateTime** (`meta.lastModified`): `eq`, `ne` and the ordering operators compare
//!   chronologically (`"2011-05-13T04:42:34Z"` equals `"2011-05-13T04:42:34.000Z"`); the
//!   literal must be a valid `xsd:dateTime` (`invalidFilter` otherwise). `co`/`sw`/`ew`
//!   compare the text.
//! - **integer / decimal**: compared numerically (a numeric string literal is accepted).
//! - **boolean**: only `eq`/`ne`; the literal is `true`/`false` or the strings `"True"` /
//!   `"False"` in any case (Entra's `primary eq "True"`), and data values may be JSON
//!   booleans or such strings. Other operators are `invalidFilter`, as are `gt`/`ge`/
//!   `lt`/`le` on `binary`.
//! - **Complex attributes without a sub-attribute**: `emails co "x"` means `emails.value`
//!   (likewise Entra's `manager eq "id"`, and a bare-string manager is its own value) for
//!   `eq`, `ne`, `co`, `sw` and `ew`; `gt`/`ge`/`lt`/`le` on them are `invalidFilter`.
//!   A complex attribute without a `value` sub-attribute (`name`, `meta`) accepts only `pr`
//!   and `eq null`/`ne null`; comparing it otherwise is `invalidFilter`.
//! - **Multi-valued attributes** match when *any* value matches. `ne` is the negation of
//!   `eq`: `emails.type ne "work"` holds when *no* email has type `work`, and holds when the
//!   attribute is absent.
//! - **`pr`** is false for absent, `null`, `""`, `[]`, `{}` and for objects or arrays that
//!   contain only such values.
//! - **`null` literals**: `eq null` means "not present", `ne null` means "present"; other
//!   operators with `null` are `invalidFilter`.
//! - **Value paths** `emails[type eq "work" and value co "@x"]`: the inner filter must hold
//!   for one and the same value.
//!
//! ```
//! use scim_core::filter::{matches, parse_filter};
//! use scim_core::ResourceKind;
//! use serde_json::json;
//!
//! // Another service filters its own user records, shaped loosely like SCIM users.
//! let filter = parse_filter(
//!     r#"emails[type eq "work"].value eq "ADA@example.com" and active eq "True""#,
//! )?;
//! let user = json!({
//!     "userName": "ada",
//!     "Emails": [{"type": "work", "value": "ada@example.com"}],
//!     "active": true
//! });
//! assert!(matches(&filter, ResourceKind::User.resource_type(), &user)?);
//! # Ok::<(), scim_core::ScimError>(())
//! ```

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use super::parse::parse_filter;
use crate::error::{ScimError, ScimResult};
use crate::resource::parse_datetime;
use crate::schema::{AttributeDef, AttributeType, ResourceType};
use chrono::{DateTime, Utc};
use serde_json::{Map, Number, Value};
use std::cmp::Ordering;

/// Whether `resource` (a full SCIM resource document or similar JSON) matches `filter`,
/// with paths resolved in `rt`.
///
/// Fails with `invalidFilter` when the filter compares attributes in a way the schema
/// does not support (see the module documentation). To test many resources, compile once
/// with [`CompiledFilter::new`].
pub fn matches(filter: &Filter, rt: &ResourceType, resource: &Value) -> ScimResult<bool> {
    Ok(CompiledFilter::new(filter, rt)?.matches(resource))
}

/// Whether one value of the multi-valued (or complex) attribute `attr` matches the value
/// filter `filter`, whose paths name sub-attributes of `attr` (`value`, `type`, ...).
///
/// This is what PATCH uses for `members[value eq "2819c223"]`.
///
/// ```
/// use scim_core::filter::{matches_value, parse_filter};
/// use scim_core::schema::GROUP;
/// let members = GROUP.attribute("members").unwrap();
/// let f = parse_filter(r#"value eq "2819c223""#).unwrap();
/// assert!(matches_value(&f, members, &serde_json::json!({"value": "2819c223"})).unwrap());
/// assert!(!matches_value(&f, members, &serde_json::json!({"value": "2819C223"})).unwrap());
/// ```
pub fn matches_value(
    filter: &Filter,
    attr: &'static AttributeDef,
    value: &Value,
) -> ScimResult<bool> {
    Ok(CompiledFilter::for_value(filter, attr)?.matches(value))
}

/// Checks that `filter` can be evaluated against resources of type `rt`, without any
/// data: the same `invalidFilter` errors [`matches()`] would raise.
pub fn validate_filter(filter: &Filter, rt: &ResourceType) -> ScimResult<()> {
    CompiledFilter::new(filter, rt).map(|_| ())
}

/// A filter resolved against a schema, ready to test any number of JSON values.
///
/// ```
/// use scim_core::filter::CompiledFilter;
/// use scim_core::ResourceKind;
/// use serde_json::json;
/// let f = CompiledFilter::parse(
///     r#"userName eq "BJensen" and meta.lastModified gt "2011-05-13T04:42:34Z""#,
///     ResourceKind::User.resource_type(),
/// )?;
/// let users = [
///     json!({"userName": "bjensen", "meta": {"lastModified": "2012-01-01T00:00:00Z"}}),
///     json!({"userName": "bjensen", "meta": {"lastModified": "2010-01-01T00:00:00Z"}}),
/// ];
/// let hits: Vec<bool> = users.iter().map(|u| f.matches(u)).collect();
/// assert_eq!(hits, [true, false]);
/// # Ok::<(), scim_core::ScimError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CompiledFilter {
    node: Node,
}

impl CompiledFilter {
    /// Compiles a filter over resources of type `rt`.
    pub fn new(filter: &Filter, rt: &ResourceType) -> ScimResult<Self> {
        Ok(CompiledFilter {
            node: compile(filter, Ctx::Resource(rt))?,
        })
    }

    /// Compiles a value filter over single values of `attr` (see [`matches_value`]).
    pub fn for_value(filter: &Filter, attr: &'static AttributeDef) -> ScimResult<Self> {
        Ok(CompiledFilter {
            node: compile(filter, Ctx::Element(attr))?,
        })
    }

    /// Parses and compiles a filter over resources of type `rt`.
    pub fn parse(filter: &str, rt: &ResourceType) -> ScimResult<Self> {
        Self::new(&parse_filter(filter)?, rt)
    }

    /// Whether `value` matches: a resource document for [`CompiledFilter::new`], one
    /// attribute value for [`CompiledFilter::for_value`].
    pub fn matches(&self, value: &Value) -> bool {
        self.node.eval(value)
    }
}

/// What a path is resolved against.
#[derive(Clone, Copy)]
enum Ctx<'a> {
    /// A resource document of this type.
    Resource(&'a ResourceType),
    /// One value of this attribute.
    Element(&'static AttributeDef),
}

/// Where the values of a path are found, relative to the evaluated JSON.
#[derive(Debug, Clone)]
struct Access {
    root: Root,
    /// The attribute (or, in an element, the sub-attribute) key; `None` for the element
    /// itself (a simple multi-valued attribute's `value`).
    attr: Option<&'static str>,
    /// The sub-attribute key.
    sub: Option<&'static str>,
    /// Read the `value` sub-attribute of complex values (`emails co "x"`).
    implicit_value: bool,
}

#[derive(Debug, Clone)]
enum Root {
    /// Top level of a resource; extension attributes under their URN key, or under a flat
    /// `urn:...:attr` key.
    Resource {
        extension: Option<&'static str>,
        flat_key: Option<String>,
    },
    /// One value of a multi-valued or complex attribute.
    Element,
}

/// A prepared comparison, applied to each value of a path.
#[derive(Debug, Clone)]
enum Test {
    /// String comparison; `fold` means both sides are compared in lower case (the needle
    /// is stored folded).
    Str {
        op: CompareOp,
        needle: String,
        fold: bool,
    },
    /// Boolean equality.
    Bool(bool),
    /// Numeric comparison.
    Num { op: CompareOp, n: Num },
    /// Chronological comparison.
    Date { op: CompareOp, t: DateTime<Utc> },
}

#[derive(Debug, Clone)]
enum Node {
    Const(bool),
    /// Any value of the path passes the test.
    Test(Access, Test),
    /// The path has a non-empty value.
    Present(Access),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    /// Some value of the path matches the inner node, evaluated on that value.
    Each(Access, Box<Node>),
}

#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

fn compile(filter: &Filter, ctx: Ctx<'_>) -> ScimResult<Node> {
    Ok(match filter {
        Filter::Not(inner) => Node::Not(Box::new(compile(inner, ctx)?)),
        Filter::And(l, r) => Node::And(Box::new(compile(l, ctx)?), Box::new(compile(r, ctx)?)),
        Filter::Or(l, r) => Node::Or(Box::new(compile(l, ctx)?), Box::new(compile(r, ctx)?)),
        Filter::Present(path) => match resolve(path, ctx) {
            Some((access, _)) => Node::Present(access),
            None => Node::Const(false),
        },
        Filter::ValuePath(path, inner) => match resolve(path, ctx) {
            Some((access, leaf)) => {
                Node::Each(access, Box::new(compile(inner, Ctx::Element(leaf))?))
            }
            None => Node::Const(false),
        },
        Filter::Compare(path, op, value) => {
            let Some((mut access, mut leaf)) = resolve(path, ctx) else {
                return Ok(Node::Const(false));
            };
            if *value == CompValue::Null {
                return match op {
                    CompareOp::Eq => Ok(Node::Not(Box::new(Node::Present(access)))),
                    CompareOp::Ne => Ok(Node::Present(access)),
                    _ => Err(ScimError::invalid_filter(format!(
                        "'{path} {}' cannot compare with null; use 'pr' or 'eq null'",
                        op.as_str()
                    ))),
                };
            }
            if leaf.is_complex() && op.is_ordering() {
                return Err(ScimError::invalid_filter(format!(
                    "'{}' is not supported on '{path}': it is a complex attribute; order by one of its sub-attributes",
                    op.as_str()
                )));
            }
            if leaf.is_complex() {
                match leaf.sub_attribute("value") {
                    Some(value_def) => {
                        access.implicit_value = true;
                        leaf = value_def;
                    }
                    None => {
                        let example = leaf.sub_attributes.first().map_or("value", |d| d.name);
                        return Err(ScimError::invalid_filter(format!(
                            "'{path}' is a complex attribute; compare one of its sub-attributes, such as '{path}.{example}'"
                        )));
                    }
                }
            }
            let eq_op = if *op == CompareOp::Ne {
                CompareOp::Eq
            } else {
                *op
            };
            let test = Node::Test(access, prepare(path, leaf, eq_op, value)?);
            if *op == CompareOp::Ne {
                Node::Not(Box::new(test))
            } else {
                test
            }
        }
    })
}

/// Resolves a path in the schema: where its values are, and the definition of the
/// attribute (or sub-attribute) it names. `None` when the schema does not know it.
fn resolve(path: &AttrPath, ctx: Ctx<'_>) -> Option<(Access, &'static AttributeDef)> {
    let (root, attr, def) = match ctx {
        Ctx::Resource(rt) => {
            let resolved = rt.resolve(path.urn.as_deref(), &path.name)?;
            let flat_key = resolved
                .extension
                .map(|ext| format!("{ext}:{}", resolved.def.name));
            let root = Root::Resource {
                extension: resolved.extension,
                flat_key,
            };
            (root, Some(resolved.def.name), resolved.def)
        }
        Ctx::Element(parent) => {
            if path.urn.is_some() {
                return None;
            }
            match parent.sub_attribute(&path.name) {
                Some(def) => (Root::Element, Some(def.name), def),
                None if !parent.is_complex() && path.name.eq_ignore_ascii_case("value") => {
                    (Root::Element, None, parent)
                }
                None => return None,
            }
        }
    };
    let (sub, leaf) = match &path.sub_attr {
        Some(name) => {
            let sub = def.sub_attribute(name)?;
            (Some(sub.name), sub)
        }
        None => (None, def),
    };
    let access = Access {
        root,
        attr,
        sub,
        implicit_value: false,
    };
    Some((access, leaf))
}

/// Checks a comparison against the attribute's type and prepares its value.
fn prepare(
    path: &AttrPath,
    def: &'static AttributeDef,
    op: CompareOp,
    value: &CompValue,
) -> ScimResult<Test> {
    let op_name = op.as_str();
    let unsupported = |why: &str| {
        ScimError::invalid_filter(format!("'{op_name}' is not supported on '{path}': {why}"))
    };
    let literal_text = || match value {
        CompValue::String(s) => s.clone(),
        other => other.to_string(),
    };
    match def.ty {
        AttributeType::Boolean => {
            if op != CompareOp::Eq {
                return Err(unsupported("it is a boolean (only eq and ne apply)"));
            }
            let b = match value {
                CompValue::Bool(b) => Some(*b),
                CompValue::String(s) => parse_bool(s),
                _ => None,
            };
            b.map(Test::Bool).ok_or_else(|| {
                ScimError::invalid_filter(format!(
                    "'{path}' is a boolean; compare it with true or false, not {value}"
                ))
            })
        }
        AttributeType::Integer | AttributeType::Decimal => {
            if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                return Err(unsupported("it is a number"));
            }
            let n = match value {
                CompValue::Number(n) => num_of(n),
                CompValue::String(s) => s.trim().parse::<Number>().ok().and_then(|n| num_of(&n)),
                _ => None,
            };
            n.map(|n| Test::Num { op, n }).ok_or_else(|| {
                ScimError::invalid_filter(format!(
                    "'{path}' is a number; compare it with a number, not {value}"
                ))
            })
        }
        AttributeType::DateTime => match op {
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => Ok(Test::Str {
                op,
                needle: literal_text(),
                fold: false,
            }),
            _ => {
                let t = match value {
                    CompValue::String(s) => parse_datetime(s),
                    _ => None,
                };
                t.map(|t| Test::Date { op, t }).ok_or_else(|| {
                    ScimError::invalid_filter(format!(
                        "'{path}' is a dateTime; compare it with a quoted xsd:dateTime such as \"2011-05-13T04:42:34Z\", not {value}"
                    ))
                })
            }
        },
        AttributeType::Binary if op.is_ordering() => Err(unsupported("it is binary")),
        AttributeType::Complex => Err(unsupported("it is a complex attribute")),
        AttributeType::String | AttributeType::Reference | AttributeType::Binary => {
            let fold = !def.case_exact;
            let text = literal_text();
            let needle = if fold { fold_case(&text) } else { text };
            Ok(Test::Str { op, needle, fold })
        }
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn fold_case(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

fn num_of(n: &Number) -> Option<Num> {
    if let Some(i) = n.as_i64() {
        Some(Num::Int(i128::from(i)))
    } else if let Some(u) = n.as_u64() {
        Some(Num::Int(i128::from(u)))
    } else {
        n.as_f64().map(Num::Float)
    }
}

fn num_cmp(a: Num, b: Num) -> Option<Ordering> {
    let float = |n: Num| match n {
        // Precision loss is acceptable only when one side is not an integer anyway.
        #[allow(clippy::cast_precision_loss)]
        Num::Int(i) => i as f64,
        Num::Float(f) => f,
    };
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        _ => float(a).partial_cmp(&float(b)),
    }
}

/// Whether an ordering satisfies `op` (`eq` and the ordering operators).
fn ordering_holds(op: CompareOp, ord: Ordering) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Ne | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// A JSON object member by key, exact match first, then ignoring ASCII case.
fn get_ci<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn member<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    value.as_object().and_then(|o| get_ci(o, key))
}

/// Calls `f` on the value, or on each item of an array, until it returns true.
fn any_item(value: &Value, f: &mut dyn FnMut(&Value) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(f),
        other => f(other),
    }
}

fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(members) => members.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

impl Access {
    /// The attribute's value (before sub-attribute and array handling).
    fn top<'v>(&self, ctx: &'v Value) -> Option<&'v Value> {
        match &self.root {
            Root::Resource {
                extension,
                flat_key,
            } => {
                let obj = ctx.as_object()?;
                let attr = self.attr?;
                match extension {
                    None => get_ci(obj, attr),
                    Some(ext) => get_ci(obj, ext)
                        .and_then(|e| member(e, attr))
                        .or_else(|| flat_key.as_deref().and_then(|k| get_ci(obj, k)))
                        .or_else(|| get_ci(obj, attr)),
                }
            }
            Root::Element => match self.attr {
                None => Some(ctx),
                Some(attr) => match ctx {
                    Value::Object(o) => get_ci(o, attr),
                    // A bare value stands for its `value` sub-attribute.
                    other if attr.eq_ignore_ascii_case("value") => Some(other),
                    _ => None,
                },
            },
        }
    }

    /// Calls `f` on each value the path designates, until it returns true.
    fn any(&self, ctx: &Value, f: &mut dyn FnMut(&Value) -> bool) -> bool {
        let Some(top) = self.top(ctx) else {
            return false;
        };
        any_item(top, &mut |item| match self.sub {
            Some(sub) => member(item, sub).is_some_and(|v| any_item(v, f)),
            None if self.implicit_value => match item {
                Value::Object(o) => get_ci(o, "value").is_some_and(|v| any_item(v, f)),
                bare => f(bare),
            },
            None => f(item),
        })
    }
}

impl Test {
    fn holds(&self, value: &Value) -> bool {
        match self {
            Test::Str { op, needle, fold } => {
                let Some(s) = value.as_str() else {
                    return false;
                };
                if *fold {
                    if *op == CompareOp::Eq {
                        // The needle is folded already; for ASCII text ASCII folding is
                        // the same as Unicode folding and needs no allocation.
                        if s.is_ascii() && needle.is_ascii() {
                            return s.eq_ignore_ascii_case(needle);
                        }
                        return s.chars().flat_map(char::to_lowercase).eq(needle.chars());
                    }
                    str_holds(*op, &fold_case(s), needle)
                } else {
                    str_holds(*op, s, needle)
                }
            }
            Test::Bool(b) => match value {
                Value::Bool(v) => v == b,
                Value::String(s) => parse_bool(s) == Some(*b),
                _ => false,
            },
            Test::Num { op, n } => {
                let v = match value {
                    Value::Number(v) => num_of(v),
                    Value::String(s) => s.trim().parse::<Number>().ok().and_then(|v| num_of(&v)),
                    _ => None,
                };
                v.and_then(|v| num_cmp(v, *n))
                    .is_some_and(|ord| ordering_holds(*op, ord))
            }
            Test::Date { op, t } => value
                .as_str()
                .and_then(parse_datetime)
                .is_some_and(|v| ordering_holds(*op, v.cmp(t))),
        }
    }
}

fn str_holds(op: CompareOp, s: &str, needle: &str) -> bool {
    match op {
        CompareOp::Co => s.contains(needle),
        CompareOp::Sw => s.starts_with(needle),
        CompareOp::Ew => s.ends_with(needle),
        _ => ordering_holds(op, s.cmp(needle)),
    }
}

impl Node {
    fn eval(&self, ctx: &Value) -> bool {
        match self {
            Node::Const(b) => *b,
            Node::Test(access, test) => access.any(ctx, &mut |v| test.holds(v)),
            Node::Present(access) => access.any(ctx, &mut is_present),
            Node::Not(inner) => !inner.eval(ctx),
            Node::And(l, r) => l.eval(ctx) && r.eval(ctx),
            Node::Or(l, r) => l.eval(ctx) || r.eval(ctx),
            Node::Each(access, inner) => access.any(ctx, &mut |v| inner.eval(v)),
        }
    }
}
