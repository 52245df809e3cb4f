//! The delivery worker's store methods: claims (what has work, what is due, leases of two
//! owners, expiry), fencing of every worker write, recorded attempts (success, failure,
//! disable, redelivery), the delivery log's paging, pruning, and the commit listener.

use crate::support::*;
use chrono::{TimeDelta, Utc};
use scim_core::events::{EventMode, EventType};
use scim_store::{
    DeliveryAttempt, DeliveryFilter, DeliveryOutcome, DieselStore, EventRepo, LogQuery, LogRepo,
    NewSubscription, ResourceRepo, Sink, Subscription, SubscriptionUpdate,
};
use std::collections::HashSet;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(60);

fn subscribe(db: &TestDb, t: &str, after: Option<i64>) -> Subscription {
    db.create_subscription(
        t,
        &NewSubscription {
            sink: Sink::Webhook {
                url: "https://rx.example.com/hook".into(),
            },
            mode: EventMode::Full,
            events: None,
            after,
        },
    )
    .unwrap()
}

/// The ids `owner` claims now.
fn claim(db: &TestDb, owner: &str) -> Vec<String> {
    let mut ids: Vec<String> = db
        .claim_subscriptions(owner, LEASE, 100, Utc::now())
        .unwrap()
        .into_iter()
        .map(|c| c.subscription.id)
        .collect();
    ids.sort();
    ids
}

fn attempt(s: &Subscription, position: i64, outcome: DeliveryOutcome, n: i64) -> DeliveryAttempt {
    DeliveryAttempt {
        id: 0,
        tenant_id: s.tenant_id.clone(),
        subscription_id: s.id.clone(),
        position,
        jti: format!("jti-{position}"),
        event_type: Some(EventType::Create),
        attempt: n,
        redelivery: false,
        at: Utc::now(),
        outcome,
        status_code: Some(if outcome == DeliveryOutcome::Delivered {
            204
        } else {
            503
        }),
        error: (outcome == DeliveryOutcome::Failed).then(|| "HTTP 503".to_string()),
        duration_ms: 12,
        next_try: (outcome == DeliveryOutcome::Failed).then(|| Utc::now() + TimeDelta::hours(1)),
    }
}

