//! Time-series steps: buckets of `step` seconds aligned on the Unix epoch (so charts of
//! overlapping windows line up), clipped to the window at both ends.

use super::window::{parse_duration, Interval, ParamError};

/// The most buckets one time series answers with.
pub const MAX_POINTS: i64 = 1_000;

/// Steps tried, shortest first, when a request names none.
const NICE_STEPS: [i64; 16] = [
    1, 5, 10, 15, 30, 60, 300, 600, 900, 1_800, 3_600, 7_200, 21_600, 43_200, 86_400, 604_800,
];
/// About this many buckets when the step is chosen for the caller.
const DEFAULT_POINTS: i64 = 120;

/// A bucket length in seconds, only built by [`Step::parse`], which checks the bucket count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step(i64);

impl Step {
    /// `step` as given (`10s`, `1m`, `1h`), or a round step giving about 120 buckets.
    pub fn parse(step: Option<&str>, interval: Interval) -> Result<Self, ParamError> {
        let Some(text) = step else {
            let step = NICE_STEPS
                .into_iter()
                .find(|&s| bucket_count(interval, s) <= DEFAULT_POINTS)
                .unwrap_or_else(|| {
                    let days = ceil_div(interval.seconds(), DEFAULT_POINTS * 86_400).max(1);
                    days * 86_400
                });
            return Ok(Self(step));
        };
        let step = parse_duration("step", text.trim())?;
        let count = bucket_count(interval, step);
        if count > MAX_POINTS {
            return Err(ParamError {
                param: "step",
                detail: format!(
                    "step={text} gives {count} buckets over this window; at most {MAX_POINTS} \
                     are answered, so use a step of at least {}s",
                    ceil_div(interval.seconds(), MAX_POINTS - 1).max(1)
                ),
            });
        }
        Ok(Self(step))
    }

    pub fn seconds(self) -> i64 {
        self.0
    }

    /// The buckets covering `interval`: (start, end), the first and last clipped to it.
    pub fn buckets(self, interval: Interval) -> Vec<(i64, i64)> {
        if interval.is_empty() {
            return Vec::new();
        }
        let mut start = interval.from.div_euclid(self.0) * self.0;
        let mut buckets = Vec::new();
        while start < interval.to {
            buckets.push((start.max(interval.from), (start + self.0).min(interval.to)));
            start += self.0;
        }
        buckets
    }
}

fn bucket_count(interval: Interval, step: i64) -> i64 {
    if interval.is_empty() {
        return 0;
    }
    let first = interval.from.div_euclid(step) * step;
    ceil_div(interval.to - first, step)
}

/// `a / b` rounded up, for `a >= 0` and `b > 0` (`i64::div_ceil` is not stable).
fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1) / b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_epoch_aligned_and_clipped() {
        let interval = Interval {
            from: 1_000_005,
            to: 1_000_130,
        };
        let step = Step::parse(Some("1m"), interval).unwrap();
        assert_eq!(
            step.buckets(interval),
            [
                (1_000_005, 1_000_020),
                (1_000_020, 1_000_080),
                (1_000_080, 1_000_130)
            ]
        );
        assert!(step.buckets(Interval { from: 5, to: 5 }).is_empty());
    }

    #[test]
    fn default_steps_give_about_120_buckets() {
        let ten_seconds = Interval { from: 100, to: 110 };
        assert_eq!(Step::parse(None, ten_seconds).unwrap().seconds(), 1);
        let day = Interval {
            from: 0,
            to: 86_400,
        };
        assert_eq!(Step::parse(None, day).unwrap().seconds(), 900);
        let decade = Interval {
            from: 0,
            to: 3_650 * 86_400,
        };
        let step = Step::parse(None, decade).unwrap();
        assert!(step.buckets(decade).len() as i64 <= DEFAULT_POINTS);
    }

    #[test]
    fn too_many_buckets_name_the_step() {
        let day = Interval {
            from: 0,
            to: 86_400,
        };
        let err = Step::parse(Some("1s"), day).unwrap_err();
        assert_eq!(err.param, "step");
        assert_eq!(Step::parse(Some("fast"), day).unwrap_err().param, "step");
        assert!(Step::parse(Some("2m"), day).is_ok());
    }
}
