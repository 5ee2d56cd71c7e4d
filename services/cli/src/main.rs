//! `httpmon`: the command line for httpmon. `ship` follows an access log and sends its lines
//! to ingest exactly once; `watch` is a live console of traffic and alerts.

mod args;
mod ship;
mod watch;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::args::{Cli, Command, ServerArgs};

/// Why a command stopped; decides the exit code scripts see.
#[derive(Debug)]
pub enum ExitError {
    /// Exit code 2: the command line or the environment is wrong.
    Usage(String),
    /// Exit code 1: something failed at run time, here or on the server.
    Runtime(String),
}

impl From<std::io::Error> for ExitError {
    fn from(e: std::io::Error) -> Self {
        Self::Runtime(e.to_string())
    }
}

impl From<anyhow::Error> for ExitError {
    fn from(e: anyhow::Error) -> Self {
        Self::Runtime(format!("{e:#}"))
    }
}

fn main() -> ExitCode {
    // Usage errors exit with 2 here, --help and --version with 0.
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Ship(args) => {
                let client = http_client(&args.server)?;
                ship::run(args, client).await
            }
            Command::Watch(args) => {
                let client = http_client(&args.server)?;
                watch::run(args, client).await
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(ExitError::Runtime(message)) => {
            eprintln!("httpmon: {message}");
            ExitCode::from(1)
        }
        Err(ExitError::Usage(message)) => {
            eprintln!("httpmon: {message}");
            ExitCode::from(2)
        }
    }
}

fn http_client(server: &ServerArgs) -> Result<reqwest::Client, ExitError> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(key) = &server.api_key {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))
            .map_err(|_| ExitError::Usage("the API key must be printable ASCII".into()))?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .user_agent(concat!("httpmon/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| ExitError::Runtime(format!("cannot set up HTTP: {e}")))
}

/// `base` joined with an absolute API path, keeping any prefix `base` has
/// (`http://gw/httpmon` + `api/logs` = `http://gw/httpmon/api/logs`).
pub fn endpoint(base: &reqwest::Url, path: &str) -> reqwest::Url {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let with_slash = format!("{}/", base.path());
        base.set_path(&with_slash);
    }
    base.join(path.trim_start_matches('/'))
        .expect("API paths are relative URLs")
}

#[cfg(test)]
mod tests {
    use super::endpoint;

    #[test]
    fn endpoints_keep_the_base_prefix() {
        let join = |base: &str, path: &str| endpoint(&base.parse().unwrap(), path).to_string();
        assert_eq!(join("http://h:8080", "/api/logs"), "http://h:8080/api/logs");
        assert_eq!(join("http://h/x", "api/logs"), "http://h/x/api/logs");
        assert_eq!(
            join("http://h/x/", "/api/stats?window=10s"),
            "http://h/x/api/stats?window=10s"
        );
    }
}
