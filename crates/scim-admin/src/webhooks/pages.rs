//! The console's Webhooks pages (under `/admin/organizations/{org}/webhooks`): the list with
//! the add form, a subscription's page (edit, enable/disable, rotate secret, remove, send a
//! test event, the delivery log with Redeliver, replay from a cursor). Every form that
//! changes something is checked like the console's others: the organization (and the
//! subscription) must be visible first (404), then the Origin header and the CSRF token.

use super::service::{self, DEFAULT_DELIVERY_LIMIT, Listed, parse_cursor};
use super::views::{self, Detail, FreshSecret, TestResult};
use crate::AdminError;
use crate::pages::{PageResult, page, query, redirect, signed_in};
use crate::session::{AdminState, Principal, check_csrf};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use scim_core::events::EventType;
use scim_store::{DeliveryAttempt, NewSubscription, SubscriptionUpdate, Tenant};

type Data = web::Data<AdminState>;
/// A form's fields in order (repeated names, e.g. the `events` checkboxes, kept).
type Fields = web::Form<Vec<(String, String)>>;

/// The routes (inside `/admin`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    let hooks = "/organizations/{org}/webhooks";
    let hook = "/organizations/{org}/webhooks/{wid}";
    cfg.route(hooks, web::get().to(list))
        .route(hooks, web::post().to(create))
        .route(hook, web::get().to(detail))
        .route(hook, web::post().to(edit))
        .route(&format!("{hook}/rotate-secret"), web::post().to(rotate))
        .route(&format!("{hook}/delete"), web::post().to(remove))
        .route(&format!("{hook}/test"), web::post().to(test))
        .route(&format!("{hook}/replay"), web::post().to(replay))
        .route(
            &format!("{hook}/deliveries/{{position}}/redeliver"),
            web::post().to(redeliver),
        );
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn csrf_of(form: &[(String, String)]) -> &str {
    field(form, "csrf").unwrap_or_default()
}

/// The ticked event types (none: every type; all of them is every type too).
fn events_of(form: &[(String, String)]) -> Result<Option<Vec<EventType>>, AdminError> {
    let names: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "events")
        .map(|(_, v)| v.as_str())
        .collect();
    if names.iter().any(|n| n.contains(',')) {
        return Err(AdminError::BadRequest("Unknown event type.".into()));
    }
    let events = service::parse_events(&names.join(","))?;
    Ok(events.filter(|list| list.len() < EventType::ALL.len()))
}

fn ids(req: &HttpRequest) -> (String, String) {
    let m = req.match_info();
    (
        m.get("org").unwrap_or_default().to_string(),
        m.get("wid").unwrap_or_default().to_string(),
    )
}

/// Fixed notices after a redirect (never text from the request).
fn notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "saved" => Some("Saved."),
        "redeliver" => Some("Redelivery queued: the event is sent again shortly."),
        "replay" => Some("Replay started: delivery resumes after the cursor."),
        _ => None,
    }
}

/// The Webhooks page (with `error` after a refused add).
async fn list_page(
    state: &AdminState,
    who: &Principal,
    org: String,
    status: StatusCode,
    error: Option<&str>,
) -> PageResult {
    let w = who.clone();
    let (t, subs, newest) = state
        .run(move |s| {
            let t = crate::service::organization(s, &w, &org)?;
            let (subs, newest) = service::list(s, &w, &org)?;
            Ok((t, subs, newest))
        })
        .await?;
    Ok(page(status, views::list(who, &t, &subs, newest, error)))
}

async fn list(req: HttpRequest, state: Data) -> PageResult {
    let who = signed_in(&state, &req).await?;
    list_page(&state, &who, ids(&req).0, StatusCode::OK, None).await
}

