//! `scim-admin`: the admin web console (`/admin`) and its JSON API (`/admin/api`).
//!
//! It owns console accounts and their passwords ([`accounts`]), server-side sessions,
//! CSRF tokens, hashed admin API tokens and the one-time set-up link ([`session`]), the
//! sign-in limits ([`sign_in`]: per client, per e-mail address, the argon2 cap), the
//! operations both the pages and the API perform ([`service`]: organizations, token
//! generation through [`scim_http::generate_token`], pausing, users, groups, the
//! provisioning log), the HTML pages ([`pages`] and the Settings page with Generate and
//! the pause switch; maud templates compiled into the binary, with embedded CSS and JS),
//! the JSON API ([`api`]), the organization's request log ([`requests`]: page, detail,
//! export, API), an organization's event feed and webhook subscriptions ([`webhooks`]:
//! API, pages, delivery log), and its roles, entitlements and entitlement types
//! ([`entitlements`]: API, page, and the operations the CLI shares). It depends on `scim-core`, `scim-store`,
//! `scim-http` and `scim-events` (secrets, SET rendering, test deliveries); the binary
//! wires it into `serve`.
//!
//! Tenant isolation: an organization admin reaches only its own organization; any other
//! organization is answered exactly like one that does not exist (404).

pub mod accounts;
mod activity;
pub mod api;
pub mod entitlements;
pub mod error;
pub mod openapi;
pub mod pages;
pub mod requests;
mod schemas;
pub mod service;
pub mod session;
mod settings;
pub mod sign_in;
mod views;
pub mod webhooks;

pub use error::AdminError;
pub use session::{AdminState, SETUP_CODE_HOURS, SETUP_CODE_SETTING, prepare_setup_link};
pub use sign_in::SignInConfig;

use actix_web::web;

/// Registers `/admin` (pages and assets) and `/admin/api` with `state` as application data.
/// Call it before `scim_http::configure` (whose default service answers everything else).
pub fn configure(state: AdminState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.configure(openapi::configure(&state.app.public_url));
        cfg.service(
            web::scope("/admin")
                .app_data(web::Data::new(state))
                .configure(api::routes)
                .configure(pages::routes),
        );
    }
}
