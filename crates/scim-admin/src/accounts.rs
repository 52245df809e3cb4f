//! Console accounts: password rules, argon2id hashing and verification, and account
//! creation (shared by `scim-server admin create` and the set-up page, whose hash takes an
//! argon2 permit like a sign-in).

use crate::AdminError;
use crate::session::{AdminState, clear_setup_codes, setup_code_valid};
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Argon2, PasswordHash};
use scim_store::{AdminAccount, AdminStore};

/// The shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest accepted password, in bytes (argon2 input stays bounded).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Checks an e-mail address loosely (one `@`, something on both sides, no spaces or
/// control characters) and returns it trimmed.
pub fn check_email(email: &str) -> Result<String, AdminError> {
    let email = email.trim();
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((a, b)) if !a.is_empty() && !b.is_empty() && !b.contains('@'));
    if ok {
        Ok(email.to_string())
    } else {
        Err(AdminError::BadRequest(
            "Enter a valid e-mail address.".into(),
        ))
    }
}

/// Checks the password rules.
pub fn check_password(password: &str) -> Result<(), AdminError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::BadRequest(format!(
            "The password must be at least {MIN_PASSWORD_CHARS} characters long."
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AdminError::BadRequest("The password is too long.".into()));
    }
    Ok(())
}

/// The argon2id PHC string of `password` (random salt, default parameters).
pub fn hash_password(password: &str) -> Result<String, AdminError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AdminError::Internal(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches the PHC string `hash` (false for a malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A PHC string no password is expected to match, verified against unknown e-mail
/// addresses so that they take as long as known ones (computed once).
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("unknown account, never matches").unwrap_or_default())
}

/// Creates a console account: an operator when `tenant_id` is `None`, else an admin of
/// that organization. Validates the e-mail address and password and hashes the password.
pub fn create_account(
    store: &dyn AdminStore,
    email: &str,
    password: &str,
    tenant_id: Option<&str>,
) -> Result<AdminAccount, AdminError> {
    let email = check_email(email)?;
    check_password(password)?;
    let hash = hash_password(password)?;
    match store.create_admin(&email, &hash, tenant_id) {
        Ok(a) => Ok(a),
        Err(scim_store::StoreError::NotFound) => Err(AdminError::BadRequest(format!(
            "no organization with id '{}'",
            tenant_id.unwrap_or_default()
        ))),
        Err(e) => Err(e.into()),
    }
}

/// What the set-up form sends.
#[derive(Debug)]
pub struct SetUp {
    /// The one-time set-up code.
    pub code: String,
    /// The first operator's e-mail address.
    pub email: String,
    /// The password, and its confirmation.
    pub password: String,
    /// The password typed again.
    pub confirm: String,
}

/// The set-up form: its checks, then (holding an argon2 permit, like a sign-in) the hash,
/// the first operator and its session's cookie value. A spent or unknown code is
/// [`AdminError::NotFound`]; a form error is [`AdminError::BadRequest`].
pub async fn set_up_first_operator(
    state: &AdminState,
    form: SetUp,
) -> Result<(AdminAccount, String), AdminError> {
    let (code, email, password, confirm) = (
        form.code.clone(),
        form.email.clone(),
        form.password.clone(),
        form.confirm.clone(),
    );
    let email = state
        .run(move |s| {
            if !setup_code_valid(s.store(), &code)? {
                return Err(AdminError::NotFound);
            }
            if password != confirm {
                return Err(AdminError::BadRequest("The passwords do not match.".into()));
            }
            let email = check_email(&email)?;
            check_password(&password)?;
            Ok(email)
        })
        .await?;
    let permit = state.gate().hash_permit().await?;
    state
        .run(move |s| {
            let hash = hash_password(&form.password);
            drop(permit);
            let hash = hash?;
            // Checked again: the code may have been spent meanwhile.
            if !setup_code_valid(s.store(), &form.code)? {
                return Err(AdminError::NotFound);
            }
            let account = s
                .store()
                .create_first_operator(&email, &hash)?
                .ok_or(AdminError::NotFound)?;
            clear_setup_codes(s.store())?;
            let cookie = s.issue_session(&account.id)?;
            Ok((account, cookie))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", "not a phc string"));
        assert!(!verify_password("x", dummy_hash()));
        assert!(dummy_hash().starts_with("$argon2id$"));
    }

    #[test]
    fn rules() {
        assert!(check_email(" a@b.test ").is_ok());
        for bad in [
            "", "a", "@b", "a@", "a b@c", "a@b@c", "a@b\u{0}", "a\u{7}@b",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert!(check_password("short").is_err());
        assert!(check_password("long enough pw").is_ok());
        assert!(check_password(&"x".repeat(2000)).is_err());
    }
}
