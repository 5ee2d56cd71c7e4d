//! The pipeline from ingest's feed to alert events.
//!
//! [`AlertsProjection`] is alerts' read model for the shared feed consumer: each page adds its
//! per-second counts and advances every rule's state machine in event time, in the page's
//! transaction. [`run_ticks`] advances the rules by the wall clock while no entries arrive,
//! so an active alert recovers when traffic stops.
//!
//! A tick must never interleave with a page (both read and write `rule_state`). It runs in a
//! transaction that first locks the `alerts.feed_position` row `FOR UPDATE`, the very row
//! lock the consumer takes before applying a page: the two serialize, on one instance or
//! several, and each sees the other's committed state, so no event is produced twice. The
//! row lock is enough for correctness; ticks are only attempted by the instance that holds
//! the applier's advisory lock, to spare the others the work.

use std::sync::Arc;
use std::time::Duration;

use feed::consumer::{ConsumerStatus, Projection};
use feed::FeedEntry;
use kit::shutdown::Shutdown;
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;

use crate::config::CountsRetention;
use crate::domain::evaluation::{advance, Clock, Horizon, RuleState, Timeline};
use crate::domain::Second;
use crate::storage::read_model::{self, LiveRule};

pub struct AlertsProjection {
    pub timeline: Timeline,
    pub clock: Arc<dyn Clock>,
}

impl Projection for AlertsProjection {
    fn schema(&self) -> &'static str {
        crate::storage::SCHEMA
    }

    async fn apply(&self, tx: &mut PgConnection, entries: &[FeedEntry]) -> Result<(), sqlx::Error> {
        read_model::add_counts(tx, entries).await?;
        let Some(newest) = entries.iter().map(|e| e.time.timestamp()).max() else {
            return Ok(());
        };
        let now = self.clock.now();
        let timeline = self.timeline;
        evaluate_rules(tx, |rule, state| {
            let earliest = entries
                .iter()
                .filter(|e| rule.metric.counts(&e.section, e.status))
                .map(|e| e.time.timestamp())
                .min();
            timeline.on_entries(state, earliest, newest, now)
        })
        .await
    }
}

/// Advances every rule to the horizon `plan` gives it, recording the transitions.
async fn evaluate_rules(
    tx: &mut PgConnection,
    plan: impl Fn(&LiveRule, &mut RuleState) -> Horizon,
) -> Result<(), sqlx::Error> {
    for rule in read_model::live_rules(tx).await? {
        let mut state = rule.state;
        let horizon = plan(&rule, &mut state);
        let end = horizon.complete.max(horizon.eager);
        if end <= state.evaluated_through && state == rule.state {
            continue;
        }
        let from = state.evaluated_through;
        let counts = if end > from {
            read_model::counts(tx, &rule.metric, from - rule.condition.window_seconds, end).await?
        } else {
            Vec::new()
        };
        let transitions = advance(&rule.condition, &mut state, &counts, horizon);
        let mut last = None;
        for transition in &transitions {
            let id = read_model::record(tx, &rule, transition).await?;
            last = Some((transition.kind, id));
        }
        if state != rule.state {
            read_model::save_state(tx, rule.id, &state, last).await?;
        }
    }
    Ok(())
}

/// One wall-clock step, when this instance is the applier and the consumer has read the
/// whole feed (while it is still reading, event time alone moves the rules: a replay being
/// read page by page must not be overtaken by the wall clock).
pub async fn tick(pool: &PgPool, timeline: Timeline, now: Second) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let (last_offset, head) = read_model::lock_position(&mut tx).await?;
    if last_offset >= head {
        evaluate_rules(&mut tx, |_, _| timeline.on_tick(now)).await?;
    }
    tx.commit().await
}

/// Ticks every `interval` until shutdown.
pub async fn run_ticks(
    pool: PgPool,
    timeline: Timeline,
    clock: Arc<dyn Clock>,
    interval: Duration,
    status: watch::Receiver<ConsumerStatus>,
    shutdown: Shutdown,
) {
    while_applying(interval, status, shutdown, || async {
        if let Err(e) = tick(&pool, timeline, clock.now()).await {
            tracing::warn!(error = %e, "alert tick failed; retrying");
        }
    })
    .await;
    tracing::info!("alert ticks stopped");
}

/// Drops expired per-second counts every `retention.interval` until shutdown.
pub async fn run_counts_retention(
    pool: PgPool,
    retention: CountsRetention,
    status: watch::Receiver<ConsumerStatus>,
    shutdown: Shutdown,
) {
    while_applying(retention.interval, status, shutdown, || async {
        match drop_expired_counts(&pool, retention.keep).await {
            Ok(0) => {}
            Ok(dropped) => tracing::info!(dropped, "dropped expired per-second counts"),
            Err(e) => tracing::warn!(error = %e, "dropping expired per-second counts failed"),
        }
    })
    .await;
}

/// Under the row lock the consumer takes, so no page rewinds a rule while counts go.
async fn drop_expired_counts(pool: &PgPool, keep: Duration) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    read_model::lock_position(&mut tx).await?;
    let dropped = read_model::drop_expired_counts(&mut tx, keep).await?;
    tx.commit().await?;
    Ok(dropped)
}

/// Runs `step` every `interval` while this instance is the applier, until shutdown.
async fn while_applying<F, Fut>(
    interval: Duration,
    status: watch::Receiver<ConsumerStatus>,
    mut shutdown: Shutdown,
    step: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    while !shutdown.is_triggered() {
        if status.borrow().applying {
            step().await;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.wait() => {}
        }
    }
}
