//! The delivery actions against a real receiver on a loopback port, with this process's
//! delivery worker running: "Send test event", the delivery log, Redeliver, Replay from a
//! cursor, a failing receiver's state, and the Activity page's delivery state.

use crate::helpers::*;
use crate::receiver::{Receiver, verify};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const TEST_EVENT: &str = "urn:ietf:params:scim:event:misc:test";

/// Polls `check` (yielding to the runtime) until it holds, for up to 30 s.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

struct World {
    c: Console,
    org: String,
    token: String,
    api: Client,
    op: Client,
}

async fn world(b: Backend) -> (World, scim_events::WorkerHandle) {
    world_with(b, Duration::from_secs(72 * 3600)).await
}

async fn world_with(b: Backend, retry_window: Duration) -> (World, scim_events::WorkerHandle) {
    let (c, _deliverer, worker) = Console::delivering(b, retry_window).await;
    let (org, token) = c.tenant_with_token("Acme");
    c.account("op@example.test", None);
    let api = c.operator_api("op@example.test");
    let op = c.signed_in("op@example.test").await;
    (
        World {
            c,
            org,
            token,
            api,
            op,
        },
        worker,
    )
}

impl World {
    async fn user(&self, name: &str) -> String {
        let r = self
            .c
            .scim(
                &self.token,
                "POST",
                &format!("/scim/v2/{}/Users", self.org),
                Some(json!({"userName": name, "active": true})),
            )
            .await;
        r.expect(201);
        r.json()["id"].as_str().unwrap().to_string()
    }

    async fn subscribe(&mut self, url: &str, after: &str) -> (String, String) {
        let body = json!({"url": url, "after": after}).to_string();
        let r = self
            .c
            .api(&mut self.api, "POST", &hooks(&self.org), Some(&body))
            .await;
        r.expect(201);
        let v = r.json();
        (
            v["id"].as_str().unwrap().to_string(),
            v["secret"].as_str().unwrap().to_string(),
        )
    }

    async fn deliveries(&mut self, id: &str) -> Vec<Value> {
        let r = self
            .c
            .get(
                &mut self.api,
                &format!("{}/{id}/deliveries", hooks(&self.org)),
            )
            .await;
        r.expect(200);
        r.json()["deliveries"].as_array().unwrap().clone()
    }

    async fn events(&mut self) -> Vec<Value> {
        let r = self
            .c
            .get(
                &mut self.api,
                &format!("/admin/api/organizations/{}/events", self.org),
            )
            .await;
        r.expect(200);
        r.json()["events"].as_array().unwrap().clone()
    }
}

fn hooks(org: &str) -> String {
    format!("/admin/api/organizations/{org}/webhooks")
}

