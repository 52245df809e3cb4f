//! Tenant secret tokens: opaque random strings, stored only as their SHA-256.
//!
//! A token is [`TOKEN_PREFIX`] followed by 32 random bytes in base64url without padding
//! (the GitHub/Stripe pattern): nothing in it can be forged from anything the server
//! keeps. The tenant row stores the token's SHA-256 and a public id derived from it (the
//! first [`PUBLIC_ID_HEX`] hex digits), which the provisioning log, the events and the
//! console show and which authenticates nothing. A database copy therefore holds no
//! credential. A token is 256 random bits, so an unsalted fast hash is enough: there is
//! nothing to brute-force. [`generate_token`] and [`rotate_token`] are the one place
//! that issues tokens (CLI and console); rotation is a compare-and-set in the store.
//!
//! [`TokenSigner`] and [`TokenClaims`] are the HS256 JWTs of earlier releases. Tenant
//! authentication no longer uses them: they remain for the start-up upgrade of JWT-era
//! tokens ([`crate::legacy_tokens`]) and for the admin console's own signed values.

use base64::Engine as _;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use scim_store::{NewToken, Store, StoreError};
use serde::{Deserialize, Serialize};

/// The setting under which releases before opaque tokens shared their tenant-token
/// signing key (deleted by the start-up upgrade, [`crate::legacy_tokens`]).
pub const SIGNING_KEY_SETTING: &str = "token_signing_key";

/// The minimum length of a signing key, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// Why a token could not be issued or verified, or a key loaded.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The signing key is shorter than [`MIN_KEY_BYTES`].
    #[error("the token signing key must be at least {MIN_KEY_BYTES} bytes long")]
    KeyTooShort,
    /// The operating system's random number generator failed.
    #[error("cannot generate random bytes: {0}")]
    Random(String),
    /// Signing or verification failed (bad signature, algorithm, shape, expiry).
    #[error("invalid token: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
    /// The token has expired.
    #[error("the token has expired")]
    Expired,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The claims of a JWT of [`TokenSigner`] (tenant tokens before opaque ones had
/// `{sub: tenant, jti: token id, iat}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// The tenant id.
    pub sub: String,
    /// The token id, compared with the tenant's current token id on every request.
    pub jti: String,
    /// Issued at, in seconds since the epoch.
    pub iat: i64,
    /// Expiry, in seconds since the epoch. Tokens we issue have none; a token that has one
    /// in the past is rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
}

/// Signs and verifies HS256 JWTs. Tenant tokens are no longer JWTs: this signs exactly as
/// releases before opaque tokens did, for their upgrade ([`crate::legacy_tokens`]), and
/// the admin console still signs its own values with a key of its own.
#[derive(Clone)]
pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(<redacted>)")
    }
}

impl TokenSigner {
    /// A signer using `secret` (at least [`MIN_KEY_BYTES`] bytes) as the HMAC key.
    pub fn from_secret(secret: &[u8]) -> Result<Self, TokenError> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(TokenError::KeyTooShort);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.required_spec_claims = ["sub".to_string()].into_iter().collect();
        // `exp` is optional: checked by hand in `verify` when present.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        Ok(TokenSigner {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
        })
    }

    /// Signs `claims` (HS256).
    pub fn sign(&self, claims: &TokenClaims) -> Result<String, TokenError> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.encoding,
        )?)
    }

    /// Verifies the signature (HS256 only) and expiry of `token` and returns its claims.
    pub fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let data = jsonwebtoken::decode::<TokenClaims>(token, &self.decoding, &self.validation)?;
        if data.header.alg != Algorithm::HS256 {
            return Err(TokenError::Jwt(
                jsonwebtoken::errors::ErrorKind::InvalidAlgorithm.into(),
            ));
        }
        if let Some(exp) = data.claims.exp
            && exp <= Utc::now().timestamp()
        {
            return Err(TokenError::Expired);
        }
        Ok(data.claims)
    }
}

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, TokenError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(buf)
}

/// A new random signing key: 32 random bytes, base64.
pub fn new_signing_key() -> Result<String, TokenError> {
    Ok(base64::engine::general_purpose::STANDARD.encode(random_bytes(32)?))
}

