//! The per-tenant rate limit: a token bucket per tenant (GCRA, `governor`'s keyed limiter),
//! in this process's memory.
//!
//! A request is counted against its tenant **after** its token has been checked (right
//! after [`Authenticated::check`](crate::auth::Authenticated::check), on the request's own
//! session), so somebody without the tenant's current token can never spend the tenant's
//! budget: a wrong or revoked token gets its 401 and costs the tenant nothing.
//! Unauthenticated floods are bounded elsewhere: a forged token costs no database work,
//! and every request waits for a connection in the fair queues of [`crate::state`].
//!
//! Over the limit the request gets 429 with a SCIM error body, `Retry-After` (whole seconds,
//! at least 1) and the `RateLimit-Limit` / `RateLimit-Remaining` / `RateLimit-Reset` /
//! `RateLimit-Policy` headers of draft-ietf-httpapi-ratelimit-headers (on 429s only: that
//! is where a client needs them, and it keeps successful responses free of the work).
//!
//! Each replica counts on its own: with N replicas behind a balancer a tenant gets up to N
//! times the rate. The check is a hash lookup and a compare-and-swap (~100 ns).

use crate::error::ApiError;
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;

/// A tenant's rate: requests per second and the bucket's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per second, sustained.
    pub per_second: NonZeroU32,
    /// Requests a tenant may make at once after being idle (at least `per_second`).
    pub burst: NonZeroU32,
}

impl RateLimit {
    /// `per_second` requests a second with bursts of `burst` (0 or less than the rate: the
    /// rate); `None` when `per_second` is 0 (no limit).
    pub fn new(per_second: u32, burst: u32) -> Option<RateLimit> {
        let per_second = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(burst.max(per_second.get())).unwrap_or(per_second);
        Some(RateLimit { per_second, burst })
    }
}

/// Why a request was refused: what the 429's headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// The tenant's rate.
    pub limit: RateLimit,
    /// Whole seconds until the next request is allowed (at least 1).
    pub retry_after_secs: u64,
}

/// The per-tenant limiter of one process; cloning shares the buckets.
#[derive(Clone, Default)]
pub struct TenantLimiter {
    inner: Option<(RateLimit, Arc<DefaultKeyedRateLimiter<String>>)>,
}

impl std::fmt::Debug for TenantLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantLimiter")
            .field("limit", &self.inner.as_ref().map(|(l, _)| l))
            .finish_non_exhaustive()
    }
}

impl TenantLimiter {
    /// A limiter with `limit` per tenant, or none at all.
    pub fn new(limit: Option<RateLimit>) -> Self {
        TenantLimiter {
            inner: limit.map(|l| {
                let quota = Quota::per_second(l.per_second).allow_burst(l.burst);
                (l, Arc::new(RateLimiter::keyed(quota)))
            }),
        }
    }

    /// Counts one request of `tenant_id`: `Ok` when it may proceed, otherwise
    /// [`ApiError::Throttled`] (429).
    pub fn admit(&self, tenant_id: &str) -> Result<(), ApiError> {
        let Some((limit, limiter)) = &self.inner else {
            return Ok(());
        };
        // Keys are tenant ids that passed authentication, so the map stays as small as
        // the number of tenants (no eviction needed). The `String` is made only for the
        // lookup; governor wants `&K`.
        match limiter.check_key(&tenant_id.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(limiter.clock().now());
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(ApiError::Throttled(Throttled {
                    limit: *limit,
                    retry_after_secs: secs.max(1),
                }))
            }
        }
    }
}

impl TenantLimiter {
    /// Counts `n` requests of `tenant_id` at once (a Bulk of `n` operations), capped at the
    /// bucket's size so a request that fits the server's limits is never refused forever.
    pub fn admit_n(&self, tenant_id: &str, n: usize) -> Result<(), ApiError> {
        let Some((limit, limiter)) = &self.inner else {
            return Ok(());
        };
        let n = u32::try_from(n).unwrap_or(u32::MAX).min(limit.burst.get());
        let Some(n) = NonZeroU32::new(n) else {
            return Ok(());
        };
        match limiter.check_key_n(&tenant_id.to_string(), n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(limiter.clock().now());
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(ApiError::Throttled(Throttled {
                    limit: *limit,
                    retry_after_secs: secs.max(1),
                }))
            }
            // Cannot happen (n is at most the burst); refuse rather than admit.
            Err(_) => Err(ApiError::Throttled(Throttled {
                limit: *limit,
                retry_after_secs: 1,
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_off_and_burst_is_at_least_the_rate() {
        assert_eq!(RateLimit::new(0, 10), None);
        let l = RateLimit::new(5, 0).unwrap();
        assert_eq!((l.per_second.get(), l.burst.get()), (5, 5));
        let l = RateLimit::new(5, 12).unwrap();
        assert_eq!(l.burst.get(), 12);
        let off = TenantLimiter::new(None);
        for _ in 0..10_000 {
            off.admit("t").unwrap();
        }
    }

    #[test]
    fn a_tenant_over_its_burst_is_throttled_and_others_are_not() {
        // One request per second: the bucket does not refill during the test.
        let limiter = TenantLimiter::new(RateLimit::new(1, 3));
        for _ in 0..3 {
            limiter.admit("a").unwrap();
        }
        match limiter.admit("a") {
            Err(ApiError::Throttled(t)) => {
                assert!(t.retry_after_secs >= 1);
                assert_eq!(t.limit.per_second.get(), 1);
            }
            other => panic!("expected a 429, got {other:?}"),
        }
        // Another tenant has a bucket of its own; a clone shares the buckets.
        let shared = limiter.clone();
        for _ in 0..3 {
            shared.admit("b").unwrap();
        }
        assert!(shared.admit("b").is_err());
        assert!(limiter.admit("a").is_err());
    }

    #[test]
    fn a_bulk_costs_one_token_per_operation_capped_at_the_burst() {
        let limiter = TenantLimiter::new(RateLimit::new(1, 5));
        limiter.admit_n("a", 3).unwrap();
        limiter.admit_n("a", 2).unwrap();
        assert!(limiter.admit_n("a", 1).is_err(), "5 tokens spent");
        // More operations than the burst cost the whole bucket, not an eternal refusal.
        limiter.admit_n("b", 1000).unwrap();
        assert!(limiter.admit("b").is_err());
        TenantLimiter::new(None).admit_n("c", 1_000_000).unwrap();
    }
}
