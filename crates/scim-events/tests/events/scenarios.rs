//! Delivery scenarios written against any [`Feed`]: each runs on the in-memory double and
//! on SQLite and PostgreSQL.

use crate::support::receiver::{Mode, Receiver};
use crate::support::{
    Feed, blocking, config, dedup, deliverer, outbox, outbox_jtis, secret, wait_until,
};
use scim_core::events::{EventMode, EventType};
use scim_events::{DeliveryConfig, TEST_EVENT_URI};
use scim_store::{
    DeliveryFilter, DeliveryOutcome, EventRepo, NewSubscription, Sink, Subscription,
    SubscriptionUpdate,
};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PUBLIC: &str = "https://scim.example";

/// A webhook subscription to `/hook/<name>` on `rx`, from the start of the feed, with its
/// secret registered at the receiver.
pub fn subscribe(
    feed: &dyn Feed,
    rx: &Receiver,
    name: &str,
    mode: EventMode,
    events: Option<Vec<EventType>>,
) -> Subscription {
    let sub = feed
        .events()
        .create_subscription(
            &feed.tenant(),
            &NewSubscription {
                sink: Sink::Webhook { url: rx.url(name) },
                mode,
                events,
                after: Some(0),
            },
        )
        .unwrap();
    rx.expect(name, &secret(feed, &sub));
    sub
}

fn jtis(received: &[crate::support::receiver::Received]) -> Vec<String> {
    received
        .iter()
        .map(|r| r.claims["jti"].as_str().unwrap().to_string())
        .collect()
}

fn subscription(feed: &Arc<dyn Feed>, id: &str) -> Subscription {
    feed.events().get_subscription(&feed.tenant(), id).unwrap()
}

/// Events committed before and while the worker runs arrive once each, in order, signed,
/// with the subscription's target as audience.
pub async fn in_order(feed: Arc<dyn Feed>) {
    let rx = Receiver::start().await;
    // Held a little, so that two sends at once would overlap visibly.
    rx.set_delay(Duration::from_millis(5));
    let sub = subscribe(&*feed, &rx, "a", EventMode::Full, None);
    for i in 0..3 {
        feed.commit_one(&format!("before-{i}"));
    }
    let d = deliverer(&*feed, config(PUBLIC)).await;
    let worker = d.spawn();
    let f = feed.clone();
    blocking(move || {
        for i in 0..4 {
            f.commit_one(&format!("during-{i}"));
        }
    })
    .await;
    wait_until("7 SETs", || async { rx.received_on("a").len() >= 7 }).await;
    let want = outbox_jtis(&*feed);
    assert_eq!(want.len(), 7);
    let got = rx.received_on("a");
    assert_eq!(jtis(&got), want, "exactly the outbox, in order");
    assert!(rx.rejected().is_empty(), "{:?}", rx.rejected());
    assert_eq!(rx.overlaps(), 0, "one subscription, one request at a time");
    for r in &got {
        assert_eq!(
            r.claims["iss"],
            format!("{PUBLIC}/scim/v2/{}", feed.tenant())
        );
        assert_eq!(r.claims["aud"], serde_json::json!([rx.url("a")]));
        assert!(
            r.claims["events"]
                .get("urn:ietf:params:scim:event:prov:create:full")
                .is_some(),
            "{}",
            r.claims
        );
    }
    let f = feed.clone();
    let id = sub.id.clone();
    wait_until("cursor at the end", || {
        let (f, id) = (f.clone(), id.clone());
        async move { blocking(move || subscription(&f, &id).cursor == 7).await }
    })
    .await;
    worker.shutdown().await;
    assert_eq!(
        rx.received_on("a").len(),
        7,
        "no duplicate without a failure"
    );
}

