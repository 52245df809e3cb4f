//! Organization-defined extension schemas on the request path and for the tools that
//! manage them (the CLI's `scim-server schema …`, the admin API and console).
//!
//! [`Authenticated::check`](crate::auth::Authenticated::check) reads the tenant row, which
//! carries `schema_version`; [`SchemaCache::registry`] turns it into the tenant's
//! [`Registry`]: version 0 (never any extension) is [`Registry::STATIC`] at no cost; any
//! other version is looked up in a per-process map keyed by tenant, and only on a miss (the
//! first request after a put or remove, on each replica) are the tenant's documents read, on
//! the same session, and parsed (interned, so re-parsing a known document builds nothing).

use crate::error::ApiError;
use scim_core::schema::document::parse_schema_document;
use scim_core::schema::registry::{Extension, Registry, Stored, check_put};
use scim_core::{Profile, ResourceKind, ScimError};
use scim_store::{NewTenantSchema, Session, Store, StoreError, TenantSchema};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::RwLock;

/// What a request knows of its tenant after the token check: its conformance profile and
/// its resource types (with its own extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tenancy {
    /// The tenant's conformance profile.
    pub profile: Profile,
    /// The tenant's resource types and schemas.
    pub registry: Registry,
}

impl Tenancy {
    /// The tenant's resource type of `kind`.
    pub fn resource_type(&self, kind: ResourceKind) -> &'static scim_core::schema::ResourceType {
        self.registry.resource_type(kind)
    }
}

/// The per-process cache of tenants' registries, keyed by tenant id, holding the
/// `schema_version` it was built from (one entry per tenant that has ever had an
/// extension; a newer version replaces it).
#[derive(Debug, Default)]
pub struct SchemaCache {
    entries: RwLock<HashMap<String, (i64, Registry)>>,
}

impl SchemaCache {
    /// The registry of `tenant_id` at `version`, from the cache or read on `s`.
    pub fn registry(
        &self,
        s: &mut dyn Session,
        tenant_id: &str,
        version: i64,
    ) -> Result<Registry, ApiError> {
        if version == 0 {
            return Ok(Registry::STATIC);
        }
        {
            let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
            if let Some((v, registry)) = entries.get(tenant_id)
                && *v == version
            {
                return Ok(*registry);
            }
        }
        let rows = s.tenant_schemas(tenant_id)?;
        let registry = Registry::from_stored(&stored(&rows));
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        // A concurrent miss may have stored a newer version meanwhile: keep the newest.
        let keep_newer = entries.get(tenant_id).is_some_and(|(v, _)| *v > version);
        if !keep_newer {
            entries.insert(tenant_id.to_string(), (version, registry));
        }
        Ok(registry)
    }
}

/// The stored rows as the registry and the change rules see them. A document that no
/// longer parses (it cannot happen with documents this release stored) is skipped with a
/// warning rather than failing every request of the tenant.
pub fn stored(rows: &[TenantSchema]) -> Vec<Stored> {
    rows.iter()
        .filter_map(|row| match parse_schema_document(&row.document) {
            Ok(doc) => Some(Stored {
                extension: Extension {
                    schema: doc.schema,
                    extends: row.extends,
                    required: row.required,
                },
                active: row.active,
            }),
            Err(e) => {
                tracing::warn!(schema = %row.id, error = %e.detail(), "stored extension schema does not parse; ignored");
                None
            }
        })
        .collect()
}

/// What to put: the document text as uploaded and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaPut {
    /// The resource type it extends.
    pub extends: ResourceKind,
    /// Whether every resource of that type must carry it.
    pub required: bool,
    /// Replace even when the change is incompatible with the stored definition.
    pub force: bool,
}

/// Why a schema could not be put or removed.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The document or the change was refused; the message says why (and names the
    /// attribute).
    #[error("{}", .0.detail())]
    Invalid(ScimError),
    /// No such tenant, or (for a removal) no such active extension.
    #[error("not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for SchemaError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => SchemaError::NotFound,
            StoreError::Rejected(e) => SchemaError::Invalid(e),
            e => SchemaError::Store(e),
        }
    }
}

/// Validates `document` and creates or replaces the tenant's extension (the change rules
/// of [`check_put`] run in the store's transaction); returns the stored row.
pub fn put_schema(
    store: &dyn Store,
    tenant_id: &str,
    document: &str,
    options: &SchemaPut,
) -> Result<TenantSchema, SchemaError> {
    let doc = parse_schema_document(document).map_err(SchemaError::Invalid)?;
    let new = Extension {
        schema: doc.schema,
        extends: options.extends,
        required: options.required,
    };
    let row = NewTenantSchema {
        id: doc.schema.id.to_string(),
        extends: options.extends,
        required: options.required,
        document: doc.canonical,
    };
    let force = options.force;
    Ok(store.put_tenant_schema(tenant_id, &row, &mut |existing| {
        check_put(&stored(existing), &new, force)
    })?)
}

/// Removes the tenant's active extension `urn` (its stored values are withheld).
pub fn remove_schema(store: &dyn Store, tenant_id: &str, urn: &str) -> Result<(), SchemaError> {
    Ok(store.remove_tenant_schema(tenant_id, urn)?)
}

/// The JSON of one stored extension, as `schema list --json` and the admin API show it:
/// `id`, `name`, `extends`, `required`, `active`, `attributes` (top-level names), `created`,
/// `lastModified` and the `document` (the schema as `/Schemas/{id}` publishes it, without
/// `meta`).
pub fn schema_json(row: &TenantSchema) -> Value {
    let document: Value = serde_json::from_str(&row.document).unwrap_or(Value::Null);
    let attributes: Vec<Value> = document
        .get("attributes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.get("name").cloned()).collect())
        .unwrap_or_default();
    json!({
        "id": row.id,
        "name": document.get("name").cloned().unwrap_or(Value::Null),
        "extends": row.extends.as_str(),
        "required": row.required,
        "active": row.active,
        "attributes": attributes,
        "created": scim_core::resource::format_datetime(&row.created),
        "lastModified": scim_core::resource::format_datetime(&row.last_modified),
        "document": document,
    })
}
