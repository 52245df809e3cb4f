//! The JSON shapes of the events and webhooks API, and the parsing of its request bodies.
//!
//! Keys are snake_case like the command line's `--json` output (`scim-server webhook list`,
//! `events list`), which these shapes mirror. Cursors and positions are decimal strings
//! (a position is an `i64`, beyond JavaScript's exact integers). No shape here holds a
//! subscription secret: only the create and rotate answers add one, explicitly.

use super::service::{
    MAX_TARGET_LEN, backlog, parse_cursor, parse_events, parse_mode, parse_target,
};
use crate::AdminError;
use chrono::{DateTime, Utc};
use scim_core::events::EventType;
use scim_store::{DeliveryAttempt, EventRecord, NewSubscription, Subscription, SubscriptionUpdate};
use serde_json::{Map, Value, json};

fn time(t: Option<&DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::from(t.to_rfc3339()))
}

fn event_names(events: Option<&[EventType]>) -> Value {
    events.map_or(Value::Null, |list| {
        Value::from(list.iter().map(|t| t.name()).collect::<Vec<_>>())
    })
}

/// A subscription (never its secret), with its backlog against the newest position.
pub fn webhook(sub: &Subscription, newest: i64) -> Value {
    json!({
        "id": sub.id,
        "url": sub.sink.target(),
        "mode": sub.mode.as_str(),
        "events": event_names(sub.events.as_deref()),
        "enabled": sub.enabled,
        "disabled_reason": sub.disabled_reason,
        "cursor": sub.cursor.to_string(),
        "backlog": backlog(sub, newest),
        "attempts": sub.attempts,
        "failing_since": time(sub.failing_since.as_ref()),
        "next_attempt": time(sub.next_attempt.as_ref()),
        "last_error": sub.last_error,
        "created": sub.created.to_rfc3339(),
    })
}

/// A subscription with its secret: the create and rotate answers only.
pub fn webhook_with_secret(sub: &Subscription, newest: i64, secret: &str) -> Value {
    let mut v = webhook(sub, newest);
    if let Value::Object(m) = &mut v {
        m.insert("secret".into(), Value::from(secret));
    }
    v
}

/// The `event_type` of a test delivery (position 0).
pub const TEST_EVENT_TYPE: &str = scim_store::TEST_EVENT_NAME;

/// One delivery attempt. A test delivery (position 0) is `misc:test`, never a redelivery.
pub fn attempt(a: &DeliveryAttempt) -> Value {
    let test = a.position == 0;
    json!({
        "id": a.id,
        "position": a.position.to_string(),
        "jti": a.jti,
        "event_type": a.event_type.map_or(TEST_EVENT_TYPE, EventType::name),
        "attempt": a.attempt,
        "redelivery": a.redelivery && !test,
        "at": a.at.to_rfc3339(),
        "outcome": a.outcome.as_str(),
        "status_code": a.status_code,
        "error": a.error,
        "duration_ms": a.duration_ms,
        "next_try": time(a.next_try.as_ref()),
    })
}

/// A page of the feed: `{"events": [{"cursor", "set"}], "next"}`. `set` is the SET's
/// claims in full mode (`scim_events::render_set` without a subscription, as the command
/// line prints them); `next` is the last cursor of the page, or `after` when the page is
/// empty, so a consumer can poll with it forever.
pub fn events_page(records: &[EventRecord], after: i64, public_url: &str) -> Value {
    let next = records.last().map_or(after, |r| r.position);
    let events: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "cursor": r.position.to_string(),
                "set": scim_events::render_set(r, None, public_url),
            })
        })
        .collect();
    json!({"events": events, "next": next.to_string()})
}

/// The body as a JSON object.
pub fn object(body: &[u8]) -> Result<Map<String, Value>, AdminError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(AdminError::BadRequest(
            "The body must be a JSON object.".into(),
        )),
    }
}

fn refuse_unknown(m: &Map<String, Value>, known: &[&str]) -> Result<(), AdminError> {
    match m.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(AdminError::BadRequest(format!(
            "Unknown field '{}' (known: {}).",
            k.chars().take(64).collect::<String>(),
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

fn string<'a>(m: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, AdminError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(AdminError::BadRequest(format!("'{key}' must be a string."))),
    }
}

/// `events`: `null` (every type), a comma-separated string, or an array of type names.
fn events_field(v: &Value) -> Result<Option<Vec<EventType>>, AdminError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => parse_events(s),
        Value::Array(items) if items.is_empty() => Err(AdminError::BadRequest(
            "'events' is empty; use null for every event type.".into(),
        )),
        Value::Array(items) => {
            let mut names = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str() {
                    Some(s) if !s.contains(',') && !s.trim().is_empty() && s.trim() != "*" => {
                        names.push(s)
                    }
                    _ => {
                        return Err(AdminError::BadRequest(
                            "'events' must be null or a list of event type names.".into(),
                        ));
                    }
                }
            }
            parse_events(&names.join(","))
        }
        _ => Err(AdminError::BadRequest(
            "'events' must be null, a string or a list of event type names.".into(),
        )),
    }
}

