//! PATCH path grammar: every form Okta and Entra send, round-tripping, and rejections.

use scim_core::ScimType;
use scim_core::filter::{AttrPath, CompValue, CompareOp, Filter};
use scim_core::path::{PatchPath, parse_path};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn eq(name: &str, v: &str) -> Filter {
    Filter::Compare(
        AttrPath::new(name),
        CompareOp::Eq,
        CompValue::String(v.into()),
    )
}

fn path(urn: Option<&str>, attr: &str, filter: Option<Filter>, sub: Option<&str>) -> PatchPath {
    PatchPath {
        urn: urn.map(str::to_string),
        attr: attr.into(),
        filter,
        sub_attr: sub.map(str::to_string),
    }
}

#[test]
fn valid_paths_parse_to_the_expected_shape() {
    let cases: Vec<(&str, PatchPath)> = vec![
        ("members", path(None, "members", None, None)),
        (
            "name.familyName",
            path(None, "name", None, Some("familyName")),
        ),
        (
            r#"members[value eq "2819c223"]"#,
            path(None, "members", Some(eq("value", "2819c223")), None),
        ),
        (
            r#"emails[type eq "work"].value"#,
            path(None, "emails", Some(eq("type", "work")), Some("value")),
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            path(Some(ENT), "manager", None, None),
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            path(Some(ENT), "manager", None, Some("value")),
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            path(Some(ENT), "employeeNumber", None, None),
        ),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
            path(
                Some("urn:ietf:params:scim:schemas:core:2.0:User"),
                "name",
                None,
                Some("givenName"),
            ),
        ),
        (
            r#"addresses[type eq "work"].streetAddress"#,
            path(
                None,
                "addresses",
                Some(eq("type", "work")),
                Some("streetAddress"),
            ),
        ),
        (
            r#"roles[primary eq "True"].value"#,
            path(None, "roles", Some(eq("primary", "True")), Some("value")),
        ),
        (
            r#"emails[type eq "other"].Value"#,
            path(None, "emails", Some(eq("type", "other")), Some("Value")),
        ),
        (
            // The value filter may contain ':' (and '[', ']') inside strings.
            r#"members[value eq "urn:x:y[1]"]"#,
            path(None, "members", Some(eq("value", "urn:x:y[1]")), None),
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work" and primary eq true].display"#,
            path(
                Some("urn:ietf:params:scim:schemas:core:2.0:User"),
                "emails",
                Some(Filter::And(
                    Box::new(eq("type", "work")),
                    Box::new(Filter::Compare(
                        AttrPath::new("primary"),
                        CompareOp::Eq,
                        CompValue::Bool(true),
                    )),
                )),
                Some("display"),
            ),
        ),
        ("  displayName  ", path(None, "displayName", None, None)),
        (
            "members[ value EQ \"a\" ]",
            path(None, "members", Some(eq("value", "a")), None),
        ),
        ("$ref", path(None, "$ref", None, None)),
    ];
    for (input, expected) in cases {
        let got = parse_path(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(got, expected, "{input}");
        let printed = got.to_string();
        assert_eq!(parse_path(&printed).unwrap(), got, "{input} -> {printed}");
        let via_from_str: PatchPath = input.parse().unwrap();
        assert_eq!(via_from_str, got);
    }
}

#[test]
fn canonical_paths_print_verbatim() {
    for p in [
        "members",
        "name.familyName",
        r#"members[value eq "2819c223"]"#,
        r#"emails[type eq "work"].value"#,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        r#"roles[primary eq "True"].value"#,
    ] {
        assert_eq!(parse_path(p).unwrap().to_string(), p);
    }
}

#[test]
fn a_bare_schema_urn_is_flagged_for_the_caller() {
    let p = parse_path(ENT).unwrap();
    assert_eq!(
        p.urn.as_deref(),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0")
    );
    assert_eq!(p.attr, "User");
    assert_eq!(p.as_schema_urn().as_deref(), Some(ENT));
    let p = parse_path(&format!("{ENT}:manager")).unwrap();
    assert_eq!(
        p.as_schema_urn().as_deref(),
        Some(&*format!("{ENT}:manager"))
    );
    assert_eq!(parse_path("name.givenName").unwrap().as_schema_urn(), None);
    assert_eq!(
        parse_path(&format!("{ENT}:manager.value"))
            .unwrap()
            .as_schema_urn(),
        None
    );
}

#[test]
fn malformed_paths_are_invalid_path() {
    let cases = [
        "",
        "   ",
        "1abc",
        "name.",
        "name..x",
        "members[",
        "members[value eq \"x\"",
        "members]",
        "members[value eq x]",
        "members[value zz \"x\"]",
        "members[]",
        "emails[type eq \"work\"].",
        "emails[type eq \"work\"]x",
        "name.familyName[type eq \"x\"]",
        "emails[type eq \"work\"][value eq \"x\"]",
        "emails[type[value eq \"x\"] eq \"y\"]",
        "t[(m[e eq \"\"])]",
        "urn:",
        "urn:ietf",
        "urn:ietf:params:scim:schemas:core:2.0:User:",
        "a b",
        "a:b",
        "members[value eq \"unterminated]",
        "name.givenName.x",
    ];
    for input in cases {
        let err = parse_path(input).expect_err(input);
        assert_eq!(err.scim_type(), Some(ScimType::InvalidPath), "{input}");
        assert_eq!(err.status(), 400);
    }
    let long = "a".repeat(5000);
    assert_eq!(
        parse_path(&long).unwrap_err().scim_type(),
        Some(ScimType::InvalidPath)
    );
}

#[test]
fn path_errors_name_the_offset() {
    let err = parse_path("members[value zz \"x\"]").unwrap_err();
    assert!(err.detail().contains("offset 14"), "{}", err.detail());
    assert!(
        err.detail().contains("unknown operator 'zz'"),
        "{}",
        err.detail()
    );
    // Offsets count from the start of the text the client sent.
    let err = parse_path("  name.").unwrap_err();
    assert!(err.detail().contains("offset 7"), "{}", err.detail());
    let err = parse_path("urn:x").unwrap_err();
    assert!(err.detail().contains("offset 0"), "{}", err.detail());
}
