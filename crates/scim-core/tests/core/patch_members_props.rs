//! Property tests of the member-delta recogniser: random request sequences mixing every
//! recognised shape, risky values and other operations; whenever `split_member_ops`
//! answers, `rest` + `delta` is what `apply_patch` does to the whole group. Also: runs of
//! `remove members[value eq "…"]`, applied in one pass, equal the one-by-one filter path.

// clippy.toml allows these inside `#[test]` functions only; the table helpers need them too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::patch_members::{arb_id, check_equivalent, others, request};
use proptest::prelude::*;
use scim_core::ResourceKind;
use scim_core::patch::{apply_patch, split_member_ops};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// One member value in a generated request; `safe` ones must be recognised.
#[derive(Debug, Clone)]
enum Item {
    Bare(String),
    Obj {
        id: String,
        value_key: &'static str,
        display: bool,
        ref_null: bool,
        unknown: bool,
    },
    Blank(Value),
    /// Shapes the recogniser may refuse (and `apply_patch` may reject).
    Risky(Value),
}

impl Item {
    fn json(&self) -> Value {
        match self {
            Item::Bare(id) => json!(id),
            Item::Obj {
                id,
                value_key,
                display,
                ref_null,
                unknown,
            } => {
                let mut m = Map::new();
                if *display {
                    m.insert("display".into(), json!("Some Name"));
                }
                m.insert((*value_key).into(), json!(id));
                if *ref_null {
                    m.insert("$ref".into(), Value::Null);
                }
                if *unknown {
                    m.insert("displayName".into(), json!("Ada"));
                }
                Value::Object(m)
            }
            Item::Blank(v) | Item::Risky(v) => v.clone(),
        }
    }

    fn safe(&self) -> bool {
        !matches!(self, Item::Risky(_))
    }

    fn unknown(&self) -> bool {
        matches!(self, Item::Obj { unknown: true, .. })
    }

