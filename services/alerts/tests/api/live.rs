//! Live traffic, judged by the wall clock: an alert fires while the load is on and recovers
//! once traffic has stopped, with no entry arriving at all. How fast it fires is a figure,
//! measured by `./scripts/bench alerts` (docs/benchmarks.md), not asserted here.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;

use crate::helpers::{events_of, line, reference, spawn_app};

#[tokio::test]
async fn steady_load_fires_while_it_lasts_and_recovers_after_traffic_stops() {
    let app = spawn_app().await;
    let (window, threshold) = (5, 2.0);
    let rule = app
        .create_rule(json!({ "name": "live", "window_seconds": window, "threshold": threshold }))
        .await;
    let first_second = Utc::now().timestamp();

    // About 6 hits per second, stamped with the current time, for 8 seconds: the 5 s window
    // holds more than 10 hits after two seconds or so.
    let mut sent: BTreeMap<i64, i64> = BTreeMap::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(8) {
        let now = Utc::now();
        app.post_lines(&[line(now, "/live", 200), line(now, "/live", 200)])
            .await;
        *sent.entry(now.timestamp()).or_default() += 2;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let fired = app
        .wait_for_history(Duration::from_secs(30), |h| {
            h.iter()
                .any(|e| e["rule_id"] == rule && e["kind"] == "triggered")
        })
        .await;
    let last_second = *sent.keys().last().unwrap();
    let fired_at = events_of(&fired, rule)[0].1;
    assert!(
        fired_at <= last_second,
        "the alert fired while the load lasted, not after: {fired_at} > {last_second}"
    );

    // Traffic stops; only the clock moves, and the window drains.
    let history = app
        .wait_for_history(Duration::from_secs(30), |h| {
            h.iter()
                .any(|e| e["rule_id"] == rule && e["kind"] == "recovered")
        })
        .await;
    let expected = reference(&sent, window, threshold, first_second, last_second + window);
    assert_eq!(events_of(&history, rule), expected);
    let (_, alerts) = app.get_json("/api/alerts").await;
    assert_eq!(alerts["active"], json!([]));
    let (_, rule_now) = app.get_json(&format!("/api/alerts/rules/{rule}")).await;
    assert_eq!(rule_now["active"], false);
}
