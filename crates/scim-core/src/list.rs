//! List queries and responses (RFC 7644 §3.4.2, §3.4.3): the query parameters of
//! `GET /Users` and the body of `POST /.search`, parsed into one [`ListQuery`] with the
//! RFC's edge rules, and the `ListResponse` document.
//!
//! Edge rules: `startIndex` below 1 is 1; a negative `count` is 0; `count` above the
//! configured maximum is the maximum; a missing `count` is the configured default;
//! `sortOrder` defaults to ascending; unknown parameters are ignored.
//!
//! Cursor paging (RFC 9865): a `cursor` parameter (empty on the first page) asks for it.
//! Then `count` above the maximum is `invalidCount` instead of being clamped (a negative
//! `count` is still 0, RFC 9865 §2.1), and `startIndex` may not be sent as well
//! (`invalidValue`: the two methods are exclusive). The cursor itself is opaque here:
//! checking and decoding it is the server's business. The response carries `nextCursor`
//! on every page but the last and no `startIndex` ([`cursor_list_response`]).

use crate::error::{ScimError, ScimResult};
use crate::filter::{AttrPath, Filter, parse_filter};
use crate::projection::Projection;
use crate::resource::{is_urn, split_urn};
use crate::schema::schema_by_id;
use serde_json::{Value, json};

/// The URN of a list response.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The URN of a `/.search` request body.
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// Server limits applied to list queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListLimits {
    /// The page size when the client gives no `count`.
    pub default_count: u64,
    /// The largest page size served (`filter.maxResults`). Okta pages by 100 and never
    /// adapts, so this should not be below 100.
    pub max_count: u64,
}

impl Default for ListLimits {
    fn default() -> Self {
        ListLimits {
            default_count: 100,
            max_count: 1000,
        }
    }
}

/// The sort direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortOrder {
    /// Smallest first (the default).
    #[default]
    Ascending,
    /// Largest first.
    Descending,
}

/// A parsed list query.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// The filter, if any.
    pub filter: Option<Filter>,
    /// The 1-based index of the first result (at least 1).
    pub start_index: u64,
    /// The page size (between 0 and the configured maximum).
    pub count: u64,
    /// The attribute to sort by.
    pub sort_by: Option<AttrPath>,
    /// The sort direction.
    pub sort_order: SortOrder,
    /// `attributes`: the attributes to return (plus those always returned).
    pub attributes: Vec<AttrPath>,
    /// `excludedAttributes`: the attributes not to return.
    pub excluded_attributes: Vec<AttrPath>,
    /// RFC 9865 cursor paging: `Some` when the request carried a `cursor` (the empty
    /// string asks for the first page); `None` for index paging.
    pub cursor: Option<String>,
}

impl ListQuery {
    /// A query with no filter, the default page and no projection.
    pub fn new(limits: &ListLimits) -> Self {
        ListQuery {
            filter: None,
            start_index: 1,
            count: limits.default_count.min(limits.max_count),
            sort_by: None,
            sort_order: SortOrder::Ascending,
            attributes: Vec::new(),
            excluded_attributes: Vec::new(),
            cursor: None,
        }
    }

    /// Parses decoded query parameters (`+` already decoded as a space). Parameter names
    /// ignore letter case; unknown parameters are ignored.
    ///
    /// ```
    /// use scim_core::list::{ListLimits, ListQuery};
    /// let pairs = vec![
    ///     ("filter".to_string(), "userName eq \"ada@example.com\"".to_string()),
    ///     ("startIndex".to_string(), "0".to_string()),
    ///     ("count".to_string(), "-5".to_string()),
    /// ];
    /// let q = ListQuery::from_query_pairs(&pairs, &ListLimits::default()).unwrap();
    /// assert!(q.filter.is_some());
    /// assert_eq!((q.start_index, q.count), (1, 0));
    /// ```
    pub fn from_query_pairs(pairs: &[(String, String)], limits: &ListLimits) -> ScimResult<Self> {
        let mut q = ListQuery::new(limits);
        let mut paging = RawPaging::default();
        for (key, value) in pairs {
            match key.to_ascii_lowercase().as_str() {
                "filter" => q.filter = parse_optional_filter(value)?,
                "startindex" => paging.start_index = Some(parse_int("startIndex", value)?),
                "count" => paging.count = Some(parse_int("count", value)?),
                "cursor" => q.cursor = Some(value.trim().to_string()),
                "sortby" => q.sort_by = parse_optional_path("sortBy", value)?,
                "sortorder" => q.sort_order = parse_sort_order(value)?,
                "attributes" => q.attributes = parse_attr_list(value)?,
                "excludedattributes" => q.excluded_attributes = parse_attr_list(value)?,
                _ => {}
            }
        }
        paging.apply(&mut q, limits)?;
        Ok(q)
    }

