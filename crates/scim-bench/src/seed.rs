//! What `seed` writes: Okta-like user bodies, group bodies, and the batched create it
//! goes through.
//!
//! Users are numbered from 0; user `i` has userName `user{i}@example.com` so that a
//! benchmark client can look up a random existing user without a list of names.

use scim_core::ResourceKind;
use scim_core::resource::{Attributes, parse_resource};
use scim_store::{Actor, ResourceRepo, StoreError, StoreResult};
use serde_json::{Value, json};

/// How many resources one batched create call carries.
pub const BATCH: usize = 1000;

const GIVEN: [&str; 16] = [
    "Ada",
    "Grace",
    "Alan",
    "Barbara",
    "Edsger",
    "Frances",
    "Donald",
    "Margaret",
    "Dennis",
    "Radia",
    "Ken",
    "Hedy",
    "Linus",
    "Katherine",
    "John",
    "Sophie",
];
const FAMILY: [&str; 16] = [
    "Lovelace", "Hopper", "Turing", "Liskov", "Dijkstra", "Allen", "Knuth", "Hamilton", "Ritchie",
    "Perlman", "Thompson", "Lamarr", "Torvalds", "Johnson", "Backus", "Wilson",
];

/// The userName of seeded user `i`.
pub fn user_name(i: u64) -> String {
    format!("user{i}@example.com")
}

/// The userName of spare user `j` (a user in no group, for membership PATCHes).
pub fn spare_user_name(j: u64) -> String {
    format!("spare{j}@example.com")
}

/// The body Okta sends to create a user, for `user_name` numbered `i`.
pub fn user_body(i: u64, user_name: &str) -> Value {
    let given = GIVEN[(i % 16) as usize];
    let family = FAMILY[((i / 16) % 16) as usize];
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": given, "familyName": family},
        "displayName": format!("{given} {family}"),
        "locale": "en-US",
        "externalId": format!("00u{:017x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 4),
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "active": true,
    })
}

/// The body of a group named `display_name` with the given member ids.
pub fn group_body(display_name: &str, members: &[String]) -> Value {
    let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": display_name,
        "members": members,
    })
}

/// Parses a body into the canonical attributes the store is given (as the HTTP layer
/// does), so seeded documents are exactly what a client would have created.
pub fn attributes(kind: ResourceKind, body: &Value) -> StoreResult<Attributes> {
    parse_resource(kind, body).map_err(|e| StoreError::Config(format!("bad seed body: {e}")))
}

/// Creates `batch` in order, in one transaction, and returns the new ids in the same order
/// (the store's `create_many`; this wrapper only keeps the call sites short).
pub fn create_batch(
    repo: &dyn ResourceRepo,
    actor: &Actor,
    tenant_id: &str,
    kind: ResourceKind,
    batch: Vec<Attributes>,
) -> StoreResult<Vec<String>> {
    repo.create_many(actor, tenant_id, kind, batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seeded_user_parses_with_its_okta_attributes() {
        let body = user_body(42, &user_name(42));
        let attrs = attributes(ResourceKind::User, &body).unwrap_or_default();
        assert_eq!(attrs.get("userName"), Some(&json!("user42@example.com")));
        assert_eq!(attrs.get("active"), Some(&json!(true)));
        assert!(attrs.get("externalId").is_some_and(Value::is_string));
    }
}
