//! What Microsoft Entra ID sends (entra-rfc.md §1): capitalised ops, string booleans,
//! filtered value paths, dotted and URN keys, bare-string manager, member removal by a
//! value array, `externalId` lookups, and the test-connection lookup.

use crate::harness::{enc, on_both};
use serde_json::json;

const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[test]
fn entra_user_provisioning() {
    on_both(|s| {
        let t = s.tenant("Contoso");
        // Test Connection: a random GUID lookup answers 200 with an empty list.
        let guid = uuid::Uuid::new_v4();
        let v = s
            .call(
                &t,
                "GET",
                &format!("/Users?filter=userName+eq+%22{guid}%22"),
                None,
            )
            .expect(200);
        assert_eq!(v["totalResults"], 0);
        assert_eq!(v["Resources"], json!([]));

        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_1@contoso.com",
            "active": "True",
            "emails": [{"primary": true, "type": "work", "value": "Test_User_1@contoso.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "Test User", "familyName": "User", "givenName": "Test"},
            "roles": [],
            "title": null
        });
        let created = s.call(&t, "POST", "/Users", Some(&body)).expect(201);
        assert_eq!(created["active"], true);
        let id = created["id"].as_str().unwrap().to_string();
        let mgr = s
            .call(
                &t,
                "POST",
                "/Users",
                Some(&json!({"userName": "boss@contoso.com", "active": true})),
            )
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string();

        // Matching by externalId (form-encoded, '+' for spaces).
        let v = s
            .call(
                &t,
                "GET",
                "/Users?filter=externalId+eq+%220a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef%22",
                None,
            )
            .expect(200);
        assert_eq!(v["totalResults"], 1);
        // Matching by work email (Entra's non-RFC filter form).
        let v = s
            .call(
                &t,
                "GET",
                &format!(
                    "/Users?filter={}",
                    enc("emails[type eq \"work\"].value eq \"Test_User_1@contoso.com\"")
                ),
                None,
            )
            .expect(200);
        assert_eq!(v["totalResults"], 1);

        // Default (2017-style) PATCH: capitalised ops, one Replace per path.
        let patch = json!({"schemas": [PATCH_URN], "Operations": [
            {"op": "Replace", "path": "displayName", "value": "Tess User"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "tess@contoso.com"},
            {"op": "Replace", "path": "name.givenName", "value": "Tess"},
            {"op": "Add", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "42"},
            {"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": mgr}
        ]});
        let v = s
            .call(&t, "PATCH", &format!("/Users/{id}"), Some(&patch))
            .expect(200);
        assert_eq!(v["displayName"], "Tess User");
        assert_eq!(v["emails"][0]["value"], "tess@contoso.com");
        assert_eq!(v["name"]["givenName"], "Tess");
        assert_eq!(v[ENTERPRISE]["employeeNumber"], "42");
        assert_eq!(v[ENTERPRISE]["manager"]["value"], mgr.as_str());

        // aadOptscim062020: path-less replace with dotted and URN keys.
        let patch = json!({"schemas": [PATCH_URN], "Operations": [
            {"op": "replace", "value": {
                "displayName": "Tessa User",
                "name.givenName": "Tessa",
                "name.familyName": "Userson",
                format!("{ENTERPRISE}:department"): "Research"
            }}
        ]});
        let v = s
            .call(&t, "PATCH", &format!("/Users/{id}"), Some(&patch))
            .expect(200);
        assert_eq!(v["name"]["givenName"], "Tessa");
        assert_eq!(v["name"]["familyName"], "Userson");
        assert_eq!(v[ENTERPRISE]["department"], "Research");

        // Disable with a string boolean, then the flagged form.
        let off = json!({"schemas": [PATCH_URN], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        assert_eq!(
            s.call(&t, "PATCH", &format!("/Users/{id}"), Some(&off))
                .expect(200)["active"],
            false
        );
        let v = s
            .call(
                &t,
                "GET",
                &format!(
                    "/Users?filter={}",
                    enc("userName eq \"test_user_1@contoso.com\"")
                ),
                None,
            )
            .expect(200);
        assert_eq!(
            v["Resources"][0]["active"], false,
            "soft-deleted users stay visible"
        );
        let on = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "active", "value": true}]});
        assert_eq!(
            s.call(&t, "PATCH", &format!("/Users/{id}"), Some(&on))
                .expect(200)["active"],
            true
        );

        // Hard delete.
        assert_eq!(
            s.call(&t, "DELETE", &format!("/Users/{id}"), None).status,
            204
        );
        s.call(&t, "GET", &format!("/Users/{id}"), None)
            .expect_error(404);
    });
}

