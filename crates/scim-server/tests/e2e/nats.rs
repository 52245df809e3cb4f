//! The NATS sink through the real binary: `--nats-url`, a `nats:<subject>` subscription
//! made by the command line, a JetStream stream made by the test, and a plain NATS
//! subscriber on the subject (a tiny client of the text protocol over `TcpStream`). Each
//! SET arrives in order as the signed JWS, with `Nats-Msg-Id: <jti>` and the SET content
//! type. Needs a NATS server with JetStream (`SCIM_TEST_NATS_URL`, else 127.0.0.1:4222);
//! skips without one, except under `CI=true`, where it fails.

use crate::feed::add_webhook;
use crate::harness::{Backend, Server};
use crate::receiver::{event_of, verify};
use serde_json::{Value, json};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

/// One message as a subscriber gets it.
struct Message {
    sid: String,
    headers: Vec<(String, String)>,
    payload: String,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A NATS connection speaking just enough of the protocol for this test.
struct Nats {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Nats {
    fn connect(url: &str) -> Nats {
        let addr = url.trim_start_matches("nats://");
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut n = Nats {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        let info = n.line();
        assert!(info.starts_with("INFO "), "{info}");
        n.send(r#"CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}"#);
        n.send("PING");
        assert_eq!(n.line(), "PONG");
        n
    }

    fn send(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.reader.read_line(&mut l).unwrap();
        l.trim_end().to_string()
    }

    /// The next message (answering the server's pings on the way).
    fn next(&mut self) -> Message {
        loop {
            let l = self.line();
            let parts: Vec<&str> = l.split_whitespace().collect();
            match parts.first().copied() {
                Some("PING") => self.send("PONG"),
                Some("MSG") => {
                    let len: usize = parts.last().unwrap().parse().unwrap();
                    let body = self.exact(len);
                    return Message {
                        sid: parts[2].to_string(),
                        headers: Vec::new(),
                        payload: String::from_utf8(body).unwrap(),
                    };
                }
                Some("HMSG") => {
                    let n = parts.len();
                    let (hdr, total): (usize, usize) =
                        (parts[n - 2].parse().unwrap(), parts[n - 1].parse().unwrap());
                    let body = self.exact(total);
                    let head = String::from_utf8_lossy(&body[..hdr]).into_owned();
                    let headers = head
                        .split("\r\n")
                        .skip(1)
                        .filter_map(|h| h.split_once(':'))
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .collect();
                    return Message {
                        sid: parts[2].to_string(),
                        headers,
                        payload: String::from_utf8(body[hdr..].to_vec()).unwrap(),
                    };
                }
                Some("-ERR") => panic!("NATS: {l}"),
                _ => {}
            }
        }
    }

    fn exact(&mut self, len: usize) -> Vec<u8> {
        let mut body = vec![0u8; len + 2];
        self.reader.read_exact(&mut body).unwrap();
        body.truncate(len);
        body
    }

    /// Subscribes and returns once the subscription is seen to receive (a probe message to
    /// itself came back): only then are the server's publishes sure to reach it.
    fn subscribe_live(&mut self, subject: &str, sid: u32) {
        self.send(&format!("SUB {subject} {sid}"));
        self.send(&format!("PUB {subject} 5"));
        self.send("probe");
        loop {
            let m = self.next();
            if m.sid == sid.to_string() && m.payload == "probe" {
                return;
            }
        }
    }

    /// A JetStream API request; returns the JSON answer.
    fn request(&mut self, subject: &str, body: &Value, sid: u32) -> Value {
        let inbox = format!("_INBOX.scim-e2e.{}", uuid::Uuid::new_v4().simple());
        self.send(&format!("SUB {inbox} {sid}"));
        let text = body.to_string();
        self.send(&format!("PUB {subject} {inbox} {}", text.len()));
        self.send(&text);
        let answer = loop {
            let m = self.next();
            if m.sid == sid.to_string() {
                break serde_json::from_str::<Value>(&m.payload).unwrap();
            }
        };
        self.send(&format!("UNSUB {sid}"));
        answer
    }
}

/// `SCIM_TEST_NATS_URL`, or the machine's own server on 127.0.0.1:4222 when one listens.
fn nats_url() -> Option<String> {
    if let Ok(url) = std::env::var("SCIM_TEST_NATS_URL") {
        return Some(url);
    }
    TcpStream::connect("127.0.0.1:4222")
        .ok()
        .map(|_| "nats://127.0.0.1:4222".to_string())
}

#[test]
fn sets_reach_a_jetstream_subject_signed_in_order() {
    let Some(url) = nats_url() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "no NATS server under CI=true (SCIM_TEST_NATS_URL unset, nothing on 127.0.0.1:4222)"
            );
        }
        eprintln!("SKIPPING the NATS e2e test: no NATS server (run scripts/test)");
        return;
    };
    let mut env = crate::feed::QUICK_DELIVERY.to_vec();
    env.push(("SCIM_NATS_URL", url.as_str()));
    let Some(s) = Server::start_with(Backend::Sqlite, &env, None) else {
        return;
    };
    let t = s.tenant("Bus");
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let (stream, subject) = (format!("SCIM_E2E_{unique}"), format!("scim.e2e.{unique}"));
    let mut nats = Nats::connect(&url);
    let created = nats.request(
        &format!("$JS.API.STREAM.CREATE.{stream}"),
        &json!({"name": stream, "subjects": [subject], "storage": "memory"}),
        1,
    );
    assert!(created.get("error").is_none(), "{created}");
    nats.subscribe_live(&subject, 2);
    let (_, secret) = add_webhook(&s, &t.id, &format!("nats:{subject}"), &[]);

    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada@example.com"});
    let id = s.call(&t, "POST", "/Users", Some(&user)).expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]});
    s.call(&t, "PATCH", &format!("/Users/{id}"), Some(&off))
        .expect(200);

    let mut events = Vec::new();
    while events.len() < 3 {
        let m = nats.next();
        assert_eq!(m.header("Content-Type"), Some("application/secevent+jwt"));
        let claims = verify(m.payload.trim(), &secret).unwrap();
        assert_eq!(m.header("Nats-Msg-Id"), claims["jti"].as_str(), "{claims}");
        assert_eq!(claims["aud"], json!([format!("nats:{subject}")]));
        assert_eq!(claims["sub_id"]["uri"], format!("/Users/{id}"));
        events.push(event_of(&claims).0.to_string());
    }
    let e = "urn:ietf:params:scim:event:";
    assert_eq!(
        events,
        [
            format!("{e}prov:create:full"),
            format!("{e}prov:patch:full"),
            format!("{e}prov:deactivate")
        ]
    );
    nats.request(&format!("$JS.API.STREAM.DELETE.{stream}"), &json!({}), 3);
}
