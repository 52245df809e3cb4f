//! Organization-defined extension schemas: the document parser (every invalid case named),
//! interning, and resolution, validation, PATCH, PUT, projection and filtering with a
//! tenant's own resource type.

// Shared helpers of the tests below: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scim_core::filter::CompiledFilter;
use scim_core::patch::{PatchRequest, apply_patch_in};
use scim_core::projection::Projection;
use scim_core::replace::replace_resource_in;
use scim_core::resource::parse_resource_in;
use scim_core::schema::document::{MAX_ATTRIBUTES, parse_schema_document};
use scim_core::schema::registry::{Extension, Registry, Stored, check_put, incompatibilities};
use scim_core::schema::{AttributeType, Mutability, ResourceKind, ResourceType, Returned};
use scim_core::{Profile, ScimType};
use serde_json::{Value, json};

const URN: &str = "urn:example:acme:2.0:User";

fn doc() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": URN,
        "name": "AcmeUser",
        "description": "Acme's attributes",
        "attributes": [
            {"name": "badge", "type": "integer", "multiValued": false, "required": false},
            {"name": "costCode", "type": "string", "caseExact": true,
             "canonicalValues": ["A1", "B2"]},
            {"name": "secret", "type": "string", "returned": "never"},
            {"name": "nick", "type": "string", "returned": "request"},
            {"name": "clearance", "type": "string", "mutability": "readOnly"},
            {"name": "hired", "type": "dateTime"},
            {"name": "homepage", "type": "reference", "referenceTypes": ["external"]},
            {"name": "skills", "type": "complex", "multiValued": true, "subAttributes": [
                {"name": "value", "type": "string", "required": true},
                {"name": "level", "type": "integer"}
            ]}
        ]
    })
}

fn parse(v: &Value) -> Result<&'static scim_core::schema::Schema, String> {
    parse_schema_document(&v.to_string())
        .map(|d| d.schema)
        .map_err(|e| e.detail().to_string())
}

fn registry_with(extra: Value, required: bool) -> Registry {
    let schema = parse(&extra).unwrap();
    Registry::new(
        &[Extension {
            schema,
            extends: ResourceKind::User,
            required,
        }],
        &[],
    )
}

fn user_rt() -> &'static ResourceType {
    registry_with(doc(), false).resource_type(ResourceKind::User)
}

#[test]
fn a_full_document_keeps_every_characteristic() {
    let s = parse(&doc()).unwrap();
    assert_eq!(s.id, URN);
    assert_eq!(s.name, "AcmeUser");
    assert!(s.closed);
    let badge = s.attribute("BADGE").unwrap();
    assert_eq!(badge.ty, AttributeType::Integer);
    let cost = s.attribute("costcode").unwrap();
    assert!(cost.case_exact);
    assert_eq!(cost.canonical_values, ["A1", "B2"]);
    assert_eq!(s.attribute("secret").unwrap().returned, Returned::Never);
    assert_eq!(
        s.attribute("clearance").unwrap().mutability,
        Mutability::ReadOnly
    );
    assert_eq!(
        s.attribute("homepage").unwrap().reference_types,
        ["external"]
    );
    let skills = s.attribute("skills").unwrap();
    assert!(skills.multi_valued && skills.is_complex());
    assert!(skills.sub_attribute("value").unwrap().required);
    // What /Schemas publishes is the document back, every characteristic spelled out.
    let rendered = scim_core::discovery::schema_json(s, "https://h/scim/v2/t");
    assert_eq!(rendered["id"], URN);
    assert_eq!(rendered["attributes"][0]["mutability"], "readWrite");
    assert_eq!(
        rendered["attributes"][7]["subAttributes"][1]["type"],
        "integer"
    );
}

