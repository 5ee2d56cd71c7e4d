//! Windows of event time, and how a window is read from the rollups.
//!
//! A [`Window`] is what a request asks for (`window=2m`, `from=..&to=latest`); it can only be
//! built by parsing the query, so handlers never see an invalid one. Resolving it against the
//! clock and the stored entry bounds gives an [`Interval`] of whole seconds, `from <= t < to`.
//! [`plan`] then covers that interval exactly with aligned rollup buckets: the coarsest that fit
//! in the middle, finer ones only at the ragged edges, so reading a window costs at most a few
//! dozen buckets per granularity, whatever its length.

use chrono::{DateTime, Utc};

/// Rollup bucket sizes, coarsest first. Days are UTC days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    Day,
    Hour,
    Minute,
    Second,
}

impl Granularity {
    pub const ALL: [Granularity; 4] = [Self::Day, Self::Hour, Self::Minute, Self::Second];

    pub fn seconds(self) -> i64 {
        match self {
            Self::Day => 86_400,
            Self::Hour => 3_600,
            Self::Minute => 60,
            Self::Second => 1,
        }
    }

    /// The suffix of this granularity's rollup tables (`section_hits_minute`).
    pub fn table_suffix(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Hour => "hour",
            Self::Minute => "minute",
            Self::Second => "second",
        }
    }

    /// The start of the bucket holding `t` (Unix seconds).
    pub fn floor(self, t: i64) -> i64 {
        t.div_euclid(self.seconds()) * self.seconds()
    }

    pub fn ceil(self, t: i64) -> i64 {
        let f = self.floor(t);
        if f == t {
            t
        } else {
            f + self.seconds()
        }
    }
}

/// A half-open range of Unix seconds, `from <= t < to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub from: i64,
    pub to: i64,
}

impl Interval {
    pub fn seconds(&self) -> i64 {
        (self.to - self.from).max(0)
    }

    pub fn is_empty(&self) -> bool {
        self.to <= self.from
    }
}

/// The oldest bucket start each finer granularity still holds (Unix seconds); day buckets
/// are kept forever. Older finer buckets have been dropped by retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizons {
    pub second: i64,
    pub minute: i64,
    pub hour: i64,
}

impl Horizons {
    /// Nothing dropped yet.
    pub const NONE: Horizons = Horizons {
        second: i64::MIN,
        minute: i64::MIN,
        hour: i64::MIN,
    };

    /// Whether buckets of `granularity` are still kept around time `t`.
    pub fn keeps(&self, granularity: Granularity, t: i64) -> bool {
        let horizon = match granularity {
            Granularity::Day => return true,
            Granularity::Hour => self.hour,
            Granularity::Minute => self.minute,
            Granularity::Second => self.second,
        };
        granularity.floor(t) >= horizon
    }

    /// The finest granularity still kept around time `t`.
    fn finest_at(&self, t: i64) -> Granularity {
        Granularity::ALL
            .into_iter()
            .rev()
            .find(|&g| self.keeps(g, t))
            .unwrap_or(Granularity::Day)
    }
}

impl Interval {
    /// Widens each end of the interval to the finest buckets still kept there, so reading it
    /// stays exact once old detail is dropped: a window reaching into last week counts whole
    /// minutes or hours at its edges, and says so in the interval it reports.
    pub fn widen_to_kept(self, horizons: &Horizons) -> Interval {
        if self.is_empty() {
            return self;
        }
        Interval {
            from: horizons.finest_at(self.from).floor(self.from),
            to: horizons.finest_at(self.to - 1).ceil(self.to),
        }
    }
}

/// One read of a rollup table: buckets of `granularity` starting in `from..to` (both aligned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub granularity: Granularity,
    pub from: i64,
    pub to: i64,
}

/// Covers `interval` exactly with aligned buckets, using only `levels` (coarsest first; the
/// last must be [`Granularity::Second`], which aligns with any whole-second bound). At most
/// one span for the coarsest level and two (one per edge) for each finer one.
pub fn plan(interval: Interval, levels: &[Granularity]) -> Vec<Span> {
    debug_assert_eq!(levels.last(), Some(&Granularity::Second));
    let mut spans = Vec::new();
    cover(interval.from, interval.to, levels, &mut spans);
    spans
}

