//! `scim-store`: persistence for the SCIM server.
//!
//! Will own the repository traits (tenants, users, groups, memberships, token records,
//! the provisioning log) and their diesel implementation on bundled SQLite and PostgreSQL.
//! Depends on `scim-core`; never on HTTP.
