//! Webhook delivery: each event POSTed as JSON to its rule's `webhook_url`, retried with
//! exponential backoff, its outcome recorded on the delivery.
//!
//! At least once: an event is marked delivered only after its receiver answered 2xx, so a
//! crash in between sends it again. The `Idempotency-Key` header (and the payload's `id`)
//! carry the event id, for receivers to drop repeats. Deliveries of one rule are not ordered
//! with respect to retries; receivers order by the event's `at` or `id`.

use std::time::Duration;

use kit::shutdown::Shutdown;
use sqlx::PgPool;

use crate::storage::deliveries::{self, DueDelivery};

#[derive(Debug, Clone, Copy)]
pub struct WebhookSettings {
    /// `ALERTS_WEBHOOK_MAX_ATTEMPTS`, default 8: attempts before a delivery is marked failed.
    pub max_attempts: i32,
    /// `ALERTS_WEBHOOK_BACKOFF_SECS`, default 1: the first retry's delay, doubled each time
    /// up to five minutes.
    pub backoff: Duration,
    /// `ALERTS_WEBHOOK_TIMEOUT_SECS`, default 5: how long one attempt may take.
    pub timeout: Duration,
    /// `ALERTS_WEBHOOK_POLL_SECS`, default 0.25: how often the queue is looked at.
    pub poll_interval: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            backoff: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
            poll_interval: Duration::from_millis(250),
        }
    }
}

/// The delay before retry number `attempt` (1 = the first retry).
pub fn backoff(settings: &WebhookSettings, attempt: i32) -> Duration {
    let factor = 2u32.saturating_pow((attempt - 1).clamp(0, 20) as u32);
    (settings.backoff * factor).min(Duration::from_secs(300))
}

/// Delivers due webhooks until shutdown.
pub async fn run(pool: PgPool, settings: WebhookSettings, mut shutdown: Shutdown) {
    let http = reqwest::Client::builder()
        .timeout(settings.timeout)
        .build()
        .expect("HTTP client");
    while !shutdown.is_triggered() {
        match deliver_due(&pool, &http, &settings).await {
            // A full batch: there may be more due right away.
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhook delivery step failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.poll_interval) => {}
            _ = shutdown.wait() => {}
        }
    }
    tracing::info!("webhook notifier stopped");
}

/// One batch: the row locks are held while the requests are made, so no other instance
/// sends the same events meanwhile.
async fn deliver_due(
    pool: &PgPool,
    http: &reqwest::Client,
    settings: &WebhookSettings,
) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let due = deliveries::take_due(&mut tx, 20).await?;
    let n = due.len();
    for delivery in due {
        let attempts = delivery.attempts + 1;
        match send(http, &delivery).await {
            Ok(()) => deliveries::delivered(&mut tx, delivery.event.id, attempts).await?,
            Err(error) => {
                let retry_in =
                    (attempts < settings.max_attempts).then(|| backoff(settings, attempts));
                tracing::warn!(event = delivery.event.id, attempts, %error, "webhook delivery failed");
                deliveries::attempt_failed(&mut tx, delivery.event.id, attempts, &error, retry_in)
                    .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(n)
}

async fn send(http: &reqwest::Client, delivery: &DueDelivery) -> Result<(), String> {
    let response = http
        .post(&delivery.url)
        .header("Idempotency-Key", delivery.event.id.to_string())
        .json(&delivery.event)
        .send()
        .await
        .map_err(|e| format!("{e}"))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_five_minutes() {
        let settings = WebhookSettings::default();
        let delays: Vec<u64> = (1..=5).map(|a| backoff(&settings, a).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16]);
        assert_eq!(backoff(&settings, 30), Duration::from_secs(300));
    }
}
