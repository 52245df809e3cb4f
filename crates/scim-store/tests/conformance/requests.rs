//! The request log: batches keep only existing tenants, filters and keyset paging newest
//! first, tenant isolation, the retention prune, and entries written in the write's own
//! transaction (committed with it, never for a failed or empty change).

use crate::support::{TestDb, actor, create_user, tenant, user_attrs};
use chrono::{DateTime, TimeDelta, Utc};
use scim_core::ResourceKind;
use scim_core::patch::MemberDelta;
use scim_store::{
    Access, Actor, InTxRequest, RequestAction, RequestCursor, RequestLogRepo, RequestQuery,
    RequestRecord, ResourceRepo, StatusFilter, Store, StoreError, TenantRepo,
};
use serde_json::json;
use std::time::Instant;

fn record(
    tenant: &str,
    at: DateTime<Utc>,
    status: u16,
    action: RequestAction,
    client: &str,
) -> RequestRecord {
    RequestRecord {
        tenant_id: tenant.to_string(),
        at,
        method: "GET".into(),
        path: format!("/scim/v2/{tenant}/Users"),
        status,
        action,
        scim_type: (status == 400).then(|| "invalidFilter".to_string()),
        latency_ms: 3,
        client: client.into(),
        resource_id: None,
        summary: r#"{"method":"GET"}"#.into(),
    }
}

fn base() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_780_000_000_000).unwrap()
}

fn all(db: &TestDb, t: &str, mut q: RequestQuery) -> Vec<scim_store::RequestEntry> {
    q.limit = 1000;
    db.list_requests(t, &q).unwrap()
}

pub fn batches_keep_existing_tenants_and_filter(db: &TestDb) {
    let (a, b) = (tenant(db), tenant(db));
    let t0 = base();
    let ms = |n: i64| t0 + TimeDelta::milliseconds(n);
    let batch = vec![
        record(&a, ms(0), 200, RequestAction::Lookup, "okta"),
        record(&a, ms(1), 401, RequestAction::ImportPage, "entra"),
        record(&a, ms(2), 400, RequestAction::Lookup, "okta"),
        record(&a, ms(2), 404, RequestAction::Other, "other"),
        record(&b, ms(3), 200, RequestAction::Discovery, "okta"),
        // Unknown tenants, one not even storable: never stored.
        record("no-such-tenant", ms(4), 401, RequestAction::Lookup, "other"),
        record("bad\0id", ms(4), 401, RequestAction::Lookup, "other"),
    ];
    assert_eq!(db.insert_requests(&batch).unwrap(), 5);
    assert_eq!(db.insert_requests(&[]).unwrap(), 0);
    assert!(all(db, "no-such-tenant", RequestQuery::default()).is_empty());

    // Newest first; equal times by id, newest id first.
    let rows = all(db, &a, RequestQuery::default());
    let statuses: Vec<u16> = rows.iter().map(|e| e.record.status).collect();
    assert_eq!(statuses, [404, 400, 401, 200]);
    let first = &rows[1].record;
    assert_eq!(first, &batch[2], "stored as given");

    let q = |status: Option<&str>, action: Option<RequestAction>, client: Option<&str>| {
        all(
            db,
            &a,
            RequestQuery {
                status: status.map(|s| StatusFilter::parse(s).unwrap()),
                action,
                client: client.map(str::to_string),
                ..RequestQuery::default()
            },
        )
        .iter()
        .map(|e| e.record.status)
        .collect::<Vec<_>>()
    };
    assert_eq!(q(Some("4xx"), None, None), [404, 400, 401]);
    assert_eq!(q(Some("401"), None, None), [401]);
    assert_eq!(q(Some("2xx"), None, None), [200]);
    assert_eq!(q(Some("5xx"), None, None), Vec::<u16>::new());
    assert_eq!(q(None, Some(RequestAction::Lookup), None), [400, 200]);
    assert_eq!(q(None, None, Some("entra")), [401]);
    assert_eq!(
        q(Some("4xx"), Some(RequestAction::Lookup), Some("okta")),
        [400]
    );
    // Time range: since inclusive, until exclusive.
    let range = all(
        db,
        &a,
        RequestQuery {
            since: Some(ms(1)),
            until: Some(ms(2)),
            ..RequestQuery::default()
        },
    );
    assert_eq!(range.len(), 1);
    assert_eq!(range[0].record.status, 401);

    // Isolation: b sees only its own; a's entry is not found through b.
    let rows_b = all(db, &b, RequestQuery::default());
    assert_eq!(rows_b.len(), 1);
    assert_eq!(db.get_request(&a, rows[0].id).unwrap(), rows[0]);
    assert!(matches!(
        db.get_request(&b, rows[0].id),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.get_request(&a, rows_b[0].id),
        Err(StoreError::NotFound)
    ));
}

