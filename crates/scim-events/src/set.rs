//! Outbox events as signed Security Event Tokens.
//!
//! The claims come from `scim_core`'s `StoredEvent::claims`; this module fixes who issues a
//! SET and for whom:
//!
//! - `iss` is the tenant's SCIM base URL, `{public_url}/scim/v2/{tenant}` (relative
//!   `sub_id.uri`s and `meta.location`s resolve against it);
//! - `aud` is the subscription's target (the webhook URL, or `nats:<subject>`), so a SET
//!   captured on one receiver is recognisably not meant for another; for the pull API (no
//!   subscription) it is the tenant's feed, `{iss}/Events`;
//! - the mode is the subscription's, `full` for the pull API.
//!
//! A SET is signed as a JWS compact serialisation, HS256, header
//! `{"typ":"secevent+jwt","alg":"HS256"}` (RFC 8417 §2.3), with the subscription's secret
//! (the whole `whsec_…` string) as the key: any JWT library verifies it.

use crate::EventsError;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use scim_core::events::{EventMode, SetContext};
use scim_store::{EventRecord, Subscription};
use serde_json::{Value, json};

/// The media type of a pushed SET (RFC 8935 §2).
pub const JWS_CONTENT_TYPE: &str = "application/secevent+jwt";

/// The JWS `typ` header of a SET (RFC 8417 §2.3).
pub const SET_TYP: &str = "secevent+jwt";

/// The event URI of a test SET sent by `Deliverer::send_test`.
pub const TEST_EVENT_URI: &str = "urn:ietf:params:scim:event:misc:test";

/// The path of a tenant's event feed under its issuer: the pull API's audience and the
/// subject of a test SET.
const FEED_PATH: &str = "/Events";

/// The `iss` of a tenant's SETs: `{public_url}/scim/v2/{tenant}` (a trailing `/` of the
/// public URL is dropped).
pub fn issuer(public_url: &str, tenant_id: &str) -> String {
    format!("{}/scim/v2/{tenant_id}", public_url.trim_end_matches('/'))
}

/// The `aud` of a SET: the subscription's target, or the tenant's feed (`{iss}/Events`)
/// for the pull API.
pub fn audience(issuer: &str, subscription: Option<&Subscription>) -> Vec<String> {
    match subscription {
        Some(s) => vec![s.sink.target()],
        None => vec![format!("{issuer}{FEED_PATH}")],
    }
}

/// The SET claims of an outbox event, for a subscription (its target as `aud`, its mode)
/// or, with `None`, for the pull API (`aud` the tenant's feed, `full` mode).
pub fn render_set(
    record: &EventRecord,
    subscription: Option<&Subscription>,
    public_url: &str,
) -> Value {
    let iss = issuer(public_url, &record.tenant_id);
    let aud = audience(&iss, subscription);
    let mode = subscription.map_or(EventMode::Full, |s| s.mode);
    record.event.claims(&SetContext {
        issuer: &iss,
        audience: &aud,
        mode,
    })
}

/// The claims of a test SET for a subscription: a fresh `jti` and `txn`, the tenant's feed
/// as subject, and one `misc:test` event.
pub fn render_test_set(
    subscription: &Subscription,
    public_url: &str,
    jti: &str,
    now: DateTime<Utc>,
) -> Value {
    let iss = issuer(public_url, &subscription.tenant_id);
    json!({
        "iss": iss,
        "iat": now.timestamp(),
        "jti": jti,
        "aud": audience(&iss, Some(subscription)),
        "txn": jti,
        "sub_id": {"format": "scim", "uri": FEED_PATH},
        "events": {
            TEST_EVENT_URI: {"description": "a test event: the subscription's receiver is reachable"}
        }
    })
}

