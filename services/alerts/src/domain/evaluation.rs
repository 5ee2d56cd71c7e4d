//! The alert state machine of one rule, in event time.
//!
//! **The average at second `t`** is the sum of the rule's hits in the seconds
//! `(t - window, t]` divided by the window's length. A rule is evaluated once at every
//! second, in order; it triggers when the average crosses to the alerting side of its
//! threshold (strictly above for `above`) and recovers when it comes back (to or below the
//! threshold). An event's time is the second it was decided at.
//!
//! **When a second is decided.** Second `t` is complete once every entry of it has arrived.
//! We wait `lateness` seconds for stragglers: `t` is decided once the newest event time seen
//! reaches `t + 1 + lateness` (replays and live traffic alike: evaluation follows the log's
//! own clock, so a replayed log yields the alerts it yielded live), or once the wall clock
//! does (so an alert recovers after traffic stops and no entry arrives at all). Event time
//! is never trusted past the wall clock, so one entry from the future cannot fast-forward a
//! rule. A decision that more entries could not change (an average already above the
//! threshold only grows) is taken at once, before the second is complete: a live alert fires
//! as soon as the entry that crosses the threshold is applied.
//!
//! **Entries later than the lateness** are counted (they are part of the record and of every
//! window decided after they arrive) and they rewind the rule to re-decide the seconds they
//! fall in, but never before the rule's last transition: an event once emitted is never
//! contradicted or repeated. So late data can add alerts after the last one, and a historical
//! log posted to a service that has been running on the wall clock for days is evaluated in
//! its own time, as the replay it is.
//!
//! Evaluation is exact but skips ahead: the average changes only at seconds where a counted
//! second enters or leaves the window, so only those are examined; a day of silence costs
//! nothing.

use super::rule::Condition;
use super::Second;

/// Where a rule stands; persisted with the read model so restarts resume it exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleState {
    /// Whether the rule is alerting.
    pub active: bool,
    /// Every second up to this one is decided.
    pub evaluated_through: Second,
    /// The second of the rule's last event; late entries never rewind before it.
    pub last_transition: Option<Second>,
}

impl RuleState {
    /// A new rule decides nothing before `now`; replays rewind it as they arrive.
    pub fn starting_at(now: Second) -> Self {
        Self {
            active: false,
            evaluated_through: now,
            last_transition: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionKind {
    Triggered,
    Recovered,
}

/// A decision that changed the rule's state: an alert event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    pub kind: TransitionKind,
    /// The second it was decided at (event time).
    pub at: Second,
    /// The window's average hits per second at that second.
    pub average: f64,
}

/// How far a rule may be decided: every second through `complete`, and beyond it, up to
/// `eager`, the seconds whose decision cannot change any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    pub complete: Second,
    pub eager: Second,
}

/// The time source; injected so the state machine is tested with a hand-set clock.
pub trait Clock: Send + Sync + 'static {
    /// Seconds since the Unix epoch, rounded down.
    fn now(&self) -> Second;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Second {
        chrono::Utc::now().timestamp()
    }
}

/// Turns arrivals and the passing of time into horizons (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeline {
    /// Seconds a second stays open for late entries after it ends.
    pub lateness: i64,
}

impl Timeline {
    /// After a page of entries: `newest` is the newest event second in the page, and
    /// `earliest_counted` the earliest second among the page's entries the rule counts.
    pub fn on_entries(
        &self,
        state: &mut RuleState,
        earliest_counted: Option<Second>,
        newest: Second,
        now: Second,
    ) -> Horizon {
        if let Some(earliest) = earliest_counted {
            if earliest <= state.evaluated_through {
                let floor = state.last_transition.unwrap_or(Second::MIN);
                state.evaluated_through = (earliest - 1).max(floor);
            }
        }
        let newest = newest.min(now);
        Horizon {
            complete: newest - 1 - self.lateness,
            eager: newest,
        }
    }

    /// When time passes with no entries (only while the consumer has read all of the feed,
    /// so that a replay being read is never overtaken by the wall clock).
    pub fn on_tick(&self, now: Second) -> Horizon {
        Horizon {
            complete: now - 1 - self.lateness,
            eager: now,
        }
    }
}

