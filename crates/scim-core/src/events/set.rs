//! An outbox event rendered as the claims of a Security Event Token (RFC 8417 §2.2, RFC
//! 9967 §2): `iss`, `iat`, `jti`, `aud`, `txn`, `sub_id` and one entry in `events`. Signing
//! the claims (a JWS) is the delivering side's business.

use super::{ChangeEvent, EventMode, EventType};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// An event as the outbox hands it out: the [`ChangeEvent`] with the identifiers and time
/// fixed when it was committed.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// The SET's `jti`: unique per event, the same on every delivery of it (retries,
    /// replays, every subscription), so receivers de-duplicate on it.
    pub jti: String,
    /// The SET's `txn`: the same for every event of one request's change.
    pub txn: String,
    /// When the change was committed (the SET's `iat`).
    pub issued_at: DateTime<Utc>,
    /// What happened.
    pub event: ChangeEvent,
}

/// Who issues a SET and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetContext<'a> {
    /// The `iss` claim: the tenant's SCIM base URL (`<public-url>/scim/v2/<tenant>`);
    /// relative `sub_id.uri`s and `meta.location`s are relative to it.
    pub issuer: &'a str,
    /// The `aud` claim (left out when empty).
    pub audience: &'a [String],
    /// `full` (the resource in `data`) or `notice` (the changed paths in `attributes`).
    pub mode: EventMode,
}

impl StoredEvent {
    /// The event's URI in `mode`.
    pub fn uri(&self, mode: EventMode) -> String {
        self.event.event_type.uri(mode)
    }

    /// The SET claims, e.g. for a deactivation:
    ///
    /// ```json
    /// {"iss": "https://h/scim/v2/t1", "iat": 1796083200, "jti": "…", "aud": ["…"],
    ///  "txn": "…", "sub_id": {"format": "scim", "uri": "/Users/u1", "externalId": "ada"},
    ///  "events": {"urn:ietf:params:scim:event:prov:deactivate": {"version": "W/\"3\""}}}
    /// ```
    ///
    /// Provisioning events carry `version` (the ETag) and either `data` (the resource after
    /// the change, `meta.location` absolute under the issuer) or `attributes`; `prov:delete`
    /// carries nothing; feed events carry the group as `group` (`{"format": "scim", "uri":
    /// "/Groups/<id>", ...}`).
    pub fn claims(&self, ctx: &SetContext<'_>) -> Value {
        let e = &self.event;
        let mut payload = Map::new();
        if let Some(v) = e.version {
            payload.insert("version".into(), Value::from(crate::version::etag(v)));
        }
        if e.event_type.has_mode() {
            match ctx.mode {
                EventMode::Full => {
                    if let Some(data) = &e.data {
                        payload.insert("data".into(), absolute(data.clone(), ctx.issuer));
                    }
                }
                EventMode::Notice => {
                    payload.insert("attributes".into(), Value::from(e.attributes.clone()));
                }
            }
        }
        if matches!(e.event_type, EventType::FeedAdd | EventType::FeedRemove)
            && let Some(group) = &e.group
        {
            payload.insert("group".into(), group.sub_id());
        }
        let mut events = Map::new();
        events.insert(self.uri(ctx.mode), Value::Object(payload));

        let mut claims = Map::new();
        claims.insert("iss".into(), Value::from(ctx.issuer));
        claims.insert("iat".into(), Value::from(self.issued_at.timestamp()));
        claims.insert("jti".into(), Value::from(self.jti.clone()));
        if !ctx.audience.is_empty() {
            claims.insert("aud".into(), Value::from(ctx.audience.to_vec()));
        }
        claims.insert("txn".into(), Value::from(self.txn.clone()));
        claims.insert("sub_id".into(), e.subject.sub_id());
        claims.insert("events".into(), Value::Object(events));
        Value::Object(claims)
    }
}

