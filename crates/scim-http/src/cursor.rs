//! RFC 9865 list cursors: opaque, tamper-evident, bound to one tenant and one query, and
//! short-lived.
//!
//! A cursor is `base64url(version ‖ issued ‖ created ‖ id ‖ mac)` without padding, so it
//! uses unreserved characters only (RFC 3986 §2.3) and needs no escaping in a query string:
//!
//! - `version`: one byte, [`VERSION`];
//! - `issued`: when the cursor was issued, microseconds since the epoch (8 bytes, big endian);
//! - `created`, `id`: the keyset of the last resource of the page it follows (8 bytes of
//!   microseconds, then the id's UTF-8 bytes to the end);
//! - `mac`: HMAC-SHA256 over the [`QueryBinding`] and everything before it, keyed with the
//!   [`CursorKey`]: 32 random bytes of its own, shared by every replica through the store's
//!   settings ([`CURSOR_KEY_SETTING`]). The key being readable in a database copy is
//!   accepted: a forged cursor can only page through the caller's own tenant (the binding
//!   includes the tenant id, and every page re-authenticates the token first), so it grants
//!   nothing that `startIndex` paging does not.
//!
//! The binding hashes the tenant id, the resource type, the filter, `sortBy`/`sortOrder`
//! and `attributes`/`excludedAttributes` (RFC 9865 §2.1: every parameter but `count` and
//! `cursor` must stay the same from page to page). It is not carried in the cursor: a
//! cursor replayed on another tenant, endpoint or query simply fails its MAC, which is
//! `invalidCursor`, exactly like a forged or altered one.
//!
//! `count` is deliberately not bound: the keyset is valid with any page size, and RFC 9865
//! lets a client size each page (its `invalidCount` for a changed count is a permission
//! for servers that cannot, not a duty).
//!
//! Cursors hold no server state (nothing to bound or to clean up), so they cannot be
//! revoked one by one; they expire after `cursorTimeout` ([`crate::Limits::cursor_timeout`])
//! with `expiredCursor`, and every page re-authenticates the token, so revoking the token
//! stops every walk at once.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{KeyInit as _, Mac as _};
use scim_core::ScimError;
use scim_core::list::ListQuery;
use scim_core::schema::ResourceKind;
use scim_store::Keyset;
use sha2::Digest as _;
use std::time::Duration;

/// The layout version, first byte of every cursor.
pub const VERSION: u8 = 1;

/// The longest cursor accepted, in characters (a longer one is rejected before any work).
pub const MAX_CURSOR_CHARS: usize = 512;

/// The setting under which the cursor key is shared by every replica.
pub const CURSOR_KEY_SETTING: &str = "cursor_key";

/// The key that authenticates list cursors (never shown in `Debug`).
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(<redacted>)")
    }
}

impl CursorKey {
    /// A key of the given bytes (tests; servers use [`CursorKey::load`]).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        CursorKey(bytes)
    }

    /// The key shared through the store's settings, created by the first replica that
    /// needs it (32 random bytes, base64).
    pub fn load(store: &dyn scim_store::SettingsRepo) -> Result<Self, crate::tokens::TokenError> {
        use crate::tokens::{TokenError, random_bytes};
        let fresh = base64::engine::general_purpose::STANDARD.encode(random_bytes(32)?);
        let stored = store.get_or_init_setting(CURSOR_KEY_SETTING, &fresh)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(stored.as_bytes())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or(TokenError::KeyTooShort)?;
        Ok(CursorKey(bytes))
    }

    /// The raw key.
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

const MAC_BYTES: usize = 32;
const HEADER_BYTES: usize = 1 + 8 + 8;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// What a cursor is bound to: a hash of the tenant and of every query parameter that must
/// stay the same from page to page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryBinding([u8; 32]);

impl QueryBinding {
    /// The binding of `query` on `kind`'s endpoint of `tenant_id`.
    ///
    /// The parsed forms are hashed (via their `Debug` text, with a length before each
    /// part), so spelling differences that parse the same (spaces, letter case of keywords)
    /// do not break a walk.
    pub fn new(tenant_id: &str, kind: ResourceKind, query: &ListQuery) -> Self {
        let mut h = sha2::Sha256::new();
        let mut part = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        part(b"scim-http cursor binding v1");
        part(tenant_id.as_bytes());
        part(kind.as_str().as_bytes());
        part(format!("{:?}", query.filter).as_bytes());
        part(format!("{:?}", query.sort_by).as_bytes());
        part(format!("{:?}", query.sort_order).as_bytes());
        part(format!("{:?}", query.attributes).as_bytes());
        part(format!("{:?}", query.excluded_attributes).as_bytes());
        QueryBinding(h.finalize().into())
    }
}

