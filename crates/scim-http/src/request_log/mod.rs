//! The request log for organization admins: one entry per SCIM request to an existing
//! tenant, including rejected tokens and every 4xx (see `scim_store::RequestLogRepo`).
//!
//! - [`middleware`] wraps the `/scim/v2/{tenant_id}` scope. Before the handler it puts a
//!   [`Pending`] entry (time, method, masked path, client, route action, resource id) in
//!   the request's extensions; after it, it completes the entry with the status, the
//!   `scimType` of an error answer, the latency and what the handler added ([`describe`]),
//!   and hands it to the [`RequestLog`]'s background writer, unless the write's own
//!   transaction already committed it, or the tenant does not exist.
//! - A single-resource write ([`in_transaction`]) carries its entry into the store, which
//!   writes it in the change's transaction, named by the change it made; a failed, refused
//!   or empty write is logged by the middleware instead.
//! - [`RequestLog`] is a bounded queue (`std::sync::mpsc::sync_channel`) to one writer
//!   thread that inserts in batches of up to [`BATCH`]. A request never waits for it:
//!   when the queue is full the entry is dropped and **counted** ([`RequestLog::dropped`],
//!   the `scim_request_log_dropped_total` metric, the console's Requests page); so is a
//!   batch the database refused (logged as a warning, without its content).
//!
//! What an entry says, and never says, is [`mask`]'s rule.

pub mod mask;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::request::query_pairs;
use crate::telemetry::{loggable_target, tenant_of_path};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::USER_AGENT;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage as _, HttpRequest};
use chrono::Utc;
use scim_store::{InTxRequest, RequestAction, RequestLogRepo, RequestRecord};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Entries dropped (queue full, or a batch the database refused), by `reason`
/// (`queue_full`, `write_failed`).
pub const DROPPED_TOTAL: &str = "scim_request_log_dropped_total";
/// Entries the background writer stored.
pub const WRITTEN_TOTAL: &str = "scim_request_log_written_total";
/// The most entries one background insert carries.
pub const BATCH: usize = 256;
/// How long the writer waits for more entries before it inserts what it has (so that a
/// steady trickle is written in batches, not one transaction per request).
pub const LINGER: Duration = Duration::from_millis(20);
/// The default queue length of [`RequestLog::start`]'s callers.
pub const DEFAULT_QUEUE: usize = 10_000;
/// Tenant ids longer than this are not logged (no tenant has one).
const MAX_TENANT_ID: usize = 128;
/// Resource ids longer than this are not recorded as the entry's resource id (none is).
const MAX_RESOURCE_ID: usize = 128;

enum Msg {
    Entry(Box<RequestRecord>),
    Flush(mpsc::Sender<()>),
}

struct Inner {
    tx: Mutex<Option<SyncSender<Msg>>>,
    dropped: Arc<AtomicU64>,
}

/// The request log's queue to its background writer; cheap to clone. [`RequestLog::off`]
/// (the default) logs nothing and costs nothing.
#[derive(Clone, Default)]
pub struct RequestLog {
    inner: Option<Arc<Inner>>,
}

