//! Sessions, CSRF tokens, admin API tokens and the one-time set-up link.
//!
//! Nothing the database holds is enough to authenticate:
//!
//! - A **session** is server-side. Its cookie is base64url of 32 random bytes; the
//!   `admin_sessions` row keeps only the SHA-256 of that value, with the account (deleted
//!   with it) and an absolute expiry [`SESSION_HOURS`] hours after sign-in. A request's
//!   cookie is hashed and looked up; a missing, expired or tampered one is no session. The
//!   cookie is `HttpOnly`, `SameSite=Strict`, `Path=/admin`, and `Secure` when the public
//!   URL is https.
//! - The session's **CSRF token** is derived from the secret cookie value
//!   (SHA-256 of `"csrf"` and the value, hex), so it is stable for the session, differs
//!   between sessions, and cannot be computed from the database. Every state-changing
//!   form echoes it in a hidden field; the sign-in and set-up forms use a form cookie
//!   instead (double submit), and every form post must come from this server's Origin.
//! - **Signing out** deletes every session of the account, on every replica at once (the
//!   rows are shared; no clock is compared).
//! - An **admin API token** is `scimadm_` and base64url of 32 random bytes; the account
//!   keeps only its SHA-256 (unique), looked up by it and compared in constant time.
//!   Issuing a new one replaces the old.
//!
//! Nothing secret is logged.

use crate::AdminError;
use crate::sign_in::{SignInConfig, SignInGate};
use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeDelta, Utc};
use scim_http::AppState;
use scim_http::tokens::{constant_time_eq, random_bytes};
use scim_store::{AdminAccount, AdminStore};
use sha2::Digest as _;
use std::sync::Arc;

pub use crate::sign_in::{FAILURE_WINDOW_MINUTES, MAX_FAILURES};

/// The prefix of the settings that record the one-time set-up codes (by their SHA-256).
pub const SETUP_CODE_SETTING: &str = "admin_setup_code_sha256";
/// The session cookie.
pub const SESSION_COOKIE: &str = "scim_admin_session";
/// The pre-session cookie that protects the sign-in and set-up forms (double submit).
pub const FORM_COOKIE: &str = "scim_admin_form";
/// How long a session lasts (absolute, from sign-in).
pub const SESSION_HOURS: i64 = 8;
/// The prefix of every admin API token (tells it from a tenant token at a glance).
pub const API_TOKEN_PREFIX: &str = "scimadm_";

/// Random bytes in a session cookie and an admin API token.
const SECRET_BYTES: usize = 32;
/// The length of [`SECRET_BYTES`] in unpadded base64url.
const SECRET_CHARS: usize = 43;

/// What the console handlers share: the SCIM server's state, the store and the sign-in limits.
#[derive(Clone)]
pub struct AdminState {
    /// The SCIM server's state (store, tenant token signer, public URL).
    pub app: AppState,
    /// The same database as `app.store`, with the console's tables.
    store: Arc<dyn AdminStore>,
    /// The sign-in limits of this process.
    gate: SignInGate,
    /// Whether cookies get `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// This process's delivery worker, when it runs one (the "send test event" action).
    deliverer: Option<scim_events::Deliverer>,
    /// The operator's event signing key, when one is configured (else the stored one).
    event_key: Option<scim_events::EventSigningKey>,
}

impl std::fmt::Debug for AdminState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminState")
            .field("app", &self.app)
            .field("secure_cookies", &self.secure_cookies)
            .field("delivers", &self.deliverer.is_some())
            .finish_non_exhaustive()
    }
}

impl AdminState {
    /// The console's state over `store`, with the default sign-in limits. `store` must be
    /// the store of `app` (the binary passes the same `DieselStore`). It reads nothing:
    /// sessions and API tokens need no key.
    pub fn load(app: AppState, store: Arc<dyn AdminStore>) -> Result<Self, AdminError> {
        let secure_cookies = app.public_url.starts_with("https://");
        Ok(AdminState {
            app,
            store,
            gate: SignInGate::new(SignInConfig::default()),
            secure_cookies,
            deliverer: None,
            event_key: None,
        })
    }

    /// The same state with the sign-in limits of `config`.
    pub fn with_sign_in(mut self, config: SignInConfig) -> Self {
        self.gate = SignInGate::new(config);
        self
    }

    /// The sign-in limits.
    pub fn gate(&self) -> &SignInGate {
        &self.gate
    }

    /// The same state with this process's delivery worker, which sends the console's test
    /// events (without one, "send test event" answers 503).
    pub fn with_deliverer(mut self, deliverer: scim_events::Deliverer) -> Self {
        self.deliverer = Some(deliverer);
        self
    }

    /// The same state with the operator's event signing key: subscription secrets shown by
    /// the console are derived from it, as the delivery worker's signatures are.
    pub fn with_event_signing_key(mut self, key: Option<scim_events::EventSigningKey>) -> Self {
        self.event_key = key;
        self
    }

    /// The operator's event signing key, if one is configured.
    pub fn event_signing_key(&self) -> Option<&scim_events::EventSigningKey> {
        self.event_key.as_ref()
    }