    fn id(&self) -> Option<&str> {
        match self {
            Item::Bare(id) | Item::Obj { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// A generated operation.
#[derive(Debug, Clone)]
enum Op {
    Add {
        path: &'static str,
        items: Vec<Item>,
    },
    AddPathless {
        items: Vec<Item>,
        rename: bool,
    },
    Replace {
        items: Vec<Item>,
    },
    ReplacePathless {
        items: Vec<Item>,
        rename: bool,
    },
    RemoveFilter(String),
    RemoveList(Vec<Item>),
    RemoveAll,
    /// Not about members: `(json, may fail)`.
    Other(Value),
}

fn arb_item() -> impl Strategy<Value = Item> {
    prop_oneof![
        4 => arb_id().prop_map(Item::Bare),
        6 => (
            arb_id(),
            prop::sample::select(vec!["value", "Value"]),
            any::<bool>(),
            any::<bool>(),
            prop::bool::weighted(0.2),
        )
            .prop_map(|(id, value_key, display, ref_null, unknown)| Item::Obj {
                id,
                value_key,
                display,
                ref_null,
                unknown,
            }),
        1 => prop::sample::select(vec![json!(null), json!(""), json!({}), json!({"value": ""})])
            .prop_map(Item::Blank),
        1 => prop::sample::select(vec![
            json!(5),
            json!({"value": 5}),
            json!({"value": "a", "type": "Group"}),
            json!({"value": "b", "type": "User"}),
            json!({"value": "a", "$ref": "https://h/Users/a"}),
            json!({"value": "c", "primary": true}),
            json!({"type": "User"}),
            json!("{\"value\":\"a\"}"),
            json!(["a"]),
        ])
        .prop_map(Item::Risky),
    ]
}

fn arb_items() -> impl Strategy<Value = Vec<Item>> {
    prop::collection::vec(arb_item(), 0..4)
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (
            prop::sample::select(vec!["members", "Members", "urn:ietf:params:scim:schemas:core:2.0:Group:members"]),
            arb_items()
        )
            .prop_map(|(path, items)| Op::Add { path, items }),
        2 => (arb_items(), any::<bool>()).prop_map(|(items, rename)| Op::AddPathless { items, rename }),
        1 => arb_items().prop_map(|items| Op::Replace { items }),
        1 => (arb_items(), any::<bool>())
            .prop_map(|(items, rename)| Op::ReplacePathless { items, rename }),
        3 => arb_id().prop_map(Op::RemoveFilter),
        2 => arb_items().prop_map(Op::RemoveList),
        1 => Just(Op::RemoveAll),
        2 => prop::sample::select(vec![
            json!({"op": "replace", "path": "displayName", "value": "Renamed"}),
            json!({"op": "add", "path": "externalId", "value": "ext-2"}),
            json!({"op": "add", "path": "externalId", "value": "ext-1"}),
            json!({"op": "remove", "path": "externalId"}),
            json!({"op": "replace", "value": {"displayName": "Engineering"}}),
            json!({"op": "replace", "path": "displayName", "value": ""}),
            json!({"op": "add", "path": "title", "value": "x"}),
        ])
        .prop_map(Op::Other),
    ]
}

impl Op {
    fn json(&self) -> Value {
        let list = |items: &[Item]| Value::Array(items.iter().map(Item::json).collect());
        let pathless = |items: &[Item], rename: bool| {
            let mut m = Map::new();
            if rename {
                m.insert("displayName".into(), json!("Renamed"));
            }
            m.insert("members".into(), list(items));
            Value::Object(m)
        };
        match self {
            Op::Add { path, items } => json!({"op": "add", "path": path, "value": list(items)}),
            Op::AddPathless { items, rename } => {
                json!({"op": "add", "value": pathless(items, *rename)})
            }
            Op::Replace { items } => {
                json!({"op": "replace", "path": "members", "value": list(items)})
            }
            Op::ReplacePathless { items, rename } => {
                json!({"op": "replace", "value": pathless(items, *rename)})
            }
            Op::RemoveFilter(id) => {
                json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")})
            }
            Op::RemoveList(items) => {
                json!({"op": "remove", "path": "members", "value": list(items)})
            }
            Op::RemoveAll => json!({"op": "remove", "path": "members"}),
            Op::Other(v) => v.clone(),
        }
    }

    fn items(&self) -> &[Item] {
        match self {
            Op::Add { items, .. }
            | Op::AddPathless { items, .. }
            | Op::Replace { items }
            | Op::ReplacePathless { items, .. }
            | Op::RemoveList(items) => items,
            _ => &[],
        }
    }
}

/// Whether the request never rewrites the object of a member that stays (see
/// [`check_equivalent`]).
fn is_plain(ops: &[Op]) -> bool {
    let mut removed = BTreeSet::new();
    for op in ops {
        if op.items().iter().any(Item::unknown) {
            return false;
        }
        match op {
            Op::Replace { .. } | Op::ReplacePathless { .. } | Op::RemoveAll => return false,
            Op::RemoveFilter(id) => {
                removed.insert(id.clone());
            }
            Op::RemoveList(items) => {
                removed.extend(items.iter().filter_map(Item::id).map(String::from))
            }
            Op::Add { items, .. } | Op::AddPathless { items, .. } => {
                if items
                    .iter()
                    .filter_map(Item::id)
                    .any(|id| removed.contains(id))
                {
                    return false;
                }
            }
            Op::Other(_) => {}
        }
    }
    true
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn split_agrees_with_apply_patch(
        current in prop::collection::vec(arb_id(), 0..5),
        with_external in any::<bool>(),
        ops in prop::collection::vec(arb_op(), 0..7),
    ) {
        let mut current_ids = Vec::new();
        for id in current {
            if !current_ids.contains(&id) {
                current_ids.push(id);
            }
        }
        let mut others = Map::new();
        others.insert("displayName".into(), json!("Engineering"));
        if with_external {
            others.insert("externalId".into(), json!("ext-1"));
        }
        let body_ops = Value::Array(ops.iter().map(Op::json).collect());
        let req = request(body_ops);
        let safe = ops.iter().all(|op| op.items().iter().all(Item::safe));
        match split_member_ops(ResourceKind::Group, &req) {
            None => prop_assert!(!safe, "a safe request was refused: {:?}", ops),
            Some(_) => {
                check_equivalent(&current_ids, &others, &req, is_plain(&ops))?;
            }
        }
    }
}

fn arb_stored_member() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => arb_id().prop_map(|id| json!({"value": id, "display": "D", "type": "User"})),
        1 => arb_id().prop_map(|id| json!({"Value": id})),
        1 => arb_id().prop_map(|id| json!(id)),
        1 => arb_id().prop_map(|id| json!({"value": [id]})),
        1 => Just(json!({"value": 5})),
        1 => Just(json!({"display": "no id"})),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Runs of `remove members[value eq "x"]` are applied in one pass through a set of the
    /// ids; `value eq "x" and value eq "x"` means the same but takes the one-by-one
    /// filter path, so both must give the same group, whatever the stored values look like.
    #[test]
    fn batched_value_removals_match_one_by_one(
        stored in prop::collection::vec(arb_stored_member(), 0..6),
        removals in prop::collection::vec((arb_id(), any::<bool>()), 0..6),
    ) {
        let mut attrs = others();
        if !stored.is_empty() {
            attrs.insert("members".into(), Value::Array(stored));
        }
        let fast: Vec<Value> = removals
            .iter()
            .map(|(id, rename)| if *rename {
                json!({"op": "replace", "path": "displayName", "value": format!("G {id}")})
            } else {
                json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")})
            })
            .collect();
        let slow: Vec<Value> = removals
            .iter()
            .map(|(id, rename)| if *rename {
                json!({"op": "replace", "path": "displayName", "value": format!("G {id}")})
            } else {
                json!({"op": "remove", "path": format!("members[value eq \"{id}\" and value eq \"{id}\"]")})
            })
            .collect();
        let fast = apply_patch(ResourceKind::Group, &attrs, &request(Value::Array(fast))).unwrap();
        let slow = apply_patch(ResourceKind::Group, &attrs, &request(Value::Array(slow))).unwrap();
        prop_assert_eq!(fast, slow);
    }
}
