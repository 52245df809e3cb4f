//! A copy of the database is not enough to reach the console (issue 10 §3): with an
//! operator signed in and an admin API token issued, every value of every column of
//! `server_settings`, `admin_accounts` and `admin_sessions` in a copy of the SQLite file is
//! tried as the session cookie and as a Bearer admin API token (also with the `scimadm_`
//! prefix), and HS256 JWTs naming the operator are minted with every stored value as the
//! key (the old session and API token shapes): every attempt is refused (a redirect to
//! sign-in on the pages, 401 on `/admin/api`), while the real cookie and token still work.

use crate::harness::{Backend, Resp, Server, enc, try_request};
use serde_json::json;

const EMAIL: &str = "ops@example.test";
const PASSWORD: &str = "correct horse battery staple";

fn set_cookie(r: &Resp, name: &str) -> Option<String> {
    r.headers.iter().find_map(|(k, v)| {
        let (kv, _) = v.split_once(';').unwrap_or((v, ""));
        let (n, value) = kv.split_once('=')?;
        (k.eq_ignore_ascii_case("set-cookie") && n == name && !value.is_empty())
            .then(|| value.to_string())
    })
}

/// Signs in through the form and returns the session cookie's value.
fn sign_in(s: &Server) -> String {
    let form = try_request(&s.addr, "GET", "/admin/sign-in", &[], None).unwrap();
    assert_eq!(form.status, 200);
    let token = set_cookie(&form, "scim_admin_form").unwrap();
    let body = format!(
        "form_token={token}&email={}&password={}",
        enc(EMAIL),
        enc(PASSWORD)
    );
    let cookie = format!("scim_admin_form={token}");
    let r = try_request(
        &s.addr,
        "POST",
        "/admin/sign-in",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(&body),
    )
    .unwrap();
    assert_eq!(r.status, 303, "{}", String::from_utf8_lossy(&r.body));
    set_cookie(&r, "scim_admin_session").unwrap()
}

/// Whether `cookie` opens a console page (200); otherwise it must be sent to sign-in.
fn page_opens(s: &Server, cookie: &str) -> bool {
    let header = format!("scim_admin_session={cookie}");
    let r = try_request(
        &s.addr,
        "GET",
        "/admin/organizations",
        &[("Cookie", &header)],
        None,
    )
    .unwrap();
    match r.status {
        200 => true,
        303 => {
            assert_eq!(r.header("location"), Some("/admin/sign-in"));
            false
        }
        401 => false,
        other => panic!("cookie {cookie:?}: unexpected {other}"),
    }
}

/// Whether `token` opens the admin API (200); otherwise it must get 401.
fn api_opens(s: &Server, token: &str) -> bool {
    let header = format!("Bearer {token}");
    let r = try_request(
        &s.addr,
        "GET",
        "/admin/api/organizations",
        &[("Authorization", &header)],
        None,
    )
    .unwrap();
    match r.status {
        200 => true,
        401 => false,
        other => panic!("bearer {token:?}: unexpected {other}"),
    }
}

/// Every value (as text) of every column of `table` in the SQLite file at `path`.
fn column_values(conn: &mut diesel::SqliteConnection, table: &str) -> Vec<(String, String)> {
    use diesel::{QueryableByName, RunQueryDsl};
    #[derive(QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        v: Option<String>,
    }
    let columns: Vec<V> = diesel::sql_query(format!(
        "SELECT name AS v FROM pragma_table_info('{table}')"
    ))
    .load(conn)
    .unwrap();
    assert!(!columns.is_empty(), "no table {table} in the copy");
    let mut out = Vec::new();
    for column in columns.into_iter().filter_map(|c| c.v) {
        let values: Vec<V> = diesel::sql_query(format!(
            "SELECT CAST(\"{column}\" AS TEXT) AS v FROM {table}"
        ))
        .load(conn)
        .unwrap();
        for v in values.into_iter().filter_map(|v| v.v) {
            out.push((format!("{table}.{column}"), v));
        }
    }
    out
}

