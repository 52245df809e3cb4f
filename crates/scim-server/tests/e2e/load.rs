//! A write load as identity providers make it: clients that create users and then patch
//! each one (rename, deactivate, reactivate), recording every change that got a 2xx with
//! the version its ETag named, so a test can hold the event feed against what was
//! acknowledged.

use crate::harness::{Tenant, try_request};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A change that got a 2xx: the user and the version the response's ETag named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub user_id: String,
    pub version: i64,
}

/// How one client's run ended.
#[derive(Debug, Default)]
pub struct ClientReport {
    /// Requests that got no answer at all (connection refused or reset).
    pub errors: usize,
    /// Requests answered with something else than 2xx.
    pub refused: usize,
}

/// `W/"12"` → 12.
pub fn etag_version(etag: &str) -> i64 {
    etag.trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .unwrap_or_else(|_| panic!("not a version ETag: {etag}"))
}

/// One client: `users` users (or until `stop`), each created then patched three times,
/// its requests spread round-robin over `addrs`. Stops at the first request that gets no
/// answer when `stop_on_error` (the server was killed).
pub fn run_client(
    addrs: &[String],
    t: &Tenant,
    tag: usize,
    users: usize,
    stop: &AtomicBool,
    stop_on_error: bool,
    acks: &Mutex<Vec<Ack>>,
) -> ClientReport {
    let mut report = ClientReport::default();
    let mut n = 0usize;
    let auth = format!("Bearer {}", t.token);
    let mut send = |method: &str, path: &str, body: &Value| {
        let addr = &addrs[n % addrs.len()];
        n += 1;
        let body = body.to_string();
        try_request(
            addr,
            method,
            &format!("{}{path}", t.base),
            &[
                ("Authorization", auth.as_str()),
                ("Content-Type", "application/scim+json"),
                ("Accept", "application/scim+json"),
            ],
            Some(&body),
        )
    };
    let patches = [
        json!({"displayName": format!("Renamed {tag}")}),
        json!({"active": false}),
        json!({"active": true}),
    ];
    'users: for k in 0..users {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("load-{tag}-{k}-{}@example.com", uuid::Uuid::new_v4().simple()),
            "active": true
        });
        let id = match send("POST", "/Users", &user) {
            Ok(r) if r.status == 201 => {
                let id = r.json()["id"].as_str().unwrap().to_string();
                let version = etag_version(r.header("etag").unwrap());
                acks.lock().unwrap().push(Ack {
                    user_id: id.clone(),
                    version,
                });
                id
            }
            Ok(_) => {
                report.refused += 1;
                continue;
            }
            Err(_) => {
                report.errors += 1;
                if stop_on_error {
                    break;
                }
                continue;
            }
        };
        for value in &patches {
            let op =
                json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": value}]});
            match send("PATCH", &format!("/Users/{id}"), &op) {
                Ok(r) if r.status == 200 => acks.lock().unwrap().push(Ack {
                    user_id: id.clone(),
                    version: etag_version(r.header("etag").unwrap()),
                }),
                Ok(_) => report.refused += 1,
                Err(_) => {
                    report.errors += 1;
                    if stop_on_error {
                        break 'users;
                    }
                }
            }
        }
    }
    report
}

/// Starts `clients` clients on threads; returns their join handles.
pub fn start_clients(
    clients: usize,
    addrs: Vec<String>,
    t: &Tenant,
    users: usize,
    stop: &Arc<AtomicBool>,
    stop_on_error: bool,
    acks: &Arc<Mutex<Vec<Ack>>>,
) -> Vec<std::thread::JoinHandle<ClientReport>> {
    (0..clients)
        .map(|tag| {
            let (addrs, t, stop, acks) = (addrs.clone(), t.clone(), stop.clone(), acks.clone());
            std::thread::spawn(move || {
                run_client(&addrs, &t, tag, users, &stop, stop_on_error, &acks)
            })
        })
        .collect()
}
