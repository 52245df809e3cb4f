//! A real RFC 8935 receiver on a free loopback port: it checks the content type and the
//! HS256 signature of every SET against the secret registered for its path, records the
//! claims, can be told to fail, and can be stopped and restarted on the same port. It also
//! counts overlapping deliveries to one path (two workers serving one subscription at once).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One SET as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub claims: Value,
    pub at: Instant,
}

/// What the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    Status(u16),
}

#[derive(Default)]
struct State {
    secrets: Mutex<HashMap<String, String>>,
    received: Mutex<Vec<Received>>,
    /// Requests that failed a check (content type, signature, typ): must stay empty.
    rejected: Mutex<Vec<String>>,
    mode: Mutex<Option<Mode>>,
    delay: Mutex<Duration>,
    in_flight: Mutex<HashMap<String, usize>>,
    /// The open connections, so that `stop` can close them and wait until they are gone.
    conns: Mutex<tokio::task::JoinSet<()>>,
    overlaps: AtomicUsize,
    requests: AtomicUsize,
}

pub struct Receiver {
    pub addr: SocketAddr,
    state: Arc<State>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let r = Receiver {
            addr,
            state,
            task: Mutex::new(None),
        };
        r.serve(listener);
        r
    }

    /// The URL of one path on this receiver (`/hook/<name>`).
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/hook/{name}", self.addr)
    }

    /// Accepts SETs on `/hook/<name>` signed with `secret`.
    pub fn expect(&self, name: &str, secret: &str) {
        self.state
            .secrets
            .lock()
            .unwrap()
            .insert(format!("/hook/{name}"), secret.to_string());
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = Some(mode);
    }

    /// How long each request is held before the answer (to make overlaps visible).
    pub fn set_delay(&self, d: Duration) {
        *self.state.delay.lock().unwrap() = d;
    }

    /// Closes the listener and every open connection, and waits until they are closed:
    /// from then on, connections are refused.
    pub async fn stop(&self) {
        let accept = self.task.lock().unwrap().take();
        if let Some(t) = accept {
            t.abort();
            let _ = t.await;
        }
        let conns = std::mem::take(&mut *self.state.conns.lock().unwrap());
        let mut conns = conns;
        conns.shutdown().await;
    }

    /// Listens on the same port again.
    pub async fn restart(&self) {
        self.stop().await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("rebinding {}: {e}", self.addr),
            }
        };
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let state = self.state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let conn_state = state.clone();
                let mut conns = state.conns.lock().unwrap();
                conns.spawn(async move {
                    let svc = service_fn(move |req| handle(conn_state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
                while conns.try_join_next().is_some() {}
            }
        });
        *self.task.lock().unwrap() = Some(task);
    }

    /// Every SET received (accepted or not), in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// The SETs received on one path.
    pub fn received_on(&self, name: &str) -> Vec<Received> {
        let path = format!("/hook/{name}");
        self.received()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    pub fn rejected(&self) -> Vec<String> {
        self.state.rejected.lock().unwrap().clone()
    }

    pub fn overlaps(&self) -> usize {
        self.state.overlaps.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(t) = self.task.lock().unwrap().take() {
            t.abort();
        }
        self.state.conns.lock().unwrap().abort_all();
    }
}

async fn handle(
    state: Arc<State>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let path = req.uri().path().to_string();
    let _in_flight = InFlight::enter(state.clone(), &path);
    let answer = check_and_record(&state, req, &path).await;
    let delay = *state.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let answer = answer?;
    Ok(Response::builder()
        .status(answer)
        .body(Full::new(Bytes::new()))
        .unwrap())
}

/// Counts a request to one path as in flight until it is answered or abandoned (a client
/// that timed out closes the connection, and hyper drops the handler).
struct InFlight {
    state: Arc<State>,
    path: String,
}

impl InFlight {
    fn enter(state: Arc<State>, path: &str) -> InFlight {
        {
            let mut f = state.in_flight.lock().unwrap();
            let n = f.entry(path.to_string()).or_insert(0);
            if *n > 0 {
                state.overlaps.fetch_add(1, Ordering::SeqCst);
            }
            *n += 1;
        }
        InFlight {
            state,
            path: path.to_string(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(n) = self.state.in_flight.lock().unwrap().get_mut(&self.path) {
            *n -= 1;
        }
    }
}

async fn check_and_record(
    state: &State,
    req: Request<hyper::body::Incoming>,
    path: &str,
) -> Result<StatusCode, hyper::Error> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (content_type, accept) = (header("content-type"), header("accept"));
    let method = req.method().clone();
    let body = req.into_body().collect().await?.to_bytes();
    let reject = |why: String| {
        state.rejected.lock().unwrap().push(why);
        Ok(StatusCode::BAD_REQUEST)
    };
    if method != hyper::Method::POST {
        return reject(format!("{path}: method {method}"));
    }
    if content_type != "application/secevent+jwt" || accept != "application/json" {
        return reject(format!(
            "{path}: content-type {content_type:?}, accept {accept:?}"
        ));
    }
    let Some(secret) = state.secrets.lock().unwrap().get(path).cloned() else {
        return reject(format!("{path}: no secret registered"));
    };
    let jws = String::from_utf8_lossy(&body).to_string();
    let claims = match verify(&jws, &secret) {
        Ok(c) => c,
        Err(e) => return reject(format!("{path}: {e}")),
    };
    state.received.lock().unwrap().push(Received {
        path: path.to_string(),
        claims,
        at: Instant::now(),
    });
    Ok(match *state.mode.lock().unwrap() {
        None | Some(Mode::Accept) => StatusCode::ACCEPTED,
        Some(Mode::Status(code)) => StatusCode::from_u16(code).unwrap(),
    })
}

/// Verifies a SET the way any receiver would: HS256 with the shared secret, `typ`
/// `secevent+jwt`.
pub fn verify(jws: &str, secret: &str) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(jws).map_err(|e| e.to_string())?;
    if header.typ.as_deref() != Some("secevent+jwt") || header.alg != Algorithm::HS256 {
        return Err(format!("header {header:?}"));
    }
    let mut v = Validation::new(Algorithm::HS256);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_aud = false;
    let key = DecodingKey::from_secret(secret.as_bytes()).map_err(|e| e.to_string())?;
    jsonwebtoken::decode::<Value>(jws, &key, &v)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}