/// Signs SET claims: a JWS compact serialisation, HS256, header
/// `{"typ":"secevent+jwt","alg":"HS256"}`, keyed by the UTF-8 bytes of `secret`.
///
/// ```
/// let claims = serde_json::json!({"iss": "https://h/scim/v2/t1", "jti": "j1", "events": {}});
/// let jws = scim_events::sign_set(&claims, "whsec_example")?;
/// // Any JWT library verifies it with the same secret (a SET has no `exp`):
/// let key = jsonwebtoken::DecodingKey::from_secret(b"whsec_example")?;
/// let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
/// v.required_spec_claims.clear();
/// v.validate_exp = false;
/// v.validate_aud = false;
/// let got = jsonwebtoken::decode::<serde_json::Value>(&jws, &key, &v)?;
/// assert_eq!(got.claims, claims);
/// assert_eq!(got.header.typ.as_deref(), Some("secevent+jwt"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sign_set(claims: &Value, secret: &str) -> Result<String, EventsError> {
    let key = EncodingKey::from_secret(secret.as_bytes())
        .map_err(|e| EventsError::Signing(e.to_string()))?;
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some(SET_TYP.into());
    jsonwebtoken::encode(&header, claims, &key).map_err(|e| EventsError::Signing(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::tests::subscription;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use chrono::TimeZone;
    use jsonwebtoken::{DecodingKey, Validation};
    use scim_core::ResourceKind;
    use scim_core::events::{ChangeEvent, EventType, StoredEvent, Subject};
    use scim_store::Sink;

    fn record() -> EventRecord {
        EventRecord {
            tenant_id: "t1".into(),
            position: 7,
            event: StoredEvent {
                jti: "j7".into(),
                txn: "x1".into(),
                issued_at: Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
                event: ChangeEvent {
                    event_type: EventType::Create,
                    subject: Subject {
                        kind: ResourceKind::User,
                        id: "u1".into(),
                        external_id: Some("ada".into()),
                    },
                    version: Some(1),
                    data: Some(json!({"id": "u1", "userName": "ada",
                        "meta": {"location": "/Users/u1"}})),
                    attributes: vec!["id".into(), "userName".into()],
                    group: None,
                },
            },
        }
    }

    #[test]
    fn issuer_is_the_tenant_base_url() {
        let cases = [
            ("https://scim.example", "https://scim.example/scim/v2/t1"),
            ("https://scim.example/", "https://scim.example/scim/v2/t1"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/scim/v2/t1"),
        ];
        for (public, want) in cases {
            assert_eq!(issuer(public, "t1"), want);
        }
    }

    #[test]
    fn a_subscription_gets_its_target_as_audience_and_its_mode() {
        let mut sub = subscription("s1", 1);
        let full = render_set(&record(), Some(&sub), "https://h");
        assert_eq!(full["iss"], "https://h/scim/v2/t1");
        assert_eq!(full["aud"], json!(["https://rx.example/hook"]));
        let p = &full["events"]["urn:ietf:params:scim:event:prov:create:full"];
        assert_eq!(
            p["data"]["meta"]["location"],
            "https://h/scim/v2/t1/Users/u1"
        );

        sub.mode = EventMode::Notice;
        sub.sink = Sink::Nats {
            subject: "scim.t1".into(),
        };
        let notice = render_set(&record(), Some(&sub), "https://h");
        assert_eq!(notice["aud"], json!(["nats:scim.t1"]));
        assert_eq!(
            notice["events"]["urn:ietf:params:scim:event:prov:create:notice"]["attributes"],
            json!(["id", "userName"])
        );
    }

    #[test]
    fn the_pull_api_gets_the_feed_as_audience_in_full_mode() {
        let c = render_set(&record(), None, "https://h/");
        assert_eq!(c["aud"], json!(["https://h/scim/v2/t1/Events"]));
        assert_eq!(c["jti"], "j7");
        assert_eq!(c["txn"], "x1");
        assert!(
            c["events"]
                .get("urn:ietf:params:scim:event:prov:create:full")
                .is_some()
        );
    }

    #[test]
    fn a_signed_set_verifies_with_an_ordinary_jwt_library() {
        let secret = "whsec_abc";
        let claims = render_set(&record(), None, "https://h");
        let jws = sign_set(&claims, secret).unwrap();

        let header = jws.split('.').next().unwrap();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(header, json!({"typ": "secevent+jwt", "alg": "HS256"}));

        let mut v = Validation::new(Algorithm::HS256);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        v.validate_aud = false;
        let key = DecodingKey::from_secret(secret.as_bytes()).unwrap();
        let got = jsonwebtoken::decode::<Value>(&jws, &key, &v).unwrap();
        assert_eq!(got.claims, claims);
        let wrong = DecodingKey::from_secret(b"whsec_abd").unwrap();
        assert!(jsonwebtoken::decode::<Value>(&jws, &wrong, &v).is_err());
    }

    #[test]
    fn an_empty_secret_is_refused() {
        assert!(matches!(
            sign_set(&json!({}), ""),
            Err(EventsError::Signing(_))
        ));
    }

    #[test]
    fn a_test_set_names_the_feed_and_the_test_event() {
        let sub = subscription("s1", 1);
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let c = render_test_set(&sub, "https://h", "jt", now);
        assert_eq!(c["iss"], "https://h/scim/v2/t1");
        assert_eq!(c["aud"], json!(["https://rx.example/hook"]));
        assert_eq!(c["sub_id"], json!({"format": "scim", "uri": "/Events"}));
        assert_eq!(c["jti"], "jt");
        assert_eq!(c["iat"], now.timestamp());
        assert!(c["events"].get(TEST_EVENT_URI).is_some());
    }
}
