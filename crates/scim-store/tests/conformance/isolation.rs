//! Tenant isolation: nothing of one tenant is visible or reachable from another.

use crate::support::*;
use scim_core::ResourceKind::{Group, User};
use scim_core::filter::{AttrPath, CompValue, CompareOp, Filter};
use scim_store::{ListParams, LogQuery, LogRepo, ResourceRepo, StoreError};
use serde_json::json;

pub fn same_user_name_in_two_tenants(db: &TestDb) {
    let (a, b) = (tenant(db), tenant(db));
    let ua = create_user(db, &a, "shared@example.com");
    let ub = create_user(db, &b, "SHARED@example.com");
    assert_ne!(ua.id, ub.id);
    let f = Filter::Compare(
        AttrPath::new("userName"),
        CompareOp::Eq,
        CompValue::String("shared@example.com".into()),
    );
    let params = ListParams {
        filter: Some(f),
        ..Default::default()
    };
    let pa = db.list(&a, User, &params).unwrap();
    assert_eq!(pa.total_results, 1);
    assert_eq!(pa.resources[0].id, ua.id);
    let pb = db.list(&b, User, &params).unwrap();
    assert_eq!(pb.resources[0].id, ub.id);
    // The same group name too.
    create_group(db, &a, "Staff", &[]);
    create_group(db, &b, "staff", &[]);
}

pub fn cross_tenant_access_is_not_found(db: &TestDb) {
    let (a, b) = (tenant(db), tenant(db));
    let u = create_user(db, &a, "alice");
    let g = create_group(db, &a, "A-team", &[&u.id]);
    for (kind, id) in [(User, &u.id), (Group, &g.id)] {
        assert!(matches!(db.get(&b, kind, id), Err(StoreError::NotFound)));
        let attrs = match kind {
            User => user_attrs(json!({"userName": "stolen"})),
            Group => group_attrs(json!({"displayName": "stolen"})),
        };
        assert!(matches!(
            db.replace(&actor(), &b, kind, id, attrs, None),
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            db.delete(&actor(), &b, kind, id, None),
            Err(StoreError::NotFound)
        ));
        let page = db.list(&b, kind, &Default::default()).unwrap();
        assert_eq!(page.total_results, 0);
        assert!(page.resources.is_empty());
    }
    // A group of tenant b cannot reference a's user or group.
    for id in [&u.id, &g.id] {
        let err = db
            .create(
                &actor(),
                &b,
                Group,
                group_attrs(json!({"displayName": "B", "members": [{"value": id}]})),
            )
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::InvalidReference { value } if value == id),
            "{err:?}"
        );
    }
    // Filters on ids and members of the other tenant find nothing.
    let f = Filter::ValuePath(
        AttrPath::new("members"),
        Box::new(Filter::Compare(
            AttrPath::new("value"),
            CompareOp::Eq,
            CompValue::String(u.id.clone()),
        )),
    );
    let p = ListParams {
        filter: Some(f),
        ..Default::default()
    };
    assert_eq!(db.list(&a, Group, &p).unwrap().total_results, 1);
    assert_eq!(db.list(&b, Group, &p).unwrap().total_results, 0);
    // Still intact in a, and b's log is empty of a's changes.
    assert_eq!(db.get(&a, User, &u.id).unwrap().user_name(), Some("alice"));
    assert_eq!(
        db.get(&a, Group, &g.id).unwrap().attributes["members"][0]["value"],
        json!(u.id)
    );
    assert!(db.list_log(&b, &LogQuery::default()).unwrap().is_empty());
    assert_eq!(db.list_log(&a, &LogQuery::default()).unwrap().len(), 2);
}