    /// Parses a `POST /.search` body (RFC 7644 §3.4.3). `attributes` and
    /// `excludedAttributes` may be JSON arrays (as the RFC says) or comma-separated strings.
    pub fn from_search_body(body: &Value, limits: &ListLimits) -> ScimResult<Self> {
        let Value::Object(map) = body else {
            return Err(ScimError::invalid_syntax(
                "a search request must be a JSON object",
            ));
        };
        let mut q = ListQuery::new(limits);
        let mut paging = RawPaging::default();
        for (key, value) in map {
            if value.is_null() {
                continue;
            }
            match key.to_ascii_lowercase().as_str() {
                "schemas" => check_search_schemas(value)?,
                "filter" => q.filter = parse_optional_filter(expect_str("filter", value)?)?,
                "startindex" => paging.start_index = Some(json_int("startIndex", value)?),
                "count" => paging.count = Some(json_int("count", value)?),
                "cursor" => q.cursor = Some(expect_str("cursor", value)?.trim().to_string()),
                "sortby" => {
                    q.sort_by = parse_optional_path("sortBy", expect_str("sortBy", value)?)?
                }
                "sortorder" => q.sort_order = parse_sort_order(expect_str("sortOrder", value)?)?,
                "attributes" => q.attributes = json_attr_list("attributes", value)?,
                "excludedattributes" => {
                    q.excluded_attributes = json_attr_list("excludedAttributes", value)?
                }
                _ => {}
            }
        }
        paging.apply(&mut q, limits)?;
        Ok(q)
    }

    /// The projection this query asks for.
    pub fn projection(&self) -> Projection {
        Projection::new(self.attributes.clone(), self.excluded_attributes.clone())
    }

    /// Whether the sort is descending.
    pub fn descending(&self) -> bool {
        self.sort_order == SortOrder::Descending
    }

    /// Whether the request asks for RFC 9865 cursor paging.
    pub fn is_cursor(&self) -> bool {
        self.cursor.is_some()
    }
}

/// `startIndex` and `count` as sent, applied once every parameter is known (whether a
/// `cursor` came decides the `count` rule, and parameters come in any order).
#[derive(Default)]
struct RawPaging {
    start_index: Option<i64>,
    count: Option<i64>,
}

impl RawPaging {
    fn apply(self, q: &mut ListQuery, limits: &ListLimits) -> ScimResult<()> {
        if q.cursor.is_some() {
            if self.start_index.is_some() {
                return Err(ScimError::invalid_value(
                    "'startIndex' and 'cursor' select different paging methods; send one",
                ));
            }
            if let Some(n) = self.count {
                // RFC 9865 §2.1: negative is 0; above maxPageSize is an error, not a clamp,
                // so a cursor client learns its pages are smaller than it asked.
                let n = u64::try_from(n).unwrap_or(0);
                if n > limits.max_count {
                    return Err(ScimError::invalid_count(format!(
                        "'count' must be between 0 and {} (maxPageSize) with a cursor",
                        limits.max_count
                    )));
                }
                q.count = n;
            }
        } else {
            if let Some(n) = self.start_index {
                q.start_index = clamp_start(n);
            }
            if let Some(n) = self.count {
                q.count = clamp_count(n, limits);
            }
        }
        Ok(())
    }
}

/// A `ListResponse` document. `itemsPerPage` is always the number of `resources` (Okta's
/// OIN review rejects servers that echo the requested count).
///
/// ```
/// let doc = scim_core::list::list_response(0, 1, vec![]);
/// assert_eq!(doc["totalResults"], 0);
/// assert_eq!(doc["itemsPerPage"], 0);
/// assert_eq!(doc["Resources"], serde_json::json!([]));
/// ```
pub fn list_response(total_results: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total_results,
        "itemsPerPage": resources.len(),
        "startIndex": start_index,
        "Resources": resources,
    })
}

