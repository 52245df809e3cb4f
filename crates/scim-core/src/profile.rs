//! The per-tenant conformance profile: [`Profile::Strict`] follows every service-provider
//! MUST of the SCIM 2.0 Interoperability Profile (draft-zollner-scim-interop-profile-02),
//! [`Profile::Lenient`] (the default) keeps the tolerance that Okta and Entra ID need today.
//!
//! The profile is a value the caller passes in (the HTTP layer reads it with the tenant on
//! each request), so this crate stays pure and both modes are testable without IO. Lenient
//! mode is exactly the behaviour of the functions that take no profile
//! ([`crate::resource::parse_resource`], [`crate::patch::apply_patch`]); strict mode adds the
//! checks of this module before them, and one check during the PATCH apply that needs the
//! data (a value filter selecting more than one element, see
//! [`crate::patch::apply_patch_with`]).
//!
//! What strict refuses, and why (the profile's sections):
//!
//! - POST and PUT bodies ("Attribute and Schema Handling"): `schemas` must be present and
//!   list only the resource type's core schema and extensions; every key must be an
//!   attribute of the core schema, a common attribute, or an extension URN listed in
//!   `schemas` whose object holds only that extension's attributes; sub-attributes must be
//!   defined. Anything else is 400 `invalidSyntax` (lenient ignores unknown core
//!   attributes and keeps unknown extensions as sent).
//! - PATCH ("Updating Resources"): `schemas` must be present; every operation needs a
//!   `path` (`invalidSyntax`); the path and the value's keys must name defined attributes
//!   and schemas (`invalidSyntax`); a value-filtered path must end in a sub-attribute
//!   (`emails[type eq "work"].value`, not `emails[type eq "work"]`: `invalidPath`).
//! - Filters ("Filtering"): an attribute no schema of the resource type defines is 400
//!   `invalidFilter` (lenient evaluates such a test as false).

use crate::error::{ScimError, ScimResult};
use crate::filter::{AttrPath, Filter};
use crate::patch::{PatchOpKind, PatchRequest};
use crate::resource::is_urn;
use crate::schema::{AttributeDef, ResourceKind, ResourceType, Schema};
use serde_json::{Map, Value};
use std::fmt;
use std::str::FromStr;

/// How closely a tenant's endpoint follows the interop profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// Every service-provider MUST of draft-zollner-scim-interop-profile-02; the
    /// ServiceProviderConfig says `interopProfileConformant: true`.
    Strict,
    /// Today's tolerance of Okta and Entra ID shapes (path-less PATCH, dotted keys,
    /// unknown attributes and schema URIs); `interopProfileConformant: false`.
    #[default]
    Lenient,
}

impl Profile {
    /// The stored and displayed name: `strict` or `lenient`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Strict => "strict",
            Profile::Lenient => "lenient",
        }
    }

    /// Whether this is [`Profile::Strict`].
    pub fn is_strict(self) -> bool {
        self == Profile::Strict
    }

    /// The value of `interopProfileConformant` in the ServiceProviderConfig: only a strict
    /// tenant claims conformance (the profile: a non-conformant server MUST omit it or say
    /// `false`).
    pub fn interop_profile_conformant(self) -> bool {
        self.is_strict()
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a profile name that is neither `strict` nor `lenient`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProfile(pub String);

impl fmt::Display for UnknownProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown profile '{}': expected strict or lenient",
            self.0
        )
    }
}

impl std::error::Error for UnknownProfile {}

impl FromStr for Profile {
    type Err = UnknownProfile;

    /// `strict` or `lenient`, in any letter case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("strict") {
            Ok(Profile::Strict)
        } else if t.eq_ignore_ascii_case("lenient") {
            Ok(Profile::Lenient)
        } else {
            Err(UnknownProfile(s.to_string()))
        }
    }
}

fn unknown(what: impl fmt::Display) -> ScimError {
    ScimError::invalid_syntax(format!(
        "{what} (this organization follows the strict interop profile)"
    ))
}

