//! PATCH paths (RFC 7644 §3.5.2): `attrPath` or `valuePath [subAttr]`, e.g. `members`,
//! `name.familyName`, `members[value eq "2819c223"]`, `emails[type eq "work"].value`,
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`.
//!
//! This module owns the [`PatchPath`] type, its parser ([`parse_path`], `FromStr`) and its
//! printer (`Display`, which round-trips). The bracketed value filter is parsed by the
//! filter parser, so it accepts exactly what a filter's value path accepts.

use crate::error::{ScimError, ScimResult};
use crate::filter::{Cx, Filter, MAX_FILTER_LEN, attr_name, ws0};
use std::fmt;
use std::str::FromStr;

/// A parsed PATCH `path`.
///
/// A path that starts with `urn:` (any case) is split at the last `:` before any `[`: the
/// part before is the schema URN, the part after the attribute (and sub-attribute). So a
/// path that is *exactly* a schema URN, such as
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`, parses with
/// `urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0"` and `attr = "User"`.
/// Callers must therefore check `format!("{urn}:{attr}")` against the known schema ids
/// before treating `attr` as an attribute; [`PatchPath::as_schema_urn`] gives that string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PatchPath {
    /// The schema URN prefix, without the trailing `:`.
    pub urn: Option<String>,
    /// The top-level attribute name.
    pub attr: String,
    /// The value filter in brackets, selecting values of a multi-valued attribute.
    pub filter: Option<Filter>,
    /// The sub-attribute: `name.familyName` or `emails[type eq "work"].value`.
    pub sub_attr: Option<String>,
}

/// Parses a PATCH `path`. Malformed paths are 400 `invalidPath` errors whose detail names
/// the byte offset and the reason; so are paths longer than [`MAX_FILTER_LEN`] bytes and
/// paths with a NUL character. Leading and trailing whitespace is ignored.
///
/// ```
/// use scim_core::path::parse_path;
/// let p = parse_path(r#"emails[type eq "work"].value"#).unwrap();
/// assert_eq!(p.attr, "emails");
/// assert_eq!(p.sub_attr.as_deref(), Some("value"));
/// assert_eq!(p.filter.unwrap().to_string(), r#"type eq "work""#);
///
/// let p = parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager").unwrap();
/// assert_eq!(p.urn.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
/// assert_eq!(p.attr, "manager");
/// ```
pub fn parse_path(s: &str) -> ScimResult<PatchPath> {
    // Offsets in messages count from the start of `s`, leading whitespace included.
    let src = s.trim_end_matches(|c: char| c.is_ascii_whitespace());
    let body = src.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if body.is_empty() {
        return Err(ScimError::invalid_path("the path is empty (offset 0)"));
    }
    if let Some(at) = s.find('\0') {
        return Err(ScimError::invalid_path(format!(
            "the path contains a NUL character (U+0000) at offset {at}"
        )));
    }
    if body.len() > MAX_FILTER_LEN {
        return Err(ScimError::invalid_path(format!(
            "the path is {} bytes long; at most {MAX_FILTER_LEN} are accepted",
            body.len()
        )));
    }
    let cx = Cx { src };
    let mut i = body;
    let head = body.split('[').next().unwrap_or_default();
    let is_urn = head
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    let mut urn = None;
    if is_urn {
        match head.rfind(':').filter(|&c| c > 4) {
            Some(colon) => {
                urn = body.get(..colon).map(str::to_string);
                i = body.get(colon + 1..).unwrap_or_default();
            }
            None => {
                return Err(ScimError::invalid_path(format!(
                    "expected a schema URN followed by ':' and an attribute name at offset {}, found '{head}'",
                    cx.offset(body)
                )));
            }
        }
    }
    let invalid = |e: crate::filter::Fail| ScimError::invalid_path(e.detail());
    let attr = attr_name(&mut i)
        .map_err(|_| invalid(cx.fail(i, "expected an attribute name".to_string())))?
        .to_string();
    let mut filter = None;
    let mut sub_attr = None;
    if i.starts_with('[') {
        filter = Some(cx.bracket(&mut i, 0).map_err(invalid)?);
    }
    if i.starts_with('.') {
        i = i.get(1..).unwrap_or_default();
        let sub = attr_name(&mut i).map_err(|_| {
            invalid(cx.fail(i, "expected a sub-attribute name after '.'".to_string()))
        })?;
        sub_attr = Some(sub.to_string());
    }
    ws0(&mut i);
    if !i.is_empty() {
        let what = if i.starts_with('[') && sub_attr.is_some() {
            "a value filter must directly follow the attribute name"
        } else {
            "expected the end of the path"
        };
        return Err(invalid(cx.fail(i, what.to_string())));
    }
    Ok(PatchPath {
        urn,
        attr,
        filter,
        sub_attr,
    })
}

impl PatchPath {
    /// A path to a top-level attribute with no URN, filter or sub-attribute.
    pub fn new(attr: impl Into<String>) -> Self {
        PatchPath {
            urn: None,
            attr: attr.into(),
            filter: None,
            sub_attr: None,
        }
    }

    /// `format!("{urn}:{attr}")` when the path has a URN but no filter and no
    /// sub-attribute: the whole path might then be a schema URN (e.g. the enterprise
    /// extension), which the caller checks against its schema ids.
    ///
    /// ```
    /// use scim_core::path::parse_path;
    /// let p = parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").unwrap();
    /// assert_eq!(
    ///     p.as_schema_urn().as_deref(),
    ///     Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    /// );
    /// assert_eq!(parse_path("members").unwrap().as_schema_urn(), None);
    /// ```
    pub fn as_schema_urn(&self) -> Option<String> {
        match (&self.urn, &self.filter, &self.sub_attr) {
            (Some(urn), None, None) => Some(format!("{urn}:{}", self.attr)),
            _ => None,
        }
    }
}

impl FromStr for PatchPath {
    type Err = ScimError;

    fn from_str(s: &str) -> ScimResult<Self> {
        parse_path(s)
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for p in [
            "members",
            "name.familyName",
            r#"members[value eq "2819c223"]"#,
            r#"emails[type eq "work"].value"#,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ] {
            assert_eq!(parse_path(p).unwrap().to_string(), p);
        }
    }
}