pub fn claims_take_due_subscriptions_with_work(db: &TestDb) {
    let t = tenant(db);
    let idle = subscribe(db, &t, None);
    assert!(claim(db, "w1").is_empty(), "no events: no work");
    create_user(db, &t, "u1");
    let after_all = subscribe(db, &t, None);
    let claims = db.claim_subscriptions("w1", LEASE, 10, Utc::now()).unwrap();
    assert_eq!(claims.len(), 1, "only the one behind the feed");
    let c = &claims[0];
    assert_eq!(c.subscription.id, idle.id);
    assert!(c.redeliveries.is_empty());
    assert!(c.lease_until > Utc::now() + TimeDelta::seconds(50));
    // Leased: not claimed again, by anyone, until released.
    assert!(claim(db, "w2").is_empty());
    assert!(claim(db, "w1").is_empty());
    db.release_lease("w2", &idle.id).unwrap();
    assert!(claim(db, "w2").is_empty(), "only the owner releases");
    db.release_lease("w1", &idle.id).unwrap();
    assert_eq!(claim(db, "w2"), [idle.id.as_str()]);
    db.release_lease("w2", &idle.id).unwrap();
    // A queued redelivery is work too, and comes with the claim.
    db.queue_redelivery(&t, &after_all.id, 1).unwrap();
    let claims = db.claim_subscriptions("w3", LEASE, 10, Utc::now()).unwrap();
    let got: Vec<(&str, &[i64])> = claims
        .iter()
        .map(|c| (c.subscription.id.as_str(), c.redeliveries.as_slice()))
        .collect();
    assert_eq!(got.len(), 2);
    assert!(got.contains(&(after_all.id.as_str(), &[1][..])));
    assert!(got.contains(&(idle.id.as_str(), &[][..])));
    for c in &claims {
        db.release_lease("w3", &c.subscription.id).unwrap();
    }
    // A limit, disabled and not-yet-due subscriptions.
    assert_eq!(
        db.claim_subscriptions("w4", LEASE, 1, Utc::now())
            .unwrap()
            .len(),
        1
    );
    db.release_lease("w4", &idle.id).unwrap();
    db.release_lease("w4", &after_all.id).unwrap();
    db.update_subscription(
        &t,
        &after_all.id,
        &SubscriptionUpdate {
            enabled: Some(false),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(claim(db, "w5"), [idle.id.as_str()]);
    let s = db.get_subscription(&t, &idle.id).unwrap();
    assert!(
        db.record_attempt("w5", &attempt(&s, 1, DeliveryOutcome::Failed, 1), None)
            .unwrap()
    );
    db.release_lease("w5", &idle.id).unwrap();
    assert!(claim(db, "w6").is_empty(), "backing off for an hour");
    let later = db
        .claim_subscriptions("w6", LEASE, 10, Utc::now() + TimeDelta::hours(2))
        .unwrap();
    assert_eq!(later.len(), 1, "due again after next_attempt");
    // Other tenants' subscriptions are claimed too (the worker serves every tenant), and
    // each claim names its tenant.
    let other = tenant(db);
    let o = subscribe(db, &other, Some(0));
    create_user(db, &other, "o1");
    let claims = db.claim_subscriptions("w7", LEASE, 10, Utc::now()).unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(
        (
            claims[0].subscription.id.as_str(),
            claims[0].subscription.tenant_id.as_str()
        ),
        (o.id.as_str(), other.as_str())
    );
}

pub fn leases_expire_and_fence_every_worker_write(db: &TestDb) {
    let t = tenant(db);
    create_user(db, &t, "u1");
    create_user(db, &t, "u2");
    let s = subscribe(db, &t, Some(0));
    // w1 claims with a lease that has already run out by the clock.
    let past = Utc::now() - TimeDelta::minutes(5);
    let c = db.claim_subscriptions("w1", LEASE, 10, past).unwrap();
    assert_eq!(c.len(), 1);
    // Expired: w2 may take it; w1's writes are refused and write nothing.
    assert_eq!(claim(db, "w2"), [s.id.as_str()]);
    let ok = attempt(&s, 1, DeliveryOutcome::Delivered, 1);
    assert!(!db.record_attempt("w1", &ok, None).unwrap());
    assert!(!db.skip_to("w1", &s.id, 2).unwrap());
    assert!(
        !db.renew_lease("w1", &s.id, Utc::now() + TimeDelta::hours(1))
            .unwrap()
    );
    let now = db.get_subscription(&t, &s.id).unwrap();
    assert_eq!(now.cursor, 0);
    assert!(
        db.list_deliveries(&t, &DeliveryFilter::default())
            .unwrap()
            .is_empty()
    );
    // w2 holds it: its writes land.
    assert!(
        db.renew_lease("w2", &s.id, Utc::now() + TimeDelta::hours(1))
            .unwrap()
    );
    assert!(db.record_attempt("w2", &ok, None).unwrap());
    assert!(db.skip_to("w2", &s.id, 2).unwrap());
    assert!(db.skip_to("w2", &s.id, 1).unwrap(), "never backwards");
    assert_eq!(db.get_subscription(&t, &s.id).unwrap().cursor, 2);
    // An admin's replay takes the lease away: the worker stops.
    db.replay_subscription(&t, &s.id, 0).unwrap();
    assert!(!db.record_attempt("w2", &ok, None).unwrap());
    assert!(!db.skip_to("w2", &s.id, 2).unwrap());
    assert_eq!(db.get_subscription(&t, &s.id).unwrap().cursor, 0);
    // A worker cannot write another tenant's subscription through its attempt.
    assert_eq!(claim(db, "w3"), [s.id.as_str()]);
    let other = tenant(db);
    let forged = DeliveryAttempt {
        tenant_id: other,
        ..ok.clone()
    };
    assert!(!db.record_attempt("w3", &forged, None).unwrap());
}

pub fn attempts_move_the_cursor_or_back_off(db: &TestDb) {
    let t = tenant(db);
    for i in 0..3 {
        create_user(db, &t, &format!("u{i}"));
    }
    let s = subscribe(db, &t, Some(0));
    assert_eq!(claim(db, "w"), [s.id.as_str()]);
    // Two failures at event 1: attempts, failing_since, next_attempt, last_error kept.
    let f1 = attempt(&s, 1, DeliveryOutcome::Failed, 1);
    assert!(db.record_attempt("w", &f1, None).unwrap());
    let f2 = DeliveryAttempt {
        at: f1.at + TimeDelta::seconds(10),
        error: Some("connection refused".into()),
        status_code: None,
        ..attempt(&s, 1, DeliveryOutcome::Failed, 2)
    };
    assert!(db.record_attempt("w", &f2, None).unwrap());
    let now = db.get_subscription(&t, &s.id).unwrap();
    assert_eq!((now.cursor, now.attempts), (0, 2));
    assert_eq!(now.last_error.as_deref(), Some("connection refused"));
    let ms = |d: chrono::DateTime<Utc>| d.timestamp_millis();
    assert_eq!(
        now.failing_since.map(ms),
        Some(ms(f1.at)),
        "since the first failure"
    );
    assert_eq!(now.next_attempt.map(ms), f2.next_try.map(ms));
    // Success: cursor moves, failure state clears, a queued redelivery of it is dropped.
    db.queue_redelivery(&t, &s.id, 1).unwrap();
    assert!(
        db.record_attempt("w", &attempt(&s, 1, DeliveryOutcome::Delivered, 3), None)
            .unwrap()
    );
    let now = db.get_subscription(&t, &s.id).unwrap();
    assert_eq!((now.cursor, now.attempts), (1, 0));
    assert!(now.failing_since.is_none() && now.next_attempt.is_none() && now.last_error.is_none());
    // A redelivery of an older event does not move the cursor.
    assert!(
        db.record_attempt("w", &attempt(&s, 2, DeliveryOutcome::Delivered, 1), None)
            .unwrap()
    );
    db.queue_redelivery(&t, &s.id, 1).unwrap();
    let redelivered = DeliveryAttempt {
        redelivery: true,
        ..attempt(&s, 1, DeliveryOutcome::Delivered, 1)
    };
    assert!(db.record_attempt("w", &redelivered, None).unwrap());
    assert_eq!(db.get_subscription(&t, &s.id).unwrap().cursor, 2);
    db.release_lease("w", &s.id).unwrap();
    let claims = db.claim_subscriptions("w", LEASE, 10, Utc::now()).unwrap();
    assert_eq!(claims.len(), 1, "event 3 is still to send");
    assert!(
        claims[0].redeliveries.is_empty(),
        "the redelivery was dropped"
    );
    // Persistent failure: disabled with the reason, lease given back, not claimed.
    let give_up = attempt(&s, 3, DeliveryOutcome::Failed, 40);
    assert!(
        db.record_attempt("w", &give_up, Some("failing for 72 hours: HTTP 503"))
            .unwrap()
    );
    let now = db.get_subscription(&t, &s.id).unwrap();
    assert!(!now.enabled);
    assert_eq!(
        now.disabled_reason.as_deref(),
        Some("failing for 72 hours: HTTP 503")
    );
    assert_eq!(now.attempts, 40);
    assert!(
        db.claim_subscriptions("w", LEASE, 10, Utc::now() + TimeDelta::days(1))
            .unwrap()
            .is_empty()
    );
    // Enabling clears the failure state: due at once.
    db.update_subscription(
        &t,
        &s.id,
        &SubscriptionUpdate {
            enabled: Some(true),
            ..Default::default()
        },
    )
    .unwrap();
    let now = db.get_subscription(&t, &s.id).unwrap();
    assert!(now.enabled && now.disabled_reason.is_none() && now.attempts == 0);
    assert_eq!(claim(db, "w"), [s.id.as_str()]);
    // The log of it all, newest first.
    let log = db.list_deliveries(&t, &DeliveryFilter::default()).unwrap();
    let got: Vec<(i64, DeliveryOutcome, bool)> = log
        .iter()
        .map(|d| (d.position, d.outcome, d.redelivery))
        .collect();
    use DeliveryOutcome::*;
    assert_eq!(
        got,
        [
            (3, Failed, false),
            (1, Delivered, true),
            (2, Delivered, false),
            (1, Delivered, false),
            (1, Failed, false),
            (1, Failed, false),
        ]
    );
    assert_eq!(log[4].status_code, None);
    assert_eq!(log[5].status_code, Some(503));
    assert_eq!(log[5].jti, "jti-1");
    assert_eq!(log[5].duration_ms, 12);
    assert_eq!(log[5].next_try.map(ms), f1.next_try.map(ms));
    assert!(
        log.iter()
            .all(|d| d.subscription_id == s.id && d.tenant_id == t)
    );
}

pub fn delivery_log_pages_and_filters(db: &TestDb) {
    let t = tenant(db);
    for i in 0..5 {
        create_user(db, &t, &format!("u{i}"));
    }
    let a = subscribe(db, &t, Some(0));
    let b = subscribe(db, &t, Some(0));
    let mut owned = claim(db, "w");
    owned.sort();
    assert_eq!(owned.len(), 2);
    for p in 1..=5 {
        for s in [&a, &b] {
            assert!(
                db.record_attempt("w", &attempt(s, p, DeliveryOutcome::Delivered, 1), None)
                    .unwrap()
            );
        }
    }
    let page = |sub: Option<&str>, position: Option<i64>, before: Option<i64>, limit| {
        db.list_deliveries(
            &t,
            &DeliveryFilter {
                subscription_id: sub.map(str::to_string),
                position,
                before_id: before,
                limit,
            },
        )
        .unwrap()
    };
    assert_eq!(page(None, None, None, 0).len(), 10);
    // Keyset paging over one subscription's log: every row once, newest first.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let p = page(Some(&a.id), None, before, 2);
        if p.is_empty() {
            break;
        }
        assert!(p.len() <= 2);
        before = p.last().map(|d| d.id);
        seen.extend(p);
    }
    assert_eq!(
        seen.iter().map(|d| d.position).collect::<Vec<_>>(),
        [5, 4, 3, 2, 1]
    );
    assert!(seen.windows(2).all(|w| w[0].id > w[1].id));
    assert!(seen.iter().all(|d| d.subscription_id == a.id));
    // One event's attempts over every subscription (the Activity page's state).
    let at3 = page(None, Some(3), None, 0);
    assert_eq!(at3.len(), 2);
    let subs: HashSet<&str> = at3.iter().map(|d| d.subscription_id.as_str()).collect();
    assert_eq!(subs, HashSet::from([a.id.as_str(), b.id.as_str()]));
    // Another tenant sees none.
    let other = tenant(db);
    assert!(
        db.list_deliveries(&other, &DeliveryFilter::default())
            .unwrap()
            .is_empty()
    );
}

pub fn prune_drops_old_prefixes_and_never_reuses_positions(db: &TestDb) {
    let (t, u) = (tenant(db), tenant(db));
    for i in 0..7 {
        create_user(db, &t, &format!("t{i}"));
    }
    for i in 0..3 {
        create_user(db, &u, &format!("u{i}"));
    }
    let s = subscribe(db, &t, Some(0));
    assert_eq!(claim(db, "w"), [s.id.as_str()]);
    for p in 1..=3 {
        assert!(
            db.record_attempt("w", &attempt(&s, p, DeliveryOutcome::Delivered, 1), None)
                .unwrap()
        );
    }
    db.queue_redelivery(&t, &s.id, 2).unwrap();
    // Nothing is older than an hour ago.
    assert_eq!(
        db.prune_events(Utc::now() - TimeDelta::hours(1), 100)
            .unwrap(),
        0
    );
    // Everything is older than tomorrow: in batches.
    let tomorrow = Utc::now() + TimeDelta::days(1);
    let mut total = 0;
    loop {
        let n = db.prune_events(tomorrow, 4).unwrap();
        assert!(n <= 4);
        if n == 0 {
            break;
        }
        total += n;
        // Always a prefix: what is left of each feed starts right after a cut.
        for tenant in [&t, &u] {
            let left = db.list_events(tenant, 0, 100, None).unwrap();
            let last = db.last_event_position(tenant).unwrap();
            let first = left.first().map_or(last + 1, |r| r.position);
            assert_eq!(
                left.iter().map(|r| r.position).collect::<Vec<_>>(),
                (first..=last).collect::<Vec<_>>()
            );
        }
    }
    assert_eq!(total, 10);
    assert!(
        db.list_deliveries(&t, &DeliveryFilter::default())
            .unwrap()
            .is_empty(),
        "the deliveries of pruned events went with them"
    );
    // The counters stay: the last position is still known, and new events continue
    // after the pruned ones.
    assert_eq!(db.last_event_position(&t).unwrap(), 7);
    create_user(db, &t, "after");
    let left = db.list_events(&t, 0, 100, None).unwrap();
    assert_eq!(left.iter().map(|r| r.position).collect::<Vec<_>>(), [8]);
    assert_eq!(db.last_event_position(&u).unwrap(), 3);
    // The provisioning log keeps its rows (and their now dangling ranges).
    assert_eq!(db.list_log(&t, &LogQuery::default()).unwrap().len(), 8);
}

/// Two workers claiming at the same instant, round after round, never both get one
/// subscription, and together they get every subscription that has work.
pub fn concurrent_claimers_never_share_a_subscription(db: &TestDb) {
    const SUBSCRIPTIONS: usize = 12;
    const ROUNDS: usize = 25;
    let t = tenant(db);
    create_user(db, &t, "u");
    let all: HashSet<String> = (0..SUBSCRIPTIONS)
        .map(|_| subscribe(db, &t, Some(0)).id)
        .collect();
    for round in 0..ROUNDS {
        let barrier = Barrier::new(2);
        let (a, b) = std::thread::scope(|s| {
            let go = |owner: &'static str| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    // Small claims, so both workers take turns at the rows.
                    let mut got = Vec::new();
                    loop {
                        let batch = db.claim_subscriptions(owner, LEASE, 2, Utc::now()).unwrap();
                        if batch.is_empty() {
                            return got;
                        }
                        got.extend(batch.into_iter().map(|c| c.subscription.id));
                    }
                })
            };
            let (a, b) = (go("worker-a"), go("worker-b"));
            (a.join().unwrap(), b.join().unwrap())
        });
        let (sa, sb): (HashSet<_>, HashSet<_>) =
            (a.iter().cloned().collect(), b.iter().cloned().collect());
        assert_eq!(sa.len(), a.len(), "round {round}: a claimed one twice");
        assert!(
            sa.is_disjoint(&sb),
            "round {round}: both claimed {:?}",
            sa.intersection(&sb)
        );
        assert_eq!(
            &sa | &sb,
            all,
            "round {round}: some subscription was not claimed"
        );
        for id in &a {
            db.release_lease("worker-a", id).unwrap();
        }
        for id in &b {
            db.release_lease("worker-b", id).unwrap();
        }
    }
}

