//! The webhook queue: deliveries due now, taken under row locks (`SKIP LOCKED`) so several
//! instances share the work without sending one event twice at once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, Row};

/// What a webhook receives: the event, with its id for deduplication.
#[derive(Debug, Clone, Serialize)]
pub struct EventPayload {
    pub id: i64,
    pub rule_id: i64,
    pub rule_name: String,
    pub kind: String,
    pub value: f64,
    pub at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub message: String,
}

pub struct DueDelivery {
    pub url: String,
    pub attempts: i32,
    pub event: EventPayload,
}

/// Locks and returns up to `limit` deliveries due now, oldest event first.
pub async fn take_due(tx: &mut PgConnection, limit: i64) -> Result<Vec<DueDelivery>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT d.url, d.attempts, e.id, e.rule_id, e.rule_name, e.kind, e.value, e.at, e.created_at, e.message
         FROM alerts.deliveries d JOIN alerts.events e ON e.id = d.event_id
         WHERE d.state = 'pending' AND d.next_attempt_at <= now()
         ORDER BY d.event_id LIMIT $1
         FOR UPDATE OF d SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(DueDelivery {
                url: row.try_get("url")?,
                attempts: row.try_get("attempts")?,
                event: EventPayload {
                    id: row.try_get("id")?,
                    rule_id: row.try_get("rule_id")?,
                    rule_name: row.try_get("rule_name")?,
                    kind: row.try_get("kind")?,
                    value: row.try_get("value")?,
                    at: row.try_get("at")?,
                    created_at: row.try_get("created_at")?,
                    message: row.try_get("message")?,
                },
            })
        })
        .collect()
}

pub async fn delivered(
    tx: &mut PgConnection,
    event_id: i64,
    attempts: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE alerts.deliveries SET state = 'delivered', attempts = $2, delivered_at = now(), last_error = NULL
         WHERE event_id = $1",
    )
    .bind(event_id)
    .bind(attempts)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Records a failed attempt: retried after `retry_in`, or given up on when `None`.
pub async fn attempt_failed(
    tx: &mut PgConnection,
    event_id: i64,
    attempts: i32,
    error: &str,
    retry_in: Option<Duration>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE alerts.deliveries
         SET attempts = $2, last_error = $3,
             state = CASE WHEN $4::double precision IS NULL THEN 'failed' ELSE 'pending' END,
             next_attempt_at = now() + make_interval(secs => coalesce($4, 0))
         WHERE event_id = $1",
    )
    .bind(event_id)
    .bind(attempts)
    .bind(error)
    .bind(retry_in.map(|d| d.as_secs_f64()))
    .execute(&mut *tx)
    .await?;
    Ok(())
}
