//! The one SCIM error type (RFC 7644 §3.12, plus the cursor keywords of RFC 9865): an HTTP status, an optional `scimType`
//! and a human-readable `detail`, rendered as the SCIM Error JSON body.
//!
//! It carries the status as a number so that every layer can map it, but depends on no
//! HTTP crate.

use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt;

/// The URN of a SCIM error body.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` keywords of RFC 7644 §3.12, Table 9, and of RFC 9865 §2.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimType {
    /// The filter syntax was invalid, or the attribute and operator combination is not supported.
    InvalidFilter,
    /// The filter yields more results than the server is willing to process.
    TooMany,
    /// One or more attribute values are already in use or reserved.
    Uniqueness,
    /// The attempted modification is not compatible with the target attribute's mutability.
    Mutability,
    /// The request body structure was invalid or did not conform to the schema.
    InvalidSyntax,
    /// The `path` attribute was invalid or malformed.
    InvalidPath,
    /// The specified `path` did not yield an attribute or value that could be operated on.
    NoTarget,
    /// A required value was missing, or the value specified was not compatible.
    InvalidValue,
    /// The specified SCIM protocol version is not supported.
    InvalidVersion,
    /// The request cannot be completed because of sensitive information in the request URI.
    Sensitive,
    /// RFC 9865: the cursor is not one this server issued for this query (malformed,
    /// altered, or replayed with another tenant, resource type, filter or projection).
    InvalidCursor,
    /// RFC 9865: the cursor was valid but is older than the advertised `cursorTimeout`.
    ExpiredCursor,
    /// RFC 9865: with cursor paging, `count` is above the advertised `maxPageSize`.
    InvalidCount,
}

impl ScimType {
    /// The keyword as written in the `scimType` member.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVersion => "invalidVers",
            ScimType::Sensitive => "sensitive",
            ScimType::InvalidCursor => "invalidCursor",
            ScimType::ExpiredCursor => "expiredCursor",
            ScimType::InvalidCount => "invalidCount",
        }
    }

    /// The HTTP status RFC 7644 pairs with this keyword (409 for `uniqueness`, 403 for
    /// `sensitive` per erratum 6893, 400 for the rest).
    pub fn status(self) -> u16 {
        match self {
            ScimType::Uniqueness => 409,
            ScimType::Sensitive => 403,
            _ => 400,
        }
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SCIM protocol error: what a server answers, and what `scim-core` operations fail with.
///
/// ```
/// use scim_core::error::{ScimError, ScimType};
/// let err = ScimError::invalid_filter("expected an operator at offset 9");
/// assert_eq!(err.status(), 400);
/// assert_eq!(err.scim_type(), Some(ScimType::InvalidFilter));
/// let body = serde_json::to_value(&err).unwrap();
/// assert_eq!(body["status"], "400");
/// assert_eq!(body["scimType"], "invalidFilter");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    status: u16,
    scim_type: Option<ScimType>,
    detail: String,
}

impl ScimError {
    /// An error with an explicit status, optional `scimType` and detail.
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// An error of the given `scimType`, with the status RFC 7644 pairs with it.
    pub fn typed(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(scim_type.status(), Some(scim_type), detail)
    }

