//! The Requests page, its detail view and exports, and the request-log API: filters for
//! status, action, client and time range, keyset paging, organization isolation (another
//! organization's log is not found), the export respecting the filters, the dropped count
//! shown, and no password in anything shown.

use crate::helpers::*;
use actix_web::test::TestRequest;
use scim_http::RequestLog;
use serde_json::{Value, json};
use std::time::Duration;

const SECRET: &str = "Pa55-w0rd-never-shown";

/// A console whose SCIM endpoint logs requests, an organization with traffic: a create
/// (with a password), a lookup, a refused token and an invalid filter.
async fn with_traffic(backend: Backend) -> (Console, String) {
    let mut c = Console::on(backend);
    let log = RequestLog::start(c.db.clone(), 1000).unwrap();
    c.admin.app = c.admin.app.clone().with_request_log(log);
    let (org, token) = c.tenant_with_token("Acme");
    c.account("admin@acme.test", Some(&org));
    let users = format!("/scim/v2/{org}/Users");
    c.scim(
        &token,
        "POST",
        &users,
        Some(json!({"userName": "ada@acme.test", "password": SECRET})),
    )
    .await
    .expect(201);
    c.scim(
        &token,
        "GET",
        &format!("{users}?filter=userName%20eq%20%22ada%40acme.test%22"),
        None,
    )
    .await
    .expect(200);
    c.scim(
        &token,
        "GET",
        &format!("{users}?filter=userName%20eq"),
        None,
    )
    .await
    .expect(400);
    let refused = TestRequest::get()
        .uri(&users)
        .insert_header(("Authorization", "Bearer scim_wrong"))
        .insert_header(("User-Agent", "Okta SCIM Client 1.0.0"));
    c.send(&mut Client::default(), refused).await.expect(401);
    c.admin.app.request_log.flush(Duration::from_secs(10));
    (c, org)
}

/// The rows of the page's table (the filter form lists every action too).
fn table(body: &str) -> &str {
    body.split_once("id=\"requests\"").map_or("", |(_, t)| t)
}

#[actix_web::test]
async fn the_page_filters_shows_detail_and_exports() {
    for backend in backends() {
        let (c, org) = with_traffic(backend).await;
        let mut admin = c.signed_in("admin@acme.test").await;
        let base = format!("/admin/organizations/{org}/requests");
        let page = c.get(&mut admin, &base).await;
        page.expect(200);
        let rows = table(&page.body);
        for want in [
            "create_user",
            "lookup",
            "import_page",
            "401",
            "invalidFilter",
            "okta",
            "other",
        ] {
            assert!(rows.contains(want), "{want} in {rows}");
        }
        assert!(!page.body.contains(SECRET));
        assert!(!page.body.contains("entries dropped"));

        // Filters.
        let page = c.get(&mut admin, &format!("{base}?status=4xx")).await;
        page.expect(200);
        let rows = table(&page.body);
        assert!(
            rows.contains("401") && rows.contains("400") && !rows.contains("create_user"),
            "{rows}"
        );
        let page = c
            .get(
                &mut admin,
                &format!("{base}?action=create_user&client=other"),
            )
            .await;
        let rows = table(&page.body);
        assert!(
            rows.contains("create_user") && !rows.contains("lookup"),
            "{rows}"
        );
        let page = c.get(&mut admin, &format!("{base}?client=okta")).await;
        let rows = table(&page.body);
        assert!(
            rows.contains("401") && !rows.contains("create_user"),
            "{rows}"
        );
        let page = c
            .get(
                &mut admin,
                &format!("{base}?since=2000-01-01T00:00&until=2000-01-02T00:00"),
            )
            .await;
        page.expect(200);
        assert!(page.body.contains("No requests recorded."));
        c.get(&mut admin, &format!("{base}?status=abc"))
            .await
            .expect(400);

        // Detail: names, never the password.
        let link = format!("href=\"{base}/");
        let at = page_links(
            &c.get(&mut admin, &format!("{base}?action=create_user"))
                .await
                .body,
            &link,
        );
        assert_eq!(at.len(), 1);
        let detail = c.get(&mut admin, &format!("{base}/{}", at[0])).await;
        detail.expect(200);
        assert!(detail.body.contains("Request summary") && detail.body.contains("password"));
        assert!(detail.body.contains("userName") && !detail.body.contains(SECRET));
        assert!(!detail.body.contains("ada@acme.test"));
        c.get(&mut admin, &format!("{base}/999999"))
            .await
            .expect(404);
        c.get(&mut admin, &format!("{base}/nope")).await.expect(404);

        // Exports respect the filters.
        let csv = c
            .get(&mut admin, &format!("{base}/export?format=csv&status=4xx"))
            .await;
        csv.expect(200);
        assert!(
            csv.headers
                .get("content-disposition")
                .unwrap()
                .to_str()
                .unwrap()
                .contains("attachment")
        );
        let lines: Vec<&str> = csv.body.lines().collect();
        assert_eq!(lines.len(), 3, "{}", csv.body);
        assert!(lines[0].starts_with("id,time,method,path,status,action"));
        let all = c
            .get(&mut admin, &format!("{base}/export?format=jsonl"))
            .await;
        all.expect(200);
        let entries: Vec<Value> = all
            .body
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(entries.len(), 4);
        assert!(entries.iter().all(|e| e["summary"].is_object()));
        assert!(!all.body.contains(SECRET) && !csv.body.contains(SECRET));
        c.get(&mut admin, &format!("{base}/export?format=xml"))
            .await
            .expect(400);

        // Another organization's admin finds nothing of it.
        let other = c.tenant("Other");
        c.account("admin@other.test", Some(&other));
        let mut stranger = c.signed_in("admin@other.test").await;
        c.get(&mut stranger, &base).await.expect(404);
        c.get(&mut stranger, &format!("{base}/{}", at[0]))
            .await
            .expect(404);
        c.get(&mut stranger, &format!("{base}/export?format=csv"))
            .await
            .expect(404);
        let theirs = format!("/admin/organizations/{other}/requests/{}", at[0]);
        c.get(&mut stranger, &theirs).await.expect(404);
    }
}