/// The prefix of every tenant token (lets secret scanners and people recognise one).
pub const TOKEN_PREFIX: &str = "scim_";
/// Random bytes in a token.
pub const TOKEN_RANDOM_BYTES: usize = 32;
/// The length of a token: the prefix and 43 base64url characters (32 bytes, no padding).
pub const TOKEN_LEN: usize = TOKEN_PREFIX.len() + 43;
/// Hex digits of the SHA-256 that form a token's public id.
pub const PUBLIC_ID_HEX: usize = 16;

/// Whether `token` has the shape of a token this server issues (prefix, length, base64url
/// alphabet). No IO: anything else is refused before the store is asked.
pub fn is_token_shaped(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token.starts_with(TOKEN_PREFIX)
        && token[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The longest JWT of the earlier releases accepted ([`is_legacy_jwt_shaped`]).
pub const MAX_LEGACY_JWT_LEN: usize = 1024;

/// Whether `token` has the shape of a JWT of the earlier releases (three non-empty
/// base64url segments separated by dots, at most [`MAX_LEGACY_JWT_LEN`] bytes). Such a
/// token authenticates like an opaque one, by its SHA-256, once the start-up upgrade
/// ([`crate::legacy_tokens`]) stored that hash; its signature is never checked.
pub fn is_legacy_jwt_shaped(token: &str) -> bool {
    token.len() <= MAX_LEGACY_JWT_LEN
        && token.split('.').count() == 3
        && token.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The SHA-256 of a presented token.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenDigest([u8; 32]);

impl std::fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenDigest({})", self.public_id())
    }
}

impl TokenDigest {
    /// The digest of `token`.
    pub fn of(token: &str) -> Self {
        use sha2::Digest as _;
        TokenDigest(sha2::Sha256::digest(token.as_bytes()).into())
    }

    /// Lowercase hex, as stored in `tenants.token_hash`.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// The token's public id: the first [`PUBLIC_ID_HEX`] hex digits of the digest.
    pub fn public_id(&self) -> String {
        hex(&self.0[..PUBLIC_ID_HEX / 2])
    }

    /// Whether `stored` (lowercase hex, as in the store) is this digest, in constant time.
    pub fn matches(&self, stored: &str) -> bool {
        constant_time_eq(stored.as_bytes(), self.to_hex().as_bytes())
    }

    /// The id and hash to store for this token.
    pub fn to_new_token(&self) -> NewToken {
        NewToken {
            id: self.public_id(),
            hash: self.to_hex(),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A new random token.
pub fn new_token() -> Result<String, TokenError> {
    let random = random_bytes(TOKEN_RANDOM_BYTES)?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    ))
}

/// A newly issued token.
#[derive(Debug, Clone)]
pub struct GeneratedToken {
    /// The tenant.
    pub tenant_id: String,
    /// The new token's public id.
    pub token_id: String,
    /// The secret token to paste into the identity provider (never stored).
    pub token: String,
}

/// Issues a new secret token for `tenant_id` and makes it the tenant's only valid token
/// (the previous one stops working at once), replacing the token current just before
/// (read here). Fails with `StoreError::NotFound` when the tenant does not exist, and
/// with `StoreError::TokenChanged` when a concurrent rotation won.
pub fn generate_token(store: &dyn Store, tenant_id: &str) -> Result<GeneratedToken, TokenError> {
    let tenant = store.get_tenant(tenant_id)?;
    let expected = tenant.token.map(|t| t.id);
    rotate_token(store, &tenant.id, expected.as_deref())
}

/// Like [`generate_token`], but only if the tenant's current token is still `expected`
/// (the public id the caller last saw; `None`: no token): of two Generates from the same
/// page, one wins and the other gets `StoreError::TokenChanged`, so a token shown to a
/// user is never already dead.
pub fn rotate_token(
    store: &dyn Store,
    tenant_id: &str,
    expected: Option<&str>,
) -> Result<GeneratedToken, TokenError> {
    // Made before storing, so a random-number failure leaves the old token valid.
    let token = new_token()?;
    let record = store.set_current_token(
        tenant_id,
        &TokenDigest::of(&token).to_new_token(),
        Utc::now(),
        expected,
    )?;
    Ok(GeneratedToken {
        tenant_id: tenant_id.to_string(),
        token_id: record.id,
        token,
    })
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn signer() -> TokenSigner {
        TokenSigner::from_secret(&[7u8; 32]).unwrap()
    }

    fn claims() -> TokenClaims {
        TokenClaims {
            sub: "t1".into(),
            jti: "j1".into(),
            iat: 1,
            exp: None,
        }
    }

    #[test]
    fn round_trip() {
        let s = signer();
        let token = s.sign(&claims()).unwrap();
        assert_eq!(s.verify(&token).unwrap(), claims());
    }

    #[test]
    fn short_keys_are_rejected() {
        assert!(matches!(
            TokenSigner::from_secret(b"short"),
            Err(TokenError::KeyTooShort)
        ));
    }

    #[test]
    fn forged_none_and_expired_tokens_fail() {
        let s = signer();
        let other = TokenSigner::from_secret(&[8u8; 32]).unwrap();
        assert!(s.verify(&other.sign(&claims()).unwrap()).is_err());

        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(br#"{"sub":"t1","jti":"j1","iat":1}"#);
        assert!(s.verify(&format!("{header}.{body}.")).is_err());

        let mut expired = claims();
        expired.exp = Some(1000);
        assert!(matches!(
            s.verify(&s.sign(&expired).unwrap()),
            Err(TokenError::Expired)
        ));
        let mut future = claims();
        future.exp = Some(Utc::now().timestamp() + 3600);
        assert!(s.verify(&s.sign(&future).unwrap()).is_ok());
        assert!(s.verify("garbage").is_err());
        assert!(s.verify("").is_err());
    }

    #[test]
    fn tokens_are_prefixed_random_base64url() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(a.starts_with("scim_"));
        assert!(is_token_shaped(&a) && is_token_shaped(&b));
        let raw = URL_SAFE_NO_PAD.decode(&a[TOKEN_PREFIX.len()..]).unwrap();
        assert_eq!(raw.len(), TOKEN_RANDOM_BYTES);
    }

    #[test]
    fn shape_check_refuses_anything_else() {
        let good = new_token().unwrap();
        let body = &good[TOKEN_PREFIX.len()..];
        for bad in [
            String::new(),
            "scim_".into(),
            body.to_string(),
            format!("SCIM_{body}"),
            format!("xcim_{body}"),
            format!("{good}A"),
            good[..TOKEN_LEN - 1].to_string(),
            format!("scim_{}+", &body[..42]),
            format!("scim_{}=", &body[..42]),
            format!("scim_{}é", &body[..41]),
            format!("scim_{}\0", &body[..42]),
            signer().sign(&claims()).unwrap(),
        ] {
            assert!(!is_token_shaped(&bad), "{bad:?}");
        }
        // The JWTs of earlier releases have a shape of their own.
        assert!(is_legacy_jwt_shaped(&signer().sign(&claims()).unwrap()));
        assert!(!is_legacy_jwt_shaped(&good));
        for bad in ["a.b", "a.b.c.d", "a..c", ".b.c", "a.b.", "a.b+.c", "a.b=.c"] {
            assert!(!is_legacy_jwt_shaped(bad), "{bad}");
        }
        let long = format!("{}.b.c", "a".repeat(MAX_LEGACY_JWT_LEN));
        assert!(!is_legacy_jwt_shaped(&long));
    }

    #[test]
    fn digest_hex_public_id_and_match() {
        // SHA-256("abc"), the FIPS 180-2 test vector.
        let d = TokenDigest::of("abc");
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(d.to_hex(), hex);
        assert_eq!(d.public_id(), "ba7816bf8f01cfea");
        assert!(d.matches(hex));
        assert!(!d.matches(&hex.to_uppercase()));
        assert!(!d.matches(&hex[..63]));
        assert!(!d.matches(""));
        assert!(!TokenDigest::of("abd").matches(hex));
        assert_eq!(
            d.to_new_token(),
            NewToken {
                id: "ba7816bf8f01cfea".into(),
                hash: hex.into()
            }
        );
        assert!(!format!("{d:?}").contains(hex));
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
