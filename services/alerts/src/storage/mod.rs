//! alerts' tables (schema `alerts`): rules and their CRUD, the alert history and active
//! alerts as the API reads them. What the feed consumer writes is in [`read_model`]; the
//! webhook queue in [`deliveries`]; what the CloudWatch publisher reads, and its cursor, in
//! [`metrics`].

pub mod deliveries;
pub mod metrics;
pub mod read_model;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use utoipa::ToSchema;

use crate::domain::evaluation::{RuleState, Transition, TransitionKind};
use crate::domain::event::message;
use crate::domain::rule::{Comparison, Condition, Metric, RuleSpec};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
pub const SCHEMA: &str = "alerts";

/// A rule as stored and served.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    /// `hits`, `errors_5xx` or `section_hits`.
    #[schema(example = "hits")]
    pub metric: String,
    /// The section counted by `section_hits`, e.g. `/pages`.
    pub section: Option<String>,
    /// Seconds the average is taken over.
    pub window_seconds: i64,
    /// Average hits per second.
    pub threshold: f64,
    pub comparison: Comparison,
    /// Where each of the rule's events is POSTed.
    pub webhook_url: Option<String>,
    /// Whether the rule is alerting now.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Rule {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        let comparison: String = row.try_get("comparison")?;
        Ok(Self {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            metric: row.try_get("metric")?,
            section: row.try_get("section")?,
            window_seconds: row.try_get::<i32, _>("window_seconds")?.into(),
            threshold: row.try_get("threshold")?,
            comparison: Comparison::parse(&comparison).unwrap_or(Comparison::Above),
            webhook_url: row.try_get("webhook_url")?,
            active: row.try_get::<Option<bool>, _>("active")?.unwrap_or(false),
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    pub fn metric(&self) -> Option<Metric> {
        Metric::from_parts(&self.metric, self.section.clone())
    }

    pub fn condition(&self) -> Condition {
        Condition {
            window_seconds: self.window_seconds,
            threshold: self.threshold,
            comparison: self.comparison,
        }
    }
}

/// One alert event: a rule triggered or recovered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertEvent {
    pub id: i64,
    pub rule_id: i64,
    /// The rule's name when the event happened.
    pub rule_name: String,
    /// `triggered` or `recovered`.
    #[schema(example = "triggered")]
    pub kind: String,
    /// The window's average hits per second when it happened.
    pub value: f64,
    /// When it happened, in event time (the log's clock).
    pub at: DateTime<Utc>,
    /// When it was recorded (wall clock).
    pub created_at: DateTime<Utc>,
    #[schema(
        example = "High traffic generated an alert - hits = 12.50, triggered at 2019-03-01T10:02:00Z"
    )]
    pub message: String,
    /// Webhook delivery, for rules with a webhook.
    pub delivery: Option<Delivery>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    /// `pending`, `delivered` or `failed` (gave up after the last attempt).
    #[schema(example = "delivered")]
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl AlertEvent {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        let state: Option<String> = row.try_get("delivery_state")?;
        Ok(Self {
            id: row.try_get("id")?,
            rule_id: row.try_get("rule_id")?,
            rule_name: row.try_get("rule_name")?,
            kind: row.try_get("kind")?,
            value: row.try_get("value")?,
            at: row.try_get("at")?,
            created_at: row.try_get("created_at")?,
            message: row.try_get("message")?,
            delivery: match state {
                Some(state) => Some(Delivery {
                    state,
                    attempts: row.try_get("attempts")?,
                    last_error: row.try_get("last_error")?,
                    delivered_at: row.try_get("delivered_at")?,
                }),
                None => None,
            },
        })
    }
}

/// An alert in progress: its rule and the event that started it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActiveAlert {
    pub rule_id: i64,
    pub rule_name: String,
    /// When it triggered (event time).
    pub since: Option<DateTime<Utc>>,
    /// The average when it triggered.
    pub value: Option<f64>,
    pub message: Option<String>,
    pub event_id: Option<i64>,
}

const EVENT_COLUMNS: &str =
    "e.id, e.rule_id, e.rule_name, e.kind, e.value, e.at, e.created_at, e.message,
     d.state AS delivery_state, d.attempts, d.last_error, d.delivered_at";

const RULE_COLUMNS: &str =
    "r.id, r.name, r.metric, r.section, r.window_seconds, r.threshold, r.comparison,
     r.webhook_url, r.created_at, r.updated_at, s.active";

#[derive(Clone)]
pub struct AlertStore {
    pool: PgPool,
}

