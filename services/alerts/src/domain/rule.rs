//! Rules: what to watch (a metric), over which window, against which threshold. Values are
//! only built by parsing, so everything past the HTTP layer holds a valid rule.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Longest window a rule may average over: one day.
pub const MAX_WINDOW_SECONDS: i64 = 86_400;
pub const DEFAULT_WINDOW_SECONDS: i64 = 120;
pub const DEFAULT_THRESHOLD: f64 = 10.0;

/// What a rule counts, per second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metric {
    /// Every entry.
    Hits,
    /// Entries with a 5xx status.
    Errors5xx,
    /// Entries of one section (`/pages`).
    SectionHits(String),
}

impl Metric {
    /// The name used in the API and the database.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Hits => "hits",
            Self::Errors5xx => "errors_5xx",
            Self::SectionHits(_) => "section_hits",
        }
    }

    pub fn section(&self) -> Option<&str> {
        match self {
            Self::SectionHits(section) => Some(section),
            _ => None,
        }
    }

    /// Rebuilds a stored metric; `None` when the stored pair is not one this version knows.
    pub fn from_parts(name: &str, section: Option<String>) -> Option<Self> {
        match (name, section) {
            ("hits", _) => Some(Self::Hits),
            ("errors_5xx", _) => Some(Self::Errors5xx),
            ("section_hits", Some(section)) => Some(Self::SectionHits(section)),
            _ => None,
        }
    }

    /// Whether an entry with this section and status counts for the metric.
    pub fn counts(&self, section: &str, status: u16) -> bool {
        match self {
            Self::Hits => true,
            Self::Errors5xx => status / 100 == 5,
            Self::SectionHits(s) => s == section,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Comparison {
    /// Alert while the average is strictly above the threshold.
    Above,
    /// Alert while the average is strictly below the threshold.
    Below,
}

impl Comparison {
    pub fn name(self) -> &'static str {
        match self {
            Self::Above => "above",
            Self::Below => "below",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "above" => Some(Self::Above),
            "below" => Some(Self::Below),
            _ => None,
        }
    }
}

/// The part of a rule the state machine needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Condition {
    /// Seconds averaged over, 1..=86400.
    pub window_seconds: i64,
    /// Average hits per second, > 0.
    pub threshold: f64,
    pub comparison: Comparison,
}

impl Condition {
    /// Whether `average` is on the alerting side of the threshold.
    pub fn breached(&self, average: f64) -> bool {
        match self.comparison {
            Comparison::Above => average > self.threshold,
            Comparison::Below => average < self.threshold,
        }
    }

    /// Whether a decision taken on the counts seen so far can no longer change. More entries
    /// only ever raise an average, so an average already above the threshold stays above it
    /// whatever still arrives: such decisions may be taken before the second is complete.
    pub fn is_final(&self, average: f64) -> bool {
        match self.comparison {
            Comparison::Above => average > self.threshold,
            Comparison::Below => average >= self.threshold,
        }
    }
}

/// A valid rule as clients define it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    pub name: String,
    pub metric: Metric,
    pub condition: Condition,
    pub webhook_url: Option<String>,
}

/// One field that did not validate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

