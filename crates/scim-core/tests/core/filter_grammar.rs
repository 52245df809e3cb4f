//! Filter grammar: every filter example of RFC 7644 §3.4.2.2, the filters Okta and Entra
//! send, the lenient forms we accept, and the malformed filters we reject with
//! `invalidFilter`. Each valid case states its expected AST and must round-trip through
//! the printer.

// clippy.toml allows these inside `#[test]` functions only; the table helpers need them too.
#![allow(clippy::unwrap_used, clippy::panic)]

use scim_core::ScimType;
use scim_core::filter::{
    AttrPath, CompValue, CompareOp, Filter, MAX_FILTER_DEPTH, MAX_FILTER_LEN, parse_filter,
};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn p(name: &str) -> AttrPath {
    AttrPath::new(name)
}
fn ps(name: &str, sub: &str) -> AttrPath {
    AttrPath::new(name).with_sub_attr(sub)
}
fn s(v: &str) -> CompValue {
    CompValue::String(v.into())
}
fn n(v: &str) -> CompValue {
    CompValue::Number(serde_json::from_str(v).unwrap())
}
fn cmp(path: AttrPath, op: CompareOp, v: CompValue) -> Filter {
    Filter::Compare(path, op, v)
}
fn eq(name: &str, v: &str) -> Filter {
    cmp(p(name), CompareOp::Eq, s(v))
}
fn pr(path: AttrPath) -> Filter {
    Filter::Present(path)
}
fn and(l: Filter, r: Filter) -> Filter {
    Filter::And(Box::new(l), Box::new(r))
}
fn or(l: Filter, r: Filter) -> Filter {
    Filter::Or(Box::new(l), Box::new(r))
}
fn not(f: Filter) -> Filter {
    Filter::Not(Box::new(f))
}
fn vp(path: AttrPath, f: Filter) -> Filter {
    Filter::ValuePath(path, Box::new(f))
}

use CompareOp::*;

