//! What an alert event says to a person: the message recorded with it.

use chrono::{DateTime, SecondsFormat, Utc};

use super::evaluation::{Transition, TransitionKind};
use super::rule::Comparison;

impl TransitionKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Triggered => "triggered",
            Self::Recovered => "recovered",
        }
    }
}

/// The second of an event as a time.
pub fn time_of(second: super::Second) -> DateTime<Utc> {
    DateTime::from_timestamp(second, 0).unwrap_or_default()
}

/// `High traffic generated an alert - hits = 12.50, triggered at 2019-03-01T10:02:00Z`, or the
/// recovery. A `below` rule speaks of low traffic.
pub fn message(transition: &Transition, comparison: Comparison) -> String {
    let traffic = match comparison {
        Comparison::Above => "high",
        Comparison::Below => "low",
    };
    let at = time_of(transition.at).to_rfc3339_opts(SecondsFormat::Secs, true);
    let value = transition.average;
    match transition.kind {
        TransitionKind::Triggered => {
            let mut traffic = traffic.to_string();
            traffic[..1].make_ascii_uppercase();
            format!("{traffic} traffic generated an alert - hits = {value:.2}, triggered at {at}")
        }
        TransitionKind::Recovered => {
            format!("Recovered from {traffic} traffic alert - hits = {value:.2}, recovered at {at}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_the_value_and_the_event_time() {
        let at = DateTime::parse_from_rfc3339("2019-03-01T10:02:00Z")
            .unwrap()
            .timestamp();
        let fired = Transition {
            kind: TransitionKind::Triggered,
            at,
            average: 12.5,
        };
        assert_eq!(
            message(&fired, Comparison::Above),
            "High traffic generated an alert - hits = 12.50, triggered at 2019-03-01T10:02:00Z"
        );
        let recovered = Transition {
            kind: TransitionKind::Recovered,
            at,
            average: 10.0,
        };
        assert_eq!(
            message(&recovered, Comparison::Above),
            "Recovered from high traffic alert - hits = 10.00, recovered at 2019-03-01T10:02:00Z"
        );
    }
}
