//! The JSON shapes of roles, entitlements and entitlement types, shared by the admin API
//! and the CLI's `--json` (a contract: keys are only ever added).

use crate::AdminError;
use scim_core::entitlements::{EntitlementType, EntitlementValue};
use scim_core::resource::format_datetime;
use serde_json::{Value, json};

/// A value: `{"id", "kind", "value", "display", "created"}`.
pub fn value(v: &EntitlementValue) -> Value {
    json!({
        "id": v.id,
        "kind": v.kind.as_str(),
        "value": v.value,
        "display": v.display,
        "created": format_datetime(&v.created),
    })
}

/// A type: `{"id", "name", "endpoint", "created"}`.
pub fn entitlement_type(t: &EntitlementType) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "endpoint": t.endpoint,
        "created": format_datetime(&t.created),
    })
}

/// The body of `POST …/entitlements`: `{"kind", "value", "display"}` (`display`
/// optional).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewValue {
    /// `role`, `entitlement` or a type's id.
    pub kind: String,
    /// The value.
    pub value: String,
    /// The display name (the value when absent or empty).
    #[serde(default)]
    pub display: String,
}

/// The body of `POST …/entitlements/types`: `{"id", "name", "endpoint"}` (`name`
/// defaults to the id, `endpoint` to `/<id>s`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewType {
    /// The type's id, e.g. `License`.
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its endpoint, e.g. `/Licenses`.
    #[serde(default)]
    pub endpoint: String,
}

impl NewType {
    /// The name and endpoint with their defaults applied.
    pub fn resolved(&self) -> (String, String) {
        let name = if self.name.trim().is_empty() {
            self.id.clone()
        } else {
            self.name.clone()
        };
        let endpoint = if self.endpoint.trim().is_empty() {
            format!("/{}s", self.id)
        } else {
            self.endpoint.clone()
        };
        (name, endpoint)
    }
}

/// Parses a JSON body into `T`, a 400 naming the problem otherwise.
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    serde_json::from_slice(body)
        .map_err(|e| AdminError::BadRequest(format!("The request body is not valid: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_parse_with_defaults_and_refuse_unknown_keys() {
        let v: NewValue = parse(br#"{"kind":"role","value":"admin"}"#).unwrap();
        assert_eq!(v.display, "");
        assert!(parse::<NewValue>(br#"{"kind":"role","value":"a","x":1}"#).is_err());
        assert!(parse::<NewValue>(b"not json").is_err());
        let t: NewType = parse(br#"{"id":"License"}"#).unwrap();
        assert_eq!(t.resolved(), ("License".into(), "/Licenses".into()));
        let t: NewType = parse(br#"{"id":"Seat","name":"Seats","endpoint":"/Seating"}"#).unwrap();
        assert_eq!(t.resolved(), ("Seats".into(), "/Seating".into()));
    }
}
