//! `kill -9` under a write load with an active webhook subscription, then a restart: every
//! change a client got a 2xx for has its event delivered, every event matches a change
//! the database holds (nothing invented by a request that died mid-way), and the feed the
//! events API shows is exactly what the receiver got, de-duplicated by `jti`, in order.

use crate::feed::{QUICK_DELIVERY, add_webhook, all_events};
use crate::harness::{Backend, Server};
use crate::load::{Ack, etag_version, start_clients};
use crate::receiver::{Receiver, dedup, distinct_jtis, event_of};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 4;
/// Acknowledged changes before the kill: well into the load, far from its end.
const KILL_AFTER: usize = 60;

#[test]
fn kill_9_under_load_loses_no_event_and_invents_none() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(mut s) = Server::start_with(backend, QUICK_DELIVERY, None) else {
            continue;
        };
        eprintln!("-- backend {backend:?}");
        crash_and_recover(&mut s);
    }
}

fn crash_and_recover(s: &mut Server) {
    let t = s.tenant("Crash");
    let rx = Receiver::start();
    let (_, secret) = add_webhook(s, &t.id, &rx.url("/crash"), &[]);
    rx.expect_secret("/crash", &secret);
    // Deliveries slower than the writes: at the kill the worker is mid-way through a
    // backlog, holding the subscription's lease.
    rx.set_hold(Duration::from_millis(25));

    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(Mutex::new(Vec::<Ack>::new()));
    let clients = start_clients(
        CLIENTS,
        vec![s.addr.clone()],
        &t,
        10_000,
        &stop,
        true,
        &acks,
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while acks.lock().unwrap().len() < KILL_AFTER {
        assert!(Instant::now() < deadline, "the load did not get going");
        std::thread::sleep(Duration::from_millis(10));
    }
    s.kill9();
    let before_restart = rx.received("/crash").len();
    stop.store(true, Ordering::SeqCst);
    let reports: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    eprintln!("clients after the kill: {reports:?}");
    let acks = acks.lock().unwrap().clone();
    eprintln!("{} changes acknowledged before the kill", acks.len());

    s.restart();

    // The feed as the events API shows it after the restart.
    let feed = all_events(s, &t.id);
    let jtis: Vec<String> = feed
        .iter()
        .map(|(_, set)| set["jti"].as_str().unwrap().to_string())
        .collect();
    // The restarted process (a new lease owner) delivers what the dead one had not, once
    // the dead one's lease has expired.
    let got = rx.wait_for("/crash", jtis.len(), Duration::from_secs(90));
    assert_eq!(rx.rejected(), Vec::<String>::new());
    let delivered = dedup(&got);
    let delivered_jtis: Vec<String> = delivered.iter().map(|d| d.jti().to_string()).collect();
    assert_eq!(
        delivered_jtis, jtis,
        "the receiver got the feed, in feed order (duplicates aside)"
    );
    eprintln!(
        "{} events, {} delivered before the restart, {} deliveries in all ({} duplicates)",
        jtis.len(),
        before_restart,
        got.len(),
        got.len() - distinct_jtis(&got)
    );

    // Per user: the versions its events name (create and patch; activate/deactivate
    // repeat their patch's version).
    let mut versions: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (_, set) in &feed {
        let uri = set["sub_id"]["uri"].as_str().unwrap();
        let id = uri
            .strip_prefix("/Users/")
            .expect("only users change")
            .to_string();
        let (event, payload) = event_of(set);
        let version = etag_version(payload["version"].as_str().unwrap());
        if event.contains(":prov:create:") || event.contains(":prov:patch:") {
            versions.entry(id).or_default().push(version);
        }
    }
    // Every acknowledged change has its event.
    for ack in &acks {
        assert!(
            versions
                .get(&ack.user_id)
                .is_some_and(|v| v.contains(&ack.version)),
            "acknowledged {ack:?} has no event"
        );
    }
    // The database holds exactly the changes the feed names: every user has one event per
    // version 1..=its current version, and every user in the feed exists.
    let stored = stored_users(s, &t);
    let in_feed: BTreeSet<&String> = versions.keys().collect();
    let in_db: BTreeSet<&String> = stored.keys().collect();
    assert_eq!(in_feed, in_db, "users with events = users in the database");
    for (id, v) in &versions {
        let current = stored[id];
        let want: Vec<i64> = (1..=current).collect();
        assert_eq!(v, &want, "user {id}: one event per committed version");
    }
    let acked_users: HashSet<&String> = acks.iter().map(|a| &a.user_id).collect();
    eprintln!(
        "{} users in the database, {} acknowledged, {} committed without an answer",
        stored.len(),
        acked_users.len(),
        stored.len() - acked_users.len()
    );
}

/// Every user of the tenant with its current version, read over SCIM.
fn stored_users(s: &Server, t: &crate::harness::Tenant) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    let mut start = 1;
    loop {
        let page = s
            .call(
                t,
                "GET",
                &format!("/Users?startIndex={start}&count=1000&attributes=id,meta"),
                None,
            )
            .expect(200);
        let items = page["Resources"].as_array().cloned().unwrap_or_default();
        for u in &items {
            out.insert(
                u["id"].as_str().unwrap().to_string(),
                etag_version(u["meta"]["version"].as_str().unwrap()),
            );
        }
        start += items.len();
        if items.is_empty() || out.len() as u64 >= page["totalResults"].as_u64().unwrap() {
            return out;
        }
    }
}

/// SIGTERM with a backlog in delivery: the process exits cleanly after the delivery in
/// flight is recorded, and the restarted one delivers the rest: every event exactly once,
/// in order (a graceful stop, unlike `kill -9`, leaves nothing to deliver twice).
#[test]
fn sigterm_mid_backlog_resumes_without_duplicates() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(mut s) = Server::start_with(backend, QUICK_DELIVERY, None) else {
            continue;
        };
        eprintln!("-- backend {backend:?}");
        let t = s.tenant("Drain");
        let rx = Receiver::start();
        let (_, secret) = add_webhook(&s, &t.id, &rx.url("/drain"), &[]);
        rx.expect_secret("/drain", &secret);
        rx.set_hold(Duration::from_millis(100));
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(Mutex::new(Vec::<Ack>::new()));
        for c in start_clients(2, vec![s.addr.clone()], &t, 4, &stop, false, &acks) {
            assert_eq!(c.join().unwrap().errors, 0);
        }
        let feed: Vec<String> = all_events(&s, &t.id)
            .iter()
            .map(|(_, set)| set["jti"].as_str().unwrap().to_string())
            .collect();
        // Some delivered, the rest still queued (48 events at 100 ms each).
        rx.wait_for("/drain", 3, Duration::from_secs(30));
        let status = s.terminate();
        assert!(status.success(), "exit status {status}");
        let before = rx.received("/drain").len();
        s.restart();
        let got = rx.wait_for("/drain", feed.len(), Duration::from_secs(90));
        let jtis: Vec<String> = got.iter().map(|d| d.jti().to_string()).collect();
        assert_eq!(jtis, feed, "each event once, in order");
        eprintln!("{} events, {before} delivered before the stop", feed.len());
    }
}
