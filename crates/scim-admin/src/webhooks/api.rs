//! The events and webhooks routes of the admin JSON API (under `/admin/api`), with the API's
//! authentication (an admin API token) and isolation (another organization is 404):
//!
//! - `GET /organizations/{id}/events?after=&limit=&types=`: the feed (pull);
//! - `GET|POST /organizations/{id}/webhooks`, `GET|PATCH|DELETE …/webhooks/{wid}`;
//! - `POST …/webhooks/{wid}/rotate-secret` and the create answer: the only two that show
//!   the secret;
//! - `POST …/webhooks/{wid}/test`: one signed test event now (503 without a worker);
//! - `GET …/webhooks/{wid}/deliveries?before=&limit=`, `POST
//!   …/webhooks/{wid}/deliveries/{position}/redeliver`, `POST …/webhooks/{wid}/replay`.

use super::json;
use super::service::{
    self, DEFAULT_DELIVERY_LIMIT, EventsQuery, MAX_DELIVERY_LIMIT, parse_cursor, parse_limit,
};
use crate::AdminError;
use crate::api::{ApiResult, ok, org_id, query, who};
use crate::session::AdminState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use serde_json::json;

type Data = web::Data<AdminState>;

crate::api::declare_routes!(ROUTES, register {
    get "/organizations/{org}/events" => events,
    get "/organizations/{org}/webhooks" => list,
    post "/organizations/{org}/webhooks" => create,
    get "/organizations/{org}/webhooks/{wid}" => get,
    patch "/organizations/{org}/webhooks/{wid}" => update,
    delete "/organizations/{org}/webhooks/{wid}" => remove,
    post "/organizations/{org}/webhooks/{wid}/rotate-secret" => rotate,
    post "/organizations/{org}/webhooks/{wid}/test" => test,
    get "/organizations/{org}/webhooks/{wid}/deliveries" => deliveries,
    post "/organizations/{org}/webhooks/{wid}/deliveries/{position}/redeliver" => redeliver,
    post "/organizations/{org}/webhooks/{wid}/replay" => replay,
});

fn wid(req: &HttpRequest) -> String {
    req.match_info().get("wid").unwrap_or_default().to_string()
}

