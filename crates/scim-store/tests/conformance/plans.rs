//! Query plans: the store's own statements for `userName eq`, `externalId eq` and
//! `emails.value eq` use their indexes on each backend. The statements are captured from
//! diesel's instrumentation while the store runs the filtered list, then explained
//! (SQLite `EXPLAIN QUERY PLAN`; PostgreSQL `EXPLAIN EXECUTE` of the prepared statement
//! with the captured parameters, the store's session settings and `enable_seqscan = off`).

use crate::support::*;
use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};
use scim_core::ResourceKind::User;
use scim_core::filter::parse_filter;
use scim_store::{DieselStore, ListParams, ResourceRepo};
use serde_json::json;
use std::sync::{Mutex, Once};

static CAPTURED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn capture() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            CAPTURED.lock().unwrap().push(query.to_string());
        }
    }))
}

fn explain(db: &DieselStore, statement: &str) -> String {
    let (sql, binds) = statement.split_once("-- binds:").unwrap();
    let sql = sql.trim().to_string();
    let backend = db.backend();
    db.with_connection(|c| {
        if backend == "postgres" {
            // The store's session settings apply (custom plans). Statistics as autovacuum
            // keeps them (this machine runs PostgreSQL with autovacuum off; without any
            // statistics a small table is a cost tie between the tenant's indexes).
            let values: Vec<serde_json::Value> = serde_json::from_str(binds.trim()).unwrap();
            let args: Vec<String> = values
                .iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => format!("'{}'", s.replace('\'', "''")),
                    other => other.to_string(),
                })
                .collect();
            c.execute_sql(&format!(
                "SET enable_seqscan = off; PREPARE scim_plan AS {sql}"
            ))?;
            let plan =
                c.query_text_rows(&format!("EXPLAIN EXECUTE scim_plan({})", args.join(", ")));
            c.execute_sql("DEALLOCATE scim_plan")?;
            plan
        } else {
            c.query_text_rows(&format!("EXPLAIN QUERY PLAN {sql}"))
        }
    })
    .unwrap()
    .join("\n")
}

pub fn indexed_lookups_use_indexes(db: &TestDb) {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        set_default_instrumentation(capture).unwrap();
    });
    // A store opened now gets instrumented connections.
    let store = DieselStore::open(&db.config).unwrap();
    let t = tenant(db);
    for i in 0..2000 {
        store
            .create(
                &actor(),
                &t,
                User,
                user_attrs(json!({"userName": format!("user{i}@example.com"), "externalId": format!("ext{i}"),
                                  "emails": [{"value": format!("user{i}@example.com"), "type": "work"}]})),
            )
            .unwrap();
    }
    let cases = [
        (
            "userName eq \"USER7@example.com\"",
            "user_name_lower",
            "users_user_name_lower_key",
        ),
        (
            "externalId eq \"ext7\"",
            "external_id",
            "users_external_id_idx",
        ),
        (
            "emails.value eq \"User7@Example.com\"",
            "value_lower",
            "user_emails_value_lower_idx",
        ),
    ];
    for (filter, column, index) in cases {
        CAPTURED.lock().unwrap().clear();
        let page = store
            .list(
                &t,
                User,
                &ListParams {
                    filter: Some(parse_filter(filter).unwrap()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(page.total_results, 1, "{filter}");
        // The COUNT and the page SELECT of this list (other tests run concurrently: keep
        // the statements bound to this tenant that test the column).
        let statements: Vec<String> = CAPTURED
            .lock()
            .unwrap()
            .iter()
            .filter(|q| {
                q.contains(&t) && q.contains(column) && q.to_uppercase().starts_with("SELECT")
            })
            .cloned()
            .collect();
        assert!(statements.len() >= 2, "{filter}: captured {statements:?}");
        for statement in statements {
            let plan = explain(&store, &statement);
            println!("[{}] {filter}\n{statement}\n{plan}\n", db.backend());
            assert!(
                plan.contains(index),
                "{filter} on {}: {index} not used:\n{statement}\n{plan}",
                db.backend()
            );
            // Neither a table scan nor a walk of the tenant's (created, id) index.
            assert!(
                !plan.contains("SCAN users")
                    && !plan.contains("Seq Scan")
                    && !plan.contains("created_idx"),
                "{filter}: scans the tenant:\n{statement}\n{plan}"
            );
        }
    }
}
