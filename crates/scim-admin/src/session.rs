//! Sessions, CSRF tokens, admin API tokens and the one-time set-up link.
//!
//! A session is an HS256 token (signed with a key of its own, shared by every replica
//! through the store's settings) in an `HttpOnly`, `SameSite=Strict` cookie, valid for
//! [`SESSION_HOURS`] hours and `Secure` when the public URL is https. Its id carries the
//! session's CSRF token, which every state-changing form echoes in a hidden field. Admin
//! API tokens are signed the same way, carry no expiry, and only the current one's id is
//! stored with the account. Nothing secret is logged.

use crate::AdminError;
use actix_web::HttpRequest;
use actix_web::http::header;
use chrono::Utc;
use scim_http::AppState;
use scim_http::tokens::{
    TokenClaims, TokenSigner, constant_time_eq, new_signing_key, random_bytes,
};
use scim_store::{AdminAccount, AdminStore};
use sha2::Digest as _;
use std::sync::Arc;

/// The setting holding the key that signs sessions and admin API tokens.
pub const SESSION_KEY_SETTING: &str = "admin_session_key";
/// The prefix of the settings that record the one-time set-up codes (by their SHA-256).
pub const SETUP_CODE_SETTING: &str = "admin_setup_code_sha256";
/// The session cookie.
pub const SESSION_COOKIE: &str = "scim_admin_session";
/// The pre-session cookie that protects the sign-in and set-up forms (double submit).
pub const FORM_COOKIE: &str = "scim_admin_form";
/// How long a session lasts.
pub const SESSION_HOURS: i64 = 8;
/// Failed sign-ins allowed per e-mail address within [`FAILURE_WINDOW_MINUTES`].
pub const MAX_FAILURES: u64 = 5;
/// The failed sign-in window.
pub const FAILURE_WINDOW_MINUTES: i64 = 15;

const SESSION_PREFIX: &str = "session.";
const API_PREFIX: &str = "api.";

/// What the console handlers share: the SCIM server's state and the session signer.
#[derive(Clone)]
pub struct AdminState {
    /// The SCIM server's state (store, tenant token signer, public URL).
    pub app: AppState,
    /// The same database as `app.store`, with the console's tables.
    store: Arc<dyn AdminStore>,
    signer: TokenSigner,
    /// Whether cookies get `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// This process's delivery worker, when it runs one (the "send test event" action).
    deliverer: Option<scim_events::Deliverer>,
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
    /// Loads (or creates, once for every replica) the session key from the store.
    /// `store` must be the store of `app` (the binary passes the same `DieselStore`).
    /// Synchronous: call it at start-up, not on an async worker.
    pub fn load(app: AppState, store: Arc<dyn AdminStore>) -> Result<Self, AdminError> {
        let signer = load_signer(store.as_ref())?;
        let secure_cookies = app.public_url.starts_with("https://");
        Ok(AdminState {
            app,
            store,
            signer,
            secure_cookies,
            deliverer: None,
        })
    }

