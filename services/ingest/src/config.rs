//! ingest's configuration: the shared service settings plus its own limits.

use std::time::Duration;

use kit::config::{ConfigError, Env, ServiceConfig};

#[derive(Debug, Clone)]
pub struct IngestConfig {
    pub service: ServiceConfig,
    pub limits: Limits,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `INGEST_MAX_BODY_BYTES`, default 64 MiB: the largest request body, after gzip is
    /// undone; larger bodies get 413.
    pub max_body_bytes: usize,
    /// `INGEST_MAX_REJECTIONS_LISTED`, default 100: rejected lines named in a reply (the
    /// count is always complete).
    pub max_rejections_listed: usize,
    /// `INGEST_IDEMPOTENCY_RETENTION_SECS`, default 86400: how long the reply to a POST with
    /// an `Idempotency-Key` is kept for its retries (at least; expired keys go in bulk).
    pub idempotency_retention: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 << 20,
            max_rejections_listed: 100,
            idempotency_retention: Duration::from_secs(86_400),
        }
    }
}

impl IngestConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let defaults = Limits::default();
        Ok(Self {
            service: ServiceConfig::from_env(env)?,
            limits: Limits {
                max_body_bytes: env.or("INGEST_MAX_BODY_BYTES", defaults.max_body_bytes)?,
                max_rejections_listed: env.or(
                    "INGEST_MAX_REJECTIONS_LISTED",
                    defaults.max_rejections_listed,
                )?,
                idempotency_retention: env.seconds_or(
                    "INGEST_IDEMPOTENCY_RETENTION_SECS",
                    defaults.idempotency_retention,
                )?,
            },
        })
    }
}
