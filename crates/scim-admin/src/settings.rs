//! The organization's Settings page: the Tenant URL, the secret token with Generate (a
//! compare-and-set on the token the page showed: a stale page gets 409 and changes
//! nothing), the pause switch, the SCIM profile select (strict or lenient) and, for
//! operators, Delete (the organization's id typed as confirmation). Every form carries
//! the session's CSRF token.

use crate::AdminError;
use crate::pages::{Data, PageResult, org_id, page, redirect, signed_in};
use crate::service;
use crate::session::{AdminState, Principal, check_csrf};
use crate::views::{self, FreshToken};
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::web;
use scim_store::Tenant;

/// The Settings page.
pub(crate) async fn settings(req: HttpRequest, state: Data) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let id = org_id(&req);
    let w = who.clone();
    let t = state
        .run(move |s| service::organization(s, &w, &id))
        .await?;
    let url = state.app.tenant_url(&t.id);
    Ok(page(
        StatusCode::OK,
        views::settings(&who, &t, &url, None, None),
    ))
}

/// The Generate form: its CSRF token and the public id of the token the page showed
/// (empty: none), so that a Generate from a stale page loses to the one that won.
#[derive(serde::Deserialize)]
pub(crate) struct GenerateForm {
    #[serde(default)]
    pub(crate) csrf: String,
    #[serde(default)]
    pub(crate) token_id: Option<String>,
}

/// Generate: a new token, shown once; 409 on the current page when another Generate won.
pub(crate) async fn generate(
    req: HttpRequest,
    state: Data,
    form: web::Form<GenerateForm>,
) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let id = org_id(&req);
    // The organization must be visible before anything else is said about the request.
    let w = who.clone();
    let before = state
        .run(move |s| service::organization(s, &w, &id))
        .await?;
    check_csrf(&state, &req, who.csrf.as_deref(), &form.csrf)?;
    let w = who.clone();
    let tid = before.id.clone();
    let expected = form
        .token_id
        .clone()
        .map(|seen| (!seen.is_empty()).then_some(seen));
    let (generated, after) = state
        .run(move |s| {
            let g = service::generate_token(s, &w, &tid, expected);
            let t = s.store().get_tenant(&tid)?;
            Ok((g, t))
        })
        .await?;
    let url = state.app.tenant_url(&after.id);
    let generated = match generated {
        Ok(g) => g,
        // Another Generate won since this page was loaded: say so on the current page.
        Err(AdminError::Stale(message)) => {
            return Ok(page(
                StatusCode::CONFLICT,
                views::settings(&who, &after, &url, None, Some(message)),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let fresh = FreshToken {
        token: &generated.token,
        replaced: before.token.is_some(),
    };
    Ok(page(
        StatusCode::OK,
        views::settings(&who, &after, &url, Some(fresh), None),
    ))
}

/// The pause switch: `paused` is `true` to pause, anything else resumes.
#[derive(serde::Deserialize)]
pub(crate) struct PauseForm {
    #[serde(default)]
    pub(crate) csrf: String,
    #[serde(default)]
    pub(crate) paused: String,
}

/// The pause switch: pauses or resumes provisioning, then back to Settings.
pub(crate) async fn pause(req: HttpRequest, state: Data, form: web::Form<PauseForm>) -> PageResult {
    let paused = form.paused == "true";
    change_setting(&req, &state, &form.csrf, move |s, who, tid| {
        service::set_paused(s, who, tid, paused)
    })
    .await
}

/// The profile select: `strict` or `lenient`.
#[derive(serde::Deserialize)]
pub(crate) struct ProfileForm {
    #[serde(default)]
    pub(crate) csrf: String,
    #[serde(default)]
    pub(crate) profile: String,
}

/// The profile select: sets the organization's SCIM profile, then back to Settings. Any
/// other value than `strict` or `lenient` is a 400 and changes nothing.
pub(crate) async fn profile(
    req: HttpRequest,
    state: Data,
    form: web::Form<ProfileForm>,
) -> PageResult {
    let chosen = form.profile.clone();
    change_setting(&req, &state, &form.csrf, move |s, who, tid| {
        let profile: scim_core::Profile =
            chosen
                .parse()
                .map_err(|e: scim_core::profile::UnknownProfile| {
                    AdminError::BadRequest(e.to_string())
                })?;
        service::set_profile(s, who, tid, profile)
    })
    .await
}

/// A Settings form that changes one thing: the organization must be visible to the caller
/// (404 otherwise, before anything else is said about the request), then the form's CSRF
/// token is checked, `change` runs on the store, and the browser goes back to Settings.
async fn change_setting<F>(req: &HttpRequest, state: &Data, csrf: &str, change: F) -> PageResult
where
    F: FnOnce(&AdminState, &Principal, &str) -> Result<Tenant, AdminError> + Send + 'static,
{
    let who = signed_in(state, req).await?;
    let id = org_id(req);
    let w = who.clone();
    let before = state
        .run(move |s| service::organization(s, &w, &id))
        .await?;
    check_csrf(state, req, who.csrf.as_deref(), csrf)?;
    let after = state.run(move |s| change(s, &who, &before.id)).await?;
    Ok(redirect(&format!(
        "{}/settings",
        views::org_path(&after.id)
    )))
}

/// The Delete form: the CSRF token and the organization's id, typed as confirmation.
#[derive(serde::Deserialize)]
pub(crate) struct DeleteForm {
    #[serde(default)]
    pub(crate) csrf: String,
    #[serde(default)]
    pub(crate) confirm: String,
}

/// Delete: the organization and all its data, when the typed id matches (400 otherwise,
/// nothing deleted); operators only. Then to the organizations list.
pub(crate) async fn delete(
    req: HttpRequest,
    state: Data,
    form: web::Form<DeleteForm>,
) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let id = org_id(&req);
    let w = who.clone();
    let before = state
        .run(move |s| service::organization(s, &w, &id))
        .await?;
    check_csrf(&state, &req, who.csrf.as_deref(), &form.csrf)?;
    if form.confirm.trim() != before.id {
        return Err(AdminError::BadRequest(
            "Type the organization's id to confirm the deletion; nothing was deleted.".into(),
        )
        .into());
    }
    state
        .run(move |s| service::delete_organization(s, &who, &before.id))
        .await?;
    Ok(redirect("/admin/organizations"))
}
