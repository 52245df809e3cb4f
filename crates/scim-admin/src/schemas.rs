//! The organization's Schemas page (docs/schemas.md): its own extension schemas (active
//! and removed), a form to upload or paste a schema document (create or replace, with
//! `required` and `force`), and Remove per schema. The rules are those of
//! `scim-server schema put|remove` ([`service::put_schema`]); every form carries the
//! session's CSRF token.

use crate::AdminError;
use crate::pages::{Data, PageResult, org_id, page, redirect, signed_in};
use crate::service;
use crate::session::{Principal, check_csrf};
use crate::views::{Tab, csrf_field, layout, org_path, when};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use maud::{Markup, html};
use scim_core::ResourceKind;
use scim_http::tenant_schemas::SchemaPut;
use scim_store::{Tenant, TenantSchema};

/// The page's routes (under `/admin`).
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organizations/{org}/schemas", web::get().to(schemas_page))
        .route("/organizations/{org}/schemas", web::post().to(put))
        .route(
            "/organizations/{org}/schemas/remove",
            web::post().to(remove),
        );
}

async fn load(
    state: &Data,
    who: &Principal,
    req: &HttpRequest,
) -> Result<(Tenant, Vec<TenantSchema>), AdminError> {
    let (w, id) = (who.clone(), org_id(req));
    state
        .run(move |s| {
            let t = service::organization(s, &w, &id)?;
            let rows = service::schemas(s, &w, &t.id)?;
            Ok((t, rows))
        })
        .await
}

/// The Schemas page.
async fn schemas_page(req: HttpRequest, state: Data) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let (t, rows) = load(&state, &who, &req).await?;
    Ok(page(StatusCode::OK, view(&who, &t, &rows, None, "")))
}

/// The upload form.
#[derive(serde::Deserialize)]
pub(crate) struct PutForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    extends: String,
    #[serde(default)]
    document: String,
    #[serde(default)]
    required: Option<String>,
    #[serde(default)]
    force: Option<String>,
}

/// Create or replace; a refused document is shown again on the page with the reason (400).
async fn put(req: HttpRequest, state: Data, form: web::Form<PutForm>) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let (t, _) = load(&state, &who, &req).await?;
    check_csrf(&state, &req, who.csrf.as_deref(), &form.csrf)?;
    let form = form.into_inner();
    let extends = match form.extends.as_str() {
        "User" => ResourceKind::User,
        "Group" => ResourceKind::Group,
        _ => return Err(AdminError::BadRequest("Choose User or Group.".into()).into()),
    };
    let options = SchemaPut {
        extends,
        required: form.required.is_some(),
        force: form.force.is_some(),
    };
    let (w, tid, text) = (who.clone(), t.id.clone(), form.document.clone());
    let outcome = state
        .run(move |s| Ok(service::put_schema(s, &w, &tid, &text, &options)))
        .await?;
    match outcome {
        Ok(_) => Ok(redirect(&format!("{}/schemas", org_path(&t.id)))),
        Err(AdminError::BadRequest(message)) => {
            let (t, rows) = load(&state, &who, &req).await?;
            Ok(page(
                StatusCode::BAD_REQUEST,
                view(&who, &t, &rows, Some(&message), &form.document),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// The Remove form.
#[derive(serde::Deserialize)]
pub(crate) struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
}

async fn remove(req: HttpRequest, state: Data, form: web::Form<RemoveForm>) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let (t, _) = load(&state, &who, &req).await?;
    check_csrf(&state, &req, who.csrf.as_deref(), &form.csrf)?;
    let (w, tid, urn) = (who.clone(), t.id.clone(), form.id.clone());
    state
        .run(move |s| service::remove_schema(s, &w, &tid, &urn))
        .await?;
    Ok(redirect(&format!("{}/schemas", org_path(&t.id))))
}

fn view(
    who: &Principal,
    t: &Tenant,
    rows: &[TenantSchema],
    error: Option<&str>,
    document: &str,
) -> Markup {
    let csrf = who.csrf.as_deref().unwrap_or_default();
    let confirm = "Removing the extension hides its values from every response and filter (they stay stored; putting the schema again brings them back). Continue?";
    layout(
        "Schemas",
        Some(who),
        Some((t, Tab::Schemas)),
        html! {
            h2 { "Extension schemas" }
            p.hint { "Attributes of your own (Okta custom app-profile attributes, Microsoft Entra ID custom extension attributes), published in /Schemas and /ResourceTypes of this organization only, and validated on every write. See docs/schemas.md." }
            @if let Some(e) = error { p.notice.error role="alert" #schema-error { (e) } }
            @if rows.is_empty() {
                p #no-schemas { "No extension schema yet." }
            } @else {
                div.tablewrap { table #schemas {
                    thead { tr { th { "URN" } th { "Extends" } th { "Required" } th { "State" } th { "Changed" } th {} } }
                    tbody {
                        @for r in rows {
                            tr {
                                td { code { (r.id) } }
                                td { (r.extends.as_str()) }
                                td { @if r.required { "yes" } @else { "no" } }
                                td { @if r.active { "active" } @else { "removed (values withheld)" } }
                                td { (when(&r.last_modified)) }
                                td {
                                    @if r.active {
                                        form.inline method="post" action={ (org_path(&t.id)) "/schemas/remove" } data-confirm=(confirm) {
                                            (csrf_field(csrf))
                                            input type="hidden" name="id" value=(r.id);
                                            button.secondary type="submit" { "Remove" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
            section.card {
                h2 { "Add or replace a schema" }
                form method="post" action={ (org_path(&t.id)) "/schemas" } {
                    (csrf_field(csrf))
                    label for="extends" { "Extends" }
                    select #extends name="extends" {
                        option value="User" { "User" }
                        option value="Group" { "Group" }
                    }
                    label for="schema-file" { "Schema document (RFC 7643 §7 JSON): upload a file or paste it" }
                    input #schema-file type="file" accept="application/json,.json" data-fill="document" hidden;
                    textarea #document name="document" rows="14" spellcheck="false" required { (document) }
                    p {
                        label { input type="checkbox" name="required" value="on"; " Every resource must carry it (required)" }
                    }
                    p {
                        label { input type="checkbox" name="force" value="on"; " Replace even if incompatible with the stored definition (force)" }
                    }
                    p { button #put-schema type="submit" { "Save schema" } }
                }
            }
        },
    )
}