#[test]
fn interning_returns_the_same_pointer_for_the_same_document() {
    let a = parse_schema_document(&doc().to_string()).unwrap();
    // The same content with other spacing, defaults spelled out or not: one definition.
    let b = parse_schema_document(&serde_json::to_string_pretty(&doc()).unwrap()).unwrap();
    let c = parse_schema_document(&a.canonical).unwrap();
    assert!(std::ptr::eq(a.schema, b.schema));
    assert!(std::ptr::eq(a.schema, c.schema));
    assert_eq!(a.canonical, c.canonical);
    let mut other = doc();
    other["description"] = json!("changed");
    assert!(!std::ptr::eq(parse(&other).unwrap(), a.schema));
    // Resource types too: the same extensions give the same &'static ResourceType.
    let r1 = registry_with(doc(), false);
    let r2 = registry_with(doc(), false);
    assert!(std::ptr::eq(
        r1.resource_type(ResourceKind::User),
        r2.resource_type(ResourceKind::User)
    ));
    assert!(!std::ptr::eq(
        r1.resource_type(ResourceKind::User),
        registry_with(doc(), true).resource_type(ResourceKind::User)
    ));
    // The Group type is untouched by a User extension: the static one.
    assert!(std::ptr::eq(
        r1.resource_type(ResourceKind::Group),
        ResourceKind::Group.resource_type()
    ));
    assert!(Registry::STATIC.is_static() && !r1.is_static());
}

