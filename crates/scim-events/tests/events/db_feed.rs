//! The scenarios on the real stores: SQLite always, PostgreSQL when configured.

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            use crate::support::{Feed, db};
            use std::sync::Arc;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let feed: Arc<dyn Feed> = Arc::new(db::sqlite());
                    crate::scenarios::$name(feed).await;
                }
            )*
        }
        mod postgres {
            use crate::support::{Feed, db};
            use std::sync::Arc;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = db::postgres() else { return };
                    let feed: Arc<dyn Feed> = Arc::new(db);
                    crate::scenarios::$name(feed).await;
                }
            )*
        }
    };
}

on_both!(
    in_order,
    outage,
    disable_and_reenable,
    filters,
    redelivery_and_replay,
    send_test,
    latency,
    lease_renewal,
    prunes_at_start,
    shutdown_hands_over,
);

use crate::support::db;

/// A test attempt lands in its own tenant's log only: another tenant's subscription id is
/// not found.
fn test_attempts_are_tenant_scoped(db: &db::TestDb) {
    use scim_store::{
        DeliveryAttempt, DeliveryFilter, DeliveryOutcome, EventRepo, NewSubscription, Sink,
        StoreError, TenantRepo,
    };
    let other = db.store.create_tenant("other").unwrap().id;
    let sub = db
        .store
        .create_subscription(
            &db.tenant,
            &NewSubscription {
                sink: Sink::Webhook {
                    url: "https://rx.example/hook".into(),
                },
                mode: scim_core::events::EventMode::Full,
                events: None,
                after: None,
            },
        )
        .unwrap();
    let attempt = |tenant: &str| DeliveryAttempt {
        id: 0,
        tenant_id: tenant.into(),
        subscription_id: sub.id.clone(),
        position: 0,
        jti: "test-jti".into(),
        event_type: None,
        attempt: 1,
        redelivery: true,
        at: chrono::Utc::now(),
        outcome: DeliveryOutcome::Delivered,
        status_code: Some(202),
        error: None,
        duration_ms: 3,
        next_try: None,
    };
    assert!(matches!(
        db.store.record_test_attempt(&attempt(&other)),
        Err(StoreError::NotFound)
    ));
    db.store.record_test_attempt(&attempt(&db.tenant)).unwrap();
    let log = |tenant: &str| {
        db.store
            .list_deliveries(
                tenant,
                &DeliveryFilter {
                    limit: 10,
                    ..Default::default()
                },
            )
            .unwrap()
    };
    assert!(log(&other).is_empty());
    let mine = log(&db.tenant);
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].position, mine[0].jti.as_str()), (0, "test-jti"));
    assert_eq!(mine[0].event_type, None, "a test SET is no change event");
    let s = db.store.get_subscription(&db.tenant, &sub.id).unwrap();
    assert_eq!((s.cursor, s.attempts, s.last_error), (sub.cursor, 0, None));
}

#[test]
fn test_attempts_are_tenant_scoped_sqlite() {
    test_attempts_are_tenant_scoped(&db::sqlite());
}

#[test]
fn test_attempts_are_tenant_scoped_postgres() {
    let Some(db) = db::postgres() else { return };
    test_attempts_are_tenant_scoped(&db);
}
