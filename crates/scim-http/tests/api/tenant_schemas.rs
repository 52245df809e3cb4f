//! Organization-defined extension schemas over HTTP, on both backends (docs/schemas.md):
//! every write path validates them, filters and projections see them, `returned` holds,
//! discovery publishes them for that tenant only, removal withholds their values, and a
//! tenant without extensions pays no extra query.

use crate::helpers::{PATCH_URN, TestApp, backends, call_as};
use scim_core::ResourceKind;
use scim_http::Limits;
use scim_http::tenant_schemas::{SchemaError, SchemaPut, put_schema, remove_schema};
use serde_json::{Value, json};

const URN: &str = "urn:example:acme:2.0:User";
const GROUP_URN: &str = "urn:example:acme:2.0:Group";
const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn user_doc() -> Value {
    json!({
        "id": URN,
        "name": "AcmeUser",
        "description": "Acme's own user attributes",
        "attributes": [
            {"name": "badge", "type": "integer"},
            {"name": "costCode", "type": "string", "required": true},
            {"name": "secret", "type": "string", "returned": "never"},
            {"name": "nick", "type": "string", "returned": "request"},
            {"name": "clearance", "type": "string", "mutability": "readOnly"},
            {"name": "skills", "type": "complex", "multiValued": true, "subAttributes": [
                {"name": "value", "type": "string"}, {"name": "level", "type": "integer"}]}
        ]
    })
}

fn put(app: &TestApp, tenant: &str, doc: &Value, extends: ResourceKind, required: bool) {
    put_schema(
        app.state.store.as_ref(),
        tenant,
        &doc.to_string(),
        &SchemaPut {
            extends,
            required,
            force: false,
        },
    )
    .unwrap();
}

fn user(name: &str, ext: Value) -> Value {
    json!({"schemas": [USER_URN, URN], "userName": name, URN: ext})
}

