//! The administrative subcommands: `migrate`, `tenant create|list`, `token generate`,
//! `admin create|token`.

use crate::config::Config;
use anyhow::Context as _;
use scim_http::state::tenant_url;
use scim_store::{DieselStore, StoreError, TenantRepo as _};
use serde_json::json;

/// Opens the store (applying pending migrations unless `--no-migrate`).
pub fn open_store(config: &Config) -> anyhow::Result<DieselStore> {
    let store = DieselStore::open(&config.store_config()).with_context(|| {
        format!(
            "cannot open the database ({})",
            redact_url(&config.database_url)
        )
    })?;
    // Tokens of the JWT era become hashed ones, and the signing key leaves the database,
    // before anything reads a tenant (one transaction; a no-op once done).
    scim_http::legacy_tokens::upgrade(&store, config.token_signing_key.as_deref())
        .context("cannot upgrade the tenant tokens of earlier releases")?;
    Ok(store)
}

/// The operator's event signing key ([`crate::config::EventSettings::signing_key`]). When
/// one is configured, the key an earlier start kept in the database is deleted: it would
/// let a copy of the database derive the secrets of every subscription (those derived from
/// it no longer verify anyway: rotate each subscription's secret).
pub fn event_signing_key(
    config: &Config,
    store: &DieselStore,
) -> anyhow::Result<Option<scim_events::EventSigningKey>> {
    let key = config.events.signing_key()?;
    if key.is_some() {
        use scim_store::{AdminRepo as _, SettingsRepo as _};
        let stored = store
            .get_setting(scim_events::SIGNING_KEY_SETTING)
            .context("cannot read the settings")?;
        if stored.is_some() {
            store
                .delete_setting(scim_events::SIGNING_KEY_SETTING)
                .context("cannot delete the stored event signing key")?;
            tracing::warn!(
                "an event signing key is configured: the one kept in the database is deleted; \
                 subscription secrets derived from it no longer verify, rotate each one"
            );
        }
    }
    Ok(key)
}

