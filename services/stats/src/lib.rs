//! stats: a read model of ingest's feed. It rolls entries up by event time (per second,
//! minute, hour and day, by section, status class and client) in schema `stats`, and answers
//! `/api/stats` over any window from those rollups.
//!
//! [`Stats`] is the part the monolith mounts too (with its consumer and retention task
//! running in-process); [`Application`] is the standalone service.

pub mod config;
pub mod consumer;
pub mod domain;
pub mod retention;
pub mod routes;
pub mod storage;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use chrono::{DateTime, Utc};
use feed::consumer::{Consumer, ConsumerConfig, ConsumerStatus};
use kit::shutdown::{self, Shutdown, ShutdownTrigger};
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{Retention, StatsConfig};
use crate::consumer::Rollups;
use crate::domain::window::{EntryBounds, Horizons};
use crate::routes::FeedView;
use crate::storage::{StatsStore, StoredPosition};

/// stats' state and routes, ready to mount on any actix-web `App`.
#[derive(Clone)]
pub struct Stats {
    store: StatsStore,
    consumer: watch::Receiver<ConsumerStatus>,
    /// How old the applier's last read of the feed may be while the feed still counts as
    /// reachable, for instances that do not apply it themselves.
    stale_after: Duration,
    retention: Retention,
    background: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Stats {
    /// Migrates schema `stats`, then starts following the feed and dropping expired buckets
    /// until `shutdown`; [`stopped`](Self::stopped) waits for both to finish.
    pub async fn start(
        pool: PgPool,
        consumer: ConsumerConfig,
        retention: Retention,
        shutdown: Shutdown,
    ) -> anyhow::Result<Self> {
        kit::db::migrate(&pool, storage::SCHEMA, &storage::MIGRATOR).await?;
        let store = StatsStore::new(pool.clone());
        let stale_after = Duration::from_secs(10) + consumer.poll_interval * 4;
        let follower = Consumer::new(Arc::new(Rollups), pool, consumer);
        let status = follower.status();
        let background = vec![
            tokio::spawn(follower.run(shutdown.clone())),
            tokio::spawn(retention::run(store.clone(), retention, shutdown)),
        ];
        Ok(Self {
            store,
            consumer: status,
            stale_after,
            retention,
            background: Arc::new(Mutex::new(background)),
        })
    }

    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        routes::configure(cfg, self.clone());
        kit::docs::configure(cfg, "/api/stats/docs", routes::document());
    }

    /// Waits for the consumer and the retention task to return after shutdown was triggered
    /// (a page being applied commits or rolls back first).
    pub async fn stopped(&self) {
        let tasks = std::mem::take(&mut *self.background.lock().expect("background tasks"));
        for task in tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "stats background task failed");
            }
        }
    }

    pub(crate) fn store(&self) -> &StatsStore {
        &self.store
    }

    /// The oldest buckets retention still keeps: the same reference (the newest entry, or now
    /// when earlier) the retention task deletes from, so anything at or after these is there.
    pub(crate) fn horizons(&self, now: DateTime<Utc>, bounds: EntryBounds) -> Horizons {
        let Some(latest) = bounds.latest else {
            return Horizons::NONE;
        };
        let reference = latest.min(now.timestamp());
        let before = |keep: Duration| reference - keep.as_secs_f64().ceil() as i64;
        Horizons {
            second: before(self.retention.second),
            minute: before(self.retention.minute),
            hour: before(self.retention.hour),
        }
    }

    pub(crate) fn feed_view(&self, position: StoredPosition) -> FeedView {
        let status = self.consumer.borrow().clone();
        let feed_reachable = if status.applying {
            status.feed_reachable
        } else {
            // The applier refreshes updated_at on every read of the feed, even an empty one.
            (Utc::now() - position.updated_at)
                .to_std()
                .unwrap_or_default()
                < self.stale_after
        };
        FeedView {
            last_offset: position.last_offset,
            head: position.head,
            lag: (position.head - position.last_offset).max(0),
            feed_reachable,
            applying: status.applying,
            updated_at: position.updated_at,
        }
    }
}

/// The standalone stats service.
pub struct Application {
    port: u16,
    server: Server,
    stats: Stats,
    shutdown: ShutdownTrigger,
}

impl Application {
    pub async fn build(config: StatsConfig) -> anyhow::Result<Self> {
        let pool = kit::db::connect(&config.service.database).await?;
        let (trigger, shutdown) = shutdown::channel();
        let stats = Stats::start(pool.clone(), config.consumer, config.retention, shutdown).await?;
        let listener = TcpListener::bind(config.service.address())?;
        let port = listener.local_addr()?.port();
        let mounted = stats.clone();
        let server = kit::http::serve(listener, pool, config.service.access.clone(), move |cfg| {
            mounted.configure(cfg)
        })?;
        tracing::info!(port, "stats listening");
        Ok(Self {
            port,
            server,
            stats,
            shutdown: trigger,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM/SIGINT, lets in-flight requests finish, then stops the consumer
    /// and waits for it to commit or roll back its page.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.shutdown.trigger();
        self.stats.stopped().await;
        served
    }
}
