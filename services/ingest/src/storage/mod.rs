//! ingest's tables (schema `ingest`): storing batches of entries, listing them, and serving
//! them as the feed.

mod copy;
mod idempotency;
mod texts;

pub use idempotency::{KeyedRequest, Once, StoredReply};

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use accesslog::Entry;
use chrono::{DateTime, FixedOffset, Utc};
use feed::{FeedEntry, FeedPage};
use sqlx::{PgPool, Row};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
pub const SCHEMA: &str = "ingest";

/// Rows sent to COPY per chunk: large enough to amortise the call, small enough to keep
/// the buffer in cache.
const COPY_CHUNK_ROWS: usize = 4_096;

/// Where a committed batch landed in the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBatch {
    pub first_offset: i64,
    pub last_offset: i64,
}

#[derive(Clone)]
pub struct EntryStore {
    pool: PgPool,
    /// Unix seconds of the last purge of expired idempotency keys, shared by clones.
    last_key_purge: Arc<AtomicI64>,
}

impl EntryStore {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            last_key_purge: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Stores `entries` in one transaction; when this returns Ok they are committed and have
    /// offsets.
    pub async fn store(&self, entries: &[Entry<'_>]) -> Result<StoredBatch, sqlx::Error> {
        // Interned outside the transaction: a new user agent committed by a failed batch is
        // harmless, while holding its unique-index lock would block concurrent batches.
        let text_ids = texts::intern(&self.pool, entries).await?;
        let mut tx = self.pool.begin().await?;
        let stored = insert_batch(&mut tx, entries, &text_ids).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Entries after offset `after`, in offset order, with the newest committed offset.
    pub async fn feed(&self, after: i64, limit: i64) -> Result<FeedPage, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        // Read in one snapshot so `head` is never behind the entries returned.
        let head: i64 = sqlx::query_scalar("SELECT last_offset FROM ingest.feed_head")
            .fetch_one(&mut *tx)
            .await?;
        let rows = sqlx::query(
            "SELECT b.first_offset + e.ordinal AS offset, e.time, e.utc_offset_minutes,
                    e.client, e.method, e.path, e.section, e.status, e.bytes
             FROM ingest.batches b
             JOIN ingest.entries e ON e.batch_id = b.id
             WHERE b.last_offset > $1 AND e.ordinal > $1 - b.first_offset
             ORDER BY b.last_offset, e.ordinal
             LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let entries = rows
            .iter()
            .map(|row| {
                Ok(FeedEntry {
                    offset: row.try_get("offset")?,
                    time: local_time(row.try_get("time")?, row.try_get("utc_offset_minutes")?),
                    client: row.try_get("client")?,
                    method: row.try_get("method")?,
                    path: row.try_get("path")?,
                    section: row.try_get("section")?,
                    status: row.try_get::<i16, _>("status")? as u16,
                    bytes: row.try_get("bytes")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let next_after = entries.last().map_or(after, |e| e.offset);
        Ok(FeedPage {
            entries,
            next_after,
            head,
        })
    }

    /// The newest entries first (by offset), filtered; `before` continues a previous page.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<StoredEntry>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT b.first_offset + e.ordinal AS offset, e.time, e.utc_offset_minutes,
                    e.client, e.remote_user, e.method, e.path, e.section, e.protocol,
                    e.status, e.bytes, r.value AS referer, u.value AS user_agent
             FROM ingest.batches b
             JOIN ingest.entries e ON e.batch_id = b.id
             LEFT JOIN ingest.texts r ON r.id = e.referer_id
             LEFT JOIN ingest.texts u ON u.id = e.user_agent_id
             WHERE ($1::bigint IS NULL OR b.first_offset < $1)
               AND ($1::bigint IS NULL OR b.first_offset + e.ordinal < $1)
               AND ($2::timestamptz IS NULL OR e.time >= $2)
               AND ($3::timestamptz IS NULL OR e.time < $3)
               AND ($4::text IS NULL OR e.section = $4)
               AND ($5::text IS NULL OR e.client = $5)
               AND e.status BETWEEN $6 AND $7
             ORDER BY b.last_offset DESC, e.ordinal DESC
             LIMIT $8",
        )
        .bind(filter.before)
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.section.as_deref())
        .bind(filter.client.as_deref())
        .bind(filter.status.0 as i16)
        .bind(filter.status.1 as i16)
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredEntry {
                    offset: row.try_get("offset")?,
                    time: local_time(row.try_get("time")?, row.try_get("utc_offset_minutes")?),
                    client: row.try_get("client")?,
                    user: row.try_get("remote_user")?,
                    method: row.try_get("method")?,
                    path: row.try_get("path")?,
                    section: row.try_get("section")?,
                    protocol: row.try_get("protocol")?,
                    status: row.try_get::<i16, _>("status")? as u16,
                    bytes: row.try_get("bytes")?,
                    referer: row.try_get("referer")?,
                    user_agent: row.try_get("user_agent")?,
                })
            })
            .collect()
    }
}

