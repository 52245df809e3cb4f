//! Okta's lifecycle, driven through the store's `Session` API (one session and one `txn`
//! per request, as the HTTP layer does), delivered to a real webhook receiver in full and
//! notice mode and through a filter, on SQLite and PostgreSQL.

use crate::scenarios::subscribe;
use crate::support::db::{self, TestDb};
use crate::support::receiver::Receiver;
use crate::support::{blocking, config, wait_until};
use scim_core::ResourceKind;
use scim_core::events::{EventMode, EventType, UpdateMethod};
use scim_core::patch::MemberDelta;
use scim_core::resource::parse_resource;
use scim_store::{Access, Actor, Store};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;

/// One expected SET: the request's txn, the event URI (mode-qualified where it has one),
/// the subject's URI, and for feed events the group's URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub txn: String,
    pub event_type: EventType,
    pub subject: String,
    pub group: Option<String>,
}

fn actor(txn: &str) -> Actor {
    Actor {
        token_id: Some("okta-token".into()),
        txn: Some(txn.into()),
        method: UpdateMethod::Patch,
        request: None,
    }
}

/// create user, deactivate (PATCH active=false), reactivate, create group, add member,
/// remove member, delete user: each its own request and txn. Returns the SETs the walk
/// must produce, in order.
pub fn okta_walk(store: &dyn Store, tenant: &str) -> Vec<Expected> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let txn = |n: u32| format!("req-{n}-{run}");
    let mut s = store.session(Access::Write).unwrap();
    let user = s
        .create(
            &actor(&txn(1)),
            tenant,
            ResourceKind::User,
            parse_resource(
                ResourceKind::User,
                &json!({"userName": "ada@example.com", "externalId": "okta-ada", "active": true,
                        "name": {"givenName": "Ada", "familyName": "Lovelace"}}),
            )
            .unwrap(),
        )
        .unwrap();
    for (n, active) in [(2, false), (3, true)] {
        s.update(
            &actor(&txn(n)),
            tenant,
            ResourceKind::User,
            &user.id,
            false,
            &mut |r| {
                let mut a = r.attributes.clone();
                a.insert("active".into(), Value::Bool(active));
                Ok(Some(a))
            },
        )
        .unwrap();
    }
    let group = s
        .create(
            &actor(&txn(4)),
            tenant,
            ResourceKind::Group,
            parse_resource(
                ResourceKind::Group,
                &json!({"displayName": "Engineering", "externalId": "okta-eng"}),
            )
            .unwrap(),
        )
        .unwrap();
    let delta = |add: bool| MemberDelta {
        replace_all: None,
        add: if add { vec![user.id.clone()] } else { vec![] },
        remove: if add { vec![] } else { vec![user.id.clone()] },
    };
    for (n, add) in [(5, true), (6, false)] {
        s.change_members(&actor(&txn(n)), tenant, &group.id, &delta(add), &mut |_| {
            Ok(None)
        })
        .unwrap();
    }
    s.delete(
        &actor(&txn(7)),
        tenant,
        ResourceKind::User,
        &user.id,
        &mut |_| Ok(()),
    )
    .unwrap();

    let (u, g) = (
        format!("/Users/{}", user.id),
        format!("/Groups/{}", group.id),
    );
    let e = |n: u32, event_type: EventType, subject: &str, group: Option<&str>| Expected {
        txn: txn(n),
        event_type,
        subject: subject.to_string(),
        group: group.map(str::to_string),
    };
    vec![
        e(1, EventType::Create, &u, None),
        e(2, EventType::Patch, &u, None),
        e(2, EventType::Deactivate, &u, None),
        e(3, EventType::Patch, &u, None),
        e(3, EventType::Activate, &u, None),
        e(4, EventType::Create, &g, None),
        e(5, EventType::FeedAdd, &u, Some(&g)),
        e(6, EventType::FeedRemove, &u, Some(&g)),
        e(7, EventType::Delete, &u, None),
    ]
}