impl std::fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestLog")
            .field("on", &self.is_on())
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl RequestLog {
    /// No request log.
    pub fn off() -> Self {
        RequestLog::default()
    }

    /// Starts the background writer thread over `store` with a queue of `capacity`
    /// entries.
    pub fn start(store: Arc<dyn RequestLogRepo>, capacity: usize) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&dropped);
        std::thread::Builder::new()
            .name("request-log".into())
            .spawn(move || write_loop(store.as_ref(), &rx, &counter))?;
        Ok(RequestLog {
            inner: Some(Arc::new(Inner {
                tx: Mutex::new(Some(tx)),
                dropped,
            })),
        })
    }

    /// Whether requests are logged.
    pub fn is_on(&self) -> bool {
        self.inner.is_some()
    }

    /// Queues `record` for the writer without waiting; when the queue is full it is
    /// dropped and counted.
    pub fn submit(&self, record: RequestRecord) {
        let Some(inner) = &self.inner else { return };
        let sent = inner
            .tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|tx| tx.try_send(Msg::Entry(Box::new(record))).is_ok());
        if !sent {
            inner.dropped.fetch_add(1, Ordering::Relaxed);
            metrics::counter!(DROPPED_TOTAL, "reason" => "queue_full").increment(1);
        }
    }

    /// Entries dropped since the process started.
    pub fn dropped(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |i| i.dropped.load(Ordering::Relaxed))
    }

    /// Blocks until every entry queued before the call is written (or dropped): for tests
    /// and shutdown. Waits at most `timeout`.
    pub fn flush(&self, timeout: Duration) {
        let Some(inner) = &self.inner else { return };
        let (done, wait) = mpsc::channel();
        let tx = inner
            .tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(tx) = tx
            && tx.send(Msg::Flush(done)).is_ok()
        {
            let _ = wait.recv_timeout(timeout);
        }
    }

    /// Stops accepting entries; the writer stores what is queued and ends.
    pub fn close(&self) {
        if let Some(inner) = &self.inner {
            inner
                .tx
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
        }
    }
}

