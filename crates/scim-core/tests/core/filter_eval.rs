//! Filter evaluation over an Okta-style user and group rendered by `Resource::to_json`,
//! over loosely shaped plain JSON, and over single attribute values (`matches_value`).

// clippy.toml allows these inside `#[test]` functions only; the table helpers need them too.
#![allow(clippy::unwrap_used, clippy::panic)]

use chrono::{TimeZone, Utc};
use scim_core::filter::{CompiledFilter, matches, matches_value, parse_filter, validate_filter};
use scim_core::resource::{Meta, Resource, parse_resource};
use scim_core::schema::{COMMON_ATTRIBUTES, ENTERPRISE_USER, GROUP, USER, find_attribute};
use scim_core::{ResourceKind, ScimType};
use serde_json::{Value, json};

const USER_ID: &str = "2819c223-7f76-453a-919d-413861904646";

fn user() -> Value {
    let body = json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "userName": "Test.User@okta.local",
        "externalId": "00u1abcd",
        "name": {"givenName": "Test", "familyName": "O'Malley", "formatted": "Test O'Malley"},
        "displayName": "Test User",
        "title": "Engineer",
        "userType": "Employee",
        "active": true,
        "emails": [
            {"value": "test.user@okta.local", "type": "work", "primary": true},
            {"value": "tuser@example.com", "type": "home"}
        ],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "mobile"}],
        "addresses": [{"type": "work", "streetAddress": "1 Main St", "locality": "Springfield"}],
        "roles": [{"value": "Admin", "primary": "True"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "department": "R&D",
            "manager": {"value": "mgr-1", "displayName": "Boss"}
        }
    });
    let attributes = parse_resource(ResourceKind::User, &body).unwrap();
    Resource {
        kind: ResourceKind::User,
        id: USER_ID.into(),
        attributes,
        meta: Meta {
            created: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
            last_modified: Utc.with_ymd_and_hms(2024, 6, 15, 12, 0, 0).unwrap(),
            version: 3,
        },
    }
    .to_json("https://scim.example.com/scim/v2/acme")
}

fn group() -> Value {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Engineering",
        "externalId": "grp-1",
        "members": [
            {"value": "u-1", "display": "Ada", "type": "User"},
            {"value": "u-2"}
        ]
    });
    let attributes = parse_resource(ResourceKind::Group, &body).unwrap();
    Resource {
        kind: ResourceKind::Group,
        id: "g-42".into(),
        attributes,
        meta: Meta {
            created: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
            last_modified: Utc.with_ymd_and_hms(2024, 1, 2, 0, 0, 0).unwrap(),
            version: 1,
        },
    }
    .to_json("https://scim.example.com/scim/v2/acme")
}