async fn create(req: HttpRequest, state: Data, form: Fields) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let (org, _) = ids(&req);
    let (w, o) = (who.clone(), org.clone());
    state
        .run(move |s| crate::service::organization(s, &w, &o))
        .await?;
    let form = form.into_inner();
    check_csrf(&state, &req, who.csrf.as_deref(), csrf_of(&form))?;
    let (w, o) = (who.clone(), org.clone());
    let created = state
        .run(move |s| {
            let t = crate::service::organization(s, &w, &o)?;
            let new = NewSubscription {
                sink: service::parse_target(field(&form, "url").unwrap_or_default())?,
                mode: service::parse_mode(field(&form, "mode").unwrap_or("full"))?,
                events: events_of(&form)?,
                after: None,
            };
            let (sub, secret) = service::create(s, &w, &o, &new)?;
            Ok((t, service::get(s, &w, &o, &sub.id)?, secret))
        })
        .await;
    match created {
        Ok((t, listed, secret)) => {
            let fresh = FreshSecret {
                secret: &secret,
                rotated: false,
            };
            Ok(render(
                &who,
                StatusCode::OK,
                &(t, listed, Vec::new()),
                Some(fresh),
                None,
                None,
                None,
            ))
        }
        Err(AdminError::BadRequest(m)) => {
            list_page(&state, &who, org, StatusCode::BAD_REQUEST, Some(&m)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The organization, the subscription and a page of its delivery log.
async fn load(
    state: &AdminState,
    who: &Principal,
    org: &str,
    wid: &str,
    before: Option<i64>,
) -> Result<(Tenant, Listed, Vec<DeliveryAttempt>), AdminError> {
    let (w, o, i) = (who.clone(), org.to_string(), wid.to_string());
    state
        .run(move |s| {
            let t = crate::service::organization(s, &w, &o)?;
            let listed = service::get(s, &w, &o, &i)?;
            let log = service::deliveries(s, &w, &o, &i, before, DEFAULT_DELIVERY_LIMIT)?;
            Ok((t, listed, log))
        })
        .await
}

fn render(
    who: &Principal,
    status: StatusCode,
    (t, listed, log): &(Tenant, Listed, Vec<DeliveryAttempt>),
    fresh: Option<FreshSecret<'_>>,
    test: Option<TestResult<'_>>,
    notice: Option<&str>,
    error: Option<&str>,
) -> actix_web::HttpResponse {
    page(
        status,
        views::detail(
            who,
            t,
            &Detail {
                listed,
                deliveries: log,
                page_size: DEFAULT_DELIVERY_LIMIT,
                fresh,
                test,
                notice,
                error,
            },
        ),
    )
}

async fn detail(req: HttpRequest, state: Data) -> PageResult {
    let who = signed_in(&state, &req).await?;
    let (org, wid) = ids(&req);
    let q = query(&req);
    let before = q.get("before").and_then(|b| b.trim().parse::<i64>().ok());
    let loaded = load(&state, &who, &org, &wid, before).await?;
    let done = notice(q.get("done").map(String::as_str));
    Ok(render(
        &who,
        StatusCode::OK,
        &loaded,
        None,
        None,
        done,
        None,
    ))
}

/// The checks of every form on a subscription's page: visible (404), then Origin and CSRF.
async fn checked(
    state: &AdminState,
    req: &HttpRequest,
    form: &[(String, String)],
) -> Result<(Principal, String, String), AdminError> {
    let who = signed_in(state, req).await?;
    let (org, wid) = ids(req);
    let (w, o, i) = (who.clone(), org.clone(), wid.clone());
    state
        .run(move |s| service::check_visible(s, &w, &o, &i))
        .await?;
    check_csrf(state, req, who.csrf.as_deref(), csrf_of(form))?;
    Ok((who, org, wid))
}

fn back_to(org: &str, wid: &str, done: &str) -> String {
    format!(
        "{}/webhooks/{}?done={done}",
        crate::views::org_path(org),
        crate::views::enc(wid)
    )
}

/// Runs a form's action; its bad input shows the subscription's page with the message.
async fn act(
    state: &AdminState,
    who: &Principal,
    org: &str,
    wid: &str,
    done: &str,
    action: impl FnOnce(&AdminState, &Principal) -> Result<(), AdminError> + Send + 'static,
) -> PageResult {
    let w = who.clone();
    match state.run(move |s| action(s, &w)).await {
        Ok(()) => Ok(redirect(&back_to(org, wid, done))),
        Err(AdminError::BadRequest(m)) => {
            let loaded = load(state, who, org, wid, None).await?;
            Ok(render(
                who,
                StatusCode::BAD_REQUEST,
                &loaded,
                None,
                None,
                None,
                Some(&m),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit(req: HttpRequest, state: Data, form: Fields) -> PageResult {
    let form = form.into_inner();
    let (who, org, wid) = checked(&state, &req, &form).await?;
    let (o, i) = (org.clone(), wid.clone());
    act(&state, &who, &org, &wid, "saved", move |s, w| {
        let change = SubscriptionUpdate {
            sink: Some(service::parse_target(
                field(&form, "url").unwrap_or_default(),
            )?),
            mode: Some(service::parse_mode(field(&form, "mode").unwrap_or("full"))?),
            events: Some(events_of(&form)?),
            enabled: Some(field(&form, "enabled") == Some("yes")),
            rotate_secret: false,
        };
        service::update(s, w, &o, &i, &change).map(|_| ())
    })
    .await
}

async fn rotate(req: HttpRequest, state: Data, form: Fields) -> PageResult {
    let form = form.into_inner();
    let (who, org, wid) = checked(&state, &req, &form).await?;
    let (w, o, i) = (who.clone(), org.clone(), wid.clone());
    let (_, secret) = state
        .run(move |s| service::rotate_secret(s, &w, &o, &i))
        .await?;
    let loaded = load(&state, &who, &org, &wid, None).await?;
    let fresh = FreshSecret {
        secret: &secret,
        rotated: true,
    };
    Ok(render(
        &who,
        StatusCode::OK,
        &loaded,
        Some(fresh),
        None,
        None,
        None,
    ))
}

async fn remove(req: HttpRequest, state: Data, form: Fields) -> PageResult {
    let form = form.into_inner();
    let (who, org, wid) = checked(&state, &req, &form).await?;
    if field(&form, "confirm") != Some("yes") {
        let loaded = load(&state, &who, &org, &wid, None).await?;
        return Ok(render(
            &who,
            StatusCode::BAD_REQUEST,
            &loaded,
            None,
            None,
            None,
            Some("Tick the confirmation to remove the subscription."),
        ));
    }
    let (w, o, i) = (who.clone(), org.clone(), wid.clone());
    state.run(move |s| service::remove(s, &w, &o, &i)).await?;
    Ok(redirect(&format!(
        "{}/webhooks",
        crate::views::org_path(&org)
    )))
}

async fn test(req: HttpRequest, state: Data, form: Fields) -> PageResult {
    let form = form.into_inner();
    let (who, org, wid) = checked(&state, &req, &form).await?;
    let sent = match service::send_test(&state, &who, &org, &wid).await {
        Ok(a) => Ok(a),
        Err(AdminError::Unavailable(m)) => Err(m),
        Err(e) => return Err(e.into()),
    };
    // Loaded after the attempt, so the delivery log shows it.
    let loaded = load(&state, &who, &org, &wid, None).await?;
    let (status, result) = match &sent {
        Ok(a) => (StatusCode::OK, TestResult::Sent(a)),
        Err(m) => (StatusCode::SERVICE_UNAVAILABLE, TestResult::Unavailable(m)),
    };
    Ok(render(
        &who,
        status,
        &loaded,
        None,
        Some(result),
        None,
        None,
    ))
}

async fn replay(req: HttpRequest, state: Data, form: Fields) -> PageResult {
    let form = form.into_inner();
    let (who, org, wid) = checked(&state, &req, &form).await?;
    let (o, i) = (org.clone(), wid.clone());
    act(&state, &who, &org, &wid, "replay", move |s, w| {
        let after = parse_cursor(field(&form, "after").unwrap_or_default().trim(), "after")?;
        service::replay(s, w, &o, &i, after).map(|_| ())
    })
    .await
}

async fn redeliver(req: HttpRequest, state: Data, form: Fields) -> PageResult {
    let form = form.into_inner();
    let (who, org, wid) = checked(&state, &req, &form).await?;
    let position = req
        .match_info()
        .get("position")
        .unwrap_or_default()
        .to_string();
    let (o, i) = (org.clone(), wid.clone());
    act(&state, &who, &org, &wid, "redeliver", move |s, w| {
        let p = parse_cursor(&position, "position")?;
        service::redeliver(s, w, &o, &i, p)
    })
    .await
}
