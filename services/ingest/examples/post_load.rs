//! End-to-end ingest benchmark client: POSTs generated Combined lines to a running ingest in
//! batches, several requests in flight, and reports committed lines per second (every reply
//! is a 2xx, which means committed).
//!
//!     post_load --url http://127.0.0.1:8080 [--lines 1000000] [--batch 10000] [--concurrency 4]

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

struct Args {
    url: String,
    lines: usize,
    batch: usize,
    concurrency: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        url: "http://127.0.0.1:8080".into(),
        lines: 1_000_000,
        batch: 10_000,
        concurrency: 4,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value,
            "--lines" => args.lines = value.parse().expect("--lines"),
            "--batch" => args.batch = value.parse().expect("--batch"),
            "--concurrency" => args.concurrency = value.parse().expect("--concurrency"),
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let lines = accesslog::sample::generate_combined_lines(args.lines, 42);
    let bodies: Vec<String> = lines.chunks(args.batch).map(|c| c.join("\n")).collect();
    let megabytes = bodies.iter().map(String::len).sum::<usize>() as f64 / 1e6;
    drop(lines);

    let client = reqwest::Client::new();
    let url = format!("{}/api/logs", args.url);
    let slots = Arc::new(Semaphore::new(args.concurrency));
    let started = Instant::now();
    let mut requests = Vec::with_capacity(bodies.len());
    for body in bodies {
        let permit = slots.clone().acquire_owned().await.unwrap();
        let (client, url) = (client.clone(), url.clone());
        requests.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .header("Content-Type", "text/plain")
                .body(body)
                .send()
                .await
                .expect("POST");
            assert!(response.status().is_success(), "{}", response.status());
            let report: serde_json::Value = response.json().await.expect("report");
            drop(permit);
            report["accepted"].as_u64().unwrap_or(0)
        }));
    }
    let mut accepted = 0;
    for request in requests {
        accepted += request.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "ingest: {accepted} lines ({megabytes:.1} MB) committed in {seconds:.2} s -> {:.0} lines/s \
         ({} lines per POST, {} in flight)",
        accepted as f64 / seconds,
        args.batch,
        args.concurrency
    );
    assert_eq!(accepted as usize, args.lines, "every line must be accepted");
}
