//! `POST /api/logs` stores access-log lines; `GET /api/logs` lists stored entries.

use std::io::Read;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use kit::ApiError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::batch::{self, Batch, RejectedLine};
use crate::storage::{KeyedRequest, ListFilter, Once, StoredBatch, StoredEntry, StoredReply};
use crate::Ingest;

/// The answer to a POST: every line is accounted for.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IngestReport {
    /// Lines stored (committed) by this request.
    pub accepted: usize,
    /// Lines that could not be used.
    pub rejected: usize,
    /// Blank lines, `#` comments and CSV header lines.
    pub skipped: usize,
    /// Feed offsets given to the accepted lines, in order.
    pub first_offset: Option<i64>,
    pub last_offset: Option<i64>,
    /// The first rejected lines with their reasons (see `rejected` for the total).
    #[schema(value_type = Vec<Object>)]
    pub rejected_lines: Vec<RejectedLineView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RejectedLineView {
    pub line: usize,
    pub reason: String,
}

impl From<RejectedLine> for RejectedLineView {
    fn from(r: RejectedLine) -> Self {
        Self {
            line: r.line,
            reason: r.reason,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum BodyFormat {
    /// One log line per line: `text/plain`, `application/x-ndjson`.
    Lines,
    /// A JSON array of log lines or entry objects.
    JsonArray,
}

/// The header that makes a POST safe to retry.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Set to `true` on a reply answered from a previous request with the same key.
pub const IDEMPOTENT_REPLAYED: &str = "Idempotent-Replayed";

#[utoipa::path(
    post, path = "/api/logs", tag = "logs",
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "Makes the POST safe to retry: 1 to 200 printable ASCII characters, unique per \
                        request body. A retry with the same key and body is not stored again and gets \
                        the first reply (status and body, with `Idempotent-Replayed: true`), waiting for \
                        the first request if it is still in flight. The same key with a different body \
                        gets 422. Keys are kept `INGEST_IDEMPOTENCY_RETENTION_SECS` (default one day)."),
    ),
    request_body(
        description = "One access-log line per line (Common, Combined, CSV or JSON, detected per line); \
                       or a JSON array of lines or entry objects. `Content-Encoding: gzip` is accepted.",
        content(
            (String = "text/plain", example = "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326"),
            (Vec<String> = "application/json"),
        )
    ),
    responses(
        (status = 200, description = "The accepted lines are committed; rejected ones are listed. \
                                      A replay of an earlier request with the same `Idempotency-Key` \
                                      carries `Idempotent-Replayed: true`", body = IngestReport),
        (status = 400, description = "Empty body, malformed JSON/gzip, or an invalid `Idempotency-Key`", body = kit::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No API key (when keys are configured)", body = kit::Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API key that is not accepted", body = kit::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than the limit", body = kit::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported Content-Type or Content-Encoding", body = kit::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No line could be used (`errors` names each), or the `Idempotency-Key` \
                                      was already used for a different body", body = kit::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable; nothing was stored", body = kit::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post_logs(
    request: HttpRequest,
    payload: web::Payload,
    ingest: web::Data<Ingest>,
) -> Result<HttpResponse, ApiError> {
    let format = body_format(&request)?;
    let gzip = is_gzip(&request)?;
    let idempotency_key = idempotency_key(&request)?;
    let limit = ingest.limits.max_body_bytes;
    let raw = read_body(payload, limit).await?;
    let body: web::Bytes = if gzip {
        gunzip(&raw, limit)?.into()
    } else {
        raw.freeze()
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest {
            detail: "the body holds no log lines".into(),
            param: None,
        });
    }
    // Hashed after gzip is undone: the same lines are the same request however compressed.
    let keyed = idempotency_key.as_deref().map(|key| KeyedRequest {
        key,
        request_hash: Sha256::digest(&body).into(),
    });
    if let Some(keyed) = keyed {
        if let Some(stored) = ingest.store.stored_reply(keyed.key).await? {
            return replay(keyed, stored);
        }
    }

    let max_listed = ingest.limits.max_rejections_listed;
    let json_lines;
    let batch = match format {
        BodyFormat::Lines => Batch::parse(batch::text_lines(&body), max_listed),
        BodyFormat::JsonArray => {
            json_lines = batch::json_lines(&body).map_err(|e| ApiError::BadRequest {
                detail: format!("expected a JSON array of log lines or entry objects: {e}"),
                param: None,
            })?;
            Batch::parse(json_lines.iter().map(|l| l.as_ref()), max_listed)
        }
    };

    if batch.entries.is_empty() && batch.rejected > 0 {
        return Err(ApiError::Unprocessable {
            detail: format!(
                "none of the {} lines could be used; nothing was stored",
                batch.rejected
            ),
            errors: batch
                .rejected_lines
                .into_iter()
                .map(|r| serde_json::json!({ "line": r.line, "reason": r.reason }))
                .collect(),
        });
    }
    let report = |stored: Option<StoredBatch>| IngestReport {
        accepted: batch.entries.len(),
        rejected: batch.rejected,
        skipped: batch.skipped,
        first_offset: stored.map(|s| s.first_offset),
        last_offset: stored.map(|s| s.last_offset),
        rejected_lines: batch
            .rejected_lines
            .iter()
            .cloned()
            .map(Into::into)
            .collect(),
    };
    let Some(keyed) = keyed else {
        let stored = if batch.entries.is_empty() {
            None
        } else {
            Some(ingest.store.store(&batch.entries).await?)
        };
        return Ok(HttpResponse::Ok().json(report(stored)));
    };
    let outcome = ingest
        .store
        .store_once(
            &batch.entries,
            keyed,
            ingest.limits.idempotency_retention,
            |stored| (200, serde_json::json!(report(stored))),
        )
        .await?;
    match outcome {
        Once::Stored(stored) => Ok(HttpResponse::Ok().json(stored.reply)),
        Once::AlreadyStored(stored) => replay(keyed, stored),
    }
}

/// The header's value, if any: 1 to 200 printable ASCII characters.
fn idempotency_key(request: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = request.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > 200 || !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(ApiError::bad_param(
            IDEMPOTENCY_KEY,
            "the Idempotency-Key header must be 1 to 200 printable ASCII characters",
        ));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// Answers a retry with the reply committed under its key, or 422 when the key came with
/// another body.
fn replay(keyed: KeyedRequest<'_>, stored: StoredReply) -> Result<HttpResponse, ApiError> {
    if stored.request_hash != keyed.request_hash {
        return Err(ApiError::Unprocessable {
            detail: format!(
                "Idempotency-Key {:?} was already used for a different request; send a new key \
                 with a new body",
                keyed.key
            ),
            errors: Vec::new(),
        });
    }
    let status = actix_web::http::StatusCode::from_u16(stored.status)
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(HttpResponse::build(status)
        .insert_header((IDEMPOTENT_REPLAYED, "true"))
        .json(stored.reply))
}

fn body_format(request: &HttpRequest) -> Result<BodyFormat, ApiError> {
    let unsupported = |found: &str| {
        ApiError::UnsupportedMediaType(format!(
            "Content-Type {found} is not supported: send text/plain (one log line per line), \
             application/x-ndjson, or application/json (an array)"
        ))
    };
    let value = request
        .headers()
        .get(header::CONTENT_TYPE)
        .ok_or_else(|| unsupported("(none)"))?
        .to_str()
        .map_err(|_| unsupported("(unreadable)"))?;
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "text/plain" | "application/x-ndjson" => Ok(BodyFormat::Lines),
        "application/json" => Ok(BodyFormat::JsonArray),
        _ => Err(unsupported(value)),
    }
}

fn is_gzip(request: &HttpRequest) -> Result<bool, ApiError> {
    match request
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str())
    {
        None => Ok(false),
        Some(Ok(v)) if v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip") => {
            Ok(true)
        }
        Some(Ok(v)) if v.eq_ignore_ascii_case("identity") => Ok(false),
        Some(v) => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Encoding {} is not supported: send gzip or no encoding",
            v.unwrap_or("(unreadable)")
        ))),
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the body is larger than {limit} bytes (INGEST_MAX_BODY_BYTES); split it into smaller requests"
    ))
}

