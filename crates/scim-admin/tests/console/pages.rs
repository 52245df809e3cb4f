//! What the pages show after provisioning over SCIM: users (search, status, history),
//! groups (member counts, members), activity (filters, keyset paging); and malformed
//! input never producing a 5xx.

use crate::helpers::*;
use serde_json::json;

async fn set_up() -> (Console, String, String, Client) {
    let c = Console::new();
    let org = c.tenant("Acme");
    let token = scim_http::generate_token(c.store(), &org).unwrap().token;
    c.account("op@example.test", None);
    let op = c.signed_in("op@example.test").await;
    (c, org, token, op)
}

async fn user(c: &Console, org: &str, token: &str, name: &str, display: &str) -> String {
    let r = c
        .scim(
            token,
            "POST",
            &format!("/scim/v2/{org}/Users"),
            Some(json!({
                "userName": name,
                "displayName": display,
                "name": {"givenName": display, "familyName": "Tester"},
                "emails": [{"value": format!("{name}.mail@example.test"), "primary": true}],
                "active": true
            })),
        )
        .await;
    r.expect(201);
    r.json()["id"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn users_groups_and_activity_follow_provisioning() {
    let (c, org, token, mut op) = set_up().await;
    let o = format!("/admin/organizations/{org}");
    let ada = user(&c, &org, &token, "ada", "Ada <Lovelace>").await;
    let bob = user(&c, &org, &token, "bob", "Bob \"Quote\"").await;
    for i in 0..30 {
        user(&c, &org, &token, &format!("filler{i:02}"), "Filler").await;
    }
    let list = c.get(&mut op, &format!("{o}/users")).await;
    list.expect(200);
    assert!(list.body.contains("Showing 1–25 of 32"));
    assert!(list.body.contains("Ada &lt;Lovelace&gt;"), "escaped");
    assert!(!list.body.contains("<Lovelace>"));
    let page2 = c.get(&mut op, &format!("{o}/users?page=2")).await;
    assert!(page2.body.contains("Showing 26–32 of 32"));
    // Plain text search (with characters that need quoting) and a SCIM filter.
    let found = c.get(&mut op, &format!("{o}/users?q=ada")).await;
    assert!(found.body.contains("Showing 1–1 of 1"), "{}", found.body);
    let found = c
        .get(&mut op, &format!("{o}/users?q={}", enc("Bob \"Quote")))
        .await;
    assert!(found.body.contains("Showing 1–1 of 1"), "{}", found.body);
    let found = c
        .get(&mut op, &format!("{o}/users?q={}", enc("ada.mail@")))
        .await;
    assert!(found.body.contains("Showing 1–1 of 1"), "{}", found.body);
    let found = c
        .get(
            &mut op,
            &format!("{o}/users?q={}", enc("userName sw \"filler\"")),
        )
        .await;
    assert!(found.body.contains("of 30"), "{}", found.body);
    // Deactivation over SCIM shows on the user page and in Activity.
    let r = c
        .scim(
            &token,
            "PATCH",
            &format!("/scim/v2/{org}/Users/{ada}"),
            Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "value": {"active": false}}]
            })),
        )
        .await;
    r.expect(200);
    let page = c.get(&mut op, &format!("{o}/users/{ada}")).await;
    page.expect(200);
    assert!(page.body.contains("Deactivated"));
    assert!(page.body.contains("deactivate") && page.body.contains("create"));
    assert!(
        page.body.contains("&quot;userName&quot;: &quot;ada&quot;"),
        "pretty JSON"
    );
    let inactive = c
        .get(&mut op, &format!("{o}/users?q={}", enc("active eq false")))
        .await;
    assert!(inactive.body.contains("Showing 1–1 of 1"));
    // Groups with member counts.
    let r = c
        .scim(
            &token,
            "POST",
            &format!("/scim/v2/{org}/Groups"),
            Some(json!({
                "displayName": "Engineers",
                "members": [{"value": ada}, {"value": bob}]
            })),
        )
        .await;
    r.expect(201);
    let gid = r.json()["id"].as_str().unwrap().to_string();
    let groups = c.get(&mut op, &format!("{o}/groups")).await;
    groups.expect(200);
    assert!(groups.body.contains("Engineers"));
    assert!(groups.body.contains("<td>2</td>"), "{}", groups.body);
    let group = c.get(&mut op, &format!("{o}/groups/{gid}")).await;
    group.expect(200);
    assert!(group.body.contains("Members (2)"));
    assert!(group.body.contains(&format!("{o}/users/{ada}")));
    // Activity: newest first, filters, keyset paging (more than one page of entries).
    for i in 0..20 {
        user(&c, &org, &token, &format!("late{i:02}"), "Late").await;
    }
    let act = c.get(&mut op, &format!("{o}/activity")).await;
    act.expect(200);
    let first_deact = act.body.find("deactivate").unwrap();
    let first_create = act.body.find(">create<").unwrap();
    assert!(
        first_deact < act.body.find("group-membership").unwrap_or(usize::MAX)
            || first_deact < first_create
    );
    assert!(act.body.contains("Older entries"));
    let deact = c
        .get(
            &mut op,
            &format!("{o}/activity?operation=deactivate&kind=User"),
        )
        .await;
    assert_eq!(deact.body.matches("badge off\">deactivate<").count(), 1);
    assert!(!deact.body.contains("badge ok\">create<"));
    let groups_only = c.get(&mut op, &format!("{o}/activity?kind=Group")).await;
    assert!(groups_only.body.contains("Group "));
    assert!(!groups_only.body.contains("User "));
    let older = act
        .body
        .split("before=")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let next = c
        .get(&mut op, &format!("{o}/activity?before={older}"))
        .await;
    next.expect(200);
    assert!(next.body.contains("badge ok\">create<"));
    assert!(next.body.contains("filler00"));
    assert!(!next.body.contains("late19"));
    // The API reads the same data.
    let mut api = Client {
        bearer: Some(c.api_token("op@example.test")),
        ..Client::default()
    };
    let users = c
        .get(
            &mut api,
            &format!("/admin/api/organizations/{org}/users?q=ada"),
        )
        .await
        .json();
    assert_eq!(users["totalResults"], 1);
    assert_eq!(users["resources"][0]["active"], false);
    let log = c
        .get(
            &mut api,
            &format!("/admin/api/organizations/{org}/log?operation=deactivate"),
        )
        .await
        .json();
    assert_eq!(log["entries"][0]["resourceId"], ada.as_str());
    let groups = c
        .get(&mut api, &format!("/admin/api/organizations/{org}/groups"))
        .await
        .json();
    assert_eq!(
        groups["resources"][0]["members"].as_array().unwrap().len(),
        2
    );
}

