//! The filter parser (RFC 7644 §3.4.2.2), built on winnow 1.x, and the shared pieces the
//! PATCH path parser reuses (attribute names, value filters in brackets).
//!
//! Grammar (whitespace is any run of ASCII whitespace; keywords, operators and literals
//! ignore case; attribute names keep the case the client wrote):
//!
//! ```text
//! filter    = or-expr
//! or-expr   = and-expr *(WS "or" WS and-expr)           ; left-associative
//! and-expr  = unary *(WS "and" WS unary)                ; left-associative
//! unary     = "not" [WS] "(" or-expr ")" / "(" or-expr ")" / attr-expr
//! attr-expr = attrPath WS "pr"
//!           / attrPath WS compareOp WS compValue
//!           / attrPath "[" or-expr "]"                   ; value filter, not nested
//!           / attrPath "[" or-expr "]" "." name WS ("pr" / compareOp WS compValue)
//! attrPath  = [URN ":"] name ["." name]                  ; URN split at its last ':'
//! name      = ALPHA *(ALPHA / DIGIT / "-" / "_") / "$ref"
//! compValue = JSON string / JSON number / true / false / null
//! ```
//!
//! The last `attr-expr` form is Entra's `emails[type eq "work"].value eq "x"`; it becomes
//! `emails[type eq "work" and value eq "x"]`.
//!
//! Input longer than [`MAX_FILTER_LEN`] bytes, or nesting (parentheses, `not`, brackets)
//! deeper than [`MAX_FILTER_DEPTH`], is rejected, so no input can exhaust the stack; so is
//! a NUL character anywhere (no stored value can hold one).

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::error::{ScimError, ScimResult};
use std::str::FromStr;
use winnow::Parser;
use winnow::ascii::Caseless;
use winnow::combinator::{alt, not, opt, repeat, terminated};
use winnow::token::{any, literal, one_of, take_till, take_while};

/// The longest filter (or PATCH path) accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;

/// The deepest nesting of parentheses, `not (...)` and value-filter brackets accepted.
pub const MAX_FILTER_DEPTH: usize = 64;

/// Parses a SCIM filter.
///
/// Every malformed filter is a 400 `invalidFilter` error whose detail names the byte
/// offset and the reason.
///
/// ```
/// use scim_core::filter::{parse_filter, AttrPath, CompValue, CompareOp, Filter};
/// let f = parse_filter(r#"userName Eq "bjensen""#).unwrap();
/// assert_eq!(
///     f,
///     Filter::Compare(AttrPath::new("userName"), CompareOp::Eq, CompValue::String("bjensen".into()))
/// );
/// let err = parse_filter("userName xx \"b\"").unwrap_err();
/// assert_eq!(err.scim_type(), Some(scim_core::ScimType::InvalidFilter));
/// assert!(err.detail().contains("offset 9"), "{}", err.detail());
/// ```
pub fn parse_filter(s: &str) -> ScimResult<Filter> {
    parse_filter_inner(s).map_err(|e| ScimError::invalid_filter(e.detail()))
}

impl FromStr for Filter {
    type Err = ScimError;

    fn from_str(s: &str) -> ScimResult<Self> {
        parse_filter(s)
    }
}

fn parse_filter_inner(s: &str) -> Result<Filter, Fail> {
    if s.len() > MAX_FILTER_LEN {
        return Err(Fail::new(
            MAX_FILTER_LEN,
            format!(
                "the filter is {} bytes long; at most {MAX_FILTER_LEN} are accepted",
                s.len()
            ),
        ));
    }
    if let Some(at) = s.find('\0') {
        // Nothing stored can contain NUL (see `crate::limits`), and PostgreSQL cannot
        // even compare with it.
        return Err(Fail::new(
            at,
            format!("the filter contains a NUL character (U+0000) at offset {at}"),
        ));
    }
    let cx = Cx { src: s };
    let mut i = s;
    ws0(&mut i);
    if i.is_empty() {
        return Err(Fail::new(0, "the filter is empty (offset 0)".to_string()));
    }
    let f = cx.or_expr(&mut i, 0, false)?;
    ws0(&mut i);
    if !i.is_empty() {
        return Err(cx.fail(
            i,
            "expected 'and', 'or' or the end of the filter".to_string(),
        ));
    }
    Ok(f)
}

/// A parse failure: a byte offset and a message that already names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fail {
    /// The byte offset into the parsed text.
    pub(crate) offset: usize,
    /// The reason, ending with `at offset N` and what was found there.
    pub(crate) message: String,
}

