//! Roles and entitlements over SCIM: the read-only `/Roles`, `/Entitlements` and custom
//! endpoints (paging, by id, filters, 405 on writes, tenant isolation), their discovery,
//! and the catalog check of a user's `roles` and `entitlements` on POST, PUT, PATCH and
//! Bulk, including Okta's grant as a PUT.

use crate::doubles::{Faults, spy, take};
use crate::helpers::{Backend, PATCH_URN, TestApp, backends, call_as};
use actix_web::test::TestRequest;
use scim_core::entitlements::{EntitlementKind, EntitlementValue};
use scim_http::Limits;
use scim_store::EntitlementRepo;
use serde_json::{Value, json};

const OKTA_ROLE: &str = "urn:okta:scim:schemas:core:1.0:Role";
const OKTA_ENTITLEMENT: &str = "urn:okta:scim:schemas:core:1.0:Entitlement";
const IETF_ROLE: &str = "urn:ietf:params:scim:schemas:core:2.0:Role";
const IETF_ENTITLEMENT: &str = "urn:ietf:params:scim:schemas:core:2.0:Entitlement";

fn define(app: &TestApp, kind: &str, value: &str, display: &str) -> EntitlementValue {
    app.db
        .add_entitlement_value(&app.tenant, &EntitlementKind::parse(kind), value, display)
        .unwrap()
}

fn user_body(user_name: &str, roles: Value, entitlements: Value) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": user_name, "type": "work", "primary": true}],
        "active": true,
        "roles": roles,
        "entitlements": entitlements,
    })
}

fn values_of(v: &Value, attr: &str) -> Vec<String> {
    v[attr]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["value"].as_str().map(str::to_string))
        .collect()
}

