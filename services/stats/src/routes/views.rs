//! The JSON shapes `/api/stats` answers with.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::window::Interval;
use crate::storage::writes::time;

/// The interval actually counted: `from <= time < to`, in whole seconds. When a window reaches
/// back past the retention of per-second (or per-minute, per-hour) rollups, its ends are widened
/// to the finest buckets still kept there, and this says so.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WindowView {
    #[schema(value_type = String, format = DateTime)]
    pub from: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub to: DateTime<Utc>,
    pub seconds: i64,
}

impl From<Interval> for WindowView {
    fn from(interval: Interval) -> Self {
        Self {
            from: time(interval.from),
            to: time(interval.to),
            seconds: interval.seconds(),
        }
    }
}

/// Hits by status class. Every class is always present (0 when none).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusCounts {
    #[serde(rename = "1xx")]
    pub informational: i64,
    #[serde(rename = "2xx")]
    pub success: i64,
    #[serde(rename = "3xx")]
    pub redirection: i64,
    #[serde(rename = "4xx")]
    pub client_error: i64,
    #[serde(rename = "5xx")]
    pub server_error: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SectionHits {
    /// The path up to its second `/`, e.g. `/pages`.
    pub section: String,
    pub hits: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientHits {
    /// The remote host as logged.
    pub client: String,
    pub hits: i64,
}

/// How far this read model has applied ingest's feed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeedView {
    /// The last feed offset counted in these statistics.
    pub last_offset: i64,
    /// The feed's newest offset when last read.
    pub head: i64,
    /// Entries committed in ingest but not yet counted here (as of the last read of the feed).
    pub lag: i64,
    /// Whether ingest's feed answered recently (this instance's own view when it applies the
    /// feed; otherwise whether the applying instance read it within the last few seconds).
    pub feed_reachable: bool,
    /// Whether this instance is the one applying the feed.
    pub applying: bool,
    /// When the applier last read the feed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

/// Traffic over one window.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatsReport {
    pub window: WindowView,
    pub hits: i64,
    /// Response bytes (`-` counts as 0).
    pub bytes: i64,
    /// `hits / window.seconds` (0 for an empty window).
    pub hits_per_second: f64,
    pub status: StatusCounts,
    /// Most hits first; ties by name.
    pub top_sections: Vec<SectionHits>,
    /// Most hits first; ties by name.
    pub top_clients: Vec<ClientHits>,
    pub feed: FeedView,
}

/// One bucket of a time series.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SeriesBucket {
    #[schema(value_type = String, format = DateTime)]
    pub start: DateTime<Utc>,
    /// Exclusive; the first and last buckets are clipped to the window.
    #[schema(value_type = String, format = DateTime)]
    pub end: DateTime<Utc>,
    pub hits: i64,
    /// Responses with a 4xx status.
    pub errors_4xx: i64,
    /// Responses with a 5xx status.
    pub errors_5xx: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Timeseries {
    pub window: WindowView,
    /// Bucket length in seconds; buckets are aligned on the Unix epoch.
    pub step: i64,
    /// Every bucket of the window in time order, empty ones included.
    pub buckets: Vec<SeriesBucket>,
}