fn run(kind: ResourceKind, resource: &Value, cases: &[(&str, bool)]) {
    let rt = kind.resource_type();
    for (filter, expected) in cases {
        let f = parse_filter(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        let got = matches(&f, rt, resource).unwrap_or_else(|e| panic!("{filter}: {e}"));
        assert_eq!(got, *expected, "{filter}");
        let compiled = CompiledFilter::new(&f, rt).unwrap();
        assert_eq!(compiled.matches(resource), *expected, "{filter} (compiled)");
    }
}

#[test]
fn user_strings_honour_case_exact() {
    let id_eq = format!("id eq \"{USER_ID}\"");
    let id_upper = format!("id eq \"{}\"", USER_ID.to_uppercase());
    run(
        ResourceKind::User,
        &user(),
        &[
            // userName: caseExact false (Okta's lookup).
            (r#"userName eq "test.user@okta.local""#, true),
            (r#"userName eq "TEST.USER@OKTA.LOCAL""#, true),
            (r#"USERNAME Eq "Test.User@okta.local""#, true),
            (r#"userName eq "test.user""#, false),
            (r#"userName ne "test.user""#, true),
            (r#"userName ne "TEST.user@okta.local""#, false),
            (r#"userName sw "TEST.""#, true),
            (r#"userName ew "@OKTA.local""#, true),
            (r#"userName co "user@""#, true),
            (r#"userName co "nobody""#, false),
            (r#"userName gt "s""#, true),
            (r#"userName gt "U""#, false),
            (r#"userName lt "TEST""#, false),
            (r#"userName ge "test.user@okta.local""#, true),
            (r#"userName le "TEST.USER@OKTA.LOCAL""#, true),
            // id, externalId: caseExact true.
            (&id_eq, true),
            (&id_upper, false),
            (r#"externalId eq "00u1abcd""#, true),
            (r#"externalId eq "00U1ABCD""#, false),
            (r#"externalId sw "00u""#, true),
            (r#"displayName eq "test user""#, true),
            (r#"name.familyName co "o'malley""#, true),
            (r#"name.givenName eq "Test""#, true),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "O'Malley""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "t""#,
                true,
            ),
            // meta.resourceType and meta.version are caseExact.
            (r#"meta.resourceType eq "User""#, true),
            (r#"meta.resourceType eq "user""#, false),
            (r#"meta.version eq "W/\"3\"""#, true),
            (
                r#"meta.location ew "/Users/2819c223-7f76-453a-919d-413861904646""#,
                true,
            ),
        ],
    );
}

#[test]
fn user_presence_nulls_and_unknowns() {
    run(
        ResourceKind::User,
        &user(),
        &[
            ("title pr", true),
            ("nickName pr", false),
            ("name pr", true),
            ("emails pr", true),
            ("emails.display pr", false),
            ("ims pr", false),
            ("meta.lastModified pr", true),
            ("nickName eq null", true),
            ("nickName ne null", false),
            ("title eq null", false),
            ("title ne null", true),
            ("nickName ne \"x\"", true),
            // Unknown attributes: every test is false, `not` inverts that.
            (r#"favoriteColor eq "blue""#, false),
            (r#"favoriteColor ne "blue""#, false),
            ("favoriteColor pr", false),
            ("favoriteColor eq null", false),
            (r#"not (favoriteColor eq "blue")"#, true),
            (r#"name.nickname eq "x""#, false),
            (r#"userName.x eq "x""#, false),
            (
                r#"urn:example:unknown:2.0:User:userName eq "test.user@okta.local""#,
                false,
            ),
            (r#"emails[nope eq "x"]"#, false),
            (r#"favoriteColor[type eq "x"]"#, false),
        ],
    );
}

#[test]
fn user_booleans_dates_and_schemas() {
    run(
        ResourceKind::User,
        &user(),
        &[
            ("active eq true", true),
            ("active eq TRUE", true),
            (r#"active eq "True""#, true),
            (r#"active eq "false""#, false),
            ("active eq false", false),
            ("active ne false", true),
            (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, true),
            (r#"meta.lastModified gt "2024-06-15T12:00:00Z""#, false),
            (r#"meta.lastModified ge "2024-06-15T12:00:00Z""#, true),
            (r#"meta.lastModified eq "2024-06-15T12:00:00.000Z""#, true),
            (r#"meta.lastModified eq "2024-06-15T14:00:00+02:00""#, true),
            (r#"meta.lastModified ne "2024-06-15T14:00:00+02:00""#, false),
            (r#"meta.lastModified lt "2024-06-15T13:00:00+02:00""#, false),
            (r#"meta.lastModified le "2024-06-15T15:00:00+02:00""#, true),
            (r#"meta.created lt "2024-01-01T00:00:01Z""#, true),
            (r#"meta.created sw "2024-01-01""#, true),
            (
                r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
                true,
            ),
            (
                r#"schemas eq "urn:ietf:params:scim:schemas:core:2.0:User""#,
                true,
            ),
            (
                r#"schemas eq "urn:ietf:params:scim:schemas:core:2.0:Group""#,
                false,
            ),
        ],
    );
}

#[test]
fn user_multi_valued_and_value_paths() {
    run(
        ResourceKind::User,
        &user(),
        &[
            // Any value matches; complex without sub-attribute means `.value`.
            (r#"emails co "example.com""#, true),
            (r#"emails eq "TUSER@example.com""#, true),
            (r#"emails.value co "example.org""#, false),
            (r#"emails.type eq "home""#, true),
            // `ne` negates `eq`: no email of that type.
            (r#"emails.type ne "home""#, false),
            (r#"emails.type ne "other""#, true),
            // Value paths: both conditions on the same value.
            (r#"emails[type eq "work" and value co "@okta.local"]"#, true),
            (
                r#"emails[type eq "home" and value co "@okta.local"]"#,
                false,
            ),
            (
                r#"emails[type eq "work"].value eq "TEST.USER@okta.local""#,
                true,
            ),
            (
                r#"emails[type eq "home"].value eq "test.user@okta.local""#,
                false,
            ),
            (r#"emails[primary eq true].value ew "okta.local""#, true),
            (r#"emails[primary eq "True"].type eq "work""#, true),
            (r#"emails[not (primary eq true)].type eq "home""#, true),
            (r#"emails[type eq "work" or type eq "other"]"#, true),
            (r#"roles[primary eq "True"].value eq "Admin""#, true),
            (r#"roles[primary eq false]"#, false),
            (
                r#"addresses[type eq "work"].locality eq "springfield""#,
                true,
            ),
            (r#"phoneNumbers[type eq "mobile"]"#, true),
            (r#"phoneNumbers[type eq "fax"]"#, false),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]"#,
                true,
            ),
            // RFC 7644 examples.
            (
                r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
                true,
            ),
            (
                r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
                false,
            ),
            (
                r#"userType eq "Employee" and (emails.type eq "work")"#,
                true,
            ),
            (
                r#"userType eq "Employee" and emails[type eq "work" and value co "@okta.local"]"#,
                true,
            ),
            (
                r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
                false,
            ),
            (r#"title pr and userType eq "Employee""#, true),
            (r#"title pr or userType eq "Intern""#, true),
            (r#"nickName pr or userType eq "Intern""#, false),
            (r#"not (userName eq "x") and not (nickName pr)"#, true),
        ],
    );
}

#[test]
fn user_enterprise_extension() {
    run(
        ResourceKind::User,
        &user(),
        &[
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
                true,
            ),
            (
                r#"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER eq "701984""#,
                true,
            ),
            (r#"employeeNumber eq "701984""#, true),
            (r#"department eq "r&d""#, true),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "mgr-1""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "mgr-1""#,
                true,
            ),
            // manager.displayName is readOnly: parse_resource drops what the client sent.
            (r#"manager.displayName pr"#, false),
            (r#"manager.value eq "MGR-1""#, false),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter pr"#,
                false,
            ),
            (
                // Core attributes are not found under the extension's URN.
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName pr"#,
                false,
            ),
        ],
    );
}

#[test]
fn group_members() {
    run(
        ResourceKind::Group,
        &group(),
        &[
            (r#"displayName eq "engineering""#, true),
            (r#"displayName eq "Test SCIMv2""#, false),
            (r#"externalId eq "grp-1""#, true),
            (r#"id eq "g-42""#, true),
            (r#"members[value eq "u-1"]"#, true),
            (r#"members[value eq "U-1"]"#, false),
            (r#"members[value eq "u-2" and display pr]"#, false),
            (r#"members[value eq "u-1" and type eq "user"]"#, true),
            (r#"members.value eq "u-2""#, true),
            (r#"members eq "u-2""#, true),
            ("members pr", true),
            ("members.$ref pr", true),
            (r#"members.$ref ew "/Users/u-1""#, true),
            (r#"meta.resourceType eq "Group""#, true),
            // User attributes are unknown on a Group.
            ("userName pr", false),
        ],
    );
}

#[test]
fn plain_json_from_another_service() {
    let doc = json!({
        "USERNAME": "Ada@Example.com",
        "Active": "False",
        "emails": {"value": "a@x.org", "type": "work"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": "271",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"Department": "Ops"},
        "Meta": {"LastModified": "2020-02-02T02:02:02Z"},
        "groups": [{"value": "g1"}, null, {"value": ""}],
        "nickName": "",
        "name": {"givenName": null},
        "roles": [],
        "addresses": [{}],
        "x509Certificates": [{"value": "QUJD"}]
    });
    run(
        ResourceKind::User,
        &doc,
        &[
            (r#"userName eq "ada@example.com""#, true),
            ("active eq false", true),
            (r#"active eq "FALSE""#, true),
            ("active eq true", false),
            (r#"emails.value eq "a@x.org""#, true),
            (r#"emails[type eq "work"].value co "@x""#, true),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "271""#,
                true,
            ),
            (r#"manager.value eq "271""#, false),
            (r#"department eq "ops""#, true),
            (r#"meta.lastModified lt "2021-01-01T00:00:00Z""#, true),
            (r#"groups.value eq "g1""#, true),
            ("groups pr", true),
            // `pr` is false for "", [], {}, null and objects of nothing.
            ("nickName pr", false),
            ("name pr", false),
            ("name.givenName pr", false),
            ("roles pr", false),
            ("addresses pr", false),
            ("title pr", false),
            (r#"x509Certificates.value eq "QUJD""#, true),
            // Binary values are caseExact (RFC 7643 §2.3.6): base64 is case-sensitive.
            (r#"x509Certificates.value eq "qujd""#, false),
        ],
    );
    // Not an object: nothing matches, nothing fails.
    run(
        ResourceKind::User,
        &json!(["userName"]),
        &[("userName pr", false), (r#"not (userName eq "x")"#, true)],
    );
}

#[test]
fn unsupported_comparisons_are_invalid_filter_even_without_data() {
    let rt = ResourceKind::User.resource_type();
    let cases = [
        "active gt true",
        "active lt false",
        r#"active co "t""#,
        r#"active eq "yes""#,
        "active eq 1",
        r#"name eq "x""#,
        r#"name co "x""#,
        r#"meta gt "x""#,
        r#"emails gt "a""#,
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager le "a""#,
        r#"meta.lastModified gt "yesterday""#,
        "meta.lastModified gt 5",
        r#"meta.lastModified eq "2011-05-13""#,
        "userName gt null",
        "userName co null",
        "emails[primary lt true]",
        r#"emails[type eq "work"].primary ge true"#,
        r#"x509Certificates.value gt "abc""#,
        r#"userName pr and (emails.primary sw "t")"#,
    ];
    for filter in cases {
        let f = parse_filter(filter).unwrap();
        let err = validate_filter(&f, rt).unwrap_err();
        assert_eq!(err.scim_type(), Some(ScimType::InvalidFilter), "{filter}");
        assert_eq!(err.status(), 400);
        assert!(!err.detail().is_empty());
        let err = matches(&f, rt, &json!({})).unwrap_err();
        assert_eq!(err.scim_type(), Some(ScimType::InvalidFilter), "{filter}");
    }
    let err = validate_filter(&parse_filter("active gt true").unwrap(), rt).unwrap_err();
    assert!(
        err.detail().contains("'gt' is not supported on 'active'"),
        "{}",
        err.detail()
    );
    let err = validate_filter(&parse_filter(r#"name eq "x""#).unwrap(), rt).unwrap_err();
    assert!(err.detail().contains("name.formatted"), "{}", err.detail());
    // Supported forms validate.
    for ok in [
        r#"userName gt "a""#,
        "active ne false",
        r#"emails.primary eq "False""#,
        "name pr",
        "name eq null",
    ] {
        validate_filter(&parse_filter(ok).unwrap(), rt).unwrap();
    }
}

#[test]
fn matches_value_on_single_values() {
    let members = GROUP.attribute("members").unwrap();
    let emails = USER.attribute("emails").unwrap();
    let roles = USER.attribute("roles").unwrap();
    let manager = ENTERPRISE_USER.attribute("manager").unwrap();
    let schemas = find_attribute(&COMMON_ATTRIBUTES, "schemas").unwrap();
    let cases: Vec<(&'static scim_core::schema::AttributeDef, &str, Value, bool)> = vec![
        (members, r#"value eq "u-1""#, json!({"value": "u-1"}), true),
        (members, r#"VALUE eq "u-1""#, json!({"Value": "u-1"}), true),
        (members, r#"value eq "U-1""#, json!({"value": "u-1"}), false),
        (members, r#"value eq "u-1""#, json!({"value": "u-2"}), false),
        (members, r#"value eq "u-1""#, json!({}), false),
        (members, r#"value ne "u-1""#, json!({}), true),
        (
            members,
            r#"type eq "user""#,
            json!({"value": "u", "type": "User"}),
            true,
        ),
        (
            members,
            "$ref pr",
            json!({"$ref": "https://x/Users/u"}),
            true,
        ),
        (
            emails,
            r#"type eq "work" and primary eq "True""#,
            json!({"type": "Work", "primary": true}),
            true,
        ),
        (
            emails,
            r#"type eq "work" and primary eq "True""#,
            json!({"type": "Work", "primary": "False"}),
            false,
        ),
        (
            emails,
            r#"value co "@EXAMPLE.com""#,
            json!({"value": "a@example.com"}),
            true,
        ),
        (emails, r#"nope eq "x""#, json!({"nope": "x"}), false),
        (
            roles,
            r#"primary eq "True""#,
            json!({"primary": "True", "value": "r"}),
            true,
        ),
        (roles, r#"primary eq true"#, json!({"primary": true}), true),
        (manager, r#"value eq "271""#, json!("271"), true),
        (manager, r#"value eq "271""#, json!({"value": "271"}), true),
        (
            schemas,
            r#"value eq "urn:ietf:params:scim:schemas:core:2.0:User""#,
            json!("urn:ietf:params:scim:schemas:core:2.0:User"),
            true,
        ),
    ];
    for (attr, filter, value, expected) in cases {
        let f = parse_filter(filter).unwrap();
        assert_eq!(
            matches_value(&f, attr, &value).unwrap(),
            expected,
            "{}[{filter}] on {value}",
            attr.name
        );
    }
    let err = matches_value(
        &parse_filter("primary gt true").unwrap(),
        emails,
        &json!({}),
    )
    .unwrap_err();
    assert_eq!(err.scim_type(), Some(ScimType::InvalidFilter));
}

#[test]
fn compiled_filter_parse_reports_syntax_errors() {
    let rt = ResourceKind::User.resource_type();
    let err = CompiledFilter::parse("userName eq", rt).unwrap_err();
    assert_eq!(err.scim_type(), Some(ScimType::InvalidFilter));
    let f = CompiledFilter::parse(r#"userName eq "TEST.user@okta.local""#, rt).unwrap();
    assert!(f.matches(&user()));
    assert!(!f.matches(&group()));
}
