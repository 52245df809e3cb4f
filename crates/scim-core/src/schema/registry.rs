//! The schemas of one organization: the static resource types plus the extensions the
//! organization defined ([`super::document`]), as a [`Registry`] of interned
//! `&'static ResourceType`s, so that every function taking a `&'static ResourceType` works
//! unchanged for a tenant's types.
//!
//! A tenant's `User` type is the static one (core schema, enterprise extension) with the
//! tenant's User extensions appended in URN order and the URNs of its removed extensions
//! listed as [`ResourceType::withheld`]. Each distinct combination is built once per
//! process (`Box::leak`) and shared, so memory is bounded by the distinct combinations ever
//! defined. A tenant without extensions uses [`Registry::STATIC`] and costs nothing.
//!
//! **Change rules** ([`check_put`]): replacing a definition is allowed when stored values
//! stay valid; an incompatible change is refused unless forced: another `extends`, an
//! attribute's (or sub-attribute's) `type` or `multiValued` changed, `required` added to an
//! existing attribute or sub-attribute, a new required attribute, or the extension made
//! required. Removing attributes is compatible: their stored values stay in the documents
//! but are withheld (the schema is closed), and defining them again brings them back.

use super::{
    AttributeDef, ENTITLEMENT_SCHEMAS, GROUP_RESOURCE_TYPE, ResourceKind, ResourceType, SCHEMAS,
    Schema, SchemaExtension, USER_RESOURCE_TYPE,
};
use crate::error::{ScimError, ScimResult};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// One organization-defined extension as the registry uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension {
    /// The interned schema.
    pub schema: &'static Schema,
    /// The resource type it extends.
    pub extends: ResourceKind,
    /// Whether every resource of that type must carry it (`schemaExtensions.required`).
    pub required: bool,
}

/// An extension the organization has stored, active or removed (what [`check_put`]
/// compares a new definition with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// The definition.
    pub extension: Extension,
    /// `false` once removed: its stored values are withheld.
    pub active: bool,
}

/// The resource types of one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registry {
    user: &'static ResourceType,
    group: &'static ResourceType,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::STATIC
    }
}

static INTERNED: Mutex<BTreeMap<String, &'static ResourceType>> = Mutex::new(BTreeMap::new());

fn interned_type(
    base: &'static ResourceType,
    extensions: &[Extension],
    withheld: &[&'static str],
) -> &'static ResourceType {
    let mut mine: Vec<&Extension> = extensions
        .iter()
        .filter(|e| e.extends == base.kind)
        .collect();
    let mut hidden: Vec<&'static str> = withheld
        .iter()
        .copied()
        .filter(|w| !mine.iter().any(|e| e.schema.id.eq_ignore_ascii_case(w)))
        .collect();
    if mine.is_empty() && hidden.is_empty() {
        return base;
    }
    mine.sort_by_key(|e| e.schema.id.to_ascii_lowercase());
    hidden.sort_by_key(|w| w.to_ascii_lowercase());
    hidden.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    // Schemas are interned, so their address identifies their content.
    let mut key = format!("{:?}", base.kind);
    for e in &mine {
        key.push_str(&format!("|{:p}:{}", e.schema, e.required));
    }
    for w in &hidden {
        key.push_str(&format!("|-{}", w.to_ascii_lowercase()));
    }
    let mut table = INTERNED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(rt) = table.get(&key) {
        return rt;
    }
    let all: Vec<SchemaExtension> = base
        .extensions
        .iter()
        .copied()
        .chain(mine.iter().map(|e| SchemaExtension {
            schema: e.schema,
            required: e.required,
        }))
        .collect();
    let withheld: &'static [&'static str] = Box::leak(hidden.into_boxed_slice());
    let rt: &'static ResourceType = Box::leak(Box::new(ResourceType {
        extensions: Box::leak(all.into_boxed_slice()),
        withheld,
        ..*base
    }));
    table.insert(key, rt);
    rt
}

impl Registry {
    /// The static definitions: what a tenant without extensions uses.
    pub const STATIC: Registry = Registry {
        user: &USER_RESOURCE_TYPE,
        group: &GROUP_RESOURCE_TYPE,
    };

