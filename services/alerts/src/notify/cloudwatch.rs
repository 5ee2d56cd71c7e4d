//! CloudWatch metrics: the traffic and each rule's alert state, put in the configured
//! namespace so CloudWatch alarms and dashboards can follow them.
//!
//! **What is published** (all in event time, the log's clock, like the alerts themselves):
//! - `HitRate` (Count/Second, no dimension): one point per second, timestamped with that
//!   second, worth the hits counted in it (0 for a silent second). At CloudWatch's one-minute
//!   resolution, `Average` is the mean hits per second over the period, `Sum` the hits,
//!   `Maximum` the busiest second.
//! - `AlertActive` (None, dimension `Rule`): per rule, 1 when it was alerting at any second of
//!   the span the point closes, else 0; read `Maximum`. `AlertValue` (Count/Second, dimension
//!   `Rule`): the rule's window average at that span's last second.
//!
//! **Which seconds.** Only decided seconds are published: ones the rules have judged and that
//! the lateness has closed (so the feed consumer must have read the whole feed). Each interval
//! publishes the seconds decided since the last publish, cut at minute boundaries into spans
//! (every minute gets its `AlertActive` point, whatever the interval), as few `PutMetricData`
//! calls as the 1000-datum limit allows. The last second published is kept per namespace in
//! `alerts.cloudwatch_cursor`, saved in the transaction that holds its row lock during the
//! calls: a restart neither skips nor repeats a second, and two instances never publish the
//! same one. A crash between a call's success and the commit repeats that one batch.
//!
//! **Event time vs wall clock.** Per-second points keep each second's own timestamp, so
//! CloudWatch's periods line up with the seconds the rules judged, not with when the publisher
//! happened to run. Seconds decided before a namespace's first publish are never sent (a
//! replayed historical log shows in the API, not in CloudWatch, which refuses points more
//! than two weeks old anyway), and neither are entries that arrive after their second was
//! published (later than the lateness): the series is the traffic as it was decided.
//!
//! Failures (CloudWatch or the database) are logged and the same seconds are tried again at
//! the next interval; nothing else waits on this task.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatch::config::timeout::TimeoutConfig;
use aws_sdk_cloudwatch::error::DisplayErrorContext;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use feed::consumer::ConsumerStatus;
use kit::shutdown::Shutdown;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::domain::evaluation::{Clock, Timeline};
use crate::domain::Second;
use crate::storage::metrics::{self, RuleActivity};
use crate::storage::read_model;

#[derive(Debug, Clone, PartialEq)]
pub struct CloudWatchSettings {
    /// `ALERTS_CLOUDWATCH_NAMESPACE`: where the metrics go; publishing is off when unset.
    pub namespace: String,
    /// `ALERTS_CLOUDWATCH_INTERVAL_SECS`, default 60: how often decided seconds are published.
    pub interval: Duration,
}

pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// `PutMetricData` takes at most this many datums per call.
pub const MAX_DATUMS_PER_CALL: usize = 1000;

/// CloudWatch refuses points older than two weeks; an hour of margin for the call itself.
const OLDEST_ACCEPTED: Second = 14 * 86_400 - 3_600;

/// Batches published per interval at most, so a long backlog is caught up over several
/// intervals instead of in one burst.
const MAX_BATCHES_PER_ROUND: usize = 20;

/// How long one `PutMetricData` may take, retries included, while the cursor row is locked.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A span of seconds `(after, through]` that ends with the rules' points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub after: Second,
    pub through: Second,
}

/// The spans of the next batch after `after`: minute-aligned, up to `horizon`, as many as fit
/// in one call with `rules` rules (at least one, which may then need several calls).
pub fn plan_batch(after: Second, horizon: Second, rules: usize) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut datums = 0;
    let mut start = after;
    while start < horizon {
        let minute_end = (start + 1).div_euclid(60) * 60 + 59;
        let span = Span {
            after: start,
            through: minute_end.min(horizon),
        };
        let size = (span.through - span.after) as usize + 2 * rules;
        if !spans.is_empty() && datums + size > MAX_DATUMS_PER_CALL {
            break;
        }
        datums += size;
        spans.push(span);
        start = span.through;
    }
    spans
}