#[test]
fn entra_group_provisioning() {
    on_both(|s| {
        let t = s.tenant("Contoso Groups");
        let mut ids = Vec::new();
        for i in 0..3 {
            let u = json!({"userName": format!("e{i}@contoso.com"), "active": "True"});
            ids.push(
                s.call(&t, "POST", "/Users", Some(&u)).expect(201)["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        let g = s
            .call(&t, "POST", "/Groups", Some(&json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "Group1DisplayName",
                "meta": {"resourceType": "Group"}
            })))
            .expect(201);
        let gid = g["id"].as_str().unwrap().to_string();
        let v = s
            .call(
                &t,
                "GET",
                &format!(
                    "/Groups?excludedAttributes=members&filter={}",
                    enc("displayName eq \"Group1DisplayName\"")
                ),
                None,
            )
            .expect(200);
        assert_eq!(v["totalResults"], 1);
        assert!(v["Resources"][0].get("members").is_none());

        let add = json!({"schemas": [PATCH_URN], "Operations": [{"op": "Add", "path": "members", "value": [
            {"$ref": null, "value": ids[0]}, {"$ref": null, "value": ids[1]}, {"$ref": null, "value": ids[2]}]}]});
        assert_eq!(
            s.call(&t, "PATCH", &format!("/Groups/{gid}"), Some(&add))
                .status,
            204
        );
        // Default member removal: path "members" with a value array removes only those.
        let remove = json!({"schemas": [PATCH_URN], "Operations": [{"op": "Remove", "path": "members", "value": [{"value": ids[0]}]}]});
        assert_eq!(
            s.call(&t, "PATCH", &format!("/Groups/{gid}"), Some(&remove))
                .status,
            204
        );
        let v = s
            .call(&t, "GET", &format!("/Groups/{gid}"), None)
            .expect(200);
        assert_eq!(v["members"].as_array().unwrap().len(), 2);
        // Flagged form.
        let remove = json!({"schemas": [PATCH_URN], "Operations": [{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[1])}]});
        assert_eq!(
            s.call(&t, "PATCH", &format!("/Groups/{gid}"), Some(&remove))
                .status,
            204
        );
        let v = s
            .call(&t, "GET", &format!("/Groups/{gid}"), None)
            .expect(200);
        assert_eq!(v["members"].as_array().unwrap().len(), 1);
        assert_eq!(v["members"][0]["value"], ids[2].as_str());
        // Rename.
        let rename = json!({"schemas": [PATCH_URN], "Operations": [{"op": "Replace", "path": "displayName", "value": "Group1 Renamed"}]});
        assert_eq!(
            s.call(&t, "PATCH", &format!("/Groups/{gid}"), Some(&rename))
                .status,
            204
        );
        // A member that is not a user of this tenant → 400.
        let bad = json!({"schemas": [PATCH_URN], "Operations": [{"op": "Add", "path": "members", "value": [{"value": "no-such-user"}]}]});
        let e = s
            .call(&t, "PATCH", &format!("/Groups/{gid}"), Some(&bad))
            .expect_error(400);
        assert_eq!(e["scimType"], "invalidValue");
        assert_eq!(
            s.call(&t, "DELETE", &format!("/Groups/{gid}"), None).status,
            204
        );
    });
}
