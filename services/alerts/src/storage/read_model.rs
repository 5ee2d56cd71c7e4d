//! What the feed consumer writes, always inside the transaction that also moves (or locks)
//! `alerts.feed_position`: per-second counts, each rule's state, and the events it produced.

use std::collections::HashMap;
use std::time::Duration;

use feed::FeedEntry;
use sqlx::{PgConnection, Row};

use crate::domain::evaluation::{RuleState, Transition, TransitionKind};
use crate::domain::event::{message, time_of};
use crate::domain::rule::{Condition, Metric};
use crate::domain::Second;

/// A rule as the state machine sees it.
pub struct LiveRule {
    pub id: i64,
    pub name: String,
    pub metric: Metric,
    pub condition: Condition,
    pub webhook_url: Option<String>,
    pub state: RuleState,
}

/// Adds a page's entries to the per-second counts: one statement for the whole page.
pub async fn add_counts(tx: &mut PgConnection, entries: &[FeedEntry]) -> Result<(), sqlx::Error> {
    let mut counts: HashMap<(Second, &str, i16), i64> = HashMap::new();
    for entry in entries {
        let key = (
            entry.time.timestamp(),
            entry.section.as_str(),
            (entry.status / 100) as i16,
        );
        *counts.entry(key).or_default() += 1;
    }
    let mut seconds = Vec::with_capacity(counts.len());
    let mut sections = Vec::with_capacity(counts.len());
    let mut classes = Vec::with_capacity(counts.len());
    let mut hits = Vec::with_capacity(counts.len());
    for ((second, section, class), n) in counts {
        seconds.push(second);
        sections.push(section);
        classes.push(class);
        hits.push(n);
    }
    sqlx::query(
        "INSERT INTO alerts.hits_by_second (second, section, status_class, hits)
         SELECT to_timestamp(s), sec, c, h
         FROM UNNEST($1::bigint[], $2::text[], $3::smallint[], $4::bigint[]) AS t(s, sec, c, h)
         ON CONFLICT (second, section, status_class)
         DO UPDATE SET hits = hits_by_second.hits + EXCLUDED.hits",
    )
    .bind(&seconds)
    .bind(&sections)
    .bind(&classes)
    .bind(&hits)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Takes the row lock of `alerts.feed_position` for the rest of `tx` and returns the
/// position (last offset applied, feed head). The consumer takes it before each page, so
/// whatever else reads or changes rule state under it never interleaves with a page.
pub async fn lock_position(tx: &mut PgConnection) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as("SELECT last_offset, head FROM alerts.feed_position FOR UPDATE")
        .fetch_one(&mut *tx)
        .await
}

/// Drops the per-second counts nothing reads again, in one range delete: seconds older than
/// `keep` behind the newest, than every rule's window behind the second it has judged
/// through, and than the cursor of every CloudWatch namespace published to within `keep`.
/// The caller holds the feed position's row lock, so no page rewinds a rule meanwhile.
pub async fn drop_expired_counts(
    tx: &mut PgConnection,
    keep: Duration,
) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query(
        "DELETE FROM alerts.hits_by_second WHERE second < least(
             (SELECT max(second) FROM alerts.hits_by_second) - make_interval(secs => $1),
             (SELECT to_timestamp(min(s.evaluated_through - r.window_seconds))
              FROM alerts.rule_state s JOIN alerts.rules r ON r.id = s.rule_id),
             (SELECT to_timestamp(min(published_through)) FROM alerts.cloudwatch_cursor
              WHERE updated_at > now() - make_interval(secs => $1)))",
    )
    .bind(keep.as_secs_f64())
    .execute(&mut *tx)
    .await?;
    Ok(deleted.rows_affected())
}

