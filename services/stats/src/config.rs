//! stats' configuration: the shared service settings, the feed consumer, and how long each
//! granularity of rollup is kept.

use std::time::Duration;

use feed::consumer::ConsumerConfig;
use kit::config::{invalid, ConfigError, Env, ServiceConfig};

#[derive(Debug, Clone)]
pub struct StatsConfig {
    pub service: ServiceConfig,
    pub consumer: ConsumerConfig,
    pub retention: Retention,
}

/// How long rollups of each granularity are kept, counted back from the newest entry (or the
/// wall clock, whichever is earlier, so one entry stamped in the future cannot purge the rest).
/// Day buckets and the all-time totals are kept forever.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// `STATS_SECOND_RETENTION_SECS`, default 2 h.
    pub second: Duration,
    /// `STATS_MINUTE_RETENTION_SECS`, default 2 days.
    pub minute: Duration,
    /// `STATS_HOUR_RETENTION_SECS`, default 90 days.
    pub hour: Duration,
    /// `STATS_RETENTION_INTERVAL_SECS`, default 60: how often old buckets are dropped.
    pub interval: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            second: Duration::from_secs(2 * 3_600),
            minute: Duration::from_secs(2 * 86_400),
            hour: Duration::from_secs(90 * 86_400),
            interval: Duration::from_secs(60),
        }
    }
}

impl Retention {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Self::default();
        let retention = Self {
            second: env.seconds_or("STATS_SECOND_RETENTION_SECS", d.second)?,
            minute: env.seconds_or("STATS_MINUTE_RETENTION_SECS", d.minute)?,
            hour: env.seconds_or("STATS_HOUR_RETENTION_SECS", d.hour)?,
            interval: env.seconds_or("STATS_RETENTION_INTERVAL_SECS", d.interval)?,
        };
        // A window's ragged edges are read from the finer buckets: each granularity must be
        // kept at least as long as one bucket of the next coarser one.
        for (name, value, floor) in [
            ("STATS_SECOND_RETENTION_SECS", retention.second, 60),
            ("STATS_MINUTE_RETENTION_SECS", retention.minute, 3_600),
            ("STATS_HOUR_RETENTION_SECS", retention.hour, 86_400),
        ] {
            if value.as_secs() < floor {
                return Err(invalid(
                    name,
                    &value.as_secs_f64().to_string(),
                    &format!("must be at least {floor} seconds"),
                ));
            }
        }
        if retention.interval.is_zero() {
            return Err(invalid(
                "STATS_RETENTION_INTERVAL_SECS",
                "0",
                "must be above 0",
            ));
        }
        Ok(retention)
    }
}

impl StatsConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceConfig::from_env(env)?,
            consumer: ConsumerConfig::from_env(env)?,
            retention: Retention::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_defaults_and_limits() {
        let env = Env::from_pairs([
            ("DATABASE_URL", "postgres://x"),
            ("INGEST_URL", "http://i/"),
        ]);
        let config = StatsConfig::from_env(&env).unwrap();
        assert_eq!(config.retention.second, Duration::from_secs(7_200));
        assert_eq!(config.consumer.ingest_url, "http://i");

        let env = Env::from_pairs([("STATS_SECOND_RETENTION_SECS", "10")]);
        let err = Retention::from_env(&env).unwrap_err().to_string();
        assert!(err.starts_with("STATS_SECOND_RETENTION_SECS"), "{err}");
    }
}
