//! The filters a list of values takes: `eq` on `id`, `value`, `display`, `displayName`.

use crate::error::{ScimError, ScimResult};
use crate::filter::{CompValue, CompareOp, Filter};
use crate::schema::{IETF_ENTITLEMENT_URN, IETF_ROLE_URN, OKTA_ENTITLEMENT_URN, OKTA_ROLE_URN};

/// The `eq` filters the entitlement endpoints answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueFilter {
    /// `id eq "…"`.
    Id(String),
    /// `value eq "…"` (exact).
    Value(String),
    /// `display eq "…"` or `displayName eq "…"` (exact).
    Display(String),
}

/// The filter of a list of values: `id`, `value`, `display` or `displayName` `eq` a
/// string, optionally URN-qualified with one of the Role/Entitlement URNs; anything else
/// is `invalidFilter` (these catalogs are small lists, read whole by the IdP).
pub fn value_filter(filter: &Filter) -> ScimResult<ValueFilter> {
    let unsupported = || {
        ScimError::invalid_filter(
            "This endpoint filters only on id, value, display or displayName with eq and a string",
        )
    };
    let Filter::Compare(path, CompareOp::Eq, CompValue::String(s)) = filter else {
        return Err(unsupported());
    };
    let known_urn = path.urn.as_deref().is_none_or(|u| {
        [
            OKTA_ROLE_URN,
            OKTA_ENTITLEMENT_URN,
            IETF_ROLE_URN,
            IETF_ENTITLEMENT_URN,
        ]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(u))
    });
    if path.sub_attr.is_some() || !known_urn {
        return Err(unsupported());
    }
    let name = path.name.as_str();
    if name.eq_ignore_ascii_case("id") {
        Ok(ValueFilter::Id(s.clone()))
    } else if name.eq_ignore_ascii_case("value") {
        Ok(ValueFilter::Value(s.clone()))
    } else if name.eq_ignore_ascii_case("display") || name.eq_ignore_ascii_case("displayName") {
        Ok(ValueFilter::Display(s.clone()))
    } else {
        Err(unsupported())
    }
}
