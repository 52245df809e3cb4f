//! The events API (`GET /admin/api/organizations/{id}/events`): the CLI's shape, paging
//! with `after` / `limit` / `next`, the empty page, type filters, and 400 for bad input.

use crate::helpers::*;
use serde_json::{Value, json};

const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// An organization with a tenant token and an operator API client.
async fn set_up(b: Backend) -> (Console, String, String, Client) {
    let c = Console::on(b);
    let (org, token) = c.tenant_with_token("Acme");
    c.account("op@example.test", None);
    let api = c.operator_api("op@example.test");
    (c, org, token, api)
}

async fn create_user(c: &Console, org: &str, token: &str, name: &str) -> String {
    let r = c
        .scim(
            token,
            "POST",
            &format!("/scim/v2/{org}/Users"),
            Some(json!({"userName": name, "externalId": format!("x-{name}"), "active": true})),
        )
        .await;
    r.expect(201);
    r.json()["id"].as_str().unwrap().to_string()
}

async fn page(c: &Console, api: &mut Client, org: &str, query: &str) -> Value {
    let r = c
        .get(
            api,
            &format!("/admin/api/organizations/{org}/events{query}"),
        )
        .await;
    r.expect(200);
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
    r.json()
}

fn cursors(v: &Value) -> Vec<String> {
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cursor"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn events_page_after_limit_and_next() {
    for b in backends() {
        events_page_after_limit_and_next_on(b).await;
    }
}

