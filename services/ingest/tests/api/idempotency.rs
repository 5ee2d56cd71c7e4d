//! POST /api/logs with an Idempotency-Key: retries are stored once and get the first reply.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{gzip, line_with_path, spawn_app, TestApp};

fn body(marker: &str, lines: usize) -> String {
    (0..lines)
        .map(|i| line_with_path(&format!("/{marker}/{i}"), 200))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn post_with_key(
    app: &TestApp,
    key: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.client
        .post(format!("{}/api/logs", app.address))
        .header("Content-Type", "text/plain")
        .header("Idempotency-Key", key)
        .body(body)
        .send()
        .await
        .expect("POST /api/logs")
}

async fn reply(response: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("Idempotent-Replayed")
        .map(|v| v.to_str().unwrap().to_string());
    (status, replayed, response.json().await.expect("JSON reply"))
}

#[tokio::test]
async fn the_same_key_twice_is_stored_once_and_answered_with_the_first_reply() {
    let app = spawn_app().await;
    let lines = body("retry", 5);

    let (first_status, first_replayed, first) =
        reply(post_with_key(&app, "batch-1", lines.clone()).await).await;
    assert_eq!(first_status, 200, "{first}");
    assert_eq!(first_replayed, None);
    assert_eq!(first["accepted"], 5);

    // The same lines gzip-compressed are the same request.
    let gzipped = app
        .client
        .post(format!("{}/api/logs", app.address))
        .header("Content-Type", "text/plain")
        .header("Content-Encoding", "gzip")
        .header("Idempotency-Key", "batch-1")
        .body(gzip(lines.as_bytes()))
        .send()
        .await
        .unwrap();
    let (second_status, second_replayed, second) = reply(gzipped).await;
    assert_eq!(second_status, first_status);
    assert_eq!(second_replayed.as_deref(), Some("true"));
    assert_eq!(second, first);

    assert_eq!(app.read_whole_feed().await.len(), 5);
}

#[tokio::test]
async fn racing_requests_with_the_same_key_store_the_lines_once() {
    let app = spawn_app().await;
    // Large enough that both requests are in flight together.
    let lines = body("race", 20_000);

    for round in 0..3 {
        let key = format!("race-{round}");
        let (a, b) = tokio::join!(
            post_with_key(&app, &key, lines.clone()),
            post_with_key(&app, &key, lines.clone())
        );
        let ((a_status, _, a), (b_status, _, b)) = tokio::join!(reply(a), reply(b));
        assert_eq!((a_status, b_status), (200, 200), "{a} {b}");
        assert_eq!(a, b, "both get the reply of the one that stored");
    }
    assert_eq!(app.read_whole_feed().await.len(), 3 * 20_000);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let (status, _, _) = reply(post_with_key(&app, "k", body("one", 3)).await).await;
    assert_eq!(status, 200);

    let response = post_with_key(&app, "k", body("two", 4)).await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("Idempotency-Key") && detail.contains("different request"),
        "{problem}"
    );

    let paths = app.stored_paths().await;
    assert_eq!(paths.len(), 3);
    assert!(paths.iter().all(|p| p.starts_with("/one/")), "{paths:?}");
}

#[tokio::test]
async fn an_invalid_key_is_a_400_naming_the_header() {
    let app = spawn_app().await;
    for key in [String::new(), "x".repeat(201), "caf\u{e9}".to_string()] {
        let response = app
            .client
            .post(format!("{}/api/logs", app.address))
            .header("Content-Type", "text/plain")
            .header(
                "Idempotency-Key",
                reqwest::header::HeaderValue::from_bytes(key.as_bytes()).unwrap(),
            )
            .body(body("bad-key", 1))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "key {key:?}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["param"], "Idempotency-Key", "{problem}");
    }
    assert!(app.read_whole_feed().await.is_empty());
}

#[tokio::test]
async fn without_a_key_every_post_is_stored() {
    let app = spawn_app().await;
    let lines = body("plain", 2);
    for _ in 0..2 {
        let response = app.post_lines(lines.clone()).await;
        assert_eq!(response.status(), 200);
        assert!(response.headers().get("Idempotent-Replayed").is_none());
    }
    assert_eq!(app.read_whole_feed().await.len(), 4);
}

#[tokio::test]
async fn expired_keys_are_dropped_by_later_keyed_posts() {
    let app = crate::helpers::spawn_app_with(ingest::config::Limits {
        idempotency_retention: Duration::ZERO,
        ..Default::default()
    })
    .await;
    let lines = body("expiring", 1);
    let (status, _, _) = reply(post_with_key(&app, "old", lines.clone()).await).await;
    assert_eq!(status, 200);

    // Another key's POST drops the expired keys (at most once a second with this retention),
    // after which "old" is new again.
    let deadline = Instant::now() + Duration::from_secs(30);
    for attempt in 0.. {
        let other = body(&format!("other{attempt}"), 1);
        let (status, _, _) =
            reply(post_with_key(&app, &format!("other-{attempt}"), other).await).await;
        assert_eq!(status, 200);
        let (status, replayed, _) = reply(post_with_key(&app, "old", lines.clone()).await).await;
        assert_eq!(status, 200);
        if replayed.is_none() {
            break;
        }
        assert!(Instant::now() < deadline, "the key never expired");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let feed = app.read_whole_feed().await;
    let old = feed
        .iter()
        .filter(|e| e["path"].as_str().unwrap().starts_with("/expiring/"))
        .count();
    assert_eq!(old, 2);
}
