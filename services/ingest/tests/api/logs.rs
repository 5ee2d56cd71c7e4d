//! POST and GET /api/logs.

use std::collections::HashMap;

use ingest::config::Limits;
use serde_json::Value;

use crate::helpers::{apache_log, gzip, line_with_path, spawn_app, spawn_app_with, GOOD_LINE};

#[tokio::test]
async fn a_real_10000_line_combined_log_is_accepted_whole_and_stored_exactly() {
    let app = spawn_app().await;
    let log = apache_log();

    let response = app.post_lines(log.clone()).await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["accepted"], 10_000, "{report}");
    assert_eq!(report["rejected"], 0);
    assert_eq!(
        (
            report["first_offset"].as_i64(),
            report["last_offset"].as_i64()
        ),
        (Some(1), Some(10_000))
    );

    // What was stored matches a count made directly from the file, by a different method.
    let mut expected: HashMap<(String, String), usize> = HashMap::new();
    for line in String::from_utf8_lossy(&log).lines() {
        let client = line.split(' ').next().unwrap().to_string();
        let status = line
            .split('"')
            .nth(2)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        *expected.entry((client, status)).or_default() += 1;
    }
    let mut stored: HashMap<(String, String), usize> = HashMap::new();
    for entry in app.read_whole_feed().await {
        let key = (
            entry["client"].as_str().unwrap().to_string(),
            entry["status"].to_string(),
        );
        *stored.entry(key).or_default() += 1;
    }
    assert_eq!(stored, expected);
}

#[tokio::test]
async fn good_lines_beside_bad_ones_are_stored_and_each_bad_line_is_named() {
    let app = spawn_app().await;
    let body = [
        line_with_path("/ok/1", 200),
        "this is not an access log line".to_string(),
        line_with_path("/ok/2", 404),
        r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /bad HTTP/1.1" 2000 1"#.to_string(),
        String::new(),
        "# a comment".to_string(),
    ]
    .join("\n");

    let response = app.post_lines(body).await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["accepted"], 2);
    assert_eq!(report["rejected"], 2);
    assert_eq!(report["skipped"], 2);
    let lines: Vec<i64> = report["rejected_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [2, 4]);
    assert!(
        report["rejected_lines"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("status"),
        "{report}"
    );

    let paths = app.stored_paths().await;
    assert_eq!(paths, ["/ok/1", "/ok/2"]);
}

#[tokio::test]
async fn a_body_with_no_usable_line_is_422_and_stores_nothing() {
    let app = spawn_app().await;
    let response = app.post_lines("nope\nnot either").await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2, "{problem}");
    assert!(app.read_whole_feed().await.is_empty());

    let response = app.post_lines("").await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn gzip_bodies_are_accepted() {
    let app = spawn_app().await;
    let body = format!("{GOOD_LINE}\n{GOOD_LINE}\n");
    let response = app
        .client
        .post(format!("{}/api/logs", app.address))
        .header("Content-Type", "text/plain; charset=utf-8")
        .header("Content-Encoding", "gzip")
        .body(gzip(body.as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["accepted"], 2);
}

#[tokio::test]
async fn json_arrays_of_lines_and_objects_are_accepted() {
    let app = spawn_app().await;
    let body = serde_json::json!([
        GOOD_LINE,
        {"time": "2024-02-29T23:59:59+05:30", "client": "2001:db8::1", "method": "POST",
         "path": "/api/users?x=1", "status": 201, "bytes": 12},
        42
    ]);
    let response = app
        .client
        .post(format!("{}/api/logs", app.address))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["accepted"], 2, "{report}");
    assert_eq!(report["rejected_lines"][0]["line"], 3);

    let (_, page) = app.get_json("/api/logs?client=2001:db8::1").await;
    let entry = &page["entries"][0];
    assert_eq!(entry["section"], "/api");
    assert_eq!(entry["time"], "2024-02-29T23:59:59+05:30");
}

#[tokio::test]
async fn unsupported_media_types_get_415_with_a_problem_body() {
    let app = spawn_app().await;
    for (content_type, encoding) in [("application/xml", None), ("text/plain", Some("br"))] {
        let mut request = app
            .client
            .post(format!("{}/api/logs", app.address))
            .header("Content-Type", content_type)
            .body(GOOD_LINE);
        if let Some(encoding) = encoding {
            request = request.header("Content-Encoding", encoding);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 415);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = response.json().await.unwrap();
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("not supported"),
            "{problem}"
        );
    }
}

#[tokio::test]
async fn bodies_past_the_limit_get_413_even_when_gzip_hides_their_size() {
    let app = spawn_app_with(Limits {
        max_body_bytes: 4096,
        ..Limits::default()
    })
    .await;
    let big = format!("{GOOD_LINE}\n").repeat(40); // about 6 KB
    let response = app.post_lines(big.clone()).await;
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );

    let compressed = gzip(big.as_bytes());
    assert!(compressed.len() < 4096);
    let response = app
        .client
        .post(format!("{}/api/logs", app.address))
        .header("Content-Type", "text/plain")
        .header("Content-Encoding", "gzip")
        .body(compressed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert!(app.read_whole_feed().await.is_empty());
}

#[tokio::test]
async fn listing_filters_and_pages_newest_first() {
    let app = spawn_app().await;
    let lines: Vec<String> = (0..25)
        .map(|i| {
            line_with_path(
                &format!("/s{}/p{i}", i % 2),
                if i % 5 == 0 { 503 } else { 200 },
            )
        })
        .collect();
    app.post_lines(lines.join("\n")).await;

    let (status, page) = app.get_json("/api/logs?status=5xx").await;
    assert_eq!(status, 200);
    let paths: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/s0/p20", "/s1/p15", "/s0/p10", "/s1/p5", "/s0/p0"]);

    // Paging through section /s1 (12 entries) 5 at a time visits each once, newest first.
    let mut seen = Vec::new();
    let mut query = "/api/logs?section=/s1&limit=5".to_string();
    loop {
        let (_, page) = app.get_json(&query).await;
        seen.extend(
            page["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["path"].as_str().unwrap().to_string()),
        );
        match page["next_before"].as_i64() {
            Some(before) => query = format!("/api/logs?section=/s1&limit=5&before={before}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..25)
        .rev()
        .filter(|i| i % 2 == 1)
        .map(|i| format!("/s1/p{i}"))
        .collect();
    assert_eq!(seen, expected);

    let (status, problem) = app.get_json("/api/logs?status=9xx").await;
    assert_eq!((status, problem["param"].as_str()), (400, Some("status")));
    let (status, problem) = app.get_json("/api/logs?limit=0").await;
    assert_eq!((status, problem["param"].as_str()), (400, Some("limit")));
    let (status, _) = app.get_json("/api/logs?from=yesterday").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_full_entry_keeps_every_field_and_its_zone() {
    let app = spawn_app().await;
    app.post_lines(GOOD_LINE).await;
    let (_, page) = app.get_json("/api/logs").await;
    let entry = &page["entries"][0];
    assert_eq!(entry["time"], "2000-10-10T13:55:36-07:00");
    assert_eq!(entry["client"], "127.0.0.1");
    assert_eq!(entry["user"], "frank");
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["path"], "/apache_pb.gif");
    assert_eq!(entry["section"], "/apache_pb.gif");
    assert_eq!(entry["protocol"], "HTTP/1.0");
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["bytes"], 2326);
    assert_eq!(entry["referer"], "http://www.example.com/start.html");
    assert_eq!(entry["user_agent"], "Mozilla/4.08 [en] (Win98; I ;Nav)");
}