/// `serve` on a SQLite file: an exclusive lock on `<database file>.lock`, held for the
/// life of the process (the kernel drops it when the process dies, even by `kill -9`).
/// SQLite supports one server process per database file (the writer is modelled in the
/// process); a second `serve` on the same file stops here with one clear line. The CLI's
/// other commands take no lock: they run beside a server. `None` for PostgreSQL.
pub fn lock_sqlite_database(config: &Config) -> anyhow::Result<Option<std::fs::File>> {
    let Some(db) = config.store_config().sqlite_path() else {
        return Ok(None);
    };
    let mut name = db.clone().into_os_string();
    name.push(".lock");
    let path = std::path::PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(anyhow::anyhow!(
            "another `scim-server serve` is running on the SQLite database {} (it holds {}); \
             a SQLite database serves one process: run replicas on PostgreSQL",
            db.display(),
            path.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// A database URL without its password, for messages: the `user:password@` of the
/// authority and the value of any query parameter whose name contains `password`
/// (libpq's `?password=` and `?sslpassword=`).
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match base.find("://") {
        Some(scheme_end) => {
            let rest = &base[scheme_end + 3..];
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => {
                    let user = rest[..at].split(':').next().unwrap_or("");
                    format!("{}{user}:***{}", &base[..scheme_end + 3], &rest[at..])
                }
                None => base.to_string(),
            }
        }
        None => base.to_string(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.to_ascii_lowercase().contains("password") => format!("{k}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// `migrate`.
pub fn migrate(config: &Config) -> anyhow::Result<()> {
    let applied = scim_store::migrate(&config.store_config()).with_context(|| {
        format!(
            "cannot migrate the database ({})",
            redact_url(&config.database_url)
        )
    })?;
    if applied.is_empty() {
        println!("The database schema is up to date.");
    } else {
        println!(
            "Applied {} migration(s): {}",
            applied.len(),
            applied.join(", ")
        );
    }
    Ok(())
}

/// `tenant create --name NAME [--json]`.
pub fn tenant_create(config: &Config, name: &str, as_json: bool) -> anyhow::Result<()> {
    let name = name.trim();
    anyhow::ensure!(!name.is_empty(), "the organization name must not be empty");
    let store = open_store(config)?;
    let tenant = store
        .create_tenant(name)
        .context("cannot create the organization")?;
    let url = tenant_url(&config.public_url(), &tenant.id);
    if as_json {
        println!(
            "{}",
            json!({"id": tenant.id, "name": tenant.name, "tenant_url": url})
        );
    } else {
        println!("Created organization \"{}\".", tenant.name);
        println!();
        println!("  Organization id: {}", tenant.id);
        println!("  Tenant URL:      {url}");
        println!();
        println!("In Okta, paste the Tenant URL as \"SCIM connector base URL\" (Base URL);");
        println!("in Microsoft Entra ID, paste it as \"Tenant URL\".");
        println!("Next, generate its secret token:");
        println!();
        println!("  scim-server token generate --tenant {}", tenant.id);
    }
    Ok(())
}

/// `tenant list [--json]`.
pub fn tenant_list(config: &Config, as_json: bool) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let tenants = store.list_tenants().context("cannot list organizations")?;
    let public = config.public_url();
    if as_json {
        let items: Vec<_> = tenants
            .iter()
            .map(|t| {
                json!({
                    "id": t.id,
                    "name": t.name,
                    "created": t.created.to_rfc3339(),
                    "tenant_url": tenant_url(&public, &t.id),
                    "paused": t.paused_at.is_some(),
                    "paused_at": t.paused_at.map(|p| p.to_rfc3339()),
                    "profile": t.profile.as_str(),
                    "token": t.token.as_ref().map(|r| json!({
                        "id": r.id,
                        "generated": r.generated.to_rfc3339(),
                        "last_used": r.last_used.map(|u| u.to_rfc3339()),
                    })),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(items));
    } else if tenants.is_empty() {
        println!("No organizations yet. Create one with: scim-server tenant create --name NAME");
    } else {
        for t in &tenants {
            let token = match &t.token {
                None => "no token yet".to_string(),
                Some(r) => format!(
                    "token {} generated {}, last used {}",
                    r.id,
                    r.generated.format("%Y-%m-%d %H:%M UTC"),
                    r.last_used
                        .map(|u| u.format("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_else(|| "never".into())
                ),
            };
            let state = match t.paused_at {
                Some(at) => format!("PAUSED since {}", at.format("%Y-%m-%d %H:%M UTC")),
                None => "active".into(),
            };
            println!(
                "{}  {}  [{state}, {} profile]  ({token})",
                t.id, t.name, t.profile
            );
            println!("    Tenant URL: {}", tenant_url(&public, &t.id));
        }
    }
    Ok(())
}

/// `tenant pause|resume --tenant ID [--json]`: recorded in the log with the tenant id and
/// who did it (`cli`).
pub fn tenant_pause(
    config: &Config,
    tenant: &str,
    paused: bool,
    as_json: bool,
) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let t = match store.set_paused(tenant, paused, chrono::Utc::now()) {
        Ok(t) => t,
        Err(StoreError::NotFound) => {
            anyhow::bail!("no organization with id '{tenant}' (see: scim-server tenant list)")
        }
        Err(e) => return Err(e).context("cannot change the organization"),
    };
    let action = if paused { "paused" } else { "resumed" };
    tracing::info!(tenant_id = %t.id, by = "cli", "provisioning {action}");
    if as_json {
        println!(
            "{}",
            json!({
                "id": t.id,
                "name": t.name,
                "paused": t.paused_at.is_some(),
                "paused_at": t.paused_at.map(|p| p.to_rfc3339()),
            })
        );
    } else if paused {
        println!("Provisioning for organization {} is paused.", t.id);
        println!("Its SCIM endpoint answers 403 on every server; its data is kept.");
        println!("Resume with: scim-server tenant resume --tenant {}", t.id);
    } else {
        println!("Provisioning for organization {} is resumed.", t.id);
    }
    Ok(())
}

/// `tenant set --tenant ID --profile strict|lenient [--json]`.
pub fn tenant_set_profile(
    config: &Config,
    tenant: &str,
    profile: scim_core::Profile,
    as_json: bool,
) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let t = match store.set_profile(tenant, profile) {
        Ok(t) => t,
        Err(StoreError::NotFound) => {
            anyhow::bail!("no organization with id '{tenant}' (see: scim-server tenant list)")
        }
        Err(e) => return Err(e).context("cannot change the organization"),
    };
    tracing::info!(tenant_id = %t.id, by = "cli", profile = %t.profile, "profile set");
    if as_json {
        println!(
            "{}",
            json!({"id": t.id, "name": t.name, "profile": t.profile.as_str()})
        );
    } else {
        println!(
            "Organization {} now follows the {} profile (from its next request).",
            t.id, t.profile
        );
        if t.profile.is_strict() {
            println!("Its ServiceProviderConfig says interopProfileConformant: true; path-less");
            println!("PATCH and unknown attributes are refused with 400 (docs/profiles.md).");
        }
    }
    Ok(())
}

/// `token generate --tenant ID [--json]`.
pub fn token_generate(config: &Config, tenant: &str, as_json: bool) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let generated = match scim_http::generate_token(&store, tenant) {
        Ok(g) => g,
        Err(scim_http::tokens::TokenError::Store(StoreError::NotFound)) => {
            anyhow::bail!("no organization with id '{tenant}' (see: scim-server tenant list)")
        }
        Err(scim_http::tokens::TokenError::Store(StoreError::TokenChanged)) => {
            anyhow::bail!(
                "the token of organization '{tenant}' was generated again elsewhere at the same \
                 moment; nothing was changed by this command (run it again if needed)"
            )
        }
        Err(e) => return Err(e).context("cannot generate the token"),
    };
    if as_json {
        println!(
            "{}",
            json!({"tenant_id": generated.tenant_id, "token": generated.token})
        );
    } else {
        let url = tenant_url(&config.public_url(), &generated.tenant_id);
        println!(
            "Generated a new secret token for organization {}.",
            generated.tenant_id
        );
        println!("Any previous token of this organization has stopped working.");
        println!();
        println!("  Tenant URL:   {url}");
        println!("  Secret token: {}", generated.token);
        println!();
        println!("Okta: Base URL = the Tenant URL, API Token = the secret token");
        println!("      (authentication mode \"HTTP Header\"), then \"Test API Credentials\".");
        println!("Entra ID: Tenant URL = the Tenant URL, Secret Token = the secret token,");
        println!("      then \"Test Connection\".");
        println!("The token is shown only once; store it in your identity provider now.");
    }
    // Keep the store alive until here (pool shutdown after output).
    drop(store);
    Ok(())
}

/// Reads a password: one line from stdin; prompted on stderr, with echo off, when stdin
/// is a terminal.
fn read_password() -> anyhow::Result<String> {
    use std::io::{BufRead as _, IsTerminal as _, Write as _};
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    let stty = |arg: &str| {
        let _ = std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status();
    };
    if tty {
        eprint!(
            "Password (at least {} characters): ",
            scim_admin::accounts::MIN_PASSWORD_CHARS
        );
        let _ = std::io::stderr().flush();
        stty("-echo");
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if tty {
        stty("echo");
        eprintln!();
    }
    read.context("cannot read the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// `admin create --email E [--tenant ID]`.
pub fn admin_create(config: &Config, email: &str, tenant: Option<&str>) -> anyhow::Result<()> {
    let password = read_password()?;
    let store = open_store(config)?;
    let account = scim_admin::accounts::create_account(&store, email, &password, tenant)
        .map_err(|e| anyhow::anyhow!("cannot create the account: {e}"))?;
    match &account.tenant_id {
        None => println!("Created operator {}.", account.email),
        Some(t) => println!("Created admin {} of organization {t}.", account.email),
    }
    println!("Sign in at {}/admin/sign-in", config.public_url());
    let _ = scim_admin::prepare_setup_link(&store, &config.public_url());
    Ok(())
}

/// `admin token --email E`: prints a new admin API token once (only its SHA-256 is kept);
/// the account's previous one stops working.
pub fn admin_token(config: &Config, email: &str) -> anyhow::Result<()> {
    let store = std::sync::Arc::new(open_store(config)?);
    let cursor_key =
        scim_http::CursorKey::load(store.as_ref()).context("cannot load the list cursor key")?;
    let state = scim_http::AppState::new(
        store.clone(),
        cursor_key,
        config.public_url(),
        config.limits(),
    );
    let admin = scim_admin::AdminState::load(state, store.clone())
        .map_err(|e| anyhow::anyhow!("cannot set up the admin console: {e}"))?;
    let account = scim_store::AdminRepo::find_admin_by_email(store.as_ref(), email)
        .context("cannot read the account")?
        .ok_or_else(|| anyhow::anyhow!("no console account with e-mail address '{email}'"))?;
    let token = admin
        .issue_api_token(&account)
        .map_err(|e| anyhow::anyhow!("cannot issue the token: {e}"))?;
    println!("{token}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://scim:secret@db:5432/scim"),
            "postgres://scim:***@db:5432/scim"
        );
        assert_eq!(redact_url("sqlite://scim.db"), "sqlite://scim.db");
        assert_eq!(
            redact_url("postgres://db/scim?user=scim&password=secret&sslmode=require"),
            "postgres://db/scim?user=scim&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://u:p@db/scim?sslpassword=k&application_name=a@b"),
            "postgresql://u:***@db/scim?sslpassword=***&application_name=a@b"
        );
    }
}
