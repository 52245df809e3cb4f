//! scim-core's integration tests, in one binary (one link instead of twelve): filters
//! (grammar, evaluation, properties), paths, PATCH (request parsing, RFC, Okta and Entra
//! shapes, errors, properties, the member-delta recogniser) and PUT.

mod filter_eval;
mod filter_grammar;
mod filter_props;
mod patch_common;
mod patch_entra;
mod patch_errors;
mod patch_members;
mod patch_members_props;
mod patch_okta;
mod patch_props;
mod patch_request;
mod patch_rfc;
mod path_grammar;
mod profile_strict;
mod put;
mod tenant_schemas;
