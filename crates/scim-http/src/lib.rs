//! `scim-http`: the actix-web layer of the SCIM server.
//!
//! Will own the `/scim/v2/{tenant}` routes, bearer-token authentication, content
//! negotiation and the mapping of errors to SCIM error bodies. Thin: it parses the
//! request, calls `scim-core` and `scim-store`, and shapes the response.