async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::BytesMut, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest {
            detail: format!("could not read the body: {e}"),
            param: None,
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Undoes gzip, refusing to grow past `limit` (a small bomb must not exhaust memory).
fn gunzip(raw: &[u8], limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::with_capacity(raw.len().saturating_mul(4).min(limit));
    flate2::read::MultiGzDecoder::new(raw)
        .take(limit as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| ApiError::BadRequest {
            detail: format!("the body is not valid gzip: {e}"),
            param: None,
        })?;
    if body.len() > limit {
        return Err(too_large(limit));
    }
    Ok(body)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Entries at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<DateTime<Utc>>,
    /// Entries before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<DateTime<Utc>>,
    /// Only this section, e.g. `/pages`.
    pub section: Option<String>,
    /// Only this client address or host name.
    pub client: Option<String>,
    /// One status (`404`) or a class (`5xx`).
    pub status: Option<String>,
    /// Page size, 1..=1000 (default 100).
    pub limit: Option<i64>,
    /// Continue a listing: entries with offsets below this (the previous page's `next_before`).
    pub before: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryPage {
    /// Newest first.
    pub entries: Vec<StoredEntry>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<i64>,
}

#[utoipa::path(
    get, path = "/api/logs", tag = "logs",
    params(ListQuery),
    responses(
        (status = 200, description = "The newest matching entries first", body = EntryPage),
        (status = 400, description = "Bad parameter", body = kit::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = kit::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_logs(
    query: kit::http::Query<ListQuery>,
    ingest: web::Data<Ingest>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_param(
            "limit",
            "limit must be between 1 and 1000",
        ));
    }
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from >= to {
            return Err(ApiError::bad_param("to", "to must be after from"));
        }
    }
    let status = match query.status.as_deref() {
        None => (0, 999),
        Some(s) => status_range(s).ok_or_else(|| {
            ApiError::bad_param(
                "status",
                format!("status {s:?} is neither a status (404) nor a class (4xx)"),
            )
        })?,
    };
    let filter = ListFilter {
        before: query.before,
        from: query.from,
        to: query.to,
        section: query.section,
        client: query.client,
        status,
        limit,
    };
    let entries = ingest.store.list(&filter).await?;
    let next_before = if entries.len() as i64 == limit {
        entries.last().map(|e| e.offset)
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(EntryPage {
        entries,
        next_before,
    }))
}

/// `404` -> 404..=404, `4xx` -> 400..=499.
fn status_range(s: &str) -> Option<(u16, u16)> {
    let b = s.as_bytes();
    if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && b[1..].eq_ignore_ascii_case(b"xx") {
        let class = u16::from(b[0] - b'0') * 100;
        return Some((class, class + 99));
    }
    let status: u16 = s.parse().ok()?;
    (100..=599).contains(&status).then_some((status, status))
}

#[cfg(test)]
mod tests {
    use super::status_range;

    #[test]
    fn statuses_and_classes() {
        assert_eq!(status_range("404"), Some((404, 404)));
        assert_eq!(status_range("5xx"), Some((500, 599)));
        assert_eq!(status_range("5XX"), Some((500, 599)));
        assert_eq!(status_range("6xx"), None);
        assert_eq!(status_range("42"), None);
        assert_eq!(status_range("abc"), None);
    }
}
