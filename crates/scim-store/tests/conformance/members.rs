//! Group membership: derived `members`/`groups`, reference rules, deletes.

use crate::support::*;
use scim_core::ResourceKind::{Group, User};
use scim_store::{ListParams, ResourceRepo, StoreError};
use serde_json::json;

pub fn members_and_groups_are_derived(db: &TestDb) {
    let t = tenant(db);
    let u1 = create_user(db, &t, "u1");
    let u2 = create_user(db, &t, "u2");
    let inner = create_group(db, &t, "Inner", &[&u2.id]);
    let outer = create_group(db, &t, "Outer", &[&u1.id, &inner.id, &u1.id]);
    let members = outer.attributes["members"].as_array().unwrap().clone();
    assert_eq!(members.len(), 2, "duplicates collapse: {members:?}");
    let find = |id: &str| members.iter().find(|m| m["value"] == id).unwrap().clone();
    assert_eq!(
        find(&u1.id),
        json!({"value": u1.id, "display": "u1", "type": "User"})
    );
    assert_eq!(
        find(&inner.id),
        json!({"value": inner.id, "display": "Inner", "type": "Group"})
    );
    // Users carry their direct groups, derived from the same rows.
    let u1r = db.get(&t, User, &u1.id).unwrap();
    assert_eq!(
        u1r.attributes["groups"],
        json!([{"value": outer.id, "display": "Outer", "type": "direct"}])
    );
    let u2r = db.get(&t, User, &u2.id).unwrap();
    assert_eq!(u2r.attributes["groups"][0]["value"], json!(inner.id));
    // `groups` sent by a client is never stored.
    let mut attrs = u1r.attributes.clone();
    attrs.insert("groups".into(), json!([{"value": "forged"}]));
    let again = db.replace(&actor(), &t, User, &u1.id, attrs, None).unwrap();
    assert_eq!(
        again.meta.version, u1r.meta.version,
        "groups is not an attribute change"
    );
    // Lists load relations for the whole page.
    let page = db.list(&t, Group, &ListParams::default()).unwrap();
    let outer_listed = page.resources.iter().find(|g| g.id == outer.id).unwrap();
    assert_eq!(
        outer_listed.attributes["members"].as_array().unwrap().len(),
        2
    );
    let users = db.list(&t, User, &ListParams::default()).unwrap();
    assert!(
        users
            .resources
            .iter()
            .all(|u| u.attributes.contains_key("groups"))
    );
    // Membership-only change.
    let mut g = outer.attributes.clone();
    g.insert("members".into(), json!([{"value": u2.id}]));
    let changed = db
        .replace(&actor(), &t, Group, &outer.id, g, Some(1))
        .unwrap();
    assert_eq!(changed.meta.version, 2);
    assert_eq!(
        changed.attributes["members"],
        json!([{"value": u2.id, "display": "u2", "type": "User"}])
    );
    assert!(
        db.get(&t, User, &u1.id)
            .unwrap()
            .attributes
            .get("groups")
            .is_none()
    );
}

pub fn invalid_and_cross_tenant_members_are_rejected(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "m");
    let err = db
        .create(
            &actor(),
            &t,
            Group,
            group_attrs(
                json!({"displayName": "G", "members": [{"value": u.id}, {"value": "nope"}]}),
            ),
        )
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::InvalidReference { value } if value == "nope"),
        "{err:?}"
    );
    assert_eq!(
        db.list(&t, Group, &Default::default())
            .unwrap()
            .total_results,
        0,
        "nothing half-created"
    );
    let g = create_group(db, &t, "G", &[&u.id]);
    let mut attrs = g.attributes.clone();
    attrs.insert("members".into(), json!([{"value": g.id}]));
    let err = db
        .replace(&actor(), &t, Group, &g.id, attrs, None)
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::InvalidReference { value } if value == &g.id),
        "{err:?}"
    );
    let other = tenant(db);
    let foreign = create_user(db, &other, "foreign");
    let mut attrs = g.attributes.clone();
    attrs.insert("members".into(), json!([{"value": foreign.id}]));
    assert!(matches!(
        db.replace(&actor(), &t, Group, &g.id, attrs, None),
        Err(StoreError::InvalidReference { .. })
    ));
    // Unchanged after the failures.
    let now = db.get(&t, Group, &g.id).unwrap();
    assert_eq!(now.meta.version, 1);
    assert_eq!(now.attributes["members"][0]["value"], json!(u.id));
}

pub fn deleting_removes_memberships(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "leaver");
    let stay = create_user(db, &t, "stayer");
    let child = create_group(db, &t, "Child", &[&stay.id]);
    let g = create_group(db, &t, "Parent", &[&u.id, &stay.id, &child.id]);
    db.delete(&actor(), &t, User, &u.id, None).unwrap();
    let after = db.get(&t, Group, &g.id).unwrap();
    let ids: Vec<_> = after.attributes["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].clone())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(!ids.contains(&json!(u.id)));
    assert!(
        after.meta.version > g.meta.version,
        "the group's members changed"
    );
    db.delete(&actor(), &t, Group, &child.id, None).unwrap();
    let after = db.get(&t, Group, &g.id).unwrap();
    assert_eq!(
        after.attributes["members"],
        json!([{"value": stay.id, "display": "stayer", "type": "User"}])
    );
    db.delete(&actor(), &t, Group, &g.id, None).unwrap();
    assert!(
        db.get(&t, User, &stay.id)
            .unwrap()
            .attributes
            .get("groups")
            .is_none()
    );
    // A recreated user with the same name is not a member of anything.
    let back = create_user(db, &t, "leaver");
    assert!(back.attributes.get("groups").is_none());
}

pub fn list_without_relations_skips_them(db: &TestDb) {
    let t = tenant(db);
    let u = create_user(db, &t, "x");
    create_group(db, &t, "G", &[&u.id]);
    let p = ListParams {
        with_relations: false,
        ..Default::default()
    };
    let groups = db.list(&t, Group, &p).unwrap();
    assert!(groups.resources[0].attributes.get("members").is_none());
    let users = db.list(&t, User, &p).unwrap();
    assert!(users.resources[0].attributes.get("groups").is_none());
}
