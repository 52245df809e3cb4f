//! The canonical printer: `Display` for [`Filter`], [`AttrPath`] and [`CompValue`].
//!
//! The output parses back to the same AST: operators and literals are lower case, strings
//! are JSON-escaped by serde_json, numbers keep their JSON form, `not` is always written
//! `not (...)`, and parentheses are added exactly where precedence (`not` > `and` > `or`,
//! both left-associative) needs them.

use super::ast::{AttrPath, CompValue, Filter};
use std::fmt;

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(true) => f.write_str("true"),
            CompValue::Bool(false) => f.write_str("false"),
            CompValue::Number(n) => write!(f, "{n}"),
            CompValue::String(s) => {
                let quoted = serde_json::to_string(s).map_err(|_| fmt::Error)?;
                f.write_str(&quoted)
            }
        }
    }
}

/// Binding strength: `or` 1, `and` 2, everything else 3.
fn precedence(filter: &Filter) -> u8 {
    match filter {
        Filter::Or(..) => 1,
        Filter::And(..) => 2,
        _ => 3,
    }
}

fn write_operand(f: &mut fmt::Formatter<'_>, filter: &Filter, min: u8) -> fmt::Result {
    if precedence(filter) < min {
        write!(f, "({filter})")
    } else {
        write!(f, "{filter}")
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare(path, op, value) => write!(f, "{path} {} {value}", op.as_str()),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::And(l, r) => {
                write_operand(f, l, 2)?;
                f.write_str(" and ")?;
                write_operand(f, r, 3)
            }
            Filter::Or(l, r) => {
                write_operand(f, l, 1)?;
                f.write_str(" or ")?;
                write_operand(f, r, 2)
            }
            Filter::ValuePath(path, inner) => write!(f, "{path}[{inner}]"),
        }
    }
}
