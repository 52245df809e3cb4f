//! The console's pages: sign-in, set-up, sign-out, Organizations, and per organization
//! Settings (in [`settings`](crate::settings)), Users, Groups, Activity and Webhooks (the
//! latter in [`webhooks::pages`](crate::webhooks::pages)); plus the embedded CSS and JS. Anonymous requests are redirected to the sign-in page; every form that
//! changes something carries a CSRF token.

use crate::AdminError;
use crate::service::{self, LOG_PAGE_SIZE, LogFilter, parse_page};
use crate::session::{
    AdminState, Credential, FORM_COOKIE, Principal, authenticate, check_csrf, random_hex,
    request_cookie, setup_code_valid,
};
use crate::settings;
use crate::views;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use maud::Markup;
use scim_core::ResourceKind;
use serde::Deserialize;
use std::collections::HashMap;

pub(crate) type Data = web::Data<AdminState>;

/// An error shown as an HTML page (anonymous requests become a redirect to sign-in).
#[derive(Debug)]
pub struct PageError(pub AdminError);

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: Into<AdminError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self.0 {
            AdminError::Unauthenticated => StatusCode::SEE_OTHER,
            ref e => e.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        if matches!(self.0, AdminError::Unauthenticated) {
            return redirect("/admin/sign-in");
        }
        let status = self.0.status();
        with_retry_after(
            page(
                status,
                views::error_page(status.as_u16(), &self.0.public_message(), true),
            ),
            &self.0,
        )
    }
}

pub(crate) type PageResult = Result<HttpResponse, PageError>;

/// The console's routes (under `/admin`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(home))
        .route("/", web::get().to(home))
        .route("/assets/admin.css", web::get().to(css))
        .route("/assets/admin.js", web::get().to(js))
        .route("/sign-in", web::get().to(sign_in_form))
        .route("/sign-in", web::post().to(sign_in))
        .route("/sign-out", web::post().to(sign_out))
        .route("/setup", web::get().to(setup_form))
        .route("/setup", web::post().to(setup))
        .route("/organizations", web::get().to(organizations))
        .route("/organizations", web::post().to(create_organization))
        .route("/organizations/{org}", web::get().to(organization))
        .route(
            "/organizations/{org}/settings",
            web::get().to(settings::settings),
        )
        .route(
            "/organizations/{org}/settings/token",
            web::post().to(settings::generate),
        )
        .route(
            "/organizations/{org}/settings/paused",
            web::post().to(settings::pause),
        )
        .route(
            "/organizations/{org}/settings/profile",
            web::post().to(settings::profile),
        )
        .route(
            "/organizations/{org}/settings/delete",
            web::post().to(settings::delete),
        )
        .route("/organizations/{org}/users", web::get().to(users))
        .route("/organizations/{org}/users/{id}", web::get().to(user))
        .route("/organizations/{org}/groups", web::get().to(groups))
        .route("/organizations/{org}/groups/{id}", web::get().to(group))
        .route("/organizations/{org}/activity", web::get().to(activity))
        .configure(crate::webhooks::pages::routes)
        .configure(crate::schemas::routes)
        .configure(crate::entitlements::pages::routes)
        .configure(crate::requests::page_routes)
        .default_service(web::to(not_found));
}

/// An HTML response that is never cached and never framed.
pub(crate) fn page(status: StatusCode, body: Markup) -> HttpResponse {
    let mut resp = HttpResponse::build(status);
    resp.insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"));
    secure_headers(&mut resp);
    resp.body(body.into_string())
}

/// Security headers of every console response. `Referrer-Policy: same-origin`, not
/// `no-referrer`: with `no-referrer` browsers send `Origin: null` on form posts, which the
/// Origin check must refuse.
fn secure_headers(resp: &mut actix_web::HttpResponseBuilder) {
    resp.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ));
}

pub(crate) fn redirect(to: &str) -> HttpResponse {
    let mut resp = HttpResponse::SeeOther();
    secure_headers(&mut resp);
    resp.insert_header((header::LOCATION, to)).finish()
}

/// Adds `Retry-After` when `e` is a refusal that passes with time.
pub(crate) fn with_retry_after(mut resp: HttpResponse, e: &AdminError) -> HttpResponse {
    if let Some(secs) = e.retry_after() {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

fn with_cookie(mut resp: HttpResponse, cookie: &str) -> HttpResponse {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub(crate) async fn signed_in(
    state: &AdminState,
    req: &HttpRequest,
) -> Result<Principal, AdminError> {
    authenticate(state, req, Credential::Cookie).await
}

pub(crate) fn query(req: &HttpRequest) -> HashMap<String, String> {
    web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

pub(crate) fn org_id(req: &HttpRequest) -> String {
    req.match_info().get("org").unwrap_or_default().to_string()
}

fn item_id(req: &HttpRequest) -> String {
    req.match_info().get("id").unwrap_or_default().to_string()
}

async fn not_found(req: HttpRequest, state: Data) -> PageResult {
    signed_in(&state, &req).await?;
    Err(AdminError::NotFound.into())
}

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("assets/admin.css"))
}

async fn js() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("assets/admin.js"))
}

