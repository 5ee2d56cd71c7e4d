use std::io::Write;

use ingest::config::{IngestConfig, Limits};
use ingest::Application;
use kit::config::Env;
use kit::testing::TestDatabase;
use serde_json::Value;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    pub database_url: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Limits::default()).await
}

pub async fn spawn_app_with(limits: Limits) -> TestApp {
    let db = TestDatabase::create().await;
    let database_url = db.service_role("ingest").await;
    let address = start_replica(&database_url, limits).await;
    TestApp {
        address,
        client: reqwest::Client::new(),
        db,
        database_url,
    }
}

/// Starts another ingest process-equivalent on the same database (a second replica).
pub async fn start_replica(database_url: &str, limits: Limits) -> String {
    let env = Env::from_pairs([
        ("DATABASE_URL", database_url),
        ("PORT", "0"),
        ("HOST", "127.0.0.1"),
    ]);
    let mut config = IngestConfig::from_env(&env).expect("test config");
    config.limits = limits;
    let app = Application::build(config).await.expect("build ingest");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

impl TestApp {
    pub async fn post_lines(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(format!("{}/api/logs", self.address))
            .header("Content-Type", "text/plain")
            .body(body)
            .send()
            .await
            .expect("POST /api/logs")
    }

    pub async fn get_json(&self, path_and_query: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path_and_query}", self.address))
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// Every entry of the feed, following `next_after` to the end.
    /// The path of every stored entry, in feed order.
    pub async fn stored_paths(&self) -> Vec<String> {
        self.read_whole_feed()
            .await
            .iter()
            .map(|e| e["path"].as_str().unwrap().to_string())
            .collect()
    }

    pub async fn read_whole_feed(&self) -> Vec<Value> {
        let mut after = 0;
        let mut entries = Vec::new();
        loop {
            let (status, page) = self
                .get_json(&format!("/api/logs/feed?after={after}&limit=5000"))
                .await;
            assert_eq!(status, 200, "{page}");
            let batch = page["entries"].as_array().unwrap().clone();
            if batch.is_empty() {
                return entries;
            }
            after = page["next_after"].as_i64().unwrap();
            entries.extend(batch);
        }
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// The 10,000-line public Apache log (see testdata/README.md).
pub fn apache_log() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/apache_logs");
    std::fs::read(path).expect("testdata/apache_logs")
}

pub const GOOD_LINE: &str = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#;

/// A Combined line whose path carries a marker, to trace it through the system.
pub fn line_with_path(path: &str, status: u16) -> String {
    format!(
        r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET {path} HTTP/1.1" {status} 512 "-" "test-agent""#
    )
}
