//! Telling the outside world about alert events.
//!
//! Events are recorded first (with a pending delivery when their rule has a webhook) in the
//! transaction that produced them; notifiers then work from the database, so a crash between
//! the two loses nothing and delivery is at least once. [`webhook`] POSTs each event to its
//! rule's URL. [`cloudwatch`] beside it puts the hit rate and each rule's alert state in
//! CloudWatch, reading the per-second counts and the history from the same schema.

pub mod cloudwatch;
pub mod webhook;