async fn home(req: HttpRequest, state: Data) -> PageResult {
    let who = signed_in(&state, &req).await?;
    Ok(match &who.account.tenant_id {
        None => redirect("/admin/organizations"),
        Some(t) => redirect(&format!("{}/settings", views::org_path(t))),
    })
}

/// The sign-in and set-up forms: a random token in an `HttpOnly` cookie and the form.
fn form_token(req: &HttpRequest) -> Result<(String, bool), AdminError> {
    match request_cookie(req, FORM_COOKIE).filter(|v| v.len() == 32) {
        Some(v) => Ok((v, false)),
        None => Ok((random_hex(16)?, true)),
    }
}

fn form_page(
    state: &AdminState,
    req: &HttpRequest,
    status: StatusCode,
    render: impl FnOnce(&str) -> Markup,
) -> PageResult {
    let (token, fresh) = form_token(req)?;
    let resp = page(status, render(&token));
    Ok(if fresh {
        with_cookie(resp, &state.form_cookie(&token))
    } else {
        resp
    })
}

async fn sign_in_form(req: HttpRequest, state: Data) -> PageResult {
    if signed_in(&state, &req).await.is_ok() {
        return Ok(redirect("/admin"));
    }
    form_page(&state, &req, StatusCode::OK, |t| {
        views::sign_in(t, "", None)
    })
}