/// A `ListResponse` for cursor paging (RFC 9865 §2.2): no `startIndex`, and `nextCursor`
/// when there is a next page (its absence tells the client it has them all).
///
/// ```
/// let doc = scim_core::list::cursor_list_response(3, vec![], Some("abc".into()));
/// assert_eq!(doc["nextCursor"], "abc");
/// assert!(doc.get("startIndex").is_none());
/// ```
pub fn cursor_list_response(
    total_results: u64,
    resources: Vec<Value>,
    next_cursor: Option<String>,
) -> Value {
    let mut doc = json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total_results,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    if let (Some(next), Value::Object(m)) = (next_cursor, &mut doc) {
        m.insert("nextCursor".into(), Value::String(next));
    }
    doc
}

fn clamp_start(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0).max(1)
}

fn clamp_count(n: i64, limits: &ListLimits) -> u64 {
    u64::try_from(n).unwrap_or(0).min(limits.max_count)
}

fn parse_int(name: &str, value: &str) -> ScimResult<i64> {
    let v = value.trim();
    if let Ok(n) = v.parse::<i64>() {
        return Ok(n);
    }
    // Out-of-range integers saturate rather than fail: `count=99999999999999999999` means
    // "as many as you serve".
    if !v.is_empty()
        && v.trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit())
    {
        return Ok(if v.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        });
    }
    Err(ScimError::invalid_value(format!(
        "'{name}' must be an integer, got '{value}'"
    )))
}

fn json_int(name: &str, value: &Value) -> ScimResult<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|_| i64::MAX))
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .ok_or_else(|| ScimError::invalid_value(format!("'{name}' must be an integer"))),
        Value::String(s) => parse_int(name, s),
        _ => Err(ScimError::invalid_value(format!(
            "'{name}' must be an integer"
        ))),
    }
}

fn expect_str<'a>(name: &str, value: &'a Value) -> ScimResult<&'a str> {
    value
        .as_str()
        .ok_or_else(|| ScimError::invalid_syntax(format!("'{name}' must be a string")))
}

fn check_search_schemas(value: &Value) -> ScimResult<()> {
    let ok = match value {
        Value::Array(items) => items.iter().any(|v| {
            v.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(SEARCH_REQUEST_SCHEMA))
        }),
        Value::String(s) => s.eq_ignore_ascii_case(SEARCH_REQUEST_SCHEMA),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ScimError::invalid_syntax(format!(
            "a search request's 'schemas' must contain {SEARCH_REQUEST_SCHEMA}"
        )))
    }
}

fn parse_optional_filter(value: &str) -> ScimResult<Option<Filter>> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    parse_filter(value).map(Some)
}

fn parse_optional_path(name: &str, value: &str) -> ScimResult<Option<AttrPath>> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    parse_attr_path(value)
        .map(Some)
        .map_err(|e| e.with_context(format!("'{name}'")))
}

fn parse_sort_order(value: &str) -> ScimResult<SortOrder> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "ascending" => Ok(SortOrder::Ascending),
        "descending" => Ok(SortOrder::Descending),
        _ => Err(ScimError::invalid_value(format!(
            "'sortOrder' must be 'ascending' or 'descending', got '{value}'"
        ))),
    }
}

fn json_attr_list(name: &str, value: &Value) -> ScimResult<Vec<AttrPath>> {
    match value {
        Value::String(s) => parse_attr_list(s),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.extend(parse_attr_list(expect_str(name, item)?)?);
            }
            Ok(out)
        }
        _ => Err(ScimError::invalid_syntax(format!(
            "'{name}' must be an array of attribute names"
        ))),
    }
}

/// Parses a comma-separated attribute list (`userName,name.givenName,urn:...:department`).
pub fn parse_attr_list(value: &str) -> ScimResult<Vec<AttrPath>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_attr_path)
        .collect()
}

