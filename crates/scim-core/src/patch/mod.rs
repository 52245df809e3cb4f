//! SCIM PATCH (RFC 7644 §3.5.2): parse a PatchOp request ([`PatchRequest::from_json`]) and
//! apply it atomically to a resource's canonical attributes ([`apply_patch`]).
//!
//! For groups, [`split_member_ops`] says from the request alone what it does to `members`
//! (a [`MemberDelta`]) and which operations remain, so a store can change a large group's
//! membership without loading it; it answers `None` whenever only the full apply can tell.
//!
//! Files: `request.rs` (the message), `apply.rs` (the driver: paths, schema-wide and
//! path-less operations), `set.rs` (add/replace), `remove.rs`, `multi.rs` (multi-valued
//! helpers: value identity and index, merging, primaries), `value.rs` (small value
//! helpers), `members.rs` (the member-delta recogniser).
//!
//! Values go through the same normalisation as POST bodies
//! ([`crate::resource::normalize_value`]), so PATCH and POST accept the same shapes:
//! `"True"`/`"False"` for booleans, a bare id for `manager` or inside a member list,
//! `$ref: null`, attribute names in any letter case; a lone value for a multi-valued
//! attribute is `invalidValue` in both, with one PATCH-only exception: a bare member id as
//! the whole value of `members` (`{"op":"add","path":"members","value":"<id>"}`, sent by
//! Microsoft's SCIMReferenceCode test collection). What the operations write is checked
//! by [`crate::limits`] (NUL, lengths, counts).
//!
//! # Semantics
//!
//! - **add**: without a path, each key of the value object is added as if it were a path.
//!   Single-valued attributes are set; complex attributes get the listed sub-attributes;
//!   multi-valued attributes get the new values appended, except values already present
//!   (same `value` sub-attribute, or equal as a whole when there is none), whose other
//!   sub-attributes are merged instead — re-adding a group member changes nothing. An
//!   `immutable` attribute may be added only while it has no value.
//! - **replace**: like add, but a multi-valued attribute without a filter is replaced
//!   wholesale (`members` with `[]` clears the group). A value filter selects the values
//!   whose sub-attributes are replaced (an object value is merged into each match; with a
//!   sub-attribute, that sub-attribute is set on each match).
//! - **remove**: a single-valued attribute becomes unassigned; a multi-valued attribute
//!   without a filter loses all values; with a filter, the matching values (or their
//!   sub-attribute) are removed, and the attribute is unassigned when nothing is left.
//! - `""` and `null` as an add/replace value clear the target (Entra's null-update test).
//! - Setting `primary: true` on one value sets `primary: false` on the others
//!   (RFC 7643 §2.4); values whose `value` was cleared (only `type`/`primary`/`display`
//!   left) are dropped.
//! - The result must still carry every required attribute.
//! - Cost is linear in the size of the attribute touched: duplicates are found through an
//!   index, so a full push of a 10 000-member group stays in the millisecond range, and a
//!   run of `remove members[value eq "…"]` operations is one pass over the members with a
//!   set of the ids, not one scan per operation.
//!
//! # Rules where the RFC or the identity providers leave room
//!
//! - **Value filter without a match on add/replace**: `noTarget` (RFC 7644 §3.5.2.3),
//!   except when the filter is only `eq` comparisons of sub-attributes joined by `and`
//!   (`emails[type eq "work"].value`, `addresses[type eq "work"].locality`,
//!   `roles[primary eq "True"].value`): then a new value carrying the filter's fields plus
//!   the operation's value is created. Entra relies on this, and because operations apply
//!   in order, several such operations in one request land in one value.
//! - **Remove is idempotent**: removing an unassigned attribute, a filter that matches
//!   nothing, or listed values that are not present succeeds without a change
//!   (`changed == false`). RFC 7644 §3.5.2.2 lists `noTarget` only for a missing path; the
//!   desired end state holds, and Okta and Entra retry removals after timeouts, where a
//!   400 would mark the push as failed.
//! - **Entra's remove with a value**: `{"op":"Remove","path":"members","value":[{"value":"id"}]}`
//!   (any multi-valued attribute, no filter, a `value` present) removes only the listed
//!   values, never the whole list. An empty list removes nothing.
//! - **Unknown attribute in an explicit path**: `invalidPath` ("the path was invalid"): the
//!   path names nothing in the schema. `noTarget` is kept for paths that name a real
//!   attribute but select no value. Unknown keys of a path-less value object are ignored
//!   like unknown attributes of a POST body (unknown extension objects are kept as sent),
//!   and so are keys that name a known attribute in an unusable way (`name.nickname`).
//! - **Filters in paths** are compiled against the attribute when the path is resolved: a
//!   filter the schema cannot evaluate (`emails[primary gt true]`) is `invalidFilter`
//!   whether or not the resource has values to test.
//! - **Read-only targets**: an explicit path to `id`, `meta`, `groups`, `schemas`,
//!   `members.display`, ... is `mutability`; the same keys inside a path-less value object
//!   are skipped (Okta's group rename sends `id`).
//! - **Required attributes**: removing or clearing `userName` or a group's `displayName`
//!   is `mutability`, as RFC 7644 §3.5.2 prescribes for a required attribute that becomes
//!   unassigned.
//! - **`password`**: accepted anywhere and discarded; it is never stored or returned.
//! - **Request shape**: see [`PatchRequest::from_json`] (missing `schemas` accepted,
//!   empty `Operations` a no-op, at most [`MAX_OPERATIONS`] operations).

mod apply;
mod members;
mod multi;
mod remove;
mod request;
mod set;
mod value;

pub use apply::{PatchOutcome, apply_patch, apply_patch_in, apply_patch_with};
pub use members::{MemberDelta, MemberSplit, split_member_ops, split_member_ops_in};
pub use request::{MAX_OPERATIONS, PATCH_OP_URN, PatchOpKind, PatchOperation, PatchRequest};