fn cover(from: i64, to: i64, levels: &[Granularity], spans: &mut Vec<Span>) {
    if from >= to {
        return;
    }
    let Some((&granularity, finer)) = levels.split_first() else {
        return;
    };
    if finer.is_empty() {
        spans.push(Span {
            granularity,
            from,
            to,
        });
        return;
    }
    let (start, end) = (granularity.ceil(from), granularity.floor(to));
    if start < end {
        cover(from, start, finer, spans);
        spans.push(Span {
            granularity,
            from: start,
            to: end,
        });
        cover(end, to, finer, spans);
    } else {
        cover(from, to, finer, spans);
    }
}

/// The granularities whose buckets never straddle a boundary of `step`-long buckets aligned
/// on the Unix epoch: a time series may read only those.
pub fn levels_for_step(step: i64) -> Vec<Granularity> {
    Granularity::ALL
        .into_iter()
        .filter(|g| step % g.seconds() == 0)
        .collect()
}

/// Why a window could not be parsed, naming the query parameter at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ParamError {
    pub param: &'static str,
    pub detail: String,
}

fn param_error(param: &'static str, detail: impl Into<String>) -> ParamError {
    ParamError {
        param,
        detail: detail.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// The last `n` seconds before the end.
    Last(i64),
    /// Everything ever applied.
    All,
    At(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The end of the current second of the wall clock.
    Now,
    /// The end of the second of the newest entry (replayed logs).
    Latest,
    At(i64),
}

/// The window a request asks for, before the clock and the stored entries are consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    start: Start,
    end: End,
}

/// The default window when a request names none.
const DEFAULT_SECONDS: i64 = 10;
/// The longest relative window: ten years.
const MAX_SECONDS: i64 = 3_650 * 86_400;

/// The oldest and newest entry times applied so far (Unix seconds), if any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntryBounds {
    pub earliest: Option<i64>,
    pub latest: Option<i64>,
}

