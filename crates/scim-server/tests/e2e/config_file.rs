//! The configuration file (issue 12 item 5): `--config PATH` / `SCIM_CONFIG` reads TOML;
//! flags override environment variables, which override the file. `config check` prints
//! the effective values with their source and secrets masked; an unknown key or a bad
//! value stops the process with a message naming it; `serve` really uses the file.

use crate::harness::{BIN, Backend, Server};
use std::process::Command;

fn check(file: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["--config", file.to_str().unwrap()])
        .args(args)
        .arg("config")
        .arg("check")
        .env_remove("SCIM_DATABASE_URL")
        .env_remove("SCIM_BIND")
        .env_remove("SCIM_RATE_LIMIT_PER_TENANT")
        .env_remove("SCIM_MAX_PAGE_SIZE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn line<'a>(out: &'a str, id: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("no line for {id}: {out}"))
}

#[test]
fn flags_beat_env_beat_the_file_and_secrets_stay_masked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scim.toml");
    std::fs::write(
        &file,
        "database_url = \"postgres://scim:hunter2@db.internal:5432/scim\"\n\
         bind = \"0.0.0.0:8081\"\n\
         rate_limit_per_tenant = 50\n\
         max_page_size = 300\n\
         no-migrate = true\n\
         event_signing_key = \"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=\"\n",
    )
    .unwrap();
    let out = check(
        &file,
        &[
            ("SCIM_BIND", "127.0.0.1:7000"),
            ("SCIM_RATE_LIMIT_PER_TENANT", "60"),
        ],
        &["--rate-limit-per-tenant", "70"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        line(&text, "rate_limit_per_tenant").contains("= 70  (flag)"),
        "{text}"
    );
    assert!(
        line(&text, "bind").contains("= 127.0.0.1:7000  (environment)"),
        "{text}"
    );
    assert!(
        line(&text, "max_page_size").contains("= 300  (file)"),
        "{text}"
    );
    assert!(
        line(&text, "no_migrate").contains("= true  (file)"),
        "{text}"
    );
    assert!(line(&text, "log_level").contains("(default)"), "{text}");
    assert!(
        line(&text, "database_url").contains("postgres://scim:***@db.internal:5432/scim  (file)"),
        "{text}"
    );
    assert!(
        line(&text, "event_signing_key").contains("= ***  (file)"),
        "{text}"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("c2VjcmV0"),
        "{text}"
    );
    assert!(text.contains("configuration is valid"), "{text}");
}

#[test]
fn unknown_keys_and_bad_values_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("bnd = \"127.0.0.1:1\"\n", "unknown option 'bnd'"),
        (
            "rate_limit_per_tenant = \"lots\"\n",
            "rate-limit-per-tenant",
        ),
        ("[server]\nbind = \"x\"\n", "'server' must be a string"),
        ("bind = \n", "not valid TOML"),
    ];
    for (i, (body, want)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&file, body).unwrap();
        let out = check(&file, &[], &[]);
        assert!(!out.status.success(), "{body}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{body}: {err}");
        assert!(out.stdout.is_empty(), "{body}");
    }
    let out = check(&dir.path().join("missing.toml"), &[], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the configuration file"));
}

#[test]
fn serve_uses_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scim.toml");
    std::fs::write(&file, "max_page_size = 250\n").unwrap();
    let path = file.to_str().unwrap().to_string();
    let Some(s) = Server::start_with(Backend::Sqlite, &[("SCIM_CONFIG", path.as_str())], None)
    else {
        return;
    };
    let t = s.tenant("Configured");
    let spc = s
        .call(&t, "GET", "/ServiceProviderConfig", None)
        .expect(200);
    assert_eq!(spc["filter"]["maxResults"], 250, "{spc}");
}
