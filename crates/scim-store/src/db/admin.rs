//! [`AdminRepo`] for [`DieselStore`]: admin console accounts, sessions and API token
//! hashes, sign-in attempts and writable settings.

use super::schema::{admin_accounts, admin_sessions, admin_sign_in_failures, server_settings};
use super::{DieselStore, new_id, now_ms, truncate_ms, utc, write_tx};
use crate::{AdminAccount, AdminRepo, SignInAttempt, StoreError, StoreResult};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

type AccountRow = (
    String,
    String,
    String,
    Option<String>,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<String>,
);

const ACCOUNT_COLUMNS: (
    admin_accounts::id,
    admin_accounts::email,
    admin_accounts::password_hash,
    admin_accounts::tenant_id,
    admin_accounts::created,
    admin_accounts::last_sign_in,
    admin_accounts::api_token_sha256,
) = (
    admin_accounts::id,
    admin_accounts::email,
    admin_accounts::password_hash,
    admin_accounts::tenant_id,
    admin_accounts::created,
    admin_accounts::last_sign_in,
    admin_accounts::api_token_sha256,
);

fn account_from_row(row: AccountRow) -> AdminAccount {
    let (id, email, password_hash, tenant_id, created, last_sign_in, api_token_sha256) = row;
    AdminAccount {
        id,
        email,
        password_hash,
        tenant_id,
        created: utc(created),
        last_sign_in: last_sign_in.map(utc),
        api_token_sha256,
    }
}

/// The case-insensitive form of an e-mail address.
fn lower(email: &str) -> String {
    email.trim().to_lowercase()
}

fn ms(t: DateTime<Utc>) -> NaiveDateTime {
    truncate_ms(t.naive_utc())
}

fn insert_account(
    conn: &mut super::AnyConnection,
    email: &str,
    password_hash: &str,
    tenant_id: Option<&str>,
) -> StoreResult<AdminAccount> {
    let id = new_id();
    let created = now_ms();
    let email = email.trim();
    diesel::insert_into(admin_accounts::table)
        .values((
            admin_accounts::id.eq(&id),
            admin_accounts::email.eq(email),
            admin_accounts::email_lower.eq(lower(email)),
            admin_accounts::password_hash.eq(password_hash),
            admin_accounts::tenant_id.eq(tenant_id),
            admin_accounts::created.eq(created),
        ))
        .execute(conn)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict { .. } => StoreError::Conflict {
                attribute: "email".into(),
            },
            other => other,
        })?;
    Ok(AdminAccount {
        id,
        email: email.to_string(),
        password_hash: password_hash.to_string(),
        tenant_id: tenant_id.map(str::to_string),
        created: utc(created),
        last_sign_in: None,
        api_token_sha256: None,
    })
}

impl AdminRepo for DieselStore {
    fn create_admin(
        &self,
        email: &str,
        password_hash: &str,
        tenant_id: Option<&str>,
    ) -> StoreResult<AdminAccount> {
        let mut conn = self.conn()?;
        insert_account(&mut conn, email, password_hash, tenant_id)
    }

    fn create_first_operator(
        &self,
        email: &str,
        password_hash: &str,
    ) -> StoreResult<Option<AdminAccount>> {
        let mut conn = self.conn()?;
        write_tx(&mut conn, |conn| {
            // PostgreSQL: serialize concurrent first sign-ups on a table lock.
            if let super::AnyConnection::Postgresql(c) = conn {
                diesel::sql_query("LOCK TABLE admin_accounts IN EXCLUSIVE MODE").execute(c)?;
            }
            let n: i64 = admin_accounts::table.count().get_result(conn)?;
            if n > 0 {
                return Ok(None);
            }
            insert_account(conn, email, password_hash, None).map(Some)
        })
    }

