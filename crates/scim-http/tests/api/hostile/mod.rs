//! A generated corpus of hostile requests, on SQLite and on PostgreSQL: every SCIM route
//! and method, with malformed ids, tenant ids, bodies, headers, filters, PATCH paths and
//! encodings, built from tables and their products rather than listed one by one.
//!
//! For every request: a 4xx with a SCIM error body (`schemas` names the Error URN, `status`
//! is the code as a string, `application/scim+json`), never a 5xx, never a panic; the
//! status (and `scimType`) a dimension is known to give is checked too. The only 5xx in
//! the corpus is `501 Not Implemented` from `/Me`: the status RFC 7644 gives for an
//! operation the service provider does not support (§3.11, §3.12). It is excluded from the
//! never-5xx rule by design, and checked to be exactly 501 with a SCIM error body. Hostile
//! `/Bulk` requests ([`bulk`]) get a 4xx SCIM error, or a BulkResponse in which every
//! operation failed with a 4xx. After each batch a probe shows the service still answers, and around
//! the whole corpus (which holds no valid write) the row count of every table and the
//! versions of every resource are unchanged: nothing was partially written.

mod bodies;
mod bulk;
mod urls;

use crate::helpers::{Backend, TestApp, backends};
use actix_web::App;
use actix_web::http::header::HeaderValue;
use actix_web::test::{self, TestRequest};
use scim_http::{Limits, configure};
use serde_json::{Value, json};

/// What a request must get besides "a 4xx with a SCIM error body".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Any 4xx.
    Client,
    /// This status.
    Status(u16),
    /// 400 with this `scimType`.
    Type(&'static str),
    /// RFC 7644's 501 for an unsupported feature (`/Me`): the one 5xx allowed.
    NotImplemented,
    /// 200 with a BulkResponse whose every operation failed with a 4xx SCIM error.
    BulkRefused,
}

struct Case {
    label: String,
    method: &'static str,
    uri: String,
    headers: Vec<(&'static str, HeaderValue)>,
    body: Option<Vec<u8>>,
    expect: Expect,
    /// Send the tenant's token (`false`: the headers carry whatever `Authorization` the
    /// case is about, or none).
    auth: bool,
}

impl Case {
    fn new(label: impl Into<String>, method: &'static str, uri: String, expect: Expect) -> Case {
        Case {
            label: label.into(),
            method,
            uri,
            headers: Vec::new(),
            body: None,
            expect,
            auth: true,
        }
    }

    fn json(mut self, body: &Value) -> Case {
        self.body = Some(body.to_string().into_bytes());
        self
    }

    fn raw(mut self, body: Vec<u8>) -> Case {
        self.body = Some(body);
        self
    }

    fn header(mut self, name: &'static str, value: HeaderValue) -> Case {
        self.headers.push((name, value));
        self
    }

    fn unauthenticated(mut self) -> Case {
        self.auth = false;
        self
    }
}

fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap()
}

/// The fixtures the corpus aims at (created before the snapshot).
struct Fixture {
    base: String,
    user: String,
    group: String,
    token: String,
}

/// Row counts of every table, and the versions of the resources.
fn snapshot(app: &TestApp) -> Vec<(String, String)> {
    let pg = app.db.backend() == "postgres";
    app.db
        .with_connection(|c| {
            let (tables, count) = if pg {
                (
                    "SELECT tablename AS \"QUERY PLAN\" FROM pg_tables \
                     WHERE schemaname = current_schema() ORDER BY tablename",
                    "SELECT COUNT(*)::text AS \"QUERY PLAN\" FROM",
                )
            } else {
                (
                    "SELECT name AS detail FROM sqlite_master WHERE type = 'table' ORDER BY name",
                    "SELECT CAST(COUNT(*) AS TEXT) AS detail FROM",
                )
            };
            let mut out = Vec::new();
            for table in c.query_text_rows(tables)? {
                let n = c.query_text_rows(&format!("{count} \"{table}\""))?;
                out.push((table, n.join(",")));
            }
            for table in ["users", "groups"] {
                let sql = if pg {
                    format!("SELECT id || ':' || version::text AS \"QUERY PLAN\" FROM {table} ORDER BY id")
                } else {
                    format!("SELECT id || ':' || CAST(version AS TEXT) AS detail FROM {table} ORDER BY id")
                };
                out.push((format!("{table} versions"), c.query_text_rows(&sql)?.join(",")));
            }
            Ok(out)
        })
        .unwrap()
}