#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/events",
    tag = "Admin: events",
    operation_id = "adminEvents",
    summary = "The event feed (signed SETs) after a cursor",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("after" = Option<String>, Query, description = "The cursor (0: from the start)."),
        ("limit" = Option<u64>, Query, description = "Events per page."),
        ("types" = Option<String>, Query, description = "Comma-separated event types."),
    ),
    responses(
        (status = 200, description = "A page of events and the next cursor", body = crate::openapi::EventsPage),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn events(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let q = query(&req);
    let id = org_id(&req);
    let eq = EventsQuery::parse(
        q.get("after").map(String::as_str),
        q.get("limit").map(String::as_str),
        q.get("types").map(String::as_str),
    );
    let (records, after) = state
        .run(move |s| {
            // The organization first: another organization's feed is 404 even with bad input.
            crate::service::organization(s, &w, &id)?;
            let eq = eq?;
            Ok((service::events(s, &w, &id, &eq)?, eq.after))
        })
        .await?;
    Ok(ok(
        StatusCode::OK,
        &json::events_page(&records, after, &state.app.public_url),
    ))
}

#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/webhooks",
    tag = "Admin: events",
    operation_id = "adminListWebhooks",
    summary = "The webhook subscriptions",
    params(
        ("org" = String, Path, description = "The organization's id."),
    ),
    responses(
        (status = 200, description = "The subscriptions", body = crate::openapi::Webhooks),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn list(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let (subs, newest) = state.run(move |s| service::list(s, &w, &id)).await?;
    let items: Vec<_> = subs.iter().map(|s| json::webhook(s, newest)).collect();
    Ok(ok(StatusCode::OK, &json!({"webhooks": items})))
}

#[utoipa::path(
    post,
    path = "/admin/api/organizations/{org}/webhooks",
    tag = "Admin: events",
    operation_id = "adminCreateWebhook",
    summary = "Subscribe a receiver (the secret is in this response only)",
    params(
        ("org" = String, Path, description = "The organization's id."),
    ),
    request_body(content = crate::openapi::NewWebhook, content_type = "application/json"),
    responses(
        (status = 201, description = "The subscription and its secret", body = crate::openapi::WebhookWithSecret),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn create(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let (sub, secret, newest) = state
        .run(move |s| {
            crate::service::organization(s, &w, &id)?;
            let new = json::new_subscription(&body)?;
            let (sub, secret) = service::create(s, &w, &id, &new)?;
            let newest = s.store().last_event_position(&id)?;
            Ok((sub, secret, newest))
        })
        .await?;
    Ok(ok(
        StatusCode::CREATED,
        &json::webhook_with_secret(&sub, newest, &secret),
    ))
}

#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/webhooks/{wid}",
    tag = "Admin: events",
    operation_id = "adminGetWebhook",
    summary = "One subscription",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("wid" = String, Path, description = "The subscription's id."),
    ),
    responses(
        (status = 200, description = "The subscription", body = crate::openapi::Webhook),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn get(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let (id, sid) = (org_id(&req), wid(&req));
    let l = state.run(move |s| service::get(s, &w, &id, &sid)).await?;
    Ok(ok(
        StatusCode::OK,
        &json::webhook(&l.subscription, l.newest),
    ))
}

#[utoipa::path(
    patch,
    path = "/admin/api/organizations/{org}/webhooks/{wid}",
    tag = "Admin: events",
    operation_id = "adminUpdateWebhook",
    summary = "Change a subscription",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("wid" = String, Path, description = "The subscription's id."),
    ),
    request_body(content = crate::openapi::WebhookChange, content_type = "application/json"),
    responses(
        (status = 200, description = "The subscription", body = crate::openapi::Webhook),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn update(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
    let w = who(&state, &req).await?;
    let (id, sid) = (org_id(&req), wid(&req));
    let l = state
        .run(move |s| {
            service::check_visible(s, &w, &id, &sid)?;
            let change = json::subscription_update(&body)?;
            service::update(s, &w, &id, &sid, &change)?;
            service::get(s, &w, &id, &sid)
        })
        .await?;
    Ok(ok(
        StatusCode::OK,
        &json::webhook(&l.subscription, l.newest),
    ))
}

#[utoipa::path(
    delete,
    path = "/admin/api/organizations/{org}/webhooks/{wid}",
    tag = "Admin: events",
    operation_id = "adminRemoveWebhook",
    summary = "Remove a subscription",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("wid" = String, Path, description = "The subscription's id."),
    ),
    responses(
        (status = 200, description = "Removed", body = crate::openapi::Removed),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn remove(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let (id, sid) = (org_id(&req), wid(&req));
    state
        .run(move |s| service::remove(s, &w, &id, &sid))
        .await?;
    Ok(ok(StatusCode::OK, &json!({"removed": wid(&req)})))
}

#[utoipa::path(
    post,
    path = "/admin/api/organizations/{org}/webhooks/{wid}/rotate-secret",
    tag = "Admin: events",
    operation_id = "adminRotateWebhookSecret",
    summary = "A new signing secret (shown only here)",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("wid" = String, Path, description = "The subscription's id."),
    ),
    responses(
        (status = 200, description = "The subscription and its new secret", body = crate::openapi::WebhookWithSecret),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn rotate(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let (id, sid) = (org_id(&req), wid(&req));
    let (sub, secret, newest) = state
        .run(move |s| {
            let (sub, secret) = service::rotate_secret(s, &w, &id, &sid)?;
            let newest = s.store().last_event_position(&id)?;
            Ok((sub, secret, newest))
        })
        .await?;
    Ok(ok(
        StatusCode::OK,
        &json::webhook_with_secret(&sub, newest, &secret),
    ))
}

#[utoipa::path(
    post,
    path = "/admin/api/organizations/{org}/webhooks/{wid}/test",
    tag = "Admin: events",
    operation_id = "adminTestWebhook",
    summary = "Send one signed test event now",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("wid" = String, Path, description = "The subscription's id."),
    ),
    responses(
        (status = 200, description = "The delivery attempt", body = crate::openapi::TestDelivery),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
        (status = 503, description = "This process cannot do it (e.g. no delivery worker)", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn test(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let attempt = service::send_test(&state, &w, &org_id(&req), &wid(&req)).await?;
    Ok(ok(
        StatusCode::OK,
        &json!({"attempt": json::attempt(&attempt)}),
    ))
}

#[utoipa::path(
    get,
    path = "/admin/api/organizations/{org}/webhooks/{wid}/deliveries",
    tag = "Admin: events",
    operation_id = "adminWebhookDeliveries",
    summary = "The delivery log, newest first",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("wid" = String, Path, description = "The subscription's id."),
        ("before" = Option<String>, Query, description = "Only attempts older than this id."),
        ("limit" = Option<u64>, Query, description = "Attempts per page."),
    ),
    responses(
        (status = 200, description = "A page of attempts", body = crate::openapi::Deliveries),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn deliveries(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let (id, sid, q) = (org_id(&req), wid(&req), query(&req));
    let (list, limit) = state
        .run(move |s| {
            service::check_visible(s, &w, &id, &sid)?;
            let before = q
                .get("before")
                .map(|b| {
                    b.parse::<i64>().map_err(|_| {
                        AdminError::BadRequest("'before' must be a delivery id.".into())
                    })
                })
                .transpose()?;
            let limit = parse_limit(
                q.get("limit").map(String::as_str),
                DEFAULT_DELIVERY_LIMIT,
                MAX_DELIVERY_LIMIT,
            )?;
            Ok((service::deliveries(s, &w, &id, &sid, before, limit)?, limit))
        })
        .await?;
    let next = (list.len() as u64 >= limit)
        .then(|| list.last().map(|a| a.id))
        .flatten();
    Ok(ok(
        StatusCode::OK,
        &json!({
            "deliveries": list.iter().map(json::attempt).collect::<Vec<_>>(),
            "next_before": next,
        }),
    ))
}

#[utoipa::path(
    post,
    path = "/admin/api/organizations/{org}/webhooks/{wid}/deliveries/{position}/redeliver",
    tag = "Admin: events",
    operation_id = "adminRedeliver",
    summary = "Queue one event again",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("wid" = String, Path, description = "The subscription's id."),
        ("position" = String, Path, description = "The event's position."),
    ),
    responses(
        (status = 202, description = "Queued", body = crate::openapi::Queued),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn redeliver(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let (id, sid) = (org_id(&req), wid(&req));
    let position = req
        .match_info()
        .get("position")
        .unwrap_or_default()
        .to_string();
    let p = state
        .run(move |s| {
            service::check_visible(s, &w, &id, &sid)?;
            let p = parse_cursor(&position, "position")?;
            service::redeliver(s, &w, &id, &sid, p)?;
            Ok(p)
        })
        .await?;
    Ok(ok(
        StatusCode::ACCEPTED,
        &json!({"queued": true, "position": p.to_string()}),
    ))
}

#[utoipa::path(
    post,
    path = "/admin/api/organizations/{org}/webhooks/{wid}/replay",
    tag = "Admin: events",
    operation_id = "adminReplayWebhook",
    summary = "Deliver again every event after a position",
    params(
        ("org" = String, Path, description = "The organization's id."),
        ("wid" = String, Path, description = "The subscription's id."),
    ),
    request_body(content = crate::openapi::ReplayRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The subscription", body = crate::openapi::Webhook),
        (status = 400, description = "Bad input (the message says what)", body = crate::openapi::AdminErrorBody),
        (status = 401, description = "No valid admin API token", body = crate::openapi::AdminErrorBody),
        (status = 404, description = "No such organization (or not visible to this admin), resource or subscription", body = crate::openapi::AdminErrorBody),
    ),
    security(("adminToken" = [])),
)]
pub(crate) async fn replay(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
    let w = who(&state, &req).await?;
    let (id, sid) = (org_id(&req), wid(&req));
    let l = state
        .run(move |s| {
            service::check_visible(s, &w, &id, &sid)?;
            let after = json::replay_after(&body)?;
            service::replay(s, &w, &id, &sid, after)?;
            service::get(s, &w, &id, &sid)
        })
        .await?;
    Ok(ok(
        StatusCode::OK,
        &json::webhook(&l.subscription, l.newest),
    ))
}