fn get_ci<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// Checks a POST or PUT body under `profile`: nothing for lenient; for strict, the rules
/// in the [module documentation](self). Run it before (or after) parsing the body: it
/// only reads it.
///
/// ```
/// use scim_core::profile::{Profile, check_resource_body};
/// use scim_core::ResourceKind;
/// let body = serde_json::json!({
///     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
///     "userName": "ada", "nickname2": "x"
/// });
/// assert!(check_resource_body(Profile::Lenient, ResourceKind::User, &body).is_ok());
/// let e = check_resource_body(Profile::Strict, ResourceKind::User, &body).unwrap_err();
/// assert_eq!(e.scim_type().map(|t| t.as_str()), Some("invalidSyntax"));
/// ```
pub fn check_resource_body(profile: Profile, kind: ResourceKind, body: &Value) -> ScimResult<()> {
    check_resource_body_in(profile, kind.resource_type(), body)
}

/// [`check_resource_body`] against a tenant's resource type (its own extensions count as
/// known; its withheld ones do not).
pub fn check_resource_body_in(
    profile: Profile,
    rt: &'static ResourceType,
    body: &Value,
) -> ScimResult<()> {
    if !profile.is_strict() {
        return Ok(());
    }
    let Value::Object(body) = body else {
        return Err(ScimError::invalid_syntax(format!(
            "a {} must be a JSON object",
            rt.name
        )));
    };
    let listed = listed_schemas(rt, get_ci(body, "schemas"))?;
    for (key, value) in body {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if is_urn(key) {
            let Some(ext) = rt.extension(key) else {
                return Err(unknown(format!(
                    "'{key}' is not a schema extension of the {} resource type",
                    rt.name
                )));
            };
            if !listed.iter().any(|s| s.id == ext.id) {
                return Err(unknown(format!(
                    "the extension '{key}' is not listed in 'schemas'"
                )));
            }
            match value {
                Value::Object(inner) => check_keys(ext, inner)?,
                Value::Null => {}
                _ => {
                    return Err(ScimError::invalid_syntax(format!(
                        "the extension '{key}' must be an object"
                    )));
                }
            }
            continue;
        }
        let def = rt
            .schema
            .attribute(key)
            .or_else(|| crate::schema::find_attribute(&crate::schema::COMMON_ATTRIBUTES, key))
            .ok_or_else(|| {
                unknown(format!(
                    "'{key}' is not an attribute of the {} schema",
                    rt.schema.id
                ))
            })?;
        check_sub_keys(def, value)?;
    }
    Ok(())
}

/// The schemas a body's `schemas` lists: it must be present, and every URI must be the
/// core schema or an extension of `rt`.
fn listed_schemas(rt: &ResourceType, schemas: Option<&Value>) -> ScimResult<Vec<&'static Schema>> {
    let items = match schemas {
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ScimError::invalid_syntax(
                "'schemas' must be an array of URIs",
            ));
        }
        None => return Err(unknown("the request has no 'schemas'")),
    };
    let mut out = Vec::new();
    for item in items {
        let Some(uri) = item.as_str() else {
            return Err(ScimError::invalid_syntax(
                "'schemas' must be an array of URIs",
            ));
        };
        if rt.schema.id.eq_ignore_ascii_case(uri) {
            out.push(rt.schema);
        } else if let Some(ext) = rt.extension(uri) {
            out.push(ext);
        } else {
            return Err(unknown(format!(
                "the schema '{uri}' is not a schema of the {} resource type",
                rt.name
            )));
        }
    }
    if !out.iter().any(|s| s.id == rt.schema.id) {
        return Err(unknown(format!(
            "'schemas' does not list '{}'",
            rt.schema.id
        )));
    }
    Ok(out)
}

/// Every key of an extension object is one of its attributes, with defined sub-attributes.
fn check_keys(schema: &Schema, obj: &Map<String, Value>) -> ScimResult<()> {
    for (key, value) in obj {
        let def = schema.attribute(key).ok_or_else(|| {
            unknown(format!(
                "'{key}' is not an attribute of the {} schema",
                schema.id
            ))
        })?;
        check_sub_keys(def, value)?;
    }
    Ok(())
}

