//! alerts' HTTP surface: `/api/alerts` (active alerts and history), `/api/alerts/rules`
//! (CRUD), and its docs.

mod alerts;
mod rules;

use actix_web::web;
use kit::docs::ApiDocument;
use utoipa::OpenApi;

use crate::Alerts;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "httpmon alerts",
        description = "Rules on the traffic's average hits per second, the alerts they raise and their history."
    ),
    paths(
        alerts::list_alerts,
        rules::list_rules, rules::create_rule, rules::get_rule, rules::update_rule, rules::delete_rule
    ),
    components(schemas(
        kit::Problem, alerts::AlertsView, crate::storage::ActiveAlert, crate::storage::AlertEvent,
        crate::storage::Delivery, crate::storage::Rule, rules::RuleInput, rules::RuleList,
        crate::domain::rule::Comparison, feed::consumer::ConsumerStatus, feed::consumer::Position
    )),
    tags((name = "alerts", description = "Alerts and their rules"))
)]
struct ApiDoc;

pub fn document() -> ApiDocument {
    ApiDocument {
        name: "alerts",
        openapi_path: "/api/alerts/openapi.json",
        openapi: ApiDoc::openapi(),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig, alerts: Alerts) {
    cfg.app_data(web::Data::new(alerts))
        .service(
            kit::http::resource("/api/alerts", "GET").route(web::get().to(alerts::list_alerts)),
        )
        .service(
            kit::http::resource("/api/alerts/rules", "GET, POST")
                .route(web::get().to(rules::list_rules))
                .route(web::post().to(rules::create_rule)),
        )
        .service(
            kit::http::resource("/api/alerts/rules/{id}", "GET, PUT, DELETE")
                .route(web::get().to(rules::get_rule))
                .route(web::put().to(rules::update_rule))
                .route(web::delete().to(rules::delete_rule)),
        );
}
