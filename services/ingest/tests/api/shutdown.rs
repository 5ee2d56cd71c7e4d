//! SIGTERM under load, to the real binary: requests in flight finish, nothing acknowledged is
//! lost, nothing is stored without its acknowledgement, and the process exits cleanly well
//! within ECS' 30 s stop timeout.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kit::testing::TestDatabase;
use serde_json::Value;

/// ECS sends SIGKILL this long after SIGTERM (the default `stopTimeout`).
const ECS_STOP_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn sigterm_under_load_finishes_in_flight_requests_and_exits_cleanly() {
    let db = TestDatabase::create().await;
    let database_url = db.service_role("ingest").await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ingest"))
        .env("DATABASE_URL", &database_url)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start ingest");
    let base = format!("http://127.0.0.1:{port}");
    // One connection per request, so a refusal can only come from a closed listener.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "ingest never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let body: String = (0..2_000)
        .map(|i| {
            format!(
                "10.0.0.{} - - [23/Nov/2026:10:00:00 +0000] \"GET /load/{i} HTTP/1.1\" 200 10\n",
                i % 250
            )
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let loaders: Vec<_> = (0..4)
        .map(|_| {
            let (client, url, body, stop) = (
                client.clone(),
                format!("{base}/api/logs"),
                body.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let (mut acknowledged, mut statuses) = (0i64, Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    let sent = client
                        .post(&url)
                        .header("Content-Type", "text/plain")
                        .body(body.clone())
                        .send()
                        .await;
                    let Ok(response) = sent else { break };
                    statuses.push(response.status().as_u16());
                    if response.status().is_success() {
                        let report: Value = response.json().await.expect("a whole reply");
                        acknowledged += report["accepted"].as_i64().unwrap();
                    }
                }
                (acknowledged, statuses)
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let signalled = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if signalled.elapsed() > ECS_STOP_TIMEOUT {
            child.kill().unwrap();
            panic!("still running {ECS_STOP_TIMEOUT:?} after SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    stop.store(true, Ordering::Relaxed);
    assert!(exit.success(), "exit after SIGTERM: {exit}");

    let (mut acknowledged, mut statuses) = (0, Vec::new());
    for loader in loaders {
        let (a, s) = loader.await.unwrap();
        acknowledged += a;
        statuses.extend(s);
    }
    // 503 is the honest answer of an overloaded pool (nothing stored); nothing else is.
    assert!(
        statuses.iter().all(|&s| s == 200 || s == 503),
        "every answer was a 200 or a 503: {statuses:?}"
    );
    assert!(acknowledged > 0, "the load was running");
    let mut admin = db.admin_connection().await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM ingest.entries")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(
        stored, acknowledged,
        "stored entries equal the acknowledged ones: none lost, none stored unanswered"
    );
}