/// The receiver refuses connections, then answers 500, then comes back: every event
/// arrives, in order, duplicates only by retry; the log shows the failures.
pub async fn outage(feed: Arc<dyn Feed>) {
    let rx = Receiver::start().await;
    let sub = subscribe(&*feed, &rx, "o", EventMode::Notice, None);
    let d = deliverer(&*feed, config(PUBLIC)).await;
    let worker = d.spawn();
    feed.commit_one("u0");
    wait_until("first SET", || async { rx.received_on("o").len() == 1 }).await;

    rx.stop().await;
    for i in 1..4 {
        feed.commit_one(&format!("u{i}"));
    }
    let (events, tenant, id) = (feed.events(), feed.tenant(), sub.id.clone());
    let refused = move || {
        let (events, tenant, id) = (events.clone(), tenant.clone(), id.clone());
        async move {
            blocking(move || {
                events
                    .list_deliveries(
                        &tenant,
                        &DeliveryFilter {
                            subscription_id: Some(id),
                            limit: 1000,
                            ..Default::default()
                        },
                    )
                    .unwrap()
            })
            .await
        }
    };
    wait_until("two refused attempts", || {
        let refused = refused.clone();
        async move {
            refused()
                .await
                .iter()
                .filter(|a| a.error.as_deref() == Some("connection refused"))
                .count()
                >= 2
        }
    })
    .await;

    rx.set_mode(Mode::Status(500));
    rx.restart().await;
    feed.commit_one("u4");
    wait_until("two HTTP 500 attempts", || {
        let refused = refused.clone();
        async move {
            refused()
                .await
                .iter()
                .filter(|a| a.status_code == Some(500) && a.error.as_deref() == Some("HTTP 500"))
                .count()
                >= 2
        }
    })
    .await;
    let s = subscription(&feed, &sub.id);
    assert!(s.failing_since.is_some() && s.attempts >= 2, "{s:?}");
    assert_eq!(s.cursor, 1, "the cursor waits at the failing event");

    rx.set_mode(Mode::Accept);
    let want = outbox_jtis(&*feed);
    wait_until("every event after the outage", || async {
        dedup(jtis(&rx.received_on("o"))) == want
    })
    .await;
    worker.shutdown().await;
    let got = jtis(&rx.received_on("o"));
    assert!(
        got.len() > want.len(),
        "the 500s were received, then retried"
    );
    assert_eq!(dedup(got), want, "in order; duplicates only by retry");
    let log = refused().await;
    let delivered: Vec<i64> = log
        .iter()
        .rev()
        .filter(|a| a.outcome == DeliveryOutcome::Delivered)
        .map(|a| a.position)
        .collect();
    assert_eq!(delivered, [1, 2, 3, 4, 5]);
    let s = subscription(&feed, &sub.id);
    assert!(
        s.failing_since.is_none() && s.attempts == 0 && s.enabled,
        "{s:?}"
    );
}