async fn run_corpus(backend: Backend) -> usize {
    // `/Bulk`'s body limit equals the others', so the generic over-the-limit body is a 413
    // on every route.
    let limits = Limits::default();
    let bulk = scim_core::bulk::BulkLimits {
        max_payload_bytes: limits.max_body_bytes,
        ..limits.bulk
    };
    let app = TestApp::on(backend, Limits { bulk, ..limits });
    let user = app.user("target@example.com").await;
    let v = app
        .call(
            "POST",
            "/Groups",
            Some(&json!({"displayName": "Target", "members": [{"value": user}]})),
        )
        .await
        .expect(201);
    let fixture = Fixture {
        base: app.base(),
        user,
        group: v["id"].as_str().unwrap().to_string(),
        token: app.token.clone(),
    };
    let before = snapshot(&app);
    assert!(
        before.iter().any(|(t, n)| t == "users" && n == "1"),
        "{before:?}"
    );
    let service = test::init_service(App::new().configure(configure(app.state.clone()))).await;
    let batches: Vec<(&str, Vec<Case>)> = vec![
        ("ids", urls::id_cases(&fixture)),
        ("tenants", urls::tenant_cases(&fixture)),
        ("bodies", bodies::body_cases(&fixture)),
        ("resources", bodies::resource_cases(&fixture)),
        ("patch", bodies::patch_cases(&fixture)),
        ("bulk", bulk::bulk_cases(&fixture)),
        ("filters", urls::filter_cases(&fixture)),
        ("headers", urls::header_cases(&fixture)),
        ("routes", urls::route_cases(&fixture)),
    ];
    let mut total = 0;
    let mut failures = Vec::new();
    for (batch, cases) in batches {
        for case in cases {
            total += 1;
            let mut req = TestRequest::default()
                .method(case.method.parse().unwrap())
                .uri(&case.uri);
            if case.auth {
                req = req.insert_header(("authorization", format!("Bearer {}", fixture.token)));
            }
            if case.body.is_some() && !case.headers.iter().any(|(n, _)| *n == "content-type") {
                req = req.insert_header(("content-type", "application/scim+json"));
            }
            if let Some(body) = &case.body {
                req = req.set_payload(body.clone());
            }
            // After the payload, which sets its own Content-Length.
            for (name, value) in &case.headers {
                req = req.insert_header((*name, value.clone()));
            }
            let resp = test::call_service(&service, req.to_request()).await;
            let status = resp.status().as_u16();
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = test::read_body(resp).await;
            if let Err(why) = judge(case.expect, status, ct.as_deref(), &body) {
                failures.push(format!("[{backend:?} {batch}] {}: {why}", case.label));
            }
        }
        // The service still answers after the batch.
        let probe = TestRequest::get()
            .uri(&format!("{}/Users?count=1", fixture.base))
            .insert_header(("authorization", format!("Bearer {}", fixture.token)));
        let resp = test::call_service(&service, probe.to_request()).await;
        assert_eq!(
            resp.status().as_u16(),
            200,
            "[{backend:?}] probe after {batch}"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {total} requests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Extreme but valid: filters with values just under the length limit, compared with
    // indexed columns (PostgreSQL B-tree entries stop near 2 700 bytes; a comparison with
    // a longer value must still work). 200, an empty result.
    let long = "é".repeat(2_000);
    for (endpoint, filter) in [
        ("Users", format!("userName eq \"{long}\"")),
        ("Users", format!("userName sw \"{long}\"")),
        ("Users", format!("externalId eq \"{long}\"")),
        ("Users", format!("emails.value co \"{long}\"")),
        (
            "Users",
            format!("emails[type eq \"work\" and value eq \"{long}\"]"),
        ),
        (
            "Users",
            format!("displayName gt \"{long}\" and userName lt \"a\""),
        ),
        ("Groups", format!("displayName eq \"{long}\"")),
        ("Groups", format!("members.value eq \"{long}\"")),
    ] {
        let req = TestRequest::get()
            .uri(&format!(
                "{}/{endpoint}?filter={}",
                fixture.base,
                urls::urlencoding(&filter)
            ))
            .insert_header(("authorization", format!("Bearer {}", fixture.token)));
        let resp = test::call_service(&service, req.to_request()).await;
        let status = resp.status().as_u16();
        let body = test::read_body(resp).await;
        assert_eq!(
            status,
            200,
            "[{backend:?}] {endpoint} {}: {body:?}",
            &filter[..12]
        );
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["totalResults"], 0);
    }
    assert_eq!(
        snapshot(&app),
        before,
        "[{backend:?}] the corpus changed the database"
    );
    total
}

/// Checks one answer; `Err` says what is wrong.
fn judge(expect: Expect, status: u16, ct: Option<&str>, body: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(body);
    let shown: String = text.chars().take(300).collect();
    if expect == Expect::BulkRefused {
        return judge_bulk(status, ct, body, &shown);
    }
    match expect {
        Expect::NotImplemented if status != 501 => {
            return Err(format!("{status}, expected 501: {shown}"));
        }
        Expect::NotImplemented => {}
        _ if !(400..500).contains(&status) => {
            return Err(format!("{status}, expected a 4xx: {shown}"));
        }
        Expect::Status(s) if s != status => return Err(format!("{status}, expected {s}: {shown}")),
        _ => {}
    }
    if ct != Some("application/scim+json") {
        return Err(format!("content type {ct:?}: {shown}"));
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON ({e}): {shown}"))?;
    let code = status.to_string();
    if v["schemas"] != json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        || v["status"].as_str() != Some(code.as_str())
    {
        return Err(format!("not a SCIM error body for {status}: {shown}"));
    }
    if let Expect::Type(t) = expect
        && (status != 400 || v["scimType"] != t)
    {
        return Err(format!(
            "{status} {}, expected 400 {t}: {shown}",
            v["scimType"]
        ));
    }
    Ok(())
}

/// A BulkResponse whose every operation failed with a 4xx SCIM error.
fn judge_bulk(status: u16, ct: Option<&str>, body: &[u8], shown: &str) -> Result<(), String> {
    if status != 200 || ct != Some("application/scim+json") {
        return Err(format!(
            "{status} {ct:?}, expected a 200 BulkResponse: {shown}"
        ));
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON ({e}): {shown}"))?;
    let ops = v["Operations"]
        .as_array()
        .ok_or(format!("no Operations: {shown}"))?;
    for op in ops {
        let code: u16 = op["status"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if !(400..500).contains(&code) || op["response"]["status"] != op["status"] {
            return Err(format!("an operation did not fail with a 4xx: {op}"));
        }
    }
    if ops.is_empty() {
        return Err(format!("no operation reported: {shown}"));
    }
    Ok(())
}

#[actix_web::test]
async fn a_hostile_corpus_gets_4xx_scim_errors_and_writes_nothing() {
    for backend in backends() {
        let total = run_corpus(backend).await;
        assert!(total >= 300, "only {total} requests");
        eprintln!("hostile corpus: {total} requests on {backend:?}");
    }
}
