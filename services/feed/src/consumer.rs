//! The one consumer loop: follow ingest's feed over HTTP and apply each page to a read model,
//! storing the offset in the same transaction as what was derived from the page.
//!
//! Exactly once: the offset and the derived rows commit together, so after a crash the
//! consumer resumes after the last page it committed, never before or beyond it. One applier:
//! instances compete for a Postgres advisory lock, and the winner re-checks the stored offset
//! under a row lock before applying, so even two appliers at once could not count a page twice.
//! Every instance keeps serving reads from the read model, whoever applies.
//!
//! A read model stores its position in a table `<schema>.feed_position` created by its own
//! migrations:
//!
//! ```sql
//! CREATE TABLE feed_position (
//!     singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
//!     last_offset bigint NOT NULL DEFAULT 0,   -- the last entry applied
//!     head        bigint NOT NULL DEFAULT 0,   -- the feed's head when last read
//!     updated_at  timestamptz NOT NULL DEFAULT now()
//! );
//! INSERT INTO feed_position DEFAULT VALUES;
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kit::shutdown::Shutdown;
use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::watch;
use utoipa::ToSchema;

use crate::{FeedEntry, FeedPage};

/// A read model fed by the consumer.
pub trait Projection: Send + Sync + 'static {
    /// The schema holding the read model and its `feed_position`; a constant of the service.
    fn schema(&self) -> &'static str;

    /// Derives the read model's rows from `entries`, inside the transaction that will also
    /// store the new offset.
    fn apply(
        &self,
        tx: &mut PgConnection,
        entries: &[FeedEntry],
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// ingest's base URL (`INGEST_URL`), e.g. `http://ingest:8080`.
    pub ingest_url: String,
    /// Entries per page (`FEED_PAGE_SIZE`, default 5000).
    pub page_size: i64,
    /// Wait between polls once caught up (`FEED_POLL_INTERVAL_SECS`, default 0.25).
    pub poll_interval: Duration,
    /// Sent as `Authorization: Bearer` when ingest's reads need a key (`HTTPMON_API_KEY`).
    pub api_key: Option<kit::access::ApiKey>,
}

impl ConsumerConfig {
    pub fn from_env(env: &kit::config::Env) -> Result<Self, kit::config::ConfigError> {
        let page_size = env.or("FEED_PAGE_SIZE", 5_000i64)?;
        if !(1..=crate::MAX_PAGE).contains(&page_size) {
            return Err(kit::config::invalid(
                "FEED_PAGE_SIZE",
                &page_size.to_string(),
                &format!("must be between 1 and {}", crate::MAX_PAGE),
            ));
        }
        Ok(Self {
            ingest_url: env
                .required::<String>("INGEST_URL")?
                .trim_end_matches('/')
                .to_string(),
            page_size,
            poll_interval: env.seconds_or("FEED_POLL_INTERVAL_SECS", Duration::from_millis(250))?,
            api_key: kit::access::ApiKey::from_env(env),
        })
    }
}

/// What this instance knows about its consumer, for health and lag reporting.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ConsumerStatus {
    /// Whether this instance currently holds the applier lock.
    pub applying: bool,
    /// Whether the last request to ingest's feed succeeded.
    pub feed_reachable: bool,
    /// When the feed last answered.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_contact: Option<DateTime<Utc>>,
}

/// The stored position of a read model: how far it has applied the feed.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Position {
    pub last_offset: i64,
    pub head: i64,
    /// Entries committed in ingest but not yet applied here (as of the last poll).
    pub lag: i64,
}

pub async fn position(pool: &PgPool, schema: &'static str) -> Result<Position, sqlx::Error> {
    let (last_offset, head): (i64, i64) = sqlx::query_as(&format!(
        "SELECT last_offset, head FROM {schema}.feed_position"
    ))
    .fetch_one(pool)
    .await?;
    Ok(Position {
        last_offset,
        head,
        lag: (head - last_offset).max(0),
    })
}

pub struct Consumer<P> {
    projection: Arc<P>,
    pool: PgPool,
    config: ConsumerConfig,
    http: reqwest::Client,
    status: watch::Sender<ConsumerStatus>,
}

impl<P: Projection> Consumer<P> {
    pub fn new(projection: Arc<P>, pool: PgPool, config: ConsumerConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("HTTP client");
        Self {
            projection,
            pool,
            config,
            http,
            status: watch::Sender::new(ConsumerStatus::default()),
        }
    }

