//! Limits against the real binary: the per-tenant rate limit from its flags (one tenant
//! throttled, another not), and slow clients (slowloris): connections trickling their
//! headers or their body, and idle keep-alive connections, are closed by the server while
//! a normal request is still served. The timeouts are made small through the flags; no
//! assertion is about timing (the deadlines only stop a broken server from hanging the
//! test).

use crate::harness::{Backend, Server};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[test]
fn the_rate_limit_flags_throttle_one_tenant_and_not_another() {
    let Some(s) = Server::start_with(
        Backend::Sqlite,
        &[
            ("SCIM_RATE_LIMIT_PER_TENANT", "1"),
            ("SCIM_RATE_LIMIT_BURST", "3"),
        ],
        None,
    ) else {
        return;
    };
    let (a, b) = (s.tenant("A"), s.tenant("B"));
    for _ in 0..3 {
        s.call(&a, "GET", "/Users", None).expect(200);
    }
    // The bucket refills one request a second: on a slow machine one more may pass first.
    let r = (0..10)
        .map(|_| s.call(&a, "GET", "/Users", None))
        .find(|r| r.status != 200)
        .expect("tenant A was never throttled");
    r.expect_error(429);
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(r.header("ratelimit-limit"), Some("1"));
    assert_eq!(r.header("ratelimit-remaining"), Some("0"));
    assert!(r.header("ratelimit-reset").is_some());
    for _ in 0..3 {
        s.call(&b, "GET", "/Users", None).expect(200);
    }
}

/// The server's side of a slow connection, once it has given up on it.
#[derive(Debug, PartialEq, Eq)]
enum Closed {
    /// It answered 408 (and closed, or will).
    RequestTimeout,
    /// It closed (or reset) the connection.
    Closed,
}

/// A client that sends `head` and then `trickle` one byte at a time.
struct Slow {
    stream: TcpStream,
    trickle: Vec<u8>,
    sent: usize,
    got: Vec<u8>,
    closed: Option<Closed>,
}

impl Slow {
    fn open(addr: &str, head: &str, trickle: &[u8]) -> Slow {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(5)))
            .unwrap();
        Slow {
            stream,
            trickle: trickle.to_vec(),
            sent: 0,
            got: Vec::new(),
            closed: None,
        }
    }

    /// Sends the next byte and reads whatever the server said; records when it gave up.
    fn step(&mut self) {
        if self.closed.is_some() {
            return;
        }
        if self.sent < self.trickle.len() {
            let byte = [self.trickle[self.sent]];
            if self.stream.write_all(&byte).is_err() {
                self.closed = Some(self.verdict());
                return;
            }
            self.sent += 1;
        }
        let mut buf = [0u8; 4096];
        match self.stream.read(&mut buf) {
            Ok(0) => self.closed = Some(self.verdict()),
            Ok(n) => {
                self.got.extend_from_slice(&buf[..n]);
                if self.got.starts_with(b"HTTP/1.1 408") {
                    self.closed = Some(Closed::RequestTimeout);
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => self.closed = Some(self.verdict()),
        }
    }

    fn verdict(&self) -> Closed {
        if self.got.starts_with(b"HTTP/1.1 408") {
            Closed::RequestTimeout
        } else {
            assert!(
                self.got.is_empty(),
                "the server answered a slow request with something else than 408: {}",
                String::from_utf8_lossy(&self.got)
            );
            Closed::Closed
        }
    }
}

#[test]
fn slow_clients_are_cut_off_and_normal_requests_are_served() {
    let Some(s) = Server::start_with(
        Backend::Sqlite,
        &[
            // Not smaller: actix measures the head deadline from a clock it updates every
            // 500 ms, so a shorter timeout can cut off a request that arrives at once.
            ("SCIM_CLIENT_REQUEST_TIMEOUT", "2s"),
            ("SCIM_BODY_READ_TIMEOUT", "2s"),
            ("SCIM_KEEP_ALIVE", "2s"),
            ("SCIM_WORKERS", "1"),
        ],
        None,
    ) else {
        return;
    };
    let t = s.tenant("Slow");
    // Many connections trickling their headers (never finishing them)...
    let mut slow: Vec<Slow> = (0..40)
        .map(|i| {
            Slow::open(
                &s.addr,
                &format!("GET {}/Users HTTP/1.1\r\nHost: x\r\n", t.base),
                format!("X-Slow-{i}: {}\r\n", "a".repeat(200)).as_bytes(),
            )
        })
        .collect();
    // ...one trickling the body it announced...
    let body = r#"{"userName": "slow@example.com"}"#;
    slow.push(Slow::open(
        &s.addr,
        &format!(
            "POST {}/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n",
            t.base,
            t.token,
            body.len() + 10_000
        ),
        format!("{body}{}", " ".repeat(10_000)).as_bytes(),
    ));
    // ...and one idle keep-alive connection after a complete request.
    let mut idle = TcpStream::connect(&s.addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // While they hold their connections, a normal request on the one worker is served.
    for _ in 0..5 {
        for c in &mut slow {
            c.step();
        }
    }
    s.call(&t, "GET", "/Users", None).expect(200);
    s.call(
        &t,
        "POST",
        "/Users",
        Some(&serde_json::json!({"userName": "fast@example.com"})),
    )
    .expect(201);
    // Every slow connection is given up by the server while it keeps trickling.
    let deadline = Instant::now() + Duration::from_secs(60);
    while slow.iter().any(|c| c.closed.is_none()) {
        assert!(
            Instant::now() < deadline,
            "{} slow connections are still open",
            slow.iter().filter(|c| c.closed.is_none()).count()
        );
        for c in &mut slow {
            c.step();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // The body trickler got its 408 (a SCIM error), and nothing was created from it.
    let body_client = slow.last().unwrap();
    assert_eq!(body_client.closed, Some(Closed::RequestTimeout));
    assert!(
        String::from_utf8_lossy(&body_client.got)
            .contains("urn:ietf:params:scim:api:messages:2.0:Error"),
        "{}",
        String::from_utf8_lossy(&body_client.got)
    );
    let found = s.call(
        &t,
        "GET",
        "/Users?filter=userName%20eq%20%22slow%40example.com%22",
        None,
    );
    assert_eq!(found.expect(200)["totalResults"], 0);
    // The idle keep-alive connection got its answer and was then closed.
    idle.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut got = Vec::new();
    let closed = idle.read_to_end(&mut got);
    assert!(
        closed.is_ok(),
        "the idle connection was not closed: {closed:?}"
    );
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    // The server is still healthy.
    s.call(&t, "GET", "/Users", None).expect(200);
}
