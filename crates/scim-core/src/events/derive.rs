//! From a committed change to its events: which [`ChangeEvent`]s a create, replace, patch,
//! delete or membership change produces, and which attribute paths it touched.

use super::{ChangeEvent, EventType, Subject};
use crate::ResourceKind;
use crate::resource::{Attributes, Resource, is_urn};
use serde_json::Value;

/// How a resource was changed, which decides between `prov:put` and `prov:patch`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum UpdateMethod {
    /// A full replace (PUT, or any caller that writes the whole resource).
    #[default]
    Put,
    /// A PATCH.
    Patch,
}

/// A committed change, as the store saw it.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// A resource was created (its relations, if present, are ignored: members travel as
    /// [`Change::Membership`]).
    Created(&'a Resource),
    /// A resource's own attributes changed from `before` to `after`'s.
    Updated {
        /// PUT or PATCH.
        method: UpdateMethod,
        /// The stored attributes before the change.
        before: &'a Attributes,
        /// The resource after the change.
        after: &'a Resource,
    },
    /// A resource was deleted (as it was before the delete).
    Deleted(&'a Resource),
    /// Members joined or left a group.
    Membership {
        /// The group.
        group: &'a Subject,
        /// The members that joined, with their kind.
        added: &'a [(String, ResourceKind)],
        /// The members that left, with their kind.
        removed: &'a [(String, ResourceKind)],
    },
}

/// The events of one change, in the order a receiver should apply them: the provisioning
/// event first, then `prov:activate` / `prov:deactivate` when a user's `active` flipped;
/// for a membership change one `feed:add` per member added, then one `feed:remove` per
/// member removed. An update that touched nothing produces nothing.
///
/// ```
/// use scim_core::events::{Change, EventType, UpdateMethod, events_for};
/// use scim_core::resource::{Attributes, Meta, Resource};
/// use scim_core::ResourceKind;
/// let before: Attributes = serde_json::from_value(serde_json::json!({"userName": "ada", "active": true})).unwrap();
/// let mut after_attrs = before.clone();
/// after_attrs.insert("active".into(), false.into());
/// let now = chrono::Utc::now();
/// let after = Resource { kind: ResourceKind::User, id: "u1".into(), attributes: after_attrs,
///     meta: Meta { created: now, last_modified: now, version: 2 } };
/// let events = events_for(Change::Updated { method: UpdateMethod::Patch, before: &before, after: &after });
/// let types: Vec<_> = events.iter().map(|e| e.event_type).collect();
/// assert_eq!(types, [EventType::Patch, EventType::Deactivate]);
/// assert_eq!(events[0].attributes, ["active"]);
/// ```
pub fn events_for(change: Change<'_>) -> Vec<ChangeEvent> {
    match change {
        Change::Created(resource) => {
            let mut attributes = vec!["id".to_string()];
            attributes.extend(changed_attribute_paths(
                &Attributes::new(),
                &resource.attributes,
            ));
            vec![provisioning(EventType::Create, resource, attributes)]
        }
        Change::Updated {
            method,
            before,
            after,
        } => {
            let attributes = changed_attribute_paths(before, &after.attributes);
            if attributes.is_empty() {
                return Vec::new();
            }
            let event_type = match method {
                UpdateMethod::Put => EventType::Put,
                UpdateMethod::Patch => EventType::Patch,
            };
            let mut out = vec![provisioning(event_type, after, attributes)];
            if after.kind == ResourceKind::User {
                match (is_active(before), after.active()) {
                    (true, false) => out.push(state(EventType::Deactivate, after)),
                    (false, true) => out.push(state(EventType::Activate, after)),
                    _ => {}
                }
            }
            out
        }
        Change::Deleted(resource) => vec![ChangeEvent {
            event_type: EventType::Delete,
            subject: subject_of(resource),
            version: None,
            data: None,
            attributes: Vec::new(),
            group: None,
        }],
        Change::Membership {
            group,
            added,
            removed,
        } => {
            let feed = |event_type, (id, kind): &(String, ResourceKind)| ChangeEvent {
                event_type,
                subject: Subject {
                    kind: *kind,
                    id: id.clone(),
                    external_id: None,
                },
                version: None,
                data: None,
                attributes: Vec::new(),
                group: Some(group.clone()),
            };
            added
                .iter()
                .map(|m| feed(EventType::FeedAdd, m))
                .chain(removed.iter().map(|m| feed(EventType::FeedRemove, m)))
                .collect()
        }
    }
}

/// The paths of the attributes that differ between `before` and `after`, sorted: core
/// attributes by name (`emails`, `name`), extension attributes fully qualified
/// (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`), as RFC 9967
/// §2.2 asks (RFC 7644 §3.5.2 path syntax). `schemas` and the relations (`members`,
/// `groups`) are left out; values are never looked at beyond equality.
///
/// ```
/// use scim_core::events::changed_attribute_paths;
/// let before = serde_json::json!({"userName": "ada", "name": {"givenName": "Ada"}});
/// let after = serde_json::json!({"userName": "ada", "name": {"givenName": "Augusta"},
///     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}});
/// assert_eq!(
///     changed_attribute_paths(before.as_object().unwrap(), after.as_object().unwrap()),
///     ["name", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"]
/// );
/// ```
pub fn changed_attribute_paths(before: &Attributes, after: &Attributes) -> Vec<String> {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        if matches!(key.as_str(), "schemas" | "members" | "groups") {
            continue;
        }
        let (a, b) = (before.get(key), after.get(key));
        if a == b {
            continue;
        }
        if is_urn(key) {
            let empty = Attributes::new();
            let sub_a = a.and_then(Value::as_object);
            let sub_b = b.and_then(Value::as_object);
            if sub_a.is_some() || sub_b.is_some() {
                let sub = changed_attribute_paths(sub_a.unwrap_or(&empty), sub_b.unwrap_or(&empty));
                out.extend(sub.into_iter().map(|s| format!("{key}:{s}")));
                continue;
            }
        }
        out.push(key.clone());
    }
    out
}

fn is_active(attributes: &Attributes) -> bool {
    attributes
        .get("active")
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

fn subject_of(resource: &Resource) -> Subject {
    Subject {
        kind: resource.kind,
        id: resource.id.clone(),
        external_id: resource.external_id().map(str::to_string),
    }
}

/// The resource as an event's `data`: its SCIM document without relations, located
/// relative to the tenant's base URL.
fn data_of(resource: &Resource) -> Value {
    let mut bare = Resource {
        kind: resource.kind,
        id: resource.id.clone(),
        attributes: resource.attributes.clone(),
        meta: resource.meta.clone(),
    };
    bare.attributes.remove("members");
    bare.attributes.remove("groups");
    bare.into_json("")
}

fn provisioning(
    event_type: EventType,
    resource: &Resource,
    attributes: Vec<String>,
) -> ChangeEvent {
    ChangeEvent {
        event_type,
        subject: subject_of(resource),
        version: Some(resource.meta.version),
        data: Some(data_of(resource)),
        attributes,
        group: None,
    }
}

fn state(event_type: EventType, resource: &Resource) -> ChangeEvent {
    ChangeEvent {
        event_type,
        subject: subject_of(resource),
        version: Some(resource.meta.version),
        data: None,
        attributes: Vec::new(),
        group: None,
    }
}
