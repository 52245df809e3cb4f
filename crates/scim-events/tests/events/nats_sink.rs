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
use scim_events::Deliverer;
use scim_events::DeliveryConfig;
use scim_store::{DeliveryFilter, EventRepo, NewSubscription, Sink, Subscription};
use std::sync::Arc;

/// A NATS subscription of the test tenant to `subject`, from the start of the feed.
fn nats_subscription(db: &TestDb, subject: &str, mode: EventMode) -> Subscription {
    db.store
        .create_subscription(
            &db.tenant,
            &NewSubscription {
                sink: Sink::Nats {
                    subject: subject.to_string(),
                },
                mode,
                events: None,
                after: Some(0),
            },
        )
        .unwrap()
}

/// A deliverer with the test NATS server configured.
async fn nats_deliverer(db: &TestDb, url: &str) -> Deliverer {
    crate::support::deliverer(
        db,
        DeliveryConfig {
            nats_url: Some(url.to_string()),
            ..config("https://scim.example")
        },
    )
    .await
}

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

    let sub = nats_subscription(&db, &subject, EventMode::Notice);
    let key = secret(&*db, &sub);
    let d = nats_deliverer(&db, &url).await;
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

/// Until a stream captures the subject, publishing fails (and is retried with backoff);
/// once one does, every event arrives in order, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_without_a_stream_is_retried_until_one_exists() {
    let Some(url) = db::nats_url() else { return };
    let db = Arc::new(db::sqlite());
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let subject = format!("scim.late.{unique}");
    let sub = nats_subscription(&db, &subject, EventMode::Full);
    for i in 0..3 {
        crate::support::Feed::commit_one(&*db, &format!("u{i}"));
    }
    let d = nats_deliverer(&db, &url).await;
    let worker = d.spawn();
    let (store, tenant, id) = (db.store.clone(), db.tenant.clone(), sub.id.clone());
    let failures = move || {
        store
            .list_deliveries(
                &tenant,
                &DeliveryFilter {
                    subscription_id: Some(id.clone()),
                    limit: 100,
                    ..Default::default()
                },
            )
            .unwrap()
    };
    let f = failures.clone();
    wait_until("two failed publishes", || {
        let f = f.clone();
        async move { blocking(move || f().len() >= 2).await }
    })
    .await;
    let log = blocking(failures.clone()).await;
    eprintln!("publish without a stream: {:?}", log[0].error);
    assert!(
        log.iter()
            .all(|a| a.outcome == scim_store::DeliveryOutcome::Failed)
    );

    let js = jetstream::new(async_nats::connect(&url).await.unwrap());
    let name = format!("SCIM_LATE_{unique}");
    let mut stream = js
        .create_stream(jetstream::stream::Config {
            name: name.clone(),
            subjects: vec![subject.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while stream.info().await.unwrap().state.messages < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the stream never got the events"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    worker.shutdown().await;
    let want = crate::support::outbox_jtis(&*db);
    let mut got = Vec::new();
    for seq in 1..=stream.info().await.unwrap().state.messages {
        let m = stream.get_raw_message(seq).await.unwrap();
        got.push(m.headers.get("Nats-Msg-Id").unwrap().as_str().to_string());
    }
    assert_eq!(got, want);
    js.delete_stream(&name).await.unwrap();
}
