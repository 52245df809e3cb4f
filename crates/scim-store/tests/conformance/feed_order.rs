//! The feed under concurrent writers: gap-free, and in commit order for a polling reader
//! (a cursor can never skip an event that commits later).

use crate::events::{feed, patch_user};
use crate::support::*;
use scim_store::EventRepo;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Writers on different users of one tenant, concurrently, while a reader polls the feed
/// after its cursor: the feed ends gap-free with every event, and the reader never sees a
/// position without every lower one (so a cursor never skips an event committed later).
pub fn concurrent_writers_keep_the_feed_in_commit_order(db: &TestDb) {
    const WRITERS: usize = 4;
    const WRITES: usize = 15;
    let t = tenant(db);
    let users: Vec<String> = (0..WRITERS)
        .map(|i| create_user(db, &t, &format!("w{i}")).id)
        .collect();
    let start = db.last_event_position(&t).unwrap();
    let done = AtomicBool::new(false);
    let seen = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut cursor = start;
            let mut seen = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(120);
            loop {
                let finished = done.load(Ordering::SeqCst);
                let page = db.list_events(&t, cursor, 1000, None).unwrap();
                for r in &page {
                    assert_eq!(r.position, cursor + 1, "the reader skipped a position");
                    cursor = r.position;
                    seen.push(r.position);
                }
                if finished && page.is_empty() {
                    return seen;
                }
                assert!(Instant::now() < deadline, "the reader never caught up");
                std::thread::yield_now();
            }
        });
        let writers: Vec<_> = users
            .iter()
            .enumerate()
            .map(|(w, id)| {
                let t = &t;
                s.spawn(move || {
                    for i in 0..WRITES {
                        patch_user(
                            db,
                            &actor(),
                            t,
                            id,
                            &[("title", json!(format!("t{w}-{i}")))],
                        );
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
        reader.join().unwrap()
    });
    let total = (WRITERS * WRITES) as i64;
    assert_eq!(seen, ((start + 1)..=(start + total)).collect::<Vec<_>>());
    let all = feed(db, &t);
    assert_eq!(
        all.iter().map(|r| r.position).collect::<Vec<_>>(),
        (1..=start + total).collect::<Vec<_>>()
    );
    // Each user's events are in its own version order.
    for id in &users {
        let versions: Vec<i64> = all
            .iter()
            .filter(|r| r.event.event.subject.id == *id && r.position > start)
            .map(|r| r.event.event.version.unwrap())
            .collect();
        assert_eq!(versions, (2..=WRITES as i64 + 1).collect::<Vec<_>>());
    }
}