/// A subscription failing for longer than the retry window is disabled with its reason;
/// re-enabling it resumes from its cursor.
pub async fn disable_and_reenable(feed: Arc<dyn Feed>) {
    let rx = Receiver::start().await;
    rx.set_mode(Mode::Status(503));
    let sub = subscribe(&*feed, &rx, "d", EventMode::Full, None);
    feed.commit_one("u0");
    feed.commit_one("u1");
    let cfg = DeliveryConfig {
        retry_window: Duration::from_millis(300),
        ..config(PUBLIC)
    };
    let d = deliverer(&*feed, cfg).await;
    let worker = d.spawn();
    let (f, id) = (feed.clone(), sub.id.clone());
    wait_until("disabled", || {
        let (f, id) = (f.clone(), id.clone());
        async move { blocking(move || !subscription(&f, &id).enabled).await }
    })
    .await;
    let s = subscription(&feed, &sub.id);
    let reason = s.disabled_reason.clone().unwrap_or_default();
    assert!(
        reason.starts_with("failing since ") && reason.ends_with("(300 ms): HTTP 503"),
        "{reason}"
    );
    assert_eq!(s.cursor, 0);
    let seen = rx.requests();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.requests(), seen, "a disabled subscription gets nothing");

    rx.set_mode(Mode::Accept);
    feed.events()
        .update_subscription(
            &feed.tenant(),
            &sub.id,
            &SubscriptionUpdate {
                enabled: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    d.notify();
    let want = outbox_jtis(&*feed);
    wait_until("resumed from the cursor", || async {
        dedup(jtis(&rx.received_on("d"))) == want
    })
    .await;
    worker.shutdown().await;
    let s = subscription(&feed, &sub.id);
    assert!(
        s.enabled && s.disabled_reason.is_none() && s.cursor == 2,
        "{s:?}"
    );
}

/// A filter that refuses every event moves the cursor over them without a request; one
/// that accepts them delivers them.
pub async fn filters(feed: Arc<dyn Feed>) {
    let rx = Receiver::start().await;
    let none = subscribe(
        &*feed,
        &rx,
        "none",
        EventMode::Full,
        Some(vec![EventType::Deactivate]),
    );
    let creates = subscribe(
        &*feed,
        &rx,
        "creates",
        EventMode::Full,
        Some(vec![EventType::Create]),
    );
    for i in 0..3 {
        feed.commit_one(&format!("u{i}"));
    }
    let d = deliverer(&*feed, config(PUBLIC)).await;
    let worker = d.spawn();
    let (f, id) = (feed.clone(), none.id.clone());
    wait_until("skipped to the end", || {
        let (f, id) = (f.clone(), id.clone());
        async move { blocking(move || subscription(&f, &id).cursor == 3).await }
    })
    .await;
    wait_until("creates delivered", || async {
        rx.received_on("creates").len() == 3
    })
    .await;
    worker.shutdown().await;
    assert!(rx.received_on("none").is_empty());
    assert_eq!(subscription(&feed, &creates.id).cursor, 3);
}

/// A queued redelivery is sent once more without moving the cursor; a replay moves the
/// cursor back and sends everything after it again.
pub async fn redelivery_and_replay(feed: Arc<dyn Feed>) {
    let rx = Receiver::start().await;
    let sub = subscribe(&*feed, &rx, "r", EventMode::Full, None);
    for i in 0..3 {
        feed.commit_one(&format!("u{i}"));
    }
    let d = deliverer(&*feed, config(PUBLIC)).await;
    let worker = d.spawn();
    wait_until("3 SETs", || async { rx.received_on("r").len() == 3 }).await;
    let want = outbox_jtis(&*feed);

    feed.events()
        .queue_redelivery(&feed.tenant(), &sub.id, 2)
        .unwrap();
    d.notify();
    wait_until("the redelivery", || async {
        rx.received_on("r").len() == 4
    })
    .await;
    assert_eq!(jtis(&rx.received_on("r"))[3], want[1]);
    let s = subscription(&feed, &sub.id);
    assert_eq!(s.cursor, 3, "a redelivery does not move the cursor");
    // The receiver has the SET before the worker has the answer: wait for the record.
    let (events, tenant, id) = (feed.events(), feed.tenant(), sub.id.clone());
    let attempts_at_2 = move || {
        events
            .list_deliveries(
                &tenant,
                &DeliveryFilter {
                    subscription_id: Some(id.clone()),
                    position: Some(2),
                    limit: 10,
                    ..Default::default()
                },
            )
            .unwrap()
    };
    let a = attempts_at_2.clone();
    wait_until("the redelivery's record", || {
        let a = a.clone();
        async move { blocking(move || a().len() == 2).await }
    })
    .await;
    let log = attempts_at_2();
    assert!(log[0].redelivery && !log[1].redelivery, "newest first");

    feed.events()
        .replay_subscription(&feed.tenant(), &sub.id, 1)
        .unwrap();
    d.notify();
    wait_until("the replay", || async { rx.received_on("r").len() == 6 }).await;
    worker.shutdown().await;
    let got = jtis(&rx.received_on("r"));
    assert_eq!(got[4..], want[1..]);
    assert_eq!(subscription(&feed, &sub.id).cursor, 3);
}

/// `send_test` sends a signed `misc:test` SET now and logs it at position 0, without
/// moving the cursor; an unreachable receiver is reported, not retried.
pub async fn send_test(feed: Arc<dyn Feed>) {
    let rx = Receiver::start().await;
    let sub = subscribe(&*feed, &rx, "t", EventMode::Full, None);
    feed.commit_one("u0");
    let d = deliverer(&*feed, config(PUBLIC)).await;
    let attempt = d.send_test(&feed.tenant(), &sub.id).await.unwrap();
    assert_eq!(attempt.outcome, DeliveryOutcome::Delivered, "{attempt:?}");
    assert_eq!(attempt.status_code, Some(202));
    assert_eq!(attempt.position, 0);
    let got = rx.received_on("t");
    assert_eq!(got.len(), 1);
    let claims: &Value = &got[0].claims;
    assert!(claims["events"].get(TEST_EVENT_URI).is_some(), "{claims}");
    assert_eq!(claims["jti"], attempt.jti.as_str());
    assert_eq!(claims["aud"], serde_json::json!([rx.url("t")]));
    let s = subscription(&feed, &sub.id);
    assert_eq!((s.cursor, s.attempts), (0, 0), "{s:?}");
    let log = feed
        .events()
        .list_deliveries(
            &feed.tenant(),
            &DeliveryFilter {
                subscription_id: Some(sub.id.clone()),
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].position, &log[0].jti), (0, &attempt.jti));

    rx.stop().await;
    let failed = d.send_test(&feed.tenant(), &sub.id).await.unwrap();
    assert_eq!(failed.outcome, DeliveryOutcome::Failed);
    // A kept-alive connection to the stopped receiver fails as "closed", a new one as
    // "refused": which one depends on the pool, and both are a transport failure.
    assert!(
        matches!(
            failed.error.as_deref(),
            Some("connection refused" | "connection closed by the receiver")
        ),
        "{failed:?}"
    );
    let s = subscription(&feed, &sub.id);
    assert!(
        s.failing_since.is_none() && s.next_attempt.is_none(),
        "{s:?}"
    );

    let other = d.send_test(&feed.tenant(), "no-such-subscription").await;
    assert!(other.is_err());
}

