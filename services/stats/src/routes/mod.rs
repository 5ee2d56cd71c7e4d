//! stats' HTTP surface: `/api/stats`, `/api/stats/timeseries`, and their docs.

mod stats;
mod timeseries;
mod views;

use actix_web::web;
use kit::docs::ApiDocument;
use kit::ApiError;
use utoipa::OpenApi;

use crate::domain::window::ParamError;
use crate::Stats;

pub use views::{
    ClientHits, FeedView, SectionHits, SeriesBucket, StatsReport, StatusCounts, Timeseries,
    WindowView,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "httpmon stats",
        description = "Traffic statistics over any window of event time, from rollups of ingest's feed."
    ),
    paths(stats::get_stats, timeseries::get_timeseries),
    components(schemas(kit::Problem)),
    tags((name = "stats", description = "Traffic statistics"))
)]
struct ApiDoc;

pub fn document() -> ApiDocument {
    ApiDocument {
        name: "stats",
        openapi_path: "/api/stats/openapi.json",
        openapi: ApiDoc::openapi(),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig, stats: Stats) {
    cfg.app_data(web::Data::new(stats))
        .service(kit::http::resource("/api/stats", "GET").route(web::get().to(stats::get_stats)))
        .service(
            kit::http::resource("/api/stats/timeseries", "GET")
                .route(web::get().to(timeseries::get_timeseries)),
        );
}

fn bad_param(e: ParamError) -> ApiError {
    ApiError::bad_param(e.param, e.detail)
}