impl Fail {
    fn new(offset: usize, message: String) -> Self {
        Fail { offset, message }
    }

    /// The error detail for a [`ScimError`].
    pub(crate) fn detail(&self) -> String {
        self.message.clone()
    }
}

/// The parsing context: the whole source, so that offsets can be reported.
#[derive(Clone, Copy)]
pub(crate) struct Cx<'s> {
    pub(crate) src: &'s str,
}

/// Whether a character may continue an attribute name.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Skips ASCII whitespace; returns how many bytes were skipped.
pub(crate) fn ws0(i: &mut &str) -> usize {
    let r: winnow::Result<&str> = take_while(0.., |c: char| c.is_ascii_whitespace()).parse_next(i);
    r.map_or(0, str::len)
}

/// An attribute name: `ALPHA *(nameChar)` or `$ref` (any case).
pub(crate) fn attr_name<'s>(i: &mut &'s str) -> winnow::Result<&'s str> {
    alt((
        terminated(literal(Caseless("$ref")), not(one_of(is_name_char))),
        (
            one_of(|c: char| c.is_ascii_alphabetic()),
            take_while(0.., is_name_char),
        )
            .take(),
    ))
    .parse_next(i)
}

/// A keyword (`and`, `or`, `not`) in any case, not followed by a name character.
fn keyword(i: &mut &str, kw: &'static str) -> bool {
    let save = *i;
    let r: winnow::Result<&str> =
        terminated(literal(Caseless(kw)), not(one_of(is_name_char))).parse_next(i);
    if r.is_err() {
        *i = save;
    }
    r.is_ok()
}

/// A run of name characters (a word such as an operator or a literal).
fn word<'s>(i: &mut &'s str) -> &'s str {
    let r: winnow::Result<&str> = take_while(0.., is_name_char).parse_next(i);
    r.unwrap_or_default()
}

/// The lexeme of a JSON string, quotes included; fails if it is not terminated.
fn string_lexeme<'s>(i: &mut &'s str) -> winnow::Result<&'s str> {
    (
        '"',
        repeat::<_, _, (), _, _>(
            0..,
            alt((take_till(1.., ['"', '\\']).void(), ('\\', any).void())),
        ),
        '"',
    )
        .take()
        .parse_next(i)
}

/// The lexeme of a JSON number.
fn number_lexeme<'s>(i: &mut &'s str) -> winnow::Result<&'s str> {
    let digits = |i: &mut &'s str| -> winnow::Result<&'s str> {
        take_while(1.., |c: char| c.is_ascii_digit()).parse_next(i)
    };
    (
        opt('-'),
        alt((
            terminated('0', not(one_of(|c: char| c.is_ascii_digit()))).void(),
            (
                one_of('1'..='9'),
                take_while(0.., |c: char| c.is_ascii_digit()),
            )
                .void(),
        )),
        opt(('.', digits)),
        opt((one_of(['e', 'E']), opt(one_of(['+', '-'])), digits)),
    )
        .take()
        .parse_next(i)
}

/// A short, char-boundary-safe excerpt of the remaining input for messages.
fn excerpt(i: &str) -> String {
    let mut out: String = i.chars().take(20).collect();
    if out.len() < i.len() {
        out.push('…');
    }
    out
}

impl<'s> Cx<'s> {
    /// The byte offset of the remaining input `i` within the source.
    pub(crate) fn offset(&self, i: &str) -> usize {
        self.src.len().saturating_sub(i.len())
    }

    /// A failure at the current position, saying what was found there.
    pub(crate) fn fail(&self, i: &str, what: String) -> Fail {
        let offset = self.offset(i);
        let found = if i.is_empty() {
            " (end of input)".to_string()
        } else {
            format!(", found '{}'", excerpt(i))
        };
        Fail::new(offset, format!("{what} at offset {offset}{found}"))
    }

