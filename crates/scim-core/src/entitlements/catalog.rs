//! The catalog check of a user's `roles` and `entitlements`, and the supersets that say
//! whether a write needs it.

use super::{EntitlementKind, EntitlementValue};
use crate::error::{ScimError, ScimResult};
use crate::resource::Attributes;
use serde_json::Value;
use std::collections::HashSet;

/// The defined values of one class (roles, or entitlements of every type).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Defined {
    values: HashSet<String>,
    ids: HashSet<String>,
}

impl Defined {
    fn allows(&self, v: &str) -> bool {
        self.values.contains(v) || self.ids.contains(v)
    }
}

/// An organization's catalog as the write check needs it: for roles and for entitlements,
/// `None` when the organization defined no value of that class (any value is accepted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    roles: Option<Defined>,
    entitlements: Option<Defined>,
}

impl Catalog {
    /// The catalog of these values.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a EntitlementValue>) -> Self {
        let mut c = Catalog::default();
        for v in values {
            c.add(&v.kind, &v.id, &v.value);
        }
        c
    }

    /// Adds one defined value of `kind`.
    pub fn add(&mut self, kind: &EntitlementKind, id: &str, value: &str) {
        let class = if kind.is_role() {
            &mut self.roles
        } else {
            &mut self.entitlements
        };
        let d = class.get_or_insert_with(Defined::default);
        d.values.insert(value.to_string());
        d.ids.insert(id.to_string());
    }

    /// Whether nothing is defined (every value accepted).
    pub fn is_empty(&self) -> bool {
        self.roles.is_none() && self.entitlements.is_none()
    }

    /// Checks the `roles` and `entitlements` of `after` (a user's new canonical
    /// attributes): every value not already held in `before` must be defined, when a
    /// catalog of its class exists. The error (`invalidValue`) names the first one that
    /// is not.
    pub fn check(&self, before: Option<&Attributes>, after: &Attributes) -> ScimResult<()> {
        for (attr, defined, what) in [
            ("roles", &self.roles, "role"),
            ("entitlements", &self.entitlements, "entitlement"),
        ] {
            let Some(defined) = defined else { continue };
            let held: HashSet<&str> = before
                .map(|b| values_of(b, attr).collect())
                .unwrap_or_default();
            for v in values_of(after, attr) {
                if !held.contains(v) && !defined.allows(v) {
                    return Err(ScimError::invalid_value(format!(
                        "{attr}: '{v}' is not a {what} this organization defined"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The string `value`s of a multi-valued attribute of canonical attributes.
fn values_of<'a>(attrs: &'a Attributes, attr: &str) -> impl Iterator<Item = &'a str> {
    attrs
        .get(attr)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("value").and_then(Value::as_str))
}

/// Whether a request body may change a user's `roles` or `entitlements`: some key or string
/// in it contains either name (letter case ignored). A superset, so a write that does not
/// qualify never needs the catalog (Okta's deactivate PATCH, most profile updates).
pub fn may_touch_grants(body: &Value) -> bool {
    fn mentions(s: &str) -> bool {
        let s = s.to_ascii_lowercase();
        s.contains("roles") || s.contains("entitlements")
    }
    match body {
        Value::Object(m) => m.iter().any(|(k, v)| mentions(k) || may_touch_grants(v)),
        Value::Array(a) => a.iter().any(may_touch_grants),
        Value::String(s) => mentions(s),
        _ => false,
    }
}

/// Whether a PATCH may change a user's `roles` or `entitlements`: an operation whose path
/// names either attribute (with or without the User URN), or a path-less operation whose
/// value [may touch them](may_touch_grants).
pub fn patch_may_touch_grants(request: &crate::patch::PatchRequest) -> bool {
    request.operations.iter().any(|op| match &op.path {
        Some(p) => {
            p.attr.eq_ignore_ascii_case("roles") || p.attr.eq_ignore_ascii_case("entitlements")
        }
        None => op.value.as_ref().is_some_and(may_touch_grants),
    })
}
