//! Secrets at rest (issue 10 item 3, tenant half): a copy of the database is not enough to
//! authenticate as a tenant. Every value of every column of `server_settings` and
//! `tenants`, sent as a bearer token, gets 401 from the running server; so does every
//! HS256 JWT `{sub, jti: current_token_id}` minted with any of those values as the key
//! (the design of earlier releases), while the real token gets 200. Also the upgrade of
//! those releases: a JWT-era token keeps working on the new binary (two replicas started
//! at once on PostgreSQL), and the signing key leaves the database.

use crate::harness::{Backend, Server, TestDb, cli, db_count, db_execute, db_texts};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::sync::Arc;

/// Every non-null value of every column of `table`, as text, from the database at `url`.
fn every_value(url: &str, table: &str) -> Vec<String> {
    let columns = match url.strip_prefix("sqlite://") {
        Some(_) => db_texts(
            url,
            &format!("SELECT name AS v FROM pragma_table_info('{table}')"),
        ),
        None => db_texts(
            url,
            &format!(
                "SELECT column_name::text AS v FROM information_schema.columns \
                 WHERE table_name = '{table}' AND table_schema = current_schema()"
            ),
        ),
    };
    assert!(columns.len() >= 2, "{table}: {columns:?}");
    columns
        .iter()
        .flat_map(|c| {
            db_texts(
                url,
                &format!("SELECT CAST(\"{c}\" AS TEXT) AS v FROM {table}"),
            )
        })
        .collect()
}

/// The keys an attacker would try from `value`: its bytes, and its base64 decodings.
fn key_candidates(value: &str) -> Vec<Vec<u8>> {
    let mut keys = vec![value.as_bytes().to_vec()];
    for engine in [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        if let Ok(k) = engine.decode(value) {
            keys.push(k);
        }
    }
    keys
}

/// `None` when the library refuses the key (empty).
fn hs256(claims: &Value, key: &[u8]) -> Option<String> {
    let key = EncodingKey::from_secret(key).ok()?;
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).ok()
}

#[test]
fn a_database_copy_cannot_mint_a_tenant_token() {
    let Some(server) = Server::start(Backend::Sqlite) else {
        return;
    };
    let t = server.tenant("Copied");
    let other = server.tenant("Other");
    let users = format!("{}/Users", t.base);
    server.call(&t, "GET", "/Users", None).expect(200);
    server.call(&other, "GET", "/Users", None).expect(200);
    // A consistent copy of the live database file, as a backup would take.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    db_execute(&server.db.url, &format!("VACUUM INTO '{}'", copy.display()));
    let copy_url = format!("sqlite://{}", copy.display());

    let settings = every_value(&copy_url, "server_settings");
    let tenants = every_value(&copy_url, "tenants");
    assert!(
        settings.iter().any(|v| v == "cursor_key"),
        "the copy has the settings: {settings:?}"
    );
    assert!(!settings.iter().any(|v| v == "token_signing_key"));
    // The copy does not hold the token itself, in any column.
    let all: Vec<&String> = settings.iter().chain(&tenants).collect();
    assert!(all.iter().all(|v| !v.contains(&t.token[5..])));

    let deny = |auth: &str, what: &str| {
        let r = server.raw("GET", &users, Some(auth), &[], None);
        assert_eq!(r.status, 401, "{what}: {auth}");
        r.expect_error(401);
    };
    let mut attempts = 0;
    for value in &all {
        if value.contains(['\r', '\n']) {
            continue;
        }
        deny(&format!("Bearer {value}"), "a stored value as the token");
        deny(value, "a stored value as a bare header");
        attempts += 2;
    }
    let ids = db_texts(
        &copy_url,
        "SELECT current_token_id AS v FROM tenants WHERE current_token_id IS NOT NULL",
    );
    let generated = db_texts(
        &copy_url,
        &format!(
            "SELECT CAST(token_generated_at AS TEXT) AS v FROM tenants WHERE id = '{}'",
            t.id
        ),
    );
    assert_eq!(ids.len(), 2);
    let iat = chrono::NaiveDateTime::parse_from_str(&generated[0], "%Y-%m-%d %H:%M:%S%.f")
        .unwrap()
        .and_utc()
        .timestamp();
    for value in &all {
        for key in key_candidates(value) {
            for jti in &ids {
                for claims in [
                    json!({"sub": t.id, "jti": jti}),
                    json!({"sub": t.id, "jti": jti, "iat": iat}),
                ] {
                    if let Some(jwt) = hs256(&claims, &key) {
                        deny(&format!("Bearer {jwt}"), "a minted JWT");
                        attempts += 1;
                    }
                }
            }
        }
    }
    assert!(attempts > 50, "{attempts} attempts");
    // The real token still works.
    server.call(&t, "GET", "/Users", None).expect(200);
}

