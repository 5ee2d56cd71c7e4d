//! Per-second counts do not grow without end: what no rule reads again is dropped, and what a
//! rule may still read stays.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::helpers::{line, spawn_app_with};

/// The stored seconds, oldest first.
async fn stored_seconds(app: &crate::helpers::TestApp) -> Vec<i64> {
    let mut admin = app.db.admin_connection().await;
    sqlx::query(
        "SELECT DISTINCT extract(epoch FROM second)::int8 FROM alerts.hits_by_second ORDER BY 1",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap()
    .iter()
    .map(|row| row.get(0))
    .collect()
}

fn lines_at(seconds: &[i64]) -> Vec<String> {
    seconds
        .iter()
        .map(|&t| line(DateTime::<Utc>::from_timestamp(t, 0).unwrap(), "/x", 200))
        .collect()
}

#[tokio::test]
async fn counts_no_rule_reads_again_are_dropped_and_the_rest_kept() {
    let app = spawn_app_with(&[
        ("ALERTS_COUNTS_RETENTION_SECS", "86400"),
        ("ALERTS_COUNTS_RETENTION_INTERVAL_SECS", "0.2"),
    ])
    .await;
    let now = Utc::now().timestamp();
    // A replayed day, three days back: the default rule (120 s) judges it, then the wall
    // clock. Its last day stays: it is within the retention of the newest second.
    let old_day = [
        now - 4 * 86_400 - 1,
        now - 3 * 86_400 - 60,
        now - 3 * 86_400,
    ];
    app.post_lines(&lines_at(&old_day)).await;
    wait_until_stored(&app, &old_day[1..]).await;

    // Live traffic now: the old seconds are more than a day behind it and behind every
    // rule's window, so they go; the recent ones stay.
    let recent = [now - 3_600, now];
    app.post_lines(&lines_at(&recent)).await;
    wait_until_stored(&app, &recent).await;
}

/// Waits until exactly `seconds` are stored, or fails after a while.
async fn wait_until_stored(app: &crate::helpers::TestApp, seconds: &[i64]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let stored = stored_seconds(app).await;
        if stored == seconds {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "stored {stored:?}, expected {seconds:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
