//! Authentication of tenant requests: the [`Authenticated`] extractor and
//! [`Authenticated::check`].
//!
//! Accepts `Authorization: Bearer <token>` (scheme in any letter case) and a bare
//! `Authorization: <token>` (Okta's "Header" mode). The token must be an opaque token of
//! this server ([`crate::tokens`]), or a JWT of an earlier release
//! ([`crate::legacy_tokens`]), whose SHA-256 is the stored hash of the current token of
//! the tenant in the URL, read from the store on every request (so rotation takes effect
//! at once on every replica) and compared in constant time. Any failure is a 401 with a
//! SCIM error body and `WWW-Authenticate: Bearer realm="scim"`. Tokens are never logged.
//! A paused tenant's valid token then gets 403 ([`ApiError::Paused`]): an unauthenticated
//! caller never learns that a tenant is paused.
//!
//! The work is split in two so that a request reaches the store once: the extractor checks
//! what needs no IO (the token's shape), so a malformed token costs no database work; the
//! handler's one store session then starts with [`Authenticated::check`] (the stored hash,
//! on the same connection as the operation).

use crate::error::ApiError;
use crate::state::AppState;
use crate::tenant_schemas::{SchemaCache, Tenancy};
use crate::tokens::{TokenDigest, is_legacy_jwt_shaped, is_token_shaped};
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest};
use chrono::Utc;
use scim_core::ScimError;
use scim_core::events::UpdateMethod;
use scim_store::{Access, Session, StoreError};
use std::future::{Ready, ready};

/// The caller of a tenant endpoint with a well-formed token. Not yet proof of anything:
/// [`Authenticated::check`] it on the request's store session before anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The tenant (from the URL, confirmed by [`Authenticated::check`]).
    pub tenant_id: String,
    /// The public id of the token used (recorded in the provisioning log and events).
    pub token_id: String,
    /// The SHA-256 of the presented token.
    pub digest: TokenDigest,
    /// This request's transaction id (a new random UUID, simple form, per request): the
    /// `txn` claim of every event the request's change produces (RFC 9967), so a receiver
    /// can tell which events one request made.
    pub txn: String,
    /// The request-log entry a single-resource write carries into its transaction
    /// ([`crate::request_log::in_transaction`]); `None` for everything else.
    pub request: Option<scim_store::InTxRequest>,
}

impl Authenticated {
    /// The store actor for the change this request makes: its token, its transaction id,
    /// and whether an update is a PATCH or a PUT (`prov:patch` or `prov:put` events).
    pub fn actor(&self, method: UpdateMethod) -> scim_store::Actor {
        self.actor_in(method, scim_core::schema::registry::Registry::STATIC)
    }

    /// [`Authenticated::actor`] for a tenant with its own resource types (what its events
    /// may carry).
    pub fn actor_in(
        &self,
        method: UpdateMethod,
        schemas: scim_core::schema::registry::Registry,
    ) -> scim_store::Actor {
        scim_store::Actor {
            schemas,
            token_id: Some(self.token_id.clone()),
            txn: Some(self.txn.clone()),
            method,
            request: self.request.clone(),
        }
    }

