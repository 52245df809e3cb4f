//! Roles, entitlements and custom entitlement types: CRUD, uniqueness, paging, filters,
//! the session reads (types, pages, catalog) and tenant isolation.

use crate::support::TestDb;
use scim_core::entitlements::{EntitlementKind, ValueFilter};
use scim_store::{Access, EntitlementRepo, Store, StoreError, TenantRepo, ValueQuery};

fn kind(s: &str) -> EntitlementKind {
    EntitlementKind::parse(s)
}

fn query(k: Option<&str>, start_index: u64, count: u64) -> ValueQuery {
    ValueQuery {
        kind: k.map(kind),
        filter: None,
        start_index,
        count,
    }
}

pub fn values_crud_and_uniqueness(db: &TestDb) {
    let t = db.create_tenant("Acme").unwrap().id;
    let admin = db
        .add_entitlement_value(&t, &EntitlementKind::Role, "admin", "Administrator")
        .unwrap();
    assert_eq!(admin.kind, EntitlementKind::Role);
    assert_eq!(admin.value, "admin");
    assert_eq!(admin.display, "Administrator");
    // The same value is another value in another kind, and a conflict in the same kind.
    db.add_entitlement_value(&t, &EntitlementKind::Entitlement, "admin", "Admin seat")
        .unwrap();
    let dup = db.add_entitlement_value(&t, &EntitlementKind::Role, "admin", "Again");
    assert!(
        matches!(&dup, Err(StoreError::Conflict { attribute }) if attribute == "value"),
        "{dup:?}"
    );
    // Values compare exactly: another letter case is another value.
    db.add_entitlement_value(&t, &EntitlementKind::Role, "Admin", "Capital")
        .unwrap();
    let roles = db
        .list_entitlement_values(&t, &query(Some("role"), 1, 100))
        .unwrap();
    assert_eq!(roles.total_results, 2);
    assert_eq!(roles.values[0], admin);
    let all = db
        .list_entitlement_values(&t, &query(None, 1, 100))
        .unwrap();
    assert_eq!(all.total_results, 3);
    // Bad definitions are refused by the store itself (every path goes through it).
    for (v, d) in [("", "x"), ("a\u{0}", "x"), ("a", "x\ny")] {
        let e = db.add_entitlement_value(&t, &EntitlementKind::Role, v, d);
        assert!(matches!(e, Err(StoreError::Rejected(_))), "{v:?}: {e:?}");
    }
    // Removal returns the value and makes it unknown.
    let gone = db.remove_entitlement_value(&t, &admin.id).unwrap();
    assert_eq!(gone, admin);
    assert!(matches!(
        db.remove_entitlement_value(&t, &admin.id),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.remove_entitlement_value(&t, "a\u{0}b"),
        Err(StoreError::NotFound)
    ));
    // Unknown tenants are NotFound everywhere.
    assert!(matches!(
        db.add_entitlement_value("nope", &EntitlementKind::Role, "x", "x"),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.list_entitlement_values("nope", &ValueQuery::default()),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.list_entitlement_types("nope"),
        Err(StoreError::NotFound)
    ));
}