/// The writer thread: waits for an entry, takes whatever else arrives within [`LINGER`]
/// (up to [`BATCH`], or until a flush), inserts them in one transaction, acknowledges
/// flushes, until every sender is gone.
fn write_loop(store: &dyn RequestLogRepo, rx: &Receiver<Msg>, dropped: &AtomicU64) {
    let mut batch: Vec<RequestRecord> = Vec::with_capacity(BATCH);
    let mut flushes = Vec::new();
    while let Ok(first) = rx.recv() {
        // Linger a little for more: one transaction (one SQLite commit) per entry would
        // cost more than the entry itself under load. A flush stops the wait.
        let deadline = Instant::now() + LINGER;
        let mut next = Some(first);
        while let Some(m) = next.take() {
            match m {
                Msg::Entry(r) => batch.push(*r),
                Msg::Flush(done) => flushes.push(done),
            }
            if batch.len() < BATCH && flushes.is_empty() {
                let left = deadline.saturating_duration_since(Instant::now());
                next = rx.recv_timeout(left).ok();
            }
        }
        if !batch.is_empty() {
            match store.insert_requests(&batch) {
                Ok(stored) => {
                    metrics::counter!(WRITTEN_TOTAL).increment(stored as u64);
                }
                Err(e) => {
                    let n = batch.len() as u64;
                    dropped.fetch_add(n, Ordering::Relaxed);
                    metrics::counter!(DROPPED_TOTAL, "reason" => "write_failed").increment(n);
                    tracing::warn!(error = %e, entries = n, "a request-log batch could not be stored");
                }
            }
            batch.clear();
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Runs the retention prune every `every` on a thread of its own: deletes entries older
/// than `retention`, in batches of 1 000 rows per transaction.
pub fn spawn_pruner(
    store: Arc<dyn RequestLogRepo>,
    retention: Duration,
    every: Duration,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("request-log-prune".into())
        .spawn(move || {
            loop {
                let cutoff = chrono::TimeDelta::from_std(retention)
                    .ok()
                    .and_then(|d| Utc::now().checked_sub_signed(d));
                if let Some(cutoff) = cutoff {
                    match store.prune_requests(cutoff, 1000) {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(deleted = n, "pruned the request log"),
                        Err(e) => tracing::warn!(error = %e, "could not prune the request log"),
                    }
                }
                std::thread::sleep(every);
            }
        })
}

/// The entry the middleware starts for a request, in its extensions: what is known before
/// the handler runs.
#[derive(Debug, Clone)]
pub struct Pending {
    base: RequestRecord,
    query: Option<Value>,
    started: Instant,
}

/// What a handler adds to its request's entry ([`describe`], [`in_transaction`]).
#[derive(Debug, Default)]
struct Note {
    action: Option<RequestAction>,
    summary: Map<String, Value>,
    in_tx: Option<InTxRequest>,
}

/// Records what the handler learned from the request body: a finer `action` (a PATCH that
/// deactivates, a search with a filter) and a masked summary part under `key`.
pub fn describe(req: &HttpRequest, action: Option<RequestAction>, key: &str, summary: Value) {
    if req.extensions().get::<Pending>().is_none() {
        return;
    }
    let mut ext = req.extensions_mut();
    if !ext.contains::<Note>() {
        ext.insert(Note::default());
    }
    let Some(note) = ext.get_mut::<Note>() else {
        return;
    };
    if action.is_some() {
        note.action = action;
    }
    note.summary.insert(key.to_string(), summary);
}

fn summary_text(query: Option<&Value>, body: &Map<String, Value>) -> String {
    let mut out = Map::new();
    if let Some(q) = query {
        out.insert("query".into(), q.clone());
    }
    out.extend(body.iter().map(|(k, v)| (k.clone(), v.clone())));
    Value::Object(out).to_string()
}

/// For a single-resource write: `auth` carrying the request's entry (answered `success`),
/// which the store writes in the change's own transaction. Unchanged when the request is
/// not logged.
pub fn in_transaction(
    req: &HttpRequest,
    auth: Authenticated,
    success: StatusCode,
) -> Authenticated {
    let Some(pending) = req.extensions().get::<Pending>().cloned() else {
        return auth;
    };
    let mut ext = req.extensions_mut();
    if !ext.contains::<Note>() {
        ext.insert(Note::default());
    }
    let Some(note) = ext.get_mut::<Note>() else {
        return auth;
    };
    let record = RequestRecord {
        status: success.as_u16(),
        action: note.action.unwrap_or(pending.base.action),
        summary: summary_text(pending.query.as_ref(), &note.summary),
        ..pending.base
    };
    let entry = InTxRequest::new(record, pending.started);
    note.in_tx = Some(entry.clone());
    Authenticated {
        request: Some(entry),
        ..auth
    }
}

/// Whether an error answer is the "no such tenant" 401 (never logged), and its
/// `scimType`.
fn classify(e: &Error) -> (bool, Option<String>) {
    match e.as_error::<ApiError>() {
        Some(api) => (
            api.is_unknown_tenant(),
            api.to_scim().scim_type().map(|t| t.as_str().to_string()),
        ),
        None => (false, None),
    }
}

/// The request-log middleware of the tenant scope (see the module documentation); a
/// no-op when `log` is off.
pub async fn middleware(
    log: RequestLog,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if !log.is_on() {
        return next.call(req).await;
    }
    let started = Instant::now();
    let tenant = req
        .match_info()
        .get("tenant_id")
        .map(str::to_string)
        .or_else(|| tenant_of_path(req.path()).map(str::to_string))
        .filter(|t| t.len() <= MAX_TENANT_ID && scim_core::limits::is_storable_id(t));
    let Some(tenant_id) = tenant else {
        return next.call(req).await;
    };
    let method = req.method().as_str().to_string();
    let pairs = query_pairs(req.query_string());
    let rest = req
        .path()
        .strip_prefix("/scim/v2/")
        .and_then(|p| p.split_once('/'))
        .map_or("", |(_, rest)| rest);
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let filtered = pairs.iter().any(|(k, _)| k.eq_ignore_ascii_case("filter"));
    let action = mask::action_of_route(&method, &segments, filtered);
    let resource_id = match segments.as_slice() {
        ["Users" | "Groups", id] if *id != ".search" && id.len() <= MAX_RESOURCE_ID => {
            Some((*id).to_string())
        }
        _ => None,
    };
    let user_agent = req
        .headers()
        .get(USER_AGENT)
        .map(|h| h.to_str().unwrap_or(""));
    let base = RequestRecord {
        tenant_id,
        at: Utc::now(),
        path: loggable_target(req.path(), req.query_string()),
        method,
        status: 0,
        action,
        scim_type: None,
        latency_ms: 0,
        client: mask::client_of(user_agent).to_string(),
        resource_id,
        summary: String::new(),
    };
    let query = (!pairs.is_empty()).then(|| mask::masked_query(&pairs));
    let pending = Pending {
        base,
        query,
        started,
    };
    req.extensions_mut().insert(pending.clone());
    let res = next.call(req).await;
    let (status, (unknown_tenant, scim_type), note) = match &res {
        Ok(r) => (
            r.status(),
            r.response().error().map(classify).unwrap_or_default(),
            r.request().extensions_mut().remove::<Note>(),
        ),
        Err(e) => (e.as_response_error().status_code(), classify(e), None),
    };
    let note = note.unwrap_or_default();
    if unknown_tenant || note.in_tx.as_ref().is_some_and(InTxRequest::was_logged) {
        return res;
    }
    let record = RequestRecord {
        status: status.as_u16(),
        action: note.action.unwrap_or(pending.base.action),
        scim_type,
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        summary: summary_text(pending.query.as_ref(), &note.summary),
        ..pending.base
    };
    log.submit(record);
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use scim_store::{RequestEntry, RequestQuery, StoreError, StoreResult};

    /// A repo whose inserts wait for a go-ahead (the first one), and can fail.
    struct Fake {
        stored: Mutex<Vec<RequestRecord>>,
        gate: Mutex<Option<Receiver<()>>>,
        fail: bool,
    }

    impl RequestLogRepo for Fake {
        fn insert_requests(&self, batch: &[RequestRecord]) -> StoreResult<usize> {
            if let Some(gate) = self.gate.lock().unwrap().take() {
                let _ = gate.recv();
            }
            if self.fail {
                return Err(StoreError::Busy("locked".into()));
            }
            self.stored.lock().unwrap().extend(batch.iter().cloned());
            Ok(batch.len())
        }
        fn list_requests(&self, _: &str, _: &RequestQuery) -> StoreResult<Vec<RequestEntry>> {
            Ok(Vec::new())
        }
        fn get_request(&self, _: &str, _: i64) -> StoreResult<RequestEntry> {
            Err(StoreError::NotFound)
        }
        fn prune_requests(&self, _: chrono::DateTime<Utc>, _: u64) -> StoreResult<u64> {
            Ok(0)
        }
    }

    fn record(i: u16) -> RequestRecord {
        RequestRecord {
            tenant_id: "t".into(),
            at: Utc::now(),
            method: "GET".into(),
            path: "/scim/v2/t/Users".into(),
            status: 200 + i,
            action: RequestAction::Lookup,
            scim_type: None,
            latency_ms: 1,
            client: "other".into(),
            resource_id: None,
            summary: "{}".into(),
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_never_waits() {
        let (go, gate) = mpsc::channel();
        let fake = Arc::new(Fake {
            stored: Mutex::new(Vec::new()),
            gate: Mutex::new(Some(gate)),
            fail: false,
        });
        let log = RequestLog::start(fake.clone(), 2).unwrap();
        log.submit(record(0));
        // The writer holds entry 0 in a blocked insert; the queue takes two more.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut accepted = 1;
        let started = Instant::now();
        while log.dropped() == 0 && Instant::now() < deadline {
            log.submit(record(accepted));
            accepted += 1;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "submit never waits"
        );
        assert_eq!(log.dropped(), 1);
        go.send(()).unwrap();
        log.flush(Duration::from_secs(5));
        let stored = fake.stored.lock().unwrap().len() as u64;
        assert_eq!(stored + log.dropped(), u64::from(accepted));
        assert!(stored >= 2, "{stored}");
        // Closed: every later entry is counted as dropped.
        log.close();
        log.submit(record(9));
        assert_eq!(log.dropped(), 2);
        assert!(RequestLog::off().dropped() == 0 && !RequestLog::off().is_on());
    }

    #[test]
    fn a_refused_batch_is_counted() {
        let fake = Arc::new(Fake {
            stored: Mutex::new(Vec::new()),
            gate: Mutex::new(None),
            fail: true,
        });
        let log = RequestLog::start(fake, 100).unwrap();
        for i in 0..3 {
            log.submit(record(i));
        }
        log.flush(Duration::from_secs(5));
        assert_eq!(log.dropped(), 3);
    }
}