/// With the default settings (poll every second), a commit reaches a reachable receiver;
/// the latency is printed (measured, not asserted).
pub async fn latency(feed: Arc<dyn Feed>) {
    let worker_store = feed.events();
    latency_via(feed, worker_store, "same process").await;
}

/// [`latency`] with the worker on `worker_store`: the feed's own store (its commits wake
/// the worker) or another replica's (only the poll finds them).
pub async fn latency_via(feed: Arc<dyn Feed>, worker_store: Arc<dyn EventRepo>, how: &str) {
    let rx = Receiver::start().await;
    subscribe(&*feed, &rx, "l", EventMode::Full, None);
    let d = scim_events::Deliverer::with_repos(
        worker_store,
        feed.settings(),
        DeliveryConfig {
            public_url: PUBLIC.into(),
            ..DeliveryConfig::default()
        },
    )
    .await
    .unwrap();
    let worker = d.spawn();
    let mut latencies = Vec::new();
    for i in 0..5 {
        let before = rx.received_on("l").len();
        let start = Instant::now();
        let f = feed.clone();
        blocking(move || f.commit_one(&format!("lat-{i}"))).await;
        wait_until("the SET", || async { rx.received_on("l").len() > before }).await;
        latencies.push(rx.received_on("l")[before].at.duration_since(start));
    }
    worker.shutdown().await;
    latencies.sort();
    eprintln!(
        "commit-to-receiver latency, {} ({how}), {} commits, default settings: min {:?}, median {:?}, max {:?}",
        feed.name(),
        latencies.len(),
        latencies[0],
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
    let _ = outbox(&*feed);
}

/// Two deliverers (different owners) on one store and a receiver slower than the lease
/// allows for the whole backlog: the serving worker renews its lease, so the other never
/// starts on the same subscription; everything arrives once, in order.
pub async fn lease_renewal(feed: Arc<dyn Feed>) {
    let rx = Receiver::start().await;
    rx.set_delay(Duration::from_millis(250));
    let sub = subscribe(&*feed, &rx, "slow", EventMode::Full, None);
    let n = 24;
    for i in 0..n {
        feed.commit_one(&format!("u{i}"));
    }
    let cfg = |owner: &str| DeliveryConfig {
        owner: owner.into(),
        request_timeout: Duration::from_secs(2),
        // The floor for a 2 s timeout (2 × timeout + 1 s); the backlog takes longer
        // (24 × 250 ms).
        lease: Duration::from_secs(5),
        ..config(PUBLIC)
    };
    let a = deliverer(&*feed, cfg("a")).await;
    let b = deliverer(&*feed, cfg("b")).await;
    assert_eq!(a.config().lease, Duration::from_secs(5));
    let (wa, wb) = (a.spawn(), b.spawn());
    let want = outbox_jtis(&*feed);
    wait_until("the backlog", || async {
        dedup(jtis(&rx.received_on("slow"))).len() >= want.len()
    })
    .await;
    wa.shutdown().await;
    wb.shutdown().await;
    assert_eq!(rx.overlaps(), 0, "the lease was renewed");
    // Exact, not de-duplicated: a lease lost to the other worker would resend one.
    assert_eq!(jtis(&rx.received_on("slow")), want);
    assert_eq!(subscription(&feed, &sub.id).cursor, n);
}

/// At start (and hourly) events older than the retention are pruned; positions are not
/// reused.
pub async fn prunes_at_start(feed: Arc<dyn Feed>) {
    for i in 0..3 {
        feed.commit_one(&format!("old-{i}"));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let d = deliverer(
        &*feed,
        DeliveryConfig {
            retention: Duration::from_millis(10),
            ..config(PUBLIC)
        },
    )
    .await;
    let worker = d.spawn();
    let f = feed.clone();
    wait_until("pruned", || {
        let f = f.clone();
        async move { blocking(move || outbox(&*f).is_empty()).await }
    })
    .await;
    worker.shutdown().await;
    let tenant = feed.tenant();
    assert_eq!(feed.events().last_event_position(&tenant).unwrap(), 3);
    feed.commit_one("new");
    let left = outbox(&*feed);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].position, 4, "positions are never reused");
}

