//! `GET /api/stats/timeseries`: hits, 4xx and 5xx per bucket, for charts.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::Utc;
use kit::ApiError;
use serde::Deserialize;
use utoipa::IntoParams;

use super::bad_param;
use super::views::{SeriesBucket, Timeseries};
use crate::domain::series::Step;
use crate::domain::window::{levels_for_step, plan, Window};
use crate::storage::writes::time;
use crate::Stats;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimeseriesQuery {
    /// How far back from `to` (`10s`, `2m`, `1h`, `24h`, `7d`) or `all`. Default `10s`.
    pub window: Option<String>,
    /// Start of the window (RFC 3339, whole seconds), inclusive. Not with `window`.
    pub from: Option<String>,
    /// End of the window, exclusive: RFC 3339, `now` (default) or `latest`.
    pub to: Option<String>,
    /// Bucket length (`1s`, `10s`, `1m`, `1h`, `1d`); at most 1000 buckets. Default: a round
    /// step giving about 120 buckets.
    pub step: Option<String>,
}

#[utoipa::path(
    get, path = "/api/stats/timeseries", tag = "stats",
    params(TimeseriesQuery),
    responses(
        (status = 200, description = "Hits per bucket over the window", body = Timeseries),
        (status = 400, description = "Bad parameter (or too many buckets: `step`); `param` names it", body = kit::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = kit::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_timeseries(
    query: kit::http::Query<TimeseriesQuery>,
    stats: web::Data<Stats>,
) -> Result<HttpResponse, ApiError> {
    let window = Window::parse(
        query.window.as_deref(),
        query.from.as_deref(),
        query.to.as_deref(),
    )
    .map_err(bad_param)?;
    let store = stats.store();
    let (now, bounds) = (Utc::now(), store.bounds().await?);
    let horizons = stats.horizons(now, bounds);
    let interval = window.resolve(now, bounds).widen_to_kept(&horizons);
    let step = Step::parse(query.step.as_deref(), interval).map_err(bad_param)?;
    let spans = plan(interval, &levels_for_step(step.seconds()));
    if let Some(span) = spans
        .iter()
        .find(|s| !horizons.keeps(s.granularity, s.from))
    {
        return Err(ApiError::bad_param(
            "step",
            format!(
                "buckets of {}s are no longer kept this far back; use a step that is a whole \
                 number of {}s",
                span.granularity.seconds(),
                span.granularity.seconds() * 60
            ),
        ));
    }
    let points: HashMap<i64, _> = store
        .series(&spans, step.seconds())
        .await?
        .into_iter()
        .map(|p| (p.start, p))
        .collect();
    let buckets = step
        .buckets(interval)
        .into_iter()
        .map(|(start, end)| {
            let aligned = start.div_euclid(step.seconds()) * step.seconds();
            let point = points.get(&aligned).copied().unwrap_or_default();
            SeriesBucket {
                start: time(start),
                end: time(end),
                hits: point.hits,
                errors_4xx: point.errors_4xx,
                errors_5xx: point.errors_5xx,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(Timeseries {
        window: interval.into(),
        step: step.seconds(),
        buckets,
    }))
}
