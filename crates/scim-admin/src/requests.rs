//! The organization's request log (see `scim_http::request_log`): the console's Requests
//! page (filters for status, action, client and time range, a detail view, CSV and JSON
//! lines export of what the filters select) and the admin API's
//! `GET /admin/api/organizations/{id}/requests[/{entry}]`. Read-only, so no form here
//! changes anything (no CSRF); access is the organization's, like every other page.

use crate::AdminError;
use crate::api::{ApiResult, JsonError, ok, who};
use crate::pages::{Data, PageResult, page, signed_in};
use crate::service;
use crate::session::{AdminState, Principal};
use crate::views::{Tab, enc, layout, org_path, when};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use maud::{Markup, html};
use scim_http::request_log::mask::CLIENTS;
use scim_store::{RequestAction, RequestCursor, RequestEntry, RequestQuery, StatusFilter, Tenant};
use serde_json::{Value, json};

/// Entries on a console page.
pub const PAGE_SIZE: u64 = 50;
/// The most entries one export carries (the newest that match the filters).
pub const EXPORT_MAX: usize = 10_000;

/// The filters, as query parameters (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct RequestFilter {
    /// `4xx` (a class) or `404`.
    #[serde(default)]
    pub status: Option<String>,
    /// An action name (`create_user`, `lookup`, ...).
    #[serde(default)]
    pub action: Option<String>,
    /// `okta`, `entra` or `other`.
    #[serde(default)]
    pub client: Option<String>,
    /// From this time (RFC 3339, or `YYYY-MM-DDTHH:MM[:SS]` in UTC).
    #[serde(default)]
    pub since: Option<String>,
    /// Before this time (same forms).
    #[serde(default)]
    pub until: Option<String>,
    /// The `next` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size (API; 1 to 1000, default 100).
    #[serde(default)]
    pub limit: Option<String>,
}

fn nonempty(o: &Option<String>) -> Option<&str> {
    o.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A time filter value: RFC 3339, or a form's `datetime-local` (taken as UTC).
fn parse_time(name: &str, s: &str) -> Result<DateTime<Utc>, AdminError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(t.and_utc());
        }
    }
    Err(AdminError::BadRequest(format!(
        "'{name}' must be a time such as 2026-12-01T09:00:00Z."
    )))
}

impl RequestFilter {
    /// The store query (unknown values are refused with 400).
    pub fn query(&self, default_limit: u64) -> Result<RequestQuery, AdminError> {
        let status = match nonempty(&self.status) {
            None => None,
            Some(s) => Some(StatusFilter::parse(s).ok_or_else(|| {
                AdminError::BadRequest(
                    "'status' must be a class such as 4xx, or a status such as 404.".into(),
                )
            })?),
        };
        let action = match nonempty(&self.action) {
            None => None,
            Some(s) => Some(
                RequestAction::parse(s)
                    .ok_or_else(|| AdminError::BadRequest(format!("Unknown action '{s}'.")))?,
            ),
        };
        let client = match nonempty(&self.client) {
            None => None,
            Some(c) if CLIENTS.contains(&c) => Some(c.to_string()),
            Some(_) => {
                return Err(AdminError::BadRequest(
                    "'client' must be okta, entra or other.".into(),
                ));
            }
        };
        let since = nonempty(&self.since)
            .map(|s| parse_time("since", s))
            .transpose()?;
        let until = nonempty(&self.until)
            .map(|s| parse_time("until", s))
            .transpose()?;
        let after = match nonempty(&self.cursor) {
            None => None,
            Some(c) => Some(RequestCursor::parse(c).ok_or_else(|| {
                AdminError::BadRequest("'cursor' must be the 'next' of a previous page.".into())
            })?),
        };
        let limit = match nonempty(&self.limit) {
            None => default_limit,
            Some(l) => l
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| AdminError::BadRequest("'limit' must be 1 to 1000.".into()))?,
        };
        Ok(RequestQuery {
            status,
            action,
            client,
            since,
            until,
            after,
            limit,
        })
    }

    /// The filters as a query string (without the cursor), for links.
    fn query_string(&self) -> String {
        [
            ("status", &self.status),
            ("action", &self.action),
            ("client", &self.client),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .iter()
        .filter_map(|(k, v)| nonempty(v).map(|v| format!("{k}={}", enc(v))))
        .collect::<Vec<_>>()
        .join("&")
    }
}

