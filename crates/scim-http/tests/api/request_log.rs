//! The request log over HTTP, on both backends: each kind of request gets its action,
//! status, `scimType`, client and resource id; a rejected token is logged, a request to
//! an unknown tenant is not; no password or token reaches a stored entry; a write's entry
//! commits in the write's transaction (it is there even with the background writer
//! closed), a failed or empty write's entry comes through the writer.

use crate::helpers::{Backend, PATCH_URN, TestApp, backends};
use actix_web::test::TestRequest;
use chrono::{DateTime, Utc};
use scim_http::RequestLog;
use scim_http::request_log::mask;
use scim_store::{
    DieselStore, RequestAction, RequestEntry, RequestLogRepo, RequestQuery, RequestRecord,
    StoreResult,
};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const OKTA: &str = "Okta SCIM Client 1.0.0";
const ENTRA: &str = "Microsoft.AAD.Provisioning.Scim/1.0";
const PASSWORD: &str = "Sup3r-S3cret-Passw0rd";

/// The store, recording every batch the background writer hands it.
struct Recording {
    inner: Arc<DieselStore>,
    seen: Mutex<Vec<RequestRecord>>,
}

impl RequestLogRepo for Recording {
    fn insert_requests(&self, batch: &[RequestRecord]) -> StoreResult<usize> {
        self.seen.lock().unwrap().extend(batch.iter().cloned());
        self.inner.insert_requests(batch)
    }
    fn list_requests(&self, t: &str, q: &RequestQuery) -> StoreResult<Vec<RequestEntry>> {
        self.inner.list_requests(t, q)
    }
    fn get_request(&self, t: &str, id: i64) -> StoreResult<RequestEntry> {
        self.inner.get_request(t, id)
    }
    fn prune_requests(&self, before: DateTime<Utc>, batch: u64) -> StoreResult<u64> {
        self.inner.prune_requests(before, batch)
    }
}

fn logged(backend: Backend) -> (TestApp, Arc<Recording>) {
    let mut app = TestApp::on(backend, scim_http::Limits::default());
    let rec = Arc::new(Recording {
        inner: app.db.clone(),
        seen: Mutex::new(Vec::new()),
    });
    let log = RequestLog::start(rec.clone(), 1000).unwrap();
    app.state = app.state.clone().with_request_log(log);
    (app, rec)
}

/// Every entry of the app's tenant, oldest first, once the writer has caught up.
fn entries(app: &TestApp) -> Vec<RequestEntry> {
    app.state.request_log.flush(Duration::from_secs(10));
    let mut all = app
        .db
        .list_requests(
            &app.tenant,
            &RequestQuery {
                limit: 1000,
                ..RequestQuery::default()
            },
        )
        .unwrap();
    all.reverse();
    all
}

async fn call(app: &TestApp, ua: &str, method: &str, path: &str, body: Option<Value>) -> u16 {
    let mut req = TestRequest::default()
        .method(method.parse().unwrap())
        .uri(&format!("{}{path}", app.base()))
        .insert_header(("Authorization", format!("Bearer {}", app.token)))
        .insert_header(("User-Agent", ua));
    if let Some(b) = body {
        req = req
            .insert_header(("Content-Type", "application/scim+json"))
            .set_payload(b.to_string());
    }
    let status = app.send(req).await.status.as_u16();
    // Entries are ordered by arrival time, then by insertion: let the writer catch up so
    // that two requests in one millisecond keep their order.
    app.state.request_log.flush(Duration::from_secs(10));
    status
}

fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": ops})
}

