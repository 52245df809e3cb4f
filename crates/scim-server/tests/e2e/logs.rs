//! The logs of a whole run hold no secret and no personal data from queries: the real
//! binary, at the default log level (text) and at debug (JSON), through the console's
//! set-up link, the first operator's set-up and sign-in (one wrong password), a console
//! search (`q=`) and a console Generate, `token generate` on the command line, Okta-style
//! `filter` lookups, 401s with a wrong, a rotated and a foreign token, and a webhook whose
//! signed deliveries arrive. Afterwards none of the tokens, passwords, the webhook secret,
//! the e-mail addresses and userNames used in filters or searches, or the set-up code
//! (outside the one plain line that prints the link) appears in the log; and the log does
//! hold the run's request lines, with the filtered lookups redacted, so the scan has
//! something to find.

use crate::feed::{QUICK_DELIVERY, add_webhook};
use crate::harness::{Backend, Resp, Server, enc, try_request};
use crate::receiver::Receiver;
use serde_json::json;
use std::time::Duration;

const OPERATOR: &str = "operator.logs@example.test";
const PASSWORD: &str = "Operator-Setup-Passw0rd-7781";
const WRONG_PASSWORD: &str = "Wrong-Guess-Passw0rd-3390";

#[test]
fn a_full_run_logs_no_secret_and_no_filtered_value() {
    for (level, format) in [("info", "text"), ("debug", "json")] {
        eprintln!("-- log level {level}, format {format}");
        run_and_scan(level, format);
    }
}

/// A browser's cookies, as `name=value` pairs.
#[derive(Default)]
struct Cookies(Vec<(String, String)>);

