//! The periodic task that drops rollup buckets past their retention, in bulk by bucket range.
//!
//! Every instance may run it: deleting the same expired range twice is harmless, and a page
//! applied concurrently only adds to recent buckets.

use kit::shutdown::Shutdown;

use crate::config::Retention;
use crate::storage::StatsStore;

pub async fn run(store: StatsStore, retention: Retention, mut shutdown: Shutdown) {
    while !shutdown.is_triggered() {
        match store.drop_expired(&retention).await {
            Ok(0) => {}
            Ok(dropped) => tracing::info!(dropped, "dropped expired rollup buckets"),
            Err(e) => tracing::warn!(error = %e, "dropping expired rollup buckets failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(retention.interval) => {}
            _ = shutdown.wait() => {}
        }
    }
}
