//! Logging: structured JSON lines on stdout (what CloudWatch Logs ingests), or a compact
//! human format with `LOG_FORMAT=pretty`. The level comes from `RUST_LOG` (default `info`).

use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber once; later calls (tests build many apps) are no-ops.
pub fn init(service: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let pretty = std::env::var("LOG_FORMAT").is_ok_and(|f| f == "pretty");
    let installed = if pretty {
        fmt().with_env_filter(filter).compact().try_init()
    } else {
        fmt()
            .with_env_filter(filter)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    };
    if installed.is_ok() {
        tracing::info!(service, "telemetry ready");
    }
}
