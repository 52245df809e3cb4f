//! Subscription secrets: derived, never stored.
//!
//! A subscription's signing secret is an HMAC of its id and secret version under the
//! server's event signing key, so rotating one is bumping the version, and every replica
//! computes the same secret without coordination. The key is either configured by the
//! operator ([`EventSigningKey`], from the environment or a key file: then nothing in the
//! database derives a secret) or, by default, one random 32-byte key kept in the shared
//! settings table (the first replica that needs it creates it; every replica reads the same
//! one). With the default, a copy of the database is enough to derive every subscription's
//! secret and forge events to its receiver; `docs/security.md` says so.

use crate::EventsError;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use hmac::{KeyInit as _, Mac as _};
use scim_store::{SettingsRepo, Subscription};

/// The settings key of the event signing key (base64 of 32 random bytes).
pub const SIGNING_KEY_SETTING: &str = "event-secret-key";

/// The prefix of every subscription secret: it tells a leaked string for what it is.
const SECRET_PREFIX: &str = "whsec_";

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// An event signing key configured by the operator: 32 bytes, given in base64 (standard or
/// URL-safe alphabet, padding optional). Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct EventSigningKey(Vec<u8>);

impl std::fmt::Debug for EventSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventSigningKey(<redacted>)")
    }
}

impl EventSigningKey {
    /// Decodes a configured key; [`EventsError::BadConfiguredKey`] unless it is base64 of
    /// exactly 32 bytes (surrounding whitespace, such as a key file's newline, is ignored).
    pub fn from_base64(text: &str) -> Result<Self, EventsError> {
        let text = text.trim();
        let decoded = STANDARD
            .decode(text)
            .or_else(|_| STANDARD_NO_PAD.decode(text))
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')));
        match decoded {
            Ok(key) if key.len() == 32 => Ok(EventSigningKey(key)),
            _ => Err(EventsError::BadConfiguredKey),
        }
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The key subscription secrets are derived from: the configured one when given (the
/// settings table is not read), else [`signing_key`] from the settings table.
pub fn resolve_signing_key(
    configured: Option<&EventSigningKey>,
    settings: &dyn SettingsRepo,
) -> Result<Vec<u8>, EventsError> {
    match configured {
        Some(key) => Ok(key.0.clone()),
        None => signing_key(settings),
    }
}

/// The server's event signing key: 32 random bytes kept (base64) in the settings table
/// under [`SIGNING_KEY_SETTING`], created by the first caller (`get_or_init`: all replicas
/// agree on the winner).
pub fn signing_key(settings: &dyn SettingsRepo) -> Result<Vec<u8>, EventsError> {
    let mut fresh = [0u8; 32];
    getrandom::fill(&mut fresh).map_err(|e| EventsError::Random(e.to_string()))?;
    let stored = settings.get_or_init_setting(SIGNING_KEY_SETTING, &STANDARD.encode(fresh))?;
    match STANDARD.decode(stored.trim()) {
        Ok(key) if key.len() == 32 => Ok(key),
        _ => Err(EventsError::BadSigningKey),
    }
}

/// The subscription's signing secret: `"whsec_"` + base64url(HMAC-SHA256(key,
/// `"scim-event-secret:{id}:{secret_version}"`)). The whole string (prefix included) is the
/// HS256 key a receiver verifies with. It changes when the secret is rotated.
pub fn subscription_secret(key: &[u8], subscription: &Subscription) -> String {
    // HMAC accepts keys of any length: `new_from_slice` cannot fail here, and an empty
    // MAC (the unreachable error arm) would still be a string no receiver accepts.
    let tag = match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(
                format!(
                    "scim-event-secret:{}:{}",
                    subscription.id, subscription.secret_version
                )
                .as_bytes(),
            );
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    };
    format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(tag))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::Utc;
    use scim_core::events::EventMode;
    use scim_store::{Sink, StoreResult};
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Settings(Mutex<HashMap<String, String>>);

    impl SettingsRepo for Settings {
        fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
            Ok(self.0.lock().unwrap().get(key).cloned())
        }
        fn get_or_init_setting(&self, key: &str, value: &str) -> StoreResult<String> {
            let mut m = self.0.lock().unwrap();
            Ok(m.entry(key.into()).or_insert_with(|| value.into()).clone())
        }
    }

