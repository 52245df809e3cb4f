//! The request log: one entry per SCIM request to an existing organization (including
//! rejected tokens and every 4xx), for the organization's admins.
//!
//! Two ways in, so that logging never fails or slows a request:
//!
//! - **In the write's transaction.** A request that changes a resource carries an
//!   [`InTxRequest`] in its [`Actor`](crate::Actor); the write transaction inserts the entry
//!   right after its provisioning-log row, so the entry commits if and only if the change
//!   does, and the store names the action by what really happened (a PUT that turns
//!   `active` off is `deactivate_user`). [`InTxRequest::was_logged`] tells the caller
//!   afterwards; a write that changed nothing or failed is not logged there.
//! - **In batches.** Everything else (reads, refused requests, failed writes, no-op writes,
//!   Bulk) goes through [`RequestLogRepo::insert_requests`], called by a background writer;
//!   it keeps only the entries of tenants that exist, so a request to a made-up tenant id
//!   grows no table.
//!
//! The `summary` is masked JSON built by the HTTP layer: names of attributes and
//! parameters, never a value a client sent.

use crate::StoreResult;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// What a request did, in the words an organization admin reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestAction {
    /// `POST /Users`.
    CreateUser,
    /// A change of a user's attributes (PUT or PATCH) other than `active`.
    UpdateUser,
    /// A user's `active` went (or was asked to go) from true to false.
    DeactivateUser,
    /// A user's `active` went (or was asked to go) from false to true.
    ReactivateUser,
    /// `DELETE /Users/{id}`.
    DeleteUser,
    /// `POST /Groups`.
    CreateGroup,
    /// A change of a group's own attributes (its name, or a PUT).
    UpdateGroup,
    /// A group PATCH that only adds members.
    GroupAddMember,
    /// A group PATCH that only removes members.
    GroupRemoveMember,
    /// A group PATCH that adds and removes members.
    GroupChangeMembers,
    /// `DELETE /Groups/{id}`.
    DeleteGroup,
    /// A read of one resource, or a filtered list or search (an identity provider looking
    /// a user or group up before it creates it).
    Lookup,
    /// A page of an unfiltered list (an import or a full sync).
    ImportPage,
    /// `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`.
    Discovery,
    /// `POST /Bulk` (its operations are in the provisioning log).
    Bulk,
    /// Anything else (an unknown endpoint or method).
    Other,
}

impl RequestAction {
    /// Every action, in the order the console lists them.
    pub const ALL: [RequestAction; 16] = [
        RequestAction::CreateUser,
        RequestAction::UpdateUser,
        RequestAction::DeactivateUser,
        RequestAction::ReactivateUser,
        RequestAction::DeleteUser,
        RequestAction::CreateGroup,
        RequestAction::UpdateGroup,
        RequestAction::GroupAddMember,
        RequestAction::GroupRemoveMember,
        RequestAction::GroupChangeMembers,
        RequestAction::DeleteGroup,
        RequestAction::Lookup,
        RequestAction::ImportPage,
        RequestAction::Discovery,
        RequestAction::Bulk,
        RequestAction::Other,
    ];

    /// The stored and shown name, e.g. `deactivate_user`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestAction::CreateUser => "create_user",
            RequestAction::UpdateUser => "update_user",
            RequestAction::DeactivateUser => "deactivate_user",
            RequestAction::ReactivateUser => "reactivate_user",
            RequestAction::DeleteUser => "delete_user",
            RequestAction::CreateGroup => "create_group",
            RequestAction::UpdateGroup => "update_group",
            RequestAction::GroupAddMember => "group_add_member",
            RequestAction::GroupRemoveMember => "group_remove_member",
            RequestAction::GroupChangeMembers => "group_change_members",
            RequestAction::DeleteGroup => "delete_group",
            RequestAction::Lookup => "lookup",
            RequestAction::ImportPage => "import_page",
            RequestAction::Discovery => "discovery",
            RequestAction::Bulk => "bulk",
            RequestAction::Other => "other",
        }
    }

    /// Parses [`RequestAction::as_str`]'s name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether the action is a change of group membership.
    pub fn is_membership(self) -> bool {
        matches!(
            self,
            RequestAction::GroupAddMember
                | RequestAction::GroupRemoveMember
                | RequestAction::GroupChangeMembers
        )
    }
}

/// One request as logged (without its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The tenant of the request path.
    pub tenant_id: String,
    /// When the request arrived (stored to the millisecond).
    pub at: DateTime<Utc>,
    /// The HTTP method.
    pub method: String,
    /// The path and query, query values masked (see the HTTP layer's `request_log`).
    pub path: String,
    /// The HTTP status answered.
    pub status: u16,
    /// What the request did.
    pub action: RequestAction,
    /// The SCIM `scimType` of an error answer.
    pub scim_type: Option<String>,
    /// Milliseconds from arrival to the answer (for an entry written in the write's
    /// transaction: to that insert, just before the commit).
    pub latency_ms: u64,
    /// `okta`, `entra` or `other`, from the `User-Agent`.
    pub client: String,
    /// The resource the request addressed or created, if any.
    pub resource_id: Option<String>,
    /// The masked summary, JSON text.
    pub summary: String,
}

/// A stored request-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestEntry {
    /// Its id (grows with insertion order).
    pub id: i64,
    /// The request.
    pub record: RequestRecord,
}

/// A position in the newest-first order `(at, id)`: the last entry of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCursor {
    /// The entry's time.
    pub at: DateTime<Utc>,
    /// Its id.
    pub id: i64,
}

impl RequestCursor {
    /// The cursor of `entry`.
    pub fn of(entry: &RequestEntry) -> Self {
        RequestCursor {
            at: entry.record.at,
            id: entry.id,
        }
    }

