//! `GET /api/logs/feed`: entries in commit order, for the read models that follow it.

use actix_web::{web, HttpResponse};
use feed::{FeedPage, FeedQuery, MAX_PAGE};
use kit::ApiError;

use crate::Ingest;

#[utoipa::path(
    get, path = "/api/logs/feed", tag = "logs",
    params(FeedQuery),
    responses(
        (status = 200, description = "Entries after `after`, in offset order", body = FeedPage),
        (status = 400, description = "Bad parameter", body = kit::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = kit::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn read_feed(
    query: kit::http::Query<FeedQuery>,
    ingest: web::Data<Ingest>,
) -> Result<HttpResponse, ApiError> {
    if query.after < 0 {
        return Err(ApiError::bad_param("after", "after must be an offset >= 0"));
    }
    let limit = query.limit.unwrap_or(1_000);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_param(
            "limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    let page = ingest.store.feed(query.after, limit).await?;
    Ok(HttpResponse::Ok().json(page))
}
