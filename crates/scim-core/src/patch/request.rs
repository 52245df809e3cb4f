//! The PATCH request message (RFC 7644 §3.5.2): parsing a client's JSON body into typed
//! operations, with SCIM errors for every malformed shape.
//!
//! Parsing is tolerant where real clients differ from the RFC and strict where a wrong
//! guess would corrupt data:
//!
//! - `schemas` may be omitted (some clients do); when present it must list
//!   [`PATCH_OP_URN`], otherwise the body is `invalidSyntax` (it is some other message).
//! - The `Operations` key and the `op`, `path` and `value` keys match in any letter case,
//!   and `op` values match in any letter case (Entra sends `Add`, `Replace`, `Remove`).
//! - An empty `Operations` array is a valid no-op (the Microsoft validator sends one).
//! - More than [`MAX_OPERATIONS`] operations is `invalidValue`: the value of `Operations`
//!   is not one this server accepts (`tooMany` is reserved for filters by RFC 7644 §3.12).
//! - A missing or unknown `op`, an operation that is not an object, or an `Operations` that
//!   is not an array is `invalidSyntax` (the body does not have the PatchOp structure).
//! - A `path` that does not parse is `invalidPath` (or `invalidFilter` for a malformed
//!   value filter inside it, as RFC 7644 §3.12 allows for PATCH path filters); a `path` that
//!   is `null` or `""` counts as absent.
//! - `add` and `replace` without a `value` member are `invalidValue` ("a required value was
//!   missing"); an explicit `"value": null` is kept (it clears the target on `replace`).
//! - `remove` without a path is `noTarget`, exactly as RFC 7644 §3.5.2.2 prescribes.

use crate::error::{ScimError, ScimResult, ScimType};
use crate::path::{PatchPath, parse_path};
use serde_json::{Map, Value};

/// `urn:ietf:params:scim:api:messages:2.0:PatchOp`.
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The largest number of operations accepted in one PATCH request.
pub const MAX_OPERATIONS: usize = 1000;

/// The kind of a PATCH operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOpKind {
    /// `add`.
    Add,
    /// `replace`.
    Replace,
    /// `remove`.
    Remove,
}

impl PatchOpKind {
    /// Parses an `op` value, ignoring letter case.
    pub fn parse(op: &str) -> Option<Self> {
        let op = op.trim();
        if op.eq_ignore_ascii_case("add") {
            Some(PatchOpKind::Add)
        } else if op.eq_ignore_ascii_case("replace") {
            Some(PatchOpKind::Replace)
        } else if op.eq_ignore_ascii_case("remove") {
            Some(PatchOpKind::Remove)
        } else {
            None
        }
    }

    /// The keyword in lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOpKind::Add => "add",
            PatchOpKind::Replace => "replace",
            PatchOpKind::Remove => "remove",
        }
    }
}

impl std::fmt::Display for PatchOpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One PATCH operation.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    /// `add`, `replace` or `remove`.
    pub op: PatchOpKind,
    /// The target; `None` targets the resource itself (`add` and `replace` only).
    pub path: Option<PatchPath>,
    /// The value: always `Some` for `add` and `replace` (possibly `Value::Null`); for
    /// `remove`, the optional list of values to remove (Entra's member removal).
    pub value: Option<Value>,
}

/// A parsed PATCH request: the operations, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatchRequest {
    /// The operations, applied in order and atomically.
    pub operations: Vec<PatchOperation>,
}

