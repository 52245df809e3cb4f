//! Building SCIM responses: `application/scim+json` bodies, `ETag` and `Location`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use serde_json::Value;

/// The SCIM media type (RFC 7644 §8.1), used on every response body.
pub const SCIM_JSON: &str = "application/scim+json";

/// A JSON response with the SCIM media type.
pub fn scim_json(status: StatusCode, body: &Value) -> HttpResponse {
    scim_text(status, body.to_string())
}

/// A response with the SCIM media type whose JSON is already serialised (rendered on the
/// blocking pool).
pub fn scim_text(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON)))
        .body(body)
}

/// A single-resource response: the body, its `ETag`, and (on create) its `Location`.
pub fn resource_response(
    status: StatusCode,
    body: String,
    etag: &str,
    location: Option<&str>,
) -> HttpResponse {
    let mut builder = HttpResponse::build(status);
    builder.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON)));
    if let Ok(v) = HeaderValue::from_str(etag) {
        builder.insert_header((header::ETAG, v));
    }
    if let Some(loc) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        builder.insert_header((header::LOCATION, loc));
    }
    builder.body(body)
}
