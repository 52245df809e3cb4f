//! RFC 8935 push: one `POST` of a signed SET to a webhook URL.

use crate::EventsError;
use crate::set::JWS_CONTENT_TYPE;
use std::error::Error as _;
use std::time::{Duration, Instant};

/// How one send ended, before it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent {
    /// Acknowledged (HTTP 2xx, a JetStream PubAck).
    pub delivered: bool,
    /// The HTTP status, when the receiver answered.
    pub status_code: Option<u16>,
    /// Why it failed: short and secret-free (never the URL, the secret or the SET).
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

impl Sent {
    /// A failure with `reason`, started at `start`.
    pub(crate) fn failed(start: Instant, status_code: Option<u16>, reason: String) -> Sent {
        Sent {
            delivered: false,
            status_code,
            error: Some(reason),
            duration_ms: elapsed_ms(start),
        }
    }
}

/// Milliseconds since `start`.
pub(crate) fn elapsed_ms(start: Instant) -> i64 {
    i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// The HTTP client of one `Deliverer`: rustls (ring), no redirects (a 3xx is a failure:
/// following it would send the SET somewhere the subscriber did not name), HTTP/1.1.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, EventsError> {
    // reqwest is built without a crypto provider of its own; ring is the one async-nats
    // links too. `Err` means one is installed already, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("scim-server-events/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| EventsError::Http(e.to_string()))
}

/// POSTs `jws` to `url` and says how it went: 2xx is delivered; any other status (3xx
/// included), a timeout or a connection error is a failure.
pub(crate) async fn post(client: &reqwest::Client, url: &str, jws: &str) -> Sent {
    let start = Instant::now();
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, JWS_CONTENT_TYPE)
        .header(reqwest::header::ACCEPT, "application/json")
        .body(jws.to_string())
        .send()
        .await;
    match response {
        Ok(r) => {
            let status = r.status();
            // The body is not read: receivers answer 202 with an empty one (RFC 8935), and
            // an error body is theirs, not ours to log.
            drop(r);
            if status.is_success() {
                Sent {
                    delivered: true,
                    status_code: Some(status.as_u16()),
                    error: None,
                    duration_ms: elapsed_ms(start),
                }
            } else {
                let reason = if status.is_redirection() {
                    format!("HTTP {} (redirects are not followed)", status.as_u16())
                } else {
                    format!("HTTP {}", status.as_u16())
                };
                Sent::failed(start, Some(status.as_u16()), reason)
            }
        }
        Err(e) => Sent::failed(start, None, describe(&e)),
    }
}

/// A secret-free description of a transport failure: reqwest's own message names the URL,
/// which may carry a token in its query, so only the kind of failure is kept.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
                std::io::ErrorKind::ConnectionReset => "connection reset".into(),
                std::io::ErrorKind::TimedOut => "timed out".into(),
                kind => format!("connection failed: {kind}"),
            };
        }
        if let Some(h) = s.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_closed() || h.is_canceled())
        {
            return "connection closed by the receiver".into();
        }
        if let Some(tls) = s.downcast_ref::<rustls::Error>() {
            return format!("TLS: {tls}");
        }
        source = s.source();
    }
    if e.is_connect() {
        "connection failed".into()
    } else if e.is_builder() {
        "invalid URL".into()
    } else {
        "request failed".into()
    }
}
