//! `scim-core`: a pure SCIM 2.0 (RFC 7643 / RFC 7644) domain and protocol library.
//!
//! It owns the schemas and their attribute characteristics, the User and Group resources,
//! filters (parse, print, evaluate), PATCH (parse, apply), PUT replace, list queries and
//! responses, projection by `attributes` / `excludedAttributes`, SCIM errors, entity tags,
//! and the discovery documents. It does no IO and depends on no HTTP, database or async
//! crate, so any Rust service can embed it to speak SCIM over its own data.
//!
#![doc = include_str!("../README.md")]

pub mod bulk;
pub mod discovery;
pub mod entitlements;
pub mod error;
pub mod events;
pub mod filter;
pub mod limits;
pub mod list;
pub mod patch;
pub mod path;
pub mod profile;
pub mod projection;
pub mod replace;
pub mod required;
pub mod resource;
pub mod schema;
pub mod version;

pub use error::{ScimError, ScimResult, ScimType};
pub use patch::{PatchOutcome, PatchRequest, apply_patch, apply_patch_in, apply_patch_with};
pub use profile::Profile;
pub use replace::replace_resource;
pub use schema::ResourceKind;
