//! What Okta sends: Test API Configuration, the SCIM 2.0 SPEC test (okta.md §3.1), the user
//! lifecycle, Group Push and import paging.

use crate::harness::{Server, Tenant, enc, on_both};
use serde_json::{Value, json};

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn assert_list(v: &Value, total: u64, items: usize) {
    assert_eq!(v["schemas"][0], LIST_URN);
    assert_eq!(v["totalResults"], total, "{v}");
    assert_eq!(v["itemsPerPage"], items as u64, "{v}");
    assert!(v["startIndex"].is_u64());
    assert_eq!(v["Resources"].as_array().unwrap().len(), items);
}

fn okta_user(user_name: &str, given: &str, family: &str, external_id: &str) -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE],
        "userName": user_name,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": format!("{given} {family}"),
        "locale": "en-US",
        "externalId": external_id,
        "groups": [],
        "password": "1mz050nq",
        "active": true,
        ENTERPRISE: {"department": "Engineering"}
    })
}

fn find_by_user_name(s: &Server, t: &Tenant, user_name: &str) -> Value {
    let filter = enc(&format!("userName eq \"{user_name}\""));
    s.call(
        t,
        "GET",
        &format!("/Users?filter={filter}&startIndex=1&count=100"),
        None,
    )
    .expect(200)
}

#[test]
fn test_api_configuration_empty_and_non_empty() {
    on_both(|s| {
        let t = s.tenant("Acme");
        let users = s.call(&t, "GET", "/Users?startIndex=1&count=2", None);
        assert_eq!(users.header("content-type"), Some("application/scim+json"));
        assert_list(&users.expect(200), 0, 0);
        assert_list(
            &s.call(&t, "GET", "/Groups?startIndex=1&count=100", None)
                .expect(200),
            0,
            0,
        );

        for i in 0..3 {
            let u = okta_user(
                &format!("u{i}@example.com"),
                "U",
                &format!("N{i}"),
                &format!("00u{i}"),
            );
            s.call(&t, "POST", "/Users", Some(&u)).expect(201);
        }
        s.call(
            &t,
            "POST",
            "/Groups",
            Some(&json!({"displayName": "G", "members": []})),
        )
        .expect(201);
        assert_list(
            &s.call(&t, "GET", "/Users?startIndex=1&count=2", None)
                .expect(200),
            3,
            2,
        );
        assert_list(
            &s.call(&t, "GET", "/Groups?startIndex=1&count=100", None)
                .expect(200),
            1,
            1,
        );
        // A Tenant URL pasted with a trailing slash: `//Users`, `/Users/`.
        let auth = format!("Bearer {}", t.token);
        for path in [
            "//Users?startIndex=1&count=2",
            "/Users/?startIndex=1&count=2",
        ] {
            let r = s.raw("GET", &format!("{}{path}", t.base), Some(&auth), &[], None);
            assert_list(&r.expect(200), 3, 2);
        }
        // Okta's "Header" mode: the bare token.
        let bare = s.raw(
            "GET",
            &format!("{}/Users?startIndex=1&count=2", t.base),
            Some(&t.token),
            &[],
            None,
        );
        assert_list(&bare.expect(200), 3, 2);
    });
}

