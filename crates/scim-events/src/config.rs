//! How a `Deliverer` runs.

use std::time::Duration;

/// The delivery worker's settings (the server's `--event-*`, `--webhook-*`, `--nats-url`
/// and `--delivery-concurrency` options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// The server's public base URL: a SET's `iss` is `{public_url}/scim/v2/{tenant}`.
    pub public_url: String,
    /// This replica's lease owner id (random per process, so a restarted process never
    /// mistakes an old lease for its own).
    pub owner: String,
    /// How often the loop looks for due subscriptions when no commit woke it (default 1 s;
    /// commits in this process wake it at once).
    pub poll_interval: Duration,
    /// How long a claimed subscription stays leased unless renewed (default 30 s; must
    /// exceed `request_timeout * 2`, the loop renews when less than that remains).
    pub lease: Duration,
    /// The timeout of one webhook `POST` or one NATS publish-and-ack (default 10 s).
    pub request_timeout: Duration,
    /// A subscription failing for this long is disabled (default 72 h).
    pub retry_window: Duration,
    /// The first retry's backoff ceiling (default 1 s).
    pub min_backoff: Duration,
    /// The largest backoff ceiling (default 1 h).
    pub max_backoff: Duration,
    /// Events older than this are pruned (default 30 days).
    pub retention: Duration,
    /// The NATS server for `nats:` subscriptions (none: their attempts fail with "NATS is
    /// not configured").
    pub nats_url: Option<String>,
    /// Subscriptions served at once (default 8); each one is strictly sequential.
    pub concurrency: usize,
    /// The operator's event signing key; `None` (the default) uses the one kept in the
    /// settings table ([`crate::resolve_signing_key`]).
    pub signing_key: Option<crate::EventSigningKey>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            public_url: "http://localhost:8080".into(),
            owner: uuid::Uuid::new_v4().simple().to_string(),
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
            retry_window: Duration::from_secs(72 * 3600),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(3600),
            retention: Duration::from_secs(30 * 24 * 3600),
            nats_url: None,
            concurrency: 8,
            signing_key: None,
        }
    }
}

impl DeliveryConfig {
    /// The settings with their invariants restored: at least one subscription at a time,
    /// a lease longer than two request timeouts (else a slow receiver could outlive the
    /// lease and a second worker start on the same subscription), backoffs ordered.
    pub fn normalized(mut self) -> Self {
        self.concurrency = self.concurrency.max(1);
        self.request_timeout = self.request_timeout.max(Duration::from_millis(10));
        let floor = self.request_timeout * 2 + Duration::from_secs(1);
        if self.lease < floor {
            self.lease = floor;
        }
        self.poll_interval = self.poll_interval.max(Duration::from_millis(10));
        if self.max_backoff < self.min_backoff {
            self.max_backoff = self.min_backoff;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = DeliveryConfig::default();
        assert_eq!(c.poll_interval, Duration::from_secs(1));
        assert_eq!(c.lease, Duration::from_secs(30));
        assert_eq!(c.request_timeout, Duration::from_secs(10));
        assert_eq!(c.retry_window, Duration::from_secs(259_200));
        assert_eq!(c.min_backoff, Duration::from_secs(1));
        assert_eq!(c.max_backoff, Duration::from_secs(3600));
        assert_eq!(c.retention, Duration::from_secs(2_592_000));
        assert_eq!(c.concurrency, 8);
        assert!(c.nats_url.is_none());
        assert_ne!(
            c.owner,
            DeliveryConfig::default().owner,
            "random per process"
        );
        assert_eq!(c.clone().normalized(), c, "the defaults are consistent");
    }

    #[test]
    fn normalizing_keeps_the_lease_above_two_timeouts() {
        let c = DeliveryConfig {
            lease: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            concurrency: 0,
            min_backoff: Duration::from_secs(9),
            max_backoff: Duration::from_secs(1),
            ..DeliveryConfig::default()
        }
        .normalized();
        assert!(c.lease > c.request_timeout * 2);
        assert_eq!(c.concurrency, 1);
        assert_eq!(c.max_backoff, c.min_backoff);
    }
}
