//! The harness: a real ingest (or the monolith) on a real port against a fresh database, the
//! real `httpmon` binary as a child process, and access logs made of unique lines.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use ingest::config::IngestConfig;
use kit::config::Env;
use kit::testing::TestDatabase;

pub const BIN: &str = env!("CARGO_BIN_EXE_httpmon");

/// A standalone ingest that can be stopped and started again on the same port.
pub struct IngestServer {
    pub db: TestDatabase,
    database_url: String,
    /// More settings, e.g. `HTTPMON_API_KEYS`.
    extra_env: Vec<(String, String)>,
    pub port: u16,
    pub url: String,
    handle: Option<ServerHandle>,
}

impl IngestServer {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    pub async fn start_with(extra_env: &[(&str, &str)]) -> Self {
        let db = TestDatabase::create().await;
        let database_url = db.service_role("ingest").await;
        let mut server = Self {
            db,
            database_url,
            extra_env: extra_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            port: 0,
            url: String::new(),
            handle: None,
        };
        server.restart().await;
        server
    }

    /// Stops serving, as SIGTERM would: the port refuses connections until `restart`.
    pub async fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.stop(false).await;
        }
    }

    /// Starts a new ingest on the same port and database (port 0 the first time).
    pub async fn restart(&mut self) {
        let port = self.port.to_string();
        let env = Env::from_pairs(
            [
                ("DATABASE_URL", self.database_url.as_str()),
                ("PORT", port.as_str()),
                ("HOST", "127.0.0.1"),
            ]
            .into_iter()
            .chain(self.extra_env.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        );
        let config = IngestConfig::from_env(&env).expect("test config");
        let app = ingest::Application::build(config)
            .await
            .expect("build ingest");
        self.port = app.port();
        self.url = format!("http://127.0.0.1:{}", self.port);
        self.handle = Some(app.handle());
        tokio::spawn(app.run_until_stopped());
    }

    /// How many entries are stored per path.
    pub async fn stored_paths(&self) -> HashMap<String, i64> {
        stored_paths(&self.db).await
    }

    /// Waits until `expected` distinct paths are stored (or the deadline passes), then
    /// returns the counts per path.
    pub async fn wait_for_paths(&self, expected: usize) -> HashMap<String, i64> {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let stored = self.stored_paths().await;
            if stored.len() >= expected || Instant::now() > deadline {
                return stored;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub async fn stored_paths(db: &TestDatabase) -> HashMap<String, i64> {
    let mut admin = db.admin_connection().await;
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT path, count(*) FROM ingest.entries GROUP BY path")
            .fetch_all(&mut admin)
            .await
            .expect("count entries per path");
    rows.into_iter().collect()
}

/// Every line numbered `0..lines` stored exactly once, and nothing else.
pub fn assert_exactly_once(stored: &HashMap<String, i64>, lines: usize) {
    let missing: Vec<usize> = (0..lines)
        .filter(|i| !stored.contains_key(&line_path(*i)))
        .collect();
    let doubled: Vec<(&String, &i64)> = stored.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        missing.is_empty() && doubled.is_empty() && stored.len() == lines,
        "{} lines written, {} distinct stored; missing {missing:?}; stored more than once {doubled:?}",
        lines,
        stored.len()
    );
}

pub fn line_path(number: usize) -> String {
    format!("/shipped/{number}")
}

/// A Combined log line, unique by its number, stamped with the current time.
pub fn access_line(path: &str) -> String {
    let now = chrono::Utc::now().format("%d/%b/%Y:%H:%M:%S +0000");
    format!(r#"10.0.0.7 - - [{now}] "GET {path} HTTP/1.1" 200 512 "-" "httpmon-test""#)
}

/// An access log in a directory of its own, written line by line like a web server would.
pub struct AccessLog {
    pub dir: PathBuf,
    pub path: PathBuf,
    pub written: usize,
}

impl AccessLog {
    pub fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "httpmon-cli-{test}-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("access.log");
        File::create(&path).unwrap();
        Self {
            dir,
            path,
            written: 0,
        }
    }

    /// Appends the next `n` numbered lines to `file` (the log itself unless told otherwise),
    /// each in one write, as a web server does.
    pub fn append_to(&mut self, file: &Path, n: usize) {
        let mut out = OpenOptions::new().append(true).open(file).unwrap();
        for _ in 0..n {
            let line = format!("{}\n", access_line(&line_path(self.written)));
            out.write_all(line.as_bytes()).unwrap();
            self.written += 1;
        }
    }

    pub fn append(&mut self, n: usize) {
        let path = self.path.clone();
        self.append_to(&path, n);
    }
}

impl Drop for AccessLog {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A running `httpmon ship`, killed when dropped.
pub struct Shipper(pub Child);

impl Shipper {
    pub fn follow(log: &AccessLog, url: &str) -> Self {
        Self(
            ship_command(&log.path, url, &[])
                .spawn()
                .expect("start httpmon ship"),
        )
    }

    /// SIGKILL: no chance to tidy up.
    pub fn kill(mut self) {
        self.0.kill().expect("SIGKILL the shipper");
        self.0.wait().expect("reap the shipper");
    }

    pub fn assert_running(&mut self) {
        if let Some(status) = self.0.try_wait().unwrap() {
            panic!("httpmon ship exited early: {status}");
        }
    }
}

impl Drop for Shipper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `httpmon ship` on the log at `path` with small, frequent batches, so a test sees many of
/// them; its state file sits beside the log.
pub fn ship_command(path: &Path, url: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("ship")
        .arg(path)
        .args(["--url", url, "--from-start", "--batch-lines", "25"])
        .args(["--flush-interval", "50ms", "--poll-interval", "20ms"])
        .args(["--max-backoff", "500ms"])
        .arg("--state")
        .arg(path.with_file_name("ship-state.json"))
        .args(extra)
        .env_remove("HTTPMON_URL")
        .env_remove("HTTPMON_API_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    command
}

/// Waits for a child to exit, without blocking the runtime the servers run on.
pub async fn wait_for_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the child did not exit in {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The monolith (ingest, stats and alerts on one port) with its consumers polling fast.
pub struct Monolith {
    /// Kept for the test's duration.
    _db: TestDatabase,
    pub url: String,
    pub client: reqwest::Client,
}

impl Monolith {
    pub async fn start() -> Self {
        let db = TestDatabase::create().await;
        for schema in ["ingest", "stats", "alerts"] {
            db.service_role(schema).await;
        }
        let database_url = db.monolith_role().await;
        let env = Env::from_pairs([
            ("DATABASE_URL", database_url.as_str()),
            ("PORT", "0"),
            ("HOST", "127.0.0.1"),
            ("FEED_POLL_INTERVAL_SECS", "0.05"),
            ("ALERTS_TICK_INTERVAL_SECS", "0.1"),
            ("ALERTS_LATENESS_SECS", "1"),
        ]);
        let config = monolith::MonolithConfig::from_env(&env).expect("monolith config");
        let app = monolith::Application::build(config)
            .await
            .expect("build monolith");
        let url = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        Self {
            _db: db,
            url,
            client: reqwest::Client::new(),
        }
    }

    /// POSTs one line per path, stamped with the current time.
    pub async fn post_lines(&self, paths: &[String]) {
        let body: Vec<String> = paths.iter().map(|p| access_line(p)).collect();
        let response = self
            .client
            .post(format!("{}/api/logs", self.url))
            .header("Content-Type", "text/plain")
            .body(body.join("\n"))
            .send()
            .await
            .expect("POST /api/logs");
        assert_eq!(response.status(), 200);
    }
}