impl Cookies {
    fn take(&mut self, r: &Resp) {
        for (k, v) in &r.headers {
            if k.eq_ignore_ascii_case("set-cookie")
                && let Some((name, value)) = v.split(';').next().and_then(|c| c.split_once('='))
            {
                self.0.retain(|(n, _)| n != name);
                self.0.push((name.to_string(), value.to_string()));
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The value of the hidden (or read-only) input `name` / `#id` of a page.
fn input_value(html: &str, marker: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in the page"));
    let rest = &html[start..];
    let v = rest.find("value=\"").unwrap() + 7;
    rest[v..v + rest[v..].find('"').unwrap()].to_string()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A console request with the browser's cookies (a form body when `body` is given).
fn console(s: &Server, jar: &mut Cookies, method: &str, path: &str, body: Option<&str>) -> Resp {
    let cookie = jar.header();
    let mut headers = vec![("Cookie", cookie.as_str())];
    if body.is_some() {
        headers.push(("Content-Type", "application/x-www-form-urlencoded"));
    }
    let r = try_request(&s.addr, method, path, &headers, body).unwrap();
    jar.take(&r);
    r
}

fn run_and_scan(level: &str, format: &str) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let mut env = vec![("SCIM_LOG_LEVEL", level), ("SCIM_LOG_FORMAT", format)];
    env.extend_from_slice(QUICK_DELIVERY);
    let Some(mut s) = Server::start_with(Backend::Sqlite, &env, Some(&log)) else {
        return;
    };
    // Everything that must never be logged, with what it is.
    let mut secrets: Vec<(&str, String)> = vec![
        ("the operator's password", PASSWORD.into()),
        ("a wrong password", WRONG_PASSWORD.into()),
    ];

    // The set-up link, from the one plain line that prints it.
    let started = std::fs::read_to_string(&log).unwrap();
    let link = started
        .split_whitespace()
        .find(|w| w.contains("/admin/setup?code="))
        .unwrap_or_else(|| panic!("no set-up link printed:\n{started}"))
        .to_string();
    let code = link.split("code=").nth(1).unwrap().to_string();
    assert!(code.len() >= 32, "{code}");
    let setup_path = link.split_once(&s.addr).unwrap().1.to_string();

    // The set-up, then a sign-in with a wrong password and one with the right one.
    let mut jar = Cookies::default();
    let page = console(&s, &mut jar, "GET", &setup_path, None);
    assert_eq!(page.status, 200);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    let token = input_value(&html, "name=\"form_token\"");
    let body = form(&[
        ("form_token", &token),
        ("code", &code),
        ("email", OPERATOR),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ]);
    assert_eq!(
        console(&s, &mut jar, "POST", "/admin/setup", Some(&body)).status,
        303
    );
    let mut fresh = Cookies::default();
    let page = console(&s, &mut fresh, "GET", "/admin/sign-in", None);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    let token = input_value(&html, "name=\"form_token\"");
    for (password, status) in [(WRONG_PASSWORD, 401), (PASSWORD, 303)] {
        let body = form(&[
            ("form_token", &token),
            ("email", OPERATOR),
            ("password", password),
        ]);
        let r = console(&s, &mut fresh, "POST", "/admin/sign-in", Some(&body));
        assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    }
    let mut jar = fresh;

    // Tokens: the CLI's, a rotation, another tenant's, and the console's Generate.
    let mut t = s.tenant("Logs");
    secrets.push(("the first tenant token", t.token.clone()));
    let other = s.tenant("Other");
    secrets.push(("another tenant's token", other.token.clone()));
    let rotated = std::mem::replace(&mut t.token, s.new_token(&t.id));
    let cli_token = t.token.clone();
    secrets.push(("the token from `token generate`", cli_token.clone()));
    let settings = format!("/admin/organizations/{}/settings", t.id);
    let page = console(&s, &mut jar, "GET", &settings, None);
    assert_eq!(page.status, 200);
    let csrf = input_value(&String::from_utf8_lossy(&page.body), "name=\"csrf\"");
    let page = console(
        &s,
        &mut jar,
        "POST",
        &format!("{settings}/token"),
        Some(&form(&[("csrf", &csrf)])),
    );
    assert_eq!(page.status, 200);
    t.token = input_value(&String::from_utf8_lossy(&page.body), "id=\"secret-token\"");
    assert_ne!(t.token, cli_token);
    secrets.push(("the console's token", t.token.clone()));

    // A webhook with its secret, and a delivery signed with it.
    let rx = Receiver::start();
    let (_, hook_secret) = add_webhook(&s, &t.id, &rx.url("/hook"), &[]);
    rx.expect_secret("/hook", &hook_secret);
    secrets.push(("the webhook secret", hook_secret));

    // Okta: look up, create, look up again; by userName, externalId and e-mail.
    let ada = "ada.lovelace.logs@example.test";
    let grace = "grace.hopper.logs@example.test";
    let external = "ext-logs-4411";
    for filtered in [ada, grace, external] {
        secrets.push(("a value used in a filter", filtered.into()));
    }
    let lookup = |t: &crate::harness::Tenant, filter: String| {
        s.call(
            t,
            "GET",
            &format!("/Users?filter={}&startIndex=1&count=100", enc(&filter)),
            None,
        )
    };
    assert_eq!(
        lookup(&t, format!("userName eq \"{ada}\"")).expect(200)["totalResults"],
        0
    );
    s.call(
        &t,
        "POST",
        "/Users",
        Some(&json!({
            "userName": ada,
            "externalId": external,
            "emails": [{"value": ada, "type": "work", "primary": true}],
            "password": PASSWORD,
        })),
    )
    .expect(201);
    for filter in [
        format!("userName eq \"{ada}\""),
        format!("externalId eq \"{external}\""),
        format!("emails[type eq \"work\" and value eq \"{ada}\"]"),
        format!("userName eq \"{grace}\""),
    ] {
        lookup(&t, filter).expect(200);
    }
    // A search through /.search: the filter is in the body.
    s.call(
        &t,
        "POST",
        "/Users/.search",
        Some(&json!({"filter": format!("userName eq \"{grace}\"")})),
    )
    .expect(200);
    // The console's search.
    let r = console(
        &s,
        &mut jar,
        "GET",
        &format!("/admin/organizations/{}/users?q={}", t.id, enc(ada)),
        None,
    );
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains(ada));

    // Failures: a wrong token, the rotated one, another tenant's, a token as the username
    // part of a query string, a bad set-up code.
    let wrong = format!("{}tampered", t.token);
    secrets.push(("a wrong token", wrong.clone()));
    for auth in [
        format!("Bearer {wrong}"),
        format!("Bearer {rotated}"),
        format!("Bearer {}", other.token),
    ] {
        s.raw("GET", &format!("{}/Users", t.base), Some(&auth), &[], None)
            .expect_error(401);
    }
    s.raw(
        "GET",
        &format!("{}/Users?access_token={}", t.base, enc(&t.token)),
        None,
        &[],
        None,
    )
    .expect_error(401);
    let mut anon = Cookies::default();
    let r = console(
        &s,
        &mut anon,
        "GET",
        &format!("/admin/setup?code={code}"),
        None,
    );
    assert_eq!(r.status, 404, "the set-up link is spent");

    // The webhook got its events (the worker ran, with the secret in hand).
    assert!(!rx.wait_for("/hook", 1, Duration::from_secs(30)).is_empty());
    assert!(rx.rejected().is_empty(), "{:?}", rx.rejected());
    assert!(s.terminate().success());

    let text = std::fs::read_to_string(&log).unwrap();
    // The scan has something to look at: request lines of the run, the filtered lookups
    // among them (redacted).
    let request_lines = text
        .lines()
        .filter(|l| l.contains("request finished"))
        .count();
    assert!(
        request_lines >= 20,
        "only {request_lines} request lines:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("request finished") && l.contains("filter=***")),
        "no redacted filter lookup in the log:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("request finished") && l.contains("q=***")),
        "no redacted console search in the log:\n{text}"
    );
    if format == "json" {
        assert!(
            text.contains("\"level\":\"DEBUG\""),
            "not a debug log:\n{text}"
        );
    }
    for (what, secret) in &secrets {
        assert!(!secret.is_empty());
        let hits: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(secret.as_str()))
            .collect();
        assert!(
            hits.is_empty(),
            "{what} ({secret}) is in the log: {hits:#?}"
        );
        let encoded = enc(secret);
        assert!(
            !text.contains(&encoded),
            "{what} is in the log, percent-encoded"
        );
    }
    // The set-up code: only in the one plain line that printed the link, never in a
    // structured line (nor in the request line of the set-up page).
    let with_code: Vec<&str> = text.lines().filter(|l| l.contains(&code)).collect();
    assert_eq!(with_code.len(), 1, "{with_code:#?}");
    assert_eq!(with_code[0].trim(), link);
    assert!(!with_code[0].contains("request finished"));
    let setup_lines = text
        .lines()
        .filter(|l| l.contains("request finished") && l.contains("/admin/setup"))
        .count();
    assert!(setup_lines >= 2, "no set-up request lines:\n{text}");
    assert!(!text.to_ascii_lowercase().contains("bearer "));
}
