//! The NATS JetStream sink: the signed SET published to the subscription's subject and
//! acknowledged by the stream that captures it.
//!
//! Each message carries `Nats-Msg-Id: <jti>`, so a retry that JetStream already stored
//! (the ack was lost, not the message) is dropped by the stream's duplicate window, and
//! `Content-Type: application/secevent+jwt`. One connection per `Deliverer`, made on first
//! use (and again on the next attempt if connecting failed); the client reconnects by
//! itself once connected.

use crate::set::JWS_CONTENT_TYPE;
use crate::webhook::{Sent, elapsed_ms};
use async_nats::jetstream;
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// A lazily connected JetStream context.
pub(crate) struct Nats {
    url: Option<String>,
    timeout: Duration,
    context: OnceCell<jetstream::Context>,
}

impl Nats {
    /// A sink for the server at `url` (none: every attempt fails with "NATS is not
    /// configured").
    pub(crate) fn new(url: Option<String>, timeout: Duration) -> Nats {
        Nats {
            url,
            timeout,
            context: OnceCell::new(),
        }
    }

    async fn context(&self) -> Result<&jetstream::Context, String> {
        let Some(url) = self.url.as_deref() else {
            return Err("NATS is not configured".into());
        };
        self.context
            .get_or_try_init(|| async {
                let client = async_nats::ConnectOptions::new()
                    .connection_timeout(self.timeout)
                    .request_timeout(Some(self.timeout))
                    .connect(url)
                    .await
                    // The kind only: the error's text can repeat the URL, credentials
                    // included.
                    .map_err(|e| format!("NATS connection failed: {}", e.kind()))?;
                let mut context = jetstream::new(client);
                context.set_timeout(self.timeout);
                Ok(context)
            })
            .await
    }

    /// Publishes `jws` to `subject` and waits for the stream's acknowledgement.
    pub(crate) async fn publish(&self, subject: &str, jti: &str, jws: &str) -> Sent {
        let start = Instant::now();
        let context = match self.context().await {
            Ok(c) => c,
            Err(reason) => return Sent::failed(start, None, reason),
        };
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", jti);
        headers.insert("Content-Type", JWS_CONTENT_TYPE);
        let publish = async {
            let ack = context
                .publish_with_headers(
                    subject.to_string(),
                    headers,
                    bytes::Bytes::from(jws.to_string()),
                )
                .await
                .map_err(|e| e.kind().to_string())?;
            ack.await.map_err(|e| e.kind().to_string())
        };
        match tokio::time::timeout(self.timeout, publish).await {
            Ok(Ok(_ack)) => Sent {
                delivered: true,
                status_code: None,
                error: None,
                duration_ms: elapsed_ms(start),
            },
            Ok(Err(reason)) => Sent::failed(start, None, format!("NATS: {reason}")),
            Err(_) => Sent::failed(start, None, "NATS: timed out".into()),
        }
    }
}
