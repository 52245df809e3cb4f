//! What one SCIM request tells the event outbox: every event of one request shares the
//! request's `txn`, two requests never do; PATCH (both store paths: a general update and a
//! member delta) gives `prov:patch`, PUT `prov:put`.

use crate::helpers::*;
use scim_core::events::EventType;
use scim_store::EventRecord;
use serde_json::json;

fn feed(app: &TestApp) -> Vec<EventRecord> {
    app.state
        .store
        .list_events(&app.tenant, 0, 1000, None)
        .unwrap()
}

/// A PATCH of `path` with `operations`, answered `status`.
async fn patch(app: &TestApp, path: &str, operations: serde_json::Value, status: u16) {
    app.call(
        "PATCH",
        path,
        Some(&json!({"schemas": [PATCH_URN], "Operations": operations})),
    )
    .await
    .expect(status);
}

fn types(events: &[EventRecord]) -> Vec<EventType> {
    events.iter().map(|e| e.event.event.event_type).collect()
}

#[actix_web::test]
async fn one_request_one_txn_and_patch_or_put() {
    let app = TestApp::new().await;
    let ada = app.user("ada@example.test").await;
    let bob = app.user("bob@example.test").await;
    // PATCH that deactivates: prov:patch + prov:deactivate, one txn.
    let user = format!("/Users/{ada}");
    patch(
        &app,
        &user,
        json!([{"op": "replace", "value": {"active": false}}]),
        200,
    )
    .await;
    // PUT that reactivates: prov:put + prov:activate, one txn.
    app.call(
        "PUT",
        &format!("/Users/{ada}"),
        Some(&json!({"userName": "ada@example.test", "active": true})),
    )
    .await
    .expect(200);
    // A group, then one PATCH that renames it and adds two members (the member-delta path).
    let g = app
        .call("POST", "/Groups", Some(&json!({"displayName": "Staff"})))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let group = format!("/Groups/{g}");
    patch(
        &app,
        &group,
        json!([
            {"op": "replace", "path": "displayName", "value": "Staff 2"},
            {"op": "add", "path": "members", "value": [{"value": ada}, {"value": bob}]}
        ]),
        204,
    )
    .await;
    // A member-only PATCH: feed events only.
    patch(
        &app,
        &group,
        json!([{"op": "remove", "path": format!("members[value eq \"{bob}\"]")}]),
        204,
    )
    .await;
    // A general group PATCH (not split into a delta): prov:patch.
    patch(
        &app,
        &group,
        json!([{"op": "replace", "value": {"displayName": "Staff 3"}}]),
        204,
    )
    .await;
    app.call("DELETE", &format!("/Users/{bob}"), None)
        .await
        .expect(204);

    let events = feed(&app);
    use EventType::*;
    assert_eq!(
        types(&events),
        [
            Create, Create, Patch, Deactivate, Put, Activate, Create, Patch, FeedAdd, FeedAdd,
            FeedRemove, Patch, Delete
        ]
    );
    // Requests: which events each made.
    let requests: [&[usize]; 9] = [
        &[0],
        &[1],
        &[2, 3],
        &[4, 5],
        &[6],
        &[7, 8, 9],
        &[10],
        &[11],
        &[12],
    ];
    let txn = |i: usize| events[i].event.txn.clone();
    for r in requests {
        for &i in r {
            assert_eq!(txn(i), txn(r[0]), "events {r:?} are one request");
        }
    }
    let firsts: std::collections::HashSet<String> = requests.iter().map(|r| txn(r[0])).collect();
    assert_eq!(
        firsts.len(),
        requests.len(),
        "every request has its own txn"
    );
    for t in &firsts {
        assert_eq!(t.len(), 32, "a simple-form uuid: {t}");
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()), "{t}");
    }
    let jtis: std::collections::HashSet<&str> =
        events.iter().map(|e| e.event.jti.as_str()).collect();
    assert_eq!(jtis.len(), events.len());
}

#[actix_web::test]
async fn a_request_that_changes_nothing_or_fails_makes_no_event() {
    let app = TestApp::new().await;
    let ada = app.user("ada@example.test").await;
    let before = feed(&app).len();
    // A no-op PATCH, a failed PATCH, a PUT with a stale If-Match, a duplicate create.
    let user = format!("/Users/{ada}");
    patch(
        &app,
        &user,
        json!([{"op": "replace", "path": "active", "value": true}]),
        200,
    )
    .await;
    patch(
        &app,
        &user,
        json!([{"op": "replace", "path": "id", "value": "x"}]),
        400,
    )
    .await;
    let req = actix_web::test::TestRequest::put()
        .uri(&format!("{}/Users/{ada}", app.base()))
        .insert_header(("Authorization", format!("Bearer {}", app.token)))
        .insert_header(("If-Match", "W/\"99\""))
        .insert_header(("Content-Type", "application/scim+json"))
        .set_payload(json!({"userName": "ada@example.test", "active": false}).to_string());
    app.send(req).await.expect_error(412);
    app.call(
        "POST",
        "/Users",
        Some(&json!({"userName": "ada@example.test"})),
    )
    .await
    .expect_error(409);
    assert_eq!(feed(&app).len(), before);
}