    /// This process's delivery worker, if any.
    pub fn deliverer(&self) -> Option<&scim_events::Deliverer> {
        self.deliverer.as_ref()
    }

    /// The store.
    pub fn store(&self) -> &dyn AdminStore {
        self.store.as_ref()
    }

    /// Runs `f` with the store on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AdminError>
    where
        F: FnOnce(&AdminState) -> Result<T, AdminError> + Send + 'static,
        T: Send + 'static,
    {
        let state = self.clone();
        actix_web::web::block(move || f(&state)).await?
    }

    /// A new session for `account_id`: its cookie value (the CSRF token is
    /// [`csrf_token`] of it). Stores only the value's hash, and prunes expired sessions.
    /// Blocking: call it on the blocking pool ([`AdminState::run`]).
    pub fn issue_session(&self, account_id: &str) -> Result<String, AdminError> {
        let value = URL_SAFE_NO_PAD.encode(random_bytes(SECRET_BYTES)?);
        let now = Utc::now();
        self.store().create_admin_session(
            &sha256_hex(&value),
            account_id,
            now,
            now + TimeDelta::hours(SESSION_HOURS),
        )?;
        Ok(value)
    }

    /// Issues a new admin API token for the account and makes it the only valid one (only
    /// its hash is stored). Blocking.
    pub fn issue_api_token(&self, account: &AdminAccount) -> Result<String, AdminError> {
        let token = format!(
            "{API_TOKEN_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(random_bytes(SECRET_BYTES)?)
        );
        self.store()
            .set_admin_api_token(&account.id, &sha256_hex(&token))?;
        Ok(token)
    }

    /// The `Set-Cookie` value that stores a session.
    pub fn session_cookie(&self, token: &str) -> String {
        cookie(
            SESSION_COOKIE,
            token,
            SESSION_HOURS * 3600,
            self.secure_cookies,
        )
    }

    /// The `Set-Cookie` value that removes the session.
    pub fn clear_session_cookie(&self) -> String {
        cookie(SESSION_COOKIE, "", 0, self.secure_cookies)
    }

    /// The `Set-Cookie` value of the sign-in/set-up form token.
    pub fn form_cookie(&self, value: &str) -> String {
        cookie(FORM_COOKIE, value, 3600, self.secure_cookies)
    }
}

fn cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/admin; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The CSRF token of the session whose cookie value is `cookie`: derived from the secret
/// value (never from its stored hash), so the database does not yield it.
pub fn csrf_token(cookie: &str) -> String {
    let mut h = sha2::Sha256::new();
    h.update(b"csrf");
    h.update(cookie.as_bytes());
    hex(&h.finalize())
}

/// Whether `s` has the shape of a secret this module makes (unpadded base64url of
/// [`SECRET_BYTES`] bytes): anything else is refused before any lookup.
fn is_secret(s: &str) -> bool {
    s.len() == SECRET_CHARS
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> Result<String, AdminError> {
    Ok(hex(&random_bytes(n)?))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `s`, lowercase hex.
pub fn sha256_hex(s: &str) -> String {
    hex(&sha2::Sha256::digest(s.as_bytes()))
}

/// A signed-in admin.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account (loaded on every request, so removals and scope changes apply at once).
    pub account: AdminAccount,
    /// The session's CSRF token (`None` for an API token).
    pub csrf: Option<String>,
}

impl Principal {
    /// Whether this admin is an operator (sees every organization).
    pub fn is_operator(&self) -> bool {
        self.account.tenant_id.is_none()
    }

    /// Whether this admin may see organization `tenant_id`.
    pub fn may_see(&self, tenant_id: &str) -> bool {
        match &self.account.tenant_id {
            None => true,
            Some(own) => own == tenant_id,
        }
    }
}

/// The value of cookie `name` in the request.
pub fn request_cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// The session cookie (pages).
    Cookie,
    /// `Authorization: Bearer` with an admin API token (the API).
    Bearer,
}

/// The signed-in admin of `req`, or [`AdminError::Unauthenticated`].
pub async fn authenticate(
    state: &AdminState,
    req: &HttpRequest,
    how: Credential,
) -> Result<Principal, AdminError> {
    let token = match how {
        Credential::Cookie => request_cookie(req, SESSION_COOKIE),
        Credential::Bearer => req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| rest.trim().to_string())
            }),
    }
    .ok_or(AdminError::Unauthenticated)?;
    match how {
        Credential::Cookie => {
            if !is_secret(&token) {
                return Err(AdminError::Unauthenticated);
            }
            let hash = sha256_hex(&token);
            let account = state
                .run(move |s| Ok(s.store().find_admin_session(&hash, Utc::now())?))
                .await?
                .ok_or(AdminError::Unauthenticated)?;
            Ok(Principal {
                account,
                csrf: Some(csrf_token(&token)),
            })
        }
        Credential::Bearer => {
            if !token.strip_prefix(API_TOKEN_PREFIX).is_some_and(is_secret) {
                return Err(AdminError::Unauthenticated);
            }
            let hash = sha256_hex(&token);
            let wanted = hash.clone();
            let account = state
                .run(move |s| Ok(s.store().find_admin_by_api_token(&wanted)?))
                .await?
                .ok_or(AdminError::Unauthenticated)?;
            // The lookup is by hash (its timing says nothing about the token); the compare
            // guards against a store that matched loosely.
            let stored = account.api_token_sha256.as_deref().unwrap_or_default();
            if !constant_time_eq(stored.as_bytes(), hash.as_bytes()) {
                return Err(AdminError::Unauthenticated);
            }
            Ok(Principal {
                account,
                csrf: None,
            })
        }
    }
}