#[actix_web::test]
async fn writes_validate_extension_attributes() {
    for backend in backends() {
        let app = TestApp::on(backend, Limits::default());
        put(&app, &app.tenant, &user_doc(), ResourceKind::User, false);
        let created = app
            .call(
                "POST",
                "/Users",
                Some(&user(
                    "ada",
                    json!({"badge": 7, "costCode": "A1", "clearance": "top",
                    "skills": [{"value": "rust", "level": 3}]}),
                )),
            )
            .await
            .expect(201);
        let id = created["id"].as_str().unwrap().to_string();
        assert_eq!(created[URN]["badge"], 7);
        assert!(
            created[URN].get("clearance").is_none(),
            "readOnly is ignored"
        );
        assert!(
            created["schemas"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == URN),
            "{created}"
        );
        // Wrong type, unknown attribute, unknown sub-attribute, missing required: 400.
        for (body, needle) in [
            (
                user("b", json!({"badge": "seven", "costCode": "A"})),
                "badge",
            ),
            (user("b", json!({"costCode": "A", "nope": 1})), "nope"),
            (
                user(
                    "b",
                    json!({"costCode": "A", "skills": [{"value": "x", "color": "red"}]}),
                ),
                "color",
            ),
            (user("b", json!({"badge": 1})), "costCode"),
        ] {
            let e = app
                .call("POST", "/Users", Some(&body))
                .await
                .expect_error(400);
            assert_eq!(e["scimType"], "invalidValue", "{e}");
            assert!(e["detail"].as_str().unwrap().contains(needle), "{e}");
        }
        // PUT: validated the same way; readOnly ignored.
        let path = format!("/Users/{id}");
        let bad = user("ada", json!({"badge": true, "costCode": "A1"}));
        app.call("PUT", &path, Some(&bad)).await.expect_error(400);
        let ok = user(
            "ada",
            json!({"badge": 8, "costCode": "B2", "clearance": "x"}),
        );
        let v = app.call("PUT", &path, Some(&ok)).await.expect(200);
        assert_eq!(v[URN], json!({"badge": 8, "costCode": "B2"}));
        // PATCH: by path, path-less, URN-qualified keys.
        let patch = |ops: Value| json!({"schemas": [PATCH_URN], "Operations": ops});
        let v = app
            .call(
                "PATCH",
                &path,
                Some(&patch(json!([
                    {"op": "replace", "path": format!("{URN}:badge"), "value": 9},
                    {"op": "add", "value": {format!("{URN}:skills"): [{"value": "go"}]}}
                ]))),
            )
            .await
            .expect(200);
        assert_eq!(v[URN]["badge"], 9);
        assert_eq!(v[URN]["skills"], json!([{"value": "go"}]));
        for (ops, scim_type) in [
            (
                json!([{"op": "replace", "path": format!("{URN}:badge"), "value": "x"}]),
                "invalidValue",
            ),
            (
                json!([{"op": "replace", "value": {URN: {"nope": 1}}}]),
                "invalidValue",
            ),
            (
                json!([{"op": "remove", "path": format!("{URN}:costCode")}]),
                "mutability",
            ),
            (
                json!([{"op": "add", "path": format!("{URN}:clearance"), "value": "x"}]),
                "mutability",
            ),
        ] {
            let e = app
                .call("PATCH", &path, Some(&patch(ops.clone())))
                .await
                .expect_error(400);
            assert_eq!(e["scimType"], scim_type, "{ops}: {e}");
        }
        // Bulk: the same validation per operation.
        let bulk = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "ok", "data": user("bulk1", json!({"costCode": "C"}))},
                {"method": "POST", "path": "/Users", "bulkId": "bad", "data": user("bulk2", json!({"costCode": "C", "badge": "x"}))},
                {"method": "PATCH", "path": path, "data": patch(json!([{"op": "replace", "path": format!("{URN}:badge"), "value": "x"}]))}
            ]
        });
        let v = app.call("POST", "/Bulk", Some(&bulk)).await.expect(200);
        let ops = v["Operations"].as_array().unwrap();
        assert_eq!(ops[0]["status"], "201", "{v}");
        assert_eq!(ops[1]["status"], "400", "{v}");
        assert_eq!(ops[2]["status"], "400", "{v}");
    }
}

