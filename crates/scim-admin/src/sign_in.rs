//! Console sign-in and what bounds it: the per-e-mail failure limit (in the database,
//! shared by every replica), a per-client limit in front of argon2 (this process's memory)
//! and a cap on concurrent argon2 hashes.
//!
//! `POST /admin/sign-in` costs an argon2id verification (tens of milliseconds of a core and
//! 19 MiB) for any e-mail address, known or not. In order, a sign-in:
//!
//! 1. **per client** ([`SignInGate::admit`]): a `governor` token bucket keyed by the client
//!    address (IPv6 grouped by /64, since one host usually holds a whole /64), by default
//!    10 a minute with bursts of 10; over it, 429 with `Retry-After`. The address is the
//!    peer's, or with `--trusted-proxy-hops N` the N-th entry from the right of
//!    `X-Forwarded-For` (the one the outermost trusted proxy wrote; anything to its left
//!    is the client's to choose, so with 0 hops the header is ignored);
//! 2. **per e-mail address** ([`begin_attempt`]): the attempt is recorded *first*, then
//!    the address's attempts in the last [`FAILURE_WINDOW_MINUTES`] are counted, this one
//!    included; more than [`MAX_FAILURES`] gives 429 without running argon2 (and the
//!    refused attempt is forgotten, so the lock-out ends 15 minutes after the 5th failure,
//!    however often it is knocked on). Recording before counting is what makes parallel
//!    guesses unable to pass together: the k-th attempt recorded counts at least k. A
//!    successful sign-in forgets the address's attempts;
//! 3. **the argon2 cap** ([`SignInGate::hash_permit`]): at most `--sign-in-concurrency`
//!    hashes run at once (default: the number of CPUs); a request that waits more than
//!    [`PERMIT_WAIT`] for its turn gets 503 with `Retry-After`. The set-up form's hash
//!    goes through the same cap.
//!
//! The per-client buckets live in memory and are bounded: every [`RETAIN_EVERY`] checks
//! the buckets that are full again (idle for a minute at the default rate) are dropped.

use crate::AdminError;
use crate::session::AdminState;
use actix_web::HttpRequest;
use chrono::{TimeDelta, Utc};
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use scim_store::{AdminAccount, AdminStore};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Failed sign-ins allowed per e-mail address within [`FAILURE_WINDOW_MINUTES`].
pub const MAX_FAILURES: u64 = 5;
/// The failed sign-in window.
pub const FAILURE_WINDOW_MINUTES: i64 = 15;
/// How long a sign-in waits for an argon2 permit before it gets 503.
pub const PERMIT_WAIT: Duration = Duration::from_secs(2);
/// The `Retry-After` of that 503, in seconds.
pub const BUSY_RETRY_SECS: u64 = 2;
/// How many per-client checks pass between two clean-ups of idle buckets.
pub const RETAIN_EVERY: u64 = 1024;

/// The sign-in limits of one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInConfig {
    /// Sign-ins a minute per client address (also the burst); 0 turns the limit off.
    pub rate_per_minute: u32,
    /// How many proxies in front of the server append to `X-Forwarded-For` (0: ignore it).
    pub trusted_proxy_hops: usize,
    /// Argon2 hashes at once (at least 1).
    pub concurrency: usize,
}

impl Default for SignInConfig {
    fn default() -> Self {
        SignInConfig {
            rate_per_minute: 10,
            trusted_proxy_hops: 0,
            concurrency: default_concurrency(),
        }
    }
}

/// The number of CPUs (at least 1): argon2 is CPU-bound, more at once only queue.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// The per-client limiter and the argon2 cap; cloning shares them.
#[derive(Clone)]
pub struct SignInGate {
    limiter: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    hops: usize,
    hashes: Arc<Semaphore>,
    checks: Arc<AtomicU64>,
    permit_wait: Duration,
}

impl std::fmt::Debug for SignInGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInGate")
            .field("limited", &self.limiter.is_some())
            .field("hops", &self.hops)
            .finish_non_exhaustive()
    }
}

impl SignInGate {
    /// The gate of `config`.
    pub fn new(config: SignInConfig) -> Self {
        SignInGate {
            limiter: NonZeroU32::new(config.rate_per_minute)
                .map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n)))),
            hops: config.trusted_proxy_hops,
            hashes: Arc::new(Semaphore::new(config.concurrency.max(1))),
            checks: Arc::new(AtomicU64::new(0)),
            permit_wait: PERMIT_WAIT,
        }
    }

    /// The same gate waiting at most `wait` for an argon2 permit (tests).
    pub fn with_permit_wait(mut self, wait: Duration) -> Self {
        self.permit_wait = wait;
        self
    }

    /// Counts one sign-in of the client of `req`: [`AdminError::RateLimited`] over its
    /// rate.
    pub fn admit(&self, req: &HttpRequest) -> Result<(), AdminError> {
        let forwarded = forwarded_for(req);
        let key = client_key(
            req.peer_addr().map(|a| a.ip()),
            forwarded.as_deref(),
            self.hops,
        );
        self.admit_key(key)
    }

    /// Counts one sign-in of client `key` (already grouped, see [`client_key`]).
    pub fn admit_key(&self, key: IpAddr) -> Result<(), AdminError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            // Drop the buckets that are full again: their clients are indistinguishable
            // from new ones, so forgetting them changes no decision.
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            AdminError::RateLimited {
                retry_after_secs: secs.max(1),
            }
        })
    }

    /// How many client buckets this process holds.
    pub fn tracked_clients(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| l.len())
    }

    /// A permit to run one argon2 hash, waiting (fairly) at most the permit wait; then
    /// [`AdminError::Busy`]. Hold it while hashing.
    pub async fn hash_permit(&self) -> Result<OwnedSemaphorePermit, AdminError> {
        let busy = AdminError::Busy {
            retry_after_secs: BUSY_RETRY_SECS,
        };
        match tokio::time::timeout(self.permit_wait, self.hashes.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out, or the semaphore was closed (never done).
            _ => Err(busy),
        }
    }
}

