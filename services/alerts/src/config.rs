//! alerts' configuration: the shared service settings, the feed consumer's, and its own.

use std::time::Duration;

use feed::consumer::ConsumerConfig;
use kit::config::{invalid, ConfigError, Env, ServiceConfig};

use crate::domain::rule::{DEFAULT_THRESHOLD, DEFAULT_WINDOW_SECONDS, MAX_WINDOW_SECONDS};
use crate::notify::cloudwatch::{self, CloudWatchSettings};
use crate::notify::webhook::WebhookSettings;

#[derive(Debug, Clone)]
pub struct AlertsConfig {
    pub service: ServiceConfig,
    pub settings: AlertSettings,
}

/// What the alerts library needs, standalone or mounted in the monolith.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    pub consumer: ConsumerConfig,
    /// `ALERTS_LATENESS_SECS`, default 2: how long a second stays open for late entries
    /// before it is decided (see `domain::evaluation`).
    pub lateness_seconds: i64,
    /// `ALERTS_TICK_INTERVAL_SECS`, default 0.5: how often the wall clock advances the rules.
    pub tick_interval: Duration,
    /// How long per-second counts are kept (see [`CountsRetention`]).
    pub counts_retention: CountsRetention,
    /// `ALERTS_DEFAULT_WINDOW_SECS` (default 120) and `ALERTS_DEFAULT_THRESHOLD` (default 10):
    /// the rule created on first start.
    pub default_window_seconds: i64,
    pub default_threshold: f64,
    pub webhook: WebhookSettings,
    /// CloudWatch metrics, published only when `ALERTS_CLOUDWATCH_NAMESPACE` is set (see
    /// `notify::cloudwatch`): the namespace is required to publish at all, since the task
    /// role may put metrics in its own namespace only.
    pub cloudwatch: Option<CloudWatchSettings>,
}

impl AlertSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let lateness_seconds: i64 = env.or("ALERTS_LATENESS_SECS", 2)?;
        if !(0..=3600).contains(&lateness_seconds) {
            return Err(invalid(
                "ALERTS_LATENESS_SECS",
                &lateness_seconds.to_string(),
                "must be 0..=3600",
            ));
        }
        let default_window_seconds =
            env.or("ALERTS_DEFAULT_WINDOW_SECS", DEFAULT_WINDOW_SECONDS)?;
        if !(1..=MAX_WINDOW_SECONDS).contains(&default_window_seconds) {
            return Err(invalid(
                "ALERTS_DEFAULT_WINDOW_SECS",
                &default_window_seconds.to_string(),
                &format!("must be 1..={MAX_WINDOW_SECONDS}"),
            ));
        }
        let default_threshold: f64 = env.or("ALERTS_DEFAULT_THRESHOLD", DEFAULT_THRESHOLD)?;
        if !(default_threshold.is_finite() && default_threshold > 0.0) {
            return Err(invalid(
                "ALERTS_DEFAULT_THRESHOLD",
                &default_threshold.to_string(),
                "must be > 0",
            ));
        }
        let tick_interval =
            env.seconds_or("ALERTS_TICK_INTERVAL_SECS", Duration::from_millis(500))?;
        if tick_interval.is_zero() {
            return Err(invalid(
                "ALERTS_TICK_INTERVAL_SECS",
                "0",
                "must be more than 0",
            ));
        }
        let counts_retention = CountsRetention {
            keep: env.seconds_or(
                "ALERTS_COUNTS_RETENTION_SECS",
                Duration::from_secs(2 * 86_400),
            )?,
            interval: env.seconds_or(
                "ALERTS_COUNTS_RETENTION_INTERVAL_SECS",
                Duration::from_secs(60),
            )?,
        };
        if counts_retention.keep < Duration::from_secs(MAX_WINDOW_SECONDS as u64) {
            return Err(invalid(
                "ALERTS_COUNTS_RETENTION_SECS",
                &counts_retention.keep.as_secs_f64().to_string(),
                &format!("must be at least {MAX_WINDOW_SECONDS} (the longest rule window)"),
            ));
        }
        if counts_retention.interval.is_zero() {
            return Err(invalid(
                "ALERTS_COUNTS_RETENTION_INTERVAL_SECS",
                "0",
                "must be more than 0",
            ));
        }
        let defaults = WebhookSettings::default();
        let max_attempts: i32 = env.or("ALERTS_WEBHOOK_MAX_ATTEMPTS", defaults.max_attempts)?;
        if max_attempts < 1 {
            return Err(invalid(
                "ALERTS_WEBHOOK_MAX_ATTEMPTS",
                &max_attempts.to_string(),
                "must be at least 1",
            ));
        }
        Ok(Self {
            cloudwatch: cloudwatch_from_env(env)?,
            consumer: ConsumerConfig::from_env(env)?,
            lateness_seconds,
            tick_interval,
            counts_retention,
            default_window_seconds,
            default_threshold,
            webhook: WebhookSettings {
                max_attempts,
                backoff: env.seconds_or("ALERTS_WEBHOOK_BACKOFF_SECS", defaults.backoff)?,
                timeout: env.seconds_or("ALERTS_WEBHOOK_TIMEOUT_SECS", defaults.timeout)?,
                poll_interval: env
                    .seconds_or("ALERTS_WEBHOOK_POLL_SECS", defaults.poll_interval)?,
            },
        })
    }
}

