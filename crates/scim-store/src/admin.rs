//! The admin console's storage: console accounts (operators and organization admins),
//! failed sign-in attempts (shared by every replica, for rate limiting) and writable
//! server settings (the one-time set-up code's hash).

use crate::{Store, StoreResult};
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
    /// The id of the account's current admin API token, if one was issued (the token
    /// itself is never stored).
    pub api_token_id: Option<String>,
    /// Sessions issued before this time are no longer valid (set by signing out).
    pub sessions_valid_after: Option<DateTime<Utc>>,
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
    /// Ends every session of the account issued before `at` (sign-out).
    fn end_admin_sessions(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Makes `token_id` the account's only valid admin API token.
    fn set_admin_api_token(&self, id: &str, token_id: &str) -> StoreResult<()>;
    /// Records a failed sign-in for `email` (case-insensitively) at `at`, and forgets
    /// failures older than `forget_before` (of every address).
    fn record_sign_in_failure(
        &self,
        email: &str,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The number of failed sign-ins for `email` (case-insensitively) at or after `since`.
    fn count_sign_in_failures(&self, email: &str, since: DateTime<Utc>) -> StoreResult<u64>;
    /// Forgets the failed sign-ins of `email` (after a successful one).
    fn clear_sign_in_failures(&self, email: &str) -> StoreResult<()>;
    /// Sets `key` to `value`, replacing any previous value.
    fn put_setting(&self, key: &str, value: &str) -> StoreResult<()>;
    /// Removes `key` (no error when absent).
    fn delete_setting(&self, key: &str) -> StoreResult<()>;
    /// Removes every setting whose key starts with `prefix` (taken literally); returns how
    /// many went.
    fn delete_settings_with_prefix(&self, prefix: &str) -> StoreResult<u64>;
}

/// A store that also keeps the admin console's data (what the console needs). It is kept
/// apart from [`Store`] so that the SCIM layer, and its test doubles, need not implement
/// [`AdminRepo`]; [`DieselStore`](crate::DieselStore) implements both.
pub trait AdminStore: Store + AdminRepo {}

impl<T: Store + AdminRepo + ?Sized> AdminStore for T {}
