//! The per-tenant profile over HTTP, on both backends (docs/profiles.md): the strict-mode
//! table drawn from draft-zollner-scim-interop-profile-02, each request also sent to a
//! lenient tenant of the same server (so the switch is really per tenant, and one tenant's
//! profile never changes another's behaviour), the profile's positive MUSTs (discovery,
//! `count=100`, DELETE frees `userName`, 409 `uniqueness`, case rules), and a switch that
//! applies from the next request.

use crate::helpers::{PATCH_URN, TestApp, backends, call_as};
use scim_core::Profile;
use scim_http::Limits;
use serde_json::{Value, json};

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A user with two work e-mail addresses (so a `type eq "work"` filter selects two).
async fn seed_user(app: &TestApp, who: (&str, &str), user_name: &str) -> String {
    let body = json!({
        "schemas": [USER_URN],
        "userName": user_name,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [
            {"value": "a@work.example", "type": "work", "primary": true},
            {"value": "b@work.example", "type": "work"}
        ]
    });
    let v = call_as(app, who, "POST", "/Users", Some(&body))
        .await
        .expect(201);
    v["id"].as_str().unwrap().to_string()
}

fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": ops})
}

/// One row: a request a strict tenant refuses with (400, scimType), and the status a
/// lenient tenant answers the same request with. `{id}` in the path is the seeded user.
struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    strict: &'static str,
    lenient: u16,
}

fn table() -> Vec<Case> {
    let case = |name, method, path, body, strict, lenient| Case {
        name,
        method,
        path,
        body,
        strict,
        lenient,
    };
    vec![
        // PATCH: "Mandatory Use of the 'path' Attribute" (Okta's deactivation and rename).
        case(
            "patch_op_without_path",
            "PATCH",
            "/Users/{id}",
            Some(patch(
                json!([{"op": "replace", "value": {"active": false}}]),
            )),
            "invalidSyntax",
            200,
        ),
        // Entra's default mode: path-less dotted keys.
        case(
            "patch_pathless_dotted_key",
            "PATCH",
            "/Users/{id}",
            Some(patch(
                json!([{"op": "Replace", "value": {"name.givenName": "Augusta"}}]),
            )),
            "invalidSyntax",
            200,
        ),
        case(
            "patch_without_schemas",
            "PATCH",
            "/Users/{id}",
            Some(json!({"Operations": [{"op": "replace", "path": "active", "value": false}]})),
            "invalidSyntax",
            200,
        ),
        // "Attribute and Schema Handling": unknown attributes and schema URIs.
        case(
            "patch_value_with_unknown_sub_attribute",
            "PATCH",
            "/Users/{id}",
            Some(patch(
                json!([{"op": "replace", "path": "name", "value": {"givenName": "A", "nickname": "x"}}]),
            )),
            "invalidSyntax",
            200,
        ),
        case(
            "patch_value_with_unknown_extension_key",
            "PATCH",
            "/Users/{id}",
            Some(patch(
                json!([{"op": "add", "path": ENTERPRISE_URN, "value": {"costCenterX": "4130"}}]),
            )),
            "invalidSyntax",
            200,
        ),
        // Filtering constraints: a filtered path targets a sub-attribute ...
        case(
            "patch_filtered_path_without_sub_attribute",
            "PATCH",
            "/Users/{id}",
            Some(patch(
                json!([{"op": "replace", "path": "emails[value eq \"b@work.example\"]", "value": {"value": "c@work.example"}}]),
            )),
            "invalidPath",
            200,
        ),
        // ... and selects one element.
        case(
            "patch_filter_matching_two_elements",
            "PATCH",
            "/Users/{id}",
            Some(patch(
                json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "c@work.example"}]),
            )),
            "invalidFilter",
            200,
        ),
        case(
            "post_unknown_attribute",
            "POST",
            "/Users",
            Some(
                json!({"schemas": [USER_URN], "userName": "u1@example.com", "favouriteColour": "red"}),
            ),
            "invalidSyntax",
            201,
        ),
        case(
            "post_unknown_schema_uri",
            "POST",
            "/Users",
            Some(
                json!({"schemas": [USER_URN, "urn:example:params:scim:schemas:extension:acme:2.0:User"], "userName": "u2@example.com"}),
            ),
            "invalidSyntax",
            201,
        ),
        case(
            "post_unknown_extension_object",
            "POST",
            "/Users",
            Some(json!({
                "schemas": [USER_URN],
                "userName": "u3@example.com",
                "urn:example:params:scim:schemas:extension:acme:2.0:User": {"badge": "7"}
            })),
            "invalidSyntax",
            201,
        ),
        case(
            "post_extension_not_listed_in_schemas",
            "POST",
            "/Users",
            Some(json!({
                "schemas": [USER_URN],
                "userName": "u4@example.com",
                ENTERPRISE_URN: {"department": "R&D"}
            })),
            "invalidSyntax",
            201,
        ),
        case(
            "post_without_schemas",
            "POST",
            "/Users",
            Some(json!({"userName": "u5@example.com"})),
            "invalidSyntax",
            201,
        ),
        case(
            "post_unknown_sub_attribute",
            "POST",
            "/Users",
            Some(
                json!({"schemas": [USER_URN], "userName": "u6@example.com", "name": {"givenName": "A", "nickname": "x"}}),
            ),
            "invalidSyntax",
            201,
        ),
        case(
            "put_unknown_attribute",
            "PUT",
            "/Users/{id}",
            Some(
                json!({"schemas": [USER_URN], "userName": "ada@example.com", "favouriteColour": "red"}),
            ),
            "invalidSyntax",
            200,
        ),
        // "Filtering": an attribute no schema defines is invalidFilter.
        case(
            "filter_on_unknown_attribute",
            "GET",
            "/Users?filter=favouriteColour%20eq%20%22red%22",
            None,
            "invalidFilter",
            200,
        ),
    ]
}

