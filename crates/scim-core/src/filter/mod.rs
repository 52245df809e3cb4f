//! SCIM filters (RFC 7644 §3.4.2.2): the AST, a parser, a printer that round-trips, and an
//! evaluator over JSON resources that honours the schema.

mod ast;
mod parse;
mod print;

pub use ast::{AttrPath, CompValue, CompareOp, Filter};
pub use parse::{MAX_FILTER_DEPTH, MAX_FILTER_LEN, parse_filter};

pub(crate) use parse::{Cx, Fail, attr_name, ws0};