async fn events_page_after_limit_and_next_on(b: Backend) {
    let (c, org, token, mut api) = set_up(b).await;
    // Before any change: empty, next is "0" (or the given cursor), so polling never stalls.
    let empty = page(&c, &mut api, &org, "").await;
    assert_eq!(empty, json!({"events": [], "next": "0"}));
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(create_user(&c, &org, &token, &format!("user{i}")).await);
    }
    let r = c
        .scim(
            &token,
            "PATCH",
            &format!("/scim/v2/{org}/Users/{}", ids[0]),
            Some(json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": false}}]})),
        )
        .await;
    r.expect(200);
    // 5 creates + (patch, deactivate) = 7 events.
    let all = page(&c, &mut api, &org, "").await;
    assert_eq!(cursors(&all), ["1", "2", "3", "4", "5", "6", "7"]);
    assert_eq!(all["next"], "7");
    // The first event is a full-mode SET of the create, as `events list --json` prints it.
    let first = &all["events"][0]["set"];
    assert_eq!(first["iss"], format!("{PUBLIC}/scim/v2/{org}"));
    assert!(first["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert!(first["txn"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(first["iat"].is_number());
    assert_eq!(first["sub_id"]["format"], "scim");
    assert_eq!(first["sub_id"]["uri"], format!("/Users/{}", ids[0]));
    assert_eq!(first["sub_id"]["externalId"], "x-user0");
    let create = &first["events"]["urn:ietf:params:scim:event:prov:create:full"];
    assert_eq!(create["data"]["userName"], "user0");
    assert_eq!(create["version"], "W/\"1\"");
    // The PATCH's two events share the request's txn; the creates each have their own.
    let sets: Vec<&Value> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["set"])
        .collect();
    assert_eq!(sets[5]["txn"], sets[6]["txn"]);
    assert_ne!(sets[0]["txn"], sets[1]["txn"]);
    let jtis: std::collections::HashSet<&str> =
        sets.iter().map(|s| s["jti"].as_str().unwrap()).collect();
    assert_eq!(jtis.len(), 7);
    assert!(
        sets[5]["events"]
            .get("urn:ietf:params:scim:event:prov:patch:full")
            .is_some()
    );
    assert!(
        sets[6]["events"]
            .get("urn:ietf:params:scim:event:prov:deactivate")
            .is_some()
    );
    // Paging: limit 3 from the start, then on from each `next`.
    let mut seen = Vec::new();
    let mut after = "0".to_string();
    loop {
        let p = page(&c, &mut api, &org, &format!("?after={after}&limit=3")).await;
        let got = cursors(&p);
        assert!(got.len() <= 3);
        let next = p["next"].as_str().unwrap().to_string();
        if got.is_empty() {
            assert_eq!(next, after, "an empty page keeps the cursor");
            break;
        }
        assert_eq!(&next, got.last().unwrap());
        seen.extend(got);
        after = next;
    }
    assert_eq!(seen, cursors(&all));
    // The same events on every read (jti and all).
    let again = page(&c, &mut api, &org, "?after=5&limit=1000").await;
    assert_eq!(again["events"][0], all["events"][5]);
    // A type filter.
    let deact = page(&c, &mut api, &org, "?types=prov:deactivate").await;
    assert_eq!(cursors(&deact), ["7"]);
    let creates = page(&c, &mut api, &org, "?types=prov:create,feed:add&after=2").await;
    assert_eq!(cursors(&creates), ["3", "4", "5"]);
    // Past the end.
    let past = page(&c, &mut api, &org, "?after=99").await;
    assert_eq!(past, json!({"events": [], "next": "99"}));
}

#[actix_web::test]
async fn bad_events_queries_are_400_with_a_json_error() {
    for b in backends() {
        bad_events_queries_are_400_with_a_json_error_on(b).await;
    }
}

async fn bad_events_queries_are_400_with_a_json_error_on(b: Backend) {
    let (c, org, token, mut api) = set_up(b).await;
    create_user(&c, &org, &token, "ada").await;
    for q in [
        "?after=-1",
        "?after=abc",
        "?after=1.5",
        "?after=%201",
        "?after=",
        "?after=99999999999999999999",
        "?limit=0",
        "?limit=1001",
        "?limit=-5",
        "?limit=ten",
        "?limit=",
        "?types=prov:frobnicate",
        "?types=prov:create,,nope",
    ] {
        let r = c
            .get(
                &mut api,
                &format!("/admin/api/organizations/{org}/events{q}"),
            )
            .await;
        assert_eq!(r.status.as_u16(), 400, "{q}: {}", r.body);
        let v = r.json();
        assert_eq!(v["status"], 400, "{q}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{q}");
    }
    // The limits themselves are fine.
    for q in ["?limit=1", "?limit=1000", "?after=0", "?types=*"] {
        page(&c, &mut api, &org, q).await;
    }
}

#[actix_web::test]
async fn events_are_per_organization() {
    for b in backends() {
        events_are_per_organization_on(b).await;
    }
}

async fn events_are_per_organization_on(b: Backend) {
    let (c, org, token, mut api) = set_up(b).await;
    let (other, other_token) = c.tenant_with_token("Other");
    create_user(&c, &org, &token, "ada").await;
    create_user(&c, &other, &other_token, "bob").await;
    create_user(&c, &other, &other_token, "cy").await;
    // Each organization's feed has its own positions and only its own events.
    let mine = page(&c, &mut api, &org, "").await;
    assert_eq!(cursors(&mine), ["1"]);
    assert_eq!(
        mine["events"][0]["set"]["events"]["urn:ietf:params:scim:event:prov:create:full"]["data"]["userName"],
        "ada"
    );
    let theirs = page(&c, &mut api, &other, "").await;
    assert_eq!(cursors(&theirs), ["1", "2"]);
    // An organization admin reads only its own feed; the other is 404, bad input or not.
    c.account("admin@acme.test", Some(&org));
    let mut admin = c.operator_api("admin@acme.test");
    page(&c, &mut admin, &org, "").await;
    for q in ["", "?after=0", "?limit=0", "?after=x"] {
        let r = c
            .get(
                &mut admin,
                &format!("/admin/api/organizations/{other}/events{q}"),
            )
            .await;
        assert_eq!(r.status.as_u16(), 404, "{q}: {}", r.body);
        assert!(!r.body.contains("bob"));
    }
}
