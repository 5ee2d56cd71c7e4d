//! Black-box tests of the monolith: all three services in one process, as a role that owns no
//! schema but is a member of the three service roles, side by side with standalone services
//! on the same database, as during a migration behind the load balancer.

use std::time::{Duration, Instant};

use kit::config::Env;
use kit::testing::TestDatabase;
use serde_json::Value;
use sqlx::Connection;

struct Stack {
    db: TestDatabase,
    ingest_url: String,
    stats_url: String,
    alerts_url: String,
    monolith: String,
    client: reqwest::Client,
}

const FAST: [(&str, &str); 4] = [
    ("PORT", "0"),
    ("HOST", "127.0.0.1"),
    ("FEED_POLL_INTERVAL_SECS", "0.05"),
    ("ALERTS_TICK_INTERVAL_SECS", "0.1"),
];

fn env(database_url: &str, extra: &[(&str, &str)]) -> Env {
    let pairs = FAST
        .iter()
        .chain(extra)
        .copied()
        .chain([("DATABASE_URL", database_url)]);
    Env::from_pairs(pairs)
}

async fn spawn_stack() -> Stack {
    let db = TestDatabase::create().await;
    let ingest_url = db.service_role("ingest").await;
    let stats_url = db.service_role("stats").await;
    let alerts_url = db.service_role("alerts").await;
    let monolith_url = db.monolith_role().await;

    let config = monolith::MonolithConfig::from_env(&env(&monolith_url, &[])).unwrap();
    let app = monolith::Application::build(config)
        .await
        .expect("build monolith");
    let monolith = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    Stack {
        db,
        ingest_url,
        stats_url,
        alerts_url,
        monolith,
        client: reqwest::Client::new(),
    }
}

impl Stack {
    /// A standalone ingest beside the monolith, as ingest's role; returns its base URL.
    async fn start_ingest(&self, extra: &[(&str, &str)]) -> String {
        let config = ingest::config::IngestConfig::from_env(&env(&self.ingest_url, extra));
        let app = ingest::Application::build(config.unwrap()).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        base
    }

    /// A standalone stats beside the monolith, as stats' role; returns its base URL.
    async fn start_stats(&self, extra: &[(&str, &str)]) -> String {
        let config = stats::config::StatsConfig::from_env(&env(&self.stats_url, extra));
        let app = stats::Application::build(config.unwrap()).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        base
    }

    /// A standalone alerts beside the monolith, as alerts' role; returns its base URL.
    async fn start_alerts(&self, extra: &[(&str, &str)]) -> String {
        let config = alerts::config::AlertsConfig::from_env(&env(&self.alerts_url, extra));
        let app = alerts::Application::build(config.unwrap()).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        base
    }

