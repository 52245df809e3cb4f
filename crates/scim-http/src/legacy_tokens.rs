//! The start-up upgrade of tenant tokens issued before opaque tokens.
//!
//! Earlier releases issued HS256 JWTs `{sub: tenant, jti: token id, iat}` signed with a
//! key taken from `SCIM_TOKEN_SIGNING_KEY` or, by default, kept in clear in the
//! `token_signing_key` setting: a copy of the database was enough to mint any tenant's
//! token. Those tokens must keep working without their administrators pasting new ones, so
//! [`upgrade`] recomputes each one exactly as the old code signed it (the same
//! [`TokenSigner::sign`], the same header and claims, `iat` the whole seconds of the stored
//! generation time), stores its SHA-256 and the new public id like any opaque token's, and
//! deletes the key setting, all in one transaction ([`scim_store::TenantRepo::upgrade_legacy_tokens`]):
//! afterwards the old JWT authenticates as an opaque token would (by its hash), and nothing
//! in the database can mint one. Idempotent, and safe when several replicas start at once.
//!
//! Old and new replicas must not serve side by side during the upgrade: an old replica
//! still checks `current_token_id` against the JWT's `jti`, which the upgrade replaces.

use crate::tokens::{SIGNING_KEY_SETTING, TokenClaims, TokenDigest, TokenError, TokenSigner};
use scim_store::{LegacyToken, Store, StoreError};

/// The JWT the old code issued for `old`, signed with `signer`.
pub fn legacy_jwt(signer: &TokenSigner, old: &LegacyToken) -> Result<String, TokenError> {
    signer.sign(&TokenClaims {
        sub: old.tenant_id.clone(),
        jti: old.token_id.clone(),
        iat: old.generated.timestamp(),
        exp: None,
    })
}

/// Rehashes every JWT-era tenant token and deletes the stored signing key. The key is
/// `configured` (`SCIM_TOKEN_SIGNING_KEY`, accepted for this upgrade only) when given,
/// else the stored setting. Returns how many tenants were upgraded. A tenant whose token
/// cannot be recomputed (no key anywhere) is left as is: its token stops working, and a
/// Generate gives it a new one.
pub fn upgrade(store: &dyn Store, configured: Option<&str>) -> Result<usize, TokenError> {
    // A configured key that the old code would have refused fails the start-up.
    let configured = configured
        .map(|k| TokenSigner::from_secret(k.as_bytes()))
        .transpose()?;
    let mut stored_signer: Option<TokenSigner> = None;
    let upgraded = store.upgrade_legacy_tokens(SIGNING_KEY_SETTING, &mut |old, stored| {
        let signer = match (&configured, stored) {
            (Some(signer), _) => signer,
            (None, Some(key)) => match &stored_signer {
                Some(signer) => signer,
                None => {
                    stored_signer.insert(TokenSigner::from_secret(key.as_bytes()).map_err(|e| {
                        StoreError::Config(format!("the stored token signing key: {e}"))
                    })?)
                }
            },
            (None, None) => {
                tracing::warn!(
                    tenant_id = %old.tenant_id,
                    "a token of the JWT era cannot be upgraded: no signing key is configured \
                     or stored; generate a new token for this organization"
                );
                return Ok(None);
            }
        };
        let jwt = legacy_jwt(signer, old)
            .map_err(|e| StoreError::Config(format!("cannot recompute a legacy token: {e}")))?;
        Ok(Some(TokenDigest::of(&jwt).to_new_token()))
    })?;
    if upgraded > 0 {
        tracing::info!(
            tenants = upgraded,
            "upgraded tenant tokens of the JWT era to hashed tokens; the signing key setting is deleted"
        );
    }
    Ok(upgraded)
}