    pub(crate) fn subscription(id: &str, version: i64) -> Subscription {
        Subscription {
            id: id.into(),
            tenant_id: "t1".into(),
            sink: Sink::Webhook {
                url: "https://rx.example/hook".into(),
            },
            mode: EventMode::Full,
            events: None,
            enabled: true,
            disabled_reason: None,
            secret_version: version,
            created: Utc::now(),
            cursor: 0,
            attempts: 0,
            failing_since: None,
            next_attempt: None,
            last_error: None,
        }
    }

    #[test]
    fn the_key_is_created_once_and_shared() {
        let settings = Settings::default();
        let a = signing_key(&settings).unwrap();
        let b = signing_key(&settings).unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(a, b, "the second caller reads the first one's key");
        assert_eq!(
            settings.get_setting(SIGNING_KEY_SETTING).unwrap(),
            Some(STANDARD.encode(&a))
        );
    }

    #[test]
    fn a_configured_key_is_used_and_the_settings_are_not_touched() {
        let settings = Settings::default();
        let bytes = [9u8; 32];
        for text in [
            STANDARD.encode(bytes),
            format!("{}\n", STANDARD.encode(bytes)),
            STANDARD_NO_PAD.encode(bytes),
            URL_SAFE_NO_PAD.encode([0xfbu8; 32]),
        ] {
            let key = EventSigningKey::from_base64(&text).unwrap();
            let resolved = resolve_signing_key(Some(&key), &settings).unwrap();
            assert_eq!(resolved.len(), 32, "{text:?}");
            assert_eq!(resolved, key.as_bytes());
        }
        assert_eq!(settings.get_setting(SIGNING_KEY_SETTING).unwrap(), None);
        assert_eq!(
            format!(
                "{:?}",
                EventSigningKey::from_base64(&STANDARD.encode(bytes)).unwrap()
            ),
            "EventSigningKey(<redacted>)"
        );
        // Without one, the stored key (created on first use).
        let stored = resolve_signing_key(None, &settings).unwrap();
        assert_eq!(stored, signing_key(&settings).unwrap());
        assert_ne!(stored, bytes);
    }

    #[test]
    fn a_malformed_configured_key_is_refused() {
        for bad in [
            "",
            "short",
            "c2hvcnQ=",
            "not base64 at all!",
            &STANDARD.encode([1u8; 31]),
            &STANDARD.encode([1u8; 33]),
        ] {
            assert!(
                matches!(
                    EventSigningKey::from_base64(bad),
                    Err(EventsError::BadConfiguredKey)
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_malformed_stored_key_is_an_error() {
        for bad in ["not base64!", "c2hvcnQ=", ""] {
            let settings = Settings::default();
            settings
                .get_or_init_setting(SIGNING_KEY_SETTING, bad)
                .unwrap();
            assert!(
                matches!(signing_key(&settings), Err(EventsError::BadSigningKey)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn secrets_are_derived_per_id_version_and_key() {
        let key = [7u8; 32];
        let s1 = subscription_secret(&key, &subscription("s1", 1));
        assert!(s1.starts_with("whsec_"));
        // 32 bytes of MAC in unpadded base64url.
        assert_eq!(s1.len(), "whsec_".len() + 43);
        assert!(!s1.contains(['+', '/', '=']));
        assert_eq!(s1, subscription_secret(&key, &subscription("s1", 1)));
        let others = [
            subscription_secret(&key, &subscription("s2", 1)),
            subscription_secret(&key, &subscription("s1", 2)),
            subscription_secret(&[8u8; 32], &subscription("s1", 1)),
        ];
        for other in others {
            assert_ne!(s1, other);
        }
    }

    #[test]
    fn the_derivation_is_the_documented_hmac() {
        let key = b"k".repeat(32);
        let mut mac = HmacSha256::new_from_slice(&key).unwrap();
        mac.update(b"scim-event-secret:abc:3");
        let want = format!(
            "whsec_{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        );
        assert_eq!(subscription_secret(&key, &subscription("abc", 3)), want);
    }
}