    async fn post(&self, base: &str, body: String) -> Value {
        let response = self
            .client
            .post(format!("{base}/api/logs"))
            .header("Content-Type", "text/plain")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn get(&self, url: &str) -> (u16, Value) {
        let response = self.client.get(url).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Polls `url` until `hits` reaches `expected` (the read model catching up), or fails.
    async fn wait_for_hits(&self, url: &str, expected: i64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, body) = self.get(url).await;
            if status == 200 && body["hits"] == expected {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "{url} never reached {expected} hits: {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn apache_log() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/apache_logs");
    std::fs::read_to_string(path).expect("testdata/apache_logs")
}

#[tokio::test]
async fn one_process_serves_all_three_apis_and_their_docs() {
    let stack = spawn_stack().await;
    let report = stack.post(&stack.monolith, apache_log()).await;
    assert_eq!(report["accepted"], 10_000);

    let stats = stack
        .wait_for_hits(&format!("{}/api/stats?window=all", stack.monolith), 10_000)
        .await;
    let by_class: i64 = ["1xx", "2xx", "3xx", "4xx", "5xx"]
        .iter()
        .map(|c| stats["status"][c].as_i64().unwrap())
        .sum();
    assert_eq!(by_class, 10_000);

    let (status, alerts) = stack.get(&format!("{}/api/alerts", stack.monolith)).await;
    assert_eq!(status, 200);
    assert!(
        alerts["active"].is_array() && alerts["history"].is_array(),
        "{alerts}"
    );
    let (status, rules) = stack
        .get(&format!("{}/api/alerts/rules", stack.monolith))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        rules["rules"].as_array().unwrap().len(),
        1,
        "the default rule: {rules}"
    );

    for name in ["logs", "stats", "alerts"] {
        let (status, doc) = stack
            .get(&format!("{}/api/{name}/openapi.json", stack.monolith))
            .await;
        assert_eq!(status, 200, "{name}");
        assert!(doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .any(|p| p.starts_with(&format!("/api/{name}"))));
    }
    let page = stack
        .client
        .get(format!("{}/docs/swagger-initializer.js", stack.monolith))
        .send()
        .await
        .unwrap();
    let initializer = page.text().await.unwrap();
    for name in ["logs", "stats", "alerts"] {
        assert!(
            initializer.contains(&format!("/api/{name}/openapi.json")),
            "{initializer}"
        );
    }
}

#[tokio::test]
async fn tables_the_monolith_creates_belong_to_their_service_roles() {
    let stack = spawn_stack().await;
    let mut admin = stack.db.admin_connection().await;
    let owners: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT schemaname::text, tableowner::text FROM pg_tables
         WHERE schemaname IN ('ingest', 'stats', 'alerts') ORDER BY 1",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(owners.len(), 3, "{owners:?}");
    for (schema, owner) in owners {
        assert!(
            owner.starts_with(&format!("{schema}_")),
            "{schema} tables owned by {owner}"
        );
    }
}

/// Each service's role can use its own schema and nothing else: not another service's tables
/// (read or write), not another schema (create), not `public`.
#[tokio::test]
async fn each_service_role_is_refused_every_other_schema() {
    let stack = spawn_stack().await;
    // A table of each schema, created by the monolith's migrations.
    let tables = [
        ("ingest", "ingest.entries"),
        ("stats", "stats.feed_position"),
        ("alerts", "alerts.rules"),
    ];
    let urls = [
        ("ingest", &stack.ingest_url),
        ("stats", &stack.stats_url),
        ("alerts", &stack.alerts_url),
    ];
    for (service, url) in urls {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        for (schema, table) in tables {
            let attempts = [
                format!("SELECT count(*) FROM {table}"),
                format!("DELETE FROM {table}"),
                format!("CREATE TABLE {schema}.intruder (x int)"),
            ];
            if schema == service {
                sqlx::query(&attempts[0])
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{service} cannot read its own {table}: {e}"));
                continue;
            }
            for sql in attempts {
                let outcome = sqlx::query(&sql).execute(&mut conn).await;
                assert_eq!(
                    sqlstate(outcome).as_deref(),
                    Some(INSUFFICIENT_PRIVILEGE),
                    "{service} ran: {sql}"
                );
            }
        }
        let public = sqlx::query("CREATE TABLE public.intruder (x int)")
            .execute(&mut conn)
            .await;
        assert_eq!(
            sqlstate(public).as_deref(),
            Some(INSUFFICIENT_PRIVILEGE),
            "{service} created a table in public"
        );
    }
}

const INSUFFICIENT_PRIVILEGE: &str = "42501";

/// The SQLSTATE of a statement's error; `None` when it succeeded.
fn sqlstate(outcome: Result<sqlx::postgres::PgQueryResult, sqlx::Error>) -> Option<String> {
    Some(outcome.err()?.as_database_error()?.code()?.into_owned())
}

/// Mid-migration: the load balancer sends part of /api/logs to the standalone ingest and part
/// to the monolith, and part of /api/stats to the standalone stats. Both sides count every
/// entry exactly once, whoever wrote it and whoever applies the feed.
#[tokio::test]
async fn the_monolith_and_the_services_share_data_without_loss_or_double_counting() {
    let stack = spawn_stack().await;
    let ingest_base = stack.start_ingest(&[]).await;
    let stats_base = stack.start_stats(&[("INGEST_URL", &ingest_base)]).await;

    let log = apache_log();
    let lines: Vec<&str> = log.lines().collect();
    for (i, chunk) in lines.chunks(1_000).enumerate() {
        let target = if i % 2 == 0 {
            &stack.monolith
        } else {
            &ingest_base
        };
        let report = stack.post(target, chunk.join("\n")).await;
        assert_eq!(report["accepted"], 1_000);
    }

    let through_monolith = stack
        .wait_for_hits(
            &format!("{}/api/stats?window=all&limit=100", stack.monolith),
            10_000,
        )
        .await;
    let through_service = stack
        .wait_for_hits(
            &format!("{stats_base}/api/stats?window=all&limit=100"),
            10_000,
        )
        .await;
    assert_eq!(
        through_monolith["top_sections"],
        through_service["top_sections"]
    );
    assert_eq!(
        through_monolith["top_clients"],
        through_service["top_clients"]
    );
    let (_, feed) = stack
        .get(&format!("{}/api/logs/feed?after=9999", stack.monolith))
        .await;
    assert_eq!(feed["head"], 10_000);
}

const KEY: &str = "key-for-writing-0001";
const OTHER_KEY: &str = "key-for-the-consumers";

/// Keys as a deployment sets them: ingest wants a key for writes and reads, stats follows its
/// feed with a key of its own, alerts wants a key for rule changes.
#[tokio::test]
async fn api_keys_guard_writes_keyed_reads_and_consumers_send_theirs() {
    let stack = spawn_stack().await;
    let keys = format!("{KEY},{OTHER_KEY}");
    let keyed = [
        ("HTTPMON_API_KEYS", keys.as_str()),
        ("HTTPMON_READS_NEED_KEY", "true"),
    ];
    let ingest_base = stack.start_ingest(&keyed).await;
    let stats_base = stack
        .start_stats(&[("INGEST_URL", &ingest_base), ("HTTPMON_API_KEY", OTHER_KEY)])
        .await;
    let alerts_base = stack
        .start_alerts(&[
            ("INGEST_URL", &ingest_base),
            ("HTTPMON_API_KEY", OTHER_KEY),
            ("HTTPMON_API_KEYS", KEY),
        ])
        .await;

    let client = &stack.client;
    let post = |key: Option<&'static str>| {
        let mut request = client
            .post(format!("{ingest_base}/api/logs"))
            .header("Content-Type", "text/plain")
            .body(apache_log());
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send()
    };
    let refused = post(None).await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["www-authenticate"], "Bearer");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["status"], 401);
    assert_eq!(
        post(Some("not-one-of-the-keys!")).await.unwrap().status(),
        403
    );
    let accepted = post(Some(KEY)).await.unwrap();
    assert_eq!(accepted.status(), 200);

    // Reads are keyed on ingest; health and documents are not.
    assert_eq!(stack.get(&format!("{ingest_base}/api/logs")).await.0, 401);
    let listed = client
        .get(format!("{ingest_base}/api/logs?limit=1"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    for open in ["/health/ready", "/api/logs/openapi.json"] {
        assert_eq!(
            stack.get(&format!("{ingest_base}{open}")).await.0,
            200,
            "{open}"
        );
    }

    // stats read the keyed feed with its own key, and its reads are open.
    stack
        .wait_for_hits(&format!("{stats_base}/api/stats?window=all"), 10_000)
        .await;

    // alerts: reading is open, changing a rule is not.
    assert_eq!(
        stack
            .get(&format!("{alerts_base}/api/alerts/rules"))
            .await
            .0,
        200
    );
    let rule = serde_json::json!({ "name": "keyed", "threshold": 5 });
    let url = format!("{alerts_base}/api/alerts/rules");
    let unkeyed = client.post(&url).json(&rule).send().await.unwrap();
    assert_eq!(unkeyed.status(), 401);
    let keyed = client
        .post(&url)
        .bearer_auth(KEY)
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(keyed.status(), 201);
    let id = keyed.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let delete = client.delete(format!("{url}/{id}")).send().await.unwrap();
    assert_eq!(delete.status(), 401);
}