fn mac(key: &[u8; 32], binding: &QueryBinding, body: &[u8]) -> Result<HmacSha256, ScimError> {
    let mut mac = HmacSha256::new_from_slice(key)
        .map_err(|_| ScimError::internal("Internal server error"))?;
    mac.update(&binding.0);
    mac.update(body);
    Ok(mac)
}

fn micros(t: &DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The cursor that continues after `keyset`, issued at `now`.
pub fn encode(
    key: &[u8; 32],
    binding: &QueryBinding,
    keyset: &Keyset,
    now: DateTime<Utc>,
) -> Result<String, ScimError> {
    let mut bytes = Vec::with_capacity(HEADER_BYTES + keyset.id.len() + MAC_BYTES);
    bytes.push(VERSION);
    bytes.extend_from_slice(&micros(&now).to_be_bytes());
    bytes.extend_from_slice(&micros(&keyset.created).to_be_bytes());
    bytes.extend_from_slice(keyset.id.as_bytes());
    let tag = mac(key, binding, &bytes)?.finalize().into_bytes();
    bytes.extend_from_slice(&tag);
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn invalid() -> ScimError {
    ScimError::invalid_cursor(
        "The cursor is not valid for this request: it was altered, or issued for another \
         query (every parameter but 'count' and 'cursor' must stay the same between pages)",
    )
}

/// The keyset a cursor continues after; `None` for the empty cursor (the first page).
///
/// Fails with `invalidCursor` when the cursor is malformed, altered, or bound to another
/// tenant or query, and with `expiredCursor` when it was issued more than `timeout`
/// before `now`.
pub fn decode(
    key: &[u8; 32],
    binding: &QueryBinding,
    cursor: &str,
    now: DateTime<Utc>,
    timeout: Duration,
) -> Result<Option<Keyset>, ScimError> {
    if cursor.is_empty() {
        return Ok(None);
    }
    if cursor.len() > MAX_CURSOR_CHARS {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    if bytes.len() < HEADER_BYTES + MAC_BYTES {
        return Err(invalid());
    }
    let (body, tag) = bytes.split_at(bytes.len() - MAC_BYTES);
    // The MAC first: nothing of an unauthenticated cursor is trusted, not even its version.
    mac(key, binding, body)?
        .verify_slice(tag)
        .map_err(|_| invalid())?;
    if body[0] != VERSION {
        return Err(invalid());
    }
    let word = |at: usize| -> Result<i64, ScimError> {
        let b: [u8; 8] = body[at..at + 8].try_into().map_err(|_| invalid())?;
        Ok(i64::from_be_bytes(b))
    };
    let issued = DateTime::from_timestamp_micros(word(1)?).ok_or_else(invalid)?;
    let created = DateTime::from_timestamp_micros(word(9)?).ok_or_else(invalid)?;
    let id = std::str::from_utf8(&body[HEADER_BYTES..]).map_err(|_| invalid())?;
    let age = now.signed_duration_since(issued);
    if age.to_std().is_ok_and(|age| age > timeout) {
        return Err(ScimError::expired_cursor(format!(
            "The cursor has expired (cursors are valid for {} seconds); start again with an \
             empty cursor",
            timeout.as_secs()
        )));
    }
    Ok(Some(Keyset {
        created,
        id: id.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use scim_core::ScimType;
    use scim_core::list::ListLimits;

    const KEY: [u8; 32] = [9u8; 32];
    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn the_cursor_key_is_random_and_shared_through_the_store() {
        use scim_store::{DieselStore, SettingsRepo as _, StoreConfig};
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/k.db", dir.path().display());
        let store = DieselStore::open(&StoreConfig::new(&url)).unwrap();
        // Two replicas on one database get the same key; another database another one.
        let a = CursorKey::load(&store).unwrap();
        let b = CursorKey::load(&store).unwrap();
        assert_eq!(a.bytes(), b.bytes());
        let other = DieselStore::open(&StoreConfig::new("sqlite::memory:")).unwrap();
        assert_ne!(CursorKey::load(&other).unwrap().bytes(), a.bytes());
        assert!(!format!("{a:?}").contains(&format!("{:?}", a.bytes())));
        // A stored value that is not 32 bytes of base64 is refused, not used.
        let bad = DieselStore::open(&StoreConfig::new("sqlite::memory:")).unwrap();
        bad.get_or_init_setting(CURSOR_KEY_SETTING, "c2hvcnQ=")
            .unwrap();
        assert!(CursorKey::load(&bad).is_err());
    }

    fn query(pairs: &[(&str, &str)]) -> ListQuery {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ListQuery::from_query_pairs(&pairs, &ListLimits::default()).unwrap()
    }

    fn keyset() -> Keyset {
        Keyset {
            created: Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap()
                + chrono::TimeDelta::milliseconds(123),
            id: "0b7c1e5f-9d3a-4c2e-8f1a-2d4b6c8e0a1f".into(),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn round_trips_with_unreserved_characters_only() {
        let b = QueryBinding::new("t1", ResourceKind::User, &query(&[("cursor", "")]));
        let c = encode(&KEY, &b, &keyset(), now()).unwrap();
        assert!(
            c.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-._~".contains(ch)),
            "{c}"
        );
        assert_eq!(decode(&KEY, &b, &c, now(), HOUR).unwrap(), Some(keyset()));
        assert_eq!(decode(&KEY, &b, "", now(), HOUR).unwrap(), None);
    }

    #[test]
    fn any_change_to_the_cursor_is_invalid() {
        let b = QueryBinding::new("t1", ResourceKind::User, &query(&[]));
        let c = encode(&KEY, &b, &keyset(), now()).unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(&c).unwrap();
        for i in 0..bytes.len() {
            bytes[i] ^= 1;
            let altered = URL_SAFE_NO_PAD.encode(&bytes);
            let err = decode(&KEY, &b, &altered, now(), HOUR).unwrap_err();
            assert_eq!(err.scim_type(), Some(ScimType::InvalidCursor), "byte {i}");
            bytes[i] ^= 1;
        }
        for junk in [
            "x",
            "!!!!",
            "AAAA",
            &"A".repeat(MAX_CURSOR_CHARS + 1),
            &c[..c.len() - 2],
        ] {
            let err = decode(&KEY, &b, junk, now(), HOUR).unwrap_err();
            assert_eq!(err.scim_type(), Some(ScimType::InvalidCursor), "{junk}");
        }
        let other_key = [8u8; 32];
        let err = decode(&other_key, &b, &c, now(), HOUR).unwrap_err();
        assert_eq!(err.scim_type(), Some(ScimType::InvalidCursor));
    }

    #[test]
    fn bound_to_tenant_endpoint_and_query_but_not_count() {
        let q = query(&[("filter", "userName sw \"a\""), ("cursor", "")]);
        let b = QueryBinding::new("t1", ResourceKind::User, &q);
        let c = encode(&KEY, &b, &keyset(), now()).unwrap();
        let others = [
            QueryBinding::new("t2", ResourceKind::User, &q),
            QueryBinding::new("t1", ResourceKind::Group, &q),
            QueryBinding::new(
                "t1",
                ResourceKind::User,
                &query(&[("filter", "userName sw \"b\"")]),
            ),
            QueryBinding::new("t1", ResourceKind::User, &query(&[])),
            QueryBinding::new(
                "t1",
                ResourceKind::User,
                &query(&[("filter", "userName sw \"a\""), ("attributes", "userName")]),
            ),
            QueryBinding::new(
                "t1",
                ResourceKind::User,
                &query(&[
                    ("filter", "userName sw \"a\""),
                    ("excludedAttributes", "emails"),
                ]),
            ),
        ];
        for other in &others {
            let err = decode(&KEY, other, &c, now(), HOUR).unwrap_err();
            assert_eq!(err.scim_type(), Some(ScimType::InvalidCursor), "{other:?}");
        }
        let same = QueryBinding::new(
            "t1",
            ResourceKind::User,
            &query(&[("filter", "userName  SW  \"a\""), ("count", "7")]),
        );
        assert_eq!(
            decode(&KEY, &same, &c, now(), HOUR).unwrap(),
            Some(keyset())
        );
    }

    #[test]
    fn expires_after_the_timeout() {
        let b = QueryBinding::new("t1", ResourceKind::Group, &query(&[]));
        let c = encode(&KEY, &b, &keyset(), now()).unwrap();
        let at_limit = now() + chrono::TimeDelta::seconds(3600);
        assert!(decode(&KEY, &b, &c, at_limit, HOUR).is_ok());
        let late = at_limit + chrono::TimeDelta::seconds(1);
        let err = decode(&KEY, &b, &c, late, HOUR).unwrap_err();
        assert_eq!(err.scim_type(), Some(ScimType::ExpiredCursor));
        assert_eq!(err.status(), 400);
        // A replica whose clock is a little behind the issuer's still accepts it.
        let earlier = now() - chrono::TimeDelta::seconds(5);
        assert!(decode(&KEY, &b, &c, earlier, HOUR).is_ok());
    }
}
