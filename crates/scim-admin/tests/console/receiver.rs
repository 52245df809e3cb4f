//! A real webhook receiver on a free loopback port: a thread that accepts RFC 8935 pushes
//! (one request per connection), verifies nothing itself and records what came, answering
//! 202 (or the status it is told to). The tests verify the recorded SETs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One push as received.
#[derive(Debug, Clone)]
pub struct Push {
    pub content_type: String,
    pub body: String,
}

pub struct Receiver {
    pub url: String,
    pushes: Arc<Mutex<Vec<Push>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        let pushes = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(202));
        let (p, st) = (pushes.clone(), status.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut content_type = String::new();
                let mut length = 0usize;
                let mut line = String::new();
                // Request line, then headers up to the blank line.
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                        if k == "content-type" {
                            content_type = v;
                        } else if k == "content-length" {
                            length = v.parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let code = st.load(Ordering::SeqCst);
                p.lock().unwrap().push(Push {
                    content_type,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                let _ = write!(
                    stream,
                    "HTTP/1.1 {code} Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.flush();
            }
        });
        Receiver {
            url,
            pushes,
            status,
        }
    }

    /// Answer every later push with `code`.
    pub fn answer(&self, code: u16) {
        self.status.store(code, Ordering::SeqCst);
    }

    pub fn pushes(&self) -> Vec<Push> {
        self.pushes.lock().unwrap().clone()
    }

    /// Waits (yielding to the test's runtime, up to 30 s) until at least `n` pushes came.
    pub async fn wait_for(&self, n: usize) -> Vec<Push> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.pushes();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {n} pushes arrived: {got:?}",
                got.len()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The claims of a pushed SET, after checking its content type, its JWS header and its
/// HS256 signature with `secret`.
pub fn verify(push: &Push, secret: &str) -> serde_json::Value {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
    assert_eq!(push.content_type, "application/secevent+jwt");
    let header = decode_header(&push.body).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
    let mut v = Validation::new(Algorithm::HS256);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_aud = false;
    let key = DecodingKey::from_secret(secret.as_bytes()).unwrap();
    decode::<serde_json::Value>(&push.body, &key, &v)
        .unwrap_or_else(|e| panic!("bad signature ({e}): {}", push.body))
        .claims
}