/// Replaces `{id}` in a case's path.
fn path_of(case: &Case, id: &str) -> String {
    case.path.replace("{id}", id)
}

#[actix_web::test]
async fn strict_refuses_the_table_and_a_lenient_tenant_accepts_it() {
    for backend in backends() {
        let app = TestApp::on(backend, Limits::default());
        let strict = (app.tenant.clone(), app.token.clone());
        let (lenient_id, lenient_token) = app.other_tenant("Beta");
        let lenient = (lenient_id.as_str(), lenient_token.as_str());
        let strict = (strict.0.as_str(), strict.1.as_str());
        let t = app
            .state
            .store
            .set_profile(&app.tenant, Profile::Strict)
            .unwrap();
        assert_eq!(t.profile, Profile::Strict);
        assert_eq!(
            app.state.store.get_tenant(lenient.0).unwrap().profile,
            Profile::Lenient,
            "the default"
        );
        for case in table() {
            // A fresh user per row and tenant, so that rows do not see each other's writes.
            let sid = seed_user(&app, strict, &format!("{}@s.example", case.name)).await;
            let lid = seed_user(&app, lenient, &format!("{}@l.example", case.name)).await;
            let r = call_as(
                &app,
                strict,
                case.method,
                &path_of(&case, &sid),
                case.body.as_ref(),
            )
            .await;
            let v = r.expect_error(400);
            assert_eq!(
                v["scimType"], case.strict,
                "{backend:?} strict {}: {v}",
                case.name
            );
            let r = call_as(
                &app,
                lenient,
                case.method,
                &path_of(&case, &lid),
                case.body.as_ref(),
            )
            .await;
            assert_eq!(
                r.status.as_u16(),
                case.lenient,
                "{backend:?} lenient {}: {}",
                case.name,
                String::from_utf8_lossy(&r.body)
            );
            // Nothing the strict tenant refused was written.
            let user = call_as(&app, strict, "GET", &format!("/Users/{sid}"), None)
                .await
                .expect(200);
            assert_eq!(user["active"], true, "{}", case.name);
            assert_eq!(
                user["emails"][1]["value"], "b@work.example",
                "{}",
                case.name
            );
        }
        // The switch applies from the next request: back to lenient, Okta's deactivation
        // is accepted at once.
        let sid = seed_user(&app, strict, "switch@s.example").await;
        let okta = patch(json!([{"op": "replace", "value": {"active": false}}]));
        call_as(&app, strict, "PATCH", &format!("/Users/{sid}"), Some(&okta))
            .await
            .expect_error(400);
        app.state
            .store
            .set_profile(&app.tenant, Profile::Lenient)
            .unwrap();
        let v = call_as(&app, strict, "PATCH", &format!("/Users/{sid}"), Some(&okta))
            .await
            .expect(200);
        assert_eq!(v["active"], false, "{backend:?}");
    }
}

