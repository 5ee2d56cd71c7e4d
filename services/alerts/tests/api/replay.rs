//! Replays of historical logs: the alerts of a log posted at once, in its own time, exactly
//! as a reference computation gives them, across restarts too.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::helpers::{events_of, line, reference, rfc3339, spawn_app, spawn_app_with};

struct Profile {
    lines: Vec<String>,
    all: BTreeMap<i64, i64>,
    errors: BTreeMap<i64, i64>,
    start: i64,
}

/// Ten minutes of traffic on 1 March 2019: calm, a long surge, a lull, a short spike with
/// server errors, then moderate traffic. About 6,400 lines: several feed pages.
fn profile() -> Profile {
    let start = DateTime::parse_from_rfc3339("2019-03-01T10:00:00Z")
        .unwrap()
        .timestamp();
    let mut lines = Vec::new();
    let mut all = BTreeMap::new();
    let mut errors = BTreeMap::new();
    for i in 0..600 {
        let (hits, failing) = match i {
            0..120 => (4, 0),
            120..300 => (18, 0),
            300..360 => (2, 0),
            360..420 => (25, 5),
            _ => (6, 0),
        };
        let second = start + i;
        let time: DateTime<Utc> = DateTime::from_timestamp(second, 0).unwrap();
        for k in 0..hits {
            let status = if k < failing { 503 } else { 200 };
            lines.push(line(time, &format!("/section{}/page", k % 3), status));
        }
        all.insert(second, hits);
        if failing > 0 {
            errors.insert(second, failing);
        }
    }
    Profile {
        lines,
        all,
        errors,
        start,
    }
}

fn assert_same_events(actual: &[(String, i64, f64)], expected: &[(String, i64, f64)]) {
    let show = |events: &[(String, i64, f64)]| {
        events
            .iter()
            .map(|(k, t, v)| format!("{k} {} {v:.2}", rfc3339(*t)))
            .collect::<Vec<_>>()
    };
    assert_eq!(show(actual), show(expected));
}

#[tokio::test]
async fn a_ten_minute_profile_posted_at_once_yields_exactly_the_reference_alerts_at_their_event_times(
) {
    let app = spawn_app().await;
    let (_, rules) = app.get_json("/api/alerts/rules").await;
    let default_rule = rules["rules"][0]["id"].as_i64().unwrap();
    let errors_rule = app
        .create_rule(
            json!({ "name": "5xx", "metric": "errors_5xx", "window_seconds": 60, "threshold": 3 }),
        )
        .await;
    let section_rule = app
        .create_rule(json!({
            "name": "section0", "metric": "section_hits", "section": "/section0",
            "window_seconds": 30, "threshold": 5
        }))
        .await;

    let profile = profile();
    let report = app.post_lines(&profile.lines).await;
    assert_eq!(report["accepted"], profile.lines.len());

    let end = profile.start + 600 + 120;
    let expected_all = reference(&profile.all, 120, 10.0, profile.start, end);
    let expected_errors = reference(&profile.errors, 60, 3.0, profile.start, end);
    let section0: BTreeMap<i64, i64> = profile.all.iter().map(|(s, n)| (*s, (n + 2) / 3)).collect();
    let expected_section = reference(&section0, 30, 5.0, profile.start, end);
    assert_eq!(expected_all.len(), 4, "{expected_all:?}");
    assert_eq!(expected_errors.len(), 2);
    assert!(!expected_section.is_empty());
    let total = expected_all.len() + expected_errors.len() + expected_section.len();

    let history = app
        .wait_for_history(Duration::from_secs(30), |h| h.len() >= total)
        .await;
    // Nothing more comes later.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = app.history().await;
    assert_eq!(again.len(), history.len());

    assert_same_events(&events_of(&history, default_rule), &expected_all);
    assert_same_events(&events_of(&history, errors_rule), &expected_errors);
    assert_same_events(&events_of(&history, section_rule), &expected_section);

    let first = history
        .iter()
        .find(|e| e["rule_id"] == default_rule)
        .unwrap();
    let (_, at, value) = &expected_all[0];
    assert_eq!(
        first["message"],
        format!(
            "High traffic generated an alert - hits = {value:.2}, triggered at {}",
            rfc3339(*at)
        )
    );
    let recovery = history
        .iter()
        .find(|e| e["rule_id"] == default_rule && e["kind"] == "recovered")
        .unwrap();
    let (_, at, value) = &expected_all[1];
    assert_eq!(
        recovery["message"],
        format!(
            "Recovered from high traffic alert - hits = {value:.2}, recovered at {}",
            rfc3339(*at)
        )
    );

    // The replay is over and its traffic long gone: nothing is active.
    let (_, alerts) = app.get_json("/api/alerts").await;
    assert_eq!(alerts["active"], json!([]), "{alerts}");
}

#[tokio::test]
async fn stopping_and_restarting_alerts_mid_replay_loses_and_repeats_nothing() {
    // Small pages, so the stop lands while the feed is being read.
    let mut app = spawn_app_with(&[("FEED_PAGE_SIZE", "300")]).await;
    let profile = profile();
    app.post_lines(&profile.lines).await;
    let expected = reference(&profile.all, 120, 10.0, profile.start, profile.start + 720);

    app.wait_for_history(Duration::from_secs(30), |h| !h.is_empty())
        .await;
    app.stop().await;
    let mut admin = app.db.admin_connection().await;
    let applied: i64 = sqlx::query_scalar("SELECT last_offset FROM alerts.feed_position")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    eprintln!("stopped after {applied} of {} entries", profile.lines.len());

    app.start().await;
    let history = app
        .wait_for_history(Duration::from_secs(30), |h| h.len() >= expected.len())
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let history_again = app.history().await;
    assert_eq!(history_again.len(), history.len());
    let rule = history[0]["rule_id"].as_i64().unwrap();
    assert_same_events(&events_of(&history, rule), &expected);

    // A second stop and start with nothing new changes nothing.
    app.stop().await;
    app.start().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(app.history().await.len(), expected.len());
}
