//! The feed: commit order, no entry missed or repeated, even with racing writers.

use std::collections::HashSet;
use std::time::Duration;

use ingest::config::Limits;
use serde_json::Value;

use crate::helpers::{line_with_path, spawn_app, start_replica};

/// Two ingest replicas, eight concurrent writers posting batches of varied sizes, and a reader
/// following the feed while they write. The reader must see every committed entry exactly once,
/// with offsets 1, 2, 3, ... in order, although batches commit in an order nobody controls.
#[tokio::test]
async fn a_reader_racing_concurrent_writers_sees_every_entry_exactly_once() {
    let app = spawn_app().await;
    let replicas = [
        app.address.clone(),
        start_replica(&app.database_url, Limits::default()).await,
    ];
    const WRITERS: usize = 8;
    const BATCHES: usize = 15;

    let writing = tokio::sync::watch::channel(true);
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let client = app.client.clone();
        let address = replicas[w % 2].clone();
        writers.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            for b in 0..BATCHES {
                let size = 1 + (w * 7 + b * 13) % 400;
                let paths: Vec<String> = (0..size).map(|i| format!("/w{w}/b{b}-{i}")).collect();
                let body: Vec<String> = paths.iter().map(|p| line_with_path(p, 200)).collect();
                let response = client
                    .post(format!("{address}/api/logs"))
                    .header("Content-Type", "text/plain")
                    .body(body.join("\n"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                sent.extend(paths);
            }
            sent
        }));
    }

    let reader = {
        let client = app.client.clone();
        let address = replicas[1].clone();
        let writing = writing.1.clone();
        tokio::spawn(async move {
            let mut after = 0i64;
            let mut seen: Vec<(i64, String)> = Vec::new();
            loop {
                let still_writing = *writing.borrow();
                let page: Value = client
                    .get(format!("{address}/api/logs/feed?after={after}&limit=97"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let entries = page["entries"].as_array().unwrap();
                for e in entries {
                    seen.push((
                        e["offset"].as_i64().unwrap(),
                        e["path"].as_str().unwrap().to_string(),
                    ));
                }
                after = page["next_after"].as_i64().unwrap();
                if entries.is_empty() {
                    if !still_writing {
                        return seen;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
        })
    };

    let mut sent = HashSet::new();
    for writer in writers {
        sent.extend(writer.await.unwrap());
    }
    writing.0.send_replace(false);
    let seen = reader.await.unwrap();

    let offsets: Vec<i64> = seen.iter().map(|(o, _)| *o).collect();
    let expected: Vec<i64> = (1..=sent.len() as i64).collect();
    assert_eq!(
        offsets, expected,
        "offsets must be dense, in order, each once"
    );
    let seen_paths: HashSet<String> = seen.into_iter().map(|(_, p)| p).collect();
    assert_eq!(seen_paths.len(), sent.len());
    assert_eq!(seen_paths, sent);
}

#[tokio::test]
async fn feed_pages_report_the_head_and_continue_where_they_stopped() {
    let app = spawn_app().await;
    let body: Vec<String> = (0..10)
        .map(|i| line_with_path(&format!("/p/{i}"), 200))
        .collect();
    app.post_lines(body.join("\n")).await;

    let (_, page) = app.get_json("/api/logs/feed?after=3&limit=4").await;
    let offsets: Vec<i64> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["offset"].as_i64().unwrap())
        .collect();
    assert_eq!(offsets, [4, 5, 6, 7]);
    assert_eq!(page["next_after"], 7);
    assert_eq!(page["head"], 10);
    assert_eq!(page["entries"][0]["path"], "/p/3");

    let (_, page) = app.get_json("/api/logs/feed?after=10").await;
    assert_eq!(page["entries"].as_array().unwrap().len(), 0);
    assert_eq!(page["next_after"], 10);

    for (query, param) in [
        ("after=-1", "after"),
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
        ("after=x", "after"),
    ] {
        let (status, problem) = app.get_json(&format!("/api/logs/feed?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(problem["param"], param, "{query}: {problem}");
    }
}
