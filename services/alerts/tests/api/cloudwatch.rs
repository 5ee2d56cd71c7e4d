//! CloudWatch metrics, put in the AWS API emulator that `scripts/test` starts (moto's server on
//! loopback) and read back from it with the same SDK: the hit rate of the traffic posted, one
//! point per second with no gap or repeat across a restart, and the state of the alert it
//! triggered.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Datapoint, Dimension, Statistic};
use chrono::Utc;
use serde_json::json;

use crate::helpers::{events_of, line, spawn_app_with};

/// A client of the emulator; never of AWS itself.
async fn emulator() -> aws_sdk_cloudwatch::Client {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|url| !url.is_empty()),
        "AWS_ENDPOINT_URL is not set: run ./scripts/test or source scripts/lib/aws-emulator.sh"
    );
    aws_sdk_cloudwatch::Client::new(&aws_setup::sdk_config().await)
}

/// One namespace per test run, so tests never see each other's points.
fn unique_namespace() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("httpmon-test/{}-{nanos}", std::process::id())
}

/// The metric's datapoints per second (period 1: every point the emulator holds, by its
/// second) in `[from, to)`.
async fn per_second(
    cw: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    metric: &str,
    rule: Option<&str>,
    from: i64,
    to: i64,
) -> BTreeMap<i64, Datapoint> {
    let dimensions = rule.map(|r| vec![Dimension::builder().name("Rule").value(r).build()]);
    let answer = cw
        .get_metric_statistics()
        .namespace(namespace)
        .metric_name(metric)
        .set_dimensions(dimensions)
        .start_time(DateTime::from_secs(from))
        .end_time(DateTime::from_secs(to))
        .period(1)
        .statistics(Statistic::Sum)
        .statistics(Statistic::SampleCount)
        .statistics(Statistic::Maximum)
        .send()
        .await
        .expect("GetMetricStatistics");
    answer
        .datapoints()
        .iter()
        .map(|d| (d.timestamp().unwrap().secs(), d.clone()))
        .collect()
}

#[tokio::test]
async fn hit_rate_and_alert_state_reach_cloudwatch_with_no_gap_nor_repeat_across_a_restart() {
    let cw = emulator().await;
    let namespace = unique_namespace();
    let mut app = spawn_app_with(&[
        ("ALERTS_CLOUDWATCH_NAMESPACE", &namespace),
        ("ALERTS_CLOUDWATCH_INTERVAL_SECS", "0.2"),
    ])
    .await;
    let rule_name = "cloudwatch";
    let rule = app
        .create_rule(json!({ "name": rule_name, "window_seconds": 5, "threshold": 2 }))
        .await;
    let from = Utc::now().timestamp() - 60;
    let until = || Utc::now().timestamp() + 60;

    // The publisher is under way once the first (silent) seconds show.
    let started = Instant::now();
    while per_second(&cw, &namespace, "HitRate", None, from, until())
        .await
        .is_empty()
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no HitRate point"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // About 6 hits per second for 6 s: the rule (more than 10 hits in 5 s) fires, then
    // recovers once traffic stops.
    let mut sent: BTreeMap<i64, i64> = BTreeMap::new();
    let load = Instant::now();
    while load.elapsed() < Duration::from_secs(6) {
        let now = Utc::now();
        app.post_lines(&[line(now, "/cw", 200), line(now, "/cw", 200)])
            .await;
        *sent.entry(now.timestamp()).or_default() += 2;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let history = app
        .wait_for_history(Duration::from_secs(20), |h| {
            h.iter()
                .any(|e| e["rule_id"] == rule && e["kind"] == "recovered")
        })
        .await;
    let events = events_of(&history, rule);
    assert_eq!(events.len(), 2, "{events:?}");
    let (triggered_at, recovered_at) = (events[0].1, events[1].1);

    // A restart, with traffic posted while alerts is down: the publisher resumes where it
    // stopped.
    app.stop().await;
    for _ in 0..2 {
        let now = Utc::now();
        app.post_lines(&vec![line(now, "/cw", 200); 3]).await;
        *sent.entry(now.timestamp()).or_default() += 3;
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    app.start().await;

    let total: i64 = sent.values().sum();
    let last_sent = *sent.keys().last().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let hit_rate = loop {
        let points = per_second(&cw, &namespace, "HitRate", None, from, until()).await;
        let sum: f64 = points.values().map(|d| d.sum().unwrap()).sum();
        if sum as i64 == total && points.keys().last() > Some(&last_sent) {
            break points;
        }
        assert!(
            Instant::now() < deadline,
            "HitRate sums to {sum}, {total} hits were posted; points: {:?}",
            points.keys().collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };

    // Every second from the first published one, once, worth its hits (0 when silent).
    let first = *hit_rate.keys().next().unwrap();
    let last = *hit_rate.keys().last().unwrap();
    assert!(
        first <= *sent.keys().next().unwrap(),
        "the traffic was published"
    );
    assert_eq!(
        hit_rate.keys().copied().collect::<Vec<_>>(),
        (first..=last).collect::<Vec<_>>(),
        "a point for every second"
    );
    for (second, point) in &hit_rate {
        assert_eq!(point.sample_count(), Some(1.0), "second {second} repeated");
        let hits = sent.get(second).copied().unwrap_or(0) as f64;
        assert_eq!(point.sum(), Some(hits), "hits of second {second}");
    }
    assert_eq!(
        hit_rate[&first].unit().map(|u| u.as_str()),
        Some("Count/Second")
    );

    // The rule's state: 0 before it triggered, 1 from then until it recovered, 0 after.
    let active = per_second(
        &cw,
        &namespace,
        "AlertActive",
        Some(rule_name),
        from,
        until(),
    )
    .await;
    let states: Vec<(i64, f64)> = active
        .iter()
        .map(|(s, d)| (*s, d.maximum().unwrap()))
        .collect();
    assert!(
        states.iter().any(|&(s, v)| s < triggered_at && v == 0.0),
        "{states:?}"
    );
    for &(second, value) in &states {
        if second < triggered_at {
            assert_eq!(value, 0.0, "before the alert, at {second}: {states:?}");
        } else if second < recovered_at {
            assert_eq!(value, 1.0, "during the alert, at {second}: {states:?}");
        }
    }
    let first_after = states.iter().find(|&&(s, _)| s >= triggered_at).unwrap();
    assert_eq!(first_after.1, 1.0, "{states:?}");
    assert!(
        states.iter().any(|&(s, v)| s >= recovered_at && v == 0.0),
        "0 again after the recovery: {states:?}"
    );
    assert_eq!(states.last().unwrap().1, 0.0, "{states:?}");

    // The window's average went above the threshold; the default rule is there too.
    let values = per_second(
        &cw,
        &namespace,
        "AlertValue",
        Some(rule_name),
        from,
        until(),
    )
    .await;
    let peak = values
        .values()
        .map(|d| d.maximum().unwrap())
        .fold(0.0, f64::max);
    assert!(peak > 2.0, "AlertValue peaked at {peak}");
    let listed = cw
        .list_metrics()
        .namespace(&namespace)
        .metric_name("AlertActive")
        .send()
        .await
        .expect("ListMetrics");
    let mut rules: Vec<&str> = listed
        .metrics()
        .iter()
        .flat_map(|m| m.dimensions())
        .filter(|d| d.name() == Some("Rule"))
        .filter_map(|d| d.value())
        .collect();
    rules.sort();
    rules.dedup();
    assert_eq!(rules, ["High traffic", rule_name]);
}
