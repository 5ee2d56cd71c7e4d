//! Windows: relative ones ending now or at the newest entry, from/to bounds (from included,
//! to excluded), time series, and 400s naming the parameter at fault.

use chrono::{DateTime, Duration, Utc};

use crate::helpers::{line, spawn};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().into()
}

#[tokio::test]
async fn relative_windows_count_what_happened_since_now() {
    let app = spawn().await;
    let now = Utc::now();
    let lines = [
        line("a", now - Duration::seconds(2), "/ten-seconds", 200, 1),
        line("b", now - Duration::seconds(40), "/two-minutes", 404, 2),
        line("b", now - Duration::minutes(30), "/hour", 500, 4),
        line("c", now - Duration::hours(5), "/day", 301, 8),
        line("c", now - Duration::days(3), "/older", 200, 16),
    ];
    app.post_lines(&lines).await;
    app.wait_for_offset(&app.stats.address, 5).await;

    for (window, hits, bytes) in [
        ("10s", 1, 1),
        ("2m", 2, 3),
        ("1h", 3, 7),
        ("24h", 4, 15),
        ("all", 5, 31),
    ] {
        let (status, report) = app.get(&format!("/api/stats?window={window}")).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(
            (report["hits"].as_i64(), report["bytes"].as_i64()),
            (Some(hits), Some(bytes)),
            "{window}: {report}"
        );
    }
    let (_, report) = app.get("/api/stats?window=2m").await;
    assert_eq!(report["window"]["seconds"], 120);
    assert_eq!(report["hits_per_second"], 2.0 / 120.0);
    assert_eq!(report["status"]["4xx"], 1);
    assert_eq!(report["status"]["5xx"], 0);
    // Ties are ordered by name.
    assert_eq!(
        report["top_clients"],
        serde_json::json!([{ "client": "a", "hits": 1 }, { "client": "b", "hits": 1 }])
    );
    // The default window is the last 10 seconds.
    let (_, report) = app.get("/api/stats").await;
    assert_eq!(
        (
            report["hits"].as_i64(),
            report["window"]["seconds"].as_i64()
        ),
        (Some(1), Some(10))
    );
}

#[tokio::test]
async fn from_is_included_to_is_excluded_and_latest_ends_at_the_newest_entry() {
    let app = spawn().await;
    let from = at("2020-01-01T00:00:00Z");
    // Ragged: not aligned to a day, an hour or a minute, so every granularity is read.
    let to =
        from + Duration::days(2) + Duration::hours(3) + Duration::minutes(5) + Duration::seconds(7);
    let lines = [
        line("x", from - Duration::seconds(1), "/before", 200, 1),
        line("a", from, "/first", 200, 1),
        line("a", from + Duration::seconds(59), "/inside", 302, 1),
        line(
            "b",
            from + Duration::hours(25) + Duration::minutes(30),
            "/inside",
            404,
            1,
        ),
        line("b", to - Duration::seconds(1), "/last", 503, 1),
        line("y", to, "/at-to", 200, 1),
    ];
    app.post_lines(&lines).await;
    app.wait_for_offset(&app.stats.address, 6).await;

    let (status, report) = app
        .get("/api/stats?from=2020-01-01T00:00:00Z&to=2020-01-03T03:05:07Z")
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["hits"], 4, "{report}");
    assert_eq!(
        report["status"],
        serde_json::json!({ "1xx": 0, "2xx": 1, "3xx": 1, "4xx": 1, "5xx": 1 })
    );
    assert_eq!(
        report["top_sections"][0],
        serde_json::json!({ "section": "/inside", "hits": 2 })
    );
    assert_eq!(report["window"]["from"], "2020-01-01T00:00:00Z");
    assert_eq!(report["window"]["to"], "2020-01-03T03:05:07Z");
    // Times in another zone mean the same instants.
    let (_, report) = app
        .get("/api/stats?from=2020-01-01T01:00:00%2B01:00&to=2020-01-01T00:01:00Z")
        .await;
    assert_eq!(report["hits"], 2, "{report}");

    // to=latest: the window ends just after the newest entry's second.
    let (_, report) = app.get("/api/stats?window=2s&to=latest").await;
    assert_eq!(report["hits"], 2, "{report}");
    assert_eq!(report["window"]["to"], "2020-01-03T03:05:08Z");
    let (_, report) = app
        .get("/api/stats?from=2020-01-01T00:00:00Z&to=latest")
        .await;
    assert_eq!(report["hits"], 5, "{report}");
    // all: every entry, from the first to the newest.
    let (_, report) = app.get("/api/stats?window=all").await;
    assert_eq!(report["hits"], 6);
    assert_eq!(report["window"]["from"], "2019-12-31T23:59:59Z");
}