impl RuleSpec {
    /// Parses a JSON rule definition, reporting every invalid field at once. Absent fields
    /// take their defaults (metric `hits`, window 120 s, threshold 10/s, comparison `above`).
    pub fn parse(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let Some(object) = body.as_object() else {
            return Err(vec![FieldError {
                field: "body",
                reason: "must be a JSON object".into(),
            }]);
        };
        const KNOWN: [&str; 7] = [
            "name",
            "metric",
            "section",
            "window_seconds",
            "threshold",
            "comparison",
            "webhook_url",
        ];
        for key in object.keys() {
            if !KNOWN.contains(&key.as_str())
                && !["id", "created_at", "updated_at"].contains(&key.as_str())
            {
                errors.push(FieldError {
                    field: "body",
                    reason: format!(
                        "unknown field `{key}`; expected one of {}",
                        KNOWN.join(", ")
                    ),
                });
            }
        }
        let mut fail =
            |field: &'static str, reason: String| errors.push(FieldError { field, reason });

        let name = match text(object, "name") {
            Ok(Some(n)) if !n.trim().is_empty() && n.chars().count() <= 200 => n.trim().to_string(),
            Ok(Some(_)) => {
                fail("name", "must be 1 to 200 characters".into());
                String::new()
            }
            Ok(None) => {
                fail("name", "is required: a short name for the rule".into());
                String::new()
            }
            Err(reason) => {
                fail("name", reason);
                String::new()
            }
        };

        let section = match text(object, "section") {
            Ok(s) => s,
            Err(reason) => {
                fail("section", reason);
                None
            }
        };
        let metric = match text(object, "metric") {
            Ok(None) | Ok(Some("hits")) => Some(Metric::Hits),
            Ok(Some("errors_5xx")) => Some(Metric::Errors5xx),
            Ok(Some("section_hits")) => match section {
                Some(s) if s.starts_with('/') && !s[1..].contains('/') && s.len() <= 1024 => {
                    Some(Metric::SectionHits(s.to_string()))
                }
                Some(_) => {
                    fail(
                        "section",
                        "must be a section like `/pages`: a `/` and one path segment".into(),
                    );
                    None
                }
                None => {
                    fail(
                        "section",
                        "is required when metric is `section_hits`".into(),
                    );
                    None
                }
            },
            Ok(Some(other)) => {
                fail(
                    "metric",
                    format!("`{other}` is not a metric; expected `hits`, `errors_5xx` or `section_hits`"),
                );
                None
            }
            Err(reason) => {
                fail("metric", reason);
                None
            }
        };
        if section.is_some() && !matches!(metric, Some(Metric::SectionHits(_)) | None) {
            fail(
                "section",
                "is only allowed with metric `section_hits`".into(),
            );
        }

        let window_seconds = match object.get("window_seconds") {
            None | Some(Value::Null) => DEFAULT_WINDOW_SECONDS,
            Some(v) => match v.as_i64() {
                Some(w) if (1..=MAX_WINDOW_SECONDS).contains(&w) => w,
                _ => {
                    fail(
                        "window_seconds",
                        format!("must be a whole number of seconds from 1 to {MAX_WINDOW_SECONDS}"),
                    );
                    DEFAULT_WINDOW_SECONDS
                }
            },
        };
        let threshold = match object.get("threshold") {
            None | Some(Value::Null) => DEFAULT_THRESHOLD,
            Some(v) => match v.as_f64() {
                Some(t) if t.is_finite() && t > 0.0 => t,
                _ => {
                    fail(
                        "threshold",
                        "must be a number of hits per second greater than 0".into(),
                    );
                    DEFAULT_THRESHOLD
                }
            },
        };
        let comparison = match text(object, "comparison") {
            Ok(None) => Comparison::Above,
            Ok(Some(c)) => Comparison::parse(c).unwrap_or_else(|| {
                fail(
                    "comparison",
                    format!("`{c}` is not a comparison; expected `above` or `below`"),
                );
                Comparison::Above
            }),
            Err(reason) => {
                fail("comparison", reason);
                Comparison::Above
            }
        };
        let webhook_url = match text(object, "webhook_url") {
            Ok(None) => None,
            Ok(Some(url)) => match check_url(url) {
                Ok(()) => Some(url.to_string()),
                Err(reason) => {
                    fail("webhook_url", reason);
                    None
                }
            },
            Err(reason) => {
                fail("webhook_url", reason);
                None
            }
        };

        match metric {
            Some(metric) if errors.is_empty() => Ok(Self {
                name,
                metric,
                condition: Condition {
                    window_seconds,
                    threshold,
                    comparison,
                },
                webhook_url,
            }),
            _ => Err(errors),
        }
    }
}

/// A string field, `None` when absent or null.
fn text<'a>(object: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, String> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("must be a string, not {other}")),
    }
}

fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or("must be an http:// or https:// URL")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) || url.len() > 2048 {
        return Err("must be an http:// or https:// URL with a host".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_fill_what_is_left_out() {
        let spec = RuleSpec::parse(&json!({ "name": "traffic" })).unwrap();
        assert_eq!(spec.metric, Metric::Hits);
        assert_eq!(
            spec.condition,
            Condition {
                window_seconds: 120,
                threshold: 10.0,
                comparison: Comparison::Above
            }
        );
        assert_eq!(spec.webhook_url, None);
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors = RuleSpec::parse(&json!({
            "name": "", "metric": "bytes", "window_seconds": 0, "threshold": -1,
            "comparison": "equal", "webhook_url": "ftp://x", "extra": 1
        }))
        .unwrap_err();
        let mut fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "body",
                "comparison",
                "metric",
                "name",
                "threshold",
                "webhook_url",
                "window_seconds"
            ]
        );
    }

    #[test]
    fn a_section_rule_needs_a_section() {
        let errors =
            RuleSpec::parse(&json!({ "name": "x", "metric": "section_hits" })).unwrap_err();
        assert_eq!(errors[0].field, "section");
        let spec =
            RuleSpec::parse(&json!({ "name": "x", "metric": "section_hits", "section": "/api" }))
                .unwrap();
        assert_eq!(spec.metric, Metric::SectionHits("/api".into()));
        let errors = RuleSpec::parse(&json!({ "name": "x", "section": "/api" })).unwrap_err();
        assert_eq!(errors[0].field, "section");
    }

    #[test]
    fn windows_and_thresholds_have_bounds() {
        assert!(RuleSpec::parse(&json!({ "name": "x", "window_seconds": 86_400 })).is_ok());
        assert!(RuleSpec::parse(&json!({ "name": "x", "window_seconds": 86_401 })).is_err());
        assert!(RuleSpec::parse(&json!({ "name": "x", "window_seconds": 1.5 })).is_err());
        assert!(RuleSpec::parse(&json!({ "name": "x", "threshold": 0 })).is_err());
        assert!(RuleSpec::parse(&json!({ "name": "x", "threshold": 0.5 })).is_ok());
    }

    #[test]
    fn metrics_count_the_entries_they_name() {
        assert!(Metric::Errors5xx.counts("/a", 503));
        assert!(!Metric::Errors5xx.counts("/a", 404));
        assert!(Metric::SectionHits("/a".into()).counts("/a", 200));
        assert!(!Metric::SectionHits("/a".into()).counts("/b", 200));
    }
}
