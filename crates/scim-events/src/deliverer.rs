//! The public face of the worker: [`Deliverer`] and its [`WorkerHandle`].

use crate::nats::Nats;
use crate::set::render_test_set;
use crate::worker::{self, AttemptOf, Core};
use crate::{DeliveryConfig, EventsError, resolve_signing_key, webhook};
use chrono::Utc;
use scim_store::{DeliveryAttempt, EventRepo, SettingsRepo, Store};
use std::sync::Arc;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// Delivers every tenant's events to its subscriptions. Cheap to clone (an `Arc` inside):
/// the server keeps one, the console's "send test event" uses a clone.
#[derive(Clone)]
pub struct Deliverer {
    core: Arc<Core>,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("owner", &self.core.config.owner)
            .finish_non_exhaustive()
    }
}

impl Deliverer {
    /// A deliverer over `store`: reads (or creates) the shared event signing key and builds
    /// the HTTP client. Nothing runs until [`Deliverer::spawn`].
    pub async fn new(store: Arc<dyn Store>, config: DeliveryConfig) -> Result<Self, EventsError> {
        let events: Arc<dyn EventRepo> = store.clone();
        let settings: Arc<dyn SettingsRepo> = store;
        Self::with_repos(events, settings, config).await
    }

    /// [`Deliverer::new`] over the two repositories it needs (for embedders and tests that
    /// have no whole `Store`).
    pub async fn with_repos(
        events: Arc<dyn EventRepo>,
        settings: Arc<dyn SettingsRepo>,
        config: DeliveryConfig,
    ) -> Result<Self, EventsError> {
        let config = config.normalized();
        let configured = config.signing_key.clone();
        let key = tokio::task::spawn_blocking(move || {
            resolve_signing_key(configured.as_ref(), &*settings)
        })
        .await
        .map_err(|e| EventsError::Task(e.to_string()))??;
        let http = webhook::client(config.request_timeout)?;
        let nats = Nats::new(config.nats_url.clone(), config.request_timeout);
        Ok(Deliverer {
            core: Arc::new(Core {
                repo: events,
                config,
                key,
                http,
                nats,
                wake: Arc::new(Notify::new()),
            }),
        })
    }

    /// The settings in force (normalised: see [`DeliveryConfig::normalized`]).
    pub fn config(&self) -> &DeliveryConfig {
        &self.core.config
    }

    /// Starts the background tasks on the current Tokio runtime: the claim-and-deliver
    /// loop and the prune loop; registers the store's commit listener so a commit in this
    /// process wakes the loop at once. Call it once per process, from within a Tokio
    /// runtime (actix-web's is one); dropping the handle leaves the tasks running.
    pub fn spawn(&self) -> WorkerHandle {
        let (stop, stopped) = watch::channel(false);
        let wake = self.core.wake.clone();
        self.core
            .repo
            .set_commit_listener(Arc::new(move |_tenant: &str| wake.notify_one()));
        let tasks = vec![
            tokio::spawn(worker::run(self.core.clone(), stopped.clone())),
            tokio::spawn(worker::prune(self.core.clone(), stopped)),
        ];
        WorkerHandle {
            core: self.core.clone(),
            stop,
            tasks,
        }
    }

    /// Wakes the delivery loop now instead of at its next poll.
    pub fn notify(&self) {
        self.core.wake.notify_one();
    }

    /// Sends a signed test SET (`urn:ietf:params:scim:event:misc:test`, subject the
    /// tenant's feed, a fresh `jti`) once to the subscription, now, whether or not it is
    /// enabled; records the attempt in its delivery log at position 0
    /// (`EventRepo::record_test_attempt`: no lease, no change to the cursor or the failure
    /// state) and returns it. A failed test is reported, not retried.
    pub async fn send_test(
        &self,
        tenant_id: &str,
        subscription_id: &str,
    ) -> Result<DeliveryAttempt, EventsError> {
        let (t, s) = (tenant_id.to_string(), subscription_id.to_string());
        let sub = self.core.store(move |r| r.get_subscription(&t, &s)).await?;
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let at = Utc::now();
        let claims = render_test_set(&sub, &self.core.config.public_url, &jti, at);
        let sent = self.core.send(&sub, &claims, &jti).await;
        let what = AttemptOf {
            position: 0,
            jti: &jti,
            event_type: None,
            number: 1,
            redelivery: true,
        };
        let attempt = Core::attempt(&sub, what, at, &sent);
        let a = attempt.clone();
        if let Err(e) = self.core.store(move |r| r.record_test_attempt(&a)).await {
            // The receiver's answer is what the caller asked for: report it even when the
            // log could not take it.
            tracing::warn!(
                tenant_id = %attempt.tenant_id,
                subscription_id = %attempt.subscription_id,
                error = %e,
                "a test delivery was sent but not logged"
            );
        }
        Ok(attempt)
    }
}

/// The running background tasks of a [`Deliverer`].
pub struct WorkerHandle {
    core: Arc<Core>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl WorkerHandle {
    /// Stops the loops: subscriptions being served finish their current attempt (bounded
    /// by the request timeout) and give their leases back; the commit listener is removed.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.core.repo.set_commit_listener(Arc::new(|_: &str| {}));
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
