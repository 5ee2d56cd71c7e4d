//! `/api/alerts/rules`: create, read, replace and delete rules. Bodies are validated field by
//! field, and every invalid field is named in the 422 problem's `errors`.

use actix_web::{web, HttpResponse};
use kit::ApiError;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::rule::{Comparison, RuleSpec};
use crate::storage::Rule;
use crate::Alerts;

/// A rule's definition, as POSTed or PUT. Absent fields take their defaults.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the body; handlers parse it field by field.
pub struct RuleInput {
    /// A short name, 1 to 200 characters.
    #[schema(example = "High traffic")]
    name: String,
    /// `hits` (default), `errors_5xx` or `section_hits`.
    #[schema(example = "hits")]
    metric: Option<String>,
    /// Required with `section_hits`, e.g. `/pages`.
    section: Option<String>,
    /// Seconds the average is taken over, 1..=86400 (default 120).
    #[schema(example = 120)]
    window_seconds: Option<i64>,
    /// Average hits per second, > 0 (default 10).
    #[schema(example = 10.0)]
    threshold: Option<f64>,
    /// `above` (default) or `below`.
    comparison: Option<Comparison>,
    /// An http(s) URL each event of the rule is POSTed to.
    #[schema(example = "http://hooks.internal/alerts")]
    webhook_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleList {
    pub rules: Vec<Rule>,
}

fn parse(body: &Value) -> Result<RuleSpec, ApiError> {
    RuleSpec::parse(body).map_err(|errors| ApiError::Unprocessable {
        detail: format!(
            "the rule is not valid: {}",
            errors
                .iter()
                .map(|e| format!("{} {}", e.field, e.reason))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        errors: errors
            .iter()
            .map(|e| serde_json::json!({ "field": e.field, "reason": e.reason }))
            .collect(),
    })
}

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!(
        "no rule with id {id}; GET /api/alerts/rules lists them"
    ))
}

#[utoipa::path(
    get, path = "/api/alerts/rules", tag = "alerts",
    responses(
        (status = 200, description = "Every rule", body = RuleList),
        (status = 503, description = "Database unreachable", body = kit::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_rules(alerts: web::Data<Alerts>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(RuleList {
        rules: alerts.store.list_rules().await?,
    }))
}

#[utoipa::path(
    post, path = "/api/alerts/rules", tag = "alerts",
    request_body = RuleInput,
    responses(
        (status = 201, description = "Created; it judges traffic from now on, and replays posted later", body = Rule),
        (status = 400, description = "Malformed JSON", body = kit::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No API key (when keys are configured)", body = kit::Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API key that is not accepted", body = kit::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = kit::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named in `errors`", body = kit::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = kit::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_rule(
    body: web::Json<Value>,
    alerts: web::Data<Alerts>,
) -> Result<HttpResponse, ApiError> {
    let spec = parse(&body)?;
    let rule = alerts.store.create_rule(&spec, alerts.rule_start()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/alerts/rules/{}", rule.id)))
        .json(rule))
}

#[utoipa::path(
    get, path = "/api/alerts/rules/{id}", tag = "alerts",
    params(("id" = i64, Path, description = "The rule's id")),
    responses(
        (status = 200, description = "The rule", body = Rule),
        (status = 400, description = "The id is not a number", body = kit::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule", body = kit::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = kit::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_rule(
    id: web::Path<i64>,
    alerts: web::Data<Alerts>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let rule = alerts.store.rule(id).await?.ok_or_else(|| not_found(id))?;
    Ok(HttpResponse::Ok().json(rule))
}

#[utoipa::path(
    put, path = "/api/alerts/rules/{id}", tag = "alerts",
    params(("id" = i64, Path, description = "The rule's id")),
    request_body = RuleInput,
    responses(
        (status = 200, description = "Replaced; the next evaluation uses it, the alert state carries over", body = Rule),
        (status = 400, description = "The id is not a number, or malformed JSON", body = kit::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No API key (when keys are configured)", body = kit::Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API key that is not accepted", body = kit::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule", body = kit::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = kit::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named in `errors`", body = kit::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = kit::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_rule(
    id: web::Path<i64>,
    body: web::Json<Value>,
    alerts: web::Data<Alerts>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let spec = parse(&body)?;
    let rule = alerts
        .store
        .update_rule(id, &spec)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(HttpResponse::Ok().json(rule))
}

#[utoipa::path(
    delete, path = "/api/alerts/rules/{id}", tag = "alerts",
    params(("id" = i64, Path, description = "The rule's id")),
    responses(
        (status = 204, description = "Deleted; its events stay in the history, and an active alert is closed by a recovery"),
        (status = 400, description = "The id is not a number", body = kit::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No API key (when keys are configured)", body = kit::Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API key that is not accepted", body = kit::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule", body = kit::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = kit::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_rule(
    id: web::Path<i64>,
    alerts: web::Data<Alerts>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    if alerts.store.delete_rule(id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(not_found(id))
    }
}
