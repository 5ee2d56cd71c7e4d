//! ingest going away: stats keeps answering from what it has, says the feed is unreachable,
//! and catches up by itself when an ingest on the same database comes back.

use std::time::{Duration, Instant};

use chrono::Utc;

use crate::helpers::{line, spawn_without_stats, start_ingest, Relay, StatsProcess};

#[tokio::test]
async fn stats_keeps_serving_while_ingest_is_down_and_catches_up_when_it_returns() {
    let mut app = spawn_without_stats().await;
    let relay = Relay::start(&app.ingest).await;
    app.stats = StatsProcess::start(&app.stats_db_url, &relay.url, &[]).await;
    let now = Utc::now();
    let batch = |n: usize, path: &str| -> Vec<String> {
        (0..n)
            .map(|i| line(&format!("10.0.0.{}", i % 7), now, path, 200, 10))
            .collect()
    };

    app.post_lines(&batch(100, "/before")).await;
    let report = app.wait_for_offset(&app.stats.address, 100).await;
    assert_eq!(report["feed"]["feed_reachable"], true);

    // ingest unreachable; entries keep arriving at it from elsewhere.
    relay.point_at(None);
    app.post_lines(&batch(50, "/during")).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, report) = app.get("/api/stats?window=all").await;
        assert_eq!(status, 200, "stats must keep serving: {report}");
        assert_eq!(report["hits"], 100, "{report}");
        if report["feed"]["feed_reachable"] == false {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the outage was never reported: {report}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, _) = app.get("/api/stats/timeseries?window=1m").await;
    assert_eq!(status, 200);

    // A new ingest on the same database comes back.
    let replacement = start_ingest(&app.ingest_db_url).await;
    app.post_lines_to(&replacement, &batch(25, "/after")).await;
    relay.point_at(Some(&replacement));
    let report = app.wait_for_offset(&app.stats.address, 175).await;
    assert_eq!(report["hits"], 175);
    assert_eq!(report["feed"]["lag"], 0);
    assert_eq!(report["feed"]["feed_reachable"], true);
    let sections: Vec<&str> = report["top_sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["section"].as_str().unwrap())
        .collect();
    assert_eq!(sections, ["/before", "/during", "/after"]);
}