pub fn custom_types_crud(db: &TestDb) {
    let t = db.create_tenant("Acme").unwrap().id;
    // A value of a type that does not exist is refused.
    let e = db.add_entitlement_value(&t, &kind("License"), "pro", "Pro");
    assert!(matches!(e, Err(StoreError::Rejected(_))), "{e:?}");
    let lic = db
        .add_entitlement_type(&t, "License", "License", "/Licenses")
        .unwrap();
    assert_eq!(lic.endpoint, "/Licenses");
    // Ids and endpoints are unique ignoring letter case.
    let e = db.add_entitlement_type(&t, "LICENSE", "x", "/Other");
    assert!(
        matches!(&e, Err(StoreError::Conflict { attribute }) if attribute == "id"),
        "{e:?}"
    );
    let e = db.add_entitlement_type(&t, "Seat", "Seat", "/licenses");
    assert!(
        matches!(&e, Err(StoreError::Conflict { attribute }) if attribute == "endpoint"),
        "{e:?}"
    );
    // Built-in names are refused.
    for (id, endpoint) in [("Role", "/X"), ("Seat", "/Users"), ("Seat", "Seats")] {
        let e = db.add_entitlement_type(&t, id, id, endpoint);
        assert!(matches!(e, Err(StoreError::Rejected(_))), "{id} {endpoint}");
    }
    db.add_entitlement_type(&t, "Profile", "Profiles", "/Profiles")
        .unwrap();
    let types = db.list_entitlement_types(&t).unwrap();
    assert_eq!(
        types.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["License", "Profile"]
    );
    // The kind of a value is the type's own id, whatever case the caller used.
    let pro = db
        .add_entitlement_value(&t, &kind("license"), "pro", "Pro")
        .unwrap();
    assert_eq!(pro.kind, kind("License"));
    let page = db
        .list_entitlement_values(&t, &query(Some("LICENSE"), 1, 10))
        .unwrap();
    assert_eq!(page.values, vec![pro.clone()]);
    // A type with values is refused removal; once empty it goes.
    let e = db.remove_entitlement_type(&t, "License");
    match e {
        Err(StoreError::Rejected(s)) => assert_eq!(s.status(), 409),
        other => panic!("{other:?}"),
    }
    db.remove_entitlement_value(&t, &pro.id).unwrap();
    db.remove_entitlement_type(&t, "license").unwrap();
    assert!(matches!(
        db.remove_entitlement_type(&t, "License"),
        Err(StoreError::NotFound)
    ));
    assert_eq!(db.list_entitlement_types(&t).unwrap().len(), 1);
}

pub fn value_pages_and_filters(db: &TestDb) {
    let t = db.create_tenant("Acme").unwrap().id;
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(
            db.add_entitlement_value(
                &t,
                &EntitlementKind::Role,
                &format!("role-{i}"),
                &format!("Role {i}"),
            )
            .unwrap(),
        );
    }
    db.add_entitlement_value(&t, &EntitlementKind::Entitlement, "e", "E")
        .unwrap();
    // The order is (created, id): values defined within one millisecond go by id.
    let mut ordered = made.clone();
    ordered.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    // Okta's entitlement test: count=1&startIndex=1.
    let first = db
        .list_entitlement_values(&t, &query(Some("role"), 1, 1))
        .unwrap();
    assert_eq!(first.total_results, 7);
    assert_eq!(first.values, vec![ordered[0].clone()]);
    // Pages of three walk the kind in definition order, each value once.
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let page = db
            .list_entitlement_values(&t, &query(Some("role"), start, 3))
            .unwrap();
        assert_eq!(page.total_results, 7);
        if page.values.is_empty() {
            break;
        }
        start += page.values.len() as u64;
        seen.extend(page.values);
    }
    assert_eq!(seen, ordered);
    let none = db
        .list_entitlement_values(&t, &query(Some("role"), 1, 0))
        .unwrap();
    assert_eq!((none.total_results, none.values.len()), (7, 0));
    for (filter, want) in [
        (ValueFilter::Value("role-3".into()), Some(3)),
        (ValueFilter::Display("Role 5".into()), Some(5)),
        (ValueFilter::Id(made[6].id.clone()), Some(6)),
        (ValueFilter::Value("ROLE-3".into()), None),
        (ValueFilter::Value("e".into()), None),
    ] {
        let page = db
            .list_entitlement_values(
                &t,
                &ValueQuery {
                    filter: Some(filter.clone()),
                    ..query(Some("role"), 1, 10)
                },
            )
            .unwrap();
        match want {
            Some(i) => assert_eq!(page.values, vec![made[i].clone()], "{filter:?}"),
            None => assert_eq!(page.total_results, 0, "{filter:?}"),
        }
    }
}

