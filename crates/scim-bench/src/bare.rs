//! The bare responder's answer: a fixed SCIM user document of about 600 bytes, the size
//! of what the real server returns for one seeded user, so that the two are compared on
//! the same bytes on the wire.

/// The `Content-Type` of every bare response (the one the real server sends).
pub const CONTENT_TYPE: &str = "application/scim+json";

/// A fixed user as the real server renders one seeded by `seed` (about 600 bytes).
pub const USER_DOCUMENT: &str = concat!(
    r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"#,
    r#""id":"6f1c2a9e4b7d4e0f9a3b8c5d2e1f0a7b","externalId":"00u1a2b3c4d5e6f7g8h9","#,
    r#""userName":"user4711@example.com","#,
    r#""name":{"formatted":"Ada Lovelace","familyName":"Lovelace","givenName":"Ada"},"#,
    r#""displayName":"Ada Lovelace","locale":"en-US","title":"Engineer","#,
    r#""emails":[{"value":"user4711@example.com","type":"work","primary":true}],"#,
    r#""active":true,"groups":[],"#,
    r#""meta":{"resourceType":"User","created":"2026-12-01T20:15:09.123Z","#,
    r#""lastModified":"2026-12-01T20:15:09.123Z","#,
    r#""location":"http://127.0.0.1:8080/scim/v2/0b6d3c2a1f9e4d8c/Users/6f1c2a9e4b7d4e0f9a3b8c5d2e1f0a7b","#,
    r#""version":"W/\"1\""}}"#
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_a_user_of_about_600_bytes() {
        let doc: serde_json::Value =
            serde_json::from_str(USER_DOCUMENT).unwrap_or(serde_json::Value::Null);
        assert_eq!(doc["userName"], "user4711@example.com");
        assert!(
            (550..=700).contains(&USER_DOCUMENT.len()),
            "{}",
            USER_DOCUMENT.len()
        );
    }
}