#[test]
fn invalid_documents_are_refused_naming_the_problem() {
    let with_attr = |a: Value| json!({"id": URN, "name": "X", "attributes": [a]});
    let many: Vec<Value> = (0..=MAX_ATTRIBUTES)
        .map(|i| json!({"name": format!("a{i}"), "type": "string"}))
        .collect();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("not an object", json!([1]), "JSON object"),
        ("no id", json!({"name": "X", "attributes": []}), "'id'"),
        (
            "not a urn",
            json!({"id": "acme", "name": "X", "attributes": [{"name": "a", "type": "string"}]}),
            "must be a URN",
        ),
        (
            "core urn",
            json!({"id": "urn:ietf:params:scim:schemas:core:2.0:User", "name": "X", "attributes": [{"name": "a", "type": "string"}]}),
            "reserved",
        ),
        (
            "enterprise urn",
            json!({"id": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "name": "X", "attributes": [{"name": "a", "type": "string"}]}),
            "reserved",
        ),
        (
            "enterprise, other version",
            json!({"id": "urn:ietf:params:scim:schemas:extension:enterprise:2.1:User", "name": "X", "attributes": [{"name": "a", "type": "string"}]}),
            "reserved",
        ),
        (
            "message urn",
            json!({"id": "urn:ietf:params:scim:api:messages:2.0:PatchOp", "name": "X", "attributes": [{"name": "a", "type": "string"}]}),
            "reserved",
        ),
        (
            "other ietf scim urn",
            json!({"id": "urn:ietf:params:scim:foo:x", "name": "X", "attributes": [{"name": "a", "type": "string"}]}),
            "reserved",
        ),
        (
            "space in urn",
            json!({"id": "urn:acme:my ext", "name": "X", "attributes": [{"name": "a", "type": "string"}]}),
            "character",
        ),
        (
            "empty urn part",
            json!({"id": "urn:acme::x", "name": "X", "attributes": [{"name": "a", "type": "string"}]}),
            "empty part",
        ),
        (
            "no name",
            json!({"id": URN, "attributes": [{"name": "a", "type": "string"}]}),
            "'name'",
        ),
        (
            "no attributes",
            json!({"id": URN, "name": "X"}),
            "'attributes'",
        ),
        (
            "empty attributes",
            json!({"id": URN, "name": "X", "attributes": []}),
            "no attribute",
        ),
        (
            "unknown member",
            json!({"id": URN, "name": "X", "attrs": [], "attributes": [{"name": "a", "type": "string"}]}),
            "'attrs'",
        ),
        (
            "wrong schemas",
            json!({"schemas": ["urn:x:y"], "id": URN, "name": "X", "attributes": [{"name": "a", "type": "string"}]}),
            "'schemas'",
        ),
        (
            "bad name",
            with_attr(json!({"name": "1badge", "type": "string"})),
            "'1badge'",
        ),
        (
            "dotted name",
            with_attr(json!({"name": "a.b", "type": "string"})),
            "'a.b'",
        ),
        (
            "no type",
            with_attr(json!({"name": "badge"})),
            "attribute 'badge': 'type' is required",
        ),
        (
            "unknown type",
            with_attr(json!({"name": "badge", "type": "float"})),
            "attribute 'badge': 'type' is 'float'",
        ),
        (
            "unknown characteristic",
            with_attr(json!({"name": "badge", "type": "string", "indexed": true})),
            "'indexed'",
        ),
        (
            "non-boolean flag",
            with_attr(json!({"name": "badge", "type": "string", "required": "yes"})),
            "'required' must be true or false",
        ),
        (
            "bad mutability",
            with_attr(json!({"name": "badge", "type": "string", "mutability": "sometimes"})),
            "'mutability'",
        ),
        (
            "writeOnly",
            with_attr(json!({"name": "pin", "type": "string", "mutability": "writeOnly"})),
            "attribute 'pin': 'mutability' writeOnly",
        ),
        (
            "uniqueness",
            with_attr(json!({"name": "badge", "type": "string", "uniqueness": "server"})),
            "attribute 'badge': 'uniqueness' server",
        ),
        (
            "bad returned",
            with_attr(json!({"name": "badge", "type": "string", "returned": "sometimes"})),
            "'returned'",
        ),
        (
            "reference without types",
            with_attr(json!({"name": "site", "type": "reference"})),
            "attribute 'site': a reference needs 'referenceTypes'",
        ),
        (
            "referenceTypes on a string",
            with_attr(json!({"name": "badge", "type": "string", "referenceTypes": ["User"]})),
            "only for attributes of type reference",
        ),
        (
            "subAttributes on a string",
            with_attr(
                json!({"name": "badge", "type": "string", "subAttributes": [{"name": "x", "type": "string"}]}),
            ),
            "attribute 'badge': only complex",
        ),
        (
            "complex without subs",
            with_attr(json!({"name": "office", "type": "complex"})),
            "attribute 'office': a complex attribute needs 'subAttributes'",
        ),
        (
            "nested complex",
            with_attr(
                json!({"name": "office", "type": "complex", "subAttributes": [
            {"name": "room", "type": "complex", "subAttributes": [{"name": "n", "type": "string"}]}]}),
            ),
            "attribute 'office.room': a sub-attribute cannot be complex",
        ),
        (
            "bad sub name",
            with_attr(
                json!({"name": "office", "type": "complex", "subAttributes": [{"name": "_x", "type": "string"}]}),
            ),
            "'office._x'",
        ),
        (
            "duplicate names",
            json!({"id": URN, "name": "X", "attributes": [
            {"name": "badge", "type": "string"}, {"name": "BADGE", "type": "integer"}]}),
            "attribute 'BADGE' is defined twice",
        ),
        (
            "duplicate sub names",
            with_attr(
                json!({"name": "office", "type": "complex", "subAttributes": [
            {"name": "room", "type": "string"}, {"name": "Room", "type": "string"}]}),
            ),
            "attribute 'office.Room' is defined twice",
        ),
        (
            "bad canonical values",
            with_attr(json!({"name": "badge", "type": "string", "canonicalValues": [1]})),
            "'canonicalValues'",
        ),
        (
            "too many attributes",
            json!({"id": URN, "name": "X", "attributes": many}),
            "more than 100",
        ),
    ];
    for (what, document, expected) in cases {
        let err = parse_schema_document(&document.to_string()).expect_err(what);
        assert!(
            err.detail().contains(expected),
            "{what}: {:?} does not contain {expected:?}",
            err.detail()
        );
        assert!(
            matches!(
                err.scim_type(),
                Some(ScimType::InvalidValue | ScimType::InvalidSyntax)
            ),
            "{what}"
        );
        assert_eq!(err.status(), 400, "{what}");
    }
    assert!(parse_schema_document("{not json").is_err());
    // Entra ID's custom extension URNs are allowed.
    let entra = json!({"id": "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User",
        "name": "CustomExtension", "attributes": [{"name": "CustomAttribute", "type": "string"}]});
    assert!(parse(&entra).is_ok());
    let huge = format!(
        "{{\"id\": \"{URN}\", \"name\": \"{}\"}}",
        "x".repeat(70_000)
    );
    assert!(
        parse_schema_document(&huge)
            .unwrap_err()
            .detail()
            .contains("bytes")
    );
}