/// Okta SCIM 2.0 SPEC test, steps 1-12 (okta.md §3.1), with its headers.
#[test]
fn okta_spec_test() {
    on_both(|s| {
        let t = s.tenant("Spec");
        // "Create at least one user in your SCIM server before running".
        s.call(
            &t,
            "POST",
            "/Users",
            Some(&okta_user("seed@atko.com", "Seed", "User", "00useed")),
        )
        .expect(201);
        let auth = format!("Bearer {}", t.token);
        let get_headers = [
            ("Accept", "application/scim+json"),
            ("Accept-Charset", "utf-8"),
            ("Content-Type", "application/scim+json; charset=utf-8"),
            ("User-Agent", "OKTA SCIM Integration"),
        ];
        let get = |path: &str| {
            s.raw(
                "GET",
                &format!("{}{path}", t.base),
                Some(&auth),
                &get_headers,
                None,
            )
        };
        let post = |body: &Value| {
            s.raw(
                "POST",
                &format!("{}/Users", t.base),
                Some(&auth),
                &[
                    ("Content-Type", "application/json"),
                    ("Accept", "application/scim+json; charset=utf-8"),
                ],
                Some(&body.to_string()),
            )
        };
        // 1
        let v = get("/Users?count=1&startIndex=1").expect(200);
        assert_list(&v, 1, 1);
        let first = &v["Resources"][0];
        for field in ["id", "userName"] {
            assert!(!first[field].as_str().unwrap().is_empty());
        }
        assert!(first["name"]["familyName"].is_string() && first["name"]["givenName"].is_string());
        assert_eq!(first["active"], true);
        assert!(first["emails"][0]["value"].is_string());
        let isv_id = first["id"].as_str().unwrap().to_string();
        // 2
        let v = get(&format!("/Users/{isv_id}")).expect(200);
        assert_eq!(v["id"], isv_id.as_str());
        assert!(v["emails"][0]["value"].is_string());
        // 3
        let v = get(&format!(
            "/Users?filter={}",
            enc("userName eq \"abcdefgh@atko.com\"")
        ))
        .expect(200);
        assert_eq!(v["totalResults"], 0);
        assert_eq!(v["schemas"][0], LIST_URN);
        // 4
        get("/Users/010101001010101011001010101011").expect_error(404);
        // 5
        let random = format!("Runscope{}Abcdefgh123@atko.com", std::process::id());
        let v = get(&format!(
            "/Users?filter={}",
            enc(&format!("userName eq \"{random}\""))
        ))
        .expect(200);
        assert_eq!(v["totalResults"], 0);
        // 6
        let body = json!({
            "schemas": [USER_URN], "userName": random,
            "name": {"givenName": "Runscope123", "familyName": "Abcdefgh123"},
            "emails": [{"primary": true, "value": random, "type": "work"}],
            "displayName": "Runscope123 Abcdefgh123", "active": true
        });
        let created = post(&body);
        let v = created.expect(201);
        assert_eq!(v["active"], true);
        assert_eq!(v["name"]["familyName"], "Abcdefgh123");
        assert_eq!(v["name"]["givenName"], "Runscope123");
        assert!(
            v["schemas"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == USER_URN)
        );
        assert_eq!(v["userName"], random.as_str());
        let id = v["id"].as_str().unwrap().to_string();
        assert_eq!(
            created.header("location"),
            Some(format!("{}{}/Users/{id}", s.public_url, t.base).as_str())
        );
        assert_eq!(created.header("etag"), Some("W/\"1\""));
        // 7
        let v = get(&format!("/Users/{id}")).expect(200);
        assert_eq!(v["userName"], random.as_str());
        assert_eq!(v["name"]["givenName"], "Runscope123");
        // 8
        let dup = post(&body).expect_error(409);
        assert_eq!(dup["scimType"], "uniqueness");
        // 9
        let v = get(&format!(
            "/Users?filter={}",
            enc(&format!("userName eq \"{}\"", random.to_uppercase()))
        ))
        .expect(200);
        assert_eq!(v["totalResults"], 1, "userName is case-insensitive");
        // 10
        let v = get("/Groups").expect(200);
        assert!(v["Resources"].is_array());
        // 11
        let r = s.raw(
            "GET",
            &format!("{}/Users?filter={}", t.base, enc("userName eq \"x\"")),
            Some("non-token"),
            &get_headers,
            None,
        );
        r.expect_error(401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"scim\""));
        // 12
        get("/Users/00919288221112222").expect_error(404);
    });
}