/// A span's datums: a `HitRate` per second, then `AlertActive` and `AlertValue` per rule.
pub fn datums(span: Span, hits: &[(Second, i64)], rules: &[RuleActivity]) -> Vec<MetricDatum> {
    let mut datums = Vec::with_capacity(hits.len() + 2 * rules.len());
    for &(second, n) in hits {
        datums.push(
            MetricDatum::builder()
                .metric_name("HitRate")
                .timestamp(DateTime::from_secs(second))
                .value(n as f64)
                .unit(StandardUnit::CountSecond)
                .build(),
        );
    }
    let at = DateTime::from_secs(span.through);
    for rule in rules {
        let dimension = Dimension::builder().name("Rule").value(&rule.name).build();
        datums.push(
            MetricDatum::builder()
                .metric_name("AlertActive")
                .dimensions(dimension.clone())
                .timestamp(at)
                .value(if rule.active { 1.0 } else { 0.0 })
                .unit(StandardUnit::None)
                .build(),
        );
        datums.push(
            MetricDatum::builder()
                .metric_name("AlertValue")
                .dimensions(dimension)
                .timestamp(at)
                .value(rule.value)
                .unit(StandardUnit::CountSecond)
                .build(),
        );
    }
    datums
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("reading what to publish failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("PutMetricData failed: {0}")]
    CloudWatch(String),
}

/// What the publisher needs besides the database.
pub struct Publisher {
    pub client: aws_sdk_cloudwatch::Client,
    pub namespace: String,
    pub timeline: Timeline,
}

impl Publisher {
    /// A client from the standard AWS configuration (see `aws_setup`).
    pub async fn new(namespace: String, timeline: Timeline) -> Self {
        let sdk = aws_setup::sdk_config().await;
        let config = aws_sdk_cloudwatch::config::Builder::from(&sdk)
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(CALL_TIMEOUT)
                    .build(),
            )
            .build();
        Self {
            client: aws_sdk_cloudwatch::Client::from_conf(config),
            namespace,
            timeline,
        }
    }

    /// Publishes the seconds decided by `now` that are not yet, batch by batch, stopping
    /// early at shutdown; returns how many seconds went out.
    pub async fn publish_due(
        &self,
        pool: &PgPool,
        now: Second,
        shutdown: &Shutdown,
    ) -> Result<i64, PublishError> {
        let mut published = 0;
        for _ in 0..MAX_BATCHES_PER_ROUND {
            if shutdown.is_triggered() {
                break;
            }
            let n = self.publish_batch(pool, now).await?;
            if n == 0 {
                break;
            }
            published += n;
        }
        Ok(published)
    }

    /// One batch in one transaction, which holds the cursor's row lock during the calls.
    async fn publish_batch(&self, pool: &PgPool, now: Second) -> Result<i64, PublishError> {
        let mut tx = pool.begin().await?;
        let complete = self.timeline.on_tick(now).complete;
        let Some(horizon) = metrics::decided_through(&mut tx, complete).await? else {
            return Ok(0);
        };
        let cursor = metrics::lock_cursor(&mut tx, &self.namespace, horizon).await?;
        let after = cursor.max(now - OLDEST_ACCEPTED);
        if after > cursor {
            tracing::warn!(
                namespace = %self.namespace,
                skipped = after - cursor,
                "seconds too old for CloudWatch were not published"
            );
        }
        if horizon <= after {
            // Keeps the cursor just created, if it was.
            tx.commit().await?;
            return Ok(0);
        }
        let rules = read_model::live_rules(&mut tx).await?;
        let spans = plan_batch(after, horizon, rules.len());
        let mut batch = Vec::new();
        for &span in &spans {
            let hits = metrics::hits_per_second(&mut tx, span.after, span.through).await?;
            let activity =
                metrics::rule_activity(&mut tx, &rules, span.after, span.through).await?;
            batch.extend(datums(span, &hits, &activity));
        }
        for call in batch.chunks(MAX_DATUMS_PER_CALL) {
            self.client
                .put_metric_data()
                .namespace(&self.namespace)
                .set_metric_data(Some(call.to_vec()))
                .send()
                .await
                .map_err(|e| PublishError::CloudWatch(DisplayErrorContext(e).to_string()))?;
        }
        let through = spans.last().map_or(after, |s| s.through);
        metrics::save_cursor(&mut tx, &self.namespace, through).await?;
        tx.commit().await?;
        tracing::debug!(namespace = %self.namespace, through, datums = batch.len(), "metrics published");
        Ok(through - after)
    }
}