impl Window {
    /// Parses `window` (`10s`, `2m`, `1h`, `24h`, `7d`, `all`), `from` and `to` (RFC 3339 in
    /// whole seconds; `to` also `now` or `latest`). `window` and `from` exclude each other;
    /// `all` takes no `to`.
    pub fn parse(
        window: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Self, ParamError> {
        let end = match to.map(str::trim) {
            None | Some("now") => End::Now,
            Some("latest") => End::Latest,
            Some(t) => End::At(parse_time("to", t)?),
        };
        let start = match (window.map(str::trim), from.map(str::trim)) {
            (Some(_), Some(_)) => {
                return Err(param_error("from", "give either window or from, not both"))
            }
            (Some("all"), None) => {
                if to.is_some() {
                    return Err(param_error(
                        "to",
                        "window=all covers every entry and takes no to",
                    ));
                }
                Start::All
            }
            (Some(w), None) => Start::Last(parse_duration("window", w)?),
            (None, Some(f)) => Start::At(parse_time("from", f)?),
            (None, None) => Start::Last(DEFAULT_SECONDS),
        };
        if let (Start::At(from), End::At(to)) = (start, end) {
            if from >= to {
                return Err(param_error("to", "to must be after from"));
            }
        }
        Ok(Self { start, end })
    }

    /// True for `window=all`, which is answered from the all-time totals.
    pub fn is_all(&self) -> bool {
        self.start == Start::All
    }

    /// The seconds this window covers, given the wall clock `now` and the stored entries. A
    /// window ending at `latest` with no entry yet ends now; a start after the end is empty.
    pub fn resolve(&self, now: DateTime<Utc>, bounds: EntryBounds) -> Interval {
        let now_end = now.timestamp() + 1;
        if self.start == Start::All {
            return match (bounds.earliest, bounds.latest) {
                (Some(earliest), Some(latest)) => Interval {
                    from: earliest,
                    to: latest + 1,
                },
                _ => Interval {
                    from: now_end,
                    to: now_end,
                },
            };
        }
        let to = match self.end {
            End::Now => now_end,
            End::Latest => bounds.latest.map_or(now_end, |t| t + 1),
            End::At(t) => t,
        };
        let from = match self.start {
            Start::Last(seconds) => to - seconds,
            Start::At(t) => t.min(to),
            Start::All => unreachable!("handled above"),
        };
        Interval { from, to }
    }
}

/// `10s`, `2m`, `1h`, `7d` -> seconds.
pub fn parse_duration(param: &'static str, text: &str) -> Result<i64, ParamError> {
    let bad = || {
        param_error(
            param,
            format!("{param}={text:?} is not a duration: use a number and a unit, e.g. 10s, 2m, 1h, 24h, 7d"),
        )
    };
    if text.len() < 2 || !text.is_ascii() {
        return Err(bad());
    }
    let (number, unit) = text.split_at(text.len() - 1);
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let number: i64 = number.parse().map_err(|_| bad())?;
    let seconds = number.checked_mul(unit).ok_or_else(bad)?;
    if !(1..=MAX_SECONDS).contains(&seconds) {
        return Err(param_error(
            param,
            format!("{param} must be between 1s and 3650d"),
        ));
    }
    Ok(seconds)
}

fn parse_time(param: &'static str, text: &str) -> Result<i64, ParamError> {
    let time = DateTime::parse_from_rfc3339(text).map_err(|e| {
        param_error(
            param,
            format!("{param}={text:?} is not an RFC 3339 time such as 2024-05-01T12:00:00Z: {e}"),
        )
    })?;
    if time.timestamp_subsec_nanos() != 0 {
        return Err(param_error(
            param,
            format!("{param} must be a whole second: rollups count entries by the second"),
        ));
    }
    Ok(time.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const LEVELS: &[Granularity] = &Granularity::ALL;

    fn check_exact_cover(interval: Interval, spans: &[Span]) {
        let mut cursor = interval.from;
        let mut sorted = spans.to_vec();
        sorted.sort_by_key(|s| s.from);
        for span in &sorted {
            assert_eq!(span.from, cursor, "gap or overlap in {spans:?}");
            assert!(span.from < span.to);
            let g = span.granularity.seconds();
            assert_eq!(span.from.rem_euclid(g), 0, "{span:?} not aligned");
            assert_eq!(span.to.rem_euclid(g), 0, "{span:?} not aligned");
            cursor = span.to;
        }
        assert_eq!(cursor.max(interval.from), interval.to.max(interval.from));
    }

    #[test]
    fn plans_cover_windows_exactly_with_few_spans() {
        let base = 1_700_000_000; // not aligned to a day
        for (from, to) in [
            (base, base + 10),
            (base + 7, base + 127),
            (base - 3_601, base + 86_400 * 3 + 61),
            (86_400 * 10, 86_400 * 12),
            (base, base),
            (-86_401, 5),
        ] {
            let interval = Interval { from, to };
            let spans = plan(interval, LEVELS);
            check_exact_cover(interval, &spans);
            // One middle span, and at most two edges per finer level.
            assert!(spans.len() <= 7, "{spans:?}");
        }
    }

    #[test]
    fn the_middle_of_a_long_window_reads_the_coarsest_buckets() {
        let day = 86_400;
        let interval = Interval {
            from: 10 * day - 30,
            to: 12 * day + 3_600 + 60 + 5,
        };
        let spans = plan(interval, LEVELS);
        assert_eq!(
            spans,
            vec![
                Span {
                    granularity: Granularity::Second,
                    from: 10 * day - 30,
                    to: 10 * day
                },
                Span {
                    granularity: Granularity::Day,
                    from: 10 * day,
                    to: 12 * day
                },
                Span {
                    granularity: Granularity::Hour,
                    from: 12 * day,
                    to: 12 * day + 3_600
                },
                Span {
                    granularity: Granularity::Minute,
                    from: 12 * day + 3_600,
                    to: 12 * day + 3_660
                },
                Span {
                    granularity: Granularity::Second,
                    from: 12 * day + 3_660,
                    to: 12 * day + 3_665
                },
            ]
        );
    }

    #[test]
    fn windows_reaching_past_retention_widen_to_the_buckets_kept() {
        let day = 86_400;
        let horizons = Horizons {
            second: 10 * day,
            minute: 9 * day,
            hour: 5 * day,
        };
        // Recent: untouched.
        let recent = Interval {
            from: 10 * day + 7,
            to: 10 * day + 19,
        };
        assert_eq!(recent.widen_to_kept(&horizons), recent);
        // From inside the minute-only range, to inside the second range.
        let w = Interval {
            from: 9 * day + 65,
            to: 10 * day + 19,
        }
        .widen_to_kept(&horizons);
        assert_eq!(
            w,
            Interval {
                from: 9 * day + 60,
                to: 10 * day + 19
            }
        );
        // Older than every fine horizon: whole days.
        let w = Interval {
            from: 2 * day + 5,
            to: 3 * day + 5,
        }
        .widen_to_kept(&horizons);
        assert_eq!(
            w,
            Interval {
                from: 2 * day,
                to: 4 * day
            }
        );
        // The widened interval is covered by kept buckets only.
        for span in plan(w, &Granularity::ALL) {
            assert!(horizons.keeps(span.granularity, span.from), "{span:?}");
        }
        let w = Interval {
            from: 6 * day + 3_601,
            to: 10 * day + 19,
        }
        .widen_to_kept(&horizons);
        assert_eq!(w.from, 6 * day + 3_600);
        assert_eq!(
            Interval { from: 5, to: 5 }.widen_to_kept(&horizons),
            Interval { from: 5, to: 5 }
        );
    }

    #[test]
    fn a_step_only_reads_buckets_that_fit_in_it() {
        assert_eq!(levels_for_step(1), [Granularity::Second]);
        assert_eq!(levels_for_step(90), [Granularity::Second]);
        assert_eq!(
            levels_for_step(120),
            [Granularity::Minute, Granularity::Second]
        );
        assert_eq!(levels_for_step(86_400), Granularity::ALL);
    }

    #[test]
    fn windows_parse_and_resolve() {
        let now = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        let t = now.timestamp();
        let bounds = EntryBounds {
            earliest: Some(t - 1000),
            latest: Some(t - 100),
        };

        let w = Window::parse(None, None, None).unwrap();
        assert_eq!(
            w.resolve(now, bounds),
            Interval {
                from: t - 9,
                to: t + 1
            }
        );
        let w = Window::parse(Some("2m"), None, Some("latest")).unwrap();
        assert_eq!(
            w.resolve(now, bounds),
            Interval {
                from: t - 99 - 120,
                to: t - 99
            }
        );
        let w = Window::parse(Some("all"), None, None).unwrap();
        assert!(w.is_all());
        assert_eq!(
            w.resolve(now, bounds),
            Interval {
                from: t - 1000,
                to: t - 99
            }
        );
        let w = Window::parse(
            None,
            Some("2024-05-01T11:00:00Z"),
            Some("2024-05-01T13:00:00+01:00"),
        )
        .unwrap();
        assert_eq!(
            w.resolve(now, bounds),
            Interval {
                from: t - 3600,
                to: t
            }
        );
        let w = Window::parse(None, Some("2024-05-01T11:00:00Z"), None).unwrap();
        assert_eq!(
            w.resolve(now, bounds),
            Interval {
                from: t - 3600,
                to: t + 1
            }
        );
        // to=latest before any entry: ends now.
        let w = Window::parse(Some("1h"), None, Some("latest")).unwrap();
        assert_eq!(
            w.resolve(now, EntryBounds::default()),
            Interval {
                from: t + 1 - 3600,
                to: t + 1
            }
        );
    }

    #[test]
    fn bad_windows_name_their_parameter() {
        let param = |w: Option<&str>, f: Option<&str>, t: Option<&str>| {
            Window::parse(w, f, t).unwrap_err().param
        };
        assert_eq!(param(Some("5x"), None, None), "window");
        assert_eq!(param(Some("0s"), None, None), "window");
        assert_eq!(param(Some("-1m"), None, None), "window");
        assert_eq!(param(Some("s"), None, None), "window");
        assert_eq!(param(Some("99999999999d"), None, None), "window");
        assert_eq!(
            param(Some("1h"), Some("2024-05-01T11:00:00Z"), None),
            "from"
        );
        assert_eq!(param(None, Some("yesterday"), None), "from");
        assert_eq!(param(None, Some("2024-05-01T11:00:00.5Z"), None), "from");
        assert_eq!(param(None, None, Some("soon")), "to");
        assert_eq!(param(Some("all"), None, Some("latest")), "to");
        assert_eq!(
            param(
                None,
                Some("2024-05-01T11:00:00Z"),
                Some("2024-05-01T11:00:00Z")
            ),
            "to"
        );
    }
}
