//! The soak watch: poll the named CloudWatch alarms until the period ends or one fires.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use aws_sdk_cloudwatch::types::StateValue;

pub struct Watch {
    pub names: Vec<String>,
    pub period: Duration,
    pub interval: Duration,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Alarm {
    pub name: String,
    pub firing: bool,
    pub reason: String,
}

impl Watch {
    /// None when the period passed quietly, or the alarms found in ALARM. An alarm that does
    /// not exist is an error: watching nothing must not pass for a quiet soak.
    pub async fn run(
        &self,
        client: &aws_sdk_cloudwatch::Client,
    ) -> anyhow::Result<Option<Vec<Alarm>>> {
        let started = Instant::now();
        eprintln!(
            "httpmon-deploy: watching {} alarm(s) for {} s: {}",
            self.names.len(),
            self.period.as_secs(),
            self.names.join(", ")
        );
        loop {
            let alarms = self.describe(client).await?;
            let missing = missing(&self.names, &alarms);
            if !missing.is_empty() {
                bail!("no such alarm: {}", missing.join(", "));
            }
            let firing: Vec<Alarm> = alarms.into_iter().filter(|alarm| alarm.firing).collect();
            if !firing.is_empty() {
                return Ok(Some(firing));
            }
            let elapsed = started.elapsed();
            if elapsed >= self.period {
                eprintln!("httpmon-deploy: no alarm fired in {} s", elapsed.as_secs());
                return Ok(None);
            }
            tokio::time::sleep(self.interval.min(self.period - elapsed)).await;
        }
    }

    async fn describe(&self, client: &aws_sdk_cloudwatch::Client) -> anyhow::Result<Vec<Alarm>> {
        let mut alarms = Vec::new();
        // DescribeAlarms takes at most 100 names a call.
        for names in self.names.chunks(100) {
            let output = client
                .describe_alarms()
                .set_alarm_names(Some(names.to_vec()))
                .send()
                .await
                .context("describing CloudWatch alarms")?;
            alarms.extend(output.metric_alarms().iter().map(|alarm| Alarm {
                name: alarm.alarm_name().unwrap_or_default().to_string(),
                firing: alarm.state_value() == Some(&StateValue::Alarm),
                reason: alarm.state_reason().unwrap_or_default().to_string(),
            }));
        }
        Ok(alarms)
    }
}

fn missing(names: &[String], found: &[Alarm]) -> Vec<String> {
    names
        .iter()
        .filter(|name| !found.iter().any(|alarm| &alarm.name == *name))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_without_an_alarm_are_missing() {
        let found = vec![Alarm {
            name: "s-ingest-5xx".into(),
            firing: false,
            reason: String::new(),
        }];
        let names = vec!["s-ingest-5xx".to_string(), "s-alb-5xx".to_string()];
        assert_eq!(missing(&names, &found), vec!["s-alb-5xx".to_string()]);
    }
}
