//! Organization lifecycle (issue 12 item 4): `tenant export` writes an organization's
//! users and groups as SCIM JSON, and `tenant delete --yes` removes every row of it from
//! every table that has a `tenant_id` (found from the database's own catalogue, so a table
//! added later is covered too), its token failing at once, while another organization's
//! rows are untouched. Without `--yes` nothing is deleted.

use crate::harness::{Backend, Server, cli, cli_output, db_count, db_texts};
use serde_json::{Value, json};

/// Every table with a `tenant_id` column.
fn tenant_tables(s: &Server) -> Vec<String> {
    let sql = if s.db.url.starts_with("sqlite://") {
        "SELECT m.name AS v FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND p.name = 'tenant_id' ORDER BY m.name"
    } else {
        "SELECT table_name::text AS v FROM information_schema.columns \
         WHERE column_name = 'tenant_id' AND table_schema = current_schema() ORDER BY table_name"
    };
    db_texts(&s.db.url, sql)
}

/// Rows of `tenant` per table (the `tenants` row included).
fn rows_of(s: &Server, tenant: &str) -> Vec<(String, i64)> {
    let mut rows: Vec<(String, i64)> = tenant_tables(s)
        .into_iter()
        .map(|t| {
            let n = db_count(
                &s.db.url,
                &format!("SELECT count(*) AS n FROM \"{t}\" WHERE tenant_id = '{tenant}'"),
            );
            (t, n)
        })
        .collect();
    let n = db_count(
        &s.db.url,
        &format!("SELECT count(*) AS n FROM tenants WHERE id = '{tenant}'"),
    );
    rows.push(("tenants".into(), n));
    rows
}

fn populate(s: &Server, t: &crate::harness::Tenant, prefix: &str) {
    let mut ids = Vec::new();
    for i in 0..3 {
        let u = s
            .call(
                t,
                "POST",
                "/Users",
                Some(&json!({"userName": format!("{prefix}{i}@life.test"),
                             "emails": [{"value": format!("{prefix}{i}@life.test"), "primary": true}]})),
            )
            .expect(201);
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    s.call(
        t,
        "POST",
        "/Groups",
        Some(&json!({"displayName": format!("{prefix} team"),
                     "members": ids.iter().map(|id| json!({"value": id})).collect::<Vec<_>>()})),
    )
    .expect(201);
    // An extension schema of its own (tenant_schemas), removed with the organization.
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("ext.json");
    let urn = format!("urn:example:{prefix}:User");
    std::fs::write(
        &doc,
        json!({"id": urn, "name": "X", "attributes": [{"name": "badge", "type": "string"}]})
            .to_string(),
    )
    .unwrap();
    let doc = doc.display().to_string();
    cli(
        &s.db.url,
        &s.public_url,
        &[
            "schema",
            "put",
            "--tenant",
            &t.id,
            "--extends",
            "User",
            "--file",
            &doc,
        ],
    );
    cli(
        &s.db.url,
        &s.public_url,
        &[
            "webhook",
            "add",
            "--tenant",
            &t.id,
            "--url",
            "https://rx.example.com/h",
            "--json",
        ],
    );
    // Roles, entitlements and a custom type: their tables have a tenant_id too.
    for args in [
        &[
            "entitlement",
            "type",
            "add",
            "--tenant",
            &t.id,
            "--id",
            "License",
        ][..],
        &[
            "entitlement",
            "add",
            "--tenant",
            &t.id,
            "--kind",
            "License",
            "--value",
            "pro",
        ][..],
        &[
            "entitlement",
            "add",
            "--tenant",
            &t.id,
            "--kind",
            "role",
            "--value",
            "admin",
        ][..],
    ] {
        cli(&s.db.url, &s.public_url, args);
    }
}

fn lifecycle(s: &Server) {
    let a = s.tenant("Leaving");
    let b = s.tenant("Staying");
    populate(s, &a, "a");
    populate(s, &b, "b");

    // Export: the users and groups as SCIM JSON, and nothing of the other tenant.
    let out = cli(
        &s.db.url,
        &s.public_url,
        &["tenant", "export", "--tenant", &a.id],
    );
    let doc: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(doc["tenant"]["id"], a.id.as_str(), "{doc}");
    let users = doc["Users"].as_array().unwrap();
    assert_eq!(users.len(), 3, "{doc}");
    assert!(
        users
            .iter()
            .all(|u| u["userName"].as_str().unwrap().starts_with('a')),
        "{doc}"
    );
    assert!(
        users[0]["schemas"][0].as_str().unwrap().ends_with(":User"),
        "{doc}"
    );
    assert!(
        users[0]["meta"]["location"]
            .as_str()
            .unwrap()
            .contains(&a.id),
        "{doc}"
    );
    let groups = doc["Groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{doc}");
    assert_eq!(groups[0]["members"].as_array().unwrap().len(), 3, "{doc}");
    assert!(
        !out.contains("b0@life.test") && !out.contains(&b.id),
        "{out}"
    );
    assert!(!out.contains(&a.token), "no token in an export");

    let a_before = rows_of(s, &a.id);
    let b_before = rows_of(s, &b.id);
    assert!(
        a_before.iter().filter(|(_, n)| *n > 0).count() >= 8,
        "{a_before:?}"
    );

    // Without --yes: refused, nothing deleted.
    let out = cli_output(
        &s.db.url,
        &s.public_url,
        &["tenant", "delete", "--tenant", &a.id],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(rows_of(s, &a.id), a_before);
    s.call(&a, "GET", "/Users", None).expect(200);

    let out = cli(
        &s.db.url,
        &s.public_url,
        &["tenant", "delete", "--tenant", &a.id, "--yes", "--json"],
    );
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["deleted"], true, "{v}");
    // The token fails at once; every row of A is gone; B is as it was and still works.
    s.call(&a, "GET", "/Users", None).expect_error(401);
    for (table, n) in rows_of(s, &a.id) {
        assert_eq!(n, 0, "{table} still has rows of the deleted tenant");
    }
    assert_eq!(rows_of(s, &b.id), b_before);
    let list = s.call(&b, "GET", "/Users", None).expect(200);
    assert_eq!(list["totalResults"], 3, "{list}");

    // Again: an unknown organization is one line and a non-zero exit.
    let out = cli_output(
        &s.db.url,
        &s.public_url,
        &["tenant", "delete", "--tenant", &a.id, "--yes"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no organization"));
    let out = cli_output(
        &s.db.url,
        &s.public_url,
        &["tenant", "export", "--tenant", &a.id],
    );
    assert!(!out.status.success());
}

#[test]
fn export_then_delete_touches_only_that_tenant_sqlite() {
    if let Some(s) = Server::start(Backend::Sqlite) {
        lifecycle(&s);
    }
}

#[test]
fn export_then_delete_touches_only_that_tenant_postgres() {
    if let Some(s) = Server::start(Backend::Postgres) {
        lifecycle(&s);
    }
}