/// For a complex attribute, every value is an object (`null` clears) whose keys are
/// defined sub-attributes. Lenient mode reads a bare value as its `value` sub-attribute
/// (Entra's `"manager": "42"`); strict refuses it as a value of the wrong type.
fn check_sub_keys(def: &'static AttributeDef, value: &Value) -> ScimResult<()> {
    if !def.is_complex() {
        return Ok(());
    }
    let check = |item: &Value| -> ScimResult<()> {
        match item {
            Value::Object(m) => {
                for key in m.keys() {
                    if def.sub_attribute(key).is_none() {
                        return Err(unknown(format!(
                            "'{}' has no sub-attribute '{key}'",
                            def.name
                        )));
                    }
                }
                Ok(())
            }
            Value::Null => Ok(()),
            _ => Err(unknown(format!(
                "'{}' is a complex attribute: each value must be an object of its sub-attributes",
                def.name
            ))),
        }
    };
    match value {
        Value::Array(items) => items.iter().try_for_each(check),
        other => check(other),
    }
}

/// Checks a PATCH request under `profile`: nothing for lenient; for strict, the rules in
/// the [module documentation](self). `schemas_listed` says whether the body had a
/// `schemas` member ([`PatchRequest::from_json`] already refuses one that does not list
/// the PatchOp URN).
///
/// ```
/// use scim_core::profile::{Profile, check_patch};
/// use scim_core::{PatchRequest, ResourceKind};
/// let body = serde_json::json!({
///     "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
///     "Operations": [{"op": "replace", "value": {"active": false}}]
/// });
/// let request = PatchRequest::from_json(&body).unwrap();
/// assert!(check_patch(Profile::Lenient, ResourceKind::User, &request, true).is_ok());
/// let e = check_patch(Profile::Strict, ResourceKind::User, &request, true).unwrap_err();
/// assert_eq!(e.scim_type().map(|t| t.as_str()), Some("invalidSyntax"));
/// ```
pub fn check_patch(
    profile: Profile,
    kind: ResourceKind,
    request: &PatchRequest,
    schemas_listed: bool,
) -> ScimResult<()> {
    check_patch_in(profile, kind.resource_type(), request, schemas_listed)
}

/// [`check_patch`] against a tenant's resource type.
pub fn check_patch_in(
    profile: Profile,
    rt: &'static ResourceType,
    request: &PatchRequest,
    schemas_listed: bool,
) -> ScimResult<()> {
    if !profile.is_strict() {
        return Ok(());
    }
    if !schemas_listed {
        return Err(unknown("the PATCH request has no 'schemas'"));
    }
    for (i, op) in request.operations.iter().enumerate() {
        check_operation(rt, op).map_err(|e| e.with_context(format!("Operations[{i}]")))?;
    }
    Ok(())
}

