//! `GET /api/stats`: hits, bytes, status classes and top lists over one window.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use kit::ApiError;
use serde::Deserialize;
use utoipa::IntoParams;

use super::bad_param;
use super::views::{ClientHits, SectionHits, StatsReport, StatusCounts};
use crate::domain::window::{plan, Granularity, Window};
use crate::Stats;

/// The longest top list one request may ask for.
const MAX_LIMIT: i64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// How far back from `to`: a number and a unit (`10s`, `2m`, `1h`, `24h`, `7d`), or `all`
    /// for every entry ever counted. Default `10s`. Not with `from`.
    pub window: Option<String>,
    /// Start of the window (RFC 3339, whole seconds), inclusive. Not with `window`.
    pub from: Option<String>,
    /// End of the window, exclusive: an RFC 3339 time (whole seconds), `now` (the default: the
    /// end of the current second) or `latest` (the end of the newest entry's second, for
    /// replayed logs).
    pub to: Option<String>,
    /// Length of `top_sections` and `top_clients`, 1..=100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[utoipa::path(
    get, path = "/api/stats", tag = "stats",
    params(StatsQuery),
    responses(
        (status = 200, description = "Traffic over the window", body = StatsReport),
        (status = 400, description = "Bad parameter; `param` names it", body = kit::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = kit::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_stats(
    query: kit::http::Query<StatsQuery>,
    stats: web::Data<Stats>,
) -> Result<HttpResponse, ApiError> {
    let window = Window::parse(
        query.window.as_deref(),
        query.from.as_deref(),
        query.to.as_deref(),
    )
    .map_err(bad_param)?;
    let limit = query.limit.unwrap_or(10);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_param(
            "limit",
            format!("limit={limit} must be a whole number between 1 and {MAX_LIMIT}"),
        ));
    }
    let store = stats.store();
    let (bounds, position) = tokio::try_join!(store.bounds(), store.position())?;
    let now = Utc::now();
    let interval = window
        .resolve(now, bounds)
        .widen_to_kept(&stats.horizons(now, bounds));
    let summary = if window.is_all() {
        store.all_time(limit).await?
    } else {
        store
            .summary(&plan(interval, &Granularity::ALL), limit)
            .await?
    };

    let hits: i64 = summary.classes.hits.iter().sum();
    let seconds = interval.seconds();
    let class = |i: usize| summary.classes.hits[i];
    let report = StatsReport {
        window: interval.into(),
        hits,
        bytes: summary.classes.bytes.iter().sum(),
        hits_per_second: if seconds > 0 {
            hits as f64 / seconds as f64
        } else {
            0.0
        },
        status: StatusCounts {
            informational: class(1),
            success: class(2),
            redirection: class(3),
            client_error: class(4),
            server_error: class(5),
        },
        top_sections: summary
            .top_sections
            .into_iter()
            .map(|(section, hits)| SectionHits { section, hits })
            .collect(),
        top_clients: summary
            .top_clients
            .into_iter()
            .map(|(client, hits)| ClientHits { client, hits })
            .collect(),
        feed: stats.feed_view(position),
    };
    Ok(HttpResponse::Ok().json(report))
}
