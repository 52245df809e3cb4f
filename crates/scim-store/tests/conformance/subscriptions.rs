//! Event subscriptions: create / list / get / find / update / delete, their filter and
//! cursor, replay, the redelivery queue, tenant isolation.

use crate::support::*;
use scim_core::events::{EventMode, EventType};
use scim_store::{
    DeliveryFilter, EventRepo, NewSubscription, Sink, StoreError, SubscriptionUpdate,
};

fn webhook(url: &str) -> Sink {
    Sink::Webhook { url: url.into() }
}

fn new_sub(sink: Sink) -> NewSubscription {
    NewSubscription {
        sink,
        mode: EventMode::Full,
        events: None,
        after: None,
    }
}

pub fn subscription_crud(db: &TestDb) {
    let t = tenant(db);
    create_user(db, &t, "before");
    create_user(db, &t, "before2");
    // Created: enabled, version 1, cursor after the newest event.
    let a = db
        .create_subscription(&t, &new_sub(webhook("https://rx.example.com/a")))
        .unwrap();
    assert_eq!(a.tenant_id, t);
    assert!(a.enabled && a.disabled_reason.is_none());
    assert_eq!((a.cursor, a.attempts, a.secret_version), (2, 0, 1));
    assert_eq!(a.sink, webhook("https://rx.example.com/a"));
    assert!(a.failing_since.is_none() && a.next_attempt.is_none() && a.last_error.is_none());
    // From a given position, in notice mode, with a filter; to NATS.
    let b = db
        .create_subscription(
            &t,
            &NewSubscription {
                sink: Sink::Nats {
                    subject: "scim.events.acme".into(),
                },
                mode: EventMode::Notice,
                events: Some(vec![EventType::Deactivate, EventType::Create]),
                after: Some(0),
            },
        )
        .unwrap();
    assert_eq!(b.cursor, 0);
    assert_eq!(b.mode, EventMode::Notice);
    assert_eq!(
        b.events,
        Some(vec![EventType::Deactivate, EventType::Create])
    );
    assert!(b.wants(EventType::Create) && !b.wants(EventType::FeedAdd));
    // The cursor stays within the feed.
    let c = db
        .create_subscription(
            &t,
            &NewSubscription {
                after: Some(99),
                ..new_sub(webhook("http://127.0.0.1:9/c"))
            },
        )
        .unwrap();
    assert_eq!(c.cursor, 2);
    // Read back.
    // Oldest first (creations within one millisecond are ordered by id).
    let listed = db.list_subscriptions(&t).unwrap();
    assert!(
        listed
            .windows(2)
            .all(|w| (w[0].created, &w[0].id) < (w[1].created, &w[1].id))
    );
    let mut ids: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
    ids.sort();
    let mut want = [a.id.as_str(), b.id.as_str(), c.id.as_str()];
    want.sort();
    assert_eq!(ids, want);
    assert_eq!(listed.iter().find(|s| s.id == b.id), Some(&b));
    assert_eq!(db.get_subscription(&t, &a.id).unwrap(), a);
    assert_eq!(db.find_subscription(&b.id).unwrap(), b);

    // Update: target, mode, filter, secret; the rest stays.
    let changed = db
        .update_subscription(
            &t,
            &a.id,
            &SubscriptionUpdate {
                sink: Some(webhook("https://rx.example.com/a2")),
                mode: Some(EventMode::Notice),
                events: Some(Some(vec![EventType::FeedAdd])),
                rotate_secret: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(changed.sink, webhook("https://rx.example.com/a2"));
    assert_eq!(changed.mode, EventMode::Notice);
    assert_eq!(changed.events, Some(vec![EventType::FeedAdd]));
    assert_eq!(changed.secret_version, 2);
    assert_eq!((changed.cursor, changed.created), (a.cursor, a.created));
    // Every type again; an empty update changes nothing.
    let all = db
        .update_subscription(
            &t,
            &a.id,
            &SubscriptionUpdate {
                events: Some(None),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(all.events, None);
    let same = db
        .update_subscription(&t, &a.id, &SubscriptionUpdate::default())
        .unwrap();
    assert_eq!(same, all);
    // Disable (by an admin: with a reason), enable (clears it).
    let off = db
        .update_subscription(
            &t,
            &a.id,
            &SubscriptionUpdate {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(!off.enabled);
    assert!(off.disabled_reason.is_some());
    let on = db
        .update_subscription(
            &t,
            &a.id,
            &SubscriptionUpdate {
                enabled: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(on.enabled && on.disabled_reason.is_none());

    // Delete.
    db.delete_subscription(&t, &c.id).unwrap();
    assert!(matches!(
        db.get_subscription(&t, &c.id),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.delete_subscription(&t, &c.id),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.find_subscription(&c.id),
        Err(StoreError::NotFound)
    ));
    assert_eq!(db.list_subscriptions(&t).unwrap().len(), 2);
    // An unknown tenant.
    assert!(matches!(
        db.create_subscription("no-such-tenant", &new_sub(webhook("https://x.example"))),
        Err(StoreError::NotFound)
    ));
}

pub fn subscriptions_are_tenant_scoped(db: &TestDb) {
    let (t, other) = (tenant(db), tenant(db));
    let s = db
        .create_subscription(&t, &new_sub(webhook("https://rx.example.com/a")))
        .unwrap();
    create_user(db, &t, "u");
    assert!(db.list_subscriptions(&other).unwrap().is_empty());
    let not_found = |r: Result<(), StoreError>| assert!(matches!(r, Err(StoreError::NotFound)));
    not_found(db.get_subscription(&other, &s.id).map(|_| ()));
    not_found(
        db.update_subscription(
            &other,
            &s.id,
            &SubscriptionUpdate {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .map(|_| ()),
    );
    not_found(db.replay_subscription(&other, &s.id, 0));
    not_found(db.queue_redelivery(&other, &s.id, 1));
    not_found(db.delete_subscription(&other, &s.id));
    // Another tenant's event position is not queued either.
    create_user(db, &other, "o1");
    create_user(db, &other, "o2");
    not_found(db.queue_redelivery(&t, &s.id, 2));
    assert!(
        db.list_deliveries(
            &other,
            &DeliveryFilter {
                subscription_id: Some(s.id.clone()),
                ..Default::default()
            }
        )
        .unwrap()
        .is_empty()
    );
    // Still there, unchanged.
    assert_eq!(db.get_subscription(&t, &s.id).unwrap(), s);
}

pub fn replay_moves_the_cursor_within_the_feed(db: &TestDb) {
    let t = tenant(db);
    for i in 0..3 {
        create_user(db, &t, &format!("u{i}"));
    }
    let s = db
        .create_subscription(&t, &new_sub(webhook("https://rx.example.com/a")))
        .unwrap();
    assert_eq!(s.cursor, 3);
    for (after, want) in [(1, 1), (0, 0), (-5, 0), (3, 3), (42, 3)] {
        db.replay_subscription(&t, &s.id, after).unwrap();
        assert_eq!(
            db.get_subscription(&t, &s.id).unwrap().cursor,
            want,
            "{after}"
        );
    }
    // Redelivery: the event must exist; queuing twice is once.
    db.queue_redelivery(&t, &s.id, 2).unwrap();
    db.queue_redelivery(&t, &s.id, 2).unwrap();
    assert!(matches!(
        db.queue_redelivery(&t, &s.id, 9),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.queue_redelivery(&t, "no-such-subscription", 1),
        Err(StoreError::NotFound)
    ));
    // Deleting the subscription takes its queue with it.
    db.delete_subscription(&t, &s.id).unwrap();
    assert!(
        db.list_deliveries(&t, &DeliveryFilter::default())
            .unwrap()
            .is_empty()
    );
}