    /// The rest of the source from a byte offset (empty if the offset is not valid).
    fn suffix(&self, offset: usize) -> &'s str {
        self.src.get(offset..).unwrap_or_default()
    }

    /// The source text between two offsets.
    fn text(&self, from: usize, to: usize) -> &'s str {
        self.src.get(from..to).unwrap_or_default()
    }

    /// Whether the byte before the current position closes a token that needs no
    /// following whitespace (`)`, `]` or a string's `"`).
    fn after_closer(&self, i: &str) -> bool {
        self.text(0, self.offset(i)).ends_with([')', ']', '"'])
    }

    fn check_depth(&self, i: &str, depth: usize) -> Result<(), Fail> {
        if depth >= MAX_FILTER_DEPTH {
            return Err(self.fail(
                i,
                format!("the filter nests deeper than {MAX_FILTER_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    /// `or-expr`: a left-associative chain of `and-expr`s.
    pub(crate) fn or_expr(
        &self,
        i: &mut &'s str,
        depth: usize,
        in_brackets: bool,
    ) -> Result<Filter, Fail> {
        let mut left = self.and_expr(i, depth, in_brackets)?;
        while self.logical(i, "or")? {
            let right = self.and_expr(i, depth, in_brackets)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&self, i: &mut &'s str, depth: usize, in_brackets: bool) -> Result<Filter, Fail> {
        let mut left = self.unary(i, depth, in_brackets)?;
        while self.logical(i, "and")? {
            let right = self.unary(i, depth, in_brackets)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// Consumes `WS kw WS` (or `kw(`) when it comes next; otherwise consumes nothing.
    fn logical(&self, i: &mut &'s str, kw: &'static str) -> Result<bool, Fail> {
        let save = *i;
        let spaced = ws0(i) > 0 || self.after_closer(save);
        if spaced && keyword(i, kw) {
            if ws0(i) == 0 && !i.starts_with('(') {
                return Err(self.fail(i, format!("expected a filter after '{kw}'")));
            }
            return Ok(true);
        }
        *i = save;
        Ok(false)
    }

    fn unary(&self, i: &mut &'s str, depth: usize, in_brackets: bool) -> Result<Filter, Fail> {
        if i.starts_with('(') {
            self.check_depth(i, depth)?;
            let inner = self.group(i, depth, in_brackets)?;
            return Ok(inner);
        }
        let save = *i;
        if keyword(i, "not") {
            let after_not = *i;
            ws0(i);
            if i.starts_with('(') {
                self.check_depth(i, depth)?;
                let inner = self.group(i, depth, in_brackets)?;
                return Ok(Filter::Not(Box::new(inner)));
            }
            // `not` may be an attribute name: `not pr`, `not eq 1`, `not[...]`, `not.x`.
            let mut peek = *i;
            let next = word(&mut peek);
            let is_attr = after_not.starts_with(['[', '.'])
                || (after_not.len() > i.len()
                    && (operator(next).is_some() || next.eq_ignore_ascii_case("pr")));
            if !is_attr {
                return Err(self.fail(
                    i,
                    "expected '(' after 'not' (a negated filter must be in parentheses)"
                        .to_string(),
                ));
            }
            *i = save;
        }
        self.attr_expr(i, depth, in_brackets)
    }

    /// `"(" or-expr ")"`, at `(`.
    fn group(&self, i: &mut &'s str, depth: usize, in_brackets: bool) -> Result<Filter, Fail> {
        let open = self.offset(i);
        *i = i.get(1..).unwrap_or_default();
        ws0(i);
        let inner = self.or_expr(i, depth + 1, in_brackets)?;
        ws0(i);
        if !i.starts_with(')') {
            return Err(self.fail(
                i,
                format!("expected 'and', 'or' or ')' (to close the '(' opened at offset {open})"),
            ));
        }
        *i = i.get(1..).unwrap_or_default();
        Ok(inner)
    }

    /// `attrPath`, with an optional URN prefix and sub-attribute.
    pub(crate) fn attr_path(&self, i: &mut &'s str) -> Result<AttrPath, Fail> {
        let start = self.offset(i);
        let mut urn = None;
        let is_urn = i.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
        if is_urn {
            let mut peek = *i;
            let lexeme: winnow::Result<&str> = take_while(1.., |c: char| {
                !c.is_ascii_whitespace() && !matches!(c, '[' | ']' | '(' | ')' | '"')
            })
            .parse_next(&mut peek);
            let lexeme = lexeme.unwrap_or_default();
            let Some(colon) = lexeme.rfind(':').filter(|&c| c > 4) else {
                return Err(self.fail(
                    i,
                    "expected a schema URN followed by ':' and an attribute name".to_string(),
                ));
            };
            urn = Some(self.text(start, start + colon).to_string());
            *i = self.suffix(start + colon + 1);
            let end = start + lexeme.len();
            let path = self.name_and_sub(i, urn)?;
            if self.offset(i) != end {
                return Err(self.fail(i, "unexpected character in attribute path".to_string()));
            }
            return Ok(path);
        }
        self.name_and_sub(i, urn)
    }

    fn name_and_sub(&self, i: &mut &'s str, urn: Option<String>) -> Result<AttrPath, Fail> {
        let name =
            attr_name(i).map_err(|_| self.fail(i, "expected an attribute name".to_string()))?;
        let mut path = AttrPath {
            urn,
            name: name.to_string(),
            sub_attr: None,
        };
        if i.starts_with('.') {
            *i = i.get(1..).unwrap_or_default();
            let sub = attr_name(i)
                .map_err(|_| self.fail(i, "expected a sub-attribute name after '.'".to_string()))?;
            path.sub_attr = Some(sub.to_string());
        }
        Ok(path)
    }

    /// The bracketed value filter, at `[`; the inner filter may not nest another.
    pub(crate) fn bracket(&self, i: &mut &'s str, depth: usize) -> Result<Filter, Fail> {
        self.check_depth(i, depth)?;
        let open = self.offset(i);
        *i = i.get(1..).unwrap_or_default();
        ws0(i);
        let inner = self.or_expr(i, depth + 1, true)?;
        ws0(i);
        if !i.starts_with(']') {
            return Err(self.fail(
                i,
                format!("expected 'and', 'or' or ']' (to close the '[' opened at offset {open})"),
            ));
        }
        *i = i.get(1..).unwrap_or_default();
        Ok(inner)
    }

    fn attr_expr(&self, i: &mut &'s str, depth: usize, in_brackets: bool) -> Result<Filter, Fail> {
        let start = self.offset(i);
        let path = self.attr_path(i).map_err(|e| {
            if e.offset == start {
                self.fail(i, "expected an attribute name, '(' or 'not'".to_string())
            } else {
                e
            }
        })?;
        if i.starts_with('[') {
            if in_brackets {
                return Err(self.fail(i, "value filters cannot be nested".to_string()));
            }
            if path.sub_attr.is_some() {
                return Err(self.fail(
                    i,
                    "a value filter must follow an attribute name without a sub-attribute"
                        .to_string(),
                ));
            }
            let inner = self.bracket(i, depth)?;
            if !i.starts_with('.') {
                return Ok(Filter::ValuePath(path, Box::new(inner)));
            }
            // Entra: `emails[type eq "work"].value eq "x"`.
            *i = i.get(1..).unwrap_or_default();
            let sub_start = self.offset(i);
            let sub = attr_name(i).map_err(|_| {
                self.fail(i, "expected a sub-attribute name after '].'".to_string())
            })?;
            let sub_path = AttrPath::new(sub);
            let text = self.text(sub_start, self.offset(i));
            let test = self.operation(i, sub_path, text)?;
            return Ok(Filter::ValuePath(
                path,
                Box::new(Filter::And(Box::new(inner), Box::new(test))),
            ));
        }
        let text = self.text(start, self.offset(i));
        self.operation(i, path, text)
    }

    /// `WS "pr"` or `WS compareOp WS compValue` after an attribute path.
    fn operation(&self, i: &mut &'s str, path: AttrPath, text: &str) -> Result<Filter, Fail> {
        let spaced = ws0(i) > 0;
        let op_start = *i;
        let op = word(i);
        if op.is_empty() || !spaced {
            *i = op_start;
            return Err(self.fail(
                i,
                format!("expected a space and an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after '{text}'"),
            ));
        }
        if op.eq_ignore_ascii_case("pr") {
            let mut peek = *i;
            ws0(&mut peek);
            let mut next = peek;
            let next_word = word(&mut next);
            if peek.starts_with(|c: char| c == '"' || c == '-' || c.is_ascii_digit())
                || ["true", "false", "null"]
                    .iter()
                    .any(|l| next_word.eq_ignore_ascii_case(l))
            {
                return Err(self.fail(peek, "'pr' takes no value".to_string()));
            }
            return Ok(Filter::Present(path));
        }
        let Some(cmp) = operator(op) else {
            *i = op_start;
            return Err(self.fail(
                i,
                format!("unknown operator '{op}' after '{text}' (expected eq, ne, co, sw, ew, gt, ge, lt, le or pr)"),
            ));
        };
        ws0(i);
        let value = self.comp_value(i, op)?;
        Ok(Filter::Compare(path, cmp, value))
    }

    /// A JSON literal: string, number, `true`, `false` or `null` (literals in any case).
    fn comp_value(&self, i: &mut &'s str, op: &str) -> Result<CompValue, Fail> {
        if i.starts_with('"') {
            let start = *i;
            let lexeme = string_lexeme(i)
                .map_err(|_| self.fail(start, "unterminated string".to_string()))?;
            // Fast path: no escapes and no control characters, so the text is the value.
            if let Some(plain) = lexeme
                .get(1..lexeme.len().saturating_sub(1))
                .filter(|t| !t.contains(|c: char| c == '\\' || c < ' '))
            {
                return Ok(CompValue::String(plain.to_string()));
            }
            let s: String = serde_json::from_str(lexeme).map_err(|e| {
                // serde_json counts columns in bytes from 1; a lexeme it rejects on a later
                // line (a raw newline) is reported at its start.
                let at = if e.line() == 1 {
                    self.offset(start) + e.column().saturating_sub(1)
                } else {
                    self.offset(start)
                };
                let at = if self.src.is_char_boundary(at) {
                    at
                } else {
                    self.offset(start)
                };
                let reason = serde_reason(&e);
                self.fail(self.suffix(at), format!("invalid string ({reason})"))
            })?;
            return Ok(CompValue::String(s));
        }
        if i.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            let start = *i;
            let lexeme =
                number_lexeme(i).map_err(|_| self.fail(start, "invalid number".to_string()))?;
            if i.starts_with(|c: char| is_name_char(c) || c == '.' || c == '"') {
                return Err(self.fail(start, "invalid number".to_string()));
            }
            let n = json_number(lexeme)
                .ok_or_else(|| self.fail(start, "invalid number (out of range)".to_string()))?;
            return Ok(CompValue::Number(n));
        }
        let start = *i;
        let w = word(i);
        let value = if w.eq_ignore_ascii_case("true") {
            Some(CompValue::Bool(true))
        } else if w.eq_ignore_ascii_case("false") {
            Some(CompValue::Bool(false))
        } else if w.eq_ignore_ascii_case("null") {
            Some(CompValue::Null)
        } else {
            None
        };
        match value {
            Some(v) if !i.starts_with(['.', '$', ':']) => Ok(v),
            _ => {
                *i = start;
                let hint = if w.is_empty() {
                    ""
                } else {
                    " (strings must be in double quotes)"
                };
                Err(self.fail(
                    i,
                    format!(
                        "expected a value (a \"string\", number, true, false or null) after '{op}'{hint}"
                    ),
                ))
            }
        }
    }
}

/// The value of a JSON number lexeme: an integer when it has no fraction or exponent and
/// fits in `i64`/`u64`, otherwise the correctly rounded `f64` (Rust's float parser, so that
/// printing and re-parsing gives the same number). `None` when it overflows `f64`.
fn json_number(lexeme: &str) -> Option<serde_json::Number> {
    if !lexeme.contains(['.', 'e', 'E']) {
        if let Ok(i) = lexeme.parse::<i64>() {
            return Some(i.into());
        }
        if let Ok(u) = lexeme.parse::<u64>() {
            return Some(u.into());
        }
    }
    lexeme
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
}

/// serde_json's message without its `at line 1 column N` suffix.
fn serde_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(cut) => text.get(..cut).unwrap_or_default().to_string(),
        None => text,
    }
}

/// The comparison operators, by keyword.
const OPERATORS: [(&str, CompareOp); 9] = [
    ("eq", CompareOp::Eq),
    ("ne", CompareOp::Ne),
    ("co", CompareOp::Co),
    ("sw", CompareOp::Sw),
    ("ew", CompareOp::Ew),
    ("gt", CompareOp::Gt),
    ("ge", CompareOp::Ge),
    ("lt", CompareOp::Lt),
    ("le", CompareOp::Le),
];

/// The comparison operator for a keyword in any case.
fn operator(word: &str) -> Option<CompareOp> {
    OPERATORS
        .iter()
        .find(|(kw, _)| word.eq_ignore_ascii_case(kw))
        .map(|(_, op)| *op)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> CompValue {
        CompValue::String(v.into())
    }

    #[test]
    fn simple_compare() {
        let f = parse_filter("userName eq \"bjensen\"").unwrap();
        assert_eq!(
            f,
            Filter::Compare(AttrPath::new("userName"), CompareOp::Eq, s("bjensen"))
        );
    }

    #[test]
    fn offsets_in_errors() {
        let e = parse_filter("userName").unwrap_err();
        assert!(e.detail().contains("offset 8"), "{}", e.detail());
        let e = parse_filter("userName  xx \"a\"").unwrap_err();
        assert!(
            e.detail().contains("unknown operator 'xx'"),
            "{}",
            e.detail()
        );
        assert!(e.detail().contains("offset 10"), "{}", e.detail());
    }
}