#[actix_web::test]
async fn strict_accepts_what_the_profile_allows() {
    for backend in backends() {
        let app = TestApp::on(backend, Limits::default());
        app.state
            .store
            .set_profile(&app.tenant, Profile::Strict)
            .unwrap();
        let me = (app.tenant.as_str(), app.token.as_str());
        let id = seed_user(&app, me, "ada@example.com").await;
        // A PATCH with a path per attribute, a filtered path ending in a sub-attribute and
        // selecting one element, and an extension attribute named by its URN.
        let body = patch(json!([
            {"op": "replace", "path": "active", "value": false},
            {"op": "replace", "path": "emails[value eq \"b@work.example\"].value", "value": "c@work.example"},
            {"op": "add", "path": "emails[type eq \"home\"].value", "value": "ada@home.example"},
            {"op": "add", "path": format!("{ENTERPRISE_URN}:department"), "value": "R&D"},
            {"op": "replace", "path": "name.givenName", "value": "Augusta"}
        ]));
        let v = call_as(&app, me, "PATCH", &format!("/Users/{id}"), Some(&body))
            .await
            .expect(200);
        assert_eq!(v["active"], false);
        assert_eq!(v["emails"][1]["value"], "c@work.example");
        assert_eq!(v["emails"][2]["value"], "ada@home.example");
        assert_eq!(v[ENTERPRISE_URN]["department"], "R&D");
        assert_eq!(v["name"]["givenName"], "Augusta");
        // A conformant POST with the enterprise extension listed in `schemas`.
        let post = json!({
            "schemas": [USER_URN, ENTERPRISE_URN],
            "userName": "grace@example.com",
            "externalId": "G-1",
            "emails": [{"value": "grace@example.com", "type": "work", "primary": true}],
            ENTERPRISE_URN: {"employeeNumber": "42", "manager": {"value": id}}
        });
        let grace = call_as(&app, me, "POST", "/Users", Some(&post))
            .await
            .expect(201);
        let gid = grace["id"].as_str().unwrap().to_string();
        // A group, with members added and removed by path.
        let group = call_as(
            &app,
            me,
            "POST",
            "/Groups",
            Some(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng"})),
        )
        .await
        .expect(201);
        let grp = group["id"].as_str().unwrap().to_string();
        let add = patch(
            json!([{"op": "add", "path": "members", "value": [{"value": id}, {"value": gid}]}]),
        );
        call_as(&app, me, "PATCH", &format!("/Groups/{grp}"), Some(&add))
            .await
            .expect(204);
        // The strict way to remove some members: `remove` on path `members` with the
        // members to remove as the value (`members[value eq ..]` names no sub-attribute,
        // which the profile prohibits).
        let remove = patch(json!([{"op": "remove", "path": "members", "value": [{"value": id}]}]));
        call_as(&app, me, "PATCH", &format!("/Groups/{grp}"), Some(&remove))
            .await
            .expect(204);
        let g = call_as(&app, me, "GET", &format!("/Groups/{grp}"), None)
            .await
            .expect(200);
        assert_eq!(g["members"][0]["value"], gid.as_str(), "{backend:?}");
        assert_eq!(
            g["members"].as_array().map(Vec::len),
            Some(1),
            "{backend:?}"
        );
        let replace =
            patch(json!([{"op": "replace", "path": "members", "value": [{"value": id}]}]));
        call_as(&app, me, "PATCH", &format!("/Groups/{grp}"), Some(&replace))
            .await
            .expect(204);
        let g = call_as(&app, me, "GET", &format!("/Groups/{grp}"), None)
            .await
            .expect(200);
        assert_eq!(g["members"][0]["value"], id.as_str(), "{backend:?}");
        assert_eq!(
            g["members"].as_array().map(Vec::len),
            Some(1),
            "{backend:?}"
        );
        // Filters with eq and and on defined attributes.
        let q = "/Users?filter=userName%20eq%20%22ada@example.com%22%20and%20active%20eq%20false";
        let list = call_as(&app, me, "GET", q, None).await.expect(200);
        assert_eq!(list["totalResults"], 1, "{backend:?}");
    }
}

#[actix_web::test]
async fn strict_discovery_claims_conformance_and_lenient_does_not() {
    for backend in backends() {
        let app = TestApp::on(backend, Limits::default());
        let (other, other_token) = app.other_tenant("Beta");
        app.state
            .store
            .set_profile(&app.tenant, Profile::Strict)
            .unwrap();
        let strict = (app.tenant.as_str(), app.token.as_str());
        let lenient = (other.as_str(), other_token.as_str());
        for (who, claim) in [(strict, true), (lenient, false)] {
            let spc = call_as(&app, who, "GET", "/ServiceProviderConfig", None)
                .await
                .expect(200);
            assert_eq!(spc["interopProfileConformant"], claim, "{backend:?}");
            // ResourceType id equals its name.
            let rts = call_as(&app, who, "GET", "/ResourceTypes", None)
                .await
                .expect(200);
            for rt in rts["Resources"].as_array().unwrap() {
                assert_eq!(rt["id"], rt["name"], "{rt}");
            }
            // canonicalValues on every `type` sub-attribute.
            let schemas = call_as(&app, who, "GET", "/Schemas", None)
                .await
                .expect(200);
            let mut types = 0;
            for s in schemas["Resources"].as_array().unwrap() {
                for a in s["attributes"].as_array().unwrap() {
                    for sub in a["subAttributes"].as_array().into_iter().flatten() {
                        if sub["name"] == "type" {
                            types += 1;
                            let canon = sub["canonicalValues"].as_array();
                            assert!(
                                canon.is_some_and(|c| !c.is_empty()),
                                "{}.type has no canonicalValues",
                                a["name"]
                            );
                        }
                    }
                }
            }
            assert!(types >= 9, "{types}");
        }
    }
}

#[actix_web::test]
async fn strict_lifecycle_paging_uniqueness_and_case() {
    for backend in backends() {
        let app = TestApp::on(backend, Limits::default());
        app.state
            .store
            .set_profile(&app.tenant, Profile::Strict)
            .unwrap();
        let me = (app.tenant.as_str(), app.token.as_str());
        let id = seed_user(&app, me, "ada@example.com").await;
        // 409 uniqueness, and userName compared case-insensitively as the filter does.
        let dup = json!({"schemas": [USER_URN], "userName": "ADA@example.com"});
        let v = call_as(&app, me, "POST", "/Users", Some(&dup))
            .await
            .expect_error(409);
        assert_eq!(v["scimType"], "uniqueness");
        let q = "/Users?filter=userName%20eq%20%22ADA@EXAMPLE.COM%22";
        let list = call_as(&app, me, "GET", q, None).await.expect(200);
        assert_eq!(list["totalResults"], 1);
        // id is case exact.
        let upper = id.to_uppercase();
        if upper != id {
            call_as(&app, me, "GET", &format!("/Users/{upper}"), None)
                .await
                .expect_error(404);
        }
        // count=100 works.
        let list = call_as(&app, me, "GET", "/Users?count=100&startIndex=1", None)
            .await
            .expect(200);
        assert_eq!(list["itemsPerPage"], 1);
        // DELETE deletes: 404 after, gone from queries, userName reusable at once.
        call_as(&app, me, "DELETE", &format!("/Users/{id}"), None)
            .await
            .expect(204);
        call_as(&app, me, "GET", &format!("/Users/{id}"), None)
            .await
            .expect_error(404);
        let q = "/Users?filter=userName%20eq%20%22ada@example.com%22";
        let list = call_as(&app, me, "GET", q, None).await.expect(200);
        assert_eq!(list["totalResults"], 0);
        let again = json!({"schemas": [USER_URN], "userName": "ada@example.com"});
        let v = call_as(&app, me, "POST", "/Users", Some(&again))
            .await
            .expect(201);
        assert_ne!(v["id"], id.as_str(), "{backend:?}");
    }
}
