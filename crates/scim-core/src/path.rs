//! PATCH paths (RFC 7644 §3.5.2): `attrPath` or `valuePath [subAttr]`, e.g. `members`,
//! `name.familyName`, `members[value eq "2819c223"]`, `emails[type eq "work"].value`,
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`.

use crate::filter::Filter;

/// A parsed PATCH `path`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PatchPath {
    /// The schema URN prefix, without the trailing `:`.
    pub urn: Option<String>,
    /// The top-level attribute name.
    pub attr: String,
    /// The value filter in brackets, selecting values of a multi-valued attribute.
    pub filter: Option<Filter>,
    /// The sub-attribute: `name.familyName` or `emails[type eq "work"].value`.
    pub sub_attr: Option<String>,
}
