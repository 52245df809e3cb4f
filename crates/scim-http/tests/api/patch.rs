//! PATCH: users answer 200 + resource, groups 204 (200 with a projection).

use crate::helpers::{PATCH_URN, TestApp};
use serde_json::json;

#[actix_web::test]
async fn user_patch_returns_the_resource() {
    let app = TestApp::new().await;
    let id = app.user("p@example.com").await;
    let off = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let r = app.call("PATCH", &format!("/Users/{id}"), Some(&off)).await;
    let v = r.expect(200);
    assert_eq!(v["active"], false);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    // Same change again: nothing changes, version stays.
    let r = app.call("PATCH", &format!("/Users/{id}"), Some(&off)).await;
    r.expect(200);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
}

#[actix_web::test]
async fn group_patch_is_204_unless_projected() {
    let app = TestApp::new().await;
    let u = app.user("gm@example.com").await;
    let g = app
        .call("POST", "/Groups", Some(&json!({"displayName": "PG"})))
        .await
        .expect(201);
    let gid = g["id"].as_str().unwrap().to_string();
    let add = json!({"schemas": [PATCH_URN], "Operations": [{"op": "add", "path": "members", "value": [{"value": u}]}]});
    let r = app
        .call("PATCH", &format!("/Groups/{gid}"), Some(&add))
        .await;
    assert_eq!(r.status.as_u16(), 204);
    assert!(r.body.is_empty());
    let r = app
        .call(
            "PATCH",
            &format!("/Groups/{gid}?excludedAttributes=members"),
            Some(&add),
        )
        .await;
    let v = r.expect(200);
    assert_eq!(v["displayName"], "PG");
    assert!(v.get("members").is_none());
    app.call("PATCH", "/Groups/ghost", Some(&add))
        .await
        .expect_error(404);
}

fn member_ops(ops: serde_json::Value) -> serde_json::Value {
    json!({"schemas": [PATCH_URN], "Operations": ops})
}

async fn group(app: &TestApp, name: &str) -> String {
    let g = app
        .call("POST", "/Groups", Some(&json!({"displayName": name})))
        .await
        .expect(201);
    g["id"].as_str().unwrap().to_string()
}

async fn member_ids(app: &TestApp, gid: &str) -> Vec<String> {
    let g = app
        .call("GET", &format!("/Groups/{gid}"), None)
        .await
        .expect(200);
    let mut ids: Vec<String> = g["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|v| v["value"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// The session calls, without the once-a-minute token bookkeeping.
fn calls(log: &crate::doubles::Calls) -> Vec<String> {
    crate::doubles::take(log)
        .into_iter()
        .filter(|c| c != "record_token_use")
        .collect()
}

#[actix_web::test]
async fn group_member_patch_never_loads_members_for_204() {
    let mut app = TestApp::new().await;
    let (a, b) = (
        app.user("a@example.com").await,
        app.user("b@example.com").await,
    );
    let gid = group(&app, "Delta").await;
    let log = crate::doubles::spy(&mut app, crate::doubles::Faults::default());
    let path = format!("/Groups/{gid}");

    let add = member_ops(
        json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}]),
    );
    let r = app.call("PATCH", &path, Some(&add)).await;
    assert_eq!(r.status.as_u16(), 204);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    assert_eq!(calls(&log), vec!["tenant", "change_members"]);

    // Entra's removal form and a rename in one request: still no member load.
    let remove = member_ops(json!([
        {"op": "remove", "path": format!("members[value eq \"{a}\"]")},
        {"op": "replace", "path": "displayName", "value": "Delta 2"}
    ]));
    let r = app.call("PATCH", &path, Some(&remove)).await;
    assert_eq!(r.status.as_u16(), 204);
    assert_eq!(calls(&log), vec!["tenant", "change_members"]);
    assert_eq!(member_ids(&app, &gid).await, vec![b.clone()]);
    let _ = calls(&log);

    // A projection without members: the group as changed, members not read.
    let r = app
        .call(
            "PATCH",
            &format!("{path}?attributes=displayName"),
            Some(&add),
        )
        .await;
    let v = r.expect(200);
    assert_eq!(v["displayName"], "Delta 2");
    assert!(v.get("members").is_none());
    assert_eq!(calls(&log), vec!["tenant", "change_members"]);

    // A projection with members: read back on the same session, with them.
    let r = app
        .call("PATCH", &format!("{path}?attributes=members"), Some(&add))
        .await;
    let v = r.expect(200);
    assert_eq!(v["members"].as_array().unwrap().len(), 2);
    assert_eq!(
        calls(&log),
        vec!["tenant", "change_members", "get Group relations=true"]
    );

    // A replace of the whole list is a delta too.
    let replace =
        member_ops(json!([{"op": "replace", "path": "members", "value": [{"value": a}]}]));
    let r = app.call("PATCH", &path, Some(&replace)).await;
    assert_eq!(r.status.as_u16(), 204);
    assert_eq!(calls(&log), vec!["tenant", "change_members"]);
    assert_eq!(member_ids(&app, &gid).await, vec![a.clone()]);
    let _ = calls(&log);

    // A form the split does not know: the whole group, members included, in one update.
    let odd = member_ops(json!([{"op": "remove", "path": "members[display eq \"nobody\"]"}]));
    let r = app.call("PATCH", &path, Some(&odd)).await;
    assert_eq!(r.status.as_u16(), 204);
    assert_eq!(calls(&log), vec!["tenant", "update Group relations=true"]);
    assert_eq!(member_ids(&app, &gid).await, vec![a.clone()]);

    // Users load their groups only when the response shows them.
    let off = member_ops(json!([{"op": "replace", "path": "active", "value": false}]));
    let _ = calls(&log);
    app.call(
        "PATCH",
        &format!("/Users/{a}?attributes=active"),
        Some(&off),
    )
    .await
    .expect(200);
    assert_eq!(calls(&log), vec!["tenant", "update User relations=false"]);
    app.call(
        "GET",
        &format!("/Users/{a}?excludedAttributes=groups"),
        None,
    )
    .await
    .expect(200);
    assert_eq!(calls(&log), vec!["tenant", "get User relations=false"]);
    let v = app
        .call("GET", &format!("/Users/{a}"), None)
        .await
        .expect(200);
    assert_eq!(v["groups"][0]["value"], gid.as_str());
    assert_eq!(calls(&log), vec!["tenant", "get User relations=true"]);
}

