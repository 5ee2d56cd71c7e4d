//! Starting ingest and stats for a test, posting lines, and waiting for stats to catch up.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use kit::config::Env;
use kit::testing::TestDatabase;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// One ingest and one stats on a fresh database.
pub struct TestSetup {
    pub db: TestDatabase,
    pub client: reqwest::Client,
    pub ingest_db_url: String,
    pub stats_db_url: String,
    /// Where ingest listens (what INGEST_URL points at, unless a test puts a proxy between).
    pub ingest: String,
    pub stats: StatsProcess,
}

pub async fn spawn() -> TestSetup {
    spawn_with(&[]).await
}

/// Keeps every rollup for years, so tests of exact windows over old (replayed) times are not
/// affected by retention; tests of retention pass their own settings after these.
const KEEP_EVERYTHING: [(&str, &str); 3] = [
    ("STATS_SECOND_RETENTION_SECS", "1000000000"),
    ("STATS_MINUTE_RETENTION_SECS", "1000000000"),
    ("STATS_HOUR_RETENTION_SECS", "1000000000"),
];

pub async fn spawn_with(settings: &[(&str, &str)]) -> TestSetup {
    let mut setup = spawn_without_stats().await;
    let mut all = KEEP_EVERYTHING.to_vec();
    all.extend_from_slice(settings);
    setup.stats = StatsProcess::start(&setup.stats_db_url, &setup.ingest, &all).await;
    setup
}

/// Everything but the stats process, which the caller starts (with its own settings).
pub async fn spawn_without_stats() -> TestSetup {
    // Logs show up under a failing test's output (`RUST_LOG` picks the level).
    kit::telemetry::init("stats-tests");
    let db = TestDatabase::create().await;
    let ingest_db_url = db.service_role("ingest").await;
    let stats_db_url = db.service_role("stats").await;
    let ingest = start_ingest(&ingest_db_url).await;
    TestSetup {
        db,
        client: reqwest::Client::new(),
        ingest_db_url,
        stats_db_url,
        ingest,
        stats: StatsProcess::none(),
    }
}

/// Starts an ingest server on `database_url` and returns its base URL.
pub async fn start_ingest(database_url: &str) -> String {
    let env = Env::from_pairs([
        ("DATABASE_URL", database_url),
        ("PORT", "0"),
        ("HOST", "127.0.0.1"),
    ]);
    let config = ingest::config::IngestConfig::from_env(&env).expect("ingest config");
    let app = ingest::Application::build(config)
        .await
        .expect("build ingest");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

/// A stats server in a runtime of its own, so a test can kill it the way a crash would: its
/// tasks stop wherever they are and its database connections drop.
pub struct StatsProcess {
    pub address: String,
    kill: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StatsProcess {
    pub fn none() -> Self {
        Self {
            address: String::new(),
            kill: None,
            thread: None,
        }
    }

    pub async fn start(database_url: &str, ingest_url: &str, extra: &[(&str, &str)]) -> Self {
        let mut pairs = vec![
            ("DATABASE_URL", database_url),
            ("INGEST_URL", ingest_url),
            ("PORT", "0"),
            ("HOST", "127.0.0.1"),
            ("FEED_POLL_INTERVAL_SECS", "0.05"),
        ];
        pairs.extend_from_slice(extra);
        let config =
            stats::config::StatsConfig::from_env(&Env::from_pairs(pairs)).expect("stats config");
        let (port_tx, port_rx) = tokio::sync::oneshot::channel();
        let (kill, killed) = std::sync::mpsc::channel::<()>();
        // The runtime is owned by a thread of its own: building the app is not a `Send` future
        // (sqlx's migrator), so it is driven by block_on there rather than spawned.
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            let app = runtime
                .block_on(stats::Application::build(config))
                .expect("build stats");
            port_tx.send(app.port()).expect("report port");
            runtime.spawn(app.run_until_stopped());
            let _ = killed.recv();
            runtime.shutdown_background();
        });
        let port = port_rx.await.expect("stats started");
        Self {
            address: format!("http://127.0.0.1:{port}"),
            kill: Some(kill),
            thread: Some(thread),
        }
    }

    /// Stops everything this process was doing, mid-page if it was applying one.
    pub fn kill(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for StatsProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

impl TestSetup {
    /// POSTs lines to `ingest` and returns how many were accepted.
    pub async fn post_lines_to(&self, ingest: &str, lines: &[String]) -> i64 {
        let response = self
            .client
            .post(format!("{ingest}/api/logs"))
            .header("Content-Type", "text/plain")
            .body(lines.join("\n"))
            .send()
            .await
            .expect("POST /api/logs");
        assert_eq!(response.status(), 200);
        let report: Value = response.json().await.unwrap();
        report["accepted"].as_i64().unwrap()
    }

    pub async fn post_lines(&self, lines: &[String]) -> i64 {
        self.post_lines_to(&self.ingest, lines).await
    }

    pub async fn get(&self, path_and_query: &str) -> (u16, Value) {
        get_json(&self.client, &self.stats.address, path_and_query).await
    }

    /// Waits until the stats at `address` have counted the feed up to `offset`.
    pub async fn wait_for_offset(&self, address: &str, offset: i64) -> Value {
        wait_for_offset(&self.client, address, offset).await
    }
}

pub async fn get_json(
    client: &reqwest::Client,
    address: &str,
    path_and_query: &str,
) -> (u16, Value) {
    let response = client
        .get(format!("{address}{path_and_query}"))
        .send()
        .await
        .expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

pub async fn wait_for_offset(client: &reqwest::Client, address: &str, offset: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = get_json(client, address, "/api/stats?window=all").await;
        if status == 200 && body["feed"]["last_offset"].as_i64() >= Some(offset) {
            assert_eq!(
                body["feed"]["last_offset"], offset,
                "counted beyond the feed: {body}"
            );
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "stats did not reach offset {offset}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A Combined line at `time` (UTC).
pub fn line(client: &str, time: DateTime<Utc>, path: &str, status: u16, bytes: u32) -> String {
    format!(
        r#"{client} - - [{}] "GET {path} HTTP/1.1" {status} {bytes} "-" "test-agent""#,
        time.format("%d/%b/%Y:%H:%M:%S +0000")
    )
}

/// A TCP relay standing in front of ingest: tests point stats at it, then cut it (ingest is
/// unreachable) or point it at another ingest, without stopping any server.
pub struct Relay {
    pub url: String,
    target: watch::Sender<Option<String>>,
}

impl Relay {
    pub async fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (target_tx, target_rx) = watch::channel(Some(authority(target)));
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut target = target_rx.clone();
                tokio::spawn(async move {
                    let Some(address) = target.borrow_and_update().clone() else {
                        return; // dropping the connection: "connection reset"
                    };
                    let Ok(mut outbound) = TcpStream::connect(address).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        // Kept-alive connections must not outlive a switch.
                        _ = target.changed() => {}
                    }
                });
            }
        });
        Self {
            url,
            target: target_tx,
        }
    }

    /// `None` cuts every connection and refuses new ones.
    pub fn point_at(&self, target: Option<&str>) {
        self.target.send_replace(target.map(authority));
    }
}

fn authority(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}