/// Inserts `entries` as one batch inside `tx`. Offsets are taken last, under feed_head's row
/// lock, so batches take them in commit order.
async fn insert_batch(
    tx: &mut sqlx::PgConnection,
    entries: &[Entry<'_>],
    text_ids: &std::collections::HashMap<String, i64>,
) -> Result<StoredBatch, sqlx::Error> {
    let batch_id: i64 = sqlx::query_scalar("SELECT nextval('ingest.batch_ids')")
        .fetch_one(&mut *tx)
        .await?;
    let mut copy = tx
        .copy_in_raw(&format!(
            "COPY ingest.entries ({}) FROM STDIN (FORMAT binary)",
            copy::COLUMNS
        ))
        .await?;
    let mut buf = Vec::with_capacity(1 << 20);
    copy::header(&mut buf);
    for (chunk_index, chunk) in entries.chunks(COPY_CHUNK_ROWS).enumerate() {
        for (i, entry) in chunk.iter().enumerate() {
            let lookup = |v: &Option<std::borrow::Cow<str>>| v.as_deref().map(|v| text_ids[v]);
            let row = copy::Row {
                batch_id,
                ordinal: (chunk_index * COPY_CHUNK_ROWS + i) as i32,
                entry,
                referer_id: lookup(&entry.referer),
                user_agent_id: lookup(&entry.user_agent),
            };
            copy::row(&mut buf, &row);
        }
        copy.send(buf.as_slice()).await?;
        buf.clear();
    }
    copy::trailer(&mut buf);
    copy.send(buf.as_slice()).await?;
    copy.finish().await?;

    let count = entries.len() as i64;
    let (first_offset, last_offset): (i64, i64) = sqlx::query_as(
        "WITH head AS (
             UPDATE ingest.feed_head SET last_offset = last_offset + $2
             RETURNING last_offset
         )
         INSERT INTO ingest.batches (id, first_offset, last_offset, entry_count)
         SELECT $1, last_offset - $2 + 1, last_offset, $2 FROM head
         RETURNING first_offset, last_offset",
    )
    .bind(batch_id)
    .bind(count)
    .fetch_one(&mut *tx)
    .await?;
    Ok(StoredBatch {
        first_offset,
        last_offset,
    })
}

/// What `GET /api/logs` filters on.
#[derive(Debug, Clone)]
pub struct ListFilter {
    pub before: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub section: Option<String>,
    pub client: Option<String>,
    /// Inclusive range of statuses: one status, or a class such as 500..=599.
    pub status: (u16, u16),
    pub limit: i64,
}

/// A stored entry with every field.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StoredEntry {
    pub offset: i64,
    #[schema(value_type = String, format = DateTime)]
    pub time: DateTime<FixedOffset>,
    pub client: String,
    pub user: Option<String>,
    pub method: String,
    pub path: String,
    pub section: String,
    pub protocol: String,
    pub status: u16,
    pub bytes: Option<i64>,
    pub referer: Option<String>,
    pub user_agent: Option<String>,
}

/// The stored instant shown in the zone its line was written in.
fn local_time(utc: DateTime<Utc>, offset_minutes: i16) -> DateTime<FixedOffset> {
    let zone = FixedOffset::east_opt(i32::from(offset_minutes) * 60)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    utc.with_timezone(&zone)
}