fn filter_of(req: &HttpRequest) -> RequestFilter {
    web::Query::<RequestFilter>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

/// One page of the organization's entries, newest first, and the cursor of the next page.
pub fn requests(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    query: &RequestQuery,
) -> Result<(Vec<RequestEntry>, Option<String>), AdminError> {
    service::organization(state, who, tenant_id)?;
    let entries = state.store().list_requests(tenant_id, query)?;
    let full = query.limit > 0 && entries.len() as u64 >= query.limit;
    let next = entries
        .last()
        .filter(|_| full)
        .map(|e| RequestCursor::of(e).encode());
    Ok((entries, next))
}

/// One entry of the organization (404 for another organization's).
pub fn request(
    state: &AdminState,
    who: &Principal,
    tenant_id: &str,
    id: i64,
) -> Result<RequestEntry, AdminError> {
    service::organization(state, who, tenant_id)?;
    Ok(state.store().get_request(tenant_id, id)?)
}

/// An entry as the API shows it in a list.
pub fn entry_json(e: &RequestEntry) -> Value {
    let r = &e.record;
    json!({
        "id": e.id,
        "time": r.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "method": r.method,
        "path": r.path,
        "status": r.status,
        "action": r.action.as_str(),
        "scim_type": r.scim_type,
        "latency_ms": r.latency_ms,
        "client": r.client,
        "resource_id": r.resource_id,
    })
}

/// An entry with its masked summary (the detail, and each JSON line of an export).
pub fn detail_json(e: &RequestEntry) -> Value {
    let mut v = entry_json(e);
    let summary: Value = serde_json::from_str(&e.record.summary).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("summary".into(), summary);
    }
    v
}

fn entry_id(req: &HttpRequest) -> Result<i64, AdminError> {
    req.match_info()
        .get("entry")
        .and_then(|s| s.parse().ok())
        .ok_or(AdminError::NotFound)
}

// ---- the API ----

crate::api::declare_routes!(ROUTES, register {
    get "/organizations/{org}/requests" => api_list,
    get "/organizations/{org}/requests/{entry}" => api_detail,
});

#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/requests",
    tag = "Admin: organizations",
    operation_id = "adminListRequests",
    summary = "The organization's request log, newest first",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("status" = Option<String>, Query, description = "A status (`404`) or a class (`4xx`)."),
        ("action" = Option<String>, Query, description = "An action name (`create_user`, `lookup`, ...)."),
        ("client" = Option<String>, Query, description = "`okta`, `entra` or `other`."),
        ("since" = Option<String>, Query, description = "From this time (RFC 3339, or `YYYY-MM-DDTHH:MM[:SS]` in UTC)."),
        ("until" = Option<String>, Query, description = "Before this time (same forms)."),
        ("cursor" = Option<String>, Query, description = "The `next` of the previous page."),
        ("limit" = Option<String>, Query, description = "Page size (1 to 1000, default 100)."),
    ),
    responses(
        (status = 200, description = "A page of entries", body = crate::openapi::RequestPage),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin)", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn api_list(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let query = filter_of(&req).query(100).map_err(JsonError)?;
    let id = crate::api::org_id(&req);
    let (entries, next) = state.run(move |s| requests(s, &w, &id, &query)).await?;
    Ok(ok(
        StatusCode::OK,
        &json!({
            "requests": entries.iter().map(entry_json).collect::<Vec<_>>(),
            "next": next,
            "dropped": state.app.request_log.dropped(),
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/requests/{entry}",
    tag = "Admin: organizations",
    operation_id = "adminGetRequest",
    summary = "One request-log entry with its masked summary",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("entry" = String, Path, description = "The entry's id."),
    ),
    responses(
        (status = 200, description = "The entry", body = crate::openapi::RequestDetail),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin) or entry", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn api_detail(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let (id, entry) = (crate::api::org_id(&req), entry_id(&req)?);
    let e = state.run(move |s| request(s, &w, &id, entry)).await?;
    Ok(ok(StatusCode::OK, &detail_json(&e)))
}

// ---- the console ----

/// The console's routes (inside `/admin`); the export before `{entry}`.
pub fn page_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organizations/{org}/requests", web::get().to(list_page))
        .route(
            "/organizations/{org}/requests/export",
            web::get().to(export),
        )
        .route(
            "/organizations/{org}/requests/{entry}",
            web::get().to(detail_page),
        );
}

async fn list_page(req: HttpRequest, state: Data) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let filter = filter_of(&req);
    let (id, w, f) = (crate::pages::org_id(&req), who.clone(), filter.clone());
    let (t, result) = state
        .run(move |s| {
            let t = service::organization(s, &w, &id)?;
            let result = match f.query(PAGE_SIZE) {
                Ok(q) => Ok(requests(s, &w, &id, &q)?),
                Err(AdminError::BadRequest(m)) => Err(m),
                Err(e) => return Err(e),
            };
            Ok((t, result))
        })
        .await?;
    let status = if result.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let log = &state.app.request_log;
    Ok(page(
        status,
        list_view(
            &who,
            &t,
            &filter,
            result.as_ref().map_err(String::as_str),
            (log.is_on(), log.dropped()),
        ),
    ))
}