/// Per-second counts are dropped once nothing can read them again, and at the earliest
/// `keep` behind the newest second (`ALERTS_COUNTS_RETENTION_SECS`, default 2 days, at least
/// the longest window): late entries older than that are judged without the counts already
/// dropped around them. Checked every `interval` (`ALERTS_COUNTS_RETENTION_INTERVAL_SECS`,
/// default 60).
#[derive(Debug, Clone, Copy)]
pub struct CountsRetention {
    pub keep: Duration,
    pub interval: Duration,
}

fn cloudwatch_from_env(env: &Env) -> Result<Option<CloudWatchSettings>, ConfigError> {
    const NAMESPACE: &str = "ALERTS_CLOUDWATCH_NAMESPACE";
    const INTERVAL: &str = "ALERTS_CLOUDWATCH_INTERVAL_SECS";
    let Some(namespace) = env.raw(NAMESPACE) else {
        if let Some(interval) = env.raw(INTERVAL) {
            return Err(invalid(
                INTERVAL,
                interval,
                &format!("CloudWatch metrics are off: set {NAMESPACE} to publish them"),
            ));
        }
        return Ok(None);
    };
    cloudwatch::check_namespace(namespace)
        .map_err(|reason| invalid(NAMESPACE, namespace, reason))?;
    let interval = env.seconds_or(INTERVAL, cloudwatch::DEFAULT_INTERVAL)?;
    if interval.is_zero() || interval > Duration::from_secs(3600) {
        return Err(invalid(
            INTERVAL,
            &interval.as_secs_f64().to_string(),
            "must be more than 0 and at most 3600",
        ));
    }
    Ok(Some(CloudWatchSettings {
        namespace: namespace.to_string(),
        interval,
    }))
}

impl AlertsConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceConfig::from_env(env)?,
            settings: AlertSettings::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let env = Env::from_pairs([
            ("DATABASE_URL", "postgres://x"),
            ("INGEST_URL", "http://ingest:8080/"),
        ]);
        let config = AlertsConfig::from_env(&env).unwrap();
        assert_eq!(config.settings.lateness_seconds, 2);
        assert_eq!(config.settings.default_window_seconds, 120);
        assert_eq!(config.settings.default_threshold, 10.0);
        assert_eq!(config.settings.consumer.ingest_url, "http://ingest:8080");

        let env = Env::from_pairs([
            ("DATABASE_URL", "postgres://x"),
            ("INGEST_URL", "http://i"),
            ("ALERTS_DEFAULT_THRESHOLD", "0"),
        ]);
        let err = AlertsConfig::from_env(&env).unwrap_err().to_string();
        assert!(err.starts_with("ALERTS_DEFAULT_THRESHOLD"), "{err}");
    }

    #[test]
    fn counts_are_kept_at_least_as_long_as_the_longest_window() {
        let base = [("DATABASE_URL", "postgres://x"), ("INGEST_URL", "http://i")];
        let config = AlertsConfig::from_env(&Env::from_pairs(base)).unwrap();
        assert_eq!(
            config.settings.counts_retention.keep,
            Duration::from_secs(2 * 86_400)
        );
        let short = base
            .into_iter()
            .chain([("ALERTS_COUNTS_RETENTION_SECS", "3600")]);
        let err = AlertsConfig::from_env(&Env::from_pairs(short))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("ALERTS_COUNTS_RETENTION_SECS"), "{err}");
    }

    #[test]
    fn cloudwatch_is_off_unless_a_namespace_is_set() {
        let base = [("DATABASE_URL", "postgres://x"), ("INGEST_URL", "http://i")];
        let config = AlertsConfig::from_env(&Env::from_pairs(base)).unwrap();
        assert_eq!(config.settings.cloudwatch, None);

        let with = |extra: &[(&'static str, &'static str)]| {
            AlertsConfig::from_env(&Env::from_pairs(base.iter().chain(extra).copied()))
        };
        let on = with(&[("ALERTS_CLOUDWATCH_NAMESPACE", "httpmon")]).unwrap();
        assert_eq!(
            on.settings.cloudwatch,
            Some(CloudWatchSettings {
                namespace: "httpmon".into(),
                interval: Duration::from_secs(60),
            })
        );
        let fast = with(&[
            ("ALERTS_CLOUDWATCH_NAMESPACE", "httpmon"),
            ("ALERTS_CLOUDWATCH_INTERVAL_SECS", "0.2"),
        ])
        .unwrap();
        assert_eq!(
            fast.settings.cloudwatch.unwrap().interval,
            Duration::from_millis(200)
        );

        // An interval without a namespace is a mistake, not a silent no-op.
        let err = with(&[("ALERTS_CLOUDWATCH_INTERVAL_SECS", "10")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("ALERTS_CLOUDWATCH_NAMESPACE"), "{err}");
        let err = with(&[("ALERTS_CLOUDWATCH_NAMESPACE", "AWS/EC2")])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("ALERTS_CLOUDWATCH_NAMESPACE"), "{err}");
        let err = with(&[
            ("ALERTS_CLOUDWATCH_NAMESPACE", "httpmon"),
            ("ALERTS_CLOUDWATCH_INTERVAL_SECS", "0"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("ALERTS_CLOUDWATCH_INTERVAL_SECS"), "{err}");
    }
}