/// `data` with its relative `meta.location` made absolute under `issuer`.
fn absolute(mut data: Value, issuer: &str) -> Value {
    if let Some(loc) = data.pointer_mut("/meta/location")
        && let Some(rel) = loc.as_str()
        && rel.starts_with('/')
    {
        *loc = Value::from(format!("{}{rel}", issuer.trim_end_matches('/')));
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResourceKind;
    use crate::events::{Change, Subject, UpdateMethod, events_for};
    use crate::resource::{Attributes, Meta, Resource};
    use chrono::TimeZone;
    use serde_json::json;

    fn user(attrs: Value, version: i64) -> Resource {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        Resource {
            kind: ResourceKind::User,
            id: "u1".into(),
            attributes: attrs.as_object().cloned().unwrap_or_default(),
            meta: Meta {
                created: t,
                last_modified: t,
                version,
            },
        }
    }

    fn stored(event: ChangeEvent) -> StoredEvent {
        StoredEvent {
            jti: "j1".into(),
            txn: "t1".into(),
            issued_at: Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
            event,
        }
    }

    fn ctx(mode: EventMode) -> SetContext<'static> {
        static AUD: [String; 0] = [];
        SetContext {
            issuer: "https://h/scim/v2/t1",
            audience: &AUD,
            mode,
        }
    }

    #[test]
    fn create_full_carries_the_resource_with_an_absolute_location() {
        let u = user(
            json!({"userName": "ada", "externalId": "x1", "groups": [{"value": "g"}]}),
            1,
        );
        let events = events_for(Change::Created(&u));
        assert_eq!(events.len(), 1);
        let c = stored(events[0].clone()).claims(&ctx(EventMode::Full));
        assert_eq!(c["iss"], "https://h/scim/v2/t1");
        assert_eq!(c["iat"], 1_796_083_200);
        assert_eq!(c["jti"], "j1");
        assert_eq!(c["txn"], "t1");
        assert!(c.get("aud").is_none(), "no audience, no aud claim");
        assert_eq!(
            c["sub_id"],
            json!({"format": "scim", "uri": "/Users/u1", "externalId": "x1"})
        );
        let p = &c["events"]["urn:ietf:params:scim:event:prov:create:full"];
        assert_eq!(p["version"], "W/\"1\"");
        assert_eq!(p["data"]["userName"], "ada");
        assert_eq!(p["data"]["id"], "u1");
        assert_eq!(
            p["data"]["meta"]["location"],
            "https://h/scim/v2/t1/Users/u1"
        );
        assert!(p["data"].get("groups").is_none(), "relations stay out");
        assert!(
            p.get("attributes").is_none(),
            "exactly one of data and attributes"
        );
    }

    #[test]
    fn notice_mode_lists_paths_and_carries_no_data() {
        let u = user(json!({"userName": "ada", "name": {"givenName": "A"}}), 1);
        let e = stored(events_for(Change::Created(&u))[0].clone());
        let c = e.claims(&SetContext {
            issuer: "https://h/scim/v2/t1",
            audience: &["https://rx/hook".to_string()],
            mode: EventMode::Notice,
        });
        assert_eq!(c["aud"], json!(["https://rx/hook"]));
        let p = &c["events"]["urn:ietf:params:scim:event:prov:create:notice"];
        assert_eq!(p["attributes"], json!(["id", "name", "userName"]));
        assert!(p.get("data").is_none());
    }

    #[test]
    fn patch_put_and_activation_events() {
        let before: Attributes = json!({"userName": "ada", "active": false})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let after = user(json!({"userName": "ada", "active": true}), 4);
        let events = events_for(Change::Updated {
            method: UpdateMethod::Put,
            before: &before,
            after: &after,
        });
        let types: Vec<_> = events.iter().map(|e| e.event_type).collect();
        assert_eq!(types, [EventType::Put, EventType::Activate]);
        let c = stored(events[1].clone()).claims(&ctx(EventMode::Full));
        assert_eq!(
            c["events"],
            json!({"urn:ietf:params:scim:event:prov:activate": {"version": "W/\"4\""}})
        );
        let unchanged = events_for(Change::Updated {
            method: UpdateMethod::Patch,
            before: &after.attributes,
            after: &after,
        });
        assert!(unchanged.is_empty(), "no change, no event");
    }

    #[test]
    fn delete_has_an_empty_payload() {
        let u = user(json!({"userName": "ada", "externalId": "x1"}), 3);
        let c = stored(events_for(Change::Deleted(&u))[0].clone()).claims(&ctx(EventMode::Full));
        assert_eq!(
            c["events"],
            json!({"urn:ietf:params:scim:event:prov:delete": {}})
        );
        assert_eq!(c["sub_id"]["externalId"], "x1");
    }

    #[test]
    fn membership_is_one_feed_event_per_member_naming_the_group() {
        let group = Subject {
            kind: ResourceKind::Group,
            id: "g1".into(),
            external_id: Some("eng".into()),
        };
        let added = [
            ("u1".to_string(), ResourceKind::User),
            ("g2".to_string(), ResourceKind::Group),
        ];
        let removed = [("u9".to_string(), ResourceKind::User)];
        let events = events_for(Change::Membership {
            group: &group,
            added: &added,
            removed: &removed,
        });
        let got: Vec<_> = events
            .iter()
            .map(|e| (e.event_type, e.subject.uri()))
            .collect();
        assert_eq!(
            got,
            [
                (EventType::FeedAdd, "/Users/u1".to_string()),
                (EventType::FeedAdd, "/Groups/g2".to_string()),
                (EventType::FeedRemove, "/Users/u9".to_string()),
            ]
        );
        let c = stored(events[0].clone()).claims(&ctx(EventMode::Notice));
        assert_eq!(
            c["events"],
            json!({"urn:ietf:params:scim:event:feed:add": {
                "group": {"format": "scim", "uri": "/Groups/g1", "externalId": "eng"}
            }})
        );
    }

    #[test]
    fn changed_paths_table() {
        let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let cases: Vec<(Value, Value, Vec<String>)> = vec![
            (json!({}), json!({}), vec![]),
            (json!({"a": 1}), json!({"a": 1}), vec![]),
            (json!({"a": 1}), json!({"a": 2}), vec!["a".into()]),
            (json!({"a": 1}), json!({}), vec!["a".into()]),
            (json!({}), json!({"b": [1]}), vec!["b".into()]),
            (
                json!({"members": [1], "schemas": ["x"], "groups": []}),
                json!({}),
                vec![],
            ),
            (
                json!({ent: {"department": "a", "costCenter": "1"}}),
                json!({ent: {"department": "b", "costCenter": "1"}}),
                vec![format!("{ent}:department")],
            ),
            (
                json!({}),
                json!({ent: {"manager": {"value": "m"}}}),
                vec![format!("{ent}:manager")],
            ),
        ];
        for (a, b, want) in cases {
            let (a, b) = (
                a.as_object().cloned().unwrap_or_default(),
                b.as_object().cloned().unwrap_or_default(),
            );
            assert_eq!(
                crate::events::changed_attribute_paths(&a, &b),
                want,
                "{a:?} -> {b:?}"
            );
        }
    }
}
