//! An operator's event signing key (`SCIM_EVENT_SIGNING_KEY`): subscription secrets are
//! derived from it, deliveries verify with the secret `webhook add` printed, and nothing in
//! the database derives a secret any more (the key an earlier start stored is deleted).

use crate::feed::QUICK_DELIVERY;
use crate::harness::{BIN, Backend, Server, db_execute, db_texts};
use crate::receiver::Receiver;
use serde_json::{Value, json};
use std::time::Duration;

/// 32 bytes of 9, base64.
const KEY: &str = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=";

fn stored_event_keys(s: &Server) -> Vec<String> {
    db_texts(
        &s.db.url,
        &format!(
            "SELECT value FROM server_settings WHERE key = '{}'",
            scim_events::SIGNING_KEY_SETTING
        ),
    )
}

/// What `scim_events::subscription_secret` gives for subscription `id` (version 1) under
/// the configured key: the secret must come from it, not from anything stored.
fn expected_secret(id: &str, tenant: &str) -> String {
    let key = scim_events::EventSigningKey::from_base64(KEY).unwrap();
    let sub = scim_store::Subscription {
        id: id.into(),
        tenant_id: tenant.into(),
        sink: scim_store::Sink::Webhook {
            url: "http://unused".into(),
        },
        mode: scim_core::events::EventMode::Full,
        events: None,
        enabled: true,
        disabled_reason: None,
        secret_version: 1,
        created: chrono::Utc::now(),
        cursor: 0,
        attempts: 0,
        failing_since: None,
        next_attempt: None,
        last_error: None,
    };
    scim_events::subscription_secret(key.as_bytes(), &sub)
}

#[test]
fn a_configured_event_key_signs_and_leaves_nothing_in_the_database() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let mut env = QUICK_DELIVERY.to_vec();
        env.push(("SCIM_EVENT_SIGNING_KEY", KEY));
        let Some(s) = Server::start_with(backend, &env, None) else {
            continue;
        };
        let t = s.tenant("Acme");
        // A key an earlier start (without the setting) kept in the database.
        db_execute(
            &s.db.url,
            &format!(
                "INSERT INTO server_settings (key, value) VALUES ('{}', '{}')",
                scim_events::SIGNING_KEY_SETTING,
                "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="
            ),
        );
        let rx = Receiver::start();
        let out = std::process::Command::new(BIN)
            .args([
                "webhook",
                "add",
                "--tenant",
                &t.id,
                "--url",
                &rx.url("/k"),
                "--json",
            ])
            .env("SCIM_DATABASE_URL", &s.db.url)
            .env("SCIM_PUBLIC_URL", &s.public_url)
            .env("SCIM_LOG_LEVEL", "error")
            .env("SCIM_EVENT_SIGNING_KEY", KEY)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let (id, secret) = (v["id"].as_str().unwrap(), v["secret"].as_str().unwrap());
        assert_eq!(secret, expected_secret(id, &t.id), "{backend:?}");
        assert!(
            stored_event_keys(&s).is_empty(),
            "{backend:?}: the stored key is deleted once a key is configured"
        );

        // The running server's worker signs with the same configured key.
        rx.expect_secret("/k", secret);
        s.call(
            &t,
            "POST",
            "/Users",
            Some(&json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "ada@example.com"
            })),
        )
        .expect(201);
        let got = rx.wait_for("/k", 1, Duration::from_secs(30));
        assert!(!got.is_empty(), "{backend:?}");
        assert!(
            stored_event_keys(&s).is_empty(),
            "{backend:?}: nothing stored again"
        );
    }
}