fn check_operation(rt: &'static ResourceType, op: &crate::patch::PatchOperation) -> ScimResult<()> {
    let Some(path) = &op.path else {
        return Err(unknown(format!("a '{}' operation needs a 'path'", op.op)));
    };
    let value = op.value.as_ref().filter(|_| op.op != PatchOpKind::Remove);
    // A path that is exactly a schema URN: its value is an object of that schema's
    // attributes.
    if let Some(full) = path.as_schema_urn() {
        let schema = if rt.schema.id.eq_ignore_ascii_case(&full) {
            Some(rt.schema)
        } else {
            rt.extension(&full)
        };
        if let Some(schema) = schema {
            if let Some(Value::Object(obj)) = value {
                check_keys(schema, obj)?;
            }
            return Ok(());
        }
    }
    let resolved = match &path.urn {
        Some(urn) if !rt.has_schema(urn) => {
            return Err(unknown(format!(
                "'{urn}' is not a schema of the {} resource type",
                rt.name
            )));
        }
        // Unqualified names resolve in the core schema and the common attributes only;
        // an extension attribute is named with its URN.
        None => rt.schema.attribute(&path.attr).or_else(|| {
            crate::schema::find_attribute(&crate::schema::COMMON_ATTRIBUTES, &path.attr)
        }),
        Some(urn) => rt.resolve(Some(urn), &path.attr).map(|r| r.def),
    };
    let def = resolved.ok_or_else(|| {
        unknown(format!(
            "'{}' is not an attribute of the {} resource type",
            path.attr, rt.name
        ))
    })?;
    let sub = match &path.sub_attr {
        None => None,
        Some(name) => Some(
            def.sub_attribute(name)
                .ok_or_else(|| unknown(format!("'{}' has no sub-attribute '{name}'", def.name)))?,
        ),
    };
    if let Some(filter) = &path.filter {
        check_value_filter(def, filter)?;
        if sub.is_none() && def.is_complex() {
            return Err(ScimError::invalid_path(format!(
                "'{path}': a value-filtered path must name a sub-attribute, e.g. '{}[{filter}].value' (strict interop profile)",
                def.name
            )));
        }
    }
    if sub.is_none()
        && let Some(value) = value
    {
        check_sub_keys(def, value)?;
    }
    Ok(())
}

/// Every attribute a value filter (`emails[type eq "work"]`) tests is a sub-attribute of
/// `def`.
fn check_value_filter(def: &'static AttributeDef, filter: &Filter) -> ScimResult<()> {
    let mut bad = None;
    walk(filter, &mut |p: &AttrPath| {
        if bad.is_none()
            && p.urn.is_none()
            && def.sub_attribute(&p.name).is_none()
            && def.is_complex()
        {
            bad = Some(p.name.clone());
        }
    });
    match bad {
        Some(name) => Err(unknown(format!(
            "'{}' has no sub-attribute '{name}'",
            def.name
        ))),
        None => Ok(()),
    }
}

/// Calls `f` on every attribute path a filter tests, outside value paths; a value path's
/// own attribute is visited, its inner paths are relative to it and skipped.
fn walk(filter: &Filter, f: &mut impl FnMut(&AttrPath)) {
    match filter {
        Filter::Compare(p, _, _) | Filter::Present(p) => f(p),
        Filter::Not(inner) => walk(inner, f),
        Filter::And(a, b) | Filter::Or(a, b) => {
            walk(a, f);
            walk(b, f);
        }
        Filter::ValuePath(p, _) => f(p),
    }
}

/// Checks a list filter under `profile`: for strict, every attribute it tests must be
/// defined by a schema of one of `kinds` (the resource type of the endpoint, or every type
/// for a root `/.search`), else 400 `invalidFilter`.
pub fn check_filter(profile: Profile, kinds: &[ResourceKind], filter: &Filter) -> ScimResult<()> {
    let types: Vec<&'static ResourceType> = kinds.iter().map(|k| k.resource_type()).collect();
    check_filter_in(profile, &types, filter)
}

/// [`check_filter`] against a tenant's resource types.
pub fn check_filter_in(
    profile: Profile,
    types: &[&'static ResourceType],
    filter: &Filter,
) -> ScimResult<()> {
    if !profile.is_strict() {
        return Ok(());
    }
    let mut bad: Option<String> = None;
    walk(filter, &mut |p: &AttrPath| {
        if bad.is_some() {
            return;
        }
        let known = types.iter().any(|rt| {
            rt.resolve(p.urn.as_deref(), &p.name)
                .is_some_and(|r| match &p.sub_attr {
                    None => true,
                    Some(sub) => r.def.sub_attribute(sub).is_some(),
                })
        });
        if !known {
            bad = Some(p.to_string());
        }
    });
    match bad {
        Some(name) => Err(ScimError::invalid_filter(format!(
            "the filter tests '{name}', which no schema of this resource type defines (strict interop profile)"
        ))),
        None => Ok(()),
    }
}
