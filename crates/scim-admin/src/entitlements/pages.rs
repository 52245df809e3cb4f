//! The console's Entitlements page: the organization's roles, entitlements and
//! entitlement types, with forms to define and remove them (each with the session's CSRF
//! token). A refused form (a taken value, an invalid endpoint, a type that still has
//! values) shows the page again with the reason and its status; nothing was changed.

use crate::AdminError;
use crate::pages::{Data, PageResult, org_id, page, redirect, signed_in};
use crate::session::{AdminState, Principal, check_csrf};
use crate::views::{Tab, csrf_field, enc, layout, org_path, when};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use maud::{Markup, html};
use scim_core::entitlements::{EntitlementType, builtin_endpoint};
use scim_store::{Tenant, ValuePage};

/// The routes (inside `/admin`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    let base = "/organizations/{org}/entitlements";
    cfg.route(base, web::get().to(show))
        .route(base, web::post().to(add_value))
        .route(&format!("{base}/types"), web::post().to(add_type))
        .route(
            &format!("{base}/types/{{tid}}/delete"),
            web::post().to(remove_type),
        )
        .route(
            &format!("{base}/{{vid}}/delete"),
            web::post().to(remove_value),
        );
}

/// What the page shows: the organization, its types and its values.
struct Catalog {
    tenant: Tenant,
    types: Vec<EntitlementType>,
    values: ValuePage,
}

fn load(state: &AdminState, who: &Principal, tenant_id: &str) -> Result<Catalog, AdminError> {
    let tenant = crate::service::organization(state, who, tenant_id)?;
    let types = super::types(state, who, tenant_id)?;
    let values = super::values(state, who, tenant_id, None, 1, super::MAX_PAGE)?;
    Ok(Catalog {
        tenant,
        types,
        values,
    })
}

async fn show(req: HttpRequest, state: Data) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let (id, w) = (org_id(&req), who.clone());
    let c = state.run(move |s| load(s, &w, &id)).await?;
    Ok(page(StatusCode::OK, view(&who, &c, None)))
}

/// Runs a form's change after the visibility and CSRF checks; back to the page when it
/// worked, the page with the reason when the change was refused.
async fn change<F>(req: &HttpRequest, state: &Data, csrf: &str, f: F) -> PageResult
where
    F: FnOnce(&AdminState, &Principal, &str) -> Result<(), AdminError> + Send + 'static,
{
    let who = signed_in(state, req).await?;
    let (id, w) = (org_id(req), who.clone());
    let tenant = state
        .run(move |s| crate::service::organization(s, &w, &id))
        .await?;
    check_csrf(state, req, who.csrf.as_deref(), csrf)?;
    let (w, tid) = (who.clone(), tenant.id.clone());
    match state.run(move |s| f(s, &w, &tid)).await {
        Ok(()) => Ok(redirect(&format!("{}/entitlements", org_path(&tenant.id)))),
        Err(e @ (AdminError::BadRequest(_) | AdminError::Conflict(_) | AdminError::Refused(_))) => {
            let (w, tid) = (who.clone(), tenant.id.clone());
            let c = state.run(move |s| load(s, &w, &tid)).await?;
            Ok(page(e.status(), view(&who, &c, Some(&e.public_message()))))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct ValueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    display: String,
}

async fn add_value(req: HttpRequest, state: Data, form: web::Form<ValueForm>) -> PageResult {
    let ValueForm {
        csrf,
        kind,
        value,
        display,
    } = form.into_inner();
    change(&req, &state, &csrf, move |s, w, t| {
        super::add_value(s, w, t, &kind, &value, &display).map(drop)
    })
    .await
}

#[derive(serde::Deserialize)]
struct TypeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    endpoint: String,
}

async fn add_type(req: HttpRequest, state: Data, form: web::Form<TypeForm>) -> PageResult {
    let TypeForm {
        csrf,
        id,
        name,
        endpoint,
    } = form.into_inner();
    let (name, endpoint) = super::json::NewType {
        id: id.clone(),
        name,
        endpoint,
    }
    .resolved();
    change(&req, &state, &csrf, move |s, w, t| {
        super::add_type(s, w, t, &id, &name, &endpoint).map(drop)
    })
    .await
}

#[derive(serde::Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn remove_value(req: HttpRequest, state: Data, form: web::Form<CsrfForm>) -> PageResult {
    let vid = req.match_info().get("vid").unwrap_or_default().to_string();
    change(&req, &state, &form.csrf, move |s, w, t| {
        super::remove_value(s, w, t, &vid).map(drop)
    })
    .await
}

async fn remove_type(req: HttpRequest, state: Data, form: web::Form<CsrfForm>) -> PageResult {
    let tid = req.match_info().get("tid").unwrap_or_default().to_string();
    change(&req, &state, &form.csrf, move |s, w, t| {
        super::remove_type(s, w, t, &tid)
    })
    .await
}