/// The entry ids linked from a page (`href="<prefix><id>"`).
fn page_links(body: &str, prefix: &str) -> Vec<String> {
    body.match_indices(prefix)
        .filter_map(|(i, _)| {
            let rest = &body[i + prefix.len()..];
            let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
            (!id.is_empty() && rest[id.len()..].starts_with('"')).then_some(id)
        })
        .collect()
}

#[actix_web::test]
async fn the_api_pages_filters_and_authenticates() {
    for backend in backends() {
        let (c, org) = with_traffic(backend).await;
        c.account("ops@example.test", None);
        let mut ops = c.operator_api("ops@example.test");
        let url = format!("/admin/api/organizations/{org}/requests");
        let first = c
            .api(&mut ops, "GET", &format!("{url}?limit=3"), None)
            .await;
        first.expect(200);
        let v = first.json();
        let page1 = v["requests"].as_array().unwrap().clone();
        assert_eq!(page1.len(), 3);
        assert_eq!(v["dropped"], 0);
        for key in [
            "id",
            "time",
            "method",
            "path",
            "status",
            "action",
            "scim_type",
            "latency_ms",
            "client",
            "resource_id",
        ] {
            assert!(page1[0].get(key).is_some(), "{key}: {}", page1[0]);
        }
        // Newest first: the refused token is the last request made.
        assert_eq!(page1[0]["status"], 401);
        let next = v["next"].as_str().unwrap().to_string();
        let second = c
            .api(
                &mut ops,
                "GET",
                &format!("{url}?limit=3&cursor={}", enc(&next)),
                None,
            )
            .await;
        let v2 = second.json();
        let page2 = v2["requests"].as_array().unwrap();
        assert_eq!(page2.len(), 1);
        assert_eq!(page2[0]["action"], "create_user");
        assert_eq!(page2[0]["status"], 201);
        assert!(v2["next"].is_null());

        let v = c
            .api(&mut ops, "GET", &format!("{url}?status=4xx"), None)
            .await
            .json();
        let statuses: Vec<u64> = v["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["status"].as_u64().unwrap())
            .collect();
        assert_eq!(statuses, [401, 400]);
        let v = c
            .api(&mut ops, "GET", &format!("{url}?status=400"), None)
            .await
            .json();
        assert_eq!(v["requests"][0]["scim_type"], "invalidFilter");
        c.api(&mut ops, "GET", &format!("{url}?limit=5000"), None)
            .await
            .expect(400);
        c.api(&mut ops, "GET", &format!("{url}?action=nope"), None)
            .await
            .expect(400);

        let id = page2[0]["id"].as_i64().unwrap();
        let d = c.api(&mut ops, "GET", &format!("{url}/{id}"), None).await;
        d.expect(200);
        let d = d.json();
        assert_eq!(d["summary"]["attributes"], json!(["userName", "password"]));
        assert!(!d.to_string().contains(SECRET));
        c.api(&mut ops, "GET", &format!("{url}/{}", id + 1000), None)
            .await
            .expect(404);

        // The admin API's authentication.
        c.api(&mut Client::default(), "GET", &url, None)
            .await
            .expect(401);
        let other = c.tenant("Other");
        c.account("admin@other.test", Some(&other));
        let mut stranger = Client {
            bearer: Some(c.api_token("admin@other.test")),
            ..Client::default()
        };
        c.api(&mut stranger, "GET", &url, None).await.expect(404);
        c.api(&mut stranger, "GET", &format!("{url}/{id}"), None)
            .await
            .expect(404);
    }
}

#[actix_web::test]
async fn dropped_entries_are_shown() {
    let mut c = Console::new();
    let log = RequestLog::start(c.db.clone(), 1).unwrap();
    c.admin.app = c.admin.app.clone().with_request_log(log);
    let (org, token) = c.tenant_with_token("Acme");
    c.account("admin@acme.test", Some(&org));
    // A closed log drops (and counts) what it is given.
    c.admin.app.request_log.close();
    c.scim(&token, "GET", &format!("/scim/v2/{org}/Users"), None)
        .await
        .expect(200);
    let mut admin = c.signed_in("admin@acme.test").await;
    let page = c
        .get(&mut admin, &format!("/admin/organizations/{org}/requests"))
        .await;
    page.expect(200);
    assert!(
        page.body.contains("1 entries dropped since start"),
        "{}",
        page.body
    );
}
