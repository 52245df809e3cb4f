//! The same walk through a NATS JetStream sink: a stream the test creates (unique names)
//! captures the subscription's subject; the messages are read back in stream order and
//! checked like the webhook's (signature, order, `Nats-Msg-Id` = jti, content type).

use crate::lifecycle::{check_sets, okta_walk};
use crate::support::db::{self, TestDb};
use crate::support::memory::Memory;
use crate::support::receiver::verify;
use crate::support::{blocking, config, secret, wait_until};
use async_nats::jetstream;
use scim_core::events::{EventMode, EventType};
use scim_events::DeliveryConfig;
use scim_store::{DeliveryFilter, EventRepo, NewSubscription, Sink};
use std::sync::Arc;

async fn nats_walk(db: TestDb, url: String) {
    let db = Arc::new(db);
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let subject = format!("scim.test.{unique}");
    let stream_name = format!("SCIM_TEST_{unique}");
    let client = async_nats::connect(&url).await.unwrap();
    let js = jetstream::new(client);
    let mut stream = js
        .create_stream(jetstream::stream::Config {
            name: stream_name.clone(),
            subjects: vec![subject.clone()],
            ..Default::default()
        })
        .await
        .unwrap();

    let sub = db
        .store
        .create_subscription(
            &db.tenant,
            &NewSubscription {
                sink: Sink::Nats {
                    subject: subject.clone(),
                },
                mode: EventMode::Notice,
                events: None,
                after: Some(0),
            },
        )
        .unwrap();
    let key = secret(&*db, &sub);
    let d = crate::support::deliverer(
        &*db,
        DeliveryConfig {
            nats_url: Some(url.clone()),
            ..config("https://scim.example")
        },
    )
    .await;
    let worker = d.spawn();
    let (store, tenant) = (db.store.clone(), db.tenant.clone());
    let want = blocking(move || okta_walk(&*store, &tenant)).await;
    let n = want.len() as u64;
    // Polled by hand: the stream's info needs `&mut`.
    let mut messages = 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while messages < n {
        assert!(
            std::time::Instant::now() < deadline,
            "stream has {messages} of {n}"
        );
        messages = stream.info().await.unwrap().state.messages;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    worker.shutdown().await;
    assert_eq!(
        messages, n,
        "one message per event (Nats-Msg-Id de-duplicates retries)"
    );

    let mut claims = Vec::new();
    for seq in 1..=n {
        let m = stream.get_raw_message(seq).await.unwrap();
        let jws = String::from_utf8(m.payload.to_vec()).unwrap();
        let c = verify(&jws, &key).unwrap();
        let header = |k: &str| m.headers.get(k).map(|v| v.as_str().to_string());
        assert_eq!(header("Nats-Msg-Id").as_deref(), c["jti"].as_str());
        assert_eq!(
            header("Content-Type").as_deref(),
            Some("application/secevent+jwt")
        );
        assert_eq!(c["aud"], serde_json::json!([format!("nats:{subject}")]));
        claims.push(c);
    }
    let issuer = format!("https://scim.example/scim/v2/{}", db.tenant);
    check_sets(&claims, &want, EventMode::Notice, &issuer);
    js.delete_stream(&stream_name).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_walk_to_nats_sqlite() {
    let Some(url) = db::nats_url() else { return };
    nats_walk(db::sqlite(), url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_walk_to_nats_postgres() {
    let Some(url) = db::nats_url() else { return };
    let Some(db) = db::postgres() else { return };
    nats_walk(db, url).await;
}

/// Without a NATS server configured, a NATS subscription's attempts fail visibly (and are
/// retried), never silently dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_without_a_server_fails_with_a_reason() {
    let memory = Arc::new(Memory::default());
    let sub = memory
        .create_subscription(
            "t",
            &NewSubscription {
                sink: Sink::Nats {
                    subject: "scim.nowhere".into(),
                },
                mode: EventMode::Full,
                events: None,
                after: Some(0),
            },
        )
        .unwrap();
    memory.append("t", EventType::Create, "u1");
    let d = scim_events::Deliverer::with_repos(
        memory.clone(),
        memory.clone(),
        config("https://scim.example"),
    )
    .await
    .unwrap();
    let worker = d.spawn();
    let m = memory.clone();
    wait_until("a failed attempt", || {
        let m = m.clone();
        async move {
            !m.list_deliveries(
                "t",
                &DeliveryFilter {
                    limit: 10,
                    ..Default::default()
                },
            )
            .unwrap()
            .is_empty()
        }
    })
    .await;
    worker.shutdown().await;
    let log = memory
        .list_deliveries(
            "t",
            &DeliveryFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(
        log.iter()
            .all(|a| a.error.as_deref() == Some("NATS is not configured")),
        "{log:?}"
    );
    let s = memory.get_subscription("t", &sub.id).unwrap();
    assert_eq!(s.cursor, 0);
    assert_eq!(s.last_error.as_deref(), Some("NATS is not configured"));
}