pub fn request_pages_are_keyset_newest_first(db: &TestDb) {
    let t = tenant(db);
    let t0 = base();
    // 25 entries, several sharing a millisecond.
    let batch: Vec<RequestRecord> = (0..25)
        .map(|i| {
            record(
                &t,
                t0 + TimeDelta::milliseconds(i / 3),
                200,
                RequestAction::Lookup,
                "okta",
            )
        })
        .collect();
    db.insert_requests(&batch).unwrap();
    let everything = all(db, &t, RequestQuery::default());
    assert_eq!(everything.len(), 25);
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = db
            .list_requests(
                &t,
                &RequestQuery {
                    after,
                    limit: 7,
                    ..RequestQuery::default()
                },
            )
            .unwrap();
        seen.extend(page.iter().map(|e| e.id));
        if page.len() < 7 {
            break;
        }
        // The cursor survives its text form.
        let text = RequestCursor::of(page.last().unwrap()).encode();
        after = RequestCursor::parse(&text);
    }
    let want: Vec<i64> = everything.iter().map(|e| e.id).collect();
    assert_eq!(seen, want, "every entry once, in order");
    for w in everything.windows(2) {
        assert!((w[0].record.at, w[0].id) > (w[1].record.at, w[1].id));
    }
}

pub fn requests_are_pruned_by_age_and_deleted_with_their_tenant(db: &TestDb) {
    let (a, b) = (tenant(db), tenant(db));
    let now = Utc::now();
    let old = now - TimeDelta::days(200);
    let mut batch = Vec::new();
    for t in [&a, &b] {
        for i in 0..5 {
            batch.push(record(
                t,
                old + TimeDelta::seconds(i),
                200,
                RequestAction::Lookup,
                "okta",
            ));
        }
        batch.push(record(t, now, 200, RequestAction::Lookup, "okta"));
    }
    db.insert_requests(&batch).unwrap();
    // Batches of 2: several transactions per tenant, all old rows go.
    assert_eq!(
        db.prune_requests(now - TimeDelta::days(180), 2).unwrap(),
        10
    );
    assert_eq!(all(db, &a, RequestQuery::default()).len(), 1);
    assert_eq!(all(db, &b, RequestQuery::default()).len(), 1);
    assert_eq!(db.prune_requests(now - TimeDelta::days(180), 2).unwrap(), 0);
    db.delete_tenant(&a).unwrap();
    assert!(all(db, &a, RequestQuery::default()).is_empty());
    assert_eq!(
        all(db, &b, RequestQuery::default()).len(),
        1,
        "other tenant untouched"
    );
}

fn in_tx(t: &str, status: u16, method: &str, action: RequestAction) -> InTxRequest {
    InTxRequest::new(
        RequestRecord {
            method: method.into(),
            ..record(t, Utc::now(), status, action, "okta")
        },
        Instant::now(),
    )
}

fn with_request(r: &InTxRequest) -> Actor {
    Actor {
        request: Some(r.clone()),
        ..actor()
    }
}

