//! Query plans: the indexed lookups use their indexes on each backend.

use crate::support::*;
use scim_core::ResourceKind::User;
use scim_store::{DieselStore, ResourceRepo};
use serde_json::json;

fn plan(db: &DieselStore, sql: &str) -> String {
    let backend = db.backend();
    db.with_connection(|c| {
        if backend == "postgres" {
            c.execute_sql("ANALYZE users; ANALYZE user_emails; SET enable_seqscan = off;")?;
            c.query_text_rows(&format!("EXPLAIN {sql}"))
        } else {
            c.query_text_rows(&format!("EXPLAIN QUERY PLAN {sql}"))
        }
    })
    .unwrap()
    .join("\n")
}

pub fn indexed_lookups_use_indexes(db: &TestDb) {
    let t = tenant(db);
    for i in 0..200 {
        db.create(
            &actor(),
            &t,
            User,
            user_attrs(json!({"userName": format!("user{i}@example.com"), "externalId": format!("ext{i}"),
                              "emails": [{"value": format!("user{i}@example.com"), "type": "work"}]})),
        )
        .unwrap();
    }
    // The statements the store issues for these filters (same shape, literals instead of
    // bind parameters).
    let cases = [
        (
            "userName eq",
            format!(
                "SELECT id FROM users WHERE tenant_id = '{t}' AND user_name_lower = 'user7@example.com'"
            ),
            "users_user_name_lower_key",
        ),
        (
            "externalId eq",
            format!("SELECT id FROM users WHERE tenant_id = '{t}' AND external_id = 'ext7'"),
            "users_external_id_idx",
        ),
        (
            "emails.value eq",
            format!(
                "SELECT id FROM users WHERE tenant_id = '{t}' AND id IN (SELECT user_id FROM user_emails WHERE tenant_id = '{t}' AND value_lower = 'user7@example.com')"
            ),
            "user_emails_value_lower_idx",
        ),
    ];
    for (what, sql, index) in cases {
        let p = plan(db, &sql);
        println!("[{}] {what}:\n{p}\n", db.backend());
        assert!(
            p.contains(index),
            "{what} on {} does not use {index}:\n{p}",
            db.backend()
        );
        assert!(
            !p.contains("SCAN users") && !p.contains("Seq Scan"),
            "{what}: a full scan:\n{p}"
        );
    }
}