async fn with_if_match(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
    etag: &str,
) -> crate::helpers::Resp {
    let mut req = actix_web::test::TestRequest::default()
        .method(method.parse().unwrap())
        .uri(&format!("{}{path}", app.base()))
        .insert_header(("Authorization", format!("Bearer {}", app.token)))
        .insert_header(("If-Match", etag));
    if let Some(b) = body {
        req = req
            .insert_header(("Content-Type", "application/scim+json"))
            .set_payload(b.to_string());
    }
    app.send(req).await
}

#[actix_web::test]
async fn if_match_is_checked_on_every_write_path() {
    let app = TestApp::new().await;
    let u = app.user("im@example.com").await;
    let gid = group(&app, "IfMatch").await;
    let add = member_ops(json!([{"op": "add", "path": "members", "value": [{"value": u}]}]));
    let gpath = format!("/Groups/{gid}");

    // Member delta path: stale → 412 and nothing changes; current → 204.
    with_if_match(&app, "PATCH", &gpath, Some(&add), "W/\"7\"")
        .await
        .expect_error(412);
    assert!(member_ids(&app, &gid).await.is_empty());
    let r = with_if_match(&app, "PATCH", &gpath, Some(&add), "W/\"1\"").await;
    assert_eq!(r.status.as_u16(), 204);
    assert_eq!(member_ids(&app, &gid).await, vec![u.clone()]);

    // Whole-resource path (a members replace).
    let replace = member_ops(json!([{"op": "replace", "path": "members", "value": []}]));
    with_if_match(&app, "PATCH", &gpath, Some(&replace), "W/\"1\"")
        .await
        .expect_error(412);
    assert_eq!(member_ids(&app, &gid).await, vec![u.clone()]);

    // User PATCH, PUT, DELETE.
    let upath = format!("/Users/{u}");
    let off = member_ops(json!([{"op": "replace", "path": "active", "value": false}]));
    with_if_match(&app, "PATCH", &upath, Some(&off), "W/\"9\"")
        .await
        .expect_error(412);
    let put = json!({"userName": "im@example.com", "active": true});
    with_if_match(&app, "PUT", &upath, Some(&put), "W/\"9\"")
        .await
        .expect_error(412);
    with_if_match(&app, "DELETE", &upath, None, "W/\"9\"")
        .await
        .expect_error(412);
    app.call("GET", &upath, None).await.expect(200);
    let r = with_if_match(&app, "DELETE", &upath, None, "W/\"1\"").await;
    assert_eq!(r.status.as_u16(), 204);
    app.call("GET", &upath, None).await.expect_error(404);
    with_if_match(&app, "DELETE", &gpath, None, "*").await;
    app.call("GET", &gpath, None).await.expect_error(404);
}

#[actix_web::test]
async fn concurrent_member_patches_all_land() {
    let app = TestApp::new().await;
    let gid = group(&app, "Busy").await;
    let mut users = Vec::new();
    for i in 0..16 {
        users.push(app.user(&format!("c{i}@example.com")).await);
    }
    let path = format!("/Groups/{gid}");
    let requests = users.iter().map(|u| {
        let add = member_ops(json!([{"op": "add", "path": "members", "value": [{"value": u}]}]));
        let path = path.clone();
        let app = &app;
        async move { app.call("PATCH", &path, Some(&add)).await.status.as_u16() }
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");
    users.sort();
    assert_eq!(member_ids(&app, &gid).await, users);
    // And the version counted every change.
    let r = app.call("GET", &path, None).await;
    assert_eq!(r.header("etag"), Some("W/\"17\""));
}