#[actix_web::test]
async fn malformed_input_never_fails_the_server() {
    let (c, org, _token, mut op) = set_up().await;
    let o = format!("/admin/organizations/{org}");
    let long = "x".repeat(5000);
    let paths = [
        format!("{o}/users?page=-1"),
        format!("{o}/users?page=99999999999999999999999"),
        format!("{o}/users?q=%ZZ"),
        format!("{o}/users?q={}", enc("userName eq")),
        format!("{o}/users?q={}", enc("(((((")),
        format!("{o}/users?q={}", enc("nope[type eq \"x\"] pr")),
        format!("{o}/users?q={long}"),
        format!("{o}/users/{}", enc("../../etc/passwd")),
        format!("{o}/groups?page=abc"),
        format!("{o}/activity?operation=bogus"),
        format!("{o}/activity?kind=Nope"),
        format!("{o}/activity?before=abc"),
        format!("{o}/activity?before=-5"),
        format!("/admin/organizations/{}/settings", enc("' OR 1=1 --")),
        format!("/admin/api/organizations/{org}/log?limit=-1&before=zz"),
        "/admin/setup?code=%00".to_string(),
    ];
    let mut api = Client {
        bearer: Some(c.api_token("op@example.test")),
        ..Client::default()
    };
    for p in &paths {
        let client = if p.starts_with("/admin/api") {
            &mut api
        } else {
            &mut op
        };
        let r = c.get(client, p).await;
        assert!(r.status.as_u16() < 500, "{p}: {} {}", r.status, r.body);
    }
    // Malformed form bodies.
    for body in ["%%%", "csrf=%ZZ", "a=b&a=c", ""] {
        let req = actix_web::test::TestRequest::post()
            .uri("/admin/organizations")
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(body);
        let r = c.send(&mut op, req).await;
        assert!(r.status.as_u16() < 500, "{body}: {}", r.status);
    }
    let csrf = c.get(&mut op, "/admin/organizations").await.csrf();
    for name in ["", "   ", &"n".repeat(300), "bad\u{0007}name"] {
        let r = c
            .post_form(
                &mut op,
                "/admin/organizations",
                &[("csrf", &csrf), ("name", name)],
            )
            .await;
        r.expect(400);
    }
    assert_eq!(c.store().list_tenants().unwrap().len(), 1);
}
