//! SCIM filters (RFC 7644 §3.4.2.2): the AST, a parser, a printer that round-trips, and an
//! evaluator over JSON resources that honours the schema.
//!
//! - [`parse_filter`] (or `str::parse::<Filter>()`) turns filter text into a [`Filter`];
//!   malformed text is `invalidFilter` with the byte offset and reason in the detail.
//! - `Display` prints a canonical form that parses back to the same [`Filter`].
//! - [`matches()`], [`matches_value`] and [`CompiledFilter`] evaluate a filter over JSON.

mod ast;
mod eval;
mod parse;
mod print;

pub use ast::{AttrPath, CompValue, CompareOp, Filter};
pub use eval::{CompiledFilter, matches, matches_value, validate_filter};
pub use parse::{MAX_FILTER_DEPTH, MAX_FILTER_LEN, parse_filter};

pub(crate) use parse::{Cx, Fail, attr_name, ws0};