#[actix_web::test]
async fn a_required_extension_is_required() {
    let app = TestApp::new().await;
    let doc = json!({"id": URN, "name": "A", "attributes": [{"name": "badge", "type": "integer"}]});
    put(&app, &app.tenant, &doc, ResourceKind::User, true);
    let e = app
        .call("POST", "/Users", Some(&json!({"userName": "a"})))
        .await
        .expect_error(400);
    assert!(
        e["detail"].as_str().unwrap().contains("required extension"),
        "{e}"
    );
    app.call("POST", "/Users", Some(&user("a", json!({"badge": 1}))))
        .await
        .expect(201);
    let rt = app
        .call("GET", "/ResourceTypes/User", None)
        .await
        .expect(200);
    let ext = rt["schemaExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["schema"] == URN)
        .cloned()
        .unwrap();
    assert_eq!(ext["required"], true);
}

#[actix_web::test]
async fn filters_projection_and_returned() {
    for backend in backends() {
        let app = TestApp::on(backend, Limits::default());
        put(&app, &app.tenant, &user_doc(), ResourceKind::User, false);
        for (name, badge) in [("a", 1), ("b", 7), ("c", 7)] {
            app.call(
                "POST",
                "/Users",
                Some(&user(
                    name,
                    json!({"badge": badge, "costCode": "X", "secret": "s3cret", "nick": "n"}),
                )),
            )
            .await
            .expect(201);
        }
        let v = list(&app, format!("{URN}:badge eq 7"), "").await;
        assert_eq!(v["totalResults"], 2, "{v}");
        let v = list(&app, "badge gt 3 and userName eq \"b\"".into(), "").await;
        assert_eq!(v["totalResults"], 1, "{v}");
        // Validated against the tenant's type: an integer compared with a string.
        let q = format!(
            "/Users?filter={}",
            urlencoding(&format!("{URN}:badge ge \"x\""))
        );
        let e = app.call("GET", &q, None).await.expect_error(400);
        assert_eq!(e["scimType"], "invalidFilter", "{e}");
        // Default projection: never and request are not returned.
        let v = list(&app, format!("{URN}:badge eq 1"), "").await;
        let r = &v["Resources"][0];
        assert_eq!(r[URN], json!({"badge": 1, "costCode": "X"}), "{r}");
        assert!(!v.to_string().contains("s3cret"));
        // attributes= names a request attribute; never stays hidden.
        let v = list(
            &app,
            format!("{URN}:badge eq 1"),
            &format!("&attributes={URN}:nick,{URN}:secret,userName"),
        )
        .await;
        let r = &v["Resources"][0];
        assert_eq!(r[URN], json!({"nick": "n"}), "{r}");
        assert_eq!(r["userName"], "a");
        assert!(r.get("emails").is_none());
        // excludedAttributes= of an extension attribute.
        let v = list(
            &app,
            format!("{URN}:badge eq 1"),
            &format!("&excludedAttributes={URN}:badge"),
        )
        .await;
        assert_eq!(v["Resources"][0][URN], json!({"costCode": "X"}));
        // The whole extension by URN: never still hidden.
        let v = list(
            &app,
            format!("{URN}:badge eq 1"),
            &format!("&attributes={URN}"),
        )
        .await;
        assert_eq!(v["Resources"][0][URN], json!({"badge": 1, "costCode": "X"}));
        // GET of one resource and a .search.
        let id = v["Resources"][0]["id"].as_str().unwrap().to_string();
        let one = app
            .call("GET", &format!("/Users/{id}"), None)
            .await
            .expect(200);
        assert!(one[URN].get("secret").is_none());
        let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": format!("{URN}:badge eq 7"), "attributes": [format!("{URN}:badge")]});
        let v = app
            .call("POST", "/Users/.search", Some(&search))
            .await
            .expect(200);
        assert_eq!(v["totalResults"], 2);
        assert_eq!(v["Resources"][0][URN], json!({"badge": 7}));
    }
}

async fn list(app: &TestApp, filter: String, extra: &str) -> Value {
    let q = format!("/Users?filter={}{extra}", urlencoding(&filter));
    app.call("GET", &q, None).await.expect(200)
}

fn urlencoding(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[actix_web::test]
async fn discovery_is_per_tenant() {
    for backend in backends() {
        let app = TestApp::on(backend, Limits::default());
        let (b, b_token) = app.other_tenant("Beta");
        put(&app, &app.tenant, &user_doc(), ResourceKind::User, false);
        let gdoc = json!({"id": GROUP_URN, "name": "AcmeGroup",
            "attributes": [{"name": "costCenter", "type": "string"}]});
        put(&app, &app.tenant, &gdoc, ResourceKind::Group, false);
        let a = (app.tenant.as_str(), app.token.as_str());
        let b = (b.as_str(), b_token.as_str());
        let schemas = call_as(&app, a, "GET", "/Schemas", None).await.expect(200);
        let ids: Vec<&str> = schemas["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&URN) && ids.contains(&GROUP_URN), "{ids:?}");
        assert_eq!(schemas["totalResults"], ids.len());
        let one = call_as(&app, a, "GET", &format!("/Schemas/{URN}"), None)
            .await
            .expect(200);
        assert_eq!(one["name"], "AcmeUser");
        assert_eq!(one["attributes"][2]["returned"], "never");
        assert_eq!(
            one["meta"]["location"],
            format!(
                "https://scim.example.com/scim/v2/{}/Schemas/{URN}",
                app.tenant
            )
        );
        let types = call_as(&app, a, "GET", "/ResourceTypes", None)
            .await
            .expect(200);
        let text = types.to_string();
        assert!(text.contains(URN) && text.contains(GROUP_URN), "{text}");
        let group = call_as(&app, a, "GET", "/ResourceTypes/Group", None)
            .await
            .expect(200);
        assert_eq!(
            group["schemaExtensions"],
            json!([{"schema": GROUP_URN, "required": false}])
        );
        // Tenant B sees none of it, and A's attributes are unknown to B.
        let schemas = call_as(&app, b, "GET", "/Schemas", None).await.expect(200);
        assert!(!schemas.to_string().contains("urn:example:acme"));
        // User, Group, Enterprise User, and the Role and Entitlement schemas (two URNs each).
        assert_eq!(schemas["totalResults"], 7);
        call_as(&app, b, "GET", &format!("/Schemas/{URN}"), None)
            .await
            .expect_error(404);
        let types = call_as(&app, b, "GET", "/ResourceTypes", None)
            .await
            .expect(200);
        assert!(!types.to_string().contains("urn:example:acme"));
        let group = call_as(&app, b, "GET", "/ResourceTypes/Group", None)
            .await
            .expect(200);
        assert!(group.get("schemaExtensions").is_none(), "{group}");
        // B's POST with A's extension: an unknown extension for B (kept as sent, not
        // validated): a wrong type is not refused there.
        call_as(
            &app,
            b,
            "POST",
            "/Users",
            Some(&user("x", json!({"badge": "not a number"}))),
        )
        .await
        .expect(201);
        call_as(
            &app,
            a,
            "POST",
            "/Users",
            Some(&user(
                "x",
                json!({"badge": "not a number", "costCode": "A"}),
            )),
        )
        .await
        .expect_error(400);
    }
}

#[actix_web::test]
async fn removal_withholds_values_and_putting_again_brings_them_back() {
    for backend in backends() {
        let app = TestApp::on(backend, Limits::default());
        put(&app, &app.tenant, &user_doc(), ResourceKind::User, false);
        let v = app
            .call(
                "POST",
                "/Users",
                Some(&user("ada", json!({"badge": 5, "costCode": "A1"}))),
            )
            .await
            .expect(201);
        let path = format!("/Users/{}", v["id"].as_str().unwrap());
        remove_schema(app.state.store.as_ref(), &app.tenant, URN).unwrap();
        let v = app.call("GET", &path, None).await.expect(200);
        assert!(v.get(URN).is_none(), "{v}");
        assert!(!v["schemas"].to_string().contains(URN), "{v}");
        let f = format!(
            "/Users?filter={}",
            urlencoding(&format!("{URN}:badge eq 5"))
        );
        assert_eq!(
            app.call("GET", &f, None).await.expect(200)["totalResults"],
            0
        );
        app.call("GET", &format!("/Schemas/{URN}"), None)
            .await
            .expect_error(404);
        // Not accepted, but not erased by a PUT either.
        let v = app
            .call(
                "PUT",
                &path,
                Some(&user("ada", json!({"badge": "whatever"}))),
            )
            .await
            .expect(200);
        assert!(v.get(URN).is_none());
        // Put again: the stored values are back.
        put(&app, &app.tenant, &user_doc(), ResourceKind::User, false);
        let v = app.call("GET", &path, None).await.expect(200);
        assert_eq!(v[URN], json!({"badge": 5, "costCode": "A1"}), "{v}");
        assert_eq!(
            app.call("GET", &f, None).await.expect(200)["totalResults"],
            1
        );
        // An incompatible change is refused unless forced.
        let mut changed = user_doc();
        changed["attributes"][0]["type"] = json!("string");
        let e = put_schema(
            app.state.store.as_ref(),
            &app.tenant,
            &changed.to_string(),
            &SchemaPut {
                extends: ResourceKind::User,
                required: false,
                force: false,
            },
        )
        .unwrap_err();
        assert!(matches!(&e, SchemaError::Invalid(_)));
        assert!(e.to_string().contains("'badge' changes type"), "{e}");
    }
}

#[actix_web::test]
async fn only_a_changed_version_reads_the_schemas() {
    let mut app = TestApp::new().await;
    let log = crate::doubles::spy(&mut app, crate::doubles::Faults::default());
    let calls = || {
        crate::doubles::take(&log)
            .into_iter()
            // Discovery also reads the tenant's entitlement types, whatever the version.
            .filter(|c| c != "record_token_use" && c != "entitlement_types")
            .collect::<Vec<_>>()
    };
    app.call("GET", "/Schemas", None).await.expect(200);
    assert_eq!(calls(), vec!["tenant"], "version 0: no extra query");
    put(&app, &app.tenant, &user_doc(), ResourceKind::User, false);
    app.call("GET", "/Schemas", None).await.expect(200);
    assert_eq!(
        calls(),
        vec!["tenant", "tenant_schemas"],
        "a new version is read once"
    );
    app.call("GET", "/Schemas", None).await.expect(200);
    assert_eq!(calls(), vec!["tenant"], "then cached");
}

#[actix_web::test]
async fn events_carry_what_a_get_returns() {
    for backend in backends() {
        let app = TestApp::on(backend, Limits::default());
        put(&app, &app.tenant, &user_doc(), ResourceKind::User, false);
        let v = app
            .call(
                "POST",
                "/Users",
                Some(&user(
                    "ev",
                    json!({"badge": 1, "costCode": "A", "secret": "s3cret"}),
                )),
            )
            .await
            .expect(201);
        let path = format!("/Users/{}", v["id"].as_str().unwrap());
        let patch = json!({"schemas": [PATCH_URN], "Operations": [
            {"op": "replace", "path": format!("{URN}:secret"), "value": "n3w"}]});
        app.call("PATCH", &path, Some(&patch)).await.expect(200);
        let events = app
            .state
            .store
            .list_events(&app.tenant, 0, 100, None)
            .unwrap();
        assert!(events.len() >= 2);
        for e in &events {
            let text = serde_json::to_string(&e.event.event.data).unwrap();
            assert!(!text.contains("s3cret") && !text.contains("n3w"), "{text}");
        }
        let created = events[0].event.event.data.as_ref().unwrap();
        assert_eq!(created[URN], json!({"badge": 1, "costCode": "A"}));
    }
}

#[actix_web::test]
async fn a_strict_tenant_knows_its_own_extension() {
    let app = TestApp::new().await;
    put(&app, &app.tenant, &user_doc(), ResourceKind::User, false);
    app.state
        .store
        .set_profile(&app.tenant, scim_core::Profile::Strict)
        .unwrap();
    // Listed in `schemas` and defined: accepted.
    app.call(
        "POST",
        "/Users",
        Some(&user("s1", json!({"costCode": "A", "badge": 2}))),
    )
    .await
    .expect(201);
    // Not listed in `schemas`: the strict profile refuses it, as for the enterprise extension.
    let unlisted = json!({"schemas": [USER_URN], "userName": "s2", URN: {"costCode": "A"}});
    let e = app
        .call("POST", "/Users", Some(&unlisted))
        .await
        .expect_error(400);
    assert_eq!(e["scimType"], "invalidSyntax", "{e}");
    // Filters on its attributes are known to the strict check.
    let q = format!(
        "/Users?filter={}",
        urlencoding(&format!("{URN}:badge eq 2"))
    );
    assert_eq!(
        app.call("GET", &q, None).await.expect(200)["totalResults"],
        1
    );
    let q = format!("/Users?filter={}", urlencoding(&format!("{URN}:nope eq 2")));
    let e = app.call("GET", &q, None).await.expect_error(400);
    assert_eq!(e["scimType"], "invalidFilter", "{e}");
    // Removed: its URN is unknown again.
    remove_schema(app.state.store.as_ref(), &app.tenant, URN).unwrap();
    let e = app
        .call(
            "POST",
            "/Users",
            Some(&user("s3", json!({"costCode": "A"}))),
        )
        .await
        .expect_error(400);
    assert_eq!(e["scimType"], "invalidSyntax", "{e}");
}
