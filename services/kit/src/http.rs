//! What every service's `App` shares: request tracing with a request id, problem bodies for
//! malformed query strings and JSON bodies, and the server's shutdown behaviour.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{error, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use tracing_actix_web::TracingLogger;

use crate::access::Access;
use crate::problem::ApiError;

/// Logs one span per request, carrying a generated `request_id`, its route, status and
/// latency; every log line written while handling the request carries them too.
pub fn middleware() -> TracingLogger<tracing_actix_web::DefaultRootSpanBuilder> {
    TracingLogger::default()
}

/// Extractor settings that answer malformed input with a problem body naming the culprit.
pub fn configure_extractors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(
            web::JsonConfig::default()
                .limit(1 << 20)
                .error_handler(json_error),
        )
        .app_data(
            web::PathConfig::default()
                .error_handler(|e, _| ApiError::bad_param("path", e.to_string()).into()),
        );
}

fn query_error(e: error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest {
        detail: format!("bad query string: {e}"),
        param: None,
    }
    .into()
}

/// A query string extractor whose errors name the parameter at fault (`web::Query` cannot:
/// its error only says "invalid digit found in string").
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            parse_query(request.query_string())
                .map(Query)
                .map_err(Into::into),
        )
    }
}

/// Parses a query string into `T`, naming the offending parameter when it fails.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(pairs).map_err(|e| {
        let param = e.path().to_string();
        let cause = e.into_inner();
        if param.is_empty() || param == "." {
            ApiError::BadRequest {
                detail: format!("bad query string: {cause}"),
                param: None,
            }
        } else {
            ApiError::BadRequest {
                detail: format!("{param}: {cause}"),
                param: Some(param),
            }
        }
    })
}

fn json_error(e: error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    match e {
        error::JsonPayloadError::OverflowKnownLength { .. }
        | error::JsonPayloadError::Overflow { .. } => {
            ApiError::PayloadTooLarge(e.to_string()).into()
        }
        error::JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("expected Content-Type: application/json".into()).into()
        }
        other => ApiError::BadRequest {
            detail: format!("bad JSON body: {other}"),
            param: None,
        }
        .into(),
    }
}

/// A path of the API whose routes are the methods in `allow` (`"GET, POST"`): any other
/// method is answered 405 with that `Allow` header and a problem body (a bare `.route()`
/// would answer 404, as if the path did not exist).
pub fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move |request: HttpRequest| async move {
        let refusal = ApiError::MethodNotAllowed(format!(
            "{} is not supported on {}; use {allow}",
            request.method(),
            request.path()
        ));
        let mut response = actix_web::ResponseError::error_response(&refusal);
        response.headers_mut().insert(
            actix_web::http::header::ALLOW,
            actix_web::http::header::HeaderValue::from_static(allow),
        );
        response
    }))
}

/// Seconds in-flight requests get to finish after SIGTERM: under ECS' default 30 s stop
/// timeout, leaving time for background tasks to commit.
pub const SHUTDOWN_TIMEOUT_SECS: u64 = 20;

/// The HTTP server every service runs: request tracing, API keys as `access` says, problem
/// bodies for bad input, `/health` and `/health/ready` on `pool`, then the service's own
/// routes from `mount`.
pub fn serve<F>(
    listener: std::net::TcpListener,
    pool: sqlx::PgPool,
    access: Access,
    mount: F,
) -> std::io::Result<actix_web::dev::Server>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    access.announce();
    let access = web::Data::new(access);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            // The last wrap runs first: requests refused for their key are traced too.
            .wrap(actix_web::middleware::from_fn(crate::access::require_key))
            .wrap(middleware())
            .app_data(access.clone())
            .app_data(web::Data::new(pool.clone()))
            .configure(configure_extractors)
            .configure(crate::health::configure)
            .configure(mount.clone())
    })
    .listen(listener)?
    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
    .run();
    Ok(server)
}