pub fn session_reads_types_pages_and_catalog(db: &TestDb) {
    let t = db.create_tenant("Acme").unwrap().id;
    let mut s = db.session(Access::Read).unwrap();
    assert!(s.entitlement_catalog(&t).unwrap().is_empty());
    assert!(s.entitlement_types(&t).unwrap().is_empty());
    drop(s);
    db.add_entitlement_type(&t, "License", "License", "/Licenses")
        .unwrap();
    let pro = db
        .add_entitlement_value(&t, &kind("License"), "pro", "Pro")
        .unwrap();
    let admin = db
        .add_entitlement_value(&t, &EntitlementKind::Role, "admin", "Admin")
        .unwrap();
    let mut s = db.session(Access::Write).unwrap();
    assert_eq!(s.entitlement_types(&t).unwrap()[0].endpoint, "/Licenses");
    let page = s
        .list_entitlement_values(&t, &query(Some("License"), 1, 10))
        .unwrap();
    assert_eq!(page.values, vec![pro]);
    let catalog = s.entitlement_catalog(&t).unwrap();
    let user = |roles: &str, ents: &str| {
        serde_json::json!({"roles": [{"value": roles}], "entitlements": [{"value": ents}]})
            .as_object()
            .cloned()
            .unwrap()
    };
    assert!(catalog.check(None, &user("admin", "pro")).is_ok());
    assert!(catalog.check(None, &user(&admin.id, "pro")).is_ok());
    assert!(catalog.check(None, &user("root", "pro")).is_err());
    assert!(catalog.check(None, &user("admin", "free")).is_err());
}

pub fn values_are_tenant_scoped(db: &TestDb) {
    let a = db.create_tenant("A").unwrap().id;
    let b = db.create_tenant("B").unwrap().id;
    db.add_entitlement_type(&a, "License", "License", "/Licenses")
        .unwrap();
    let role = db
        .add_entitlement_value(&a, &EntitlementKind::Role, "admin", "Admin")
        .unwrap();
    // B may define the same type and value: nothing is shared.
    db.add_entitlement_type(&b, "License", "License", "/Licenses")
        .unwrap();
    db.add_entitlement_value(&b, &EntitlementKind::Role, "admin", "Admin")
        .unwrap();
    assert!(matches!(
        db.remove_entitlement_value(&b, &role.id),
        Err(StoreError::NotFound)
    ));
    let by_id = ValueQuery {
        filter: Some(ValueFilter::Id(role.id.clone())),
        ..ValueQuery::default()
    };
    assert_eq!(
        db.list_entitlement_values(&b, &by_id)
            .unwrap()
            .total_results,
        0
    );
    assert_eq!(
        db.list_entitlement_values(&a, &by_id)
            .unwrap()
            .total_results,
        1
    );
    let mut s = db.session(Access::Read).unwrap();
    let holds = serde_json::json!({"roles": [{"value": role.id}]});
    let catalog = s.entitlement_catalog(&b).unwrap();
    assert!(catalog.check(None, holds.as_object().unwrap()).is_err());
    drop(s);
    // Deleting A leaves B's catalog whole.
    db.delete_tenant(&a).unwrap();
    assert_eq!(
        db.list_entitlement_values(&b, &ValueQuery::default())
            .unwrap()
            .total_results,
        1
    );
    assert_eq!(db.list_entitlement_types(&b).unwrap().len(), 1);
    assert!(matches!(
        db.list_entitlement_types(&a),
        Err(StoreError::NotFound)
    ));
}

/// Definitions made in the same millisecond keep their order (ids are random, so the
/// order cannot come from them).
pub fn quick_definitions_keep_their_order(db: &TestDb) {
    let t = db.create_tenant("Acme").unwrap().id;
    let mut added = Vec::new();
    for i in 0..30 {
        let v = db
            .add_entitlement_value(&t, &EntitlementKind::Role, &format!("r{i}"), "")
            .unwrap();
        added.push(v.id);
    }
    let listed: Vec<String> = db
        .list_entitlement_values(&t, &query(Some("role"), 1, 100))
        .unwrap()
        .values
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(listed, added);
    for i in 0..10 {
        db.add_entitlement_type(&t, &format!("T{i}"), &format!("T{i}"), &format!("/T{i}s"))
            .unwrap();
    }
    let types: Vec<String> = db
        .list_entitlement_types(&t)
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    let expected: Vec<String> = (0..10).map(|i| format!("T{i}")).collect();
    assert_eq!(types, expected);
}
