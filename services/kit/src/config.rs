//! Typed configuration read from the environment once, at startup.
//!
//! Every setting has a name, a default where one makes sense, and a parse that names the
//! variable when it fails, so a bad setting stops the service before it listens.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is required but not set")]
    Missing { name: String },
    #[error("{name}={value:?} is not valid: {reason}")]
    Invalid {
        name: String,
        value: String,
        reason: String,
    },
}

/// A snapshot of environment variables; tests build one from a map.
#[derive(Debug, Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// This environment with `name` set to `value` where it is unset.
    pub fn with_default(mut self, name: &str, value: impl Into<String>) -> Self {
        if self.raw(name).is_none() {
            self.0.insert(name.into(), value.into());
        }
        self
    }

    /// The raw value, treating an empty string as unset.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn required<T>(&self, name: &str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        let value = self
            .raw(name)
            .ok_or_else(|| ConfigError::Missing { name: name.into() })?;
        parse(name, value)
    }

    pub fn or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.raw(name) {
            Some(value) => parse(name, value),
            None => Ok(default),
        }
    }

    /// A duration written in seconds, e.g. `DATABASE_ACQUIRE_TIMEOUT_SECS=2`.
    pub fn seconds_or(&self, name: &str, default: Duration) -> Result<Duration, ConfigError> {
        let secs: f64 = self.or(name, default.as_secs_f64())?;
        if !(secs.is_finite() && secs >= 0.0) {
            return Err(invalid(
                name,
                &secs.to_string(),
                "must be a number of seconds >= 0",
            ));
        }
        Ok(Duration::from_secs_f64(secs))
    }
}

fn parse<T>(name: &str, value: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    value
        .parse()
        .map_err(|e: T::Err| invalid(name, value, &e.to_string()))
}

pub fn invalid(name: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        name: name.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

/// What every service reads: where to listen and which database to use.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// `PORT`, default 8080; 0 picks a free port (tests).
    pub port: u16,
    /// `HOST`, default `0.0.0.0`.
    pub host: String,
    pub database: DatabaseConfig,
    /// `HTTPMON_API_KEYS` and `HTTPMON_READS_NEED_KEY`: who may call (see [`crate::access`]).
    pub access: crate::access::Access,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `DATABASE_URL`, required.
    pub url: String,
    /// `DATABASE_MAX_CONNECTIONS`, default 10.
    pub max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT_SECS`, default 2: how long a request waits for a connection
    /// before it is answered 503, so an unreachable database never makes requests hang.
    pub acquire_timeout: Duration,
    /// `DATABASE_STARTUP_TIMEOUT_SECS`, default 60: how long startup waits for the database.
    pub startup_timeout: Duration,
}

impl ServiceConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let max_connections = env.or("DATABASE_MAX_CONNECTIONS", 10u32)?;
        if max_connections == 0 {
            return Err(invalid(
                "DATABASE_MAX_CONNECTIONS",
                "0",
                "must be at least 1",
            ));
        }
        Ok(Self {
            port: env.or("PORT", 8080)?,
            host: env.or("HOST", "0.0.0.0".to_string())?,
            database: DatabaseConfig {
                url: env.required("DATABASE_URL")?,
                max_connections,
                acquire_timeout: env
                    .seconds_or("DATABASE_ACQUIRE_TIMEOUT_SECS", Duration::from_secs(2))?,
                startup_timeout: env
                    .seconds_or("DATABASE_STARTUP_TIMEOUT_SECS", Duration::from_secs(60))?,
            },
            access: crate::access::Access::from_env(env)?,
        })
    }

    pub fn address(&self) -> (String, u16) {
        (self.host.clone(), self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_and_database_url_is_required() {
        let err = ServiceConfig::from_env(&Env::default()).unwrap_err();
        assert_eq!(err.to_string(), "DATABASE_URL is required but not set");

        let config =
            ServiceConfig::from_env(&Env::from_pairs([("DATABASE_URL", "postgres://x")])).unwrap();
        assert_eq!(config.port, 8080);
        assert_eq!(config.database.max_connections, 10);
        assert_eq!(config.database.acquire_timeout, Duration::from_secs(2));
    }

    #[test]
    fn a_bad_value_names_the_variable() {
        let env = Env::from_pairs([("DATABASE_URL", "postgres://x"), ("PORT", "eighty")]);
        let err = ServiceConfig::from_env(&env).unwrap_err().to_string();
        assert!(err.starts_with("PORT=\"eighty\" is not valid"), "{err}");
    }
}