/// The listener hears of each transaction that appended events, once, after its commit
/// (a second store already reads the events then); refused and no-op writes are silent.
pub fn commit_listener_runs_after_commit(db: &TestDb) {
    let t = tenant(db);
    let observer = Arc::new(DieselStore::open(&db.config).unwrap());
    let heard: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    {
        let (observer, heard) = (Arc::clone(&observer), Arc::clone(&heard));
        db.set_commit_listener(Arc::new(move |tenant: &str| {
            let visible = observer.last_event_position(tenant).unwrap();
            heard.lock().unwrap().push((tenant.to_string(), visible));
        }));
    }
    let u = create_user(db, &t, "ada");
    let mut a = u.attributes.clone();
    a.insert("title".into(), serde_json::json!("Boss"));
    db.replace(
        &actor(),
        &t,
        scim_core::ResourceKind::User,
        &u.id,
        a.clone(),
        None,
    )
    .unwrap();
    // A no-op and a refused write: nothing.
    db.replace(&actor(), &t, scim_core::ResourceKind::User, &u.id, a, None)
        .unwrap();
    assert!(
        db.replace(
            &actor(),
            &t,
            scim_core::ResourceKind::User,
            &u.id,
            user_attrs(serde_json::json!({"userName": "x"})),
            Some(99)
        )
        .is_err()
    );
    assert_eq!(
        *heard.lock().unwrap(),
        [(t.clone(), 1), (t.clone(), 2)],
        "once per committed transaction, with its events visible"
    );
    // A later registration replaces the first.
    let second: Arc<Mutex<usize>> = Arc::default();
    {
        let second = Arc::clone(&second);
        db.set_commit_listener(Arc::new(move |_: &str| *second.lock().unwrap() += 1));
    }
    create_user(db, &t, "bob");
    assert_eq!(heard.lock().unwrap().len(), 2);
    assert_eq!(*second.lock().unwrap(), 1);
}
