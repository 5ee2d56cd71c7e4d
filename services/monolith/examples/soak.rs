//! Soak: POSTs access-log lines to ingest at a steady rate for minutes while stats and alerts
//! follow the feed, and reports every interval and at the end: lines/s committed, POST latency
//! p50/p99, the resident memory of each process, and how far stats and alerts lag the feed.
//! Figures only; nothing is asserted.
//!
//! ```text
//! soak --ingest URL --stats URL --alerts URL --pids ingest=PID,stats=PID,alerts=PID \
//!      [--rate 5000] [--batch 500] [--seconds 300] [--every 30]
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

struct Args {
    ingest: String,
    stats: String,
    alerts: String,
    pids: Vec<(String, u32)>,
    rate: u64,
    batch: u64,
    seconds: u64,
    every: u64,
}

fn parse_args() -> Args {
    let mut args = Args {
        ingest: String::new(),
        stats: String::new(),
        alerts: String::new(),
        pids: Vec::new(),
        rate: 5_000,
        batch: 500,
        seconds: 300,
        every: 30,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--ingest" => args.ingest = value,
            "--stats" => args.stats = value,
            "--alerts" => args.alerts = value,
            "--pids" => {
                args.pids = value
                    .split(',')
                    .map(|pair| {
                        let (name, pid) = pair.split_once('=').expect("--pids name=pid,...");
                        (name.to_string(), pid.parse().expect("a pid"))
                    })
                    .collect()
            }
            "--rate" => args.rate = value.parse().expect("--rate"),
            "--batch" => args.batch = value.parse().expect("--batch"),
            "--seconds" => args.seconds = value.parse().expect("--seconds"),
            "--every" => args.every = value.parse().expect("--every"),
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

/// Resident memory of a process in MiB, from /proc.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

async fn lag(client: &reqwest::Client, url: &str) -> i64 {
    let view: Value = match client.get(url).send().await {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(_) => Value::Null,
    };
    view["feed"]["lag"].as_i64().unwrap_or(-1)
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let client = reqwest::Client::new();
    let lines = accesslog::sample::generate_combined_lines(100_000, 7);
    let posts_per_second = (args.rate / args.batch).max(1);
    let period = Duration::from_secs_f64(1.0 / posts_per_second as f64);
    let started = Instant::now();
    let memory_at_start: BTreeMap<String, f64> = args
        .pids
        .iter()
        .map(|(name, pid)| (name.clone(), rss_mib(*pid)))
        .collect();

    let (mut committed, mut cursor, mut interval_start) = (0u64, 0usize, Instant::now());
    let (mut latencies, mut all_latencies) = (Vec::new(), Vec::new());
    let (mut max_stats_lag, mut max_alerts_lag) = (0, 0);
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    println!("second  lines/s  p50 ms  p99 ms  stats lag  alerts lag  memory MiB");
    while started.elapsed() < Duration::from_secs(args.seconds) {
        ticker.tick().await;
        // Fresh timestamps, so alerts judge the load live.
        let now = chrono::Utc::now()
            .format("%d/%b/%Y:%H:%M:%S +0000")
            .to_string();
        let body: String = (0..args.batch as usize)
            .map(|i| {
                let line = &lines[(cursor + i) % lines.len()];
                let (head, rest) = line.split_once('[').expect("a Combined line");
                let (_, tail) = rest.split_once(']').expect("a Combined line");
                format!("{head}[{now}]{tail}\n")
            })
            .collect();
        cursor += args.batch as usize;
        let sent = Instant::now();
        let response = client
            .post(format!("{}/api/logs", args.ingest))
            .header("Content-Type", "text/plain")
            .body(body)
            .send()
            .await
            .expect("POST");
        assert!(response.status().is_success(), "{}", response.status());
        let report: Value = response.json().await.expect("report");
        latencies.push(sent.elapsed());
        committed += report["accepted"].as_u64().unwrap_or(0);

        if interval_start.elapsed() >= Duration::from_secs(args.every) {
            let stats_lag = lag(&client, &format!("{}/api/stats?window=10s", args.stats)).await;
            let alerts_lag = lag(&client, &format!("{}/api/alerts?limit=1", args.alerts)).await;
            max_stats_lag = max_stats_lag.max(stats_lag);
            max_alerts_lag = max_alerts_lag.max(alerts_lag);
            latencies.sort_unstable();
            let memory: Vec<String> = args
                .pids
                .iter()
                .map(|(name, pid)| format!("{name} {:.0}", rss_mib(*pid)))
                .collect();
            println!(
                "{:>6}  {:>7.0}  {:>6.1}  {:>6.1}  {:>9}  {:>10}  {}",
                started.elapsed().as_secs(),
                committed as f64 / interval_start.elapsed().as_secs_f64(),
                percentile(&latencies, 0.5),
                percentile(&latencies, 0.99),
                stats_lag,
                alerts_lag,
                memory.join(", ")
            );
            all_latencies.append(&mut latencies);
            committed = 0;
            interval_start = Instant::now();
        }
    }
    all_latencies.append(&mut latencies);
    all_latencies.sort_unstable();
    let total_seconds = started.elapsed().as_secs_f64();
    let lines_sent = all_latencies.len() as u64 * args.batch;
    println!(
        "soak: {lines_sent} lines in {total_seconds:.0} s ({:.0} lines/s, {} per POST); POST p50 \
         {:.1} ms, p99 {:.1} ms; largest lag seen: stats {max_stats_lag}, alerts {max_alerts_lag}",
        lines_sent as f64 / total_seconds,
        args.batch,
        percentile(&all_latencies, 0.5),
        percentile(&all_latencies, 0.99),
    );
    for (name, pid) in &args.pids {
        println!(
            "soak: {name} resident memory {:.0} MiB at start, {:.0} MiB at the end",
            memory_at_start[name],
            rss_mib(*pid)
        );
    }
}