    fn count_admins(&self) -> StoreResult<u64> {
        let mut conn = self.conn()?;
        let n: i64 = admin_accounts::table.count().get_result(&mut *conn)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn find_admin_by_email(&self, email: &str) -> StoreResult<Option<AdminAccount>> {
        let mut conn = self.conn()?;
        let row: Option<AccountRow> = admin_accounts::table
            .filter(admin_accounts::email_lower.eq(lower(email)))
            .select(ACCOUNT_COLUMNS)
            .first(&mut *conn)
            .optional()?;
        Ok(row.map(account_from_row))
    }

    fn get_admin(&self, id: &str) -> StoreResult<AdminAccount> {
        let mut conn = self.conn()?;
        let row: AccountRow = admin_accounts::table
            .filter(admin_accounts::id.eq(id))
            .select(ACCOUNT_COLUMNS)
            .first(&mut *conn)?;
        Ok(account_from_row(row))
    }

    fn record_admin_sign_in(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let n = diesel::update(admin_accounts::table.filter(admin_accounts::id.eq(id)))
            .set(admin_accounts::last_sign_in.eq(ms(at)))
            .execute(&mut *conn)?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    fn create_admin_session(
        &self,
        id_sha256: &str,
        account_id: &str,
        created: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut conn = self.conn()?;
        // Pruning here keeps the table to the live sessions at the cost of one indexed
        // delete per sign-in (usually of nothing).
        let pruned = diesel::delete(
            admin_sessions::table.filter(admin_sessions::expires_at.le(ms(created))),
        )
        .execute(&mut *conn)?;
        // A missing account is a foreign-key violation, which the store reports as
        // `NotFound`.
        diesel::insert_into(admin_sessions::table)
            .values((
                admin_sessions::id_sha256.eq(id_sha256),
                admin_sessions::account_id.eq(account_id),
                admin_sessions::created.eq(ms(created)),
                admin_sessions::expires_at.eq(ms(expires_at)),
            ))
            .execute(&mut *conn)?;
        Ok(u64::try_from(pruned).unwrap_or(0))
    }

    fn find_admin_session(
        &self,
        id_sha256: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<AdminAccount>> {
        let mut conn = self.conn()?;
        let row: Option<AccountRow> = admin_sessions::table
            .inner_join(admin_accounts::table)
            .filter(admin_sessions::id_sha256.eq(id_sha256))
            .filter(admin_sessions::expires_at.gt(ms(now)))
            .select(ACCOUNT_COLUMNS)
            .first(&mut *conn)
            .optional()?;
        Ok(row.map(account_from_row))
    }

    fn end_admin_sessions(&self, account_id: &str) -> StoreResult<u64> {
        let mut conn = self.conn()?;
        let n =
            diesel::delete(admin_sessions::table.filter(admin_sessions::account_id.eq(account_id)))
                .execute(&mut *conn)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn set_admin_api_token(&self, id: &str, token_sha256: &str) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let n = diesel::update(admin_accounts::table.filter(admin_accounts::id.eq(id)))
            .set(admin_accounts::api_token_sha256.eq(token_sha256))
            .execute(&mut *conn)?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    fn find_admin_by_api_token(&self, token_sha256: &str) -> StoreResult<Option<AdminAccount>> {
        let mut conn = self.conn()?;
        let row: Option<AccountRow> = admin_accounts::table
            .filter(admin_accounts::api_token_sha256.eq(token_sha256))
            .select(ACCOUNT_COLUMNS)
            .first(&mut *conn)
            .optional()?;
        Ok(row.map(account_from_row))
    }

    fn record_sign_in_attempt(
        &self,
        email: &str,
        at: DateTime<Utc>,
        since: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<SignInAttempt> {
        let mut conn = self.conn()?;
        diesel::delete(
            admin_sign_in_failures::table.filter(admin_sign_in_failures::at.lt(ms(forget_before))),
        )
        .execute(&mut *conn)?;
        // Each statement commits on its own: the row is visible to every other attempt
        // before this one counts.
        let id: i64 = diesel::insert_into(admin_sign_in_failures::table)
            .values((
                admin_sign_in_failures::email_lower.eq(lower(email)),
                admin_sign_in_failures::at.eq(ms(at)),
            ))
            .returning(admin_sign_in_failures::id)
            .get_result(&mut *conn)?;
        let n: i64 = admin_sign_in_failures::table
            .filter(admin_sign_in_failures::email_lower.eq(lower(email)))
            .filter(admin_sign_in_failures::at.ge(ms(since)))
            .count()
            .get_result(&mut *conn)?;
        Ok(SignInAttempt {
            id,
            count: u64::try_from(n).unwrap_or(0),
        })
    }

    fn forget_sign_in_attempt(&self, id: i64) -> StoreResult<()> {
        let mut conn = self.conn()?;
        diesel::delete(admin_sign_in_failures::table.filter(admin_sign_in_failures::id.eq(id)))
            .execute(&mut *conn)?;
        Ok(())
    }

    fn count_sign_in_failures(&self, email: &str, since: DateTime<Utc>) -> StoreResult<u64> {
        let mut conn = self.conn()?;
        let n: i64 = admin_sign_in_failures::table
            .filter(admin_sign_in_failures::email_lower.eq(lower(email)))
            .filter(admin_sign_in_failures::at.ge(ms(since)))
            .count()
            .get_result(&mut *conn)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn clear_sign_in_failures(&self, email: &str) -> StoreResult<()> {
        let mut conn = self.conn()?;
        diesel::delete(
            admin_sign_in_failures::table
                .filter(admin_sign_in_failures::email_lower.eq(lower(email))),
        )
        .execute(&mut *conn)?;
        Ok(())
    }

    fn put_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        let mut conn = self.conn()?;
        write_tx(&mut conn, |conn| {
            diesel::delete(server_settings::table.filter(server_settings::key.eq(key)))
                .execute(conn)?;
            diesel::insert_into(server_settings::table)
                .values((
                    server_settings::key.eq(key),
                    server_settings::value.eq(value),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    fn delete_setting(&self, key: &str) -> StoreResult<()> {
        let mut conn = self.conn()?;
        diesel::delete(server_settings::table.filter(server_settings::key.eq(key)))
            .execute(&mut *conn)?;
        Ok(())
    }

    fn delete_settings_with_prefix(&self, prefix: &str) -> StoreResult<u64> {
        let mut pattern = String::with_capacity(prefix.len() + 1);
        for c in prefix.chars() {
            if matches!(c, '\\' | '%' | '_') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        let mut conn = self.conn()?;
        let n = diesel::delete(
            server_settings::table.filter(server_settings::key.like(pattern).escape('\\')),
        )
        .execute(&mut *conn)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