#[actix_web::test]
async fn okta_entitlement_test_pages_each_endpoint() {
    for backend in backends() {
        let app = TestApp::on(backend, Limits::default());
        let roles: Vec<_> = ["admin", "editor", "viewer"]
            .iter()
            .map(|v| define(&app, "role", v, &v.to_uppercase()))
            .collect();
        define(&app, "entitlement", "beta", "Beta features");
        // Okta's Okta-SCIM-20-Entitlements-Test: count=1&startIndex=1 on each endpoint.
        let v = app
            .call("GET", "/Roles?count=1&startIndex=1", None)
            .await
            .expect(200);
        assert_eq!(
            v["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
        );
        assert_eq!(v["itemsPerPage"], 1, "{backend:?} {v}");
        assert_eq!(v["totalResults"], 3);
        assert_eq!(v["startIndex"], 1);
        let first = &v["Resources"][0];
        assert_eq!(first["schemas"], json!([OKTA_ROLE, IETF_ROLE]));
        assert!(roles.iter().any(|r| first["id"] == r.id.as_str()));
        assert!(first["displayName"].is_string());
        assert_eq!(first["display"], first["displayName"]);
        assert_eq!(first["meta"]["resourceType"], "Role");
        let v = app
            .call("GET", "/Entitlements?count=1&startIndex=1", None)
            .await
            .expect(200);
        assert_eq!(v["itemsPerPage"], 1);
        assert_eq!(v["totalResults"], 1);
        let e = &v["Resources"][0];
        assert_eq!(e["schemas"], json!([OKTA_ENTITLEMENT, IETF_ENTITLEMENT]));
        assert_eq!(e["type"], "Entitlement");
        assert_eq!(e["displayName"], "Beta features");
        // The walk by startIndex sees each role once.
        let mut seen = Vec::new();
        for start in 1..=4 {
            let v = app
                .call("GET", &format!("/Roles?count=1&startIndex={start}"), None)
                .await
                .expect(200);
            assert_eq!(v["totalResults"], 3);
            seen.extend(values_of(&v, "Resources"));
        }
        seen.sort();
        assert_eq!(seen, ["admin", "editor", "viewer"]);
        let v = app.call("GET", "/Roles?count=0", None).await.expect(200);
        assert_eq!(
            (v["totalResults"].as_u64(), v["itemsPerPage"].as_u64()),
            (Some(3), Some(0))
        );
    }
}

#[actix_web::test]
async fn by_id_filters_and_isolation() {
    let app = TestApp::new().await;
    let admin = define(&app, "role", "admin", "Administrator");
    let beta = define(&app, "entitlement", "beta", "Beta");
    let v = app
        .call("GET", &format!("/Roles/{}", admin.id), None)
        .await
        .expect(200);
    assert_eq!(v["value"], "admin");
    assert_eq!(
        v["meta"]["location"],
        format!(
            "https://scim.example.com/scim/v2/{}/Roles/{}",
            app.tenant, admin.id
        )
    );
    // A value is found only at its own kind's endpoint.
    app.call("GET", &format!("/Entitlements/{}", admin.id), None)
        .await
        .expect_error(404);
    app.call("GET", &format!("/Roles/{}", beta.id), None)
        .await
        .expect_error(404);
    app.call("GET", "/Roles/nope", None).await.expect_error(404);
    app.call("GET", "/Roles/%00", None).await.expect_error(404);
    for (filter, n) in [
        ("value%20eq%20%22admin%22", 1),
        ("displayName%20eq%20%22Administrator%22", 1),
        (&format!("id%20eq%20%22{}%22", admin.id), 1),
        ("value%20eq%20%22ADMIN%22", 0),
    ] {
        let v = app
            .call("GET", &format!("/Roles?filter={filter}"), None)
            .await
            .expect(200);
        assert_eq!(v["totalResults"], n, "{filter}");
    }
    let v = app
        .call("GET", "/Roles?filter=userName%20eq%20%22x%22", None)
        .await
        .expect_error(400);
    assert_eq!(v["scimType"], "invalidFilter");
    let v = app
        .call("GET", "/Roles?cursor=", None)
        .await
        .expect_error(400);
    assert_eq!(v["scimType"], "invalidValue");
    // Tenant B sees none of A's values, not even by id.
    let (b, token) = app.other_tenant("Other");
    let v = call_as(&app, (&b, &token), "GET", "/Roles", None)
        .await
        .expect(200);
    assert_eq!(v["totalResults"], 0);
    call_as(
        &app,
        (&b, &token),
        "GET",
        &format!("/Roles/{}", admin.id),
        None,
    )
    .await
    .expect_error(404);
    // Without the token, nothing.
    app.send(TestRequest::get().uri(&format!("{}/Roles", app.base())))
        .await
        .expect_error(401);
}

#[actix_web::test]
async fn the_endpoints_are_read_only() {
    let app = TestApp::new().await;
    let admin = define(&app, "role", "admin", "Admin");
    app.db
        .add_entitlement_type(&app.tenant, "License", "License", "/Licenses")
        .unwrap();
    let body = json!({"value": "x", "displayName": "x"});
    for (method, path) in [
        ("POST", "/Roles".to_string()),
        ("PUT", format!("/Roles/{}", admin.id)),
        ("PATCH", format!("/Roles/{}", admin.id)),
        ("DELETE", format!("/Roles/{}", admin.id)),
        ("POST", "/Entitlements".into()),
        ("DELETE", "/Entitlements/x".into()),
        ("POST", "/Licenses".into()),
        ("DELETE", "/Licenses/x".into()),
    ] {
        let r = app.call(method, &path, Some(&body)).await;
        r.expect_error(405);
        assert_eq!(r.header("allow"), Some("GET"), "{method} {path}");
    }
    // Unknown one- and two-segment paths stay 404, whatever the method.
    for (method, path) in [
        ("GET", "/Nope"),
        ("POST", "/Nope"),
        ("GET", "/Nope/x"),
        ("PUT", "/Nope/x"),
    ] {
        app.call(method, path, Some(&body)).await.expect_error(404);
    }
    let v = app.call("GET", "/Roles", None).await.expect(200);
    assert_eq!(v["totalResults"], 1);
}

#[actix_web::test]
async fn custom_types_are_served_and_discovered_per_tenant() {
    let app = TestApp::new().await;
    app.db
        .add_entitlement_type(&app.tenant, "License", "License", "/Licenses")
        .unwrap();
    let pro = define(&app, "License", "pro", "Pro license");
    define(&app, "License", "free", "Free license");
    let v = app
        .call("GET", "/Licenses?count=1&startIndex=1", None)
        .await
        .expect(200);
    assert_eq!(v["itemsPerPage"], 1);
    assert_eq!(v["totalResults"], 2);
    let v = app
        .call("GET", &format!("/Licenses/{}", pro.id), None)
        .await
        .expect(200);
    assert_eq!(v["type"], "License");
    assert_eq!(v["schemas"][0], OKTA_ENTITLEMENT);
    assert_eq!(v["meta"]["resourceType"], "License");
    assert!(
        v["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/Licenses/{}", pro.id))
    );
    // Discovery: Role, Entitlement and this tenant's License.
    let rts = app.call("GET", "/ResourceTypes", None).await.expect(200);
    let ids: Vec<&str> = rts["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["User", "Group", "Role", "Entitlement", "License"]);
    assert_eq!(rts["totalResults"], 5);
    let lic = app
        .call("GET", "/ResourceTypes/License", None)
        .await
        .expect(200);
    assert_eq!(lic["schema"], OKTA_ENTITLEMENT);
    assert_eq!(lic["endpoint"], "/Licenses");
    let role = app
        .call("GET", "/ResourceTypes/Role", None)
        .await
        .expect(200);
    assert_eq!(role["schema"], OKTA_ROLE);
    let schemas = app.call("GET", "/Schemas", None).await.expect(200);
    let urns: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for urn in [OKTA_ROLE, OKTA_ENTITLEMENT, IETF_ROLE, IETF_ENTITLEMENT] {
        assert!(urns.contains(&urn), "{urn}");
        app.call("GET", &format!("/Schemas/{urn}"), None)
            .await
            .expect(200);
    }
    // The Entitlement schema's `type` names this tenant's types; B's does not.
    let type_values = |doc: &Value| {
        doc["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "type")
            .unwrap()["canonicalValues"]
            .clone()
    };
    let ent = app
        .call("GET", &format!("/Schemas/{OKTA_ENTITLEMENT}"), None)
        .await
        .expect(200);
    assert_eq!(type_values(&ent), json!(["Entitlement", "License"]));
    // Tenant B: no License type, no /Licenses.
    let (b, token) = app.other_tenant("Other");
    let rts = call_as(&app, (&b, &token), "GET", "/ResourceTypes", None)
        .await
        .expect(200);
    assert_eq!(rts["totalResults"], 4);
    call_as(&app, (&b, &token), "GET", "/ResourceTypes/License", None)
        .await
        .expect_error(404);
    call_as(&app, (&b, &token), "GET", "/Licenses", None)
        .await
        .expect_error(404);
    let ent = call_as(
        &app,
        (&b, &token),
        "GET",
        &format!("/Schemas/{IETF_ENTITLEMENT}"),
        None,
    )
    .await
    .expect(200);
    assert_eq!(type_values(&ent), json!(["Entitlement"]));
    call_as(
        &app,
        (&b, &token),
        "GET",
        &format!("/Licenses/{}", pro.id),
        None,
    )
    .await
    .expect_error(404);
}

#[actix_web::test]
async fn without_a_catalog_any_value_round_trips() {
    let app = TestApp::new().await;
    let body = user_body(
        "free@example.com",
        json!([{"value": "anything", "display": "Anything"}]),
        json!([{"value": "whatever", "type": "License"}]),
    );
    let v = app.call("POST", "/Users", Some(&body)).await.expect(201);
    assert_eq!(values_of(&v, "roles"), ["anything"]);
    assert_eq!(values_of(&v, "entitlements"), ["whatever"]);
    let id = v["id"].as_str().unwrap();
    let patch = json!({"schemas": [PATCH_URN], "Operations": [
        {"op": "add", "path": "roles", "value": [{"value": "more"}]}
    ]});
    let v = app
        .call("PATCH", &format!("/Users/{id}"), Some(&patch))
        .await
        .expect(200);
    assert_eq!(values_of(&v, "roles"), ["anything", "more"]);
}

/// The whole rule on both backends: POST, Okta's PUT grant, PATCH, stale values.
#[actix_web::test]
async fn roles_and_entitlements_are_checked_against_the_catalog() {
    for backend in backends() {
        check_catalog_rule(backend).await;
    }
}

async fn check_catalog_rule(backend: Backend) {
    let app = TestApp::on(backend, Limits::default());
    let admin = define(&app, "role", "admin", "Administrator");
    let viewer = define(&app, "role", "viewer", "Viewer");
    app.db
        .add_entitlement_type(&app.tenant, "License", "License", "/Licenses")
        .unwrap();
    let pro = define(&app, "License", "pro", "Pro");
    // POST: unknown role and unknown entitlement refused, naming the value.
    for (roles, ents, bad) in [
        (json!([{"value": "root"}]), json!([]), "root"),
        (
            json!([{"value": "admin"}]),
            json!([{"value": "gold"}]),
            "gold",
        ),
    ] {
        let v = app
            .call(
                "POST",
                "/Users",
                Some(&user_body("x@example.com", roles, ents)),
            )
            .await
            .expect_error(400);
        assert_eq!(v["scimType"], "invalidValue", "{backend:?}");
        assert!(
            v["detail"].as_str().unwrap().contains(&format!("'{bad}'")),
            "{v}"
        );
    }
    let none = app.call("GET", "/Users", None).await.expect(200);
    assert_eq!(none["totalResults"], 0, "nothing was written");
    let v = app
        .call(
            "POST",
            "/Users",
            Some(&user_body(
                "ada@example.com",
                json!([{"value": "admin", "display": "Administrator"}]),
                json!([{"value": "pro", "type": "License"}]),
            )),
        )
        .await
        .expect(201);
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(values_of(&v, "roles"), ["admin"]);
    // Okta's grant: PUT /Users/{id} with the full user and the role by its id.
    let mut grant = user_body(
        "ada@example.com",
        json!([{"value": "admin"}, {"value": viewer.id, "display": "Viewer"}]),
        json!([{"value": pro.id, "display": "Pro", "type": "License"}]),
    );
    grant["id"] = json!(id);
    let v = app
        .call("PUT", &format!("/Users/{id}"), Some(&grant))
        .await
        .expect(200);
    assert_eq!(values_of(&v, "roles"), ["admin", viewer.id.as_str()]);
    let got = app
        .call("GET", &format!("/Users/{id}"), None)
        .await
        .expect(200);
    assert_eq!(values_of(&got, "roles"), ["admin", viewer.id.as_str()]);
    assert_eq!(values_of(&got, "entitlements"), [pro.id.as_str()]);
    assert_eq!(got["roles"][1]["display"], "Viewer");
    // PUT with an unknown role: 400, nothing changed.
    grant["roles"] = json!([{"value": "root"}]);
    let v = app
        .call("PUT", &format!("/Users/{id}"), Some(&grant))
        .await
        .expect_error(400);
    assert_eq!(v["scimType"], "invalidValue");
    let after = app
        .call("GET", &format!("/Users/{id}"), None)
        .await
        .expect(200);
    assert_eq!(after["meta"]["version"], got["meta"]["version"]);
    // PATCH: add an unknown role refused, a known one (by value) accepted, path-less too.
    let add = |v: &str| {
        json!({"schemas": [PATCH_URN], "Operations": [
            {"op": "add", "path": "roles", "value": [{"value": v}]}
        ]})
    };
    let v = app
        .call("PATCH", &format!("/Users/{id}"), Some(&add("root")))
        .await
        .expect_error(400);
    assert!(v["detail"].as_str().unwrap().contains("'root'"));
    let pathless = json!({"schemas": [PATCH_URN], "Operations": [
        {"op": "replace", "value": {"entitlements": [{"value": "gold"}]}}
    ]});
    app.call("PATCH", &format!("/Users/{id}"), Some(&pathless))
        .await
        .expect_error(400);
    app.call(
        "PATCH",
        &format!("/Users/{id}"),
        Some(&json!({"schemas": [PATCH_URN], "Operations": [
            {"op": "replace", "path": "roles", "value": [{"value": "viewer"}]}
        ]})),
    )
    .await
    .expect(200);
    // A value removed from the catalog stays on the user and blocks nothing else.
    app.db
        .remove_entitlement_value(&app.tenant, &viewer.id)
        .unwrap();
    let off = json!({"schemas": [PATCH_URN], "Operations": [
        {"op": "replace", "path": "active", "value": false}
    ]});
    let v = app
        .call("PATCH", &format!("/Users/{id}"), Some(&off))
        .await
        .expect(200);
    assert_eq!(values_of(&v, "roles"), ["viewer"]);
    let mut keep = user_body("ada@example.com", json!([{"value": "viewer"}]), json!([]));
    keep["active"] = json!(false);
    app.call("PUT", &format!("/Users/{id}"), Some(&keep))
        .await
        .expect(200);
    // ... but it cannot be granted again.
    let other = app.user("bob@example.com").await;
    app.call("PATCH", &format!("/Users/{other}"), Some(&add("viewer")))
        .await
        .expect_error(400);
    app.call(
        "PATCH",
        &format!("/Users/{other}"),
        Some(&add(&admin.value)),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn bulk_operations_are_checked_too() {
    let app = TestApp::new().await;
    define(&app, "role", "admin", "Admin");
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a",
             "data": user_body("a@example.com", json!([{"value": "admin"}]), json!([]))},
            {"method": "POST", "path": "/Users", "bulkId": "b",
             "data": user_body("b@example.com", json!([{"value": "root"}]), json!([]))},
        ]
    });
    let v = app.call("POST", "/Bulk", Some(&body)).await.expect(200);
    let ops = v["Operations"].as_array().unwrap();
    assert_eq!(ops[0]["status"], "201", "{v}");
    assert_eq!(ops[1]["status"], "400", "{v}");
    assert_eq!(ops[1]["response"]["scimType"], "invalidValue");
}