/// Parses one attribute path as used in `attributes`, `excludedAttributes` and `sortBy`:
/// `name`, `name.sub`, `urn:...:name[.sub]`, or a bare schema URN meaning the whole
/// extension (returned with an empty `name`).
pub fn parse_attr_path(value: &str) -> ScimResult<AttrPath> {
    let s = value.trim();
    let invalid = || ScimError::invalid_value(format!("'{value}' is not a valid attribute path"));
    let (urn, rest) = if is_urn(s) {
        if schema_by_id(s).is_some() {
            return Ok(AttrPath {
                urn: Some(s.to_string()),
                name: String::new(),
                sub_attr: None,
            });
        }
        let (urn, rest) = split_urn(s).ok_or_else(invalid)?;
        (Some(urn.to_string()), rest)
    } else {
        (None, s)
    };
    let (name, sub_attr) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    let valid_name = |n: &str| {
        let mut chars = n.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !valid_name(name) || sub_attr.is_some_and(|sub| !valid_name(sub)) {
        return Err(invalid());
    }
    Ok(AttrPath {
        urn,
        name: name.to_string(),
        sub_attr: sub_attr.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn edge_rules() {
        let limits = ListLimits {
            default_count: 50,
            max_count: 200,
        };
        type Case<'a> = (&'a [(&'a str, &'a str)], u64, u64);
        let cases: &[Case] = &[
            (&[], 1, 50),
            (&[("startIndex", "0"), ("count", "-1")], 1, 0),
            (&[("startIndex", "-7"), ("count", "0")], 1, 0),
            (&[("STARTINDEX", "101"), ("Count", "100")], 101, 100),
            (&[("count", "100000")], 1, 200),
            (&[("count", "99999999999999999999999")], 1, 200),
            (&[("startIndex", "-99999999999999999999999")], 1, 50),
        ];
        for (input, start, count) in cases {
            let q = ListQuery::from_query_pairs(&pairs(input), &limits).unwrap();
            assert_eq!((q.start_index, q.count), (*start, *count), "{input:?}");
        }
    }

    #[test]
    fn bad_parameters_are_scim_errors() {
        let limits = ListLimits::default();
        for input in [
            [("count", "ten")],
            [("startIndex", "1.5")],
            [("sortOrder", "sideways")],
            [("attributes", "name..x")],
            [("sortBy", "1abc")],
        ] {
            let err = ListQuery::from_query_pairs(&pairs(&input), &limits).unwrap_err();
            assert_eq!(err.status(), 400, "{input:?}");
        }
        let err =
            ListQuery::from_query_pairs(&pairs(&[("filter", "userName eq")]), &limits).unwrap_err();
        assert_eq!(err.scim_type(), Some(crate::ScimType::InvalidFilter));
    }

    #[test]
    fn parses_every_parameter() {
        let q = ListQuery::from_query_pairs(
            &pairs(&[
                ("filter", "displayName eq \"Eng\""),
                ("sortBy", "meta.lastModified"),
                ("sortOrder", "Descending"),
                ("attributes", "userName, name.givenName"),
                ("excludedAttributes", "members"),
                ("aadOptscim062020", ""),
            ]),
            &ListLimits::default(),
        )
        .unwrap();
        assert!(q.filter.is_some());
        assert_eq!(
            q.sort_by,
            Some(AttrPath::new("meta").with_sub_attr("lastModified"))
        );
        assert!(q.descending());
        assert_eq!(q.attributes.len(), 2);
        assert_eq!(q.excluded_attributes, vec![AttrPath::new("members")]);
    }

    #[test]
    fn search_body() {
        let body = json!({
            "schemas": [SEARCH_REQUEST_SCHEMA],
            "attributes": ["displayName", "userName"],
            "excludedAttributes": "emails",
            "filter": "userName sw \"a\"",
            "startIndex": 0,
            "count": 10,
            "sortBy": "userName",
            "sortOrder": "descending"
        });
        let q = ListQuery::from_search_body(&body, &ListLimits::default()).unwrap();
        assert_eq!((q.start_index, q.count), (1, 10));
        assert_eq!(q.attributes.len(), 2);
        assert_eq!(q.excluded_attributes.len(), 1);
        assert!(q.descending());
        assert!(ListQuery::from_search_body(&json!([]), &ListLimits::default()).is_err());
        assert!(
            ListQuery::from_search_body(&json!({"count": "x"}), &ListLimits::default()).is_err()
        );
        assert!(
            ListQuery::from_search_body(&json!({"schemas": ["urn:x"]}), &ListLimits::default())
                .is_err()
        );
        assert!(ListQuery::from_search_body(&json!({}), &ListLimits::default()).is_ok());
    }

    #[test]
    fn cursor_parameters() {
        let limits = ListLimits {
            default_count: 50,
            max_count: 200,
        };
        let q = ListQuery::from_query_pairs(&pairs(&[("cursor", "")]), &limits).unwrap();
        assert_eq!(q.cursor.as_deref(), Some(""));
        assert!(q.is_cursor());
        assert_eq!(q.count, 50);
        let q = ListQuery::from_query_pairs(&pairs(&[("count", "-3"), ("Cursor", "abc")]), &limits)
            .unwrap();
        assert_eq!((q.cursor.as_deref(), q.count), (Some("abc"), 0));
        let q = ListQuery::from_query_pairs(&pairs(&[("cursor", "x"), ("count", "200")]), &limits)
            .unwrap();
        assert_eq!(q.count, 200);
        // Above the maximum: an error with a cursor (in either order), a clamp without.
        for input in [
            [("count", "201"), ("cursor", "")],
            [("cursor", ""), ("count", "99999999999999999999")],
        ] {
            let err = ListQuery::from_query_pairs(&pairs(&input), &limits).unwrap_err();
            assert_eq!(
                err.scim_type(),
                Some(crate::ScimType::InvalidCount),
                "{input:?}"
            );
        }
        let q = ListQuery::from_query_pairs(&pairs(&[("count", "201")]), &limits).unwrap();
        assert_eq!((q.count, q.cursor.is_none()), (200, true));
        let err =
            ListQuery::from_query_pairs(&pairs(&[("cursor", ""), ("startIndex", "1")]), &limits)
                .unwrap_err();
        assert_eq!(err.scim_type(), Some(crate::ScimType::InvalidValue));

        let body = json!({"cursor": "abc", "count": 10});
        let q = ListQuery::from_search_body(&body, &limits).unwrap();
        assert_eq!((q.cursor.as_deref(), q.count), (Some("abc"), 10));
        let err = ListQuery::from_search_body(&json!({"cursor": "", "count": 1000}), &limits)
            .unwrap_err();
        assert_eq!(err.scim_type(), Some(crate::ScimType::InvalidCount));
        assert!(ListQuery::from_search_body(&json!({"cursor": 5}), &limits).is_err());
        let q = ListQuery::from_search_body(&json!({"cursor": null}), &limits).unwrap();
        assert!(!q.is_cursor());
    }

    #[test]
    fn cursor_response_has_next_cursor_and_no_start_index() {
        let doc = cursor_list_response(5, vec![json!({"id": "a"})], Some("n".into()));
        assert_eq!(doc["nextCursor"], "n");
        assert_eq!(doc["itemsPerPage"], 1);
        assert_eq!(doc["totalResults"], 5);
        assert!(doc.get("startIndex").is_none());
        let last = cursor_list_response(5, vec![], None);
        assert!(last.get("nextCursor").is_none());
    }

    #[test]
    fn attr_paths() {
        let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        assert_eq!(
            parse_attr_path(&format!("{enterprise}:manager.value")).unwrap(),
            AttrPath::new("manager")
                .with_urn(enterprise)
                .with_sub_attr("value")
        );
        assert_eq!(parse_attr_path(enterprise).unwrap().name, "");
        assert_eq!(parse_attr_path("$ref").unwrap().name, "$ref");
        assert!(parse_attr_path("").is_err());
        assert!(parse_attr_path("emails[type eq \"work\"]").is_err());
    }

    #[test]
    fn response_counts_items() {
        let doc = list_response(250, 101, vec![json!({"id": "a"}), json!({"id": "b"})]);
        assert_eq!(doc["itemsPerPage"], 2);
        assert_eq!(doc["totalResults"], 250);
        assert_eq!(doc["startIndex"], 101);
        assert_eq!(doc["schemas"][0], LIST_RESPONSE_SCHEMA);
    }
}