    /// The registry of an organization with these active extensions and these removed
    /// extension URNs (withheld). A removed URN that is active again is not withheld.
    pub fn new(extensions: &[Extension], withheld: &[(ResourceKind, &'static str)]) -> Self {
        let of = |kind: ResourceKind| -> Vec<&'static str> {
            withheld
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, u)| *u)
                .collect()
        };
        Registry {
            user: interned_type(&USER_RESOURCE_TYPE, extensions, &of(ResourceKind::User)),
            group: interned_type(&GROUP_RESOURCE_TYPE, extensions, &of(ResourceKind::Group)),
        }
    }

    /// The registry of what an organization stored: active extensions are defined,
    /// removed ones withheld.
    pub fn from_stored(stored: &[Stored]) -> Self {
        let active: Vec<Extension> = stored
            .iter()
            .filter(|s| s.active)
            .map(|s| s.extension)
            .collect();
        let withheld: Vec<(ResourceKind, &'static str)> = stored
            .iter()
            .filter(|s| !s.active)
            .map(|s| (s.extension.extends, s.extension.schema.id))
            .collect();
        Registry::new(&active, &withheld)
    }

    /// Whether this is [`Registry::STATIC`] (no organization extension, active or removed).
    pub fn is_static(&self) -> bool {
        std::ptr::eq(self.user, &USER_RESOURCE_TYPE)
            && std::ptr::eq(self.group, &GROUP_RESOURCE_TYPE)
    }

    /// The resource type of `kind` for this organization.
    pub fn resource_type(&self, kind: ResourceKind) -> &'static ResourceType {
        match kind {
            ResourceKind::User => self.user,
            ResourceKind::Group => self.group,
        }
    }

    /// Every resource type (`/ResourceTypes`).
    pub fn resource_types(&self) -> [&'static ResourceType; 2] {
        [self.user, self.group]
    }

    /// Every schema this organization publishes (`/Schemas`): the static ones, then its
    /// extensions in URN order.
    pub fn schemas(&self) -> Vec<&'static Schema> {
        let mut out: Vec<&'static Schema> = SCHEMAS
            .iter()
            .chain(ENTITLEMENT_SCHEMAS.iter())
            .copied()
            .collect();
        for rt in self.resource_types() {
            for e in rt.extensions {
                if !out.iter().any(|s| std::ptr::eq(*s, e.schema)) {
                    out.push(e.schema);
                }
            }
        }
        out
    }

    /// A published schema by URN, ignoring letter case.
    pub fn schema(&self, id: &str) -> Option<&'static Schema> {
        self.schemas()
            .into_iter()
            .find(|s| s.id.eq_ignore_ascii_case(id))
    }
}

/// Why replacing `old` by `new` would break stored values; empty when compatible.
pub fn incompatibilities(old: &Extension, new: &Extension) -> Vec<String> {
    let mut out = Vec::new();
    if old.extends != new.extends {
        out.push(format!(
            "it extends {} now, not {}",
            new.extends, old.extends
        ));
    }
    if new.required && !old.required {
        out.push("the extension becomes required, which stored resources may lack".into());
    }
    compare(old.schema.attributes, new.schema.attributes, None, &mut out);
    out
}

fn compare(
    old: &[AttributeDef],
    new: &[AttributeDef],
    parent: Option<&str>,
    out: &mut Vec<String>,
) {
    for n in new {
        let path = match parent {
            Some(p) => format!("{p}.{}", n.name),
            None => n.name.to_string(),
        };
        let Some(o) = old.iter().find(|o| o.name.eq_ignore_ascii_case(n.name)) else {
            if n.required {
                out.push(format!(
                    "attribute '{path}' is new and required, which stored resources lack"
                ));
            }
            continue;
        };
        if o.ty != n.ty {
            out.push(format!(
                "attribute '{path}' changes type from {} to {}",
                o.ty.as_str(),
                n.ty.as_str()
            ));
        }
        if o.multi_valued != n.multi_valued {
            out.push(format!(
                "attribute '{path}' changes multiValued from {} to {}",
                o.multi_valued, n.multi_valued
            ));
        }
        if n.required && !o.required {
            out.push(format!("attribute '{path}' becomes required"));
        }
        if o.is_complex() && n.is_complex() {
            compare(o.sub_attributes, n.sub_attributes, Some(&path), out);
        }
    }
}

/// Decides whether an organization that stored `existing` may put `new`: at most
/// [`super::document::MAX_EXTENSIONS`] active extensions, and a replacement (of an
/// active or a removed definition with the same URN, whose values are still stored) must
/// be compatible ([`incompatibilities`]) unless `force`. The error names every problem.
pub fn check_put(existing: &[Stored], new: &Extension, force: bool) -> ScimResult<()> {
    let same = existing
        .iter()
        .find(|s| s.extension.schema.id.eq_ignore_ascii_case(new.schema.id));
    let active_others = existing
        .iter()
        .filter(|s| s.active && !s.extension.schema.id.eq_ignore_ascii_case(new.schema.id))
        .count();
    if active_others >= super::document::MAX_EXTENSIONS {
        return Err(ScimError::invalid_value(format!(
            "the organization already has {} extensions, the most allowed; remove one first",
            super::document::MAX_EXTENSIONS
        )));
    }
    if let Some(old) = same
        && !force
    {
        let problems = incompatibilities(&old.extension, new);
        if !problems.is_empty() {
            return Err(ScimError::invalid_value(format!(
                "the new definition of {} is incompatible with the stored one: {}; values \
                 stored under it may no longer be valid. Put it with force to replace it anyway",
                new.schema.id,
                problems.join("; ")
            )));
        }
    }
    Ok(())
}
