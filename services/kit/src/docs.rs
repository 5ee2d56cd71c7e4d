//! Serving a service's OpenAPI document and its Swagger UI, both under the service's own
//! path prefix (`/api/logs/openapi.json`, `/api/logs/docs/`) so the load balancer's path
//! rule for the service reaches them. Swagger UI is compiled in: the page works offline.

use actix_web::{web, HttpResponse};
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi, Url};

/// One service's API document and where it lives.
pub struct ApiDocument {
    /// Shown in the docs page's selector, e.g. `logs`.
    pub name: &'static str,
    /// Where the JSON document is served, e.g. `/api/logs/openapi.json`.
    pub openapi_path: &'static str,
    pub openapi: OpenApi,
}

/// Serves `document` at its `openapi_path` and a docs page for it at `docs_path`.
pub fn configure(cfg: &mut web::ServiceConfig, docs_path: &'static str, document: ApiDocument) {
    let url = Url::new(document.name, document.openapi_path);
    cfg.service(SwaggerUi::new(format!("{docs_path}/{{_:.*}}")).url(url, document.openapi));
    redirect_to_slash(cfg, docs_path);
}

/// One docs page at `docs_path` with a selector over documents served elsewhere, given as
/// `(name, openapi_path)` (the monolith's and the gateway's `/docs`).
pub fn selector(
    cfg: &mut web::ServiceConfig,
    docs_path: &'static str,
    documents: &[(&'static str, &'static str)],
) {
    let urls = documents.iter().map(|&(name, path)| Url::new(name, path));
    cfg.service(SwaggerUi::new(format!("{docs_path}/{{_:.*}}")).config(Config::new(urls)));
    redirect_to_slash(cfg, docs_path);
}

/// `/x/docs` -> `/x/docs/`: Swagger UI loads its assets relative to the page.
fn redirect_to_slash(cfg: &mut web::ServiceConfig, path: &'static str) {
    cfg.route(
        path,
        web::get().to(move || async move {
            HttpResponse::MovedPermanently()
                .insert_header(("Location", format!("{path}/")))
                .finish()
        }),
    );
}