#[test]
fn extension_attributes_resolve_and_are_validated_on_create() {
    let rt = user_rt();
    let r = rt.resolve(Some(URN), "Badge").unwrap();
    assert_eq!(r.extension, Some(URN));
    assert_eq!(rt.resolve(None, "costCode").unwrap().extension, Some(URN));
    let ok = parse_resource_in(
        rt,
        &json!({"userName": "ada", URN: {"badge": 7, "clearance": "top", "skills": [{"value": "rust"}]}}),
    )
    .unwrap();
    assert_eq!(ok[URN]["badge"], 7);
    assert!(ok[URN].get("clearance").is_none(), "readOnly is ignored");
    // URN-qualified keys work too.
    let flat =
        parse_resource_in(rt, &json!({"userName": "ada", format!("{URN}:badge"): 8})).unwrap();
    assert_eq!(flat[URN]["badge"], 8);
    let cases = [
        (
            json!({"userName": "a", URN: {"badge": "seven"}}),
            "must be an integer",
        ),
        (
            json!({"userName": "a", URN: {"hired": "yesterday"}}),
            "xsd:dateTime",
        ),
        (
            json!({"userName": "a", URN: {"unknown": 1}}),
            "'unknown' is not an attribute",
        ),
        (
            json!({"userName": "a", format!("{URN}:unknown"): 1}),
            "'unknown' is not an attribute",
        ),
        (
            json!({"userName": "a", URN: {"skills": [{"value": "x", "color": "red"}]}}),
            "no sub-attribute 'color'",
        ),
        (
            json!({"userName": "a", URN: {"skills": [{"level": 2}]}}),
            "skills.value' is missing",
        ),
        (
            json!({"userName": "a", URN: {"skills": {"value": "x"}}}),
            "multi-valued",
        ),
    ];
    for (body, expected) in cases {
        let e = parse_resource_in(rt, &body).unwrap_err();
        assert_eq!(e.scim_type(), Some(ScimType::InvalidValue), "{body}");
        assert!(e.detail().contains(expected), "{body}: {}", e.detail());
    }
    // The static type knows nothing of it: kept as an unknown extension.
    let static_rt = ResourceKind::User.resource_type();
    assert!(parse_resource_in(static_rt, &json!({"userName": "a", URN: {"unknown": 1}})).is_ok());
}

#[test]
fn a_required_extension_and_required_attributes_are_enforced() {
    let mut d = doc();
    d["attributes"][0]["required"] = json!(true);
    let rt = registry_with(d.clone(), false).resource_type(ResourceKind::User);
    // Not required as an extension: a user without it is fine, one with it needs `badge`.
    assert!(parse_resource_in(rt, &json!({"userName": "a"})).is_ok());
    let e = parse_resource_in(rt, &json!({"userName": "a", URN: {"costCode": "A1"}})).unwrap_err();
    assert!(e.detail().contains(":badge' is missing"), "{}", e.detail());
    let required = registry_with(d, true).resource_type(ResourceKind::User);
    let e = parse_resource_in(required, &json!({"userName": "a"})).unwrap_err();
    assert!(e.detail().contains("required extension"), "{}", e.detail());
    assert!(parse_resource_in(required, &json!({"userName": "a", URN: {"badge": 1}})).is_ok());
    // PATCH cannot remove it.
    let attrs = parse_resource_in(required, &json!({"userName": "a", URN: {"badge": 1}})).unwrap();
    let req = PatchRequest::from_json(&json!({"Operations": [
        {"op": "remove", "path": format!("{URN}:badge")}]}))
    .unwrap();
    let e = apply_patch_in(required, &attrs, &req, Profile::Lenient).unwrap_err();
    assert_eq!(e.scim_type(), Some(ScimType::Mutability));
}