/// What a release before opaque tokens left in `db` for a new tenant: a JWT id, no hash,
/// and the signing key in the settings. Returns the tenant id and the JWT that release
/// issued, signed by its own code path.
fn legacy_tenant(db: &TestDb, key: &str) -> (String, String) {
    let out = cli(
        &db.url,
        "http://unused",
        &["tenant", "create", "--name", "Old", "--json"],
    );
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    let jti = uuid::Uuid::new_v4().simple().to_string();
    let now = chrono::Utc::now();
    let jwt = scim_http::TokenSigner::from_secret(key.as_bytes())
        .unwrap()
        .sign(&scim_http::tokens::TokenClaims {
            sub: id.clone(),
            jti: jti.clone(),
            iat: now.timestamp(),
            exp: None,
        })
        .unwrap();
    db_execute(
        &db.url,
        &format!(
            "UPDATE tenants SET current_token_id = '{jti}', token_hash = NULL, \
             token_generated_at = '{}' WHERE id = '{id}'",
            now.format("%Y-%m-%d %H:%M:%S%.3f")
        ),
    );
    (id, jwt)
}

fn jwt_era_tokens_survive_the_upgrade(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    let _ = cli(&db.url, "http://unused", &["migrate"]);
    let key = "an-e2e-signing-key-of-an-earlier-release-32+";
    let (a_id, a_jwt) = legacy_tenant(&db, key);
    let (b_id, b_jwt) = legacy_tenant(&db, key);
    db_execute(
        &db.url,
        &format!("INSERT INTO server_settings (key, value) VALUES ('token_signing_key', '{key}')"),
    );
    let db = Arc::new(db);
    let logs = tempfile::tempdir().unwrap();
    let servers = match backend {
        // Two replicas of the new release starting at once both run the upgrade.
        Backend::Postgres => {
            let (a, b) = Server::start_pair_on(db.clone(), &[], logs.path());
            vec![a, b]
        }
        Backend::Sqlite => vec![Server::on(db.clone(), &[])],
    };
    for s in &servers {
        for (id, jwt) in [(&a_id, &a_jwt), (&b_id, &b_jwt)] {
            s.raw(
                "GET",
                &format!("/scim/v2/{id}/Users"),
                Some(&format!("Bearer {jwt}")),
                &[],
                None,
            )
            .expect(200);
        }
        // Still bound to its tenant.
        s.raw(
            "GET",
            &format!("/scim/v2/{b_id}/Users"),
            Some(&format!("Bearer {a_jwt}")),
            &[],
            None,
        )
        .expect_error(401);
    }
    let n = |sql: &str| db_count(&db.url, sql);
    assert_eq!(
        n("SELECT count(*) AS n FROM server_settings WHERE key = 'token_signing_key'"),
        0,
        "the signing key is gone"
    );
    assert_eq!(
        n("SELECT count(*) AS n FROM tenants WHERE token_hash IS NULL"),
        0
    );
    // A new token replaces the old one on every replica at once.
    let out = cli(
        &db.url,
        "http://unused",
        &["token", "generate", "--tenant", &a_id, "--json"],
    );
    let fresh: Value = serde_json::from_str(out.trim()).unwrap();
    let fresh = fresh["token"].as_str().unwrap();
    assert!(fresh.starts_with("scim_"));
    for s in &servers {
        let users = format!("/scim/v2/{a_id}/Users");
        s.raw("GET", &users, Some(&format!("Bearer {a_jwt}")), &[], None)
            .expect_error(401);
        s.raw("GET", &users, Some(&format!("Bearer {fresh}")), &[], None)
            .expect(200);
    }
}

#[test]
fn jwt_era_tokens_survive_the_upgrade_on_sqlite() {
    jwt_era_tokens_survive_the_upgrade(Backend::Sqlite);
}

#[test]
fn jwt_era_tokens_survive_the_upgrade_on_two_postgres_replicas() {
    jwt_era_tokens_survive_the_upgrade(Backend::Postgres);
}
