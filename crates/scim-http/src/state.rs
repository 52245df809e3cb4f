//! The application state shared by every handler.

use crate::error::ApiError;
use crate::tokens::TokenSigner;
use actix_web::web;
use scim_store::Store;
use std::sync::Arc;

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body accepted, in bytes (larger → 413).
    pub max_body_bytes: usize,
    /// The largest page a list returns (`count` is clamped to it). Never below 100: Okta
    /// pages by 100 and would skip users otherwise.
    pub max_page_size: u64,
    /// The page size when the client sends no `count`.
    pub default_page_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1024 * 1024,
            max_page_size: 1000,
            default_page_size: 100,
        }
    }
}

/// Everything a handler needs: the store, the token signer, the public URL and the limits.
#[derive(Clone)]
pub struct AppState {
    /// The store (SQLite or PostgreSQL).
    pub store: Arc<dyn Store>,
    /// Signs and verifies tenant tokens.
    pub signer: TokenSigner,
    /// The externally visible base URL, without a trailing `/` (e.g. `https://scim.example.com`).
    pub public_url: String,
    /// Request limits.
    pub limits: Limits,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("backend", &self.store.backend_name())
            .field("public_url", &self.public_url)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// A state with the given parts (the public URL loses any trailing `/`).
    pub fn new(
        store: Arc<dyn Store>,
        signer: TokenSigner,
        public_url: impl Into<String>,
        limits: Limits,
    ) -> Self {
        let public_url = public_url.into().trim_end_matches('/').to_string();
        AppState {
            store,
            signer,
            public_url,
            limits,
        }
    }

    /// The Tenant URL: `<public url>/scim/v2/<tenant id>`, the SCIM base URL of a tenant.
    pub fn tenant_url(&self, tenant_id: &str) -> String {
        tenant_url(&self.public_url, tenant_id)
    }

    /// Runs `f` on the blocking pool with the store (diesel is synchronous).
    pub async fn blocking<T, E, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&dyn Store) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        web::block(move || f(store.as_ref()))
            .await?
            .map_err(Into::into)
    }
}

/// The Tenant URL of `tenant_id` under `public_url`.
pub fn tenant_url(public_url: &str, tenant_id: &str) -> String {
    format!("{}/scim/v2/{}", public_url.trim_end_matches('/'), tenant_id)
}