    /// The opaque text form, `<milliseconds since the epoch>.<id>`.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at.timestamp_millis(), self.id)
    }

    /// Parses [`RequestCursor::encode`]'s form; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let (ms, id) = s.split_once('.')?;
        let at = DateTime::from_timestamp_millis(ms.parse().ok()?)?;
        Some(RequestCursor {
            at,
            id: id.parse().ok()?,
        })
    }
}

/// Which statuses a query keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// One class: `4` keeps 400–499.
    Class(u16),
    /// One status.
    Exact(u16),
}

impl StatusFilter {
    /// Parses `4xx` (any letter case) or `404`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let bytes = s.as_bytes();
        match bytes {
            [c @ b'1'..=b'5', x, y]
                if x.eq_ignore_ascii_case(&b'x') && y.eq_ignore_ascii_case(&b'x') =>
            {
                Some(StatusFilter::Class(u16::from(c - b'0')))
            }
            [b'1'..=b'5', b'0'..=b'9', b'0'..=b'9'] => s.parse().ok().map(StatusFilter::Exact),
            _ => None,
        }
    }

    /// The inclusive range of statuses kept.
    pub fn range(self) -> (u16, u16) {
        match self {
            StatusFilter::Class(c) => (c * 100, c * 100 + 99),
            StatusFilter::Exact(s) => (s, s),
        }
    }
}

/// A query over one tenant's request log, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestQuery {
    /// Only these statuses.
    pub status: Option<StatusFilter>,
    /// Only this action.
    pub action: Option<RequestAction>,
    /// Only this client (`okta`, `entra`, `other`).
    pub client: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only entries after this one in the newest-first order (the previous page's last).
    pub after: Option<RequestCursor>,
    /// Page size (0: [`REQUESTS_DEFAULT_LIMIT`]; at most [`REQUESTS_MAX_LIMIT`]).
    pub limit: u64,
}

/// The page size of a query without one.
pub const REQUESTS_DEFAULT_LIMIT: u64 = 100;
/// The largest page of a query.
pub const REQUESTS_MAX_LIMIT: u64 = 1000;

/// The entry a write request hands its transaction (in [`Actor::request`](crate::Actor)):
/// the request as known before the write, with the status it answers on success and the
/// action it asked for; the store sets the action from the change it made and the latency
/// when it inserts the row.
#[derive(Debug, Clone)]
pub struct InTxRequest {
    /// The entry; `status` is the success status, `action` the request's own.
    pub record: RequestRecord,
    /// When the request arrived (for the latency).
    pub started: Instant,
    logged: Arc<AtomicBool>,
}

impl InTxRequest {
    /// An entry to write with the request's change.
    pub fn new(record: RequestRecord, started: Instant) -> Self {
        InTxRequest {
            record,
            started,
            logged: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether a committed write transaction carried this entry (then the caller must not
    /// log the request again).
    pub fn was_logged(&self) -> bool {
        self.logged.load(Ordering::Acquire)
    }

    /// Marks the entry committed (the store, after the commit).
    pub(crate) fn mark_logged(&self) {
        self.logged.store(true, Ordering::Release);
    }
}

impl PartialEq for InTxRequest {
    fn eq(&self, other: &Self) -> bool {
        self.record == other.record
    }
}

impl Eq for InTxRequest {}

/// The request log's storage.
pub trait RequestLogRepo: Send + Sync {
    /// Inserts a batch (one transaction), skipping entries whose tenant does not exist;
    /// returns how many were stored.
    fn insert_requests(&self, batch: &[RequestRecord]) -> StoreResult<usize>;
    /// One tenant's entries matching `query`, newest first (`(at, id)` descending).
    fn list_requests(
        &self,
        tenant_id: &str,
        query: &RequestQuery,
    ) -> StoreResult<Vec<RequestEntry>>;
    /// One entry of the tenant ([`StoreError::NotFound`](crate::StoreError::NotFound) for
    /// another tenant's).
    fn get_request(&self, tenant_id: &str, id: i64) -> StoreResult<RequestEntry>;
    /// Deletes the entries older than `before`, tenant by tenant, in transactions of at
    /// most `batch` rows; returns how many were deleted.
    fn prune_requests(&self, before: DateTime<Utc>, batch: u64) -> StoreResult<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip() {
        for a in RequestAction::ALL {
            assert_eq!(RequestAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(RequestAction::parse("Create_User"), None);
    }

    #[test]
    fn status_filters() {
        type Case = (&'static str, Option<StatusFilter>);
        let cases: &[Case] = &[
            ("4xx", Some(StatusFilter::Class(4))),
            ("2XX", Some(StatusFilter::Class(2))),
            ("404", Some(StatusFilter::Exact(404))),
            ("599", Some(StatusFilter::Exact(599))),
            ("6xx", None),
            ("0xx", None),
            ("40", None),
            ("4x4", None),
            ("abc", None),
            ("", None),
            ("4040", None),
        ];
        for (text, want) in cases {
            assert_eq!(StatusFilter::parse(text), *want, "{text}");
        }
        assert_eq!(StatusFilter::Class(4).range(), (400, 499));
        assert_eq!(StatusFilter::Exact(401).range(), (401, 401));
    }

    #[test]
    fn cursors_round_trip() {
        let c = RequestCursor {
            at: DateTime::from_timestamp_millis(1_765_000_000_123).unwrap(),
            id: 42,
        };
        assert_eq!(RequestCursor::parse(&c.encode()), Some(c));
        for bad in ["", "1", "x.1", "1.x", "1.2.3"] {
            assert_eq!(RequestCursor::parse(bad), None, "{bad}");
        }
    }
}
