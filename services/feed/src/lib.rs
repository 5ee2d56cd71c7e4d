//! ingest's change feed: every stored entry, in commit order, each with its offset.
//!
//! Offsets are dense and increase in commit order: once a consumer has read offset `n`,
//! every entry with a smaller offset is already committed and was already served. So a
//! consumer only ever needs to remember the last offset it applied.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The most entries one feed page returns.
pub const MAX_PAGE: i64 = 10_000;

/// One entry as the feed serves it: what the read models need (referer and user agent are
/// left out; `GET /api/logs` has them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeedEntry {
    /// Position in the feed, starting at 1.
    pub offset: i64,
    /// When the request was made, in the zone the log line was written in.
    #[schema(value_type = String, format = DateTime, example = "2000-10-10T13:55:36-07:00")]
    pub time: DateTime<FixedOffset>,
    pub client: String,
    pub method: String,
    pub path: String,
    /// The path up to its second `/`: `/pages/create?x=1` is in section `/pages`.
    pub section: String,
    pub status: u16,
    pub bytes: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeedPage {
    /// Entries with offsets greater than `after`, in offset order.
    pub entries: Vec<FeedEntry>,
    /// Pass this as `after` to read the next page.
    pub next_after: i64,
    /// The newest committed offset: `head - next_after` is how far behind the reader is.
    pub head: i64,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Return entries after this offset (0 = from the beginning).
    #[serde(default)]
    #[param(minimum = 0)]
    pub after: i64,
    /// At most this many entries (1..=10000, default 1000).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<i64>,
}

#[cfg(feature = "consumer")]
pub mod consumer;
