//! The application state shared by every handler, and [`AppState::session`]: the one way a
//! request reaches the store.
//!
//! Requests wait for a database connection in FIFO queues in front of the store
//! ([`tokio::sync::Semaphore`] is fair), sized from [`Store::capacity`]: a request holds a
//! permit while its blocking call holds a connection, so the pool never has more waiters
//! than connections and nobody waits on the blocking pool or inside r2d2. Waiting is
//! asynchronous and bounded by [`Limits::queue_timeout`] (then 503 with `Retry-After`).

use crate::cursor::CursorKey;
use crate::error::ApiError;
use crate::limit::{RateLimit, TenantLimiter};
use actix_web::web;
use scim_core::ScimError;
use scim_store::{Access, Session, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body accepted, in bytes (larger → 413).
    pub max_body_bytes: usize,
    /// The largest page a list returns (`count` is clamped to it). Never below 100: Okta
    /// pages by 100 and would skip users otherwise.
    pub max_page_size: u64,
    /// The page size when the client sends no `count`.
    pub default_page_size: u64,
    /// How long an RFC 9865 cursor stays valid after it was issued (`cursorTimeout`).
    /// An hour by default: long enough for an import to walk a page of 1000 users per
    /// request at any realistic pace, short enough that an old leaked cursor is useless.
    pub cursor_timeout: Duration,
    /// How long a request waits for a database connection before it gets 503.
    pub queue_timeout: Duration,
    /// Each tenant's rate limit in this process (`None`: unlimited; see [`crate::limit`]).
    /// Off by default here; the binary turns it on.
    pub rate_limit: Option<RateLimit>,
    /// How long a request body may take to arrive once the headers are in (then 408);
    /// `None`: no limit. A slow client holds no worker, but it holds a connection.
    pub body_read_timeout: Option<Duration>,
    /// `/Bulk`'s `maxOperations` and `maxPayloadSize` (its body limit instead of
    /// [`Limits::max_body_bytes`]).
    pub bulk: scim_core::bulk::BulkLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1024 * 1024,
            max_page_size: 1000,
            default_page_size: 100,
            cursor_timeout: Duration::from_secs(3600),
            queue_timeout: Duration::from_secs(5),
            rate_limit: None,
            body_read_timeout: Some(Duration::from_secs(15)),
            bulk: scim_core::bulk::BulkLimits::default(),
        }
    }
}

/// The FIFO queues in front of the store's connections.
#[derive(Debug, Clone)]
struct Queues {
    readers: Arc<Semaphore>,
    /// `None` when writes share the readers' connections.
    writers: Option<Arc<Semaphore>>,
}

impl Queues {
    fn for_store(store: &dyn Store) -> Self {
        let capacity = store.capacity();
        Queues {
            readers: Arc::new(Semaphore::new(capacity.readers.max(1))),
            writers: capacity.writers.map(|n| Arc::new(Semaphore::new(n.max(1)))),
        }
    }

    fn of(&self, access: Access) -> &Arc<Semaphore> {
        match (access, &self.writers) {
            (Access::Write, Some(writers)) => writers,
            _ => &self.readers,
        }
    }
}

/// Everything a handler needs: the store, the cursor key, the public URL and the limits.
#[derive(Clone)]
pub struct AppState {
    /// The store (SQLite or PostgreSQL).
    pub store: Arc<dyn Store>,
    /// Authenticates list cursors.
    pub cursor_key: CursorKey,
    /// The externally visible base URL, without a trailing `/` (e.g. `https://scim.example.com`).
    pub public_url: String,
    /// Request limits.
    pub limits: Limits,
    /// The per-tenant rate limit's buckets (from `limits.rate_limit`).
    pub limiter: TenantLimiter,
    /// The tenants' resource types with their own extensions, by schema version.
    pub schemas: Arc<crate::tenant_schemas::SchemaCache>,
    /// The organization admins' request log (off unless [`AppState::with_request_log`]).
    pub request_log: crate::request_log::RequestLog,
    queues: Queues,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("backend", &self.store.backend_name())
            .field("public_url", &self.public_url)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// A state with the given parts (the public URL loses any trailing `/`).
    pub fn new(
        store: Arc<dyn Store>,
        cursor_key: CursorKey,
        public_url: impl Into<String>,
        limits: Limits,
    ) -> Self {
        let public_url = public_url.into().trim_end_matches('/').to_string();
        let queues = Queues::for_store(store.as_ref());
        AppState {
            store,
            cursor_key,
            public_url,
            limits,
            limiter: TenantLimiter::new(limits.rate_limit),
            schemas: Arc::default(),
            request_log: crate::request_log::RequestLog::off(),
            queues,
        }
    }

    /// The state with `log` as its request log (see [`crate::request_log`]).
    pub fn with_request_log(self, log: crate::request_log::RequestLog) -> Self {
        AppState {
            request_log: log,
            ..self
        }
    }

    /// Runs `f` on one store [`Session`] of `access`, on the blocking pool, after waiting
    /// (asynchronously, in FIFO order) for a free connection. Everything a request does with
    /// the store, including checking its token and rendering its response, belongs in `f`:
    /// one hand-off, one connection.
    pub async fn session<T, F>(&self, access: Access, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut dyn Session) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let queue = Arc::clone(self.queues.of(access));
        let access_label = match access {
            Access::Read => "read",
            Access::Write => "write",
        };
        let waited = std::time::Instant::now();
        let permit =
            match tokio::time::timeout(self.limits.queue_timeout, queue.acquire_owned()).await {
                Ok(Ok(permit)) => {
                    crate::metrics::record_queue_wait(
                        access_label,
                        waited.elapsed().as_secs_f64(),
                        false,
                    );
                    permit
                }
                // Timed out, or the semaphore was closed (never done; treated the same).
                Ok(Err(_)) | Err(_) => {
                    crate::metrics::record_queue_wait(
                        access_label,
                        waited.elapsed().as_secs_f64(),
                        true,
                    );
                    return Err(ScimError::unavailable(
                        "The server is busy (every database connection is in use); retry shortly",
                    )
                    .into());
                }
            };
        let store = Arc::clone(&self.store);
        web::block(move || {
            let _permit = permit;
            let _in_use = crate::metrics::ConnectionInUse::new(access_label);
            let mut session = store.session(access)?;
            f(session.as_mut())
        })
        .await?
    }

    /// The Tenant URL: `<public url>/scim/v2/<tenant id>`, the SCIM base URL of a tenant.
    pub fn tenant_url(&self, tenant_id: &str) -> String {
        tenant_url(&self.public_url, tenant_id)
    }

    /// Runs `f` on the blocking pool with the store (diesel is synchronous).
    pub async fn blocking<T, E, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&dyn Store) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        web::block(move || f(store.as_ref()))
            .await?
            .map_err(Into::into)
    }
}

/// The Tenant URL of `tenant_id` under `public_url`.
pub fn tenant_url(public_url: &str, tenant_id: &str) -> String {
    format!("{}/scim/v2/{}", public_url.trim_end_matches('/'), tenant_id)
}
