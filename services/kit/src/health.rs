//! `GET /health` (the process is alive) and `GET /health/ready` (its database answers), the
//! two probes the load balancer, ECS and compose use.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde::Serialize;
use sqlx::PgPool;

#[derive(Serialize)]
struct Health {
    status: &'static str,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(live))
        .route("/health/ready", web::get().to(ready));
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

async fn ready(pool: web::Data<PgPool>) -> HttpResponse {
    if crate::db::is_ready(&pool, Duration::from_secs(1)).await {
        HttpResponse::Ok().json(Health { status: "ready" })
    } else {
        HttpResponse::ServiceUnavailable().json(Health {
            status: "database unreachable",
        })
    }
}
