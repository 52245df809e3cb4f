//! Okta Identity Governance against the real binary (issue 11 §4): values and types made
//! with `scim-server entitlement …` (`--json`), Okta's discovery sequence (`/ResourceTypes`,
//! `/Schemas` for unknown extensions, then every Role and Entitlement endpoint with
//! `count=1&startIndex=1` and all pages), a role granted by PUT, removal, and tenant A's
//! roles and entitlements invisible to tenant B; on SQLite and PostgreSQL.

use crate::harness::{Server, Tenant, cli, cli_output, on_both};
use serde_json::{Value, json};

const OKTA_ROLE: &str = "urn:okta:scim:schemas:core:1.0:Role";
const OKTA_ENTITLEMENT: &str = "urn:okta:scim:schemas:core:1.0:Entitlement";
/// The schemas Okta knows without reading `/Schemas`.
const OKTA_KNOWN: [&str; 4] = [
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    OKTA_ROLE,
    OKTA_ENTITLEMENT,
];

fn json_cli(s: &Server, args: &[&str]) -> Value {
    let out = cli(&s.db.url, &s.public_url, args);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

/// Okta's sequence: the endpoints of every resource type with its Role or Entitlement
/// schema, each read with `count=1&startIndex=1` (Okta's entitlement test), then whole.
fn okta_discovery(s: &Server, t: &Tenant) -> Vec<(String, Vec<Value>)> {
    let rts = s.call(t, "GET", "/ResourceTypes", None).expect(200);
    let rts = rts["Resources"].as_array().unwrap().clone();
    for rt in &rts {
        for ext in rt["schemaExtensions"].as_array().into_iter().flatten() {
            let urn = ext["schema"].as_str().unwrap();
            if !OKTA_KNOWN.contains(&urn) {
                s.call(t, "GET", &format!("/Schemas/{urn}"), None)
                    .expect(200);
            }
        }
    }
    let mut out = Vec::new();
    for rt in rts
        .iter()
        .filter(|rt| rt["schema"] == OKTA_ROLE || rt["schema"] == OKTA_ENTITLEMENT)
    {
        let endpoint = rt["endpoint"].as_str().unwrap().to_string();
        let v = s
            .call(t, "GET", &format!("{endpoint}?count=1&startIndex=1"), None)
            .expect(200);
        assert_eq!(
            v["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
        );
        assert!(
            v["startIndex"].is_u64() && v["totalResults"].is_u64(),
            "{v}"
        );
        let total = v["totalResults"].as_u64().unwrap();
        if total > 0 {
            assert_eq!(v["itemsPerPage"], 1, "{endpoint}: {v}");
        }
        let mut all = Vec::new();
        let mut start = 1;
        while start <= total {
            let page = s
                .call(
                    t,
                    "GET",
                    &format!("{endpoint}?count=100&startIndex={start}"),
                    None,
                )
                .expect(200);
            let items = page["Resources"].as_array().unwrap().clone();
            assert!(!items.is_empty());
            start += items.len() as u64;
            all.extend(items);
        }
        out.push((endpoint, all));
    }
    out
}

#[test]
fn okta_entitlement_discovery_and_grants_through_the_cli() {
    on_both(|s| {
        let a = s.tenant("Acme");
        let b = s.tenant("Globex");
        let t = json_cli(
            s,
            &[
                "entitlement",
                "type",
                "add",
                "--tenant",
                &a.id,
                "--id",
                "License",
                "--name",
                "License",
                "--endpoint",
                "/Licenses",
                "--json",
            ],
        );
        assert_eq!(t["endpoint"], "/Licenses");
        let add = |kind: &str, value: &str, display: &str| -> Value {
            let v = json_cli(
                s,
                &[
                    "entitlement",
                    "add",
                    "--tenant",
                    &a.id,
                    "--kind",
                    kind,
                    "--value",
                    value,
                    "--display",
                    display,
                    "--json",
                ],
            );
            let mut keys: Vec<&String> = v.as_object().unwrap().keys().collect();
            keys.sort();
            assert_eq!(keys, ["display", "id", "value"], "{v}");
            assert_eq!(v["value"], value);
            assert_eq!(v["display"], display);
            v
        };
        let admin = add("role", "admin", "Administrator");
        let viewer = add("role", "viewer", "Viewer");
        add("entitlement", "beta", "Beta features");
        let pro = add("License", "pro", "Pro license");

        // Okta's discovery, as its background job runs it.
        let found = okta_discovery(s, &a);
        let endpoints: Vec<&str> = found.iter().map(|(e, _)| e.as_str()).collect();
        assert_eq!(endpoints, ["/Roles", "/Entitlements", "/Licenses"]);
        let roles = &found[0].1;
        assert_eq!(roles.len(), 2);
        assert!(
            roles
                .iter()
                .all(|r| r["schemas"][0] == OKTA_ROLE && r["displayName"].is_string())
        );
        assert_eq!(found[2].1[0]["type"], "License");
        assert_eq!(found[2].1[0]["id"], pro["id"]);
        let schemas = s.call(&a, "GET", "/Schemas", None).expect(200);
        let urns: Vec<&str> = schemas["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap())
            .collect();
        for urn in [
            OKTA_ROLE,
            OKTA_ENTITLEMENT,
            "urn:ietf:params:scim:schemas:core:2.0:Role",
            "urn:ietf:params:scim:schemas:core:2.0:Entitlement",
        ] {
            assert!(urns.contains(&urn), "{urn}");
        }

        // Okta's grant: PUT /Users/{id} with roles (by the Role's id) and entitlements.
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada@acme.test",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada@acme.test", "type": "work", "primary": true}],
            "active": true
        });
        let created = s.call(&a, "POST", "/Users", Some(&user)).expect(201);
        let uid = created["id"].as_str().unwrap();
        let mut grant = user.clone();
        grant["id"] = json!(uid);
        grant["roles"] = json!([{"value": admin["id"], "display": "Administrator"}]);
        grant["entitlements"] =
            json!([{"value": "pro", "display": "Pro license", "type": "License"}]);
        let v = s
            .call(&a, "PUT", &format!("/Users/{uid}"), Some(&grant))
            .expect(200);
        assert_eq!(v["roles"][0]["value"], admin["id"]);
        assert_eq!(v["entitlements"][0]["value"], "pro");
        grant["roles"] = json!([{"value": "root"}]);
        let e = s
            .call(&a, "PUT", &format!("/Users/{uid}"), Some(&grant))
            .expect_error(400);
        assert_eq!(e["scimType"], "invalidValue");
        assert!(e["detail"].as_str().unwrap().contains("'root'"), "{e}");

        // list (all, and by kind), remove.
        let list = json_cli(s, &["entitlement", "list", "--tenant", &a.id, "--json"]);
        assert_eq!(list["entitlements"].as_array().unwrap().len(), 4);
        let list = json_cli(
            s,
            &[
                "entitlement",
                "list",
                "--tenant",
                &a.id,
                "--kind",
                "role",
                "--json",
            ],
        );
        let values: Vec<&str> = list["entitlements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["value"].as_str().unwrap())
            .collect();
        assert_eq!(values.len(), 2);
        assert!(values.contains(&"admin") && values.contains(&"viewer"));
        let text = cli(
            &s.db.url,
            &s.public_url,
            &["entitlement", "list", "--tenant", &a.id],
        );
        assert!(
            text.contains("Administrator") && text.contains("License"),
            "{text}"
        );
        let vid = viewer["id"].as_str().unwrap();
        let removed = json_cli(
            s,
            &[
                "entitlement",
                "remove",
                "--tenant",
                &a.id,
                "--id",
                vid,
                "--json",
            ],
        );
        assert_eq!(removed["removed"]["value"], "viewer");
        s.call(&a, "GET", &format!("/Roles/{vid}"), None)
            .expect_error(404);
        let v = s.call(&a, "GET", "/Roles", None).expect(200);
        assert_eq!(v["totalResults"], 1);

        // Tenant B sees nothing of A's.
        let v = s.call(&b, "GET", "/Roles", None).expect(200);
        assert_eq!(v["totalResults"], 0);
        let v = s.call(&b, "GET", "/Entitlements", None).expect(200);
        assert_eq!(v["totalResults"], 0);
        s.call(&b, "GET", "/Licenses", None).expect_error(404);
        s.call(
            &b,
            "GET",
            &format!("/Roles/{}", admin["id"].as_str().unwrap()),
            None,
        )
        .expect_error(404);
        let rts = s.call(&b, "GET", "/ResourceTypes", None).expect(200);
        assert_eq!(rts["totalResults"], 4);
        assert!(okta_discovery(s, &b).iter().all(|(_, v)| v.is_empty()));
        let list = json_cli(s, &["entitlement", "list", "--tenant", &b.id, "--json"]);
        assert_eq!(list["entitlements"], json!([]));
        // B has no catalog: any role goes.
        let mut free = user.clone();
        free["userName"] = json!("bob@globex.test");
        free["roles"] = json!([{"value": "root"}]);
        s.call(&b, "POST", "/Users", Some(&free)).expect(201);
        // A's value cannot be removed through B.
        let out = cli_output(
            &s.db.url,
            &s.public_url,
            &[
                "entitlement",
                "remove",
                "--tenant",
                &b.id,
                "--id",
                admin["id"].as_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(2));
    });
}

#[test]
fn cli_refusals_are_one_line_and_write_nothing() {
    on_both(|s| {
        let a = s.tenant("Acme");
        let run = |args: &[&str]| {
            let out = cli_output(&s.db.url, &s.public_url, args);
            let err = String::from_utf8_lossy(&out.stderr).to_string();
            (out.status.code(), err)
        };
        let add = |tenant: &str, kind: &str, value: &str| {
            run(&[
                "entitlement",
                "add",
                "--tenant",
                tenant,
                "--kind",
                kind,
                "--value",
                value,
            ])
        };
        assert_eq!(add(&a.id, "role", "admin").0, Some(0));
        for (args, code, says) in [
            (add("nope", "role", "x"), Some(2), "no such organization"),
            (add(&a.id, "License", "x"), Some(2), "not role, entitlement"),
            (add(&a.id, "role", ""), Some(2), "value must be"),
            (add(&a.id, "role", "admin"), Some(1), "already defined"),
            (
                run(&[
                    "entitlement",
                    "type",
                    "add",
                    "--tenant",
                    &a.id,
                    "--id",
                    "Seat",
                    "--endpoint",
                    "/Users",
                ]),
                Some(2),
                "already served",
            ),
            (
                run(&["entitlement", "remove", "--tenant", &a.id, "--id", "nope"]),
                Some(2),
                "no value with id 'nope'",
            ),
        ] {
            let (got, err) = args;
            assert_eq!(got, code, "{err}");
            assert!(err.contains(says), "{says}: {err}");
            assert_eq!(err.trim().lines().count(), 1, "{err}");
        }
        // A type with values cannot be removed; once empty it can.
        assert_eq!(
            run(&[
                "entitlement",
                "type",
                "add",
                "--tenant",
                &a.id,
                "--id",
                "License"
            ])
            .0,
            Some(0)
        );
        let v = json_cli(
            s,
            &[
                "entitlement",
                "add",
                "--tenant",
                &a.id,
                "--kind",
                "license",
                "--value",
                "pro",
                "--json",
            ],
        );
        assert_eq!(v["display"], "pro", "the display defaults to the value");
        let (code, err) = run(&[
            "entitlement",
            "type",
            "remove",
            "--tenant",
            &a.id,
            "--id",
            "License",
        ]);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("remove them first"), "{err}");
        let types = json_cli(
            s,
            &["entitlement", "type", "list", "--tenant", &a.id, "--json"],
        );
        assert_eq!(types["types"][0]["endpoint"], "/Licenses");
        let vid = v["id"].as_str().unwrap();
        assert_eq!(
            run(&["entitlement", "remove", "--tenant", &a.id, "--id", vid]).0,
            Some(0)
        );
        assert_eq!(
            run(&[
                "entitlement",
                "type",
                "remove",
                "--tenant",
                &a.id,
                "--id",
                "License"
            ])
            .0,
            Some(0)
        );
        let types = json_cli(
            s,
            &["entitlement", "type", "list", "--tenant", &a.id, "--json"],
        );
        assert_eq!(types["types"], json!([]));
    });
}