#[tokio::test]
async fn timeseries_give_hits_and_errors_per_bucket() {
    let app = spawn().await;
    let from = at("2021-06-01T10:00:00Z");
    let lines = [
        line("a", from, "/x", 200, 1),
        line("a", from + Duration::seconds(30), "/x", 500, 1),
        line("a", from + Duration::seconds(61), "/x", 404, 1),
        line("a", from + Duration::seconds(179), "/x", 200, 1),
        line("a", from + Duration::seconds(180), "/x", 200, 1),
    ];
    app.post_lines(&lines).await;
    app.wait_for_offset(&app.stats.address, 5).await;

    let (status, series) = app
        .get("/api/stats/timeseries?from=2021-06-01T10:00:00Z&to=2021-06-01T10:03:00Z&step=1m")
        .await;
    assert_eq!(status, 200, "{series}");
    assert_eq!(series["step"], 60);
    let buckets = series["buckets"].as_array().unwrap();
    let counts: Vec<(i64, i64, i64)> = buckets
        .iter()
        .map(|b| {
            (
                b["hits"].as_i64().unwrap(),
                b["errors_4xx"].as_i64().unwrap(),
                b["errors_5xx"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, [(2, 0, 1), (1, 1, 0), (1, 0, 0)]);
    assert_eq!(buckets[1]["start"], "2021-06-01T10:01:00Z");
    assert_eq!(buckets[1]["end"], "2021-06-01T10:02:00Z");

    // Unaligned window and step: buckets stay epoch-aligned, the ends are clipped.
    let (_, series) = app
        .get("/api/stats/timeseries?from=2021-06-01T10:00:30Z&to=2021-06-01T10:03:01Z&step=90s")
        .await;
    let hits: Vec<i64> = series["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["hits"].as_i64().unwrap())
        .collect();
    // [10:00:30, 10:01:30) [10:01:30, 10:03:00) [10:03:00, 10:03:01)
    assert_eq!(hits, [2, 1, 1]);
    assert_eq!(series["buckets"][0]["start"], "2021-06-01T10:00:30Z");

    // Default step and the newest entry.
    let (status, series) = app.get("/api/stats/timeseries?window=3m&to=latest").await;
    assert_eq!(status, 200);
    let total: i64 = series["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["hits"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 4, "{series}");
}

#[tokio::test]
async fn bad_parameters_get_a_problem_naming_the_parameter() {
    let app = spawn().await;
    for (query, param) in [
        ("/api/stats?window=5x", "window"),
        ("/api/stats?window=0s", "window"),
        ("/api/stats?window=1h&from=2020-01-01T00:00:00Z", "from"),
        ("/api/stats?from=yesterday", "from"),
        ("/api/stats?from=2020-01-01T00:00:00.5Z", "from"),
        ("/api/stats?to=tomorrow", "to"),
        (
            "/api/stats?from=2020-01-02T00:00:00Z&to=2020-01-01T00:00:00Z",
            "to",
        ),
        ("/api/stats?window=all&to=latest", "to"),
        ("/api/stats?limit=0", "limit"),
        ("/api/stats?limit=101", "limit"),
        ("/api/stats?limit=ten", "limit"),
        ("/api/stats/timeseries?window=24h&step=1s", "step"),
        ("/api/stats/timeseries?window=1h&step=often", "step"),
        ("/api/stats/timeseries?window=1y", "window"),
    ] {
        let response = app
            .client
            .get(format!("{}{query}", app.stats.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["param"], param, "{query}: {problem}");
        assert!(problem["detail"].as_str().unwrap().len() > 10);
    }
}

#[tokio::test]
async fn windows_reaching_past_retention_widen_to_the_buckets_still_kept() {
    // Per-second rows kept for 1 h, per-minute for 1 h too, dropped every 0.1 s.
    let app = crate::helpers::spawn_with(&[
        ("STATS_SECOND_RETENTION_SECS", "3600"),
        ("STATS_MINUTE_RETENTION_SECS", "3600"),
        ("STATS_RETENTION_INTERVAL_SECS", "0.1"),
    ])
    .await;
    let t0 = at("2022-03-01T10:00:00Z");
    let lines = [
        line("a", t0 + Duration::seconds(10), "/old", 200, 1),
        line("a", t0 + Duration::seconds(50), "/old", 200, 1),
        line("a", t0 + Duration::days(2), "/new", 200, 1),
        line(
            "a",
            t0 + Duration::days(2) + Duration::seconds(5),
            "/new",
            200,
            1,
        ),
    ];
    app.post_lines(&lines).await;
    app.wait_for_offset(&app.stats.address, 4).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    // Two days back only hours remain: the window widens to whole hours and says so.
    let (_, report) = app
        .get("/api/stats?from=2022-03-01T10:00:30Z&to=2022-03-01T10:00:40Z")
        .await;
    assert_eq!(report["hits"], 2, "{report}");
    assert_eq!(report["window"]["from"], "2022-03-01T10:00:00Z");
    assert_eq!(report["window"]["to"], "2022-03-01T11:00:00Z");
    // Recent detail is exact to the second.
    let (_, report) = app.get("/api/stats?window=3s&to=latest").await;
    assert_eq!(report["hits"], 1, "{report}");
    assert_eq!(report["window"]["seconds"], 3);
    // A per-second series that far back cannot be answered; the step is named.
    let (status, problem) = app
        .get("/api/stats/timeseries?from=2022-03-01T10:00:00Z&to=2022-03-01T10:01:00Z&step=1s")
        .await;
    assert_eq!(
        (status, problem["param"].as_str()),
        (400, Some("step")),
        "{problem}"
    );
}