impl PatchRequest {
    /// Parses a PatchOp message body.
    ///
    /// ```
    /// use scim_core::patch::{PatchOpKind, PatchRequest};
    /// let body = serde_json::json!({
    ///     "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    ///     "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
    /// });
    /// let request = PatchRequest::from_json(&body).unwrap();
    /// assert_eq!(request.operations[0].op, PatchOpKind::Replace);
    /// ```
    pub fn from_json(body: &Value) -> ScimResult<Self> {
        let Value::Object(body) = body else {
            return Err(ScimError::invalid_syntax(
                "a PATCH request must be a JSON object",
            ));
        };
        if let Some(schemas) = get_ci(body, "schemas") {
            check_schemas(schemas)?;
        }
        let Some(ops) = get_ci(body, "Operations") else {
            return Err(ScimError::invalid_syntax(
                "a PATCH request must have an 'Operations' array",
            ));
        };
        let Value::Array(ops) = ops else {
            return Err(ScimError::invalid_syntax("'Operations' must be an array"));
        };
        if ops.len() > MAX_OPERATIONS {
            return Err(ScimError::invalid_value(format!(
                "a PATCH request may carry at most {MAX_OPERATIONS} operations, this one has {}",
                ops.len()
            )));
        }
        let operations = ops
            .iter()
            .enumerate()
            .map(|(i, op)| {
                PatchOperation::from_json(op)
                    .map_err(|e| e.with_context(format!("Operations[{i}]")))
            })
            .collect::<ScimResult<Vec<_>>>()?;
        Ok(PatchRequest { operations })
    }
}

impl PatchOperation {
    /// Parses one element of `Operations`.
    pub fn from_json(op: &Value) -> ScimResult<Self> {
        let Value::Object(op) = op else {
            return Err(ScimError::invalid_syntax(
                "each PATCH operation must be a JSON object",
            ));
        };
        let kind = match get_ci(op, "op") {
            None | Some(Value::Null) => {
                return Err(ScimError::invalid_syntax(
                    "the operation has no 'op' member",
                ));
            }
            Some(Value::String(s)) => PatchOpKind::parse(s).ok_or_else(|| {
                ScimError::invalid_syntax(format!(
                    "unknown op '{s}'; expected add, replace or remove"
                ))
            })?,
            Some(_) => {
                return Err(ScimError::invalid_syntax("'op' must be a string"));
            }
        };
        let path = match get_ci(op, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(parse_patch_path(s)?),
            Some(_) => return Err(ScimError::invalid_path("'path' must be a string")),
        };
        let value = get_ci(op, "value").cloned();
        match kind {
            PatchOpKind::Add | PatchOpKind::Replace if value.is_none() => Err(
                ScimError::invalid_value(format!("a '{kind}' operation requires a 'value'")),
            ),
            PatchOpKind::Add | PatchOpKind::Replace if path.is_none() => match value {
                Some(Value::Object(_)) => Ok(PatchOperation {
                    op: kind,
                    path,
                    value,
                }),
                _ => Err(ScimError::invalid_value(format!(
                    "a '{kind}' operation without a 'path' requires an object 'value' of attributes"
                ))),
            },
            PatchOpKind::Remove if path.is_none() => Err(ScimError::no_target(
                "a 'remove' operation requires a 'path'",
            )),
            _ => Ok(PatchOperation {
                op: kind,
                path,
                value,
            }),
        }
    }
}

/// Parses a `path`, keeping `invalidFilter` for a malformed value filter and reporting
/// everything else as `invalidPath`.
pub(crate) fn parse_patch_path(s: &str) -> ScimResult<PatchPath> {
    parse_path(s).map_err(|e| match e.scim_type() {
        Some(ScimType::InvalidPath | ScimType::InvalidFilter) => e,
        _ => ScimError::invalid_path(e.detail().to_string()),
    })
}

fn check_schemas(schemas: &Value) -> ScimResult<()> {
    let listed = match schemas {
        Value::Array(items) => items.iter().any(is_patch_urn),
        Value::String(_) => is_patch_urn(schemas),
        _ => false,
    };
    if listed {
        Ok(())
    } else {
        Err(ScimError::invalid_syntax(format!(
            "'schemas' must contain '{PATCH_OP_URN}'"
        )))
    }
}

fn is_patch_urn(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.trim().eq_ignore_ascii_case(PATCH_OP_URN))
}

/// A member of a JSON object by name, ignoring letter case (an exact match wins).
fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}
