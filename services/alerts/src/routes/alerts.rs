//! `GET /api/alerts`: the alerts in progress and the history of events, newest first.

use actix_web::{web, HttpResponse};
use feed::consumer::{ConsumerStatus, Position};
use kit::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::storage::{ActiveAlert, AlertEvent};
use crate::Alerts;

pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertsQuery {
    /// History events per page (1..=500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Only events with an id below this one: pass the previous page's `next_before`.
    #[param(minimum = 1)]
    pub before: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertsView {
    /// One per rule alerting now.
    pub active: Vec<ActiveAlert>,
    /// Events, the most recently recorded first.
    pub history: Vec<AlertEvent>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
    /// This instance's view of the feed consumer.
    pub consumer: ConsumerStatus,
    /// How far alerts has applied ingest's feed.
    pub feed: Position,
}

#[utoipa::path(
    get, path = "/api/alerts", tag = "alerts",
    params(AlertsQuery),
    responses(
        (status = 200, description = "Active alerts and a page of history", body = AlertsView),
        (status = 400, description = "Bad parameter", body = kit::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = kit::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_alerts(
    query: kit::http::Query<AlertsQuery>,
    alerts: web::Data<Alerts>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_param(
            "limit",
            format!("limit must be a number from 1 to {MAX_LIMIT}"),
        ));
    }
    let before = query.before;
    if before.is_some_and(|b| b < 1) {
        return Err(ApiError::bad_param(
            "before",
            "before must be an event id >= 1",
        ));
    }
    let active = alerts.store.active_alerts().await?;
    let feed = feed::consumer::position(alerts.store.pool(), crate::storage::SCHEMA).await?;
    // One more than asked tells whether an older page exists.
    let mut history = alerts.store.history(limit + 1, before).await?;
    let next_before = if history.len() as i64 > limit {
        history.truncate(limit as usize);
        history.last().map(|e| e.id)
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(AlertsView {
        active,
        history,
        next_before,
        consumer: alerts.status.borrow().clone(),
        feed,
    }))
}