fn jti(claims: &Value) -> String {
    claims["jti"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn test_event_redelivery_and_replay_reach_the_receiver() {
    for b in backends() {
        test_event_redelivery_and_replay_reach_the_receiver_on(b).await;
    }
}

async fn test_event_redelivery_and_replay_reach_the_receiver_on(b: Backend) {
    let (mut w, worker) = world(b).await;
    let rx = Receiver::start();
    let (id, secret) = w.subscribe(&rx.url, "0").await;
    // Send test event (API): delivered synchronously, signed, in the delivery log.
    let r =
        w.c.api(
            &mut w.api,
            "POST",
            &format!("{}/{id}/test", hooks(&w.org)),
            None,
        )
        .await;
    r.expect(200);
    let attempt = r.json()["attempt"].clone();
    assert_eq!(attempt["outcome"], "delivered", "{attempt}");
    assert_eq!(attempt["status_code"], 202);
    assert_eq!(attempt["position"], "0");
    let pushes = rx.wait_for(1).await;
    let test = verify(&pushes[0], &secret);
    assert!(test["events"].get(TEST_EVENT).is_some(), "{test}");
    assert_eq!(test["iss"], format!("{PUBLIC}/scim/v2/{}", w.org));
    // Three changes arrive in order, signed, with the feed's jtis.
    for n in ["ada", "bob", "cy"] {
        w.user(n).await;
    }
    let pushes = rx.wait_for(4).await;
    let feed = w.events().await;
    assert_eq!(feed.len(), 3);
    let got: Vec<String> = pushes[1..4]
        .iter()
        .map(|p| jti(&verify(p, &secret)))
        .collect();
    let want: Vec<String> = feed.iter().map(|e| jti(&e["set"])).collect();
    assert_eq!(got, want);
    // The delivery log: newest first, the test event last, each delivered with 202.
    eventually("three attempts logged", || {
        w.c.store()
            .get_subscription(&w.org, &id)
            .is_ok_and(|s| s.cursor == 3)
    })
    .await;
    let log = w.deliveries(&id).await;
    // The test delivery is in the log too, as position 0 (`misc:test`).
    let positions: Vec<&str> = log
        .iter()
        .map(|a| a["position"].as_str().unwrap())
        .collect();
    assert_eq!(positions, ["3", "2", "1", "0"]);
    assert_eq!(log[3]["event_type"], "misc:test");
    assert_eq!(log[3]["redelivery"], false);
    assert_eq!(log[3]["jti"], jti(&test).as_str());
    for a in &log {
        assert_eq!(a["outcome"], "delivered", "{a}");
        assert_eq!(a["status_code"], 202);
        assert_eq!(a["attempt"], 1);
    }
    assert_eq!(log[0]["jti"], want[2].as_str());
    // The log pages by `before` (keyset): one row at a time, newest first, no repeats.
    let mut paged = Vec::new();
    let mut before = String::new();
    loop {
        let r =
            w.c.get(
                &mut w.api,
                &format!("{}/{id}/deliveries?limit=1{before}", hooks(&w.org)),
            )
            .await;
        r.expect(200);
        let v = r.json();
        let rows = v["deliveries"].as_array().unwrap().clone();
        assert!(rows.len() <= 1);
        paged.extend(rows);
        match v["next_before"].as_i64() {
            Some(n) => before = format!("&before={n}"),
            None => break,
        }
    }
    assert_eq!(paged, log);
    // The console's log shows them, with Redeliver on feed events only.
    let o = format!("/admin/organizations/{}", w.org);
    let page = w.c.get(&mut w.op, &format!("{o}/webhooks/{id}")).await;
    page.expect(200);
    assert_eq!(
        page.body.matches("/redeliver\"").count(),
        3,
        "{}",
        page.body
    );
    assert!(page.body.contains("prov:create"));
    let csrf = page.csrf();
    // Redeliver event 2 from the page: it arrives once more, the cursor stays.
    let r =
        w.c.post_form(
            &mut w.op,
            &format!("{o}/webhooks/{id}/deliveries/2/redeliver"),
            &[("csrf", &csrf)],
        )
        .await;
    r.expect(303);
    let page = w.c.get(&mut w.op, r.location().unwrap()).await;
    assert!(page.body.contains("Redelivery queued"));
    let pushes = rx.wait_for(5).await;
    assert_eq!(jti(&verify(&pushes[4], &secret)), want[1]);
    eventually("the redelivery logged", || {
        w.c.store()
            .list_deliveries(
                &w.org,
                &scim_store::DeliveryFilter {
                    subscription_id: Some(id.clone()),
                    limit: 10,
                    ..Default::default()
                },
            )
            .is_ok_and(|l| l.first().is_some_and(|a| a.redelivery))
    })
    .await;
    let log = w.deliveries(&id).await;
    assert_eq!(log[0]["position"], "2");
    assert_eq!(log[0]["redelivery"], true);
    assert_eq!(w.c.store().get_subscription(&w.org, &id).unwrap().cursor, 3);
    // Replay after cursor 1 (API): events 2 and 3 arrive again, in order.
    let r =
        w.c.api(
            &mut w.api,
            "POST",
            &format!("{}/{id}/replay", hooks(&w.org)),
            Some(r#"{"after": "1"}"#),
        )
        .await;
    r.expect(200);
    let pushes = rx.wait_for(7).await;
    let replayed: Vec<String> = pushes[5..7]
        .iter()
        .map(|p| jti(&verify(p, &secret)))
        .collect();
    assert_eq!(replayed, want[1..3]);
    // And from the page's form: from 0, all three again.
    let r =
        w.c.post_form(
            &mut w.op,
            &format!("{o}/webhooks/{id}/replay"),
            &[("csrf", &csrf), ("after", "0")],
        )
        .await;
    r.expect(303);
    let pushes = rx.wait_for(10).await;
    let again: Vec<String> = pushes[7..10]
        .iter()
        .map(|p| jti(&verify(p, &secret)))
        .collect();
    assert_eq!(again, want);
    worker.shutdown().await;
}

#[actix_web::test]
async fn a_failing_receiver_shows_on_the_pages() {
    for b in backends() {
        a_failing_receiver_shows_on_the_pages_on(b).await;
    }
}

async fn a_failing_receiver_shows_on_the_pages_on(b: Backend) {
    let (mut w, worker) = world(b).await;
    let rx = Receiver::start();
    rx.answer(500);
    let (id, secret) = w.subscribe(&rx.url, "0").await;
    let o = format!("/admin/organizations/{}", w.org);
    // Send test event from the page: the failure and its status are shown.
    let csrf =
        w.c.get(&mut w.op, &format!("{o}/webhooks/{id}"))
            .await
            .csrf();
    let r =
        w.c.post_form(
            &mut w.op,
            &format!("{o}/webhooks/{id}/test"),
            &[("csrf", &csrf)],
        )
        .await;
    r.expect(200);
    assert!(r.body.contains("Test event failed"), "{}", r.body);
    assert!(r.body.contains("HTTP 500"), "{}", r.body);
    // A change is retried and the subscription shows as failing, on the list and in Activity.
    w.user("ada").await;
    eventually("the subscription fails", || {
        w.c.store()
            .get_subscription(&w.org, &id)
            .is_ok_and(|s| s.failing_since.is_some())
    })
    .await;
    let list = w.c.get(&mut w.op, &format!("{o}/webhooks")).await;
    assert!(list.body.contains("Failing"), "{}", list.body);
    assert!(list.body.contains(">1<"), "backlog 1: {}", list.body);
    let activity = w.c.get(&mut w.op, &format!("{o}/activity")).await;
    assert!(activity.body.contains("failing"), "{}", activity.body);
    let log = w.deliveries(&id).await;
    assert!(
        log.iter()
            .any(|a| a["outcome"] == "failed" && a["status_code"] == 500)
    );
    assert!(log.iter().any(|a| !a["next_try"].is_null()));
    // The receiver recovers: the event arrives, the state is delivered.
    rx.answer(202);
    eventually("the event is delivered", || {
        w.c.store()
            .get_subscription(&w.org, &id)
            .is_ok_and(|s| s.cursor == 1 && s.failing_since.is_none())
    })
    .await;
    let last = rx.pushes().last().cloned().unwrap();
    assert!(
        verify(&last, &secret)["events"]
            .get("urn:ietf:params:scim:event:prov:create:full")
            .is_some()
    );
    let activity = w.c.get(&mut w.op, &format!("{o}/activity")).await;
    assert!(activity.body.contains("delivered"), "{}", activity.body);
    assert!(!activity.body.contains(">failing<"), "{}", activity.body);
    worker.shutdown().await;
}

#[actix_web::test]
async fn activity_shows_pending_and_no_subscribers() {
    for b in backends() {
        activity_shows_pending_and_no_subscribers_on(b).await;
    }
}

async fn activity_shows_pending_and_no_subscribers_on(b: Backend) {
    let (mut w, worker) = world(b).await;
    let o = format!("/admin/organizations/{}", w.org);
    w.user("ada").await;
    let activity = w.c.get(&mut w.op, &format!("{o}/activity")).await;
    activity.expect(200);
    assert!(
        activity.body.contains("no subscribers"),
        "{}",
        activity.body
    );
    // A subscription to a closed port stays behind: pending (until it has failed) or
    // failing, never delivered.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x", closed.local_addr().unwrap());
    drop(closed);
    let (_id, _secret) = w.subscribe(&url, "0").await;
    let activity = w.c.get(&mut w.op, &format!("{o}/activity")).await;
    assert!(!activity.body.contains("no subscribers"));
    assert!(!activity.body.contains(">delivered<"));
    assert!(
        activity.body.contains(">pending<") || activity.body.contains(">failing<"),
        "{}",
        activity.body
    );
    worker.shutdown().await;
}

#[actix_web::test]
async fn disabled_after_the_retry_window_then_re_enabled_from_the_page() {
    for b in backends() {
        disabled_after_the_retry_window_then_re_enabled_from_the_page_on(b).await;
    }
}

async fn disabled_after_the_retry_window_then_re_enabled_from_the_page_on(b: Backend) {
    let (mut w, worker) = world_with(b, Duration::from_millis(300)).await;
    let rx = Receiver::start();
    rx.answer(503);
    let (id, secret) = w.subscribe(&rx.url, "0").await;
    w.user("ada").await;
    eventually("the worker disables the subscription", || {
        w.c.store()
            .get_subscription(&w.org, &id)
            .is_ok_and(|s| !s.enabled)
    })
    .await;
    let o = format!("/admin/organizations/{}", w.org);
    let list = w.c.get(&mut w.op, &format!("{o}/webhooks")).await;
    assert!(list.body.contains("Disabled"), "{}", list.body);
    assert!(list.body.contains("failing since"), "{}", list.body);
    assert!(list.body.contains("HTTP 503"), "{}", list.body);
    let v =
        w.c.get(&mut w.api, &format!("{}/{id}", hooks(&w.org)))
            .await
            .json();
    assert_eq!(v["enabled"], false);
    assert!(
        v["disabled_reason"].as_str().unwrap().contains("HTTP 503"),
        "{v}"
    );
    // Activity: a disabled subscription is no subscriber.
    let activity = w.c.get(&mut w.op, &format!("{o}/activity")).await;
    assert!(
        activity.body.contains("no subscribers"),
        "{}",
        activity.body
    );
    // Re-enable from the edit form: delivery resumes from the cursor.
    rx.answer(202);
    let page = w.c.get(&mut w.op, &format!("{o}/webhooks/{id}")).await;
    let csrf = page.csrf();
    let r =
        w.c.post_form(
            &mut w.op,
            &format!("{o}/webhooks/{id}"),
            &[
                ("csrf", &csrf),
                ("url", &rx.url),
                ("mode", "full"),
                ("enabled", "yes"),
            ],
        )
        .await;
    r.expect(303);
    eventually("delivered after re-enabling", || {
        w.c.store()
            .get_subscription(&w.org, &id)
            .is_ok_and(|s| s.enabled && s.cursor == 1)
    })
    .await;
    let last = rx.pushes().last().cloned().unwrap();
    let claims = verify(&last, &secret);
    assert!(
        claims["events"]
            .get("urn:ietf:params:scim:event:prov:create:full")
            .is_some()
    );
    let page = w.c.get(&mut w.op, &format!("{o}/webhooks/{id}")).await;
    assert!(page.body.contains("Active"), "{}", page.body);
    worker.shutdown().await;
}
