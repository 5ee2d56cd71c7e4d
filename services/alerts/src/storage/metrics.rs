//! What the CloudWatch publisher reads and writes: its cursor (`alerts.cloudwatch_cursor`),
//! how far the traffic is decided, the hits per second, and whether each rule was alerting
//! during a span of seconds (from the append-only history, so it is exact in event time).

use sqlx::{PgConnection, Row};

use super::read_model::LiveRule;
use crate::domain::Second;

/// Locks the namespace's cursor for the length of `tx` (so two instances never publish the
/// same seconds) and returns it, creating it at `start` the first time.
pub async fn lock_cursor(
    tx: &mut PgConnection,
    namespace: &str,
    start: Second,
) -> Result<Second, sqlx::Error> {
    sqlx::query(
        "INSERT INTO alerts.cloudwatch_cursor (namespace, published_through) VALUES ($1, $2)
         ON CONFLICT (namespace) DO NOTHING",
    )
    .bind(namespace)
    .bind(start)
    .execute(&mut *tx)
    .await?;
    sqlx::query_scalar(
        "SELECT published_through FROM alerts.cloudwatch_cursor WHERE namespace = $1 FOR UPDATE",
    )
    .bind(namespace)
    .fetch_one(&mut *tx)
    .await
}

pub async fn save_cursor(
    tx: &mut PgConnection,
    namespace: &str,
    published_through: Second,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE alerts.cloudwatch_cursor SET published_through = $2, updated_at = now()
         WHERE namespace = $1",
    )
    .bind(namespace)
    .bind(published_through)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The last second that is decided, for the hit counts and for every rule, no later than
/// `complete` (the timeline's bound); `None` while the consumer is still reading the feed,
/// whose unread entries may belong to any second.
pub async fn decided_through(
    tx: &mut PgConnection,
    complete: Second,
) -> Result<Option<Second>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT p.last_offset >= p.head AS caught_up,
                (SELECT min(evaluated_through) FROM alerts.rule_state) AS rules_through
         FROM alerts.feed_position p",
    )
    .fetch_one(&mut *tx)
    .await?;
    if !row.try_get::<bool, _>("caught_up")? {
        return Ok(None);
    }
    let rules_through: Option<Second> = row.try_get("rules_through")?;
    Ok(Some(rules_through.map_or(complete, |r| r.min(complete))))
}

/// Every second of `(after, through]` with its hits (all sections and statuses), silent
/// seconds included as 0.
pub async fn hits_per_second(
    tx: &mut PgConnection,
    after: Second,
    through: Second,
) -> Result<Vec<(Second, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s, coalesce(sum(h.hits), 0)::bigint
         FROM generate_series($1::bigint + 1, $2::bigint) AS s
         LEFT JOIN alerts.hits_by_second h ON h.second = to_timestamp(s)
         GROUP BY s ORDER BY s",
    )
    .bind(after)
    .bind(through)
    .fetch_all(&mut *tx)
    .await
}

/// A rule seen over a span of seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleActivity {
    pub name: String,
    /// Alerting at any second of the span: already active at its start, or triggered in it.
    pub active: bool,
    /// The window's average hits per second at the span's last second.
    pub value: f64,
}

/// `rules` over `(after, through]`. Events are appended in event-time order per rule (late
/// entries never rewind a rule before its last event), so the newest event at or before
/// `after` is the rule's state then.
pub async fn rule_activity(
    tx: &mut PgConnection,
    rules: &[LiveRule],
    after: Second,
    through: Second,
) -> Result<Vec<RuleActivity>, sqlx::Error> {
    let mut activity = Vec::with_capacity(rules.len());
    for rule in rules {
        let active: bool = sqlx::query_scalar(
            "SELECT coalesce((SELECT kind = 'triggered' FROM alerts.events
                              WHERE rule_id = $1 AND at <= to_timestamp($2)
                              ORDER BY id DESC LIMIT 1), false)
                 OR EXISTS (SELECT 1 FROM alerts.events
                            WHERE rule_id = $1 AND kind = 'triggered'
                              AND at > to_timestamp($2) AND at <= to_timestamp($3))",
        )
        .bind(rule.id)
        .bind(after)
        .bind(through)
        .fetch_one(&mut *tx)
        .await?;
        let window = rule.condition.window_seconds;
        let counts = super::read_model::counts(tx, &rule.metric, through - window, through).await?;
        let hits: i64 = counts.iter().map(|(_, n)| n).sum();
        activity.push(RuleActivity {
            name: rule.name.clone(),
            active,
            value: hits as f64 / window as f64,
        });
    }
    Ok(activity)
}