/// Every `X-Forwarded-For` value of `req`, joined by commas (a proxy may add a header of
/// its own instead of appending); `None` without one.
fn forwarded_for(req: &HttpRequest) -> Option<String> {
    let values: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// The address a client is limited by: the peer, or with `hops` > 0 the `hops`-th entry
/// from the right of `forwarded` (the left-most when there are fewer: every entry was then
/// written by a trusted proxy), grouped by [`group`]. An entry that is no address falls
/// back to the peer; no peer at all (an in-process test) is `0.0.0.0`.
pub fn client_key(peer: Option<IpAddr>, forwarded: Option<&str>, hops: usize) -> IpAddr {
    let peer = peer.unwrap_or(IpAddr::from([0, 0, 0, 0]));
    if hops == 0 {
        return group(peer);
    }
    let Some(forwarded) = forwarded else {
        return group(peer);
    };
    let entries: Vec<&str> = forwarded
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let Some(entry) = entries
        .len()
        .checked_sub(hops)
        .and_then(|i| entries.get(i))
        .or_else(|| entries.first())
    else {
        return group(peer);
    };
    group(parse_entry(entry).unwrap_or(peer))
}

/// An `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or
/// `[2001:db8::1]:443`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    entry.parse::<std::net::SocketAddr>().ok().map(|a| a.ip())
}