/// Checks received SET claims against the walk: one event each, its URI in `mode`, the
/// subject, the txn, the payload the mode calls for; distinct jtis.
pub fn check_sets(got: &[Value], want: &[Expected], mode: EventMode, issuer: &str) {
    assert_eq!(got.len(), want.len(), "{got:#?}");
    let mut jtis = HashSet::new();
    for (c, w) in got.iter().zip(want) {
        let events = c["events"].as_object().unwrap();
        assert_eq!(events.len(), 1, "{c}");
        let (uri, payload) = events.iter().next().unwrap();
        assert_eq!(uri, &w.event_type.uri(mode), "{c}");
        assert_eq!(c["sub_id"]["format"], "scim");
        assert_eq!(c["sub_id"]["uri"], w.subject.as_str(), "{c}");
        assert_eq!(c["txn"], w.txn.as_str(), "one txn per request: {c}");
        assert_eq!(c["iss"], issuer);
        assert!(c["iat"].is_i64());
        assert!(
            jtis.insert(c["jti"].as_str().unwrap().to_string()),
            "distinct jtis"
        );
        match w.event_type {
            EventType::Create | EventType::Patch => {
                assert!(payload["version"].is_string(), "{c}");
                match mode {
                    EventMode::Full => {
                        assert!(payload["data"]["id"].is_string(), "{c}");
                        assert!(payload.get("attributes").is_none());
                    }
                    EventMode::Notice => {
                        assert!(payload["attributes"].is_array(), "{c}");
                        assert!(payload.get("data").is_none());
                    }
                }
            }
            EventType::Activate | EventType::Deactivate => {
                assert!(payload["version"].is_string(), "{c}");
            }
            EventType::FeedAdd | EventType::FeedRemove => {
                assert_eq!(payload["group"]["uri"], w.group.as_deref().unwrap(), "{c}");
            }
            EventType::Delete | EventType::Put => {}
        }
    }
    // The deactivation's PATCH (notice) names what changed.
    if mode == EventMode::Notice {
        let patch = &got[1]["events"][EventType::Patch.uri(mode)];
        assert_eq!(patch["attributes"], json!(["active"]), "{}", got[1]);
    }
    // The user's externalId travels in sub_id.
    assert_eq!(got[0]["sub_id"]["externalId"], "okta-ada");
}

async fn webhook_walk(db: TestDb) {
    let db = Arc::new(db);
    let rx = Receiver::start().await;
    let full = subscribe(&*db, &rx, "full", EventMode::Full, None);
    let notice = subscribe(&*db, &rx, "notice", EventMode::Notice, None);
    subscribe(
        &*db,
        &rx,
        "deact",
        EventMode::Full,
        Some(vec![EventType::Deactivate]),
    );
    let d = Arc::new(crate::support::deliverer(&*db, config("https://scim.example")).await);
    let worker = d.spawn();

    let (store, tenant) = (db.store.clone(), db.tenant.clone());
    let want = blocking(move || okta_walk(&*store, &tenant)).await;
    wait_until("the walk, in both modes", || async {
        rx.received_on("full").len() >= want.len() && rx.received_on("notice").len() >= want.len()
    })
    .await;
    wait_until("the filtered subscription", || async {
        !rx.received_on("deact").is_empty()
    })
    .await;
    worker.shutdown().await;
    assert!(rx.rejected().is_empty(), "{:?}", rx.rejected());
    let issuer = format!("https://scim.example/scim/v2/{}", db.tenant);
    let claims =
        |name: &str| -> Vec<Value> { rx.received_on(name).into_iter().map(|r| r.claims).collect() };
    check_sets(&claims("full"), &want, EventMode::Full, &issuer);
    check_sets(&claims("notice"), &want, EventMode::Notice, &issuer);
    let deact = claims("deact");
    assert_eq!(deact.len(), 1, "{deact:#?}");
    assert!(
        deact[0]["events"]
            .get(EventType::Deactivate.uri(EventMode::Full))
            .is_some()
    );
    // Every subscription got the same jti for the same event.
    let full_jtis: Vec<_> = claims("full").iter().map(|c| c["jti"].clone()).collect();
    let notice_jtis: Vec<_> = claims("notice").iter().map(|c| c["jti"].clone()).collect();
    assert_eq!(full_jtis, notice_jtis);
    assert_eq!(deact[0]["jti"], full_jtis[2]);
    for (r, sub) in [(claims("full"), &full), (claims("notice"), &notice)] {
        assert!(r.iter().all(|c| c["aud"] == json!([sub.sink.target()])));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_walk_to_a_webhook_sqlite() {
    webhook_walk(db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_walk_to_a_webhook_postgres() {
    let Some(db) = db::postgres() else { return };
    webhook_walk(db).await;
}