/// Publishes every `settings.interval` until shutdown, while this instance is the feed's
/// applier (the instance that decides the seconds publishes them).
pub async fn run(
    pool: PgPool,
    settings: CloudWatchSettings,
    timeline: Timeline,
    clock: Arc<dyn Clock>,
    status: watch::Receiver<ConsumerStatus>,
    mut shutdown: Shutdown,
) {
    let publisher = Publisher::new(settings.namespace, timeline).await;
    tracing::info!(namespace = %publisher.namespace, "CloudWatch publisher started");
    while !shutdown.is_triggered() {
        if status.borrow().applying {
            if let Err(e) = publisher.publish_due(&pool, clock.now(), &shutdown).await {
                tracing::warn!(error = %e, "CloudWatch publish failed; retrying next interval");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.interval) => {}
            _ = shutdown.wait() => {}
        }
    }
    tracing::info!("CloudWatch publisher stopped");
}

/// Checks a namespace as CloudWatch would: 1 to 255 of letters, digits and `.-_/#: `, and
/// not in the `AWS/` space reserved for AWS's own metrics.
pub fn check_namespace(namespace: &str) -> Result<(), &'static str> {
    if namespace.is_empty() || namespace.len() > 255 {
        return Err("must be 1 to 255 characters");
    }
    if !namespace
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".-_/#: ".contains(c))
    {
        return Err("may hold only letters, digits, spaces and . - _ / # :");
    }
    if namespace.starts_with(':') || namespace.starts_with("AWS/") {
        return Err("must not start with ':' or 'AWS/'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_cut_at_minute_boundaries() {
        // 10:00:30 through 10:02:10, no rule: one call holds it all.
        let start = 1_600_000_020; // a whole minute
        let spans = plan_batch(start + 29, start + 130, 0);
        assert_eq!(
            spans,
            [
                Span {
                    after: start + 29,
                    through: start + 59
                },
                Span {
                    after: start + 59,
                    through: start + 119
                },
                Span {
                    after: start + 119,
                    through: start + 130
                },
            ]
        );
    }

    #[test]
    fn a_batch_stays_within_the_call_limit() {
        let start = 1_600_000_020;
        // An hour behind with 3 rules: 66 datums a minute, 15 whole minutes fit in 1000.
        let spans = plan_batch(start - 1, start + 3600 - 1, 3);
        assert_eq!(spans.len(), 15);
        assert_eq!(spans.last().unwrap().through, start + 15 * 60 - 1);
        let datums: usize = spans
            .iter()
            .map(|s| (s.through - s.after) as usize + 6)
            .sum();
        assert!(datums <= MAX_DATUMS_PER_CALL, "{datums}");
        // The next batch starts where this one ended.
        let next = plan_batch(spans.last().unwrap().through, start + 3600 - 1, 3);
        assert_eq!(next[0].after, start + 15 * 60 - 1);
    }

    #[test]
    fn a_span_too_large_for_one_call_still_goes_alone() {
        let spans = plan_batch(59, 119, 600);
        assert_eq!(
            spans,
            [Span {
                after: 59,
                through: 119
            }]
        );
        assert!(plan_batch(119, 119, 0).is_empty());
    }

    #[test]
    fn datums_carry_their_seconds_and_rules() {
        let span = Span {
            after: 99,
            through: 101,
        };
        let rules = [RuleActivity {
            name: "High traffic".into(),
            active: true,
            value: 12.5,
        }];
        let datums = datums(span, &[(100, 7), (101, 0)], &rules);
        let names: Vec<&str> = datums.iter().map(|d| d.metric_name().unwrap()).collect();
        assert_eq!(names, ["HitRate", "HitRate", "AlertActive", "AlertValue"]);
        assert_eq!(datums[0].timestamp().unwrap().secs(), 100);
        assert_eq!(datums[0].value(), Some(7.0));
        assert_eq!(datums[1].value(), Some(0.0));
        assert_eq!(datums[2].timestamp().unwrap().secs(), 101);
        assert_eq!(datums[2].value(), Some(1.0));
        assert_eq!(datums[2].dimensions()[0].value(), Some("High traffic"));
        assert_eq!(datums[3].value(), Some(12.5));
    }

    #[test]
    fn namespaces_are_checked_like_cloudwatch_does() {
        assert!(check_namespace("httpmon").is_ok());
        assert!(check_namespace("httpmon/prod-1").is_ok());
        assert!(check_namespace("").is_err());
        assert!(check_namespace("AWS/EC2").is_err());
        assert!(check_namespace("bad$name").is_err());
        assert!(check_namespace(&"x".repeat(256)).is_err());
    }
}
