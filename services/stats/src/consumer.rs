//! The projection the shared feed consumer drives: each page of entries becomes rollup
//! upserts, committed in the consumer's transaction together with the new offset.

use feed::consumer::Projection;
use feed::FeedEntry;
use sqlx::PgConnection;

use crate::domain::rollup::PageRollup;
use crate::storage::{self, writes};

/// stats' read model: hit rollups by event time.
pub struct Rollups;

impl Projection for Rollups {
    fn schema(&self) -> &'static str {
        storage::SCHEMA
    }

    async fn apply(&self, tx: &mut PgConnection, entries: &[FeedEntry]) -> Result<(), sqlx::Error> {
        // Aggregated in memory first: a page costs one statement per table, not one per entry.
        let page = PageRollup::of(entries);
        writes::store(tx, &page).await
    }
}
