//! `scim-store`: persistence for the SCIM server.
//!
//! It owns the repository traits through which the rest of the server reads and changes
//! tenants, users, groups, group memberships, token records, shared server settings, the
//! provisioning log, the request log ([`RequestLogRepo`]) and the roles and entitlements organizations define, and their diesel implementation on bundled SQLite and PostgreSQL
//! (chosen at run time by the database URL). It speaks `scim-core` types and knows nothing
//! of HTTP.
//!
//! Every method is synchronous (diesel is): async callers run them on a blocking pool.
//! Every resource method takes the tenant id first and never sees another tenant's rows:
//! a resource of another tenant is simply [`StoreError::NotFound`].
//!
//! ```no_run
//! use scim_store::{DieselStore, Store, StoreConfig};
//! let store = DieselStore::open(&StoreConfig::new("sqlite://scim.db"))?;
//! store.ping()?;
//! # Ok::<(), scim_store::StoreError>(())
//! ```

mod admin;
mod api;
mod db;
mod entitlements;
mod error;
mod events;
mod requests;

pub use admin::{AdminAccount, AdminRepo, AdminStore, SignInAttempt};
pub use api::*;
pub use db::{DebugSql, DieselStore, StoreConfig, migrate};
pub use entitlements::{EntitlementRepo, ValuePage, ValueQuery};
pub use error::{StoreError, StoreResult};
pub use events::*;
pub use requests::*;
