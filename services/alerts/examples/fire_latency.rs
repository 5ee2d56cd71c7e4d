//! How soon a live alert fires after the window crosses its threshold, and how soon it
//! recovers once traffic stops, against a running ingest and alerts.
//!
//! Each cycle creates a rule (5 s window, threshold 2 hits/s), POSTs about 7 lines a second
//! stamped with the current time, notes when the POST that takes the window over the
//! threshold was sent, and stops the load once the alert is recorded. The fire delay is the
//! alert's `created_at` minus that moment (both wall clock on this machine): an upper bound,
//! since it includes the POST itself, and how often this client looks does not count. The recovery delay is measured from the end of
//! the second in which the window fell back to the threshold; it includes the lateness that
//! alerts waits for stragglers (`ALERTS_LATENESS_SECS`). Figures only; nothing is asserted.
//!
//! ```text
//! fire_latency --ingest http://127.0.0.1:18080 --alerts http://127.0.0.1:18081 [--cycles 5]
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

const WINDOW: i64 = 5;
const THRESHOLD: i64 = 2;

struct Args {
    ingest: String,
    alerts: String,
    cycles: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        ingest: "http://127.0.0.1:18080".into(),
        alerts: "http://127.0.0.1:18081".into(),
        cycles: 5,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--ingest" => args.ingest = value,
            "--alerts" => args.alerts = value,
            "--cycles" => args.cycles = value.parse().expect("--cycles"),
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args();
    let client = reqwest::Client::new();
    caught_up(&client, &args).await?;
    let mut fire_delays = Vec::new();
    let mut recovery_delays = Vec::new();
    for cycle in 1..=args.cycles {
        let (fire, recovery) = one_cycle(&client, &args, cycle).await?;
        println!(
            "cycle {cycle}: fired {:.0} ms after the crossing POST was sent, recovered {:.0} ms \
             after the window drained",
            fire * 1e3,
            recovery * 1e3
        );
        fire_delays.push(fire);
        recovery_delays.push(recovery);
    }
    let max = |v: &[f64]| v.iter().copied().fold(f64::MIN, f64::max);
    println!(
        "alerts: fire delay max {:.0} ms over {} crossings (target < 2000 ms); recovery delay max \
         {:.0} ms",
        max(&fire_delays) * 1e3,
        fire_delays.len(),
        max(&recovery_delays) * 1e3
    );
    Ok(())
}

/// One crossing and one recovery: `(fire delay, recovery delay)` in seconds.
async fn one_cycle(
    client: &reqwest::Client,
    args: &Args,
    cycle: usize,
) -> anyhow::Result<(f64, f64)> {
    let rule: Value = client
        .post(format!("{}/api/alerts/rules", args.alerts))
        .json(&json!({
            "name": format!("fire-latency-{cycle}"),
            "window_seconds": WINDOW,
            "threshold": THRESHOLD,
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let rule_id = rule["id"].as_i64().expect("rule id");

    let mut sent: BTreeMap<i64, i64> = BTreeMap::new();
    let mut crossed_at: Option<DateTime<Utc>> = None;
    let triggered = loop {
        let now = Utc::now();
        client
            .post(format!("{}/api/logs", args.ingest))
            .header("Content-Type", "text/plain")
            .body(line(now))
            .send()
            .await?
            .error_for_status()?;
        let second = now.timestamp();
        *sent.entry(second).or_default() += 1;
        let in_window: i64 = sent
            .range(second - WINDOW + 1..=second)
            .map(|(_, n)| n)
            .sum();
        if crossed_at.is_none() && in_window > THRESHOLD * WINDOW {
            crossed_at = Some(now);
        }
        if crossed_at.is_some() {
            if let Some(event) = event(client, args, rule_id, "triggered").await? {
                break event;
            }
        }
        tokio::time::sleep(Duration::from_millis(140)).await;
    };
    let fire = seconds_between(crossed_at.expect("crossed"), created_at(&triggered));

    // The first second after the load whose window holds no more than the threshold.
    let last = *sent.keys().last().expect("sent");
    let drained = (last..)
        .find(|t| {
            sent.range(t - WINDOW + 1..=*t).map(|(_, n)| n).sum::<i64>() <= THRESHOLD * WINDOW
        })
        .expect("the window drains");
    let recovered = loop {
        if let Some(event) = event(client, args, rule_id, "recovered").await? {
            break event;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let drained_end = DateTime::from_timestamp(drained + 1, 0).expect("time");
    let recovery = seconds_between(drained_end, created_at(&recovered));

    client
        .delete(format!("{}/api/alerts/rules/{rule_id}", args.alerts))
        .send()
        .await?
        .error_for_status()?;
    Ok((fire, recovery))
}

/// Waits until alerts has applied everything already in the feed (an earlier benchmark may
/// have left a backlog), so that the first cycle measures live traffic, not a catch-up. One
/// line posted first makes the feed non-empty, so a position with `head > 0` was read; it is
/// a day old, so it falls in no window the cycles measure.
async fn caught_up(client: &reqwest::Client, args: &Args) -> anyhow::Result<()> {
    client
        .post(format!("{}/api/logs", args.ingest))
        .header("Content-Type", "text/plain")
        .body(line(Utc::now() - chrono::Duration::days(1)))
        .send()
        .await?
        .error_for_status()?;
    loop {
        let view: Value = client
            .get(format!("{}/api/alerts?limit=1", args.alerts))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let feed = &view["feed"];
        if feed["head"].as_i64() > Some(0) && feed["lag"] == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The rule's newest event of `kind`, if any.
async fn event(
    client: &reqwest::Client,
    args: &Args,
    rule_id: i64,
    kind: &str,
) -> anyhow::Result<Option<Value>> {
    let page: Value = client
        .get(format!("{}/api/alerts?limit=20", args.alerts))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(page["history"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["rule_id"] == rule_id && e["kind"] == kind)
        .cloned())
}

fn created_at(event: &Value) -> DateTime<Utc> {
    event["created_at"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("created_at")
}

fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().expect("span") as f64 / 1e6
}

fn line(time: DateTime<Utc>) -> String {
    format!(
        r#"10.0.0.1 - - [{}] "GET /bench HTTP/1.1" 200 512 "-" "fire-latency""#,
        time.format("%d/%b/%Y:%H:%M:%S %z")
    )
}
