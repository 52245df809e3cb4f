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
