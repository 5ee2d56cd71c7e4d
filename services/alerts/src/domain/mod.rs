//! The alert logic, free of I/O: what a rule is ([`rule`]), how a rule's alert state moves
//! over time ([`evaluation`]), and what an alert event says ([`event`]). Storage and the feed
//! consumer feed it counts and a clock; nothing here reads either on its own.

pub mod evaluation;
pub mod event;
pub mod rule;

/// A whole second of event time, as seconds since the Unix epoch. Counts are kept per
/// second: the second `s` holds the entries whose time is in `[s, s + 1)`.
pub type Second = i64;