/// Verifies a state-changing form: the Origin header (when present) names this server,
/// and `submitted` equals `expected` (the session's or the form cookie's CSRF token).
pub fn check_csrf(
    state: &AdminState,
    req: &HttpRequest,
    expected: Option<&str>,
    submitted: &str,
) -> Result<(), AdminError> {
    check_origin(state, req)?;
    match expected {
        Some(e) if !e.is_empty() && constant_time_eq(e.as_bytes(), submitted.as_bytes()) => Ok(()),
        _ => Err(AdminError::Forbidden(
            "The form has expired or did not come from this console. Reload the page and try again.",
        )),
    }
}

fn origin_of(url: &str) -> &str {
    match url.find("://") {
        Some(i) => match url[i + 3..].find('/') {
            Some(j) => &url[..i + 3 + j],
            None => url,
        },
        None => url,
    }
}

fn check_origin(state: &AdminState, req: &HttpRequest) -> Result<(), AdminError> {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    if origin == origin_of(&state.app.public_url) || origin == own {
        Ok(())
    } else {
        Err(AdminError::Forbidden(
            "The form was submitted from another site.",
        ))
    }
}

/// When no console account exists yet: makes a new one-time set-up code, keeps its hash
/// in the server settings and returns the set-up link (`None` when an account exists).
///
/// Every call adds a code of its own (the setting `SETUP_CODE_SETTING:<sha256 of the
/// code>`, its value the creation time in milliseconds), so two replicas starting at once
/// each print a link that works; each code is valid for [`SETUP_CODE_HOURS`] hours, and all
/// of them go when the first operator is created ([`clear_setup_codes`]).
pub fn prepare_setup_link(
    store: &dyn AdminStore,
    public_url: &str,
) -> Result<Option<String>, AdminError> {
    if store.count_admins()? > 0 {
        clear_setup_codes(store)?;
        return Ok(None);
    }
    let code = random_hex(24)?;
    let created = Utc::now().timestamp_millis().to_string();
    store.get_or_init_setting(&setup_code_key(&code), &created)?;
    Ok(Some(format!(
        "{}/admin/setup?code={code}",
        public_url.trim_end_matches('/')
    )))
}

/// How long a set-up code stays valid after it was made.
pub const SETUP_CODE_HOURS: i64 = 24;

/// The setting that records the set-up code `code` (by its hash; the code itself is never
/// stored).
fn setup_code_key(code: &str) -> String {
    format!("{SETUP_CODE_SETTING}:{}", sha256_hex(code))
}

/// Whether `code` is a current set-up code. The lookup is by the code's SHA-256, so the
/// comparison leaks nothing about any stored code.
pub fn setup_code_valid(store: &dyn AdminStore, code: &str) -> Result<bool, AdminError> {
    if code.is_empty() || code.len() > 200 {
        return Ok(false);
    }
    let Some(created) = store.get_setting(&setup_code_key(code))? else {
        return Ok(false);
    };
    let Ok(created) = created.parse::<i64>() else {
        return Ok(false);
    };
    // A minute of slack for a replica whose clock runs ahead of this one's.
    let age_ms = Utc::now().timestamp_millis().saturating_sub(created);
    Ok((-60_000..SETUP_CODE_HOURS * 3_600_000).contains(&age_ms))
}

/// Forgets every set-up code (and a code kept by an older version under
/// `SETUP_CODE_SETTING` itself).
pub fn clear_setup_codes(store: &dyn AdminStore) -> Result<(), AdminError> {
    store.delete_settings_with_prefix(SETUP_CODE_SETTING)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(origin_of("https://a.test/prefix"), "https://a.test");
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }

    #[test]
    fn csrf_tokens_come_from_the_secret_value_only() {
        let a = "A".repeat(SECRET_CHARS);
        let b = "B".repeat(SECRET_CHARS);
        assert_eq!(csrf_token(&a), csrf_token(&a));
        assert_ne!(csrf_token(&a), csrf_token(&b));
        // Neither the stored hash nor the value itself.
        assert_ne!(csrf_token(&a), sha256_hex(&a));
        assert_ne!(csrf_token(&a), a);
        assert!(is_secret(&a) && !is_secret(&a[1..]) && !is_secret(&format!("{}=", &a[1..])));
    }

    #[test]
    fn cookies_are_strict() {
        let c = cookie("n", "v", 10, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(!cookie("n", "v", 10, false).contains("Secure"));
    }
}
