//! A real RFC 8935 push receiver on a free loopback port, as a SaaS would run one: every
//! `POST` must carry `Content-Type: application/secevent+jwt` and a JWS whose header is
//! `{"typ": "secevent+jwt", "alg": "HS256"}` and whose HS256 signature verifies with the
//! secret `webhook add` printed for that path (checked with an ordinary JWT library). It
//! records the decoded claims per path, answers `202 Accepted`, and notices when two
//! deliveries to one path are in flight at once (which the leases must prevent).

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One delivery the receiver accepted.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The decoded, verified claims.
    pub claims: Value,
}

impl Delivery {
    pub fn jti(&self) -> &str {
        self.claims["jti"].as_str().unwrap()
    }

    /// The one event URI of the SET.
    pub fn event_uri(&self) -> String {
        event_of(&self.claims).0.to_string()
    }

    /// The payload of the SET's one event.
    pub fn payload(&self) -> &Value {
        event_of(&self.claims).1
    }
}

/// The one event of SET claims: its URI and payload.
pub fn event_of(claims: &Value) -> (&str, &Value) {
    let events = claims["events"].as_object().unwrap();
    assert_eq!(events.len(), 1, "a SET carries one event: {claims}");
    let (uri, payload) = events.iter().next().unwrap();
    (uri.as_str(), payload)
}

#[derive(Default)]
struct State {
    secrets: HashMap<String, String>,
    received: HashMap<String, Vec<Delivery>>,
    in_flight: HashMap<String, usize>,
    /// Paths that had two deliveries in flight at once.
    overlaps: Vec<String>,
    /// Deliveries that broke the RFC 8935 / signature rules, with why.
    rejected: Vec<String>,
}

/// The receiver; stops on drop.
pub struct Receiver {
    pub addr: String,
    state: Arc<Mutex<State>>,
    /// How long each delivery is held before the answer (widens the overlap window).
    hold: Arc<Mutex<Duration>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let hold = Arc::new(Mutex::new(Duration::ZERO));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, h, sp) = (state.clone(), hold.clone(), stop.clone());
        std::thread::spawn(move || {
            while !sp.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (st, h) = (st.clone(), h.clone());
                        std::thread::spawn(move || handle(stream, &st, &h));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Receiver {
            addr,
            state,
            hold,
            stop,
        }
    }

    /// The URL of `path` (e.g. `/full`) on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The secret deliveries to `path` must be signed with.
    pub fn expect_secret(&self, path: &str, secret: &str) {
        let mut s = self.state.lock().unwrap();
        s.secrets.insert(path.to_string(), secret.to_string());
    }

    /// Holds every delivery this long before answering.
    pub fn set_hold(&self, d: Duration) {
        *self.hold.lock().unwrap() = d;
    }

    /// Everything accepted on `path` so far, in arrival order.
    pub fn received(&self, path: &str) -> Vec<Delivery> {
        let s = self.state.lock().unwrap();
        s.received.get(path).cloned().unwrap_or_default()
    }

    /// Waits (polling, up to `deadline`) until `path` has at least `n` distinct jtis.
    #[track_caller]
    pub fn wait_for(&self, path: &str, n: usize, deadline: Duration) -> Vec<Delivery> {
        let end = Instant::now() + deadline;
        loop {
            let got = self.received(path);
            if distinct_jtis(&got) >= n {
                return got;
            }
            assert!(
                Instant::now() < end,
                "{path}: {} distinct events arrived within {deadline:?}, expected {n}; rejected: {:?}",
                distinct_jtis(&got),
                self.rejected()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Deliveries that broke the rules (bad content type, header or signature).
    pub fn rejected(&self) -> Vec<String> {
        self.state.lock().unwrap().rejected.clone()
    }

    /// Paths that ever had two deliveries in flight at once.
    pub fn overlaps(&self) -> Vec<String> {
        self.state.lock().unwrap().overlaps.clone()
    }
}

pub fn distinct_jtis(deliveries: &[Delivery]) -> usize {
    let mut seen = std::collections::HashSet::new();
    deliveries.iter().filter(|d| seen.insert(d.jti())).count()
}

/// The deliveries with repeats of a jti dropped (what a receiver that de-duplicates on
/// `jti` applies), in first-arrival order.
pub fn dedup(deliveries: &[Delivery]) -> Vec<Delivery> {
    let mut seen = std::collections::HashSet::new();
    deliveries
        .iter()
        .filter(|d| seen.insert(d.jti().to_string()))
        .cloned()
        .collect()
}

/// Verifies a SET as a receiver must: `typ` secevent+jwt, HS256, signature with `secret`.
pub fn verify(token: &str, secret: &str) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| format!("header: {e}"))?;
    if header.typ.as_deref() != Some("secevent+jwt") {
        return Err(format!("typ is {:?}, not secevent+jwt", header.typ));
    }
    if header.alg != Algorithm::HS256 {
        return Err(format!("alg is {:?}, not HS256", header.alg));
    }
    let key = DecodingKey::from_secret(secret.as_bytes()).map_err(|e| e.to_string())?;
    let mut v = Validation::new(Algorithm::HS256);
    // A SET is not an access token: no `exp`, and `aud` is the receiver's to judge.
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .map(|d| d.claims)
        .map_err(|e| format!("signature: {e}"))
}

fn handle(mut stream: TcpStream, state: &Mutex<State>, hold: &Mutex<Duration>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Some((method, path, headers, body)) = read_request(&mut stream) else {
        return;
    };
    let content_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone());
    {
        let mut s = state.lock().unwrap();
        let n = s.in_flight.entry(path.clone()).or_default();
        *n += 1;
        if *n > 1 {
            s.overlaps.push(path.clone());
        }
    }
    let hold = *hold.lock().unwrap();
    if !hold.is_zero() {
        std::thread::sleep(hold);
    }
    let status = {
        let mut s = state.lock().unwrap();
        let status = judge(&mut s, &method, &path, content_type.as_deref(), &body);
        // Out of flight before the answer leaves: the sender cannot start the next
        // delivery before it has read this answer.
        if let Some(n) = s.in_flight.get_mut(&path) {
            *n -= 1;
        }
        status
    };
    let reason = if status == 202 { "Accepted" } else { "Error" };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.flush();
}

/// Checks one request and records it; returns the status to answer.
fn judge(s: &mut State, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> u16 {
    let Some(secret) = s.secrets.get(path).cloned() else {
        // Not told about this path yet: a retry will come.
        return 503;
    };
    if method != "POST" {
        s.rejected.push(format!("{path}: method {method}"));
        return 405;
    }
    if content_type != Some("application/secevent+jwt") {
        s.rejected
            .push(format!("{path}: content type {content_type:?}"));
        return 415;
    }
    let token = String::from_utf8_lossy(body).trim().to_string();
    match verify(&token, &secret) {
        Ok(claims) => {
            s.received
                .entry(path.to_string())
                .or_default()
                .push(Delivery { claims });
            202
        }
        Err(e) => {
            s.rejected.push(format!("{path}: {e}"));
            400
        }
    }
}

type Request = (String, String, Vec<(String, String)>, Vec<u8>);

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = raw[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&buf[..n]);
    }
    body.truncate(len);
    Some((method, path, headers, body))
}
