//! Resource versions as weak entity tags (RFC 7644 §3.14): `meta.version`, the `ETag`
//! header, and the `If-Match` / `If-None-Match` checks.

/// The weak ETag of a resource at `version`, e.g. `W/"3"`.
///
/// ```
/// assert_eq!(scim_core::version::etag(3), "W/\"3\"");
/// ```
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// Parses an entity tag we issued (`W/"3"`, or the strong form `"3"`) back to a version.
pub fn parse_etag(tag: &str) -> Option<i64> {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

/// Whether an `If-Match` / `If-None-Match` header value names `version`: `*` matches any
/// version; otherwise any tag in the comma-separated list must carry it (weak comparison).
pub fn header_matches(header: &str, version: i64) -> bool {
    header.split(',').any(|tag| {
        let tag = tag.trim();
        tag == "*" || parse_etag(tag) == Some(version)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_matches() {
        assert_eq!(parse_etag(&etag(42)), Some(42));
        assert_eq!(parse_etag("\"7\""), Some(7));
        assert_eq!(parse_etag("W/\"x\""), None);
        assert_eq!(parse_etag("7"), None);
        assert!(header_matches("*", 1));
        assert!(header_matches("W/\"1\", W/\"2\"", 2));
        assert!(!header_matches("W/\"1\"", 2));
        assert!(!header_matches("", 2));
    }
}