#[actix_web::test]
async fn each_request_gets_its_action_status_scim_type_and_client() {
    for backend in backends() {
        let (app, _) = logged(backend);
        let ada = json!({"userName": "ada@example.com", "password": PASSWORD, "active": true});
        assert_eq!(
            call(&app, OKTA, "POST", "/Users", Some(ada.clone())).await,
            201
        );
        let user = entries(&app)[0].record.resource_id.clone().unwrap();
        let group_body = json!({"displayName": "eng"});
        assert_eq!(
            call(&app, ENTRA, "POST", "/Groups", Some(group_body)).await,
            201
        );
        let group = entries(&app)[1].record.resource_id.clone().unwrap();
        let u = format!("/Users/{user}");
        let g = format!("/Groups/{group}");
        type Step = (&'static str, &'static str, String, Option<Value>, u16);
        let steps: Vec<Step> = vec![
            (OKTA, "POST", "/Users".into(), Some(ada.clone()), 409),
            (
                OKTA,
                "GET",
                "/Users?filter=userName%20eq%20%22ada%40example.com%22".into(),
                None,
                200,
            ),
            (
                OKTA,
                "GET",
                "/Users?startIndex=1&count=100".into(),
                None,
                200,
            ),
            (OKTA, "GET", "/Users?filter=userName%20eq".into(), None, 400),
            (OKTA, "GET", u.clone(), None, 200),
            (OKTA, "GET", "/Users/no-such-user".into(), None, 404),
            (
                ENTRA,
                "PATCH",
                u.clone(),
                Some(patch(
                    json!([{"op": "replace", "path": "active", "value": false}]),
                )),
                200,
            ),
            // The same again changes nothing: logged through the writer.
            (
                ENTRA,
                "PATCH",
                u.clone(),
                Some(patch(
                    json!([{"op": "replace", "path": "active", "value": false}]),
                )),
                200,
            ),
            (
                ENTRA,
                "PATCH",
                u.clone(),
                Some(patch(json!([{"op": "replace", "value": {"active": true}}]))),
                200,
            ),
            (
                OKTA,
                "PUT",
                u.clone(),
                Some(json!({"userName": "ada@example.com", "title": "x", "active": true})),
                200,
            ),
            (
                ENTRA,
                "PATCH",
                g.clone(),
                Some(patch(
                    json!([{"op": "add", "path": "members", "value": [{"value": user}]}]),
                )),
                204,
            ),
            (
                ENTRA,
                "PATCH",
                g.clone(),
                Some(patch(
                    json!([{"op": "remove", "path": format!("members[value eq \"{user}\"]")}]),
                )),
                204,
            ),
            (
                ENTRA,
                "PATCH",
                g.clone(),
                Some(patch(
                    json!([{"op": "replace", "path": "displayName", "value": "eng2"}]),
                )),
                204,
            ),
            ("curl/8", "GET", "/ServiceProviderConfig".into(), None, 200),
            (
                "curl/8",
                "POST",
                "/Users/.search".into(),
                Some(json!({"filter": "userName eq \"ada@example.com\""})),
                200,
            ),
            (
                "curl/8",
                "POST",
                "/Bulk".into(),
                Some(
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [{"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": "bulk@example.com"}}]}),
                ),
                200,
            ),
            ("curl/8", "GET", "/Nope".into(), None, 404),
            (OKTA, "DELETE", g.clone(), None, 204),
            (OKTA, "DELETE", u.clone(), None, 204),
            (OKTA, "DELETE", u.clone(), None, 404),
        ];
        for (ua, method, path, body, status) in &steps {
            assert_eq!(
                call(&app, ua, method, path, body.clone()).await,
                *status,
                "{method} {path}"
            );
        }
        use RequestAction as A;
        type Want = (A, u16, Option<&'static str>, &'static str, Option<String>);
        let want: Vec<Want> = vec![
            (A::CreateUser, 201, None, "okta", Some(user.clone())),
            (A::CreateGroup, 201, None, "entra", Some(group.clone())),
            (A::CreateUser, 409, Some("uniqueness"), "okta", None),
            (A::Lookup, 200, None, "okta", None),
            (A::ImportPage, 200, None, "okta", None),
            (A::Lookup, 400, Some("invalidFilter"), "okta", None),
            (A::Lookup, 200, None, "okta", Some(user.clone())),
            (A::Lookup, 404, None, "okta", Some("no-such-user".into())),
            (A::DeactivateUser, 200, None, "entra", Some(user.clone())),
            (A::DeactivateUser, 200, None, "entra", Some(user.clone())),
            (A::ReactivateUser, 200, None, "entra", Some(user.clone())),
            (A::UpdateUser, 200, None, "okta", Some(user.clone())),
            (A::GroupAddMember, 204, None, "entra", Some(group.clone())),
            (
                A::GroupRemoveMember,
                204,
                None,
                "entra",
                Some(group.clone()),
            ),
            (A::UpdateGroup, 204, None, "entra", Some(group.clone())),
            (A::Discovery, 200, None, "other", None),
            (A::Lookup, 200, None, "other", None),
            (A::Bulk, 200, None, "other", None),
            (A::Other, 404, None, "other", None),
            (A::DeleteGroup, 204, None, "okta", Some(group.clone())),
            (A::DeleteUser, 204, None, "okta", Some(user.clone())),
            (A::DeleteUser, 404, None, "okta", Some(user.clone())),
        ];
        let got = entries(&app);
        assert_eq!(got.len(), want.len(), "{backend:?}: {got:#?}");
        for (e, (action, status, scim_type, client, rid)) in got.iter().zip(&want) {
            let r = &e.record;
            let what = format!("{backend:?} {} {}", r.method, r.path);
            assert_eq!(r.action, *action, "{what}");
            assert_eq!(r.status, *status, "{what}");
            assert_eq!(r.scim_type.as_deref(), *scim_type, "{what}");
            assert_eq!(r.client, *client, "{what}");
            assert_eq!(&r.resource_id, rid, "{what}");
            assert_eq!(r.tenant_id, app.tenant);
            let _: Value = serde_json::from_str(&r.summary).unwrap();
        }
        // Query values are masked in the path, the filter kept as its shape.
        let lookup = &got[3].record;
        assert!(!lookup.path.contains("ada"), "{}", lookup.path);
        assert!(
            lookup.summary.contains("userName eq ***"),
            "{}",
            lookup.summary
        );
        let paging = &got[4].record;
        assert!(
            paging.path.ends_with("?startIndex=1&count=100"),
            "{}",
            paging.path
        );
        assert_eq!(app.state.request_log.dropped(), 0);
    }
}

