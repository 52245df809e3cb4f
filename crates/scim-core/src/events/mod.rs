//! SCIM security events (RFC 9967, a profile of RFC 8417 Security Event Tokens): what a
//! committed change means to the rest of a SaaS.
//!
//! The store derives [`ChangeEvent`]s from each write ([`derive`]) and keeps them, in the
//! change's own transaction, in a per-tenant outbox; delivery renders each one as the claims
//! of a SET ([`set`]) in the mode a subscriber asked for. Everything here is pure: no clock,
//! no randomness, no IO. The caller supplies ids and times.
//!
//! Two choices of this server, on top of the RFC:
//! - Events carry a resource **without its relations** (`members`, `groups`). A membership
//!   change is one `feed:add` / `feed:remove` event per member, whose subject is the member
//!   and whose payload names the group (RFC 9967 §2.3: a resource joins or leaves a feed,
//!   here the group's). A group with 100 000 members therefore never produces a 100 000
//!   member payload, and a member-only PATCH produces only feed events.
//! - Deleting a resource is one `prov:delete`; the memberships it ends are implied and get
//!   no `feed:remove` (RFC 9967 §2.4.4: "a corresponding feedRemove SHALL NOT be issued").

pub mod derive;
pub mod set;

pub use derive::{Change, UpdateMethod, changed_attribute_paths, events_for};
pub use set::{SetContext, StoredEvent};

use crate::ResourceKind;
use serde_json::{Map, Value};

/// The URI prefix every SCIM event shares.
pub const EVENT_URI_PREFIX: &str = "urn:ietf:params:scim:event:";

/// The kind of a SCIM event (RFC 9967 §2.3–§2.4), without the `full` / `notice` qualifier
/// that [`EventMode`] adds to the three provisioning events that carry one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// `prov:create`: a resource was created.
    Create,
    /// `prov:patch`: a resource was changed by PATCH.
    Patch,
    /// `prov:put`: a resource was replaced by PUT.
    Put,
    /// `prov:delete`: a resource was deleted.
    Delete,
    /// `prov:activate`: a user's `active` became true.
    Activate,
    /// `prov:deactivate`: a user's `active` became false.
    Deactivate,
    /// `feed:add`: the subject became a member of a group.
    FeedAdd,
    /// `feed:remove`: the subject stopped being a member of a group.
    FeedRemove,
}

impl EventType {
    /// Every event type, in a stable order.
    pub const ALL: [EventType; 8] = [
        EventType::Create,
        EventType::Patch,
        EventType::Put,
        EventType::Delete,
        EventType::Activate,
        EventType::Deactivate,
        EventType::FeedAdd,
        EventType::FeedRemove,
    ];

    /// The short name stored and accepted in event filters, e.g. `prov:create`, `feed:add`.
    pub fn name(self) -> &'static str {
        match self {
            EventType::Create => "prov:create",
            EventType::Patch => "prov:patch",
            EventType::Put => "prov:put",
            EventType::Delete => "prov:delete",
            EventType::Activate => "prov:activate",
            EventType::Deactivate => "prov:deactivate",
            EventType::FeedAdd => "feed:add",
            EventType::FeedRemove => "feed:remove",
        }
    }

    /// Whether the event URI ends in `:full` or `:notice` (create, patch and put).
    pub fn has_mode(self) -> bool {
        matches!(self, EventType::Create | EventType::Patch | EventType::Put)
    }

    /// The event URI, e.g. `urn:ietf:params:scim:event:prov:create:full`; `mode` only
    /// matters where [`EventType::has_mode`].
    pub fn uri(self, mode: EventMode) -> String {
        if self.has_mode() {
            format!("{EVENT_URI_PREFIX}{}:{}", self.name(), mode.as_str())
        } else {
            format!("{EVENT_URI_PREFIX}{}", self.name())
        }
    }

    /// Parses a short name (`prov:create`), a full URI with or without its `:full` /
    /// `:notice` qualifier, case-insensitively.
    pub fn parse(text: &str) -> Option<Self> {
        let lower = text.trim().to_ascii_lowercase();
        let short = lower.strip_prefix(EVENT_URI_PREFIX).unwrap_or(&lower);
        let short = short
            .strip_suffix(":full")
            .or_else(|| short.strip_suffix(":notice"))
            .unwrap_or(short);
        EventType::ALL.into_iter().find(|t| t.name() == short)
    }

    /// Every URI this server can generate, both qualifiers included: the
    /// ServiceProviderConfig's `securityEvents.eventUris`.
    pub fn all_uris() -> Vec<String> {
        let mut out = Vec::new();
        for t in EventType::ALL {
            if t.has_mode() {
                out.push(t.uri(EventMode::Full));
                out.push(t.uri(EventMode::Notice));
            } else {
                out.push(t.uri(EventMode::Full));
            }
        }
        out
    }
}

/// Parses a comma-separated list of event types (see [`EventType::parse`]); `*` or an empty
/// list means every type. The error names the first entry that is not an event type.
pub fn parse_event_list(text: &str) -> Result<Option<Vec<EventType>>, String> {
    let entries: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if entries.is_empty() || entries == ["*"] {
        return Ok(None);
    }
    let mut out = Vec::new();
    for entry in entries {
        let t = EventType::parse(entry).ok_or_else(|| entry.to_string())?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out.sort();
    Ok(Some(out))
}

/// How a provisioning event carries the change (RFC 9967 §2.4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum EventMode {
    /// `data`: the resource as it is after the change.
    #[default]
    Full,
    /// `attributes`: the paths of the attributes the change touched.
    Notice,
}

