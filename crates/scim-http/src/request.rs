//! Reading requests: content negotiation, size limits, JSON bodies and query strings.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{HttpRequest, web};
use scim_core::ScimError;
use serde_json::Value;

/// Whether a `Content-Type` is one we read as JSON: `application/scim+json`,
/// `application/json` (any parameters, e.g. `; charset=utf-8`), or none at all.
pub fn is_json_content_type(value: Option<&str>) -> bool {
    let Some(value) = value else { return true };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.is_empty()
        || essence.eq_ignore_ascii_case("application/scim+json")
        || essence.eq_ignore_ascii_case("application/json")
}

/// Reads the JSON body of a request: checks the media type (415), the size limit (413),
/// the time it takes to arrive (408, [`crate::Limits::body_read_timeout`]) and the syntax
/// (400 `invalidSyntax`).
pub async fn json_body(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Value, ApiError> {
    let limit = state.limits.max_body_bytes;
    json_body_limited(req, payload, state, limit, || {
        format!("The request body is larger than {limit} bytes")
    })
    .await
}

/// [`json_body`] with the size limit `limit` and the 413's detail from `detail` (the Bulk
/// endpoint has its own, `maxPayloadSize`).
pub async fn json_body_limited(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    limit: usize,
    detail: impl Fn() -> String,
) -> Result<Value, ApiError> {
    let content_type = match req.headers().get(CONTENT_TYPE) {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| unsupported())?),
    };
    if !is_json_content_type(content_type) {
        return Err(unsupported());
    }
    let too_large = || ApiError::from(ScimError::payload_too_large(detail()));
    if let Some(len) = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(too_large());
    }
    let read = payload.to_bytes_limited(limit);
    let read = match state.limits.body_read_timeout {
        // A client trickling its body would otherwise hold the connection for as long as
        // it likes; the head has its own timeout (`client_request_timeout`).
        Some(t) => match tokio::time::timeout(t, read).await {
            Ok(read) => read,
            Err(_) => {
                return Err(ScimError::new(
                    408,
                    None,
                    format!(
                        "The request body did not arrive within {} ms",
                        t.as_millis()
                    ),
                )
                .into());
            }
        },
        None => read.await,
    };
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            return Err(
                ScimError::invalid_syntax(format!("Cannot read the request body: {e}")).into(),
            );
        }
        Err(_) => return Err(too_large()),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ScimError::invalid_syntax(
            "The request body is empty; a JSON object is required",
        )
        .into());
    }
    serde_json::from_slice::<Value>(&bytes).map_err(|e| {
        ScimError::invalid_syntax(format!("The request body is not valid JSON: {e}")).into()
    })
}

fn unsupported() -> ApiError {
    ScimError::unsupported_media_type(
        "Send the request body as application/scim+json or application/json",
    )
    .into()
}

/// Decodes a query string into name/value pairs (`+` is a space, `%XX` escapes; invalid
/// UTF-8 is replaced, never rejected).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Decodes `+` and `%XX` escapes.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert!(is_json_content_type(None));
        assert!(is_json_content_type(Some("application/scim+json")));
        assert!(is_json_content_type(Some(
            "application/scim+json; charset=utf-8"
        )));
        assert!(is_json_content_type(Some("Application/JSON;charset=UTF-8")));
        assert!(!is_json_content_type(Some("text/plain")));
        assert!(!is_json_content_type(Some(
            "application/x-www-form-urlencoded"
        )));
    }

    #[test]
    fn query_decoding() {
        let pairs = query_pairs("filter=userName+eq+%22a%40b.c%22&startIndex=1&count&x=%zz%4");
        assert_eq!(pairs[0], ("filter".into(), "userName eq \"a@b.c\"".into()));
        assert_eq!(pairs[1], ("startIndex".into(), "1".into()));
        assert_eq!(pairs[2], ("count".into(), "".into()));
        assert_eq!(pairs[3], ("x".into(), "%zz%4".into()));
        assert_eq!(percent_decode("%41%"), "A%");
        assert_eq!(percent_decode("%C3%A9"), "é");
    }
}