    /// Checks on `s` that the token is the tenant's current one (its SHA-256 is the stored
    /// hash), records its use at most once per [`scim_store::TOKEN_USE_RESOLUTION`] (an
    /// UPDATE on every request would take SQLite's single write lock each time), then
    /// refuses a paused tenant with 403. Returns the tenant's conformance profile, read
    /// from the same row (no extra query, no cache: a change applies to the next request
    /// on every replica), and its resource types: the static ones when its
    /// `schema_version` is 0, else from `schemas` by that version (read on `s` only on a
    /// miss, so a put or remove applies to the next request on every replica too).
    pub fn check(&self, s: &mut dyn Session, schemas: &SchemaCache) -> Result<Tenancy, ApiError> {
        let tenant = match s.tenant(&self.tenant_id) {
            Ok(t) => t,
            Err(StoreError::NotFound) => {
                return Err(ApiError::Unauthorized(crate::error::UNKNOWN_TENANT));
            }
            Err(e) => return Err(e.into()),
        };
        let Some(record) = tenant
            .token
            .filter(|r| r.hash.as_deref().is_some_and(|h| self.digest.matches(h)))
        else {
            return Err(ApiError::Unauthorized(
                "token is not the tenant's current token",
            ));
        };
        let now = Utc::now();
        if record.use_is_stale(now)
            && let Err(e) = s.record_token_use(&self.tenant_id, &record.id, now)
        {
            tracing::warn!(error = %e, "could not record token use");
        }
        if tenant.paused_at.is_some() {
            return Err(ApiError::Paused);
        }
        let registry = schemas.registry(s, &self.tenant_id, tenant.schema_version)?;
        Ok(Tenancy {
            profile: tenant.profile,
            registry,
        })
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

/// Checks what needs no IO: the header carries a token of this server's shape.
pub fn verify(tenant_id: &str, header: Option<&str>) -> Result<Authenticated, ApiError> {
    let token = header
        .and_then(token_from_header)
        .ok_or(ApiError::Unauthorized(
            "missing or malformed Authorization header",
        ))?;
    // The JWTs of earlier releases still authenticate, by their hash, once upgraded.
    if !is_token_shaped(token) && !is_legacy_jwt_shaped(token) {
        return Err(ApiError::Unauthorized("not a token of this server"));
    }
    let digest = TokenDigest::of(token);
    Ok(Authenticated {
        tenant_id: tenant_id.to_string(),
        token_id: digest.public_id(),
        digest,
        txn: uuid::Uuid::new_v4().simple().to_string(),
        request: None,
    })
}

/// The whole check ([`verify`], then [`Authenticated::check`] and the rate limit on a
/// session of its own), for callers that do nothing else with the store.
pub async fn authenticate(
    state: &AppState,
    tenant_id: &str,
    header: Option<&str>,
) -> Result<Authenticated, ApiError> {
    let auth = verify(tenant_id, header)?;
    let (checked, limiter, schemas) = (auth.clone(), state.limiter.clone(), state.schemas.clone());
    state
        .session(Access::Read, move |s| {
            let _tenancy = checked.check(s, &schemas)?;
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
            let tenant_id = req
                .match_info()
                .get("tenant_id")
                .ok_or_else(|| ScimError::not_found("Unknown endpoint"))?;
            let header = req
                .headers()
                .get(AUTHORIZATION)
                .map(|v| v.to_str().unwrap_or_default());
            verify(tenant_id, header)
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
            digest: TokenDigest::of("x"),
            txn: txn.into(),
            request: None,
        };
        let a = auth("aaaa");
        let actor = a.actor(UpdateMethod::Patch);
        assert_eq!(actor.txn.as_deref(), Some("aaaa"));
        assert_eq!(actor.token_id.as_deref(), Some("k"));
        assert_eq!(actor.method, UpdateMethod::Patch);
        assert_eq!(a.actor(UpdateMethod::Put).method, UpdateMethod::Put);
        // `verify` mints a fresh one per request, and the token id is the public one.
        let token = crate::tokens::new_token().unwrap();
        let header = format!("Bearer {token}");
        let one = verify("t", Some(&header)).unwrap();
        let two = verify("t", Some(&header)).unwrap();
        assert_ne!(one.txn, two.txn);
        assert_eq!(one.txn.len(), 32);
        assert_eq!(one.token_id, TokenDigest::of(&token).public_id());
        assert_eq!(one.digest, TokenDigest::of(&token));
        // Malformed tokens stop here, before any store work.
        for bad in ["Bearer abc", "Bearer scim_", "Basic x", ""] {
            assert!(matches!(
                verify("t", Some(bad)),
                Err(ApiError::Unauthorized(_))
            ));
        }
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
