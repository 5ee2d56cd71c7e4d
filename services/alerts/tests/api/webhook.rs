//! Webhooks: every event reaches its rule's receiver once, despite failed attempts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use chrono::DateTime;
use serde_json::{json, Value};

use crate::helpers::{line, spawn_app};

#[derive(Default)]
struct Receiver {
    /// Attempts per Idempotency-Key.
    attempts: HashMap<String, u32>,
    /// Bodies accepted (answered 2xx), in arrival order.
    accepted: Vec<(String, Value)>,
}

/// A receiver that fails every event's first attempt with 503, then accepts.
async fn start_receiver() -> (String, Arc<Mutex<Receiver>>) {
    let state = Arc::new(Mutex::new(Receiver::default()));
    let shared = state.clone();
    let server = HttpServer::new(move || {
        let state = shared.clone();
        App::new().route(
            "/hook",
            web::post().to(move |request: HttpRequest, body: web::Json<Value>| {
                let state = state.clone();
                async move {
                    let key = request
                        .headers()
                        .get("idempotency-key")
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .to_string();
                    let mut state = state.lock().unwrap();
                    let attempts = state.attempts.entry(key.clone()).or_default();
                    *attempts += 1;
                    if *attempts == 1 {
                        return HttpResponse::ServiceUnavailable().finish();
                    }
                    state.accepted.push((key, body.into_inner()));
                    HttpResponse::Ok().finish()
                }
            }),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}/hook"), state)
}

#[tokio::test]
async fn a_webhook_receiver_sees_every_event_once_after_retries() {
    let app = spawn_app().await;
    let (url, receiver) = start_receiver().await;
    let rule = app
        .create_rule(
            json!({ "name": "hooked", "window_seconds": 5, "threshold": 1, "webhook_url": url }),
        )
        .await;

    // Two bursts a minute apart in 2021: two alerts, two recoveries.
    let start = DateTime::parse_from_rfc3339("2021-06-01T08:00:00Z")
        .unwrap()
        .timestamp();
    let mut lines = Vec::new();
    for burst in [0, 60] {
        for i in 0..5 {
            let t = DateTime::from_timestamp(start + burst + i, 0).unwrap();
            lines.extend((0..4).map(|_| line(t, "/hook", 200)));
        }
    }
    app.post_lines(&lines).await;

    let history = app
        .wait_for_history(Duration::from_secs(20), |h| {
            let mine: Vec<&Value> = h.iter().filter(|e| e["rule_id"] == rule).collect();
            mine.len() == 4 && mine.iter().all(|e| e["delivery"]["state"] == "delivered")
        })
        .await;
    let mine: Vec<&Value> = history.iter().filter(|e| e["rule_id"] == rule).collect();
    for event in &mine {
        assert_eq!(event["delivery"]["attempts"], 2, "{event}");
    }

    tokio::time::sleep(Duration::from_millis(300)).await;
    let receiver = receiver.lock().unwrap();
    let mut accepted_ids: Vec<i64> = receiver
        .accepted
        .iter()
        .map(|(k, _)| k.parse().unwrap())
        .collect();
    accepted_ids.sort();
    let mut event_ids: Vec<i64> = mine.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    event_ids.sort();
    assert_eq!(accepted_ids, event_ids, "each event accepted exactly once");
    for (key, body) in &receiver.accepted {
        let event = mine
            .iter()
            .find(|e| e["id"].as_i64() == key.parse().ok())
            .unwrap();
        assert_eq!(body["id"], event["id"]);
        assert_eq!(body["kind"], event["kind"]);
        assert_eq!(body["message"], event["message"]);
        assert_eq!(body["at"], event["at"]);
    }
    // The default rule has no webhook: its events carry no delivery.
    assert!(history
        .iter()
        .filter(|e| e["rule_id"] != rule)
        .all(|e| e["delivery"].is_null()));
}