/// The body of `POST …/webhooks`: `{"url", "mode"?, "events"?, "after"?}`.
pub fn new_subscription(body: &[u8]) -> Result<NewSubscription, AdminError> {
    let m = object(body)?;
    refuse_unknown(&m, &["url", "mode", "events", "after"])?;
    let url = string(&m, "url")?
        .ok_or_else(|| AdminError::BadRequest("'url' (a string) is required.".into()))?;
    Ok(NewSubscription {
        sink: parse_target(url)?,
        mode: string(&m, "mode")?
            .map(parse_mode)
            .transpose()?
            .unwrap_or_default(),
        events: m.get("events").map(events_field).transpose()?.flatten(),
        after: string(&m, "after")?
            .map(|a| parse_cursor(a, "after"))
            .transpose()?,
    })
}

/// The body of `PATCH …/webhooks/{id}`: any of `{"url", "mode", "events", "enabled"}`.
pub fn subscription_update(body: &[u8]) -> Result<SubscriptionUpdate, AdminError> {
    let m = object(body)?;
    refuse_unknown(&m, &["url", "mode", "events", "enabled"])?;
    let enabled = match m.get("enabled") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(AdminError::BadRequest(
                "'enabled' must be true or false.".into(),
            ));
        }
    };
    let sink = match m.get("url") {
        None => None,
        Some(Value::String(s)) => Some(parse_target(s)?),
        Some(_) => {
            return Err(AdminError::BadRequest(format!(
                "'url' must be a string of at most {MAX_TARGET_LEN} characters."
            )));
        }
    };
    Ok(SubscriptionUpdate {
        sink,
        mode: string(&m, "mode")?.map(parse_mode).transpose()?,
        events: m.get("events").map(events_field).transpose()?,
        enabled,
        rotate_secret: false,
    })
}

/// The body of `POST …/replay`: `{"after": "<cursor>"}`.
pub fn replay_after(body: &[u8]) -> Result<i64, AdminError> {
    let m = object(body)?;
    refuse_unknown(&m, &["after"])?;
    let after = string(&m, "after")?.ok_or_else(|| {
        AdminError::BadRequest("'after' (a cursor, as a string) is required.".into())
    })?;
    parse_cursor(after, "after")
}

#[cfg(test)]
mod tests {
    use super::*;
    use scim_core::events::EventMode;

    #[test]
    fn create_bodies() {
        let n = new_subscription(br#"{"url": "https://rx.test/h"}"#).unwrap();
        assert_eq!(n.mode, EventMode::Full);
        assert_eq!((n.events, n.after), (None, None));
        let n = new_subscription(
            br#"{"url": "nats:a.b", "mode": "notice", "events": ["prov:deactivate", "feed:add"], "after": "0"}"#,
        )
        .unwrap();
        assert_eq!(n.mode, EventMode::Notice);
        assert_eq!(
            n.events,
            Some(vec![EventType::Deactivate, EventType::FeedAdd])
        );
        assert_eq!(n.after, Some(0));
        let n = new_subscription(br#"{"url": "https://x", "events": "prov:create"}"#).unwrap();
        assert_eq!(n.events, Some(vec![EventType::Create]));
        for bad in [
            &b"[]"[..],
            b"not json",
            br#"{}"#,
            br#"{"url": 5}"#,
            br#"{"url": "ftp://x"}"#,
            br#"{"url": "https://x", "mode": "loud"}"#,
            br#"{"url": "https://x", "events": []}"#,
            br#"{"url": "https://x", "events": ["prov:nope"]}"#,
            br#"{"url": "https://x", "events": [1]}"#,
            br#"{"url": "https://x", "events": ["a,b"]}"#,
            br#"{"url": "https://x", "after": 5}"#,
            br#"{"url": "https://x", "after": "-1"}"#,
            br#"{"url": "https://x", "secret": "mine"}"#,
        ] {
            assert!(
                new_subscription(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn update_bodies() {
        let u = subscription_update(br#"{"enabled": false}"#).unwrap();
        assert_eq!(u.enabled, Some(false));
        assert_eq!(u.events, None);
        let u = subscription_update(br#"{"events": null, "mode": "full"}"#).unwrap();
        assert_eq!(u.events, Some(None));
        assert_eq!(u.mode, Some(EventMode::Full));
        for bad in [
            &br#"{"enabled": "yes"}"#[..],
            br#"{"url": null}"#,
            br#"{"rotate_secret": true}"#,
            br#"{"cursor": "5"}"#,
        ] {
            assert!(
                subscription_update(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(replay_after(br#"{"after": "12"}"#).unwrap(), 12);
        assert!(replay_after(br#"{"after": 12}"#).is_err());
        assert!(replay_after(br#"{}"#).is_err());
    }
}
