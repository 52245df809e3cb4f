//! Authentication of tenant requests: the [`Authenticated`] extractor and
//! [`Authenticated::check`].
//!
//! Accepts `Authorization: Bearer <token>` (scheme in any letter case) and a bare
//! `Authorization: <token>` (Okta's "Header" mode). The token must be an HS256 JWT signed
//! with the server key, its `sub` must be the tenant id in the URL, and its `jti` must be
//! the tenant's current token id, read from the store on every request (so rotation takes
//! effect at once on every replica). Any failure is a 401 with a SCIM error body and
//! `WWW-Authenticate: Bearer realm="scim"`. Tokens are never logged.
//!
//! The work is split in two so that a request reaches the store once: the extractor checks
//! what needs no IO (signature, `sub`), so a forged or foreign token costs no database work;
//! the handler's one store session then starts with [`Authenticated::check`] (the current
//! token id, on the same connection as the operation).

use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::constant_time_eq;
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::Utc;
use scim_core::ScimError;
use scim_core::events::UpdateMethod;
use scim_store::{Access, Session, StoreError};
use std::future::{Ready, ready};

/// The caller of a tenant endpoint, as its token's signature says. Not yet proof that the
/// token is current: [`Authenticated::check`] it on the request's store session before
/// anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The tenant (from the URL, confirmed by the token).
    pub tenant_id: String,
    /// The id of the token used (recorded in the provisioning log).
    pub token_id: String,
    /// This request's transaction id (a new random UUID, simple form, per request): the
    /// `txn` claim of every event the request's change produces (RFC 9967), so a receiver
    /// can tell which events one request made.
    pub txn: String,
}

impl Authenticated {
    /// The store actor for the change this request makes: its token, its transaction id,
    /// and whether an update is a PATCH or a PUT (`prov:patch` or `prov:put` events).
    pub fn actor(&self, method: UpdateMethod) -> scim_store::Actor {
        scim_store::Actor {
            token_id: Some(self.token_id.clone()),
            txn: Some(self.txn.clone()),
            method,
        }
    }

    /// Checks on `s` that the token is the tenant's current one, and records its use at
    /// most once per [`scim_store::TOKEN_USE_RESOLUTION`] (an UPDATE on every request would
    /// take SQLite's single write lock each time).
    pub fn check(&self, s: &mut dyn Session) -> Result<(), ApiError> {
        let tenant = match s.tenant(&self.tenant_id) {
            Ok(t) => t,
            Err(StoreError::NotFound) => {
                return Err(ApiError::Unauthorized("tenant does not exist"));
            }
            Err(e) => return Err(e.into()),
        };
        let Some(record) = tenant.token.filter(|r| {
            !r.id.is_empty() && constant_time_eq(r.id.as_bytes(), self.token_id.as_bytes())
        }) else {
            return Err(ApiError::Unauthorized(
                "token is not the tenant's current token",
            ));
        };
        let now = Utc::now();
        if record.use_is_stale(now)
            && let Err(e) = s.record_token_use(&self.tenant_id, &self.token_id, now)
        {
            tracing::warn!(error = %e, "could not record token use");
        }
        Ok(())
    }
}

/// The token in an `Authorization` header value: after a `Bearer` scheme (any case), or
/// the whole value when there is no scheme.
pub fn token_from_header(value: &str) -> Option<&str> {
    let value = value.trim();
    let token = match value.split_once(char::is_whitespace) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return None,
        None if value.eq_ignore_ascii_case("bearer") => return None,
        None => value,
    };
    (!token.is_empty()).then_some(token)
}

/// Checks what needs no IO: the header's token is signed by this server for `tenant_id`.
pub fn verify(
    state: &AppState,
    tenant_id: &str,
    header: Option<&str>,
) -> Result<Authenticated, ApiError> {
    let token = header
        .and_then(token_from_header)
        .ok_or(ApiError::Unauthorized(
            "missing or malformed Authorization header",
        ))?;
    let claims = state
        .signer
        .verify(token)
        .map_err(|_| ApiError::Unauthorized("token signature, algorithm or expiry invalid"))?;
    if !constant_time_eq(claims.sub.as_bytes(), tenant_id.as_bytes()) {
        return Err(ApiError::Unauthorized("token issued for another tenant"));
    }
    Ok(Authenticated {
        tenant_id: tenant_id.to_string(),
        token_id: claims.jti,
        txn: uuid::Uuid::new_v4().simple().to_string(),
    })
}

/// The whole check ([`verify`], then [`Authenticated::check`] and the rate limit on a
/// session of its own), for callers that do nothing else with the store.
pub async fn authenticate(
    state: &AppState,
    tenant_id: &str,
    header: Option<&str>,
) -> Result<Authenticated, ApiError> {
    let auth = verify(state, tenant_id, header)?;
    let (checked, limiter) = (auth.clone(), state.limiter.clone());
    state
        .session(Access::Read, move |s| {
            checked.check(s)?;
            limiter.admit(&checked.tenant_id)
        })
        .await?;
    Ok(auth)
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    // No IO here (see the module docs), so the extractor is ready at once.
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready((|| {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ScimError::internal("application state is not configured"))?;
            let tenant_id = req
                .match_info()
                .get("tenant_id")
                .ok_or_else(|| ScimError::not_found("Unknown endpoint"))?;
            let header = req
                .headers()
                .get(AUTHORIZATION)
                .map(|v| v.to_str().unwrap_or_default());
            verify(state, tenant_id, header)
        })())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_gets_its_own_txn_and_the_actor_carries_it() {
        let auth = |txn: &str| Authenticated {
            tenant_id: "t".into(),
            token_id: "k".into(),
            txn: txn.into(),
        };
        let a = auth("aaaa");
        let actor = a.actor(UpdateMethod::Patch);
        assert_eq!(actor.txn.as_deref(), Some("aaaa"));
        assert_eq!(actor.token_id.as_deref(), Some("k"));
        assert_eq!(actor.method, UpdateMethod::Patch);
        assert_eq!(a.actor(UpdateMethod::Put).method, UpdateMethod::Put);
        // `verify` mints a fresh one per request.
        let signer =
            crate::TokenSigner::from_secret(b"a-unit-test-signing-key-of-32+bytes!!").unwrap();
        let token = signer
            .sign(&crate::tokens::TokenClaims {
                sub: "t".into(),
                jti: "k".into(),
                iat: 0,
                exp: None,
            })
            .unwrap();
        let state = crate::AppState::new(
            std::sync::Arc::new(
                scim_store::DieselStore::open(&scim_store::StoreConfig::new("sqlite::memory:"))
                    .unwrap(),
            ),
            signer,
            "https://x",
            crate::Limits::default(),
        );
        let header = format!("Bearer {token}");
        let one = verify(&state, "t", Some(&header)).unwrap();
        let two = verify(&state, "t", Some(&header)).unwrap();
        assert_ne!(one.txn, two.txn);
        assert_eq!(one.txn.len(), 32);
    }

    #[test]
    fn header_forms() {
        assert_eq!(token_from_header("Bearer abc"), Some("abc"));
        assert_eq!(token_from_header("bearer   abc "), Some("abc"));
        assert_eq!(token_from_header("BEARER abc"), Some("abc"));
        assert_eq!(token_from_header("abc"), Some("abc"));
        assert_eq!(token_from_header("Basic abc"), None);
        assert_eq!(token_from_header("non-token"), Some("non-token"));
        assert_eq!(token_from_header(""), None);
        assert_eq!(token_from_header("Bearer "), None);
    }
}