#[actix_web::test]
async fn only_writes_that_may_grant_read_the_catalog() {
    let mut app = TestApp::new().await;
    define(&app, "role", "admin", "Admin");
    let id = app.user("spy@example.com").await;
    let calls = spy(&mut app, Faults::default());
    let call_names = |calls: &crate::doubles::Calls| -> Vec<String> {
        take(calls)
            .into_iter()
            .filter(|c| c != "record_token_use")
            .collect()
    };
    let off = json!({"schemas": [PATCH_URN], "Operations": [
        {"op": "replace", "path": "active", "value": false}
    ]});
    app.call("PATCH", &format!("/Users/{id}"), Some(&off))
        .await
        .expect(200);
    assert_eq!(call_names(&calls), ["tenant", "update User relations=true"]);
    let grant = json!({"schemas": [PATCH_URN], "Operations": [
        {"op": "add", "path": "roles", "value": [{"value": "admin"}]}
    ]});
    app.call("PATCH", &format!("/Users/{id}"), Some(&grant))
        .await
        .expect(200);
    assert_eq!(
        call_names(&calls),
        [
            "tenant",
            "entitlement_catalog",
            "update User relations=true"
        ]
    );
}

#[actix_web::test]
async fn a_strict_tenant_names_its_types_by_their_ids() {
    let app = TestApp::new().await;
    app.db
        .add_entitlement_type(&app.tenant, "License", "Software licenses", "/Licenses")
        .unwrap();
    let name_of = |rts: &Value| {
        rts["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "License")
            .map(|r| r["name"].clone())
    };
    let rts = app.call("GET", "/ResourceTypes", None).await.expect(200);
    assert_eq!(name_of(&rts), Some(json!("Software licenses")));
    scim_store::TenantRepo::set_profile(app.db.as_ref(), &app.tenant, scim_core::Profile::Strict)
        .unwrap();
    let rts = app.call("GET", "/ResourceTypes", None).await.expect(200);
    for rt in rts["Resources"].as_array().unwrap() {
        assert_eq!(rt["id"], rt["name"], "{rt}");
    }
    assert_eq!(name_of(&rts), Some(json!("License")));
}
