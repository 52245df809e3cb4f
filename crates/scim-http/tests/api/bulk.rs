//! `POST /Bulk` over HTTP on both backends: the RFC 7644 §3.7 examples (§3.7.1 circular
//! references, §3.7.2 bulkId, §3.7.3 the request/response example, §3.7.4 the limits),
//! forward and path references, `failOnErrors`, a reference to a failed operation, `version`
//! conflicts, tenant isolation, per-operation log rows and events, the savepoint per
//! batched create, and the rate limit's cost.

use crate::helpers::*;
use scim_http::{Limits, RateLimit};
use scim_store::{LogOperation, LogQuery};
use serde_json::{Value, json};

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn bulk(ops: Value) -> Value {
    json!({"schemas": [BULK], "Operations": ops})
}

async fn run(app: &TestApp, body: &Value) -> Vec<Value> {
    let v = app.call("POST", "/Bulk", Some(body)).await.expect(200);
    assert_eq!(
        v["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"])
    );
    v["Operations"].as_array().unwrap().clone()
}

fn statuses(ops: &[Value]) -> Vec<&str> {
    ops.iter().map(|o| o["status"].as_str().unwrap()).collect()
}

/// The id at the end of an operation's `location`.
fn id_of(op: &Value) -> String {
    op["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string()
}

async fn get(app: &TestApp, path: &str) -> Value {
    app.call("GET", path, None).await.expect(200)
}

async fn version(app: &TestApp, path: &str) -> String {
    app.call("GET", path, None)
        .await
        .header("etag")
        .unwrap()
        .to_string()
}

fn apps() -> Vec<TestApp> {
    backends()
        .into_iter()
        .map(|b| TestApp::on(b, Limits::default()))
        .collect()
}

#[actix_web::test]
async fn rfc_3_7_3_post_put_patch_delete() {
    for app in apps() {
        let bob = app.user("bob@example.test").await;
        let dave = app.user("dave@example.test").await;
        let eve = app.user("eve@example.test").await;
        let (vb, vd, ve) = (
            version(&app, &format!("/Users/{bob}")).await,
            version(&app, &format!("/Users/{dave}")).await,
            version(&app, &format!("/Users/{eve}")).await,
        );
        let ops = run(
            &app,
            &json!({"schemas": [BULK], "failOnErrors": 1, "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "qwerty",
                 "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "Alice"}},
                {"method": "PUT", "path": format!("/Users/{bob}"), "version": vb,
                 "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": bob, "userName": "Bob"}},
                {"method": "PATCH", "path": format!("/Users/{dave}"), "version": vd,
                 "data": {"schemas": [PATCH_URN], "Operations": [
                    {"op": "remove", "path": "nickName"},
                    {"op": "replace", "path": "userName", "value": "Dave"}]}},
                {"method": "DELETE", "path": format!("/Users/{eve}"), "version": ve}
            ]}),
        )
        .await;
        assert_eq!(statuses(&ops), ["201", "200", "200", "204"]);
        assert_eq!(ops[0]["bulkId"], "qwerty");
        assert_eq!(ops[0]["method"], "POST");
        let alice = id_of(&ops[0]);
        assert!(
            ops[0]["location"]
                .as_str()
                .unwrap()
                .starts_with("https://scim.example.com/scim/v2/")
        );
        assert_eq!(ops[0]["version"], "W/\"1\"");
        assert_eq!(ops[1]["version"], "W/\"2\"");
        assert_eq!(
            ops[3]["location"].as_str().unwrap().rsplit('/').next(),
            Some(eve.as_str())
        );
        assert_eq!(
            get(&app, &format!("/Users/{alice}")).await["userName"],
            "Alice"
        );
        assert_eq!(get(&app, &format!("/Users/{bob}")).await["userName"], "Bob");
        assert_eq!(
            get(&app, &format!("/Users/{dave}")).await["userName"],
            "Dave"
        );
        app.call("GET", &format!("/Users/{eve}"), None)
            .await
            .expect_error(404);
        // One log row per operation.
        let log = app
            .state
            .store
            .list_log(
                &app.tenant,
                &LogQuery {
                    limit: 4,
                    ..LogQuery::default()
                },
            )
            .unwrap();
        let rows: Vec<LogOperation> = log.iter().rev().map(|e| e.operation).collect();
        assert_eq!(
            rows,
            [
                LogOperation::Create,
                LogOperation::Update,
                LogOperation::Update,
                LogOperation::Delete
            ]
        );
        assert!(
            log.iter().all(|e| e.events.is_some()),
            "each has its events"
        );
    }
}