/// Shutting a worker down mid-backlog ends after the attempt in flight, records it and
/// gives the lease back: another replica (a long lease, so a stranded one would stall it)
/// carries on from the cursor at once, without a duplicate or a gap.
pub async fn shutdown_hands_over(feed: Arc<dyn Feed>) {
    let rx = Receiver::start().await;
    rx.set_delay(Duration::from_millis(100));
    let sub = subscribe(&*feed, &rx, "h", EventMode::Full, None);
    for i in 0..10 {
        feed.commit_one(&format!("u{i}"));
    }
    let cfg = |owner: &str| DeliveryConfig {
        owner: owner.into(),
        lease: Duration::from_secs(120),
        ..config(PUBLIC)
    };
    let a = deliverer(&*feed, cfg("a")).await;
    let wa = a.spawn();
    wait_until("a few SETs", || async { rx.received_on("h").len() >= 3 }).await;
    wa.shutdown().await;
    let handed_over = rx.received_on("h").len();
    assert!(handed_over < 10, "stopped mid-backlog");
    assert_eq!(
        subscription(&feed, &sub.id).cursor,
        handed_over as i64,
        "every SET sent was recorded"
    );
    let b = deliverer(&*feed, cfg("b")).await;
    let wb = b.spawn();
    let want = outbox_jtis(&*feed);
    wait_until("the rest", || async {
        rx.received_on("h").len() >= want.len()
    })
    .await;
    wb.shutdown().await;
    assert_eq!(jtis(&rx.received_on("h")), want, "no duplicate, no gap");
}
