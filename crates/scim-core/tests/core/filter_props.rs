//! Property tests: printing any parser-shaped AST and parsing it back gives the same AST
//! (filters and PATCH paths), and the parsers never panic, whatever the input.

use proptest::prelude::*;
use scim_core::filter::{AttrPath, CompValue, CompareOp, Filter, parse_filter};
use scim_core::path::{PatchPath, parse_path};

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
        1 => prop_oneof![
            Just("$ref".to_string()),
            Just("$REF".to_string()),
            Just("not".to_string()),
            Just("and".to_string()),
            Just("or".to_string()),
            Just("pr".to_string()),
            Just("eq".to_string()),
            Just("true".to_string()),
            Just("null".to_string()),
            Just("urn".to_string()),
        ],
    ]
}

fn urn() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.25,
        prop_oneof![
            Just("urn:ietf:params:scim:schemas:core:2.0:User".to_string()),
            Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_string()),
            Just("URN:Example:x-y_z.1:2.0".to_string()),
            "urn:[a-z0-9]{1,5}(:[a-zA-Z0-9._-]{1,6}){1,4}",
        ],
    )
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    (urn(), name(), prop::option::weighted(0.3, name())).prop_map(|(urn, name, sub_attr)| {
        AttrPath {
            urn,
            name,
            sub_attr,
        }
    })
}

fn op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Eq),
        Just(CompareOp::Ne),
        Just(CompareOp::Co),
        Just(CompareOp::Sw),
        Just(CompareOp::Ew),
        Just(CompareOp::Gt),
        Just(CompareOp::Ge),
        Just(CompareOp::Lt),
        Just(CompareOp::Le),
    ]
}

fn value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        1 => Just(CompValue::Null),
        1 => any::<bool>().prop_map(CompValue::Bool),
        2 => any::<i64>().prop_map(|n| CompValue::Number(n.into())),
        1 => any::<u64>().prop_map(|n| CompValue::Number(n.into())),
        2 => any::<f64>()
            .prop_filter_map("finite", serde_json::Number::from_f64)
            .prop_map(CompValue::Number),
        4 => any::<String>().prop_map(CompValue::String),
        3 => "[\"\\\\ a-z()\\[\\]:.\u{e9}\u{1F600}\u{0}-\u{1f}]{0,12}".prop_map(CompValue::String),
    ]
}

fn leaf() -> impl Strategy<Value = Filter> {
    prop_oneof![
        4 => (attr_path(), op(), value()).prop_map(|(p, o, v)| Filter::Compare(p, o, v)),
        1 => attr_path().prop_map(Filter::Present),
    ]
}

/// Filters without value paths: what may appear inside brackets.
fn inner_filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| Filter::Not(Box::new(f))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner).prop_map(|(l, r)| Filter::Or(Box::new(l), Box::new(r))),
        ]
    })
}

fn value_path() -> impl Strategy<Value = Filter> {
    (urn(), name(), inner_filter()).prop_map(|(urn, name, inner)| {
        Filter::ValuePath(
            AttrPath {
                urn,
                name,
                sub_attr: None,
            },
            Box::new(inner),
        )
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    prop_oneof![3 => leaf(), 1 => value_path()].prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| Filter::Not(Box::new(f))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner).prop_map(|(l, r)| Filter::Or(Box::new(l), Box::new(r))),
        ]
    })
}

fn patch_path() -> impl Strategy<Value = PatchPath> {
    (
        urn(),
        name(),
        prop::option::weighted(0.5, inner_filter()),
        prop::option::weighted(0.4, name()),
    )
        .prop_map(|(urn, attr, filter, sub_attr)| PatchPath {
            urn,
            attr,
            filter,
            sub_attr,
        })
}

/// Strings made of filter tokens, to reach deep into the grammar.
fn filterish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("(".to_string()),
        Just(")".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(" ".to_string()),
        Just(".".to_string()),
        Just(":".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("not".to_string()),
        Just("and".to_string()),
        Just("or".to_string()),
        Just("pr".to_string()),
        Just("eq".to_string()),
        Just("gt".to_string()),
        Just("urn:a:b".to_string()),
        Just("true".to_string()),
        Just("null".to_string()),
        Just("-1.5e3".to_string()),
        Just("\"x\\\"y\"".to_string()),
        Just("\\u00e9".to_string()),
        Just("\\ud83d".to_string()),
        Just("é".to_string()),
        "[a-z]{1,4}",
    ];
    prop::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

/// 256 cases per property by default (debug builds are slow); `PROPTEST_CASES=10000`
/// for a longer run.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn printed_filters_parse_back_to_the_same_ast(f in filter()) {
        let printed = f.to_string();
        let parsed = parse_filter(&printed);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&f), "printed: {} -> {:?}", printed, parsed);
        // The canonical form is a fixed point.
        prop_assert_eq!(parsed.map(|p| p.to_string()).ok(), Some(printed));
    }

    #[test]
    fn printed_paths_parse_back_to_the_same_path(p in patch_path()) {
        let printed = p.to_string();
        let parsed = parse_path(&printed);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&p), "printed: {} -> {:?}", printed, parsed);
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(s in any::<String>()) {
        let _ = parse_filter(&s);
        let _ = parse_path(&s);
    }

    #[test]
    fn parsing_filter_like_text_never_panics_and_round_trips(s in filterish()) {
        if let Ok(f) = parse_filter(&s) {
            prop_assert_eq!(parse_filter(&f.to_string()).ok(), Some(f));
        }
        if let Ok(p) = parse_path(&s) {
            prop_assert_eq!(parse_path(&p.to_string()).ok(), Some(p));
        }
    }

    #[test]
    fn errors_are_invalid_filter_with_an_offset(s in filterish()) {
        if let Err(e) = parse_filter(&s) {
            prop_assert_eq!(e.scim_type(), Some(scim_core::ScimType::InvalidFilter));
            prop_assert!(e.detail().contains("offset "), "{}", e.detail());
        }
        if let Err(e) = parse_path(&s) {
            prop_assert_eq!(e.scim_type(), Some(scim_core::ScimType::InvalidPath));
        }
    }
}