#[test]
fn patch_resolves_and_validates_extension_attributes() {
    let rt = user_rt();
    let attrs = parse_resource_in(rt, &json!({"userName": "a"})).unwrap();
    let patch = |ops: Value| {
        let req = PatchRequest::from_json(&json!({"Operations": ops})).unwrap();
        apply_patch_in(rt, &attrs, &req, Profile::Lenient)
    };
    let out = patch(json!([{"op": "add", "path": format!("{URN}:badge"), "value": 5}])).unwrap();
    assert_eq!(out.attributes[URN]["badge"], 5);
    let out = patch(json!([{"op": "replace", "value": {URN: {"costCode": "B2"}}}])).unwrap();
    assert_eq!(out.attributes[URN]["costCode"], "B2");
    let out = patch(json!([{"op": "add", "path": format!("{URN}:skills"), "value": [{"value": "go", "level": 3}]}])).unwrap();
    assert_eq!(out.attributes[URN]["skills"][0]["level"], 3);
    for (ops, expected) in [
        (
            json!([{"op": "add", "path": format!("{URN}:badge"), "value": "x"}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op": "replace", "value": {URN: {"nope": 1}}}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op": "replace", "value": {format!("{URN}:nope"): 1}}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op": "add", "path": format!("{URN}:skills"), "value": [{"value": "go", "color": 1}]}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op": "add", "path": format!("{URN}:nope"), "value": 1}]),
            ScimType::InvalidPath,
        ),
        (
            json!([{"op": "add", "path": format!("{URN}:clearance"), "value": "x"}]),
            ScimType::Mutability,
        ),
    ] {
        let e = patch(ops.clone()).unwrap_err();
        assert_eq!(e.scim_type(), Some(expected), "{ops}: {}", e.detail());
    }
}

#[test]
fn projection_follows_returned_for_extension_attributes() {
    let rt = user_rt();
    let mut attrs = parse_resource_in(
        rt,
        &json!({"userName": "a", URN: {"badge": 1, "secret": "s", "nick": "n"}}),
    )
    .unwrap();
    attrs.remove("active");
    let resource = |attrs: &scim_core::resource::Attributes| {
        let now = chrono::Utc::now();
        scim_core::resource::Resource {
            kind: ResourceKind::User,
            id: "u1".into(),
            attributes: attrs.clone(),
            meta: scim_core::resource::Meta {
                created: now,
                last_modified: now,
                version: 1,
            },
        }
        .into_json("https://h/scim/v2/t")
    };
    let project = |attributes: &str, excluded: &str| {
        let list = |s: &str| scim_core::list::parse_attr_list(s).unwrap();
        let p = Projection::new(
            if attributes.is_empty() {
                vec![]
            } else {
                list(attributes)
            },
            if excluded.is_empty() {
                vec![]
            } else {
                list(excluded)
            },
        );
        let mut doc = resource(&attrs);
        p.apply(rt, &mut doc);
        doc
    };
    let default = project("", "");
    assert_eq!(
        default[URN],
        json!({"badge": 1}),
        "never and request are not returned"
    );
    assert!(
        default["schemas"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == URN)
    );
    let asked = project(&format!("{URN}:nick,{URN}:secret"), "");
    assert_eq!(asked[URN], json!({"nick": "n"}), "never is never returned");
    assert!(asked.get("userName").is_none());
    let whole = project(URN, "");
    assert_eq!(whole[URN]["badge"], 1);
    assert!(whole[URN].get("secret").is_none());
    let excluded = project("", &format!("{URN}:badge"));
    assert!(excluded.get(URN).is_none(), "{excluded}");
    assert_eq!(excluded["userName"], "a");
}