    /// Follows this instance's status (for `/api/<name>` lag reporting).
    pub fn status(&self) -> watch::Receiver<ConsumerStatus> {
        self.status.subscribe()
    }

    /// Runs until `shutdown`; a page being applied is committed (or not) before it returns.
    pub async fn run(self, mut shutdown: Shutdown) {
        let schema = self.projection.schema();
        let mut lock: Option<PgConnection> = None;
        let mut backoff = self.config.poll_interval;
        while !shutdown.is_triggered() {
            let wait = match self.step(&mut lock).await {
                Ok(Step::Applied) => {
                    backoff = self.config.poll_interval;
                    continue;
                }
                Ok(Step::CaughtUp) => {
                    backoff = self.config.poll_interval;
                    self.config.poll_interval
                }
                Ok(Step::NotApplier) => Duration::from_secs(1),
                Err(e) => {
                    tracing::warn!(schema, error = %e, "feed consumer step failed; retrying");
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    backoff
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.wait() => {}
            }
        }
        tracing::info!(schema, "feed consumer stopped");
    }

    async fn step(&self, lock: &mut Option<PgConnection>) -> Result<Step, StepError> {
        if !self.hold_applier_lock(lock).await {
            return Ok(Step::NotApplier);
        }
        let schema = self.projection.schema();
        let after: i64 =
            sqlx::query_scalar(&format!("SELECT last_offset FROM {schema}.feed_position"))
                .fetch_one(&self.pool)
                .await?;
        let page = match self.fetch(after).await {
            Ok(page) => page,
            Err(e) => {
                self.status.send_modify(|s| s.feed_reachable = false);
                return Err(e.into());
            }
        };
        self.status.send_modify(|s| {
            s.feed_reachable = true;
            s.last_contact = Some(Utc::now());
        });

        let mut tx = self.pool.begin().await?;
        // Row lock: a second applier (lock lost, or a split brain) waits here and then sees the
        // moved offset, so a page is never applied twice.
        let current: i64 = sqlx::query_scalar(&format!(
            "SELECT last_offset FROM {schema}.feed_position FOR UPDATE"
        ))
        .fetch_one(&mut *tx)
        .await?;
        if current != after {
            return Ok(Step::Applied);
        }
        if !page.entries.is_empty() {
            self.projection.apply(&mut tx, &page.entries).await?;
        }
        sqlx::query(&format!(
            "UPDATE {schema}.feed_position SET last_offset = $1, head = $2, updated_at = now()"
        ))
        .bind(page.next_after)
        .bind(page.head)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(if page.entries.is_empty() {
            Step::CaughtUp
        } else {
            Step::Applied
        })
    }

    async fn fetch(&self, after: i64) -> Result<FeedPage, reqwest::Error> {
        let mut request = self
            .http
            .get(format!("{}/api/logs/feed", self.config.ingest_url))
            .query(&[("after", after), ("limit", self.config.page_size)]);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(&key.0);
        }
        request.send().await?.error_for_status()?.json().await
    }

    /// Keeps (or tries to take) the advisory lock that elects the one applier. The lock lives
    /// on a connection of its own: it is released when that connection dies.
    async fn hold_applier_lock(&self, lock: &mut Option<PgConnection>) -> bool {
        if let Some(conn) = lock.as_mut() {
            if conn.ping().await.is_ok() {
                return true;
            }
            *lock = None;
        }
        let key = format!("httpmon.feed.{}", self.projection.schema());
        let acquired = async {
            let mut conn = self.pool.acquire().await?.detach();
            let won: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
                .bind(&key)
                .fetch_one(&mut conn)
                .await?;
            Ok::<_, sqlx::Error>(won.then_some(conn))
        }
        .await;
        *lock = acquired.ok().flatten();
        let applying = lock.is_some();
        self.status
            .send_if_modified(|s| std::mem::replace(&mut s.applying, applying) != applying);
        applying
    }
}

enum Step {
    Applied,
    CaughtUp,
    NotApplier,
}

#[derive(Debug)]
enum StepError {
    Database(sqlx::Error),
    Feed(reqwest::Error),
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Database(e) => write!(f, "database: {e}"),
            Self::Feed(e) => write!(f, "ingest feed: {e}"),
        }
    }
}

impl From<sqlx::Error> for StepError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

impl From<reqwest::Error> for StepError {
    fn from(e: reqwest::Error) -> Self {
        Self::Feed(e)
    }
}