pub fn write_entries_commit_with_the_write(db: &TestDb) {
    let t = tenant(db);
    let count = || all(db, &t, RequestQuery::default()).len();

    // A create: the entry commits with it, named by the store.
    let r = in_tx(&t, 201, "POST", RequestAction::CreateUser);
    let ada = db
        .create(
            &with_request(&r),
            &t,
            ResourceKind::User,
            user_attrs(json!({"userName": "ada"})),
        )
        .unwrap();
    assert!(r.was_logged());
    let rows = all(db, &t, RequestQuery::default());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].record.action, RequestAction::CreateUser);
    assert_eq!(rows[0].record.status, 201);

    // A failed create (duplicate userName) rolls its entry back with it.
    let r = in_tx(&t, 201, "POST", RequestAction::CreateUser);
    let err = db.create(
        &with_request(&r),
        &t,
        ResourceKind::User,
        user_attrs(json!({"userName": "ADA"})),
    );
    assert!(matches!(err, Err(StoreError::Conflict { .. })));
    assert!(!r.was_logged());
    assert_eq!(count(), 1);

    // A PUT that turns `active` off is a deactivation, whatever the request named.
    let r = in_tx(&t, 200, "PUT", RequestAction::UpdateUser);
    let mut session = db.session(Access::Write).unwrap();
    session
        .update(
            &with_request(&r),
            &t,
            ResourceKind::User,
            &ada.id,
            false,
            &mut |_| {
                Ok(Some(user_attrs(
                    json!({"userName": "ada", "active": false}),
                )))
            },
        )
        .unwrap();
    assert!(r.was_logged());
    // A change that changes nothing writes no entry (the caller logs it on its own).
    let r = in_tx(&t, 200, "PUT", RequestAction::UpdateUser);
    session
        .update(
            &with_request(&r),
            &t,
            ResourceKind::User,
            &ada.id,
            false,
            &mut |_| {
                Ok(Some(user_attrs(
                    json!({"userName": "ada", "active": false}),
                )))
            },
        )
        .unwrap();
    assert!(!r.was_logged());
    // A refused change (the If-Match check) neither.
    let r = in_tx(&t, 200, "PATCH", RequestAction::UpdateUser);
    let refused = session.update(
        &with_request(&r),
        &t,
        ResourceKind::User,
        &ada.id,
        false,
        &mut |_| Err(scim_core::ScimError::precondition_failed("no")),
    );
    assert!(matches!(refused, Err(StoreError::Rejected(_))));
    assert!(!r.was_logged());

    // Membership by delta keeps the request's direction (SQLite has one writer: the
    // façade's creates need it).
    drop(session);
    let grace = create_user(db, &t, "grace");
    let group = db
        .create(
            &actor(),
            &t,
            ResourceKind::Group,
            crate::support::group_attrs(json!({"displayName": "eng"})),
        )
        .unwrap();
    let mut session = db.session(Access::Write).unwrap();
    let r = in_tx(&t, 204, "PATCH", RequestAction::GroupAddMember);
    let delta = MemberDelta {
        add: vec![grace.id.clone()],
        ..MemberDelta::default()
    };
    session
        .change_members(&with_request(&r), &t, &group.id, &delta, &mut |_| Ok(None))
        .unwrap();
    assert!(r.was_logged());
    // Delete.
    let r = in_tx(&t, 204, "DELETE", RequestAction::DeleteUser);
    session
        .delete(
            &with_request(&r),
            &t,
            ResourceKind::User,
            &grace.id,
            &mut |_| Ok(()),
        )
        .unwrap();
    assert!(r.was_logged());
    drop(session);

    let actions: Vec<RequestAction> = all(db, &t, RequestQuery::default())
        .iter()
        .rev()
        .map(|e| e.record.action)
        .collect();
    assert_eq!(
        actions,
        [
            RequestAction::CreateUser,
            RequestAction::DeactivateUser,
            RequestAction::GroupAddMember,
            RequestAction::DeleteUser
        ]
    );
    let _ = db.backend_name();
}