/// Copies the database file and its write-ahead log into a new directory (what a backup
/// or a stolen disk holds) and opens the copy.
fn copy_database(db_url: &str, into: &std::path::Path) -> diesel::SqliteConnection {
    use diesel::Connection;
    let path = std::path::PathBuf::from(db_url.strip_prefix("sqlite://").unwrap());
    let dir = path.parent().unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("scim.db") {
            std::fs::copy(entry.path(), into.join(&name)).unwrap();
        }
    }
    diesel::SqliteConnection::establish(into.join("scim.db").to_str().unwrap()).unwrap()
}

/// An HS256 JWT of `claims` signed with `key` (`None` for a key the library refuses).
fn mint(key: &[u8], claims: &serde_json::Value) -> Option<String> {
    let key = jsonwebtoken::EncodingKey::from_secret(key).ok()?;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &key,
    )
    .ok()
}

#[test]
fn a_database_copy_opens_no_console_session_and_no_admin_api() {
    let Some(s) = Server::start(Backend::Sqlite) else {
        return;
    };
    s.tenant("Copied");
    let api_token = crate::feed::admin_api_token(&s);
    let cookie = sign_in(&s);
    assert!(page_opens(&s, &cookie), "the real session must work");
    assert!(api_opens(&s, &api_token), "the real API token must work");

    let dir = tempfile::tempdir().unwrap();
    let mut copy = copy_database(&s.db.url, dir.path());
    let mut values = Vec::new();
    for table in ["server_settings", "admin_accounts", "admin_sessions"] {
        values.extend(column_values(&mut copy, table));
    }
    // The copy holds the operator's session and token rows, and not the secrets.
    assert!(values.iter().any(|(c, _)| c == "admin_sessions.id_sha256"));
    assert!(
        values
            .iter()
            .any(|(c, v)| c == "admin_accounts.api_token_sha256" && !v.is_empty())
    );
    assert!(!values.iter().any(|(_, v)| v.contains(&cookie)));
    assert!(!values.iter().any(|(_, v)| v.contains(&api_token)));

    let mut tried = 0;
    for (column, value) in &values {
        if value.is_empty() || value.chars().any(char::is_control) {
            continue;
        }
        for candidate in [value.clone(), format!("scimadm_{value}")] {
            assert!(
                !page_opens(&s, &candidate),
                "{column} opened a console session"
            );
            assert!(!api_opens(&s, &candidate), "{column} opened the admin API");
            tried += 2;
        }
    }

    // JWTs as the console once made them (a session: `session.<ms>.<csrf>` with an
    // expiry; an API token: `api.<id>`), signed with every stored value as the key.
    let admin_ids: Vec<&String> = values
        .iter()
        .filter(|(c, _)| c == "admin_accounts.id")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(admin_ids.len(), 1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let (secs, ms) = (now.as_secs(), now.as_millis());
    for (column, key) in &values {
        if key.is_empty() {
            continue;
        }
        for id in &admin_ids {
            let mut claims = vec![
                json!({"sub": id, "jti": format!("session.{ms}.{}", "ab".repeat(16)), "iat": secs, "exp": secs + 3600}),
                json!({"sub": id, "jti": format!("api.{}", "cd".repeat(16)), "iat": secs}),
                json!({"sub": id, "iat": secs, "exp": secs + 3600}),
            ];
            for (c, v) in &values {
                if c.starts_with("admin_accounts.") {
                    claims.push(json!({"sub": id, "jti": format!("api.{v}"), "iat": secs}));
                }
            }
            for c in &claims {
                let Some(jwt) = mint(key.as_bytes(), c) else {
                    continue;
                };
                assert!(
                    !page_opens(&s, &jwt),
                    "a JWT keyed by {column} opened a session"
                );
                assert!(
                    !api_opens(&s, &jwt),
                    "a JWT keyed by {column} opened the API"
                );
                tried += 2;
            }
        }
    }
    eprintln!(
        "{tried} attempts from {} stored values, all refused",
        values.len()
    );
    assert!(tried > 50, "only {tried} attempts");
    // The real credentials still work.
    assert!(page_opens(&s, &cookie));
    assert!(api_opens(&s, &api_token));
}
