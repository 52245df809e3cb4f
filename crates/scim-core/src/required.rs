//! What must be present and what may be sent: the `required` rules of the core schema and
//! of organization-defined extensions, and the closed-schema rule that an organization's
//! extension accepts only the sub-attributes it defines. Used by POST and PUT parsing
//! ([`crate::resource::parse_resource_in`]) and after PATCH ([`crate::patch`]).

use crate::error::{ScimError, ScimResult};
use crate::resource::Attributes;
use crate::schema::{AttributeDef, Mutability, ResourceType};
use serde_json::{Map, Value};

/// Checks that every required, client-writable attribute of the core schema is present,
/// and, for organization-defined (closed) extensions, that a required extension is
/// present and that an extension present has its required attributes and sub-attributes.
pub fn check_required(rt: &ResourceType, attrs: &Attributes) -> ScimResult<()> {
    for def in rt.schema.attributes {
        if !def.required || def.mutability == Mutability::ReadOnly {
            continue;
        }
        if !is_present(attrs.get(def.name)) {
            return Err(ScimError::invalid_value(format!(
                "the required attribute '{}' is missing or empty",
                def.name
            )));
        }
    }
    for ext in rt.extensions.iter().filter(|e| e.schema.closed) {
        let urn = ext.schema.id;
        let object = attrs.get(urn).and_then(Value::as_object);
        let Some(object) = object else {
            if ext.required {
                return Err(ScimError::invalid_value(format!(
                    "the required extension '{urn}' is missing"
                )));
            }
            continue;
        };
        for def in ext.schema.attributes {
            if def.mutability == Mutability::ReadOnly {
                continue;
            }
            let value = object.get(def.name);
            if def.required && !is_present(value) {
                return Err(ScimError::invalid_value(format!(
                    "the required attribute '{urn}:{}' is missing or empty",
                    def.name
                )));
            }
            let Some(value) = value else {
                continue;
            };
            for sub in def.sub_attributes.iter().filter(|s| s.required) {
                let values: Vec<&Value> = match value {
                    Value::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                if values.iter().any(|v| !is_present(v.get(sub.name))) {
                    return Err(ScimError::invalid_value(format!(
                        "the required sub-attribute '{urn}:{}.{}' is missing or empty",
                        def.name, sub.name
                    )));
                }
            }
        }
    }
    Ok(())
}

fn is_present(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

/// For an attribute of a closed (organization-defined) extension: every key of its
/// complex values must be one of its sub-attributes (`invalidValue` naming it otherwise).
pub fn check_closed_value(def: &AttributeDef, value: &Value, path: &str) -> ScimResult<()> {
    if !def.is_complex() {
        return Ok(());
    }
    let objects: Vec<&Map<String, Value>> = match value {
        Value::Object(m) => vec![m],
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    };
    for m in objects {
        if let Some(key) = m.keys().find(|k| def.sub_attribute(k).is_none()) {
            return Err(ScimError::invalid_value(format!(
                "'{path}' has no sub-attribute '{key}'"
            )));
        }
    }
    Ok(())
}
