//! Organization-defined extension schemas: put, list, remove, the `schema_version` bump in
//! the same transaction, refusals that write nothing, tenant isolation, tenant deletion,
//! and filters on extension attributes through the store's list path.

use crate::support::*;
use scim_core::ResourceKind::{Group, User};
use scim_core::ScimError;
use scim_core::filter::parse_filter;
use scim_core::resource::parse_resource_in;
use scim_core::schema::document::parse_schema_document;
use scim_core::schema::registry::{Extension, Registry};
use scim_store::{
    ListParams, NewTenantSchema, ResourceRepo, Store, StoreError, TenantRepo, TenantSchemaRepo,
};
use serde_json::json;

const URN: &str = "urn:example:acme:User";

fn new_schema(urn: &str, kind: scim_core::ResourceKind) -> NewTenantSchema {
    let doc = json!({"id": urn, "name": "Acme", "attributes": [
        {"name": "badge", "type": "integer"}, {"name": "costCode", "type": "string"}]});
    let parsed = parse_schema_document(&doc.to_string()).unwrap();
    NewTenantSchema {
        id: urn.to_string(),
        extends: kind,
        required: false,
        document: parsed.canonical,
    }
}

fn accept(_: &[scim_store::TenantSchema]) -> Result<(), ScimError> {
    Ok(())
}

pub fn tenant_schemas_put_list_remove_and_version(db: &TestDb) {
    let t = tenant(db);
    assert_eq!(db.get_tenant(&t).unwrap().schema_version, 0);
    assert!(db.list_tenant_schemas(&t).unwrap().is_empty());
    let row = db
        .put_tenant_schema(&t, &new_schema(URN, User), &mut accept)
        .unwrap();
    assert!(row.active && row.extends == User);
    assert_eq!(db.get_tenant(&t).unwrap().schema_version, 1);
    let listed = db.list_tenant_schemas(&t).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, URN);
    assert_eq!(listed[0].document, row.document);
    // Replace (the URN matched ignoring case): one row, the check saw the stored one.
    let mut seen = 0;
    let mut upper = new_schema(&URN.to_uppercase(), User);
    upper.required = true;
    db.put_tenant_schema(&t, &upper, &mut |existing| {
        seen = existing.len();
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, 1);
    let listed = db.list_tenant_schemas(&t).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].required);
    assert_eq!(listed[0].created, row.created, "created is kept on replace");
    assert_eq!(db.get_tenant(&t).unwrap().schema_version, 2);
    // A refused put writes nothing, the version included.
    let e = db
        .put_tenant_schema(&t, &new_schema("urn:example:other", Group), &mut |_| {
            Err(ScimError::invalid_value("no"))
        })
        .unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)));
    assert_eq!(db.list_tenant_schemas(&t).unwrap().len(), 1);
    assert_eq!(db.get_tenant(&t).unwrap().schema_version, 2);
    // Remove: the row stays, inactive; a second remove finds nothing.
    db.remove_tenant_schema(&t, URN).unwrap();
    let listed = db.list_tenant_schemas(&t).unwrap();
    assert!(!listed[0].active);
    assert_eq!(db.get_tenant(&t).unwrap().schema_version, 3);
    assert!(matches!(
        db.remove_tenant_schema(&t, URN),
        Err(StoreError::NotFound)
    ));
    assert_eq!(db.get_tenant(&t).unwrap().schema_version, 3);
    // Put again: active.
    db.put_tenant_schema(&t, &new_schema(URN, User), &mut accept)
        .unwrap();
    assert!(db.list_tenant_schemas(&t).unwrap()[0].active);
    // Unknown tenants.
    assert!(matches!(
        db.put_tenant_schema("nope", &new_schema(URN, User), &mut accept),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.list_tenant_schemas("nope"),
        Err(StoreError::NotFound)
    ));
}

pub fn tenant_schemas_are_isolated_and_deleted_with_the_tenant(db: &TestDb) {
    let (a, b) = (tenant(db), tenant(db));
    db.put_tenant_schema(&a, &new_schema(URN, User), &mut accept)
        .unwrap();
    assert!(db.list_tenant_schemas(&b).unwrap().is_empty());
    assert_eq!(db.get_tenant(&b).unwrap().schema_version, 0);
    assert!(matches!(
        db.remove_tenant_schema(&b, URN),
        Err(StoreError::NotFound)
    ));
    db.put_tenant_schema(&b, &new_schema(URN, Group), &mut accept)
        .unwrap();
    assert_eq!(db.list_tenant_schemas(&a).unwrap()[0].extends, User);
    assert_eq!(db.list_tenant_schemas(&b).unwrap()[0].extends, Group);
    db.delete_tenant(&a).unwrap();
    assert_eq!(db.list_tenant_schemas(&b).unwrap().len(), 1);
    // The session reads the same rows.
    let mut s = db.session(scim_store::Access::Read).unwrap();
    assert_eq!(s.tenant_schemas(&b).unwrap().len(), 1);
    assert!(s.tenant_schemas(&a).unwrap().is_empty());
}

pub fn tenant_schemas_filter_on_extension_attributes(db: &TestDb) {
    let t = tenant(db);
    let schema = parse_schema_document(&new_schema(URN, User).document)
        .unwrap()
        .schema;
    let registry = Registry::new(
        &[Extension {
            schema,
            extends: User,
            required: false,
        }],
        &[],
    );
    let rt = registry.resource_type(User);
    for (name, badge) in [("a", 1), ("b", 7), ("c", 7)] {
        let attrs =
            parse_resource_in(rt, &json!({"userName": name, URN: {"badge": badge}})).unwrap();
        db.create(&actor(), &t, User, attrs).unwrap();
    }
    let list = |f: &str, typed: bool| {
        let params = ListParams {
            filter: Some(parse_filter(f).unwrap()),
            resource_type: typed.then_some(rt),
            ..Default::default()
        };
        let page = db.list(&t, User, &params).unwrap();
        let mut names: Vec<String> = page
            .resources
            .iter()
            .map(|r| r.user_name().unwrap().to_string())
            .collect();
        names.sort();
        (page.total_results, names)
    };
    assert_eq!(
        list(&format!("{URN}:badge eq 7"), true),
        (2, vec!["b".into(), "c".into()])
    );
    assert_eq!(list("badge gt 3", true).0, 2);
    assert_eq!(
        list(&format!("{URN}:badge eq 7 and userName eq \"b\""), true),
        (1, vec!["b".into()])
    );
    assert_eq!(
        list(&format!("{URN}:badge lt 7 or userName eq \"c\""), true).0,
        2
    );
    // Against the static type the attribute is unknown: nothing matches.
    assert_eq!(list(&format!("{URN}:badge eq 7"), false).0, 0);
}
