//! SCIM PATCH (RFC 7644 §3.5.2): the PatchOp request model ([`PatchRequest::from_json`]).
//! Applying requests follows in the `apply` module.

mod request;

pub use request::{MAX_OPERATIONS, PATCH_OP_URN, PatchOpKind, PatchOperation, PatchRequest};
