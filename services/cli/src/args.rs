//! The command line: subcommands, flags, their environment variables and the help that
//! teaches them.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

const ABOUT: &str = "Ship access logs to httpmon and watch its traffic and alerts.";

const LONG_ABOUT: &str = "\
Ship access logs to httpmon and watch its traffic and alerts.

  httpmon ship   follows an access log as it is written (like tail -F) and POSTs its lines
                 to /api/logs, exactly once, across rotation, restarts and crashes.
  httpmon watch  shows the busiest sections of the last 10 seconds, a traffic summary, and
                 every alert and recovery as it happens.";

/// Printed under every command's help.
macro_rules! environment_and_exit_codes {
    () => {
        "\
Environment:
  HTTPMON_URL      httpmon's base URL (ingest, or the gateway in front of the services)
  HTTPMON_API_KEY  sent as `Authorization: Bearer <key>`

Exit codes:
  0  done (`ship --once` shipped everything, `watch --json` printed its document)
  1  runtime or server error (a batch refused by the server, a file that cannot be read)
  2  usage error (unknown flag, bad value, missing --url)"
    };
}

#[derive(Debug, Parser)]
#[command(name = "httpmon", version, about = ABOUT, long_about = LONG_ABOUT, after_help = environment_and_exit_codes!())]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Follow an access log and ship its lines to /api/logs, exactly once.
    #[command(after_long_help = SHIP_HELP)]
    Ship(ShipArgs),
    /// Show the busiest sections every few seconds, with alerts as they happen.
    #[command(after_long_help = WATCH_HELP)]
    Watch(WatchArgs),
}

const SHIP_HELP: &str = concat!(
    "\
Examples:
  # Follow nginx's log from its current end, as a service would:
  httpmon ship /var/log/nginx/access.log --url http://httpmon.internal:8080

  # Replay a whole file once, then exit 0:
  httpmon ship --once --from-start old-access.log --url http://localhost:8080

  # Small, frequent batches:
  HTTPMON_URL=http://localhost:8080 httpmon ship access.log --batch-lines 500 --flush-interval 200ms

How it follows the file:
  Only whole lines are sent; a last line still being written waits for its newline (except at
  the end of a --once run). When the file is renamed away (logrotate's default), the old file
  is read to its end, then the new file at the same path from its start. When the file is
  truncated (logrotate's copytruncate) or rewritten from the start, its new content is read
  from offset 0.

Exactly once:
  The state file holds the file's identity (device, inode, a hash of its first bytes) and the
  offset ingest has acknowledged. Before a batch is sent, its byte range and its
  Idempotency-Key are recorded there; after ingest's 2xx, the new offset. A shipper restarted
  after a crash resends exactly the recorded batch with the same key, and ingest answers a
  batch it already stored without storing it again. The state file is replaced atomically
  (written beside, fsynced, renamed).

  The default state file is $XDG_STATE_HOME/httpmon/ship/<name>-<hash of the file's path>.json
  ($XDG_STATE_HOME defaults to ~/.local/state), so one log directory needs no write access
  and each followed file has its own.

Failures:
  While ingest or the network is down (connection errors, timeouts, 408, 429, 5xx) the batch
  is retried with exponential backoff and jitter; reading stops until it is delivered, so the
  shipper holds at most one batch in memory. Any other 4xx (a body ingest refuses) stops the
  shipper with exit code 1 and prints the server's problem document.

",
    environment_and_exit_codes!()
);

const WATCH_HELP: &str = concat!(
    "\
Examples:
  httpmon watch --url http://localhost:8080
  httpmon watch --url http://localhost:8080 --interval 2s
  httpmon watch --json | jq .stats.top_sections

Every --interval the screen shows the sections with most hits over the last 10 seconds and a
summary (hits, hits/s, status classes, top client), from GET /api/stats?window=10s. Each alert
and recovery from GET /api/alerts is printed once, oldest first, and stays listed under the
statistics.

",
    environment_and_exit_codes!()
);

/// Where httpmon is, and how to authenticate.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// httpmon's base URL, e.g. http://localhost:8080.
    #[arg(long, env = "HTTPMON_URL", value_parser = parse_base_url)]
    pub url: reqwest::Url,
    /// Sent as `Authorization: Bearer <key>`.
    #[arg(long, env = "HTTPMON_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ShipArgs {
    /// The access log to follow.
    pub file: PathBuf,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Where the acknowledged position is kept [default: see below].
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// On the first run (no state yet), start at the beginning of the file rather than its end.
    #[arg(long)]
    pub from_start: bool,
    /// Ship what the file holds now, then exit 0.
    #[arg(long)]
    pub once: bool,
    /// Most lines per request.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_lines: u64,
    /// Most bytes per request (before gzip); a longer single line is sent alone.
    #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_bytes: u64,
    /// Send a batch that is not full once its first line has waited this long.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub flush_interval: Duration,
    /// How often the file is checked for new lines, rotation and truncation.
    #[arg(long, default_value = "100ms", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// The longest wait between two attempts at a batch.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub max_backoff: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Time between two refreshes.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Print one JSON document (stats of the last 10 s and active alerts) and exit.
    #[arg(long)]
    pub json: bool,
}

fn parse_base_url(value: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(value).map_err(|e| format!("{value:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{value:?} must be an http:// or https:// URL"));
    }
    Ok(url)
}

/// `250ms`, `2s`, `1.5s`, `5m`, `1h`; a bare number is seconds.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{value:?} is not a duration such as 500ms, 2s or 1m"))?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {value:?}: use ms, s, m or h"
            ))
        }
    };
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!("{value:?} must be longer than zero"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("3 days").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn urls_must_be_http() {
        assert!(parse_base_url("http://localhost:8080").is_ok());
        assert!(parse_base_url("ftp://x").is_err());
        assert!(parse_base_url("localhost").is_err());
    }
}