impl EventMode {
    /// `full` or `notice`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventMode::Full => "full",
            EventMode::Notice => "notice",
        }
    }

    /// Parses `full` or `notice` (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "full" => Some(EventMode::Full),
            "notice" => Some(EventMode::Notice),
            _ => None,
        }
    }
}

/// The resource an event is about (the SET's `sub_id`, RFC 9967 §2.1), or the group a
/// feed event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// User or Group.
    pub kind: ResourceKind,
    /// The server-issued id.
    pub id: String,
    /// The client's `externalId`, when known.
    pub external_id: Option<String>,
}

impl Subject {
    /// The resource's path relative to the tenant's base URL, e.g. `/Users/<id>`.
    pub fn uri(&self) -> String {
        format!("{}/{}", self.kind.resource_type().endpoint, self.id)
    }

    /// The `sub_id` object: `{"format": "scim", "uri": "/Users/<id>", "externalId": ...}`.
    pub fn sub_id(&self) -> Value {
        let mut m = Map::new();
        m.insert("format".into(), Value::from("scim"));
        m.insert("uri".into(), Value::from(self.uri()));
        if let Some(x) = &self.external_id {
            m.insert("externalId".into(), Value::from(x.clone()));
        }
        Value::Object(m)
    }
}

/// One event of a committed change, as the outbox keeps it: everything a SET of either
/// mode needs, without the per-delivery claims (`iss`, `aud`, `jti`, `iat`, `txn`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    /// What happened.
    pub event_type: EventType,
    /// The resource it happened to (for feed events, the member).
    pub subject: Subject,
    /// The subject's version after the change (the ETag's counter), where it has one:
    /// provisioning events other than `prov:delete`.
    pub version: Option<i64>,
    /// `prov:create|patch|put`: the resource after the change, as a SCIM document without
    /// its relations, with `meta.location` relative (`/Users/<id>`); [`set`] makes it
    /// absolute under the issuer.
    pub data: Option<Value>,
    /// `prov:create|patch|put`: the attribute paths the change created or modified.
    pub attributes: Vec<String>,
    /// Feed events: the group the subject joined or left.
    pub group: Option<Subject>,
}

/// Events as a tenant with its own resource types may carry them: each event's `data` gets
/// the default projection of the tenant's type (no `returned: never` or `request` values of
/// its extensions, nothing of its removed ones), what a GET returns. For
/// [`Registry::STATIC`](crate::schema::registry::Registry::STATIC) the events are
/// returned as they are (`None`: nothing to change).
pub fn project_events(
    registry: &crate::schema::registry::Registry,
    events: &[ChangeEvent],
) -> Option<Vec<ChangeEvent>> {
    if registry.is_static() {
        return None;
    }
    let projection = crate::projection::Projection::default();
    Some(
        events
            .iter()
            .map(|e| {
                let mut e = e.clone();
                if let Some(data) = &mut e.data {
                    projection.apply(registry.resource_type(e.subject.kind), data);
                }
                e
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_type_names_and_uris_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.name()), Some(t));
            assert_eq!(EventType::parse(&t.uri(EventMode::Full)), Some(t));
            assert_eq!(EventType::parse(&t.uri(EventMode::Notice)), Some(t));
        }
        assert_eq!(
            EventType::Create.uri(EventMode::Notice),
            "urn:ietf:params:scim:event:prov:create:notice"
        );
        assert_eq!(
            EventType::Deactivate.uri(EventMode::Full),
            "urn:ietf:params:scim:event:prov:deactivate"
        );
        assert_eq!(
            EventType::FeedAdd.uri(EventMode::Notice),
            "urn:ietf:params:scim:event:feed:add"
        );
        assert_eq!(
            EventType::parse("PROV:Deactivate"),
            Some(EventType::Deactivate)
        );
        assert_eq!(
            EventType::parse("prov:deactivate:full"),
            Some(EventType::Deactivate)
        );
        assert_eq!(EventType::parse("prov:frobnicate"), None);
        assert_eq!(EventType::parse(""), None);
        assert_eq!(EventType::all_uris().len(), 11);
    }

    #[test]
    fn event_lists_parse_or_name_the_bad_entry() {
        type Parsed = Result<Option<Vec<EventType>>, String>;
        let cases: &[(&str, Parsed)] = &[
            ("", Ok(None)),
            ("*", Ok(None)),
            (" , ", Ok(None)),
            (
                "prov:deactivate, prov:create,prov:create",
                Ok(Some(vec![EventType::Create, EventType::Deactivate])),
            ),
            (
                "urn:ietf:params:scim:event:feed:add",
                Ok(Some(vec![EventType::FeedAdd])),
            ),
            ("prov:create,nope", Err("nope".into())),
        ];
        for (text, want) in cases {
            assert_eq!(&parse_event_list(text), want, "{text:?}");
        }
    }

    #[test]
    fn modes_parse() {
        assert_eq!(EventMode::parse("FULL"), Some(EventMode::Full));
        assert_eq!(EventMode::parse("notice"), Some(EventMode::Notice));
        assert_eq!(EventMode::parse("both"), None);
    }

    #[test]
    fn sub_id_has_format_uri_and_external_id_when_known() {
        let s = Subject {
            kind: ResourceKind::User,
            id: "u1".into(),
            external_id: Some("jdoe".into()),
        };
        assert_eq!(
            s.sub_id(),
            serde_json::json!({"format": "scim", "uri": "/Users/u1", "externalId": "jdoe"})
        );
        let g = Subject {
            kind: ResourceKind::Group,
            id: "g1".into(),
            external_id: None,
        };
        assert_eq!(
            g.sub_id(),
            serde_json::json!({"format": "scim", "uri": "/Groups/g1"})
        );
    }
}