impl AlertStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates the default rule the first time the service starts, never again (a deleted
    /// default rule stays deleted).
    pub async fn seed_default_rule(&self, spec: &RuleSpec, now: i64) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let created: bool =
            sqlx::query_scalar("SELECT default_rule_created FROM alerts.bootstrap FOR UPDATE")
                .fetch_one(&mut *tx)
                .await?;
        if !created {
            insert_rule(&mut tx, spec, now).await?;
            sqlx::query("UPDATE alerts.bootstrap SET default_rule_created = true")
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    pub async fn list_rules(&self) -> Result<Vec<Rule>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM alerts.rules r LEFT JOIN alerts.rule_state s ON s.rule_id = r.id
             ORDER BY r.id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Rule::from_row).collect()
    }

    pub async fn rule(&self, id: i64) -> Result<Option<Rule>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM alerts.rules r LEFT JOIN alerts.rule_state s ON s.rule_id = r.id
             WHERE r.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Rule::from_row).transpose()
    }

    /// Creates a rule; it starts judging traffic from `now` (and any replay posted later).
    pub async fn create_rule(&self, spec: &RuleSpec, now: i64) -> Result<Rule, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let id = insert_rule(&mut tx, spec, now).await?;
        tx.commit().await?;
        Ok(self.rule(id).await?.expect("the rule just created"))
    }

    /// Replaces a rule's definition; its alert state carries over, and the next evaluation
    /// judges it by the new definition.
    pub async fn update_rule(&self, id: i64, spec: &RuleSpec) -> Result<Option<Rule>, sqlx::Error> {
        let updated = sqlx::query(
            "UPDATE alerts.rules SET name = $2, metric = $3, section = $4, window_seconds = $5,
                 threshold = $6, comparison = $7, webhook_url = $8, updated_at = now()
             WHERE id = $1",
        )
        .bind(id)
        .bind(&spec.name)
        .bind(spec.metric.name())
        .bind(spec.metric.section())
        .bind(spec.condition.window_seconds as i32)
        .bind(spec.condition.threshold)
        .bind(spec.condition.comparison.name())
        .bind(&spec.webhook_url)
        .execute(&self.pool)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(None);
        }
        self.rule(id).await
    }

    /// Deletes a rule and its state; its events stay in the history. An alert of the rule
    /// still active is closed first by a recovery at the last second the rule judged, so every
    /// trigger in the history (and every webhook that was told of one) has its recovery.
    pub async fn delete_rule(&self, id: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        // The consumer's row lock: the rule is not judged meanwhile.
        read_model::lock_position(&mut tx).await?;
        let active = read_model::live_rules(&mut tx)
            .await?
            .into_iter()
            .find(|rule| rule.id == id && rule.state.active);
        if let Some(rule) = active {
            let (through, window) = (rule.state.evaluated_through, rule.condition.window_seconds);
            let counts =
                read_model::counts(&mut tx, &rule.metric, through - window, through).await?;
            let hits: i64 = counts.iter().map(|(_, hits)| hits).sum();
            let recovery = Transition {
                kind: TransitionKind::Recovered,
                at: through,
                average: hits as f64 / window as f64,
            };
            let message = format!(
                "{} (rule deleted)",
                message(&recovery, rule.condition.comparison)
            );
            read_model::record_with_message(&mut tx, &rule, &recovery, &message).await?;
        }
        let deleted = sqlx::query("DELETE FROM alerts.rules WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(deleted.rows_affected() > 0)
    }

    pub async fn active_alerts(&self) -> Result<Vec<ActiveAlert>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT r.id, r.name, e.id AS event_id, e.at, e.value, e.message
             FROM alerts.rule_state s
             JOIN alerts.rules r ON r.id = s.rule_id
             LEFT JOIN alerts.events e ON e.id = s.active_event_id
             WHERE s.active ORDER BY r.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ActiveAlert {
                    rule_id: row.try_get("id")?,
                    rule_name: row.try_get("name")?,
                    since: row.try_get("at")?,
                    value: row.try_get("value")?,
                    message: row.try_get("message")?,
                    event_id: row.try_get("event_id")?,
                })
            })
            .collect()
    }

    /// Events newest first (in the order they were recorded), `limit` of them before event
    /// id `before`.
    pub async fn history(
        &self,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<AlertEvent>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM alerts.events e LEFT JOIN alerts.deliveries d ON d.event_id = e.id
             WHERE $1::bigint IS NULL OR e.id < $1
             ORDER BY e.id DESC LIMIT $2"
        ))
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(AlertEvent::from_row).collect()
    }
}

async fn insert_rule(
    tx: &mut sqlx::PgConnection,
    spec: &RuleSpec,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO alerts.rules (name, metric, section, window_seconds, threshold, comparison, webhook_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&spec.name)
    .bind(spec.metric.name())
    .bind(spec.metric.section())
    .bind(spec.condition.window_seconds as i32)
    .bind(spec.condition.threshold)
    .bind(spec.condition.comparison.name())
    .bind(&spec.webhook_url)
    .fetch_one(&mut *tx)
    .await?;
    let state = RuleState::starting_at(now);
    sqlx::query(
        "INSERT INTO alerts.rule_state (rule_id, active, evaluated_through) VALUES ($1, $2, $3)",
    )
    .bind(id)
    .bind(state.active)
    .bind(state.evaluated_through)
    .execute(&mut *tx)
    .await?;
    Ok(id)
}