#[test]
fn filters_evaluate_extension_attributes() {
    let rt = user_rt();
    let user = json!({"userName": "a", URN: {"badge": 7, "costCode": "A1", "skills": [{"value": "rust", "level": 3}]}});
    let hit = |f: &str| CompiledFilter::parse(f, rt).unwrap().matches(&user);
    assert!(hit(&format!("{URN}:badge eq 7")));
    assert!(hit(&format!("{URN}:badge gt 5")));
    assert!(!hit(&format!("{URN}:badge lt 5")));
    assert!(hit("badge eq 7"), "unqualified, like Entra sends");
    assert!(hit(&format!("{URN}:costCode eq \"A1\"")));
    assert!(!hit(&format!("{URN}:costCode eq \"a1\"")), "caseExact");
    assert!(hit(&format!(
        "{URN}:skills[value eq \"rust\" and level ge 3]"
    )));
    assert!(hit(&format!("{URN}:skills.value sw \"ru\"")));
    // Ordering a boolean or a malformed integer is refused at compile time.
    assert!(CompiledFilter::parse(&format!("{URN}:badge gt \"x\""), rt).is_err());
    // The static type does not know the attribute: the test is false.
    assert!(
        !CompiledFilter::parse(
            &format!("{URN}:badge eq 7"),
            ResourceKind::User.resource_type()
        )
        .unwrap()
        .matches(&user)
    );
}

