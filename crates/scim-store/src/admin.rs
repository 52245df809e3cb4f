//! The admin console's storage: console accounts (operators and organization admins),
//! server-side sessions and admin API tokens (kept only as SHA-256 hashes of the secret
//! values, so that nothing stored is enough to authenticate), sign-in attempts (shared by
//! every replica, for rate limiting) and writable server settings (the one-time set-up
//! code's hash).

use crate::{EntitlementRepo, Store, StoreResult};
use chrono::{DateTime, Utc};

/// An account of the admin console. `tenant_id` is `None` for an operator (sees and
/// manages every organization) and the organization's id for an organization admin.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminAccount {
    /// Opaque account id.
    pub id: String,
    /// The e-mail address as entered (unique, compared case-insensitively).
    pub email: String,
    /// The argon2id PHC string of the password.
    pub password_hash: String,
    /// The organization this admin is limited to; `None` for an operator.
    pub tenant_id: Option<String>,
    /// When the account was created.
    pub created: DateTime<Utc>,
    /// When the account last signed in.
    pub last_sign_in: Option<DateTime<Utc>>,
    /// The SHA-256 (hex) of the account's current admin API token, if one was issued
    /// (the token itself is never stored).
    pub api_token_sha256: Option<String>,
}

/// A sign-in attempt just recorded: its row and how many attempts of its address the
/// window holds, this one included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInAttempt {
    /// The attempt's row (to forget it when it was refused before checking the password).
    pub id: i64,
    /// The attempts of the same address (case-insensitively) in the window, this one
    /// included.
    pub count: u64,
}

impl std::fmt::Debug for AdminAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAccount")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("password_hash", &"<redacted>")
            .field("tenant_id", &self.tenant_id)
            .field("created", &self.created)
            .field("last_sign_in", &self.last_sign_in)
            .finish_non_exhaustive()
    }
}

/// Admin console accounts, sign-in failures and writable settings.
pub trait AdminRepo: Send + Sync {
    /// Creates an account. Fails with `Conflict { attribute: "email" }` when the e-mail
    /// address (case-insensitively) is taken, and `NotFound` when `tenant_id` names no
    /// organization.
    fn create_admin(
        &self,
        email: &str,
        password_hash: &str,
        tenant_id: Option<&str>,
    ) -> StoreResult<AdminAccount>;
    /// Creates an operator account only if no account exists yet (atomically); `None`
    /// when one already exists (the set-up link is then spent).
    fn create_first_operator(
        &self,
        email: &str,
        password_hash: &str,
    ) -> StoreResult<Option<AdminAccount>>;
    /// The number of accounts.
    fn count_admins(&self) -> StoreResult<u64>;
    /// The account with this e-mail address (case-insensitively).
    fn find_admin_by_email(&self, email: &str) -> StoreResult<Option<AdminAccount>>;
    /// The account with this id (`NotFound` otherwise).
    fn get_admin(&self, id: &str) -> StoreResult<AdminAccount>;
    /// Records a successful sign-in at `at`.
    fn record_admin_sign_in(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Stores a console session of account `account_id`, known by the SHA-256 (hex) of its
    /// secret cookie value, valid until `expires_at`; and deletes the sessions (of every
    /// account) that expired before `created`, returning how many went. `NotFound` when
    /// the account does not exist.
    fn create_admin_session(
        &self,
        id_sha256: &str,
        account_id: &str,
        created: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// The account of the session whose id hash is `id_sha256`, if that session exists and
    /// expires after `now` (and its account still exists).
    fn find_admin_session(
        &self,
        id_sha256: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<AdminAccount>>;
    /// Deletes every session of the account (sign-out); returns how many went.
    fn end_admin_sessions(&self, account_id: &str) -> StoreResult<u64>;
    /// Makes the token whose SHA-256 (hex) is `token_sha256` the account's only admin API
    /// token (`NotFound` when the account does not exist).
    fn set_admin_api_token(&self, id: &str, token_sha256: &str) -> StoreResult<()>;
    /// The account whose current admin API token has the SHA-256 (hex) `token_sha256`.
    fn find_admin_by_api_token(&self, token_sha256: &str) -> StoreResult<Option<AdminAccount>>;
    /// Records a sign-in attempt for `email` (case-insensitively) at `at` (committed at
    /// once, so every replica counts it), forgets attempts older than `forget_before` (of
    /// every address), then counts the address's attempts at or after `since`, this one
    /// included. Recording before counting is what makes the limit hold under parallel
    /// attempts: of N attempts racing, the k-th to be recorded counts at least k.
    fn record_sign_in_attempt(
        &self,
        email: &str,
        at: DateTime<Utc>,
        since: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<SignInAttempt>;
    /// Forgets one attempt (refused before its password was checked).
    fn forget_sign_in_attempt(&self, id: i64) -> StoreResult<()>;
    /// The number of sign-in attempts for `email` (case-insensitively) at or after `since`.
    fn count_sign_in_failures(&self, email: &str, since: DateTime<Utc>) -> StoreResult<u64>;
    /// Forgets the sign-in attempts of `email` (after a successful one).
    fn clear_sign_in_failures(&self, email: &str) -> StoreResult<()>;
    /// Sets `key` to `value`, replacing any previous value.
    fn put_setting(&self, key: &str, value: &str) -> StoreResult<()>;
    /// Removes `key` (no error when absent).
    fn delete_setting(&self, key: &str) -> StoreResult<()>;
    /// Removes every setting whose key starts with `prefix` (taken literally); returns how
    /// many went.
    fn delete_settings_with_prefix(&self, prefix: &str) -> StoreResult<u64>;
}

/// A store that also keeps the admin console's data (what the console needs): its
/// accounts and the organizations' roles and entitlements. It is kept apart from [`Store`]
/// so that the SCIM layer, and its test doubles, need not implement [`AdminRepo`] or
/// [`EntitlementRepo`]; [`DieselStore`](crate::DieselStore) implements all of them.
pub trait AdminStore: Store + AdminRepo + EntitlementRepo {}

impl<T: Store + AdminRepo + EntitlementRepo + ?Sized> AdminStore for T {}
