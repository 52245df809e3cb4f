//! The webhook's rules, one send at a time (`send_test` on the in-memory double): which
//! answers count as delivered, and what a failure records and logs.

use crate::scenarios::subscribe;
use crate::support::memory::MemoryFeed;
use crate::support::receiver::{Mode, Receiver};
use crate::support::{Feed, config, secret, wait_until};
use scim_core::events::EventMode;
use scim_events::{Deliverer, DeliveryConfig};
use scim_store::{DeliveryFilter, DeliveryOutcome, EventRepo};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_2xx_is_delivered_and_redirects_are_not_followed() {
    let feed = MemoryFeed::new("t-rules");
    let rx = Receiver::start().await;
    let sub = subscribe(&feed, &rx, "s", EventMode::Full, None);
    let d = Deliverer::with_repos(feed.events(), feed.settings(), config("https://h"))
        .await
        .unwrap();
    let cases: &[(u16, Option<&str>)] = &[
        (200, None),
        (202, None),
        (204, None),
        (301, Some("HTTP 301 (redirects are not followed)")),
        (302, Some("HTTP 302 (redirects are not followed)")),
        (307, Some("HTTP 307 (redirects are not followed)")),
        (400, Some("HTTP 400")),
        (404, Some("HTTP 404")),
        (500, Some("HTTP 500")),
        (503, Some("HTTP 503")),
    ];
    for &(status, want_error) in cases {
        rx.set_mode(Mode::Status(status));
        let a = d.send_test(&feed.tenant(), &sub.id).await.unwrap();
        assert_eq!(a.status_code, Some(status));
        assert_eq!(a.error.as_deref(), want_error, "HTTP {status}");
        let want = if want_error.is_none() {
            DeliveryOutcome::Delivered
        } else {
            DeliveryOutcome::Failed
        };
        assert_eq!(a.outcome, want, "HTTP {status}");
    }
    assert_eq!(
        rx.received_on("s").len(),
        cases.len(),
        "one request each, no redirect followed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_times_out() {
    let feed = MemoryFeed::new("t-rules");
    let rx = Receiver::start().await;
    rx.set_delay(Duration::from_millis(1500));
    let sub = subscribe(&feed, &rx, "s", EventMode::Full, None);
    let d = Deliverer::with_repos(
        feed.events(),
        feed.settings(),
        DeliveryConfig {
            request_timeout: Duration::from_millis(300),
            ..config("https://h")
        },
    )
    .await
    .unwrap();
    let a = d.send_test(&feed.tenant(), &sub.id).await.unwrap();
    assert_eq!(a.outcome, DeliveryOutcome::Failed);
    assert_eq!(a.error.as_deref(), Some("timed out"));
    assert_eq!(a.status_code, None);
}

/// Log lines written by the code under test, captured.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// One warning per failed attempt and one error per disable, naming the subscription and
/// the reason, never the secret, the SET or the URL (which may carry a token).
// A current-thread runtime: the worker's tasks log through this thread's subscriber.
#[tokio::test]
async fn failures_and_disables_are_logged_without_secrets() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let feed = MemoryFeed::new("t-rules");
    let memory = feed.memory.clone();
    let rx = Receiver::start().await;
    rx.set_mode(Mode::Status(500));
    let sub = memory
        .create_subscription(
            "t-rules",
            &scim_store::NewSubscription {
                sink: scim_store::Sink::Webhook {
                    url: format!("{}?token=s3cr3t-in-url", rx.url("s")),
                },
                mode: EventMode::Full,
                events: None,
                after: Some(0),
            },
        )
        .unwrap();
    let key = secret(&feed, &sub);
    rx.expect("s", &key);
    feed.commit_one("u0");
    let d = Deliverer::with_repos(
        feed.events(),
        feed.settings(),
        DeliveryConfig {
            retry_window: Duration::from_millis(300),
            ..config("https://h")
        },
    )
    .await
    .unwrap();
    let worker = d.spawn();
    let m = memory.clone();
    wait_until("disabled", || {
        let m = m.clone();
        let id = sub.id.clone();
        async move { !m.get_subscription("t-rules", &id).unwrap().enabled }
    })
    .await;
    worker.shutdown().await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let failed = memory
        .list_deliveries(
            "t-rules",
            &DeliveryFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .unwrap()
        .len();
    assert!(failed >= 2, "{text}");
    assert_eq!(
        text.matches("event delivery failed").count(),
        failed,
        "one line per failed attempt:\n{text}"
    );
    assert_eq!(text.matches("subscription disabled").count(), 1, "{text}");
    for line in text.lines() {
        assert!(line.contains(&sub.id), "{line}");
        assert!(line.contains("HTTP 500"), "{line}");
    }
    for secret in [key.as_str(), "s3cr3t-in-url", "eyJ", "/hook/"] {
        assert!(
            !text.contains(secret),
            "{secret:?} leaked into the logs:\n{text}"
        );
    }
}