#[test]
fn removed_extensions_are_withheld_but_kept() {
    let schema = parse(&doc()).unwrap();
    let ext = Extension {
        schema,
        extends: ResourceKind::User,
        required: false,
    };
    let active = Registry::from_stored(&[Stored {
        extension: ext,
        active: true,
    }]);
    let removed = Registry::from_stored(&[Stored {
        extension: ext,
        active: false,
    }]);
    let (rt, gone) = (
        active.resource_type(ResourceKind::User),
        removed.resource_type(ResourceKind::User),
    );
    assert!(gone.extension(URN).is_none() && gone.is_withheld(URN));
    assert!(!removed.schemas().iter().any(|s| s.id == URN));
    let stored = parse_resource_in(rt, &json!({"userName": "a", URN: {"badge": 1}})).unwrap();
    // Not returned.
    let mut doc = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", URN], "userName": "a", URN: {"badge": 1}});
    Projection::default().apply(gone, &mut doc);
    assert!(doc.get(URN).is_none());
    assert_eq!(
        doc["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
    // Not filterable.
    assert!(
        !CompiledFilter::parse(&format!("{URN}:badge eq 1"), gone)
            .unwrap()
            .matches(&doc)
    );
    // Not accepted: ignored on write, and a PUT keeps what was stored.
    let body = json!({"userName": "a", URN: {"badge": 99}});
    assert!(parse_resource_in(gone, &body).unwrap().get(URN).is_none());
    let put = replace_resource_in(gone, &stored, &body).unwrap();
    assert_eq!(put[URN]["badge"], 1);
    let req = PatchRequest::from_json(
        &json!({"Operations": [{"op": "replace", "value": {URN: {"badge": 5}}}]}),
    )
    .unwrap();
    let patched = apply_patch_in(gone, &stored, &req, Profile::Lenient).unwrap();
    assert_eq!(patched.attributes[URN]["badge"], 1);
    assert!(!patched.changed);
    // Defined again: back.
    let mut doc = json!({"userName": "a", URN: {"badge": 1}});
    Projection::default().apply(rt, &mut doc);
    assert_eq!(doc[URN]["badge"], 1);
}

#[test]
fn attributes_dropped_from_a_definition_are_withheld_and_kept_by_put() {
    let rt = user_rt();
    let stored = parse_resource_in(
        rt,
        &json!({"userName": "a", URN: {"badge": 1, "costCode": "A1"}}),
    )
    .unwrap();
    let mut smaller = doc();
    smaller["attributes"].as_array_mut().unwrap().remove(0);
    let rt2 = registry_with(smaller, false).resource_type(ResourceKind::User);
    let mut out = json!({"userName": "a", URN: stored[URN].clone()});
    Projection::default().apply(rt2, &mut out);
    assert_eq!(out[URN], json!({"costCode": "A1"}));
    let put = replace_resource_in(
        rt2,
        &stored,
        &json!({"userName": "a", URN: {"costCode": "B2"}}),
    )
    .unwrap();
    assert_eq!(put[URN], json!({"costCode": "B2", "badge": 1}));
}

#[test]
fn change_rules() {
    let base = doc();
    let ext = |d: &Value, extends: ResourceKind, required: bool| Extension {
        schema: parse(d).unwrap(),
        extends,
        required,
    };
    let old = ext(&base, ResourceKind::User, false);
    let changed = |f: &dyn Fn(&mut Value)| {
        let mut d = base.clone();
        f(&mut d);
        d
    };
    let compatible = [
        changed(&|d| d["description"] = json!("new words")),
        changed(&|d| {
            d["attributes"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "extra", "type": "string"}))
        }),
        changed(&|d| {
            d["attributes"].as_array_mut().unwrap().remove(0);
        }),
        changed(&|d| d["attributes"][1]["caseExact"] = json!(false)),
        changed(&|d| d["attributes"][0]["returned"] = json!("request")),
    ];
    for d in &compatible {
        let new = ext(d, ResourceKind::User, false);
        assert!(incompatibilities(&old, &new).is_empty(), "{d}");
    }
    let incompatible: [(Value, ResourceKind, bool, &str); 6] = [
        (
            changed(&|d| d["attributes"][0]["type"] = json!("string")),
            ResourceKind::User,
            false,
            "'badge' changes type from integer to string",
        ),
        (
            changed(&|d| d["attributes"][0]["multiValued"] = json!(true)),
            ResourceKind::User,
            false,
            "multiValued",
        ),
        (
            changed(&|d| d["attributes"][0]["required"] = json!(true)),
            ResourceKind::User,
            false,
            "'badge' becomes required",
        ),
        (
            changed(&|d| {
                d["attributes"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"name": "extra", "type": "string", "required": true}))
            }),
            ResourceKind::User,
            false,
            "'extra' is new and required",
        ),
        (
            changed(&|d| d["attributes"][7]["subAttributes"][1]["type"] = json!("string")),
            ResourceKind::User,
            false,
            "'skills.level' changes type",
        ),
        (base.clone(), ResourceKind::User, true, "becomes required"),
    ];
    for (d, kind, required, expected) in &incompatible {
        let new = ext(d, *kind, *required);
        let problems = incompatibilities(&old, &new).join("; ");
        assert!(problems.contains(expected), "{problems} vs {expected}");
        let stored = [Stored {
            extension: old,
            active: true,
        }];
        let e = check_put(&stored, &new, false).unwrap_err();
        assert!(
            e.detail().contains(expected) && e.detail().contains("force"),
            "{}",
            e.detail()
        );
        assert!(check_put(&stored, &new, true).is_ok());
        // The same rules apply against a removed definition: its values are still stored.
        let removed = [Stored {
            extension: old,
            active: false,
        }];
        assert!(check_put(&removed, &new, false).is_err());
    }
    let group = ext(&base, ResourceKind::Group, false);
    assert!(
        incompatibilities(&old, &group)
            .join(" ")
            .contains("extends Group")
    );
    // The limit on active extensions.
    let others: Vec<Stored> = (0..20)
        .map(|i| {
            let mut d = base.clone();
            d["id"] = json!(format!("urn:example:other:{i}"));
            Stored {
                extension: ext(&d, ResourceKind::User, false),
                active: true,
            }
        })
        .collect();
    let e = check_put(&others, &old, false).unwrap_err();
    assert!(e.detail().contains("20 extensions"), "{}", e.detail());
    // Replacing one of the twenty is fine.
    assert!(check_put(&others, &others[0].extension, false).is_ok());
}