#[actix_web::test]
async fn rejected_tokens_are_logged_unknown_tenants_are_not() {
    for backend in backends() {
        let (app, rec) = logged(backend);
        let send = |tenant: String, auth: Option<String>| {
            let mut req = TestRequest::get().uri(&format!("/scim/v2/{tenant}/Users"));
            if let Some(a) = auth {
                req = req.insert_header(("Authorization", a));
            }
            req
        };
        let (other, other_token) = app.other_tenant("Other");
        // Another tenant's (well-formed) token, a malformed one, none at all.
        for auth in [
            Some(format!("Bearer {other_token}")),
            Some("Bearer nope".to_string()),
            None,
        ] {
            assert_eq!(app.send(send(app.tenant.clone(), auth)).await.status, 401);
        }
        // A tenant that does not exist, with a valid-shaped token: not even queued.
        let ghost = "00000000-0000-4000-8000-000000000000".to_string();
        assert_eq!(
            app.send(send(ghost.clone(), Some(format!("Bearer {other_token}"))))
                .await
                .status,
            401
        );
        // ... with a malformed one: queued (no store work to know), dropped by the store.
        assert_eq!(
            app.send(send(ghost.clone(), Some("Bearer x".into())))
                .await
                .status,
            401
        );
        let got = entries(&app);
        assert_eq!(got.len(), 3);
        for e in &got {
            assert_eq!(e.record.status, 401);
            assert_eq!(e.record.action, RequestAction::ImportPage);
        }
        let seen = rec.seen.lock().unwrap().clone();
        assert_eq!(
            seen.iter().filter(|r| r.tenant_id == ghost).count(),
            1,
            "{seen:#?}"
        );
        assert!(
            app.db
                .list_requests(&ghost, &RequestQuery::default())
                .unwrap()
                .is_empty()
        );
        assert!(
            app.db
                .list_requests(&other, &RequestQuery::default())
                .unwrap()
                .is_empty(),
            "nothing under the tenant whose token was misused"
        );
    }
}