#[test]
fn okta_user_lifecycle() {
    on_both(|s| {
        let t = s.tenant("Lifecycle");
        let user_name = "test.user@okta.local";
        // Assignment: lookup, then create.
        assert_eq!(find_by_user_name(s, &t, user_name)["totalResults"], 0);
        let created = s
            .call(
                &t,
                "POST",
                "/Users",
                Some(&okta_user(
                    user_name,
                    "Test",
                    "User",
                    "00ujl29u0le5T6Aj10h7",
                )),
            )
            .expect(201);
        let id = created["id"].as_str().unwrap().to_string();
        assert!(
            created.get("password").is_none(),
            "password is never returned"
        );
        assert_eq!(created["externalId"], "00ujl29u0le5T6Aj10h7");
        assert_eq!(created[ENTERPRISE]["department"], "Engineering");
        assert_eq!(created["meta"]["resourceType"], "User");
        assert_eq!(
            find_by_user_name(s, &t, "TEST.USER@okta.local")["totalResults"],
            1
        );

        // Profile update: read-modify-write PUT (echoing id and meta).
        let mut current = s.call(&t, "GET", &format!("/Users/{id}"), None).expect(200);
        current["name"]["givenName"] = json!("Tess");
        current["title"] = json!("Engineer");
        let updated = s
            .call(&t, "PUT", &format!("/Users/{id}"), Some(&current))
            .expect(200);
        assert_eq!(updated["name"]["givenName"], "Tess");
        assert_eq!(updated["title"], "Engineer");
        assert_eq!(updated["id"], id.as_str());
        assert_eq!(updated["meta"]["version"], "W/\"2\"");

        // Deactivate (path-less PATCH), still visible by id and filter.
        let deactivate = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"active": false}}]});
        let v = s
            .call(&t, "PATCH", &format!("/Users/{id}"), Some(&deactivate))
            .expect(200);
        assert_eq!(v["active"], false);
        assert_eq!(
            s.call(&t, "GET", &format!("/Users/{id}"), None).expect(200)["active"],
            false
        );
        let found = find_by_user_name(s, &t, user_name);
        assert_eq!(found["Resources"][0]["active"], false);
        let inactive = s
            .call(
                &t,
                "GET",
                &format!("/Users?filter={}", enc("active eq false")),
                None,
            )
            .expect(200);
        assert_eq!(inactive["totalResults"], 1);

        // Reactivate: same id.
        let reactivate = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"active": true}}]});
        let v = s
            .call(&t, "PATCH", &format!("/Users/{id}"), Some(&reactivate))
            .expect(200);
        assert_eq!(v["active"], true);
        assert_eq!(v["id"], id.as_str());

        // Password push (PATCH) is accepted and never echoed.
        let pw = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"password": "n3w-Secret"}}]});
        let v = s
            .call(&t, "PATCH", &format!("/Users/{id}"), Some(&pw))
            .expect(200);
        assert!(v.get("password").is_none());

        // ETags: If-None-Match current → 304; stale If-Match → 412.
        let etag = s
            .call(&t, "GET", &format!("/Users/{id}"), None)
            .header("etag")
            .unwrap()
            .to_string();
        let r = s.raw(
            "GET",
            &format!("{}/Users/{id}", t.base),
            Some(&format!("Bearer {}", t.token)),
            &[("If-None-Match", &etag)],
            None,
        );
        assert_eq!(r.status, 304);
        let r = s.raw(
            "PATCH",
            &format!("{}/Users/{id}", t.base),
            Some(&format!("Bearer {}", t.token)),
            &[
                ("If-Match", "W/\"1\""),
                ("Content-Type", "application/scim+json"),
            ],
            Some(&deactivate.to_string()),
        );
        r.expect_error(412);

        // Delete (other IdPs): 204, then 404 everywhere.
        assert_eq!(
            s.call(&t, "DELETE", &format!("/Users/{id}"), None).status,
            204
        );
        s.call(&t, "GET", &format!("/Users/{id}"), None)
            .expect_error(404);
        s.call(&t, "DELETE", &format!("/Users/{id}"), None)
            .expect_error(404);
        s.call(&t, "PATCH", &format!("/Users/{id}"), Some(&reactivate))
            .expect_error(404);
        assert_eq!(find_by_user_name(s, &t, user_name)["totalResults"], 0);
    });
}

#[test]
fn okta_group_push() {
    on_both(|s| {
        let t = s.tenant("Groups");
        let mut ids = Vec::new();
        for i in 0..3 {
            let u = okta_user(
                &format!("m{i}@okta.local"),
                "M",
                &format!("{i}"),
                &format!("00um{i}"),
            );
            ids.push(
                s.call(&t, "POST", "/Users", Some(&u)).expect(201)["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        let g = s
            .call(&t, "POST", "/Groups", Some(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2", "members": []})))
            .expect(201);
        let gid = g["id"].as_str().unwrap().to_string();
        // Okta's reconciliation rename right after create: path-less with id.
        let rename = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"id": gid, "displayName": "Test SCIMv2"}}]});
        assert_eq!(
            s.call(&t, "PATCH", &format!("/Groups/{gid}"), Some(&rename))
                .status,
            204
        );
        // displayName eq lookup.
        let filter = enc("displayName eq \"Test SCIMv2\"");
        let v = s
            .call(
                &t,
                "GET",
                &format!("/Groups?filter={filter}&startIndex=1&count=100"),
                None,
            )
            .expect(200);
        assert_eq!(v["totalResults"], 1);
        assert_eq!(v["Resources"][0]["id"], gid.as_str());
        // Add members (value + display only).
        let add = json!({"schemas": [PATCH_URN], "Operations": [{"op": "add", "path": "members", "value": [
            {"value": ids[0], "display": "m0@okta.local"}, {"value": ids[1], "display": "m1@okta.local"}, {"value": ids[2], "display": "m2@okta.local"}]}]});
        assert_eq!(
            s.call(&t, "PATCH", &format!("/Groups/{gid}"), Some(&add))
                .status,
            204
        );
        let v = s
            .call(&t, "GET", &format!("/Groups/{gid}"), None)
            .expect(200);
        assert_eq!(v["members"].as_array().unwrap().len(), 3);
        // The user sees the group.
        let u = s
            .call(&t, "GET", &format!("/Users/{}", ids[0]), None)
            .expect(200);
        assert_eq!(u["groups"][0]["value"], gid.as_str());
        // Remove one with a value filter, add nothing else.
        let remove = json!({"schemas": [PATCH_URN], "Operations": [{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[1])}]});
        assert_eq!(
            s.call(&t, "PATCH", &format!("/Groups/{gid}"), Some(&remove))
                .status,
            204
        );
        let v = s
            .call(&t, "GET", &format!("/Groups/{gid}"), None)
            .expect(200);
        let members: Vec<&str> = v["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["value"].as_str().unwrap())
            .collect();
        assert_eq!(members.len(), 2);
        assert!(!members.contains(&ids[1].as_str()));
        // excludedAttributes=members.
        let v = s
            .call(
                &t,
                "GET",
                &format!("/Groups/{gid}?excludedAttributes=members"),
                None,
            )
            .expect(200);
        assert!(v.get("members").is_none());
        // A PATCH asking for attributes gets 200 + body.
        let v = s
            .call(
                &t,
                "PATCH",
                &format!("/Groups/{gid}?attributes=displayName"),
                Some(&rename),
            )
            .expect(200);
        assert_eq!(v["displayName"], "Test SCIMv2");
        // Rename by path-less replace with id.
        let rename2 = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"id": gid, "displayName": "Renamed"}}]});
        assert_eq!(
            s.call(&t, "PATCH", &format!("/Groups/{gid}"), Some(&rename2))
                .status,
            204
        );
        assert_eq!(
            s.call(&t, "GET", &format!("/Groups/{gid}"), None)
                .expect(200)["displayName"],
            "Renamed"
        );
        // "Push now" on an emptied group: replace members [].
        let clear = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "members", "value": []}]});
        assert_eq!(
            s.call(&t, "PATCH", &format!("/Groups/{gid}"), Some(&clear))
                .status,
            204
        );
        let v = s
            .call(&t, "GET", &format!("/Groups/{gid}"), None)
            .expect(200);
        assert!(
            v.get("members")
                .is_none_or(|m| m.as_array().is_some_and(Vec::is_empty))
        );
        // Duplicate displayName → 409.
        s.call(
            &t,
            "POST",
            "/Groups",
            Some(&json!({"displayName": "Renamed"})),
        )
        .expect_error(409);
        // Delete the group: users stay.
        assert_eq!(
            s.call(&t, "DELETE", &format!("/Groups/{gid}"), None).status,
            204
        );
        s.call(&t, "GET", &format!("/Groups/{gid}"), None)
            .expect_error(404);
        s.call(&t, "GET", &format!("/Users/{}", ids[0]), None)
            .expect(200);
    });
}