    /// 400 `invalidFilter`.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::InvalidFilter, detail)
    }
    /// 400 `tooMany`.
    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::TooMany, detail)
    }
    /// 409 `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::Uniqueness, detail)
    }
    /// 400 `mutability`.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::Mutability, detail)
    }
    /// 400 `invalidSyntax`.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::InvalidSyntax, detail)
    }
    /// 400 `invalidPath`.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::InvalidPath, detail)
    }
    /// 400 `noTarget`.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::NoTarget, detail)
    }
    /// 400 `invalidValue`.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::InvalidValue, detail)
    }
    /// 400 `invalidVers`.
    pub fn invalid_version(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::InvalidVersion, detail)
    }
    /// 403 `sensitive`.
    pub fn sensitive(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::Sensitive, detail)
    }
    /// 400 `invalidCursor` (RFC 9865 §2.5).
    pub fn invalid_cursor(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::InvalidCursor, detail)
    }
    /// 400 `expiredCursor` (RFC 9865 §2.5).
    pub fn expired_cursor(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::ExpiredCursor, detail)
    }
    /// 400 `invalidCount` (RFC 9865 §2.5).
    pub fn invalid_count(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::InvalidCount, detail)
    }
    /// 400 without a `scimType`.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, None, detail)
    }
    /// 401: missing or invalid credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, None, detail)
    }
    /// 403: authenticated but not allowed.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, None, detail)
    }
    /// 404: the resource or endpoint does not exist.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }
    /// 405: the method is not supported on this endpoint.
    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(405, None, detail)
    }
    /// 409 without a `scimType` (a conflict other than uniqueness).
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(409, None, detail)
    }
    /// 412: an `If-Match` precondition did not hold.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, None, detail)
    }
    /// 413: the request body is larger than the server accepts.
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(413, None, detail)
    }
    /// 415: the request body is not JSON.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(415, None, detail)
    }
    /// 429: the client sends too fast.
    pub fn too_many_requests(detail: impl Into<String>) -> Self {
        Self::new(429, None, detail)
    }
    /// 500: an internal failure. The detail must not carry internal text.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, None, detail)
    }
    /// 501: the operation is not implemented (e.g. `/Bulk`, `/Me`).
    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new(501, None, detail)
    }
    /// 503: a dependency (the database) is unavailable.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(503, None, detail)
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// The `scimType`, when the RFC names one for this error.
    pub fn scim_type(&self) -> Option<ScimType> {
        self.scim_type
    }
    /// The human-readable detail.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// Prefix the detail with context, e.g. the index of the failing PATCH operation.
    pub fn with_context(mut self, context: impl fmt::Display) -> Self {
        self.detail = format!("{context}: {}", self.detail);
        self
    }

    /// The SCIM Error JSON body.
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        body.insert("schemas".into(), serde_json::json!([ERROR_SCHEMA]));
        body.insert("status".into(), self.status.to_string().into());
        if let Some(t) = self.scim_type {
            body.insert("scimType".into(), t.as_str().into());
        }
        body.insert("detail".into(), self.detail.clone().into());
        serde_json::Value::Object(body)
    }
}

impl fmt::Display for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scim_type {
            Some(t) => write!(f, "{} {}: {}", self.status, t, self.detail),
            None => write!(f, "{}: {}", self.status, self.detail),
        }
    }
}

impl std::error::Error for ScimError {}

impl Serialize for ScimError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("schemas", &[ERROR_SCHEMA])?;
        map.serialize_entry("status", &self.status.to_string())?;
        if let Some(t) = self.scim_type {
            map.serialize_entry("scimType", t.as_str())?;
        }
        map.serialize_entry("detail", &self.detail)?;
        map.end()
    }
}

/// The result type of `scim-core` operations.
pub type ScimResult<T> = Result<T, ScimError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_rfc_table() {
        let cases = [
            (ScimType::InvalidFilter, 400, "invalidFilter"),
            (ScimType::TooMany, 400, "tooMany"),
            (ScimType::Uniqueness, 409, "uniqueness"),
            (ScimType::Mutability, 400, "mutability"),
            (ScimType::InvalidSyntax, 400, "invalidSyntax"),
            (ScimType::InvalidPath, 400, "invalidPath"),
            (ScimType::NoTarget, 400, "noTarget"),
            (ScimType::InvalidValue, 400, "invalidValue"),
            (ScimType::InvalidVersion, 400, "invalidVers"),
            (ScimType::Sensitive, 403, "sensitive"),
            (ScimType::InvalidCursor, 400, "invalidCursor"),
            (ScimType::ExpiredCursor, 400, "expiredCursor"),
            (ScimType::InvalidCount, 400, "invalidCount"),
        ];
        for (t, status, keyword) in cases {
            let e = ScimError::typed(t, "x");
            assert_eq!(e.status(), status, "{keyword}");
            assert_eq!(e.to_json()["scimType"], keyword);
            assert_eq!(e.to_json()["status"], status.to_string());
        }
    }

    #[test]
    fn untyped_errors_have_no_scim_type_member() {
        let body = ScimError::not_found("User 42 not found").to_json();
        assert_eq!(body["status"], "404");
        assert!(body.get("scimType").is_none());
        assert_eq!(body["schemas"][0], ERROR_SCHEMA);
        assert_eq!(body["detail"], "User 42 not found");
    }

    #[test]
    fn serialize_matches_to_json() {
        let e = ScimError::uniqueness("userName is taken");
        assert_eq!(serde_json::to_value(&e).unwrap(), e.to_json());
    }
}