/// Advances `state` as far as `horizon` allows over `counts`: the rule's hits per second,
/// sorted by second, holding at least every second in `(evaluated_through - window,
/// horizon.eager]` (seconds outside that range are ignored).
pub fn advance(
    condition: &Condition,
    state: &mut RuleState,
    counts: &[(Second, i64)],
    horizon: Horizon,
) -> Vec<Transition> {
    let window = condition.window_seconds;
    let from = state.evaluated_through;
    let end = horizon.complete.max(horizon.eager);
    let mut transitions = Vec::new();
    if end <= from {
        return transitions;
    }

    // The seconds where the average may change: where a counted second enters the window
    // (`s`) or leaves it (`s + window`), plus the first undecided second and the first one
    // past the complete horizon (where decisions start to need finality).
    let mut candidates: Vec<Second> = vec![from + 1, horizon.complete + 1];
    for &(s, _) in counts {
        candidates.push(s);
        candidates.push(s.saturating_add(window));
    }
    candidates.retain(|&t| t > from && t <= end);
    candidates.sort_unstable();
    candidates.dedup();

    let mut prefix = Vec::with_capacity(counts.len() + 1);
    prefix.push(0i64);
    for &(_, hits) in counts {
        prefix.push(prefix.last().unwrap() + hits);
    }
    let sum_through = |t: Second| prefix[counts.partition_point(|&(s, _)| s <= t)];

    for (i, &t) in candidates.iter().enumerate() {
        // The average is the same from `t` up to the next candidate.
        let segment_end = candidates.get(i + 1).map_or(end, |next| next - 1);
        let average = (sum_through(t) - sum_through(t - window)) as f64 / window as f64;
        if t > horizon.complete && !condition.is_final(average) {
            break;
        }
        let breached = condition.breached(average);
        if breached != state.active {
            let kind = if breached {
                TransitionKind::Triggered
            } else {
                TransitionKind::Recovered
            };
            transitions.push(Transition {
                kind,
                at: t,
                average,
            });
            state.active = breached;
            state.last_transition = Some(t);
        }
        state.evaluated_through = segment_end;
    }
    transitions
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::TransitionKind::{Recovered, Triggered};
    use super::*;
    use crate::domain::rule::{Comparison, Metric};

    const T0: Second = 1_500_000_000;

    fn above(window_seconds: i64, threshold: f64) -> Condition {
        Condition {
            window_seconds,
            threshold,
            comparison: Comparison::Above,
        }
    }

    /// One rule fed by a pretend consumer: entries arrive in pages, the clock is set by hand.
    struct Harness {
        metric: Metric,
        condition: Condition,
        timeline: Timeline,
        state: RuleState,
        counts: BTreeMap<Second, i64>,
        events: Vec<(TransitionKind, Second)>,
    }

    impl Harness {
        fn new(metric: Metric, condition: Condition, lateness: i64, created: Second) -> Self {
            Self {
                metric,
                condition,
                timeline: Timeline { lateness },
                state: RuleState::starting_at(created),
                counts: BTreeMap::new(),
                events: Vec::new(),
            }
        }

        /// A page of `(second, section, status)` entries applied at wall time `now`.
        fn page(&mut self, entries: &[(Second, &str, u16)], now: Second) {
            let mut earliest = None;
            for &(s, section, status) in entries {
                if self.metric.counts(section, status) {
                    *self.counts.entry(s).or_default() += 1;
                    earliest = Some(earliest.map_or(s, |e: Second| e.min(s)));
                }
            }
            let newest = entries.iter().map(|e| e.0).max().unwrap();
            let horizon = self
                .timeline
                .on_entries(&mut self.state, earliest, newest, now);
            self.run(horizon);
        }

        fn tick(&mut self, now: Second) {
            let horizon = self.timeline.on_tick(now);
            self.run(horizon);
        }

        fn run(&mut self, horizon: Horizon) {
            let counts: Vec<(Second, i64)> = self.counts.iter().map(|(s, h)| (*s, *h)).collect();
            for t in advance(&self.condition, &mut self.state, &counts, horizon) {
                self.events.push((t.kind, t.at));
            }
        }
    }

    fn hits(second: Second, n: usize) -> Vec<(Second, &'static str, u16)> {
        vec![(second, "/", 200); n]
    }

    /// The reference: every second evaluated by brute force over complete data.
    fn brute_force(
        condition: &Condition,
        counts: &BTreeMap<Second, i64>,
        from: Second,
        to: Second,
    ) -> Vec<(TransitionKind, Second)> {
        let mut active = false;
        let mut events = Vec::new();
        for t in from..=to {
            let sum: i64 = counts
                .range(t - condition.window_seconds + 1..=t)
                .map(|(_, h)| h)
                .sum();
            let breached = condition.breached(sum as f64 / condition.window_seconds as f64);
            if breached != active {
                active = breached;
                events.push((if breached { Triggered } else { Recovered }, t));
            }
        }
        events
    }

    #[test]
    fn exactly_at_the_threshold_does_not_fire_and_just_above_does() {
        // 10 s window, threshold 2/s: 20 hits in the window is exactly 2.0.
        let mut h = Harness::new(Metric::Hits, above(10, 2.0), 0, T0);
        for s in 1..=10 {
            h.page(&hits(T0 + s, 2), T0 + s);
        }
        h.tick(T0 + 11);
        assert_eq!(h.state.evaluated_through, T0 + 10);
        assert_eq!(h.events, []);

        let mut h = Harness::new(Metric::Hits, above(10, 2.0), 0, T0);
        for s in 1..=10 {
            h.page(&hits(T0 + s, if s == 10 { 3 } else { 2 }), T0 + s);
        }
        assert_eq!(
            h.events,
            [(Triggered, T0 + 10)],
            "21 hits over 10 s is 2.1/s"
        );
    }

    #[test]
    fn an_alert_recovers_when_the_average_falls_back_to_the_threshold() {
        let condition = above(4, 1.0);
        let mut h = Harness::new(Metric::Hits, condition, 0, T0);
        h.page(&hits(T0 + 1, 5), T0 + 1);
        assert_eq!(h.events, [(Triggered, T0 + 1)]);
        // At T0+5 the 5 hits leave the 4 s window; 4 hits at T0+3 keep it at exactly 1.0/s.
        h.page(&hits(T0 + 3, 4), T0 + 3);
        h.tick(T0 + 10);
        assert_eq!(h.events, [(Triggered, T0 + 1), (Recovered, T0 + 5)]);
    }

    #[test]
    fn flapping_traffic_yields_alternating_events_in_order() {
        let condition = above(2, 3.0);
        let mut h = Harness::new(Metric::Hits, condition, 1, T0);
        let mut counts = BTreeMap::new();
        // Bursts of 8 hits every 4 seconds: the 2 s average goes 4, 4, 0, 0, 4, 4, ...
        for k in 0..5 {
            let s = T0 + 1 + 4 * k;
            counts.insert(s, 8);
            h.page(&hits(s, 8), s);
            h.tick(s + 1);
            h.tick(s + 3);
        }
        h.tick(T0 + 40);
        let expected = brute_force(&condition, &counts, T0 + 1, T0 + 40);
        assert_eq!(expected.len(), 10);
        assert_eq!(h.events, expected);
    }

    #[test]
    fn an_active_alert_recovers_after_traffic_stops_with_no_entries_at_all() {
        let mut h = Harness::new(Metric::Hits, above(120, 10.0), 2, T0);
        for s in 1..=60 {
            h.page(&hits(T0 + s, 30), T0 + s);
        }
        assert_eq!(h.events.len(), 1);
        // Silence: only the clock moves. 1800 hits leave the window between T0+121 and
        // T0+180; the average drops to 10/s (not above) when 1200 are left, at T0+140.
        for now in T0 + 61..T0 + 200 {
            h.tick(now);
        }
        assert_eq!(h.events, [(Triggered, T0 + 41), (Recovered, T0 + 140)]);
        // Not before the lateness has passed.
        let mut early = Harness::new(Metric::Hits, above(120, 10.0), 2, T0);
        for s in 1..=60 {
            early.page(&hits(T0 + s, 30), T0 + s);
        }
        early.tick(T0 + 142);
        assert_eq!(
            early.events.len(),
            1,
            "second 140 is decided at 143 with 2 s lateness"
        );
        early.tick(T0 + 143);
        assert_eq!(early.events.len(), 2);
    }

    #[test]
    fn out_of_order_entries_within_the_lateness_count_as_if_on_time() {
        let condition = above(5, 2.0);
        // In order.
        let mut in_order = Harness::new(Metric::Hits, condition, 3, T0);
        let seconds = [1, 2, 3, 4, 5, 6];
        for s in seconds {
            in_order.page(&hits(T0 + s, 2), T0 + s);
        }
        in_order.page(&hits(T0 + 6, 1), T0 + 7);
        // Shuffled by up to 3 s, the extra hit arrives last.
        let mut shuffled = Harness::new(Metric::Hits, condition, 3, T0);
        for s in [2, 1, 4, 3, 6] {
            shuffled.page(&hits(T0 + s, 2), T0 + s);
        }
        shuffled.page(&hits(T0 + 5, 2), T0 + 6);
        shuffled.page(&hits(T0 + 6, 1), T0 + 7);
        in_order.tick(T0 + 30);
        shuffled.tick(T0 + 30);
        assert_eq!(in_order.events, shuffled.events);
        // 11 hits in (T0+1, T0+6], then 9 in (T0+2, T0+7].
        assert_eq!(in_order.events, [(Triggered, T0 + 6), (Recovered, T0 + 7)]);
    }

    #[test]
    fn entries_later_than_the_lateness_never_contradict_an_emitted_event() {
        let mut h = Harness::new(Metric::Hits, above(2, 1.0), 0, T0);
        h.page(&hits(T0 + 1, 3), T0 + 1);
        h.tick(T0 + 10);
        assert_eq!(h.events, [(Triggered, T0 + 1), (Recovered, T0 + 3)]);
        // Hits for T0+3 arrive long after it was decided: they cannot undo the recovery...
        h.page(&hits(T0 + 3, 1), T0 + 11);
        h.tick(T0 + 12);
        assert_eq!(h.events.len(), 2);
        // ...but late hits after the last event are judged as if they had been on time.
        h.page(&hits(T0 + 6, 5), T0 + 12);
        h.tick(T0 + 13);
        assert_eq!(h.events[2..], [(Triggered, T0 + 6), (Recovered, T0 + 8)]);
    }

    /// A 10-minute profile from 2017, replayed into a rule that has followed the wall clock
    /// since 2024, in pages, gives what a brute-force evaluation of the whole log gives.
    #[test]
    fn a_replayed_historical_profile_yields_its_own_alerts_at_its_own_times() {
        let condition = above(120, 10.0);
        let start = T0;
        let profile = |i: i64| -> i64 {
            match i {
                0..120 => 4,
                120..300 => 18,
                300..360 => 2,
                360..420 => 25,
                _ => 6,
            }
        };
        let mut counts = BTreeMap::new();
        let mut entries = Vec::new();
        for i in 0..600 {
            counts.insert(start + i, profile(i));
            entries.extend(hits(start + i, profile(i) as usize));
        }
        let expected = brute_force(&condition, &counts, start, start + 600 + 120);
        assert!(expected.len() >= 4, "{expected:?}");

        let now = 1_720_000_000;
        let mut h = Harness::new(Metric::Hits, condition, 2, now - 1000);
        h.tick(now - 5);
        for page in entries.chunks(997) {
            h.page(page, now);
        }
        h.tick(now);
        assert_eq!(h.events, expected);
    }

    #[test]
    fn several_rules_judge_the_same_traffic_each_on_its_own_metric() {
        let mut all = Harness::new(Metric::Hits, above(10, 5.0), 1, T0);
        let mut errors = Harness::new(Metric::Errors5xx, above(10, 1.0), 1, T0);
        let mut section = Harness::new(Metric::SectionHits("/api".into()), above(10, 3.0), 1, T0);
        for s in 1..=20 {
            let mut page = vec![(T0 + s, "/static", 200); 3];
            if s > 5 {
                page.extend(vec![(T0 + s, "/api", 503); 4]);
            }
            for h in [&mut all, &mut errors, &mut section] {
                h.page(&page, T0 + s);
            }
        }
        for h in [&mut all, &mut errors, &mut section] {
            h.tick(T0 + 60);
        }
        let mut counts: [BTreeMap<Second, i64>; 3] = Default::default();
        for s in 1..=20 {
            counts[0].insert(T0 + s, if s > 5 { 7 } else { 3 });
            if s > 5 {
                counts[1].insert(T0 + s, 4);
                counts[2].insert(T0 + s, 4);
            }
        }
        for (i, h) in [&all, &errors, &section].into_iter().enumerate() {
            let expected = brute_force(&h.condition, &counts[i], T0, T0 + 60);
            assert_eq!(expected.len(), 2);
            assert_eq!(h.events, expected);
        }
        // All hits: 3/s, then 7/s from T0+6: 54 in the 10 s window at T0+11.
        assert_eq!(all.events, [(Triggered, T0 + 11), (Recovered, T0 + 23)]);
    }

    #[test]
    fn a_below_rule_fires_when_traffic_falls_under_its_threshold() {
        let condition = Condition {
            window_seconds: 5,
            threshold: 1.0,
            comparison: Comparison::Below,
        };
        let mut h = Harness::new(Metric::Hits, condition, 0, T0);
        for s in 1..=10 {
            h.page(&hits(T0 + s, 2), T0 + s);
        }
        h.tick(T0 + 20);
        // At T0+1 the window holds only 2 hits (0.4/s): below. Recovers at T0+3 (6 hits),
        // falls below again when the hits drain after T0+10.
        assert_eq!(
            h.events,
            [
                (Triggered, T0 + 1),
                (Recovered, T0 + 3),
                (Triggered, T0 + 13)
            ]
        );
    }

    #[test]
    fn a_day_of_silence_is_skipped_not_walked() {
        let mut state = RuleState::starting_at(T0);
        let condition = above(86_400, 0.001);
        let counts = [(T0 + 1, 100)];
        let horizon = Horizon {
            complete: T0 + 10 * 86_400,
            eager: T0 + 10 * 86_400,
        };
        let events = advance(&condition, &mut state, &counts, horizon);
        assert_eq!(
            events.iter().map(|e| e.at).collect::<Vec<_>>(),
            [T0 + 1, T0 + 1 + 86_400]
        );
        assert_eq!(state.evaluated_through, T0 + 10 * 86_400);
    }
}