#[actix_web::test]
async fn rfc_3_7_2_bulk_id_references_forward_and_in_paths() {
    for app in apps() {
        // The group comes first and refers to a user created later; a PATCH addresses the
        // group by its bulkId.
        let ops = run(
            &app,
            &bulk(json!([
                {"method": "PATCH", "path": "/Groups/bulkId:ytrewq",
                 "data": {"schemas": [PATCH_URN], "Operations": [
                     {"op": "replace", "path": "displayName", "value": "Tour Guides (renamed)"}]}},
                {"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
                 "data": {"displayName": "Tour Guides",
                          "members": [{"type": "User", "value": "bulkId:qwerty"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "qwerty",
                 "data": {"userName": "Alice"}}
            ])),
        )
        .await;
        // Run dependencies first: the user, the group, then the PATCH.
        assert_eq!(statuses(&ops), ["201", "201", "200"]);
        assert_eq!(ops[0]["bulkId"], "qwerty");
        assert_eq!(ops[1]["bulkId"], "ytrewq");
        assert_eq!(ops[2]["method"], "PATCH");
        let (user, group) = (id_of(&ops[0]), id_of(&ops[1]));
        let g = get(&app, &format!("/Groups/{group}")).await;
        assert_eq!(g["displayName"], "Tour Guides (renamed)");
        assert_eq!(g["members"][0]["value"], user);
    }
}

#[actix_web::test]
async fn rfc_3_7_1_circular_references_are_resolved() {
    for app in apps() {
        let ops = run(
            &app,
            &bulk(json!([
                {"method": "POST", "path": "/Groups", "bulkId": "qwerty",
                 "data": {"displayName": "Group A",
                          "members": [{"type": "Group", "value": "bulkId:ytrewq"}]}},
                {"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
                 "data": {"displayName": "Group B",
                          "members": [{"type": "Group", "value": "bulkId:qwerty"}]}}
            ])),
        )
        .await;
        assert_eq!(statuses(&ops), ["201", "201"], "{ops:?}");
        let by = |b: &str| ops.iter().find(|o| o["bulkId"] == b).unwrap().clone();
        let (a, b) = (id_of(&by("qwerty")), id_of(&by("ytrewq")));
        let ga = get(&app, &format!("/Groups/{a}")).await;
        let gb = get(&app, &format!("/Groups/{b}")).await;
        assert_eq!(ga["members"][0]["value"], b);
        assert_eq!(gb["members"][0]["value"], a);
        // The reported version is the group's current one (after its completion).
        assert_eq!(
            by("ytrewq")["version"].as_str().unwrap(),
            version(&app, &format!("/Groups/{b}")).await
        );
    }
}

/// A cycle whose second half cannot be completed (its partner failed) is one failed
/// operation: the group created in its first half is deleted again, so nothing is left.
#[actix_web::test]
async fn a_cycle_that_cannot_complete_leaves_nothing() {
    for app in apps() {
        app.call(
            "POST",
            "/Groups",
            Some(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Taken"})),
        )
        .await
        .expect(201);
        let ops = run(
            &app,
            &bulk(json!([
                {"method": "POST", "path": "/Groups", "bulkId": "a",
                 "data": {"displayName": "taken",
                          "members": [{"type": "Group", "value": "bulkId:b"}]}},
                {"method": "POST", "path": "/Groups", "bulkId": "b",
                 "data": {"displayName": "Group B",
                          "members": [{"type": "Group", "value": "bulkId:a"}]}}
            ])),
        )
        .await;
        let by = |b: &str| ops.iter().find(|o| o["bulkId"] == b).unwrap().clone();
        // B runs first without its reference to A, then A fails (its name is taken), so
        // B's second half cannot be done.
        assert_eq!(by("a")["status"], "409", "{ops:?}");
        assert_eq!(by("b")["status"], "409", "{ops:?}");
        assert!(by("b").get("location").is_none(), "{ops:?}");
        let groups = app.call("GET", "/Groups", None).await.expect(200);
        assert_eq!(
            groups["totalResults"], 1,
            "only the group that existed: {groups}"
        );
    }
}

#[actix_web::test]
async fn unresolvable_references_fail_with_409_and_so_do_their_dependents() {
    for app in apps() {
        app.user("taken@example.test").await;
        let ops = run(
            &app,
            &bulk(json!([
                {"method": "POST", "path": "/Users", "bulkId": "dup",
                 "data": {"userName": "taken@example.test"}},
                {"method": "POST", "path": "/Groups", "bulkId": "g",
                 "data": {"displayName": "G", "members": [{"value": "bulkId:dup"}]}},
                {"method": "POST", "path": "/Groups", "bulkId": "self",
                 "data": {"displayName": "S", "members": [{"value": "bulkId:self"}]}},
                {"method": "DELETE", "path": "/Users/bulkId:nobody"}
            ])),
        )
        .await;
        assert_eq!(statuses(&ops), ["409", "409", "409", "409"]);
        assert_eq!(ops[0]["response"]["scimType"], "uniqueness");
        for o in &ops[1..] {
            assert_eq!(o["response"]["scimType"], "invalidValue", "{o}");
            assert!(o.get("location").is_none());
        }
        let groups = app.call("GET", "/Groups", None).await.expect(200);
        assert_eq!(groups["totalResults"], 0, "no partial write");
    }
}

#[actix_web::test]
async fn fail_on_errors_stops_and_leaves_the_rest_unprocessed() {
    for app in apps() {
        app.user("taken@example.test").await;
        let ops = run(
            &app,
            &json!({"schemas": [BULK], "failOnErrors": 1, "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "a@example.test"}},
                {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": "taken@example.test"}},
                {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"userName": "c@example.test"}},
                {"method": "DELETE", "path": "/Users/nope"}
            ]}),
        )
        .await;
        assert_eq!(statuses(&ops), ["201", "409"]);
        let list = app
            .call(
                "GET",
                "/Users?filter=userName%20eq%20%22c@example.test%22",
                None,
            )
            .await
            .expect(200);
        assert_eq!(list["totalResults"], 0, "c was not processed");
        // Without failOnErrors everything runs; a bad neighbour does not undo the others
        // of its batch (a savepoint each).
        let ops = run(
            &app,
            &bulk(json!([
                {"method": "POST", "path": "/Users", "bulkId": "d", "data": {"userName": "d@example.test"}},
                {"method": "POST", "path": "/Users", "bulkId": "e", "data": {"userName": "taken@example.test"}},
                {"method": "POST", "path": "/Users", "bulkId": "f", "data": {"userName": 5}},
                {"method": "POST", "path": "/Users", "bulkId": "g", "data": {"userName": "g@example.test"}},
                {"method": "DELETE", "path": "/Users/nope"}
            ])),
        )
        .await;
        assert_eq!(statuses(&ops), ["201", "409", "400", "201", "404"]);
        let users = app.call("GET", "/Users", None).await.expect(200);
        assert_eq!(users["totalResults"], 4, "taken, a, d, g");
    }
}

#[actix_web::test]
async fn a_stale_version_is_412_and_changes_nothing() {
    for app in apps() {
        let ada = app.user("ada@example.test").await;
        let ops = run(
            &app,
            &bulk(json!([
                {"method": "PUT", "path": format!("/Users/{ada}"), "version": "W/\"7\"",
                 "data": {"userName": "changed@example.test"}},
                {"method": "DELETE", "path": format!("/Users/{ada}"), "version": "W/\"7\""},
                {"method": "PATCH", "path": format!("/Users/{ada}"), "version": "W/\"1\"",
                 "data": {"schemas": [PATCH_URN], "Operations": [
                     {"op": "replace", "path": "displayName", "value": "Ada"}]}}
            ])),
        )
        .await;
        assert_eq!(statuses(&ops), ["412", "412", "200"]);
        assert_eq!(ops[2]["version"], "W/\"2\"");
        let u = get(&app, &format!("/Users/{ada}")).await;
        assert_eq!(u["userName"], "ada@example.test");
    }
}

#[actix_web::test]
async fn another_tenants_resources_are_out_of_reach() {
    for app in apps() {
        let (other, other_token) = app.other_tenant("Other");
        // A user of the other tenant, made through its own endpoint.
        let req = actix_web::test::TestRequest::post()
            .uri(&format!("/scim/v2/{other}/Users"))
            .insert_header(("Authorization", format!("Bearer {other_token}")))
            .insert_header(("Content-Type", "application/scim+json"))
            .set_payload(json!({"userName": "theirs@example.test"}).to_string());
        let theirs = app.send(req).await.expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let ops = run(
            &app,
            &bulk(json!([
                {"method": "DELETE", "path": format!("/Users/{theirs}")},
                {"method": "PUT", "path": format!("/Users/{theirs}"), "data": {"userName": "stolen"}},
                {"method": "POST", "path": "/Groups", "bulkId": "g",
                 "data": {"displayName": "G", "members": [{"value": theirs}]}}
            ])),
        )
        .await;
        assert_eq!(statuses(&ops), ["404", "404", "400"]);
        let req = actix_web::test::TestRequest::get()
            .uri(&format!("/scim/v2/{other}/Users/{theirs}"))
            .insert_header(("Authorization", format!("Bearer {other_token}")));
        let u = app.send(req).await.expect(200);
        assert_eq!(u["userName"], "theirs@example.test");
        assert_eq!(u["meta"]["version"], "W/\"1\"");
    }
}

#[actix_web::test]
async fn events_are_written_per_operation() {
    for app in apps() {
        let ops = run(
            &app,
            &bulk(json!([
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "a@example.test"}},
                {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": "b@example.test"}},
                {"method": "DELETE", "path": "/Users/bulkId:a"}
            ])),
        )
        .await;
        assert_eq!(statuses(&ops), ["201", "201", "204"]);
        let events = app
            .state
            .store
            .list_events(&app.tenant, 0, 100, None)
            .unwrap();
        let (a, b) = (id_of(&ops[0]), id_of(&ops[1]));
        for id in [&a, &b] {
            assert!(
                events.iter().any(|e| e.event.event.subject.id == *id),
                "events for {id}"
            );
        }
        let log = app
            .state
            .store
            .list_log(
                &app.tenant,
                &LogQuery {
                    limit: 10,
                    ..LogQuery::default()
                },
            )
            .unwrap();
        assert_eq!(log.len(), 3);
        assert!(log.iter().all(|e| e.events.is_some()));
    }
}

#[actix_web::test]
async fn rfc_3_7_4_limits_are_413_and_advertised() {
    let limits = Limits {
        bulk: scim_core::bulk::BulkLimits {
            max_operations: 2,
            max_payload_bytes: 4096,
        },
        ..Limits::default()
    };
    for backend in backends() {
        let app = TestApp::on(backend, limits);
        let spc = get(&app, "/ServiceProviderConfig").await;
        assert_eq!(
            spc["bulk"],
            json!({"supported": true, "maxOperations": 2, "maxPayloadSize": 4096})
        );
        let three: Vec<Value> = (0..3)
            .map(|i| {
                json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                            "data": {"userName": format!("u{i}@example.test")}})
            })
            .collect();
        app.call("POST", "/Bulk", Some(&bulk(Value::Array(three))))
            .await
            .expect_error(413);
        let big = bulk(json!([{"method": "POST", "path": "/Users", "bulkId": "b",
                               "data": {"userName": "big@example.test", "title": "x".repeat(5000)}}]));
        let e = app
            .call("POST", "/Bulk", Some(&big))
            .await
            .expect_error(413);
        assert!(
            e["detail"]
                .as_str()
                .unwrap()
                .contains("maxPayloadSize (4096)"),
            "{e}"
        );
        let users = app.call("GET", "/Users", None).await.expect(200);
        assert_eq!(users["totalResults"], 0);
        // A body larger than --max-body-bytes but within maxPayloadSize is fine on /Bulk.
        let app = TestApp::on(
            backend,
            Limits {
                max_body_bytes: 1024,
                ..limits
            },
        );
        let ok = bulk(json!([{"method": "POST", "path": "/Users", "bulkId": "b",
                              "data": {"userName": "mid@example.test", "title": "x".repeat(1000),
                                       "nickName": "y".repeat(1000)}}]));
        assert_eq!(statuses(&run(&app, &ok).await), ["201"]);
    }
}