#[actix_web::test]
async fn no_password_or_token_is_ever_stored() {
    for backend in backends() {
        let (app, _) = logged(backend);
        let token_in_query = format!(
            "/Users?access_token={}&filter=password%20eq%20%22{PASSWORD}%22",
            app.token
        );
        let steps: Vec<(&str, String, Option<Value>)> = vec![
            (
                "POST",
                "/Users".into(),
                Some(json!({"userName": "grace", "password": PASSWORD})),
            ),
            (
                "POST",
                "/Users".into(),
                Some(json!({"userName": PASSWORD, "password": PASSWORD})),
            ),
            ("GET", token_in_query, None),
            (
                "POST",
                "/Users/.search".into(),
                Some(json!({"filter": format!("userName eq \"{PASSWORD}\""), "cursor": app.token})),
            ),
            (
                "POST",
                "/Bulk".into(),
                Some(
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [{"method": "POST", "path": "/Users", "bulkId": PASSWORD, "data": {"userName": "b", "password": PASSWORD}}]}),
                ),
            ),
            (
                "POST",
                "/Users".into(),
                Some(json!({"userName": "broken", "password": PASSWORD, "emails": PASSWORD})),
            ),
            ("POST", "/Users".into(), Some(json!("not an object"))),
        ];
        for (method, path, body) in &steps {
            call(&app, OKTA, method, path, body.clone()).await;
        }
        let grace = entries(&app)[0].record.resource_id.clone().unwrap();
        for ops in [
            json!([{"op": "replace", "path": "password", "value": PASSWORD}]),
            json!([{"op": "replace", "value": {"password": PASSWORD}}]),
            json!([{"op": "add", "path": format!("emails[value eq \"{PASSWORD}\"].value"), "value": PASSWORD}]),
        ] {
            call(
                &app,
                OKTA,
                "PATCH",
                &format!("/Users/{grace}"),
                Some(patch(ops)),
            )
            .await;
        }
        let got = entries(&app);
        assert_eq!(got.len(), steps.len() + 3);
        for e in &got {
            let text = format!("{:?}", e.record);
            assert!(!text.contains(PASSWORD), "{text}");
            assert!(!text.contains(&app.token), "{text}");
            assert!(!text.contains(&app.token[5..]), "{text}");
        }
        // What is recorded: the names.
        assert!(
            got[0].record.summary.contains("\"password\""),
            "{}",
            got[0].record.summary
        );
    }
}

#[actix_web::test]
async fn write_entries_commit_in_the_write_transaction() {
    for backend in backends() {
        let (app, _) = logged(backend);
        // With the background writer closed, only the write's own transaction can store
        // an entry.
        app.state.request_log.close();
        assert_eq!(
            call(
                &app,
                OKTA,
                "POST",
                "/Users",
                Some(json!({"userName": "ada"}))
            )
            .await,
            201
        );
        assert_eq!(call(&app, OKTA, "GET", "/Users", None).await, 200);
        assert_eq!(
            call(
                &app,
                OKTA,
                "POST",
                "/Users",
                Some(json!({"userName": "ada"}))
            )
            .await,
            409
        );
        let got = entries(&app);
        assert_eq!(got.len(), 1, "{got:#?}");
        assert_eq!(got[0].record.action, RequestAction::CreateUser);
        assert_eq!(got[0].record.status, 201);
        // The read and the failed write were submitted and, the queue being closed,
        // counted as dropped: never silently lost.
        assert_eq!(app.state.request_log.dropped(), 2);
    }
}

#[actix_web::test]
async fn off_logs_nothing() {
    let app = TestApp::on(Backend::Sqlite, scim_http::Limits::default());
    assert_eq!(
        call(
            &app,
            OKTA,
            "POST",
            "/Users",
            Some(json!({"userName": "ada"}))
        )
        .await,
        201
    );
    assert!(!app.state.request_log.is_on());
    assert!(entries(&app).is_empty());
    let _ = mask::CLIENTS;
}
