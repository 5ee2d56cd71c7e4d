//! Replies remembered per `Idempotency-Key`, so a retried POST is answered with its first
//! reply instead of storing its lines twice.
//!
//! The key row is inserted first in the batch's own transaction: a concurrent duplicate waits
//! on the primary key until the first commits, then reads the reply committed with it; if
//! the first rolls back, the duplicate goes ahead and stores the batch itself.

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslog::Entry;
use serde_json::Value;

use super::{insert_batch, texts, EntryStore, StoredBatch};

/// A POST that carries an `Idempotency-Key`, with the hash of its body.
#[derive(Debug, Clone, Copy)]
pub struct KeyedRequest<'k> {
    pub key: &'k str,
    pub request_hash: [u8; 32],
}

/// The reply committed under a key.
#[derive(Debug, Clone)]
pub struct StoredReply {
    pub request_hash: Vec<u8>,
    pub status: u16,
    pub reply: Value,
}

/// What [`EntryStore::store_once`] did.
#[derive(Debug)]
pub enum Once {
    /// This request committed its lines and its reply.
    Stored(StoredReply),
    /// A request with the same key committed first; this is its reply (its body may differ:
    /// compare `request_hash`).
    AlreadyStored(StoredReply),
}

impl EntryStore {
    /// The reply committed under `key`, if any.
    pub async fn stored_reply(&self, key: &str) -> Result<Option<StoredReply>, sqlx::Error> {
        let row: Option<(Vec<u8>, i16, String)> = sqlx::query_as(
            "SELECT request_hash, status, reply::text FROM ingest.idempotency_keys WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(request_hash, status, reply)| {
            Ok(StoredReply {
                request_hash,
                status: status as u16,
                reply: serde_json::from_str(&reply).map_err(|e| sqlx::Error::Decode(e.into()))?,
            })
        })
        .transpose()
    }

    /// Stores `entries` (none is fine) and the reply `reply` builds from where they landed,
    /// in one transaction, unless a request with the same key got there first.
    pub async fn store_once(
        &self,
        entries: &[Entry<'_>],
        request: KeyedRequest<'_>,
        retention: Duration,
        reply: impl FnOnce(Option<StoredBatch>) -> (u16, Value),
    ) -> Result<Once, sqlx::Error> {
        self.purge_expired_keys(retention).await?;
        let text_ids = texts::intern(&self.pool, entries).await?;

        let mut tx = self.pool.begin().await?;
        // The reply is filled in below, once the offsets are known; nobody sees it before.
        let claimed = sqlx::query(
            "INSERT INTO ingest.idempotency_keys (key, request_hash, status, reply)
             VALUES ($1, $2, 0, 'null') ON CONFLICT (key) DO NOTHING",
        )
        .bind(request.key)
        .bind(&request.request_hash[..])
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !claimed {
            tx.rollback().await?;
            // The insert waited for the other transaction, so its reply is committed now.
            return match self.stored_reply(request.key).await? {
                Some(stored) => Ok(Once::AlreadyStored(stored)),
                None => Err(sqlx::Error::RowNotFound),
            };
        }
        let stored = if entries.is_empty() {
            None
        } else {
            Some(insert_batch(&mut tx, entries, &text_ids).await?)
        };
        let (status, reply) = reply(stored);
        sqlx::query(
            "UPDATE ingest.idempotency_keys SET status = $2, reply = $3::jsonb WHERE key = $1",
        )
        .bind(request.key)
        .bind(status as i16)
        .bind(reply.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Once::Stored(StoredReply {
            request_hash: request.request_hash.to_vec(),
            status,
            reply,
        }))
    }

    /// Drops every key older than `retention` in one statement, at most once per interval
    /// (a minute, or the retention when shorter) per process.
    async fn purge_expired_keys(&self, retention: Duration) -> Result<(), sqlx::Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let interval = retention.as_secs().clamp(1, 60) as i64;
        let last = self.last_key_purge.load(Ordering::Relaxed);
        if now - last < interval
            || self
                .last_key_purge
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return Ok(());
        }
        let purged = sqlx::query(
            "DELETE FROM ingest.idempotency_keys
             WHERE created_at < now() - make_interval(secs => $1)",
        )
        .bind(retention.as_secs_f64())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if purged > 0 {
            tracing::debug!(purged, "expired idempotency keys dropped");
        }
        Ok(())
    }
}