#[actix_web::test]
async fn a_bulk_costs_one_rate_limit_token_per_operation() {
    let app = TestApp::with_limits(Limits {
        rate_limit: RateLimit::new(1, 4),
        ..Limits::default()
    })
    .await;
    let ops: Vec<Value> = (0..4)
        .map(|i| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                        "data": {"userName": format!("u{i}@example.test")}})
        })
        .collect();
    assert_eq!(
        statuses(&run(&app, &bulk(Value::Array(ops))).await).len(),
        4
    );
    app.call("GET", "/Users", None).await.expect_error(429);
}

/// The batching measurement of `docs/benchmarks.md` ("Bulk"): 1 000 users as 1 000 POSTs
/// and as one Bulk, through the in-process HTTP stack, on each backend. Run with
/// `cargo test --release -p scim-http --test api bulk_vs_posts -- --ignored --nocapture`.
#[actix_web::test]
#[ignore = "a measurement, not a check"]
async fn bulk_vs_posts_timing() {
    for backend in backends() {
        let app = TestApp::on(backend, Limits::default());
        let start = std::time::Instant::now();
        for i in 0..1000 {
            app.call(
                "POST",
                "/Users",
                Some(&json!({"userName": format!("p{i}@example.test")})),
            )
            .await
            .expect(201);
        }
        let posts = start.elapsed();
        let ops: Vec<Value> = (0..1000)
            .map(|i| {
                json!({"method": "POST", "path": "/Users", "bulkId": format!("b{i}"),
                            "data": {"userName": format!("b{i}@example.test")}})
            })
            .collect();
        let start = std::time::Instant::now();
        let done = run(&app, &bulk(Value::Array(ops))).await;
        let one = start.elapsed();
        assert!(done.iter().all(|o| o["status"] == "201"));
        eprintln!(
            "BULK {backend:?}: 1000 POSTs {:.3} s, one Bulk of 1000 {:.3} s, ratio {:.1}x",
            posts.as_secs_f64(),
            one.as_secs_f64(),
            posts.as_secs_f64() / one.as_secs_f64()
        );
    }
}

