//! Tenant secret tokens: HS256 JWTs signed with a server-wide key.
//!
//! A token carries `{"sub": <tenant id>, "jti": <token id>, "iat": <seconds>}` and no `exp`
//! (identity providers keep tokens for years). The store keeps only the current token id
//! of each tenant, so generating a new token revokes the previous one on the next request
//! to any replica. [`generate_token`] is the one place that issues tokens (used by the CLI
//! and, later, the admin console).

use base64::Engine as _;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use scim_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// The setting under which a generated signing key is shared by every replica.
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

/// The claims of a tenant token.
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

/// Signs and verifies tenant tokens with the server's HS256 key.
#[derive(Clone)]
pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// The key that authenticates list cursors ([`crate::cursor`]): derived from the
    /// signing secret, so every replica shares it, but never equal to it (a cursor MAC can
    /// never be mistaken for a token signature).
    cursor_key: [u8; 32],
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
            cursor_key: derive_key(secret, b"scim-http list cursor key v1"),
        })
    }

    /// The key list cursors are authenticated with.
    pub(crate) fn cursor_key(&self) -> &[u8; 32] {
        &self.cursor_key
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

/// A sub-key for one purpose: SHA-256(label ‖ 0 ‖ secret). Infallible, and one-way: the
/// sub-key tells nothing of the secret.
fn derive_key(secret: &[u8], label: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(label);
    h.update([0u8]);
    h.update(secret);
    h.finalize().into()
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

/// The signer the server uses: from the configured key when one is given, else from the
/// key shared through the store's settings (generated and stored by the first replica that
/// needs it). The key's UTF-8 bytes are the HMAC secret.
pub fn load_signer(store: &dyn Store, configured: Option<&str>) -> Result<TokenSigner, TokenError> {
    match configured {
        Some(key) => TokenSigner::from_secret(key.as_bytes()),
        None => {
            let fresh = new_signing_key()?;
            let key = store.get_or_init_setting(SIGNING_KEY_SETTING, &fresh)?;
            TokenSigner::from_secret(key.as_bytes())
        }
    }
}

/// A newly issued token.
#[derive(Debug, Clone)]
pub struct GeneratedToken {
    /// The tenant.
    pub tenant_id: String,
    /// The new token id (`jti`).
    pub token_id: String,
    /// The secret token to paste into the identity provider.
    pub token: String,
}

/// Issues a new secret token for `tenant_id` and makes it the tenant's only valid token
/// (the previous one stops working at once). Fails with `StoreError::NotFound` when the
/// tenant does not exist.
pub fn generate_token(
    store: &dyn Store,
    signer: &TokenSigner,
    tenant_id: &str,
) -> Result<GeneratedToken, TokenError> {
    let tenant = store.get_tenant(tenant_id)?;
    let token_id = uuid::Uuid::new_v4().simple().to_string();
    let now = Utc::now();
    let claims = TokenClaims {
        sub: tenant.id.clone(),
        jti: token_id.clone(),
        iat: now.timestamp(),
        exp: None,
    };
    // Sign before storing, so a signing failure leaves the old token valid.
    let token = signer.sign(&claims)?;
    store.set_current_token(&tenant.id, &token_id, now)?;
    Ok(GeneratedToken {
        tenant_id: tenant.id,
        token_id,
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
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
