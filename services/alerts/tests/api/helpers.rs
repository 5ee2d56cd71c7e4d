//! The one test app builder: a fresh database, a real ingest and a real alerts service
//! (startable and stoppable), plus the independent reference computation of alerts.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use alerts::config::AlertsConfig;
use chrono::{DateTime, SecondsFormat, Utc};
use ingest::config::{IngestConfig, Limits};
use kit::config::Env;
use kit::testing::TestDatabase;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

/// ingest and alerts on one database; alerts can be stopped and started again.
pub struct TestApp {
    pub address: String,
    pub ingest_address: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    pub alerts_database_url: String,
    pub env: Vec<(String, String)>,
    running: Option<(ServerHandle, JoinHandle<std::io::Result<()>>)>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// `env` adds to (or overrides) the test settings of the alerts service.
pub async fn spawn_app_with(env: &[(&str, &str)]) -> TestApp {
    let db = TestDatabase::create().await;
    let ingest_url = db.service_role("ingest").await;
    let ingest_address = start_ingest(&ingest_url).await;
    let alerts_database_url = db.service_role("alerts").await;
    let mut app = TestApp {
        address: String::new(),
        ingest_address,
        client: reqwest::Client::new(),
        db,
        alerts_database_url,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        running: None,
    };
    app.start().await;
    app
}

async fn start_ingest(database_url: &str) -> String {
    let env = Env::from_pairs([
        ("DATABASE_URL", database_url),
        ("PORT", "0"),
        ("HOST", "127.0.0.1"),
    ]);
    let mut config = IngestConfig::from_env(&env).expect("ingest test config");
    config.limits = Limits::default();
    let app = ingest::Application::build(config)
        .await
        .expect("build ingest");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

impl TestApp {
    /// Starts (or starts again) the alerts service.
    pub async fn start(&mut self) {
        assert!(self.running.is_none(), "already running");
        let mut pairs: Vec<(String, String)> = [
            ("DATABASE_URL", self.alerts_database_url.as_str()),
            ("PORT", "0"),
            ("HOST", "127.0.0.1"),
            ("INGEST_URL", self.ingest_address.as_str()),
            ("FEED_POLL_INTERVAL_SECS", "0.05"),
            ("ALERTS_TICK_INTERVAL_SECS", "0.1"),
            ("ALERTS_WEBHOOK_POLL_SECS", "0.05"),
            ("ALERTS_WEBHOOK_BACKOFF_SECS", "0.05"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        pairs.extend(self.env.iter().cloned());
        let config = AlertsConfig::from_env(&Env::from_pairs(pairs)).expect("alerts test config");
        let app = alerts::Application::build(config)
            .await
            .expect("build alerts");
        self.address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        self.running = Some((handle, tokio::spawn(app.run_until_stopped())));
    }

    /// Stops alerts as SIGTERM would, and waits until its background tasks have returned.
    pub async fn stop(&mut self) {
        let (handle, join) = self.running.take().expect("running");
        handle.stop(true).await;
        join.await.expect("alerts task").expect("alerts server");
    }

    pub async fn post_lines(&self, lines: &[String]) -> Value {
        let response = self
            .client
            .post(format!("{}/api/logs", self.ingest_address))
            .header("Content-Type", "text/plain")
            .body(lines.join("\n"))
            .send()
            .await
            .expect("POST /api/logs");
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
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

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> (u16, Value) {
        let response = self
            .client
            .request(method, format!("{}{path}", self.address))
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn create_rule(&self, body: Value) -> i64 {
        let (status, rule) = self
            .send_json(reqwest::Method::POST, "/api/alerts/rules", &body)
            .await;
        assert_eq!(status, 201, "{rule}");
        rule["id"].as_i64().unwrap()
    }

    /// The whole history, oldest first, following the pages.
    pub async fn history(&self) -> Vec<Value> {
        let mut events = Vec::new();
        let mut before: Option<i64> = None;
        loop {
            let query = match before {
                Some(b) => format!("/api/alerts?limit=100&before={b}"),
                None => "/api/alerts?limit=100".to_string(),
            };
            let (status, page) = self.get_json(&query).await;
            assert_eq!(status, 200, "{page}");
            events.extend(page["history"].as_array().unwrap().iter().cloned());
            match page["next_before"].as_i64() {
                Some(b) => before = Some(b),
                None => break,
            }
        }
        events.reverse();
        events
    }

    /// Waits until `done` holds for the history, or fails after `timeout`.
    pub async fn wait_for_history(
        &self,
        timeout: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let history = self.history().await;
            if done(&history) {
                return history;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("timed out; history: {}", json!(history));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A Combined log line at `time`.
pub fn line(time: DateTime<Utc>, path: &str, status: u16) -> String {
    format!(
        r#"10.0.0.1 - - [{}] "GET {path} HTTP/1.1" {status} 512 "-" "test-agent""#,
        time.format("%d/%b/%Y:%H:%M:%S %z")
    )
}

pub fn rfc3339(second: i64) -> String {
    DateTime::from_timestamp(second, 0)
        .unwrap()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The reference, written independently of the service: evaluate every second `t` of
/// `from..=to` by summing the counts in `(t - window, t]`, and report each crossing as
/// `(kind, t, average)`.
pub fn reference(
    counts: &BTreeMap<i64, i64>,
    window: i64,
    threshold: f64,
    from: i64,
    to: i64,
) -> Vec<(String, i64, f64)> {
    let mut active = false;
    let mut events = Vec::new();
    for t in from..=to {
        let mut sum = 0;
        for s in t - window + 1..=t {
            sum += counts.get(&s).copied().unwrap_or(0);
        }
        let average = sum as f64 / window as f64;
        let above = average > threshold;
        if above != active {
            active = above;
            events.push((
                if above { "triggered" } else { "recovered" }.to_string(),
                t,
                average,
            ));
        }
    }
    events
}

/// `(kind, at as epoch second, value)` of the events of one rule.
pub fn events_of(history: &[Value], rule_id: i64) -> Vec<(String, i64, f64)> {
    history
        .iter()
        .filter(|e| e["rule_id"] == rule_id)
        .map(|e| {
            let at = DateTime::parse_from_rfc3339(e["at"].as_str().unwrap())
                .unwrap()
                .timestamp();
            (
                e["kind"].as_str().unwrap().to_string(),
                at,
                e["value"].as_f64().unwrap(),
            )
        })
        .collect()
}