    /// The same state with this process's delivery worker, which sends the console's test
    /// events (without one, "send test event" answers 503).
    pub fn with_deliverer(mut self, deliverer: scim_events::Deliverer) -> Self {
        self.deliverer = Some(deliverer);
        self
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

    /// A new session for `account_id`: the cookie value and its CSRF token.
    pub fn issue_session(&self, account_id: &str) -> Result<(String, String), AdminError> {
        let csrf = random_hex(16)?;
        let issued = Utc::now();
        let now = issued.timestamp();
        let token = self.signer.sign(&TokenClaims {
            sub: account_id.to_string(),
            // The issue time in milliseconds, so that signing out (which ends the
            // sessions issued before it) never ends a session made right after.
            jti: format!("{SESSION_PREFIX}{}.{csrf}", issued.timestamp_millis()),
            iat: now,
            exp: Some(now + SESSION_HOURS * 3600),
        })?;
        Ok((token, csrf))
    }

    /// Issues a new admin API token for the account and makes it the only valid one.
    pub fn issue_api_token(&self, account: &AdminAccount) -> Result<String, AdminError> {
        let id = random_hex(16)?;
        let token = self.signer.sign(&TokenClaims {
            sub: account.id.clone(),
            jti: format!("{API_PREFIX}{id}"),
            iat: Utc::now().timestamp(),
            exp: None,
        })?;
        self.store().set_admin_api_token(&account.id, &id)?;
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

fn load_signer(store: &dyn AdminStore) -> Result<TokenSigner, AdminError> {
    let fresh = new_signing_key()?;
    let key = store.get_or_init_setting(SESSION_KEY_SETTING, &fresh)?;
    Ok(TokenSigner::from_secret(key.as_bytes())?)
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
    .filter(|t| !t.is_empty() && t.len() < 4096)
    .ok_or(AdminError::Unauthenticated)?;
    let claims = state
        .signer
        .verify(&token)
        .map_err(|_| AdminError::Unauthenticated)?;
    let mut issued_ms = 0i64;
    let (csrf, api_id) = match how {
        Credential::Cookie => {
            let (ms, csrf) = claims
                .jti
                .strip_prefix(SESSION_PREFIX)
                .filter(|_| claims.exp.is_some())
                .and_then(|rest| rest.split_once('.'))
                .ok_or(AdminError::Unauthenticated)?;
            issued_ms = ms.parse().map_err(|_| AdminError::Unauthenticated)?;
            (Some(csrf.to_string()), None)
        }
        Credential::Bearer => (
            None,
            Some(
                claims
                    .jti
                    .strip_prefix(API_PREFIX)
                    .ok_or(AdminError::Unauthenticated)?
                    .to_string(),
            ),
        ),
    };
    let sub = claims.sub.clone();
    let account = state
        .run(move |s| match s.store().get_admin(&sub) {
            Ok(a) => Ok(a),
            Err(scim_store::StoreError::NotFound) => Err(AdminError::Unauthenticated),
            Err(e) => Err(e.into()),
        })
        .await?;
    // Signing out ends every session of the account issued before it.
    if how == Credential::Cookie
        && let Some(after) = account.sessions_valid_after
        && issued_ms <= after.timestamp_millis()
    {
        return Err(AdminError::Unauthenticated);
    }
    if let Some(id) = api_id {
        let current = account.api_token_id.as_deref().unwrap_or_default();
        if current.is_empty() || !constant_time_eq(current.as_bytes(), id.as_bytes()) {
            return Err(AdminError::Unauthenticated);
        }
    }
    Ok(Principal { account, csrf })
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

/// Checks the failed sign-in limit of `email`.
pub fn check_sign_in_limit(store: &dyn AdminStore, email: &str) -> Result<(), AdminError> {
    let since = Utc::now() - chrono::TimeDelta::minutes(FAILURE_WINDOW_MINUTES);
    if store.count_sign_in_failures(email, since)? >= MAX_FAILURES {
        return Err(AdminError::TooManyAttempts);
    }
    Ok(())
}

/// Checks `email` and `password` (with the failed sign-in limit) and returns the account.
pub fn sign_in(
    store: &dyn AdminStore,
    email: &str,
    password: &str,
) -> Result<AdminAccount, AdminError> {
    let email = email.trim();
    // No address has a control character (and PostgreSQL cannot even compare with NUL).
    if email.is_empty()
        || email.len() > 254
        || email.chars().any(char::is_control)
        || password.len() > crate::accounts::MAX_PASSWORD_BYTES
    {
        return Err(AdminError::BadRequest(
            "Wrong e-mail address or password.".into(),
        ));
    }
    check_sign_in_limit(store, email)?;
    let account = store.find_admin_by_email(email)?;
    let hash = account
        .as_ref()
        .map(|a| a.password_hash.as_str())
        .unwrap_or(crate::accounts::dummy_hash());
    let ok = crate::accounts::verify_password(password, hash);
    match account {
        Some(a) if ok => {
            store.clear_sign_in_failures(email)?;
            store.record_admin_sign_in(&a.id, Utc::now())?;
            Ok(a)
        }
        _ => {
            let now = Utc::now();
            store.record_sign_in_failure(
                email,
                now,
                now - chrono::TimeDelta::minutes(FAILURE_WINDOW_MINUTES * 2),
            )?;
            tracing::info!("admin console: failed sign-in");
            Err(AdminError::BadRequest(
                "Wrong e-mail address or password.".into(),
            ))
        }
    }
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
    fn cookies_are_strict() {
        let c = cookie("n", "v", 10, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(!cookie("n", "v", 10, false).contains("Secure"));
    }
}
