//! Two server processes on one PostgreSQL database, both running a delivery worker, with a
//! load through both: the receiver never sees two deliveries of one subscription in flight
//! at once (the leases), every event arrives once, and each subscription gets its tenant's
//! feed in order.

use crate::feed::{QUICK_DELIVERY, add_webhook, all_events};
use crate::harness::{Backend, Server};
use crate::load::{Ack, start_clients};
use crate::receiver::{Receiver, event_of};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Users per client (each is 4 writes, 6 events).
const USERS: usize = 12;

#[test]
fn two_replicas_deliver_each_event_once_in_order_never_at_once() {
    let Some(a) = Server::start_with(Backend::Postgres, QUICK_DELIVERY, None) else {
        return;
    };
    let b = a.replica(QUICK_DELIVERY);
    let t1 = a.tenant("One");
    let t2 = a.tenant("Two");
    let rx = Receiver::start();
    // Each delivery is held a little, so a second one in flight would be seen.
    rx.set_hold(Duration::from_millis(15));
    let subs = [
        (&t1, "/one-full", &[][..]),
        (&t1, "/one-notice", &["--mode", "notice"][..]),
        (&t1, "/one-deact", &["--events", "prov:deactivate"][..]),
        (&t2, "/two-full", &[][..]),
    ];
    for (t, path, extra) in subs {
        let (_, secret) = add_webhook(&a, &t.id, &rx.url(path), extra);
        rx.expect_secret(path, &secret);
    }

    let addrs = vec![a.addr.clone(), b.addr.clone()];
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(Mutex::new(Vec::<Ack>::new()));
    let mut clients = start_clients(3, addrs.clone(), &t1, USERS, &stop, false, &acks);
    clients.extend(start_clients(2, addrs, &t2, USERS, &stop, false, &acks));
    for c in clients {
        // Every request is answered (a 503 under load would only mean fewer events).
        let report = c.join().unwrap();
        assert_eq!(report.errors, 0, "{report:?}");
    }
    eprintln!("{} changes acknowledged", acks.lock().unwrap().len());

    for (t, path, _) in subs {
        let mut feed: Vec<String> = Vec::new();
        for (_, set) in all_events(&a, &t.id) {
            if path != "/one-deact" || event_of(&set).0.ends_with(":prov:deactivate") {
                feed.push(set["jti"].as_str().unwrap().to_string());
            }
        }
        let got = rx.wait_for(path, feed.len(), Duration::from_secs(90));
        let jtis: Vec<String> = got.iter().map(|d| d.jti().to_string()).collect();
        // The receiver never failed, so nothing was retried: each event exactly once.
        assert_eq!(jtis, feed, "{path}: the feed, once each, in order");
        eprintln!("{path}: {} events", feed.len());
    }
    assert_eq!(
        rx.overlaps(),
        Vec::<String>::new(),
        "deliveries in flight at once"
    );
    assert_eq!(rx.rejected(), Vec::<String>::new());
    drop(b);
}

/// `--no-delivery`: that process writes the outbox and serves `events list`, but delivers
/// nothing; a delivering process on the same database delivers everything, in order. (On
/// PostgreSQL: a SQLite file serves one process.)
#[test]
fn a_no_delivery_process_writes_events_that_another_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("api-only.log");
    let mut env = QUICK_DELIVERY.to_vec();
    env.extend([("SCIM_NO_DELIVERY", "true"), ("SCIM_LOG_LEVEL", "info")]);
    let Some(api) = Server::start_with(Backend::Postgres, &env, Some(&log)) else {
        return;
    };
    let t = api.tenant("Quiet");
    let rx = Receiver::start();
    let (id, secret) = add_webhook(&api, &t.id, &rx.url("/quiet"), &[]);
    rx.expect_secret("/quiet", &secret);
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(Mutex::new(Vec::<Ack>::new()));
    for c in start_clients(2, vec![api.addr.clone()], &t, 3, &stop, false, &acks) {
        let report = c.join().unwrap();
        assert_eq!((report.errors, report.refused), (0, 0), "{report:?}");
    }
    let feed: Vec<String> = all_events(&api, &t.id)
        .iter()
        .map(|(_, set)| set["jti"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        feed.len(),
        2 * 3 * 6,
        "the outbox is written without a worker"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("--no-delivery"), "{logged}");
    assert!(
        !logged.contains("starting the event delivery worker"),
        "{logged}"
    );
    // Nothing was delivered by the API-only process: the subscription's cursor is where
    // it started (read after the whole feed was committed).
    let w = crate::feed::list_webhooks(&api, &t.id);
    assert_eq!(
        (w[0]["id"].as_str(), w[0]["cursor"].as_str()),
        (Some(id.as_str()), Some("0"))
    );

    let worker = api.replica(QUICK_DELIVERY);
    let got = rx.wait_for("/quiet", feed.len(), Duration::from_secs(60));
    let jtis: Vec<String> = got.iter().map(|d| d.jti().to_string()).collect();
    assert_eq!(jtis, feed);
    drop(worker);
}
