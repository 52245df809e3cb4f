//! SCIM filters (RFC 7644 §3.4.2.2): the AST, a parser, a printer that round-trips, and an
//! evaluator over JSON resources that honours the schema.

mod ast;

pub use ast::{AttrPath, CompValue, CompareOp, Filter};