/// Every rule with its state, read afresh so rule changes apply at the next page or tick.
pub async fn live_rules(tx: &mut PgConnection) -> Result<Vec<LiveRule>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT r.id, r.name, r.metric, r.section, r.window_seconds, r.threshold, r.comparison,
                r.webhook_url, s.active, s.evaluated_through, s.last_transition
         FROM alerts.rules r JOIN alerts.rule_state s ON s.rule_id = r.id
         ORDER BY r.id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut rules = Vec::with_capacity(rows.len());
    for row in rows {
        let metric: String = row.try_get("metric")?;
        let Some(metric) = Metric::from_parts(&metric, row.try_get("section")?) else {
            continue;
        };
        let comparison: String = row.try_get("comparison")?;
        rules.push(LiveRule {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            metric,
            condition: Condition {
                window_seconds: row.try_get::<i32, _>("window_seconds")?.into(),
                threshold: row.try_get("threshold")?,
                comparison: crate::domain::rule::Comparison::parse(&comparison)
                    .unwrap_or(crate::domain::rule::Comparison::Above),
            },
            webhook_url: row.try_get("webhook_url")?,
            state: RuleState {
                active: row.try_get("active")?,
                evaluated_through: row.try_get("evaluated_through")?,
                last_transition: row.try_get("last_transition")?,
            },
        });
    }
    Ok(rules)
}

/// The metric's hits per second in `(after, through]`, sorted by second.
pub async fn counts(
    tx: &mut PgConnection,
    metric: &Metric,
    after: Second,
    through: Second,
) -> Result<Vec<(Second, i64)>, sqlx::Error> {
    let class: Option<i16> = matches!(metric, Metric::Errors5xx).then_some(5);
    sqlx::query_as(
        "SELECT extract(epoch FROM second)::bigint, sum(hits)::bigint
         FROM alerts.hits_by_second
         WHERE second > to_timestamp($1) AND second <= to_timestamp($2)
           AND ($3::smallint IS NULL OR status_class = $3)
           AND ($4::text IS NULL OR section = $4)
         GROUP BY second ORDER BY second",
    )
    .bind(after)
    .bind(through)
    .bind(class)
    .bind(metric.section())
    .fetch_all(&mut *tx)
    .await
}

/// Appends `transition` to the history (with a pending delivery when the rule has a
/// webhook) and returns the event's id.
pub async fn record(
    tx: &mut PgConnection,
    rule: &LiveRule,
    transition: &Transition,
) -> Result<i64, sqlx::Error> {
    let message = message(transition, rule.condition.comparison);
    record_with_message(tx, rule, transition, &message).await
}

/// [`record`] with a message of the caller's.
pub async fn record_with_message(
    tx: &mut PgConnection,
    rule: &LiveRule,
    transition: &Transition,
    message: &str,
) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO alerts.events (rule_id, rule_name, kind, value, at, message)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(rule.id)
    .bind(&rule.name)
    .bind(transition.kind.name())
    .bind(transition.average)
    .bind(time_of(transition.at))
    .bind(message)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(url) = &rule.webhook_url {
        sqlx::query("INSERT INTO alerts.deliveries (event_id, url) VALUES ($1, $2)")
            .bind(id)
            .bind(url)
            .execute(&mut *tx)
            .await?;
    }
    Ok(id)
}

/// Stores a rule's new state; `active_event` is the event that triggered it, when one did in
/// this step.
pub async fn save_state(
    tx: &mut PgConnection,
    rule_id: i64,
    state: &RuleState,
    last_kind: Option<(TransitionKind, i64)>,
) -> Result<(), sqlx::Error> {
    let active_event = match last_kind {
        Some((TransitionKind::Triggered, id)) => Some(id),
        _ => None,
    };
    sqlx::query(
        "UPDATE alerts.rule_state
         SET active = $2, evaluated_through = $3, last_transition = $4,
             active_event_id = CASE WHEN $5 THEN $6 WHEN NOT $2 THEN NULL ELSE active_event_id END
         WHERE rule_id = $1",
    )
    .bind(rule_id)
    .bind(state.active)
    .bind(state.evaluated_through)
    .bind(state.last_transition)
    .bind(last_kind.is_some())
    .bind(active_event)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