#[derive(Debug, Default, Deserialize)]
struct SignInForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn sign_in(req: HttpRequest, state: Data, form: web::Form<SignInForm>) -> PageResult {
    let form = form.into_inner();
    let expected = request_cookie(&req, FORM_COOKIE);
    check_csrf(&state, &req, expected.as_deref(), &form.form_token)?;
    let email = form.email.clone();
    match crate::sign_in::sign_in(&state, &req, &form.email, form.password).await {
        Ok((account, cookie)) => {
            tracing::info!(admin = %account.id, "admin console: signed in");
            Ok(with_cookie(
                redirect("/admin"),
                &state.session_cookie(&cookie),
            ))
        }
        Err(
            e @ (AdminError::TooManyAttempts
            | AdminError::RateLimited { .. }
            | AdminError::Busy { .. }),
        ) => {
            let resp = form_page(&state, &req, e.status(), |t| {
                views::sign_in(t, &email, Some(&e.public_message()))
            })?;
            Ok(with_retry_after(resp, &e))
        }
        Err(AdminError::BadRequest(msg)) => {
            form_page(&state, &req, StatusCode::UNAUTHORIZED, |t| {
                views::sign_in(t, &email, Some(&msg))
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// A form that carries only the session's CSRF token.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    pub(crate) csrf: String,
}

async fn sign_out(req: HttpRequest, state: Data, form: web::Form<CsrfForm>) -> PageResult {
    let who = signed_in(&state, &req).await?;
    check_csrf(&state, &req, who.csrf.as_deref(), &form.csrf)?;
    let id = who.account.id.clone();
    // Every session of the account ends, on every replica (the rows are shared).
    state
        .run(move |s| Ok(s.store().end_admin_sessions(&id)?))
        .await?;
    tracing::info!(admin = %who.account.id, "admin console: signed out");
    Ok(with_cookie(
        redirect("/admin/sign-in"),
        &state.clear_session_cookie(),
    ))
}

async fn setup_form(req: HttpRequest, state: Data) -> PageResult {
    let code = query(&req).remove("code").unwrap_or_default();
    let check = code.clone();
    if !state
        .run(move |s| setup_code_valid(s.store(), &check))
        .await?
    {
        return Err(AdminError::NotFound.into());
    }
    form_page(&state, &req, StatusCode::OK, |t| {
        views::setup(t, &code, "", None)
    })
}

#[derive(Debug, Default, Deserialize)]
struct SetupForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn setup(req: HttpRequest, state: Data, form: web::Form<SetupForm>) -> PageResult {
    let form = form.into_inner();
    let expected = request_cookie(&req, FORM_COOKIE);
    check_csrf(&state, &req, expected.as_deref(), &form.form_token)?;
    let (code, email) = (form.code.clone(), form.email.clone());
    let result = crate::accounts::set_up_first_operator(
        &state,
        crate::accounts::SetUp {
            code: form.code,
            email: form.email,
            password: form.password,
            confirm: form.confirm,
        },
    )
    .await;
    match result {
        Ok((account, cookie)) => {
            tracing::info!(admin = %account.id, "admin console: first operator created");
            Ok(with_cookie(
                redirect("/admin"),
                &state.session_cookie(&cookie),
            ))
        }
        Err(AdminError::BadRequest(msg)) => form_page(&state, &req, StatusCode::BAD_REQUEST, |t| {
            views::setup(t, &code, &email, Some(&msg))
        }),
        Err(e @ AdminError::Busy { .. }) => {
            let resp = form_page(&state, &req, e.status(), |t| {
                views::setup(t, &code, &email, Some(&e.public_message()))
            })?;
            Ok(with_retry_after(resp, &e))
        }
        Err(e) => Err(e.into()),
    }
}

async fn organizations(req: HttpRequest, state: Data) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let w = who.clone();
    let tenants = state.run(move |s| service::organizations(s, &w)).await?;
    let url = |id: &str| state.app.tenant_url(id);
    Ok(page(
        StatusCode::OK,
        views::organizations(&who, &tenants, &url, None),
    ))
}

#[derive(Debug, Default, Deserialize)]
struct OrgForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

async fn create_organization(
    req: HttpRequest,
    state: Data,
    form: web::Form<OrgForm>,
) -> PageResult {
    let who = signed_in(&state, &req).await?;
    check_csrf(&state, &req, who.csrf.as_deref(), &form.csrf)?;
    let w = who.clone();
    let name = form.into_inner().name;
    match state
        .run(move |s| service::create_organization(s, &w, &name))
        .await
    {
        Ok(t) => Ok(redirect(&format!("{}/settings", views::org_path(&t.id)))),
        Err(AdminError::BadRequest(msg)) => {
            let w = who.clone();
            let tenants = state.run(move |s| service::organizations(s, &w)).await?;
            let url = |id: &str| state.app.tenant_url(id);
            Ok(page(
                StatusCode::BAD_REQUEST,
                views::organizations(&who, &tenants, &url, Some(&msg)),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn organization(req: HttpRequest, state: Data) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let id = org_id(&req);
    let w = who.clone();
    let t = state
        .run(move |s| service::organization(s, &w, &id))
        .await?;
    Ok(redirect(&format!("{}/settings", views::org_path(&t.id))))
}

async fn users(req: HttpRequest, state: Data) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let q = query(&req);
    let search = q.get("q").cloned().unwrap_or_default();
    let page_no = parse_page(q.get("page").map(String::as_str));
    let (id, w, s2) = (org_id(&req), who.clone(), search.clone());
    let (t, result) = state
        .run(move |s| {
            let t = service::organization(s, &w, &id)?;
            match service::users(s, &w, &id, &s2, page_no) {
                Ok(p) => Ok((t, Ok(p))),
                Err(AdminError::BadRequest(m)) => Ok((t, Err(m))),
                Err(e) => Err(e),
            }
        })
        .await?;
    let status = if result.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(page(
        status,
        views::users(
            &who,
            &t,
            &search,
            page_no,
            result.as_ref().map_err(String::as_str),
        ),
    ))
}

async fn resource_page(req: HttpRequest, state: Data, kind: ResourceKind) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let (id, rid, w) = (org_id(&req), item_id(&req), who.clone());
    let (t, r, entries) = state
        .run(move |s| {
            let t = service::organization(s, &w, &id)?;
            let r = service::resource(s, &w, &id, kind, &rid)?;
            let q = scim_store::LogQuery {
                resource_id: Some(r.id.clone()),
                limit: LOG_PAGE_SIZE,
                ..Default::default()
            };
            let entries = service::log(s, &w, &id, &q)?;
            Ok((t, r, entries))
        })
        .await?;
    let url = state.app.tenant_url(&t.id);
    let body = match kind {
        ResourceKind::User => views::user(&who, &t, &r, &url, &entries),
        ResourceKind::Group => views::group(&who, &t, &r, &url, &entries),
    };
    Ok(page(StatusCode::OK, body))
}

async fn user(req: HttpRequest, state: Data) -> PageResult {
    resource_page(req, state, ResourceKind::User).await
}

async fn group(req: HttpRequest, state: Data) -> PageResult {
    resource_page(req, state, ResourceKind::Group).await
}

async fn groups(req: HttpRequest, state: Data) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let page_no = parse_page(query(&req).get("page").map(String::as_str));
    let (id, w) = (org_id(&req), who.clone());
    let (t, p) = state
        .run(move |s| {
            let t = service::organization(s, &w, &id)?;
            let p = service::groups(s, &w, &id, page_no)?;
            Ok((t, p))
        })
        .await?;
    Ok(page(StatusCode::OK, views::groups(&who, &t, page_no, &p)))
}

async fn activity(req: HttpRequest, state: Data) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let filter = web::Query::<LogFilter>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let (id, w, f) = (org_id(&req), who.clone(), filter.clone());
    let (t, result, subs) = state
        .run(move |s| {
            let t = service::organization(s, &w, &id)?;
            let result = match f.query(LOG_PAGE_SIZE) {
                Ok(q) => Ok(service::log(s, &w, &id, &q)?),
                Err(AdminError::BadRequest(m)) => Err(m),
                Err(e) => return Err(e),
            };
            // Each entry's delivery state compares its events with the subscriptions' cursors.
            let (subs, _) = crate::webhooks::service::list(s, &w, &id)?;
            Ok((t, result, subs))
        })
        .await?;
    let status = if result.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(page(
        status,
        crate::activity::activity(
            &who,
            &t,
            &filter,
            result.as_deref().map_err(String::as_str),
            &subs,
            LOG_PAGE_SIZE,
        ),
    ))
}