/// The SCIM endpoint a value of `kind` is served at.
fn endpoint_of<'a>(
    kind: &scim_core::entitlements::EntitlementKind,
    types: &'a [EntitlementType],
) -> &'a str {
    builtin_endpoint(kind).unwrap_or_else(|| {
        types
            .iter()
            .find(|t| t.id == kind.as_str())
            .map_or("", |t| t.endpoint.as_str())
    })
}

fn view(who: &Principal, c: &Catalog, error: Option<&str>) -> Markup {
    let csrf = who.csrf.as_deref().unwrap_or_default();
    let base = format!("{}/entitlements", org_path(&c.tenant.id));
    layout(
        "Entitlements",
        Some(who),
        Some((&c.tenant, Tab::Entitlements)),
        html! {
            h2 { "Roles and entitlements" }
            p.hint {
                "What your identity provider may grant (Okta Identity Governance reads them at "
                code { "/Roles" } ", " code { "/Entitlements" } " and each type's endpoint). "
                "Once a kind has a value, a user's " code { "roles" } " or " code { "entitlements" }
                " may only name defined ones: anything else is refused with 400 invalidValue."
            }
            @if let Some(e) = error { p.notice.error role="alert" { (e) } }
            @if c.values.values.is_empty() {
                p { "No roles or entitlements yet: any value is accepted." }
            } @else {
                div.tablewrap { table #entitlements {
                    thead { tr {
                        th scope="col" { "Kind" } th scope="col" { "Value" } th scope="col" { "Display name" }
                        th.opt scope="col" { "SCIM id" } th.opt scope="col" { "Defined" } th scope="col" { "Actions" }
                    } }
                    tbody {
                        @for v in &c.values.values {
                            tr {
                                td { (v.kind.type_name()) }
                                td { code { (v.value) } }
                                td { (v.display) }
                                td.opt { code title={ (endpoint_of(&v.kind, &c.types)) "/" (v.id) } { (v.id) } }
                                td.opt { (when(&v.created)) }
                                td {
                                    form.inline method="post" action={ (base) "/" (enc(&v.id)) "/delete" }
                                        data-confirm="Remove this value? Users holding it keep it, but it can no longer be granted." {
                                        (csrf_field(csrf))
                                        button.secondary type="submit" { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                } }
                @if c.values.total_results > c.values.values.len() as u64 {
                    p.hint { "Showing the first " (c.values.values.len()) " of " (c.values.total_results) "; the API and the CLI list them all." }
                }
            }
            form.card method="post" action=(base) {
                h2 { "Define a value" }
                (csrf_field(csrf))
                div.row {
                    div {
                        label for="kind" { "Kind" }
                        select #kind name="kind" {
                            option value="role" { "Role" }
                            option value="entitlement" { "Entitlement" }
                            @for t in &c.types { option value=(t.id) { (t.name) } }
                        }
                    }
                    div {
                        label for="value" { "Value" }
                        input #value type="text" name="value" required maxlength="1024";
                    }
                    div {
                        label for="display" { "Display name" }
                        input #display type="text" name="display" maxlength="1024";
                    }
                    div { button type="submit" { "Add" } }
                }
            }
            h2 { "Entitlement types" }
            p.hint { "Types of your own (e.g. License at /Licenses), served with the Entitlement schema and listed in this organization's /ResourceTypes only. A type with values cannot be removed: remove its values first." }
            @if !c.types.is_empty() {
                div.tablewrap { table #entitlement-types {
                    thead { tr { th scope="col" { "Id" } th scope="col" { "Name" } th scope="col" { "Endpoint" } th scope="col" { "Actions" } } }
                    tbody {
                        @for t in &c.types {
                            tr {
                                td { code { (t.id) } }
                                td { (t.name) }
                                td { code { (t.endpoint) } }
                                td {
                                    form.inline method="post" action={ (base) "/types/" (enc(&t.id)) "/delete" } {
                                        (csrf_field(csrf))
                                        button.secondary type="submit" { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
            form.card method="post" action={ (base) "/types" } {
                h2 { "Define a type" }
                (csrf_field(csrf))
                div.row {
                    div {
                        label for="type-id" { "Id" }
                        input #type-id type="text" name="id" required maxlength="64" pattern="[A-Za-z][A-Za-z0-9_\\-]*";
                    }
                    div {
                        label for="type-name" { "Name" }
                        input #type-name type="text" name="name" maxlength="64";
                    }
                    div {
                        label for="type-endpoint" { "Endpoint" }
                        input #type-endpoint type="text" name="endpoint" placeholder="/Licenses" maxlength="65";
                    }
                    div { button type="submit" { "Add type" } }
                }
            }
        },
    )
}
