//! ingest's HTTP surface: `/api/logs` (write and list), `/api/logs/feed`, and its docs.

mod feed;
mod logs;

use actix_web::web;
use kit::docs::ApiDocument;
use utoipa::OpenApi;

use crate::Ingest;

#[derive(OpenApi)]
#[openapi(
    info(title = "httpmon ingest", description = "Access-log lines in; entries and their change feed out."),
    paths(logs::post_logs, logs::list_logs, feed::read_feed),
    components(schemas(kit::Problem)),
    tags((name = "logs", description = "Access-log entries"))
)]
struct ApiDoc;

pub fn document() -> ApiDocument {
    ApiDocument {
        name: "logs",
        openapi_path: "/api/logs/openapi.json",
        openapi: ApiDoc::openapi(),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig, ingest: Ingest) {
    cfg.app_data(web::Data::new(ingest))
        .service(
            kit::http::resource("/api/logs", "GET, POST")
                .route(web::post().to(logs::post_logs))
                .route(web::get().to(logs::list_logs)),
        )
        .service(
            kit::http::resource("/api/logs/feed", "GET").route(web::get().to(feed::read_feed)),
        );
}