async fn detail_page(req: HttpRequest, state: Data) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let (id, w, entry) = (crate::pages::org_id(&req), who.clone(), entry_id(&req)?);
    let (t, e) = state
        .run(move |s| {
            let t = service::organization(s, &w, &id)?;
            Ok((t, request(s, &w, &id, entry)?))
        })
        .await?;
    Ok(page(StatusCode::OK, detail_view(&who, &t, &e)))
}

/// A CSV cell: quoted when needed, and a leading `=`, `+`, `-` or `@` defused (a
/// spreadsheet would run it as a formula).
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

const CSV_HEADER: &str =
    "id,time,method,path,status,action,scim_type,latency_ms,client,resource_id,summary\n";

fn csv_line(e: &RequestEntry) -> String {
    let r = &e.record;
    let cells = [
        e.id.to_string(),
        r.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        r.method.clone(),
        r.path.clone(),
        r.status.to_string(),
        r.action.as_str().to_string(),
        r.scim_type.clone().unwrap_or_default(),
        r.latency_ms.to_string(),
        r.client.clone(),
        r.resource_id.clone().unwrap_or_default(),
        r.summary.clone(),
    ];
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// `GET .../requests/export?format=csv|jsonl&<filters>`: the newest [`EXPORT_MAX`]
/// entries the filters select, as an attachment.
async fn export(req: HttpRequest, state: Data) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let filter = filter_of(&req);
    let format = crate::pages::query(&req)
        .get("format")
        .cloned()
        .unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "jsonl" {
        return Err(AdminError::BadRequest("'format' must be csv or jsonl.".into()).into());
    }
    let id = crate::pages::org_id(&req);
    let (w, tid) = (who.clone(), id.clone());
    let mut query = filter.query(1000)?;
    query.limit = 1000;
    let entries = state
        .run(move |s| {
            let mut out = Vec::new();
            loop {
                let (page, next) = requests(s, &w, &tid, &query)?;
                out.extend(page);
                match next.as_deref().and_then(RequestCursor::parse) {
                    Some(c) if out.len() < EXPORT_MAX => query.after = Some(c),
                    _ => break,
                }
            }
            out.truncate(EXPORT_MAX);
            Ok(out)
        })
        .await?;
    let (body, content_type) = if format == "csv" {
        let mut body = String::from(CSV_HEADER);
        for e in &entries {
            body.push_str(&csv_line(e));
        }
        (body, "text/csv; charset=utf-8")
    } else {
        let mut body = String::new();
        for e in &entries {
            body.push_str(&detail_json(e).to_string());
            body.push('\n');
        }
        (body, "application/x-ndjson")
    };
    let name = format!("requests-{}.{format}", enc(&id));
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(body))
}

fn status_class(status: u16) -> &'static str {
    match status {
        200..=399 => "ok",
        400..=499 => "warn",
        _ => "off",
    }
}