#[test]
fn okta_import_paging_over_100_users() {
    on_both(|s| {
        let t = s.tenant("Import");
        let n = 230;
        for i in 0..n {
            let u = json!({"userName": format!("user{i:03}@import.test"), "name": {"givenName": "I", "familyName": format!("{i}")}, "active": i % 7 != 0});
            s.call(&t, "POST", "/Users", Some(&u)).expect(201);
        }
        let mut seen = std::collections::HashSet::new();
        let mut start = 1;
        loop {
            let v = s
                .call(
                    &t,
                    "GET",
                    &format!("/Users?startIndex={start}&count=100"),
                    None,
                )
                .expect(200);
            assert_eq!(v["totalResults"], n);
            assert_eq!(v["startIndex"], start);
            let page = v["Resources"].as_array().unwrap();
            assert_eq!(v["itemsPerPage"], page.len() as u64);
            for r in page {
                assert!(
                    seen.insert(r["id"].as_str().unwrap().to_string()),
                    "duplicate across pages"
                );
            }
            if start + 100 > n {
                break;
            }
            start += 100;
        }
        assert_eq!(seen.len() as u64, n);
        let v = s
            .call(&t, "GET", "/Users?startIndex=301&count=100", None)
            .expect(200);
        assert_list(&v, n, 0);
    });
}

/// Okta assigns many users to a pushed group at once: concurrent membership PATCHes on
/// one group must all land (optimistic concurrency with retries, no lost update).
#[test]
fn concurrent_membership_patches_all_land() {
    on_both(|s| {
        let t = s.tenant("Concurrent");
        let n = 12;
        let ids: Vec<String> = (0..n)
            .map(|i| {
                let u = json!({"userName": format!("c{i}@okta.local")});
                s.call(&t, "POST", "/Users", Some(&u)).expect(201)["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let gid = s
            .call(&t, "POST", "/Groups", Some(&json!({"displayName": "Busy"})))
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        std::thread::scope(|scope| {
            for id in &ids {
                let (t, gid) = (&t, &gid);
                scope.spawn(move || {
                    let add = json!({"schemas": [PATCH_URN], "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]});
                    let r = s.call(t, "PATCH", &format!("/Groups/{gid}"), Some(&add));
                    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
                });
            }
        });
        let v = s
            .call(&t, "GET", &format!("/Groups/{gid}"), None)
            .expect(200);
        assert_eq!(v["members"].as_array().unwrap().len(), n);
    });
}
