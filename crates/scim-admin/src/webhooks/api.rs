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

/// The routes (inside the API's `/api` scope).
pub fn routes(cfg: &mut web::ServiceConfig) {
    let hook = "/organizations/{org}/webhooks/{wid}";
    cfg.route("/organizations/{org}/events", web::get().to(events))
        .route("/organizations/{org}/webhooks", web::get().to(list))
        .route("/organizations/{org}/webhooks", web::post().to(create))
        .route(hook, web::get().to(get))
        .route(hook, web::patch().to(update))
        .route(hook, web::delete().to(remove))
        .route(&format!("{hook}/rotate-secret"), web::post().to(rotate))
        .route(&format!("{hook}/test"), web::post().to(test))
        .route(&format!("{hook}/deliveries"), web::get().to(deliveries))
        .route(
            &format!("{hook}/deliveries/{{position}}/redeliver"),
            web::post().to(redeliver),
        )
        .route(&format!("{hook}/replay"), web::post().to(replay));
}

fn wid(req: &HttpRequest) -> String {
    req.match_info().get("wid").unwrap_or_default().to_string()
}

async fn events(req: HttpRequest, state: Data) -> ApiResult {
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

async fn list(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let id = org_id(&req);
    let (subs, newest) = state.run(move |s| service::list(s, &w, &id)).await?;
    let items: Vec<_> = subs.iter().map(|s| json::webhook(s, newest)).collect();
    Ok(ok(StatusCode::OK, &json!({"webhooks": items})))
}

async fn create(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
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

async fn get(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let (id, sid) = (org_id(&req), wid(&req));
    let l = state.run(move |s| service::get(s, &w, &id, &sid)).await?;
    Ok(ok(
        StatusCode::OK,
        &json::webhook(&l.subscription, l.newest),
    ))
}

async fn update(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
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

async fn remove(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let (id, sid) = (org_id(&req), wid(&req));
    state
        .run(move |s| service::remove(s, &w, &id, &sid))
        .await?;
    Ok(ok(StatusCode::OK, &json!({"removed": wid(&req)})))
}

async fn rotate(req: HttpRequest, state: Data) -> ApiResult {
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

async fn test(req: HttpRequest, state: Data) -> ApiResult {
    let w = who(&state, &req).await?;
    let attempt = service::send_test(&state, &w, &org_id(&req), &wid(&req)).await?;
    Ok(ok(
        StatusCode::OK,
        &json!({"attempt": json::attempt(&attempt)}),
    ))
}

async fn deliveries(req: HttpRequest, state: Data) -> ApiResult {
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

async fn redeliver(req: HttpRequest, state: Data) -> ApiResult {
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

async fn replay(req: HttpRequest, state: Data, body: web::Bytes) -> ApiResult {
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