/// Each operation of a Bulk is checked as its own endpoint checks it, under the tenant's
/// profile: a strict tenant refuses a path-less PATCH and an unknown attribute inside a
/// Bulk (and writes nothing for them), a lenient one accepts the same request.
#[actix_web::test]
async fn operations_follow_the_tenants_profile() {
    use scim_core::Profile;
    for app in apps() {
        let ada = app.user("ada@example.test").await;
        let request = bulk(json!([
            {"method": "PATCH", "path": format!("/Users/{ada}"), "data": {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "value": {"active": false}}]}},
            {"method": "POST", "path": "/Users", "bulkId": "b1", "data": {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "bea@example.test", "favouriteColour": "green"}}
        ]));
        app.state
            .store
            .set_profile(&app.tenant, Profile::Strict)
            .unwrap();
        let ops = run(&app, &request).await;
        assert_eq!(statuses(&ops), ["400", "400"], "{ops:?}");
        for op in &ops {
            assert_eq!(op["response"]["scimType"], "invalidSyntax", "{op}");
        }
        assert_eq!(get(&app, &format!("/Users/{ada}")).await["active"], true);
        let found = app
            .call(
                "GET",
                "/Users?filter=userName%20eq%20%22bea@example.test%22",
                None,
            )
            .await
            .expect(200);
        assert_eq!(found["totalResults"], 0);

        app.state
            .store
            .set_profile(&app.tenant, Profile::Lenient)
            .unwrap();
        let ops = run(&app, &request).await;
        assert_eq!(statuses(&ops), ["200", "201"], "{ops:?}");
        assert_eq!(get(&app, &format!("/Users/{ada}")).await["active"], false);
    }
}
