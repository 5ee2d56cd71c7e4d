//! `/api/alerts/rules`: the default rule, CRUD, validation, and changes taking effect
//! without a restart.

use std::time::Duration;

use chrono::DateTime;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{line, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_default_rule_exists_on_first_start_and_a_deleted_one_stays_deleted() {
    let mut app = spawn_app().await;
    let (status, list) = app.get_json("/api/alerts/rules").await;
    assert_eq!(status, 200);
    let rules = list["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "{list}");
    assert_eq!(rules[0]["metric"], "hits");
    assert_eq!(rules[0]["window_seconds"], 120);
    assert_eq!(rules[0]["threshold"], 10.0);
    assert_eq!(rules[0]["comparison"], "above");

    let id = rules[0]["id"].as_i64().unwrap();
    let response = app
        .client
        .delete(format!("{}/api/alerts/rules/{id}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    app.stop().await;
    app.start().await;
    let (_, list) = app.get_json("/api/alerts/rules").await;
    assert_eq!(list["rules"], json!([]));
}

#[tokio::test]
async fn the_default_rule_follows_the_environment() {
    let app = spawn_app_with(&[
        ("ALERTS_DEFAULT_WINDOW_SECS", "30"),
        ("ALERTS_DEFAULT_THRESHOLD", "2.5"),
    ])
    .await;
    let (_, list) = app.get_json("/api/alerts/rules").await;
    assert_eq!(list["rules"][0]["window_seconds"], 30);
    assert_eq!(list["rules"][0]["threshold"], 2.5);
}

#[tokio::test]
async fn rules_are_created_read_replaced_and_deleted() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/alerts/rules", app.address))
        .json(&json!({ "name": "api", "metric": "section_hits", "section": "/api", "window_seconds": 30, "threshold": 1.5,
                        "webhook_url": "http://hooks.example/alerts" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let created: serde_json::Value = response.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/alerts/rules/{id}"));
    assert_eq!(created["section"], "/api");
    assert_eq!(created["comparison"], "above");
    assert_eq!(created["active"], false);

    let (status, fetched) = app.get_json(&location).await;
    assert_eq!(status, 200);
    assert_eq!(fetched, created);

    let (status, replaced) = app
        .send_json(
            Method::PUT,
            &location,
            &json!({ "name": "everything", "threshold": 3, "comparison": "below" }),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["metric"], "hits");
    assert_eq!(replaced["section"], json!(null));
    assert_eq!(replaced["window_seconds"], 120);
    assert_eq!(replaced["comparison"], "below");
    assert_eq!(replaced["webhook_url"], json!(null));

    let (_, list) = app.get_json("/api/alerts/rules").await;
    assert_eq!(list["rules"].as_array().unwrap().len(), 2);

    let response = app
        .client
        .delete(format!("{}{location}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let (status, problem) = app.get_json(&location).await;
    assert_eq!(status, 404);
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains(&id.to_string()));
    let (status, _) = app
        .send_json(Method::PUT, &location, &json!({ "name": "x" }))
        .await;
    assert_eq!(status, 404);
    let response = app
        .client
        .delete(format!("{}{location}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn invalid_rules_are_refused_with_each_field_named() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({ "name": "x", "window_seconds": 0 }),
            "window_seconds",
        ),
        (
            json!({ "name": "x", "window_seconds": 86401 }),
            "window_seconds",
        ),
        (json!({ "name": "x", "threshold": 0 }), "threshold"),
        (json!({ "name": "x", "threshold": "ten" }), "threshold"),
        (json!({ "name": "x", "metric": "bytes" }), "metric"),
        (json!({ "name": "x", "metric": "section_hits" }), "section"),
        (json!({ "name": "x", "comparison": "equal" }), "comparison"),
        (
            json!({ "name": "x", "webhook_url": "not a url" }),
            "webhook_url",
        ),
        (json!({ "threshold": 5 }), "name"),
        (json!([1, 2]), "body"),
    ];
    for (body, field) in cases {
        let (status, problem) = app
            .send_json(Method::POST, "/api/alerts/rules", &body)
            .await;
        assert_eq!(status, 422, "{body}: {problem}");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, [field], "{body}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(field),
            "{problem}"
        );
    }

    let response = app
        .client
        .post(format!("{}/api/alerts/rules", app.address))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );

    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("before=0", "before"),
        ("limit=x", "limit"),
    ] {
        let (status, problem) = app.get_json(&format!("/api/alerts?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(problem["param"], param, "{query}: {problem}");
    }
    let (status, _) = app.get_json("/api/alerts/rules/abc").await;
    assert_eq!(status, 400);
}

/// Lowering a threshold takes effect at the next evaluation, with no restart.
#[tokio::test]
async fn a_changed_rule_takes_effect_without_restart() {
    let app = spawn_app().await;
    let rule = app
        .create_rule(json!({ "name": "r", "window_seconds": 10, "threshold": 100 }))
        .await;
    let start = DateTime::parse_from_rfc3339("2020-05-05T00:00:00Z")
        .unwrap()
        .timestamp();
    let lines: Vec<String> = (0..10)
        .flat_map(|i| {
            let t = DateTime::from_timestamp(start + i, 0).unwrap();
            (0..5).map(move |_| line(t, "/x", 200))
        })
        .collect();
    app.post_lines(&lines).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(app.history().await.iter().all(|e| e["rule_id"] != rule));

    let (status, _) = app
        .send_json(
            Method::PUT,
            &format!("/api/alerts/rules/{rule}"),
            &json!({ "name": "r", "window_seconds": 10, "threshold": 1 }),
        )
        .await;
    assert_eq!(status, 200);
    // New traffic now: judged by the new threshold.
    let now = chrono::Utc::now();
    let lines: Vec<String> = (0..30).map(|_| line(now, "/x", 200)).collect();
    app.post_lines(&lines).await;
    let history = app
        .wait_for_history(Duration::from_secs(10), |h| {
            h.iter().any(|e| e["rule_id"] == rule)
        })
        .await;
    let event = history.iter().find(|e| e["rule_id"] == rule).unwrap();
    assert_eq!(event["kind"], "triggered");
}

/// Deleting a rule while its alert is active closes the alert: the history gets the recovery,
/// with the window's average at the last second judged, and nothing stays active.
#[tokio::test]
async fn deleting_a_rule_with_an_active_alert_records_its_recovery() {
    let app = spawn_app().await;
    let rule = app
        .create_rule(json!({ "name": "doomed", "window_seconds": 60, "threshold": 0.1 }))
        .await;
    let now = chrono::Utc::now();
    let lines: Vec<String> = (0..30).map(|_| line(now, "/x", 200)).collect();
    app.post_lines(&lines).await;
    app.wait_for_history(Duration::from_secs(10), |h| {
        h.iter().any(|e| e["rule_id"] == rule)
    })
    .await;

    let response = reqwest::Client::new()
        .delete(format!("{}/api/alerts/rules/{rule}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    let events: Vec<Value> = app
        .history()
        .await
        .into_iter()
        .filter(|e| e["rule_id"] == rule)
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["triggered", "recovered"], "{}", json!(events));
    // The 30 hits are still inside the 60 s window: the average is 30 / 60.
    assert_eq!(events[1]["value"], 0.5, "{}", json!(events));
    let message = events[1]["message"].as_str().unwrap();
    assert!(message.ends_with("(rule deleted)"), "{message}");
    let (_, alerts) = app.get_json("/api/alerts").await;
    assert_eq!(alerts["active"], json!([]), "{alerts}");
}