/// The limiting key of an address: IPv4 as it is (also when written IPv4-mapped), IPv6
/// cut to its /64 network.
pub fn group(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Checks the shape of a sign-in: a refused one answers exactly like a wrong password.
fn check_input(email: &str, password: &str) -> Result<String, AdminError> {
    let email = email.trim();
    // No address has a control character (and PostgreSQL cannot even compare with NUL).
    if email.is_empty()
        || email.len() > 254
        || email.chars().any(char::is_control)
        || password.len() > crate::accounts::MAX_PASSWORD_BYTES
    {
        return Err(wrong());
    }
    Ok(email.to_string())
}

fn wrong() -> AdminError {
    AdminError::BadRequest("Wrong e-mail address or password.".into())
}

/// Records a sign-in attempt for `email`, then counts the address's attempts in the
/// window with it: over [`MAX_FAILURES`], forgets it again and refuses with
/// [`AdminError::TooManyAttempts`]. Returns the attempt's row.
pub fn begin_attempt(store: &dyn AdminStore, email: &str) -> Result<i64, AdminError> {
    let now = Utc::now();
    let window = TimeDelta::minutes(FAILURE_WINDOW_MINUTES);
    let attempt = store.record_sign_in_attempt(email, now, now - window, now - window * 2)?;
    if attempt.count > MAX_FAILURES {
        store.forget_sign_in_attempt(attempt.id)?;
        return Err(AdminError::TooManyAttempts);
    }
    Ok(attempt.id)
}

/// Checks the password of a recorded attempt (the argon2 step): the account, or a wrong
/// password (the attempt then stays, as a failure). A success forgets the address's
/// attempts.
fn check_password(
    store: &dyn AdminStore,
    email: &str,
    password: &str,
) -> Result<AdminAccount, AdminError> {
    let account = store.find_admin_by_email(email)?;
    let hash = account
        .as_ref()
        .map(|a| a.password_hash.as_str())
        .unwrap_or(crate::accounts::dummy_hash());
    let ok = crate::accounts::verify_password(password, hash);
    match account {
        Some(a) if ok => {
            store.clear_sign_in_failures(email)?;
            store.record_admin_sign_in(&a.id, Utc::now())?;
            Ok(a)
        }
        _ => {
            tracing::info!("admin console: failed sign-in");
            Err(wrong())
        }
    }
}

/// A whole sign-in of the client of `req` under every limit: the account and a new
/// session's cookie value. A wrong address or password is [`AdminError::BadRequest`].
pub async fn sign_in(
    state: &AdminState,
    req: &HttpRequest,
    email: &str,
    password: String,
) -> Result<(AdminAccount, String), AdminError> {
    state.gate().admit(req)?;
    let email = check_input(email, &password)?;
    let e = email.clone();
    let attempt = state.run(move |s| begin_attempt(s.store(), &e)).await?;
    let permit = match state.gate().hash_permit().await {
        Ok(p) => p,
        Err(busy) => {
            // Not a guess: the password was never checked.
            state
                .run(move |s| Ok(s.store().forget_sign_in_attempt(attempt)?))
                .await?;
            return Err(busy);
        }
    };
    state
        .run(move |s| {
            let account = check_password(s.store(), &email, &password);
            drop(permit);
            let account = account?;
            let cookie = s.issue_session(&account.id)?;
            Ok((account, cookie))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_is_grouped_by_64_and_mapped_ipv4_is_ipv4() {
        assert_eq!(group(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            group(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            group(ip("2001:db8:1:2::7"))
        );
        assert_ne!(group(ip("2001:db8:1:2::1")), group(ip("2001:db8:1:3::1")));
        assert_eq!(group(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(group(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_ne!(group(ip("192.0.2.7")), group(ip("192.0.2.8")));
    }

    #[test]
    fn forwarded_for_counts_only_trusted_hops() {
        let peer = Some(ip("10.0.0.1"));
        let xff = Some("6.6.6.6, 203.0.113.9, 10.0.0.2");
        // No trusted proxy: the header is the client's own, ignored.
        assert_eq!(client_key(peer, xff, 0), ip("10.0.0.1"));
        // One: the right-most entry (what our proxy saw); two: the one before it.
        assert_eq!(client_key(peer, xff, 1), ip("10.0.0.2"));
        assert_eq!(client_key(peer, xff, 2), ip("203.0.113.9"));
        // Fewer entries than hops: the left-most.
        assert_eq!(client_key(peer, Some("203.0.113.9"), 3), ip("203.0.113.9"));
        // Ports and brackets; garbage falls back to the peer.
        assert_eq!(
            client_key(peer, Some("203.0.113.9:4711"), 1),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_key(peer, Some("[2001:db8::5]:443"), 1),
            ip("2001:db8::")
        );
        assert_eq!(client_key(peer, Some("unknown"), 1), ip("10.0.0.1"));
        assert_eq!(client_key(peer, None, 1), ip("10.0.0.1"));
        assert_eq!(client_key(None, None, 0), ip("0.0.0.0"));
    }

    #[test]
    fn the_limit_is_per_client_and_idle_buckets_go() {
        let gate = SignInGate::new(SignInConfig {
            rate_per_minute: 3,
            trusted_proxy_hops: 0,
            concurrency: 1,
        });
        for _ in 0..3 {
            gate.admit_key(ip("192.0.2.1")).unwrap();
        }
        match gate.admit_key(ip("192.0.2.1")) {
            Err(AdminError::RateLimited { retry_after_secs }) => {
                assert!((1..=20).contains(&retry_after_secs), "{retry_after_secs}");
            }
            other => panic!("expected 429, got {other:?}"),
        }
        gate.admit_key(ip("192.0.2.2")).unwrap();
        let off = SignInGate::new(SignInConfig {
            rate_per_minute: 0,
            ..SignInConfig::default()
        });
        for _ in 0..100 {
            off.admit_key(ip("192.0.2.1")).unwrap();
        }
        // A spray of distinct addresses does not stay in memory: at 600 a minute a bucket
        // is full again 100 ms after one sign-in, and the next clean-up drops it.
        let spray = SignInGate::new(SignInConfig {
            rate_per_minute: 600,
            ..SignInConfig::default()
        });
        for i in 0..(RETAIN_EVERY - 1) {
            let b = i.to_be_bytes();
            spray
                .admit_key(IpAddr::from([10, b[5], b[6], b[7]]))
                .unwrap();
        }
        assert_eq!(spray.tracked_clients(), (RETAIN_EVERY - 1) as usize);
        std::thread::sleep(Duration::from_millis(250));
        spray.admit_key(ip("192.0.2.9")).unwrap();
        assert!(spray.tracked_clients() <= 1, "{}", spray.tracked_clients());
    }

    #[actix_web::test]
    async fn argon2_permits_never_exceed_the_cap() {
        let gate = SignInGate::new(SignInConfig {
            concurrency: 3,
            ..SignInConfig::default()
        })
        .with_permit_wait(Duration::from_secs(30));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..24)
            .map(|_| {
                let (gate, running, peak) = (gate.clone(), running.clone(), peak.clone());
                actix_web::rt::spawn(async move {
                    let permit = gate.hash_permit().await.unwrap();
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    actix_web::rt::time::sleep(Duration::from_millis(5)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    drop(permit);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        // With every permit held, the next one waits its time and gets 503.
        let quick = SignInGate::new(SignInConfig {
            concurrency: 1,
            ..SignInConfig::default()
        })
        .with_permit_wait(Duration::from_millis(50));
        let held = quick.hash_permit().await.unwrap();
        assert!(matches!(
            quick.hash_permit().await,
            Err(AdminError::Busy { retry_after_secs }) if retry_after_secs >= 1
        ));
        drop(held);
        let again = quick.hash_permit().await;
        assert!(again.is_ok());
    }
}
