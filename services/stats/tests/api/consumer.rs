//! Exactly once: a consumer killed mid-feed, and two instances at once, lose and double nothing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sqlx::Row;

use crate::helpers::{get_json, spawn_without_stats, wait_for_offset, StatsProcess};

#[tokio::test]
async fn a_consumer_killed_mid_feed_and_two_instances_at_once_count_every_entry_once() {
    let mut app = spawn_without_stats().await;
    let lines = accesslog::sample::generate_combined_lines(8_000, 7);
    let (first, second) = lines.split_at(6_000);
    let mut head = 0;
    for chunk in first.chunks(500) {
        head += app.post_lines(chunk).await;
    }

    // Small pages, so the kill lands in the middle of the feed.
    let small_pages = [("FEED_PAGE_SIZE", "20")];
    app.stats = StatsProcess::start(&app.stats_db_url, &app.ingest, &small_pages).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = app.get("/api/stats?window=all").await;
        let applied = body["feed"]["last_offset"].as_i64().unwrap();
        if applied >= 1_000 {
            assert!(
                applied < head,
                "the consumer finished before it could be killed"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the consumer did not start: {body}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    app.stats.kill();

    // Two instances take over at once while more entries arrive.
    let (b, c) = tokio::join!(
        StatsProcess::start(&app.stats_db_url, &app.ingest, &small_pages),
        StatsProcess::start(&app.stats_db_url, &app.ingest, &small_pages),
    );
    for chunk in second.chunks(250) {
        head += app.post_lines(chunk).await;
    }
    assert_eq!(head, 8_000);
    let (from_b, from_c) = tokio::join!(
        wait_for_offset(&app.client, &b.address, head),
        wait_for_offset(&app.client, &c.address, head),
    );
    for report in [&from_b, &from_c] {
        assert_eq!(report["hits"], head, "{report}");
    }
    let applying = [&from_b, &from_c]
        .iter()
        .filter(|r| r["feed"]["applying"] == true)
        .count();
    assert!(applying <= 1, "two appliers at once: {from_b} {from_c}");

    // Every rollup table, at every granularity, sums to exactly the entries of the feed.
    let mut admin = app.db.admin_connection().await;
    for table in [
        "section_hits_second",
        "section_hits_minute",
        "section_hits_hour",
        "section_hits_day",
        "section_totals",
        "class_hits_second",
        "class_hits_minute",
        "class_hits_hour",
        "class_hits_day",
        "client_hits_second",
        "client_hits_minute",
        "client_hits_hour",
        "client_hits_day",
        "client_totals",
    ] {
        let sum: i64 = sqlx::query(&format!("SELECT sum(hits)::int8 FROM stats.{table}"))
            .fetch_one(&mut admin)
            .await
            .unwrap()
            .get(0);
        assert_eq!(sum, head, "stats.{table}");
    }

    // And per section, the counts match the lines.
    let mut expected: HashMap<String, i64> = HashMap::new();
    for line in &lines {
        let entry = accesslog::parse_line(line.as_bytes()).unwrap().unwrap();
        *expected.entry(entry.section.to_string()).or_default() += 1;
    }
    let (_, report) = get_json(&app.client, &b.address, "/api/stats?window=all&limit=100").await;
    let counted: HashMap<String, i64> = report["top_sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["section"].as_str().unwrap().to_string(),
                s["hits"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counted, expected);
}