fn list_view(
    who: &Principal,
    t: &Tenant,
    filter: &RequestFilter,
    result: Result<&(Vec<RequestEntry>, Option<String>), &str>,
    (on, dropped): (bool, u64),
) -> Markup {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let (status, action, client) = (v(&filter.status), v(&filter.action), v(&filter.client));
    let base = format!("{}/requests", org_path(&t.id));
    let qs = filter.query_string();
    layout(
        "Requests",
        Some(who),
        Some((t, Tab::Requests)),
        html! {
            @if !on { p.notice role="status" { "The request log is off on this server (--request-log off): nothing new is recorded." } }
            @if dropped > 0 { p.notice.error role="status" { (dropped) " entries dropped since start (the log's queue was full or the database refused a batch); see scim_request_log_dropped_total." } }
            form.card method="get" action=(base) {
                div.row {
                    div {
                        label for="status" { "Status" }
                        select #status name="status" {
                            option value="" selected[status.is_empty()] { "Any" }
                            @for s in ["2xx", "4xx", "5xx", "401", "404", "409", "429"] { option value=(s) selected[status == s] { (s) } }
                        }
                    }
                    div {
                        label for="action" { "Action" }
                        select #action name="action" {
                            option value="" selected[action.is_empty()] { "Any" }
                            @for a in RequestAction::ALL { option value=(a.as_str()) selected[action == a.as_str()] { (a.as_str()) } }
                        }
                    }
                    div {
                        label for="client" { "Client" }
                        select #client name="client" {
                            option value="" selected[client.is_empty()] { "Any" }
                            @for c in CLIENTS { option value=(c) selected[client == c] { (c) } }
                        }
                    }
                    div {
                        label for="since" { "From (UTC)" }
                        input #since type="datetime-local" name="since" value=(v(&filter.since));
                    }
                    div {
                        label for="until" { "Before (UTC)" }
                        input #until type="datetime-local" name="until" value=(v(&filter.until));
                    }
                    div { button type="submit" { "Filter" } }
                }
            }
            p {
                a.button.secondary href={ (base) "/export?format=csv&" (qs) } { "Export CSV" } " "
                a.button.secondary href={ (base) "/export?format=jsonl&" (qs) } { "Export JSON lines" }
            }
            @match result {
                Err(e) => p.notice.error role="alert" { (e) },
                Ok((entries, next)) => {
                    @if entries.is_empty() { p { "No requests recorded." } } @else {
                        div.tablewrap { table #requests {
                            thead { tr { th scope="col" { "When" } th scope="col" { "Action" } th scope="col" { "Status" } th scope="col" { "Client" } th scope="col" { "Request" } th scope="col" { "Latency" } } }
                            tbody {
                                @for e in entries {
                                    tr {
                                        td { a href={ (base) "/" (e.id) } { (when(&e.record.at)) } }
                                        td { (e.record.action.as_str()) }
                                        td { span.badge.(status_class(e.record.status)) { (e.record.status) } @if let Some(st) = &e.record.scim_type { " " span.mono { (st) } } }
                                        td { (e.record.client) }
                                        td.mono { (e.record.method) " " (e.record.path) }
                                        td { (e.record.latency_ms) " ms" }
                                    }
                                }
                            }
                        } }
                        @if let Some(next) = next {
                            nav.pager aria-label="Pages" {
                                a.button.secondary rel="next" href={ (base) "?" (qs) "&cursor=" (enc(next)) } { "Older requests" }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn detail_view(who: &Principal, t: &Tenant, e: &RequestEntry) -> Markup {
    let r = &e.record;
    let summary: Value = serde_json::from_str(&r.summary).unwrap_or(Value::Null);
    let pretty = serde_json::to_string_pretty(&summary).unwrap_or_default();
    layout(
        "Request",
        Some(who),
        Some((t, Tab::Requests)),
        html! {
            p { a href={ (org_path(&t.id)) "/requests" } { "‹ All requests" } }
            h2 { (r.method) " " span.mono { (r.path) } }
            dl.card {
                dt { "When" } dd { (when(&r.at)) }
                dt { "Action" } dd { (r.action.as_str()) }
                dt { "Status" } dd { span.badge.(status_class(r.status)) { (r.status) } @if let Some(st) = &r.scim_type { " scimType " span.mono { (st) } } }
                dt { "Client" } dd { (r.client) }
                dt { "Latency" } dd { (r.latency_ms) " ms" }
                dt { "Resource" } dd.mono { (r.resource_id.as_deref().unwrap_or("–")) }
            }
            h3 { "Request summary (masked: names and shapes, never values)" }
            pre #summary { (pretty) }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_refuse() {
        let f = RequestFilter {
            status: Some("4xx".into()),
            action: Some("deactivate_user".into()),
            client: Some("entra".into()),
            since: Some("2026-12-01T09:00".into()),
            until: Some("2026-12-02T00:00:00Z".into()),
            ..RequestFilter::default()
        };
        let q = f.query(50).unwrap();
        assert_eq!(q.status, Some(StatusFilter::Class(4)));
        assert_eq!(q.action, Some(RequestAction::DeactivateUser));
        assert_eq!(q.client.as_deref(), Some("entra"));
        assert_eq!(q.since.unwrap().to_rfc3339(), "2026-12-01T09:00:00+00:00");
        assert_eq!(q.limit, 50);
        assert_eq!(
            f.query_string(),
            "status=4xx&action=deactivate_user&client=entra&since=2026-12-01T09%3A00&until=2026-12-02T00%3A00%3A00Z"
        );
        for bad in [
            RequestFilter {
                status: Some("4x".into()),
                ..RequestFilter::default()
            },
            RequestFilter {
                action: Some("drop".into()),
                ..RequestFilter::default()
            },
            RequestFilter {
                client: Some("google".into()),
                ..RequestFilter::default()
            },
            RequestFilter {
                since: Some("yesterday".into()),
                ..RequestFilter::default()
            },
            RequestFilter {
                cursor: Some("x".into()),
                ..RequestFilter::default()
            },
            RequestFilter {
                limit: Some("0".into()),
                ..RequestFilter::default()
            },
            RequestFilter {
                limit: Some("1001".into()),
                ..RequestFilter::default()
            },
        ] {
            assert!(
                matches!(bad.query(50), Err(AdminError::BadRequest(_))),
                "{bad:?}"
            );
        }
        assert_eq!(RequestFilter::default().query(7).unwrap().limit, 7);
    }

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_cell("-1,2"), "\"'-1,2\"");
    }
}