fn check(cases: Vec<(&str, Filter)>) {
    for (input, expected) in cases {
        let got = parse_filter(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(got, expected, "{input}");
        let printed = got.to_string();
        let again = parse_filter(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
        assert_eq!(again, got, "{input} printed as {printed}");
        let via_from_str: Filter = input.parse().unwrap();
        assert_eq!(via_from_str, got);
    }
}

#[test]
fn rfc7644_section_3_4_2_2_examples() {
    let lm = || ps("meta", "lastModified");
    let ts = || s("2011-05-13T04:42:34Z");
    check(vec![
        (r#"userName eq "bjensen""#, eq("userName", "bjensen")),
        (
            r#"name.familyName co "O'Malley""#,
            cmp(ps("name", "familyName"), Co, s("O'Malley")),
        ),
        (r#"userName sw "J""#, cmp(p("userName"), Sw, s("J"))),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            cmp(p("userName").with_urn(CORE), Sw, s("J")),
        ),
        ("title pr", pr(p("title"))),
        (
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            cmp(lm(), Gt, ts()),
        ),
        (
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
            cmp(lm(), Ge, ts()),
        ),
        (
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
            cmp(lm(), Lt, ts()),
        ),
        (
            r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
            cmp(lm(), Le, ts()),
        ),
        (
            r#"title pr and userType eq "Employee""#,
            and(pr(p("title")), eq("userType", "Employee")),
        ),
        (
            r#"title pr or userType eq "Intern""#,
            or(pr(p("title")), eq("userType", "Intern")),
        ),
        (
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            eq("schemas", ENT),
        ),
        (
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            and(
                eq("userType", "Employee"),
                or(
                    cmp(p("emails"), Co, s("example.com")),
                    cmp(ps("emails", "value"), Co, s("example.org")),
                ),
            ),
        ),
        (
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            and(
                cmp(p("userType"), Ne, s("Employee")),
                not(or(
                    cmp(p("emails"), Co, s("example.com")),
                    cmp(ps("emails", "value"), Co, s("example.org")),
                )),
            ),
        ),
        (
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            and(
                eq("userType", "Employee"),
                cmp(ps("emails", "type"), Eq, s("work")),
            ),
        ),
        (
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            and(
                eq("userType", "Employee"),
                vp(
                    p("emails"),
                    and(eq("type", "work"), cmp(p("value"), Co, s("@example.com"))),
                ),
            ),
        ),
        (
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            or(
                vp(
                    p("emails"),
                    and(eq("type", "work"), cmp(p("value"), Co, s("@example.com"))),
                ),
                vp(
                    p("ims"),
                    and(eq("type", "xmpp"), cmp(p("value"), Co, s("@foo.com"))),
                ),
            ),
        ),
        // §3.4.2.2: attribute names and operators are case-insensitive.
        (r#"userName Eq "john""#, eq("userName", "john")),
        (r#"Username eq "john""#, eq("Username", "john")),
    ]);
}

#[test]
fn okta_and_entra_filters() {
    check(vec![
        (
            r#"userName eq "test.user@okta.local""#,
            eq("userName", "test.user@okta.local"),
        ),
        (
            r#"displayName eq "Test SCIMv2""#,
            eq("displayName", "Test SCIMv2"),
        ),
        (
            r#"externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef""#,
            eq("externalId", "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"),
        ),
        (
            r#"userName eq "abcdefgh@atko.com""#,
            eq("userName", "abcdefgh@atko.com"),
        ),
        (
            r#"emails[type eq "work"].value eq "user@contoso.com""#,
            vp(
                p("emails"),
                and(eq("type", "work"), eq("value", "user@contoso.com")),
            ),
        ),
        (
            r#"emails[type eq "Primary"].value eq "001750ca-8202-47cd-b553-c63f4f245940""#,
            vp(
                p("emails"),
                and(
                    eq("type", "Primary"),
                    eq("value", "001750ca-8202-47cd-b553-c63f4f245940"),
                ),
            ),
        ),
        (
            r#"emails[type eq "work"].value pr"#,
            vp(p("emails"), and(eq("type", "work"), pr(p("value")))),
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1""#,
            cmp(p("employeeNumber").with_urn(ENT), Eq, s("1")),
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
            cmp(
                ps("manager", "value").with_urn(ENT),
                Eq,
                s("26118915-6090-4610-87e4-49d8ca9f808d"),
            ),
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley""#,
            cmp(ps("name", "familyName").with_urn(CORE), Co, s("O'Malley")),
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]"#,
            vp(p("emails").with_urn(CORE), eq("type", "work")),
        ),
        (
            r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
            vp(
                p("members"),
                eq("value", "2819c223-7f76-453a-919d-413861904646"),
            ),
        ),
        (
            r#"roles[primary eq "True"]"#,
            vp(p("roles"), eq("primary", "True")),
        ),
    ]);
}

#[test]
fn precedence_associativity_and_grouping() {
    let a = || pr(p("a"));
    let b = || pr(p("b"));
    let c = || pr(p("c"));
    let d = || pr(p("d"));
    check(vec![
        ("a pr or b pr and c pr", or(a(), and(b(), c()))),
        ("a pr and b pr or c pr", or(and(a(), b()), c())),
        ("a pr and b pr and c pr", and(and(a(), b()), c())),
        ("a pr or b pr or c pr", or(or(a(), b()), c())),
        ("a pr and (b pr or c pr)", and(a(), or(b(), c()))),
        ("a pr or (b pr or c pr)", or(a(), or(b(), c()))),
        ("a pr and (b pr and c pr)", and(a(), and(b(), c()))),
        ("not (a pr) and b pr", and(not(a()), b())),
        ("not(a pr) or b pr", or(not(a()), b())),
        ("NOT   ( a pr )", not(a())),
        ("not (not (a pr))", not(not(a()))),
        ("((a pr))", a()),
        ("(a pr) and (b pr)", and(a(), b())),
        ("(a pr)and(b pr)", and(a(), b())),
        (
            "a pr AND b pr Or c pr aNd d pr",
            or(and(a(), b()), and(c(), d())),
        ),
        (
            "a pr or b pr and not (c pr or d pr)",
            or(a(), and(b(), not(or(c(), d())))),
        ),
        (
            r#"emails[type eq "work" or not (primary eq true)]"#,
            vp(
                p("emails"),
                or(
                    eq("type", "work"),
                    not(cmp(p("primary"), Eq, CompValue::Bool(true))),
                ),
            ),
        ),
        (
            r#"emails[(type eq "a" or type eq "b") and value pr]"#,
            vp(
                p("emails"),
                and(or(eq("type", "a"), eq("type", "b")), pr(p("value"))),
            ),
        ),
    ]);
}

#[test]
fn literals_strings_and_numbers() {
    check(vec![
        (r#"a eq true"#, cmp(p("a"), Eq, CompValue::Bool(true))),
        (r#"a eq TRUE"#, cmp(p("a"), Eq, CompValue::Bool(true))),
        (r#"a eq False"#, cmp(p("a"), Eq, CompValue::Bool(false))),
        (r#"a eq null"#, cmp(p("a"), Eq, CompValue::Null)),
        (r#"a ne NULL"#, cmp(p("a"), Ne, CompValue::Null)),
        ("a eq 0", cmp(p("a"), Eq, n("0"))),
        ("a eq 42", cmp(p("a"), Eq, n("42"))),
        ("a gt -7", cmp(p("a"), Gt, n("-7"))),
        ("a lt 3.25", cmp(p("a"), Lt, n("3.25"))),
        ("a le 1e3", cmp(p("a"), Le, n("1e3"))),
        ("a ge -1.5E-2", cmp(p("a"), Ge, n("-1.5E-2"))),
        (
            "a eq 18446744073709551615",
            cmp(p("a"), Eq, n("18446744073709551615")),
        ),
        (
            "a eq -9223372036854775808",
            cmp(p("a"), Eq, n("-9223372036854775808")),
        ),
        (r#"a eq "say \"hi\"""#, eq("a", "say \"hi\"")),
        (r#"a eq "back\\slash""#, eq("a", "back\\slash")),
        (r#"a eq "caf\u00e9""#, eq("a", "café")),
        (r#"a eq "café""#, eq("a", "café")),
        (r#"a eq "\ud83d\ude00""#, eq("a", "😀")),
        (r#"a eq "tab\tnl\n/\/""#, eq("a", "tab\tnl\n//")),
        (r#"a eq """#, eq("a", "")),
        (r#"a eq "(((  D )) ""#, eq("a", "(((  D )) ")),
        (r#"a eq "\")\"(\")""#, eq("a", "\")\"(\")")),
        (
            r#"a eq "x and y or not (z)""#,
            eq("a", "x and y or not (z)"),
        ),
        (r#"a eq "[b eq \"c\"]""#, eq("a", "[b eq \"c\"]")),
    ]);
}

#[test]
fn names_whitespace_and_lenient_forms() {
    check(vec![
        ("  title   pr  ", pr(p("title"))),
        ("title\tpr", pr(p("title"))),
        ("a pr\n and\r\nb pr", and(pr(p("a")), pr(p("b")))),
        (r#"userName eq"x""#, eq("userName", "x")),
        (r#"x-custom_attr1 eq "y""#, eq("x-custom_attr1", "y")),
        (r#"members[$ref eq "y"]"#, vp(p("members"), eq("$ref", "y"))),
        (r#"members.$REF pr"#, pr(ps("members", "$REF"))),
        // Keywords as attribute names.
        ("not pr", pr(p("not"))),
        (r#"not eq "x""#, eq("not", "x")),
        ("and pr and or pr", and(pr(p("and")), pr(p("or")))),
        ("pr pr", pr(p("pr"))),
        ("notes pr", pr(p("notes"))),
        ("order pr", pr(p("order"))),
        (r#"eq eq "eq""#, eq("eq", "eq")),
        // Case of attribute names is kept.
        (
            r#"NAME.FamilyName eq "x""#,
            cmp(ps("NAME", "FamilyName"), Eq, s("x")),
        ),
        (
            r#"URN:IETF:params:scim:schemas:core:2.0:User:userName eq "x""#,
            cmp(
                p("userName").with_urn("URN:IETF:params:scim:schemas:core:2.0:User"),
                Eq,
                s("x"),
            ),
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq \"1\"]",
            vp(p("manager").with_urn(ENT), eq("value", "1")),
        ),
    ]);
}

#[track_caller]
fn rejected(input: &str) -> String {
    match parse_filter(input) {
        Ok(f) => panic!("{input:?} parsed as {f:?}"),
        Err(e) => {
            assert_eq!(e.scim_type(), Some(ScimType::InvalidFilter), "{input}");
            assert_eq!(e.status(), 400, "{input}");
            e.detail().to_string()
        }
    }
}

#[test]
fn malformed_filters_are_invalid_filter() {
    let cases = [
        // empty
        "",
        "   ",
        // unbalanced parentheses / brackets / quotes
        "(userName eq \"a\"",
        "userName eq \"a\")",
        "((a pr)",
        "(a pr))",
        "()",
        "emails[type eq \"work\"",
        "emails type eq \"work\"]",
        "emails[]",
        "userName eq \"abc",
        "userName eq abc\"",
        "userName eq \"a\\\"",
        // missing or unknown operator
        "userName",
        "userName \"a\"",
        "userName xx \"a\"",
        "userName eq",
        "userName equals \"a\"",
        "userName == \"a\"",
        "userName=\"a\"",
        // pr with a value
        "title pr \"x\"",
        "title pr true",
        "title pr 1",
        // bad escapes
        r#"a eq "\x41""#,
        r#"a eq "\u00g1""#,
        r#"a eq "\ud800""#,
        r#"a eq "\q""#,
        "a eq \"tab\tin string\"",
        // bad numbers
        "a eq 01",
        "a eq 1.",
        "a eq .5",
        "a eq -",
        "a eq 1e",
        "a eq 1x",
        "a eq 1e999",
        "a eq +1",
        // unquoted values
        "userName eq bjensen",
        "userName eq trul",
        "active eq yes",
        "a eq 'single'",
        // trailing garbage
        "title pr title",
        "title pr )",
        "userName eq \"a\" extra",
        "a pr and",
        "a pr or",
        "a pr and or b pr",
        "a pr andb pr",
        "and",
        // not without parentheses
        "not userName eq \"a\"",
        "not title pr and x pr",
        "not",
        "not ()",
        // nested value paths, value paths on sub-attributes
        "emails[type[value eq \"a\"] eq \"b\"]",
        "emails[x[y pr]]",
        "emails[(x[y pr])]",
        "emails[not (x[y pr])]",
        "emails[a pr and (b pr or x[y pr])]",
        "name.familyName[x pr]",
        "emails[type eq \"work\"].value",
        "emails[type eq \"work\"].",
        "emails[type eq \"work\"].value xx 1",
        // bad names and paths
        "1abc pr",
        "-abc pr",
        "name. pr",
        "name.x.y pr",
        "a..b pr",
        "urn: pr",
        "urn:a pr",
        "urn:ietf:params:scim:schemas:core:2.0:User: pr",
        "\"userName\" eq \"a\"",
        "[type eq \"work\"]",
        "a:b eq 1",
        "userName eq \"a\" and and b pr",
        "@ pr",
    ];
    for input in cases {
        rejected(input);
    }
}

#[test]
fn error_details_name_the_offset_and_reason() {
    let cases = [
        ("userName", "offset 8", "expected a space and an operator"),
        (
            "userName xx \"a\"",
            "offset 9",
            "unknown operator 'xx' after 'userName'",
        ),
        ("userName  eq", "offset 12", "expected a value"),
        (
            "userName eq bjensen",
            "offset 12",
            "strings must be in double quotes",
        ),
        ("(a pr", "offset 5", "to close the '(' opened at offset 0"),
        (
            "emails[type pr",
            "offset 14",
            "to close the '[' opened at offset 6",
        ),
        ("a eq \"abc", "offset 5", "unterminated string"),
        (
            "a eq \"\\q\"",
            "offset 7",
            "invalid string (invalid escape)",
        ),
        ("title pr \"x\"", "offset 9", "'pr' takes no value"),
        ("not a pr", "offset 4", "expected '(' after 'not'"),
        (
            "a pr b",
            "offset 5",
            "expected 'and', 'or' or the end of the filter",
        ),
        (
            "emails[a[b pr]]",
            "offset 8",
            "value filters cannot be nested",
        ),
        ("a eq 01", "offset 5", "invalid number"),
        ("", "offset 0", "empty"),
    ];
    for (input, offset, reason) in cases {
        let detail = rejected(input);
        assert!(detail.contains(offset), "{input}: {detail}");
        assert!(detail.contains(reason), "{input}: {detail}");
    }
}

#[test]
fn depth_and_length_limits() {
    let nested = |depth: usize| format!("{}a pr{}", "(".repeat(depth), ")".repeat(depth));
    assert!(parse_filter(&nested(MAX_FILTER_DEPTH)).is_ok());
    let detail = rejected(&nested(MAX_FILTER_DEPTH + 1));
    assert!(detail.contains("deeper than"), "{detail}");
    let nots = |depth: usize| format!("{}a pr{}", "not (".repeat(depth), ")".repeat(depth));
    assert!(parse_filter(&nots(MAX_FILTER_DEPTH)).is_ok());
    rejected(&nots(MAX_FILTER_DEPTH + 1));
    // Far beyond the limit (but within the length limit): no stack overflow.
    rejected(&"(".repeat(MAX_FILTER_LEN));
    rejected(&"not (".repeat(MAX_FILTER_LEN / 5));
    rejected(&format!("{}a pr", "a[".repeat(1000)));

    let at_limit = format!("a eq \"{}\"", "x".repeat(MAX_FILTER_LEN - 7));
    assert_eq!(at_limit.len(), MAX_FILTER_LEN);
    assert!(parse_filter(&at_limit).is_ok());
    let too_long = format!("a eq \"{}\"", "x".repeat(MAX_FILTER_LEN));
    let detail = rejected(&too_long);
    assert!(detail.contains("at most 4096"), "{detail}");

    // A long flat chain parses iteratively and prints/drops without trouble.
    let chain = vec!["a pr"; 400].join(" and ");
    let f = parse_filter(&chain).unwrap();
    assert_eq!(parse_filter(&f.to_string()).unwrap(), f);
}
