//! stats' tables (schema `stats`): reading windows from the rollups, storing pages, and
//! dropping old buckets.
//!
//! A window is read as a UNION ALL of bucket ranges (one per span of its plan), each an index
//! range scan on the table's primary key, aggregated in one statement.

pub mod writes;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;
use sqlx::{PgPool, Postgres};

use crate::config::Retention;
use crate::domain::window::{EntryBounds, Granularity, Span};
use writes::time;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
pub const SCHEMA: &str = "stats";

/// Windows up to this long aggregate their clients directly: few rows, cheap. Longer ones
/// hold enough one-off clients that checking candidates costs less (see `top_clients`).
const DIRECT_CLIENT_SECONDS: i64 = 60;

/// Hits and bytes of each status class (index 0 unused; 1..=5).
#[derive(Debug, Clone, Default)]
pub struct ClassCounts {
    pub hits: [i64; 6],
    pub bytes: [i64; 6],
}

#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub classes: ClassCounts,
    pub top_sections: Vec<(String, i64)>,
    pub top_clients: Vec<(String, i64)>,
}

/// One time-series bucket: its start (Unix seconds), hits, 4xx and 5xx.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeriesPoint {
    pub start: i64,
    pub hits: i64,
    pub errors_4xx: i64,
    pub errors_5xx: i64,
}

/// Where the feed stands for this read model.
#[derive(Debug, Clone, Copy)]
pub struct StoredPosition {
    pub last_offset: i64,
    pub head: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct StatsStore {
    pool: PgPool,
}

impl StatsStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub async fn bounds(&self) -> Result<EntryBounds, sqlx::Error> {
        let (earliest, latest): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) =
            sqlx::query_as("SELECT earliest, latest FROM stats.entry_bounds")
                .fetch_one(&self.pool)
                .await?;
        Ok(EntryBounds {
            earliest: earliest.map(|t| t.timestamp()),
            latest: latest.map(|t| t.timestamp()),
        })
    }

    pub async fn position(&self) -> Result<StoredPosition, sqlx::Error> {
        let (last_offset, head, updated_at) =
            sqlx::query_as("SELECT last_offset, head, updated_at FROM stats.feed_position")
                .fetch_one(&self.pool)
                .await?;
        Ok(StoredPosition {
            last_offset,
            head,
            updated_at,
        })
    }

    /// Counts by status class and the top sections and clients over the buckets of `spans`.
    pub async fn summary(&self, spans: &[Span], limit: i64) -> Result<Summary, sqlx::Error> {
        if spans.is_empty() {
            return Ok(Summary::default());
        }
        let classes = union("class_hits", "status_class, hits, bytes", spans, 2);
        let sections = union("section_hits", "section, hits", spans, 2);
        let sections_sql = format!(
            "WITH by_class AS (SELECT status_class, sum(hits) AS h, sum(bytes) AS b
                               FROM ({classes}) c GROUP BY 1),
             top AS (SELECT section, sum(hits) AS h FROM ({sections}) s GROUP BY 1
                     ORDER BY h DESC, section COLLATE \"C\" LIMIT $1)
             SELECT status_class, NULL::text, h::int8, b::int8 FROM by_class
             UNION ALL
             SELECT NULL::int2, section, h::int8, 0::int8 FROM top"
        );
        let section_rows =
            bind_spans(sqlx::query_as(&sections_sql).bind(limit), spans).fetch_all(&self.pool);
        let (section_rows, top_clients) =
            tokio::try_join!(section_rows, self.top_clients(spans, limit))?;
        Ok(summary_of(section_rows, top_clients))
    }

    /// The `limit` clients with most hits over `spans`, exactly.
    ///
    /// Short windows are aggregated directly. Over long ones, where most clients appear once,
    /// aggregating every client would cost as much as the entries; instead the top `m` clients
    /// of each hour (or day) bucket around the window are the candidates, and their exact
    /// window totals are looked up. A client outside every bucket's top `m` has at most the
    /// sum of the buckets' `m`-th counts; when the `limit`-th candidate has more than that, the
    /// candidates' order is the answer. Otherwise `m` grows, and finally the direct aggregation
    /// answers.
    async fn top_clients(
        &self,
        spans: &[Span],
        limit: i64,
    ) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let (from, to) = (
            spans.iter().map(|s| s.from).min(),
            spans.iter().map(|s| s.to).max(),
        );
        let (Some(from), Some(to)) = (from, to) else {
            return Ok(Vec::new());
        };
        let superset = if to - from <= DIRECT_CLIENT_SECONDS {
            None
        } else if to - from <= 4 * 3_600 {
            Some(Granularity::Hour)
        } else if to - from <= 62 * 86_400 {
            Some(Granularity::Day)
        } else {
            None
        };
        if let Some(g) = superset {
            let buckets: Vec<DateTime<Utc>> = (g.floor(from)..g.ceil(to))
                .step_by(g.seconds() as usize)
                .map(time)
                .collect();
            let mut m = (10 * limit).max(300);
            for _ in 0..2 {
                if let Some(top) = self
                    .pruned_top_clients(spans, limit, g, &buckets, m)
                    .await?
                {
                    return Ok(top);
                }
                m *= 4;
            }
        }
        tracing::debug!(from, to, "top clients aggregated directly");
        let clients = union("client_hits", "client, hits", spans, 2);
        let sql = format!(
            "WITH r AS ({clients})
             SELECT client, sum(hits)::int8 FROM r GROUP BY client
             ORDER BY sum(hits) DESC, client COLLATE \"C\" LIMIT $1"
        );
        bind_spans(sqlx::query_as(&sql).bind(limit), spans)
            .fetch_all(&self.pool)
            .await
    }

    /// One round of [`top_clients`](Self::top_clients): `None` when `m` was not enough to prove
    /// the answer.
    async fn pruned_top_clients(
        &self,
        spans: &[Span],
        limit: i64,
        superset: Granularity,
        buckets: &[DateTime<Utc>],
        m: i64,
    ) -> Result<Option<Vec<(String, i64)>>, sqlx::Error> {
        let listed: Vec<(DateTime<Utc>, String, i64)> = sqlx::query_as(&format!(
            "SELECT b.bucket, c.client, c.hits
             FROM unnest($1::timestamptz[]) AS b(bucket)
             CROSS JOIN LATERAL (
                 SELECT client, hits FROM stats.client_hits_{} h
                 WHERE h.bucket = b.bucket ORDER BY hits DESC LIMIT $2
             ) c",
            superset.table_suffix()
        ))
        .bind(buckets)
        .bind(m)
        .fetch_all(&self.pool)
        .await?;
        // The most an unlisted client can have: each full list's smallest count, summed.
        let mut per_bucket: std::collections::HashMap<DateTime<Utc>, (i64, i64)> =
            std::collections::HashMap::new();
        for (bucket, _, hits) in &listed {
            let (count, smallest) = per_bucket.entry(*bucket).or_insert((0, i64::MAX));
            *count += 1;
            *smallest = (*smallest).min(*hits);
        }
        let unlisted_bound: i64 = per_bucket
            .values()
            .map(|&(count, smallest)| if count >= m { smallest } else { 0 })
            .sum();
        let mut candidates: Vec<String> = listed.into_iter().map(|(_, client, _)| client).collect();
        candidates.sort_unstable();
        candidates.dedup();

        let rows = union("client_hits", "client, hits", spans, 3)
            .replace(" WHERE bucket", " WHERE client = ANY($2) AND bucket");
        let sql = format!(
            "WITH r AS ({rows})
             SELECT client, sum(hits)::int8 FROM r GROUP BY client
             ORDER BY sum(hits) DESC, client COLLATE \"C\" LIMIT $1"
        );
        let top: Vec<(String, i64)> =
            bind_spans(sqlx::query_as(&sql).bind(limit).bind(candidates), spans)
                .fetch_all(&self.pool)
                .await?;
        let proven = if unlisted_bound == 0 {
            true // every client of the buckets was listed
        } else {
            top.len() as i64 == limit && top.last().is_some_and(|(_, hits)| *hits > unlisted_bound)
        };
        Ok(proven.then_some(top))
    }

    /// The same as [`summary`](Self::summary) over every entry ever applied, read from the
    /// all-time totals.
    pub async fn all_time(&self, limit: i64) -> Result<Summary, sqlx::Error> {
        let sections = sqlx::query_as(
            "SELECT status_class, NULL::text, sum(hits)::int8, sum(bytes)::int8
             FROM stats.section_totals GROUP BY status_class
             UNION ALL
             (SELECT NULL::int2, section, sum(hits)::int8, 0::int8 FROM stats.section_totals
              GROUP BY section ORDER BY sum(hits) DESC, section COLLATE \"C\" LIMIT $1)",
        )
        .bind(limit)
        .fetch_all(&self.pool);
        let clients = sqlx::query_as(
            "SELECT client, hits FROM stats.client_totals
             ORDER BY hits DESC, client COLLATE \"C\" LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool);
        let (section_rows, top_clients) = tokio::try_join!(sections, clients)?;
        Ok(summary_of(section_rows, top_clients))
    }

    /// Hits, 4xx and 5xx per `step`-second bucket aligned on the Unix epoch, for the buckets
    /// of `spans` (whose granularities must divide `step`). Empty buckets are left out.
    pub async fn series(&self, spans: &[Span], step: i64) -> Result<Vec<SeriesPoint>, sqlx::Error> {
        if spans.is_empty() {
            return Ok(Vec::new());
        }
        let rows = union("class_hits", "bucket, status_class, hits", spans, 2);
        // Bucket starts in integer seconds, floored to the step (also before 1970).
        let sql = format!(
            "WITH r AS (SELECT extract(epoch FROM bucket)::int8 AS t, status_class, hits
                        FROM ({rows}) u)
             SELECT t - ((t % $1) + $1) % $1 AS start,
                    sum(hits)::int8,
                    coalesce(sum(hits) FILTER (WHERE status_class = 4), 0)::int8,
                    coalesce(sum(hits) FILTER (WHERE status_class = 5), 0)::int8
             FROM r GROUP BY 1 ORDER BY 1"
        );
        let rows: Vec<(i64, i64, i64, i64)> = bind_spans(sqlx::query_as(&sql).bind(step), spans)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(start, hits, errors_4xx, errors_5xx)| SeriesPoint {
                start,
                hits,
                errors_4xx,
                errors_5xx,
            })
            .collect())
    }

    /// Drops buckets older than their granularity's retention, counted back from the newest
    /// entry or now, whichever is earlier. One range delete per table.
    pub async fn drop_expired(&self, retention: &Retention) -> Result<u64, sqlx::Error> {
        let mut dropped = 0;
        for (g, keep) in [
            (Granularity::Second, retention.second),
            (Granularity::Minute, retention.minute),
            (Granularity::Hour, retention.hour),
        ] {
            for prefix in ["section_hits", "class_hits", "client_hits"] {
                let table = format!("stats.{prefix}_{}", g.table_suffix());
                dropped += sqlx::query(&format!(
                    "DELETE FROM {table}
                     WHERE bucket < (SELECT least(now(), latest) FROM stats.entry_bounds)
                                    - make_interval(secs => $1)"
                ))
                .bind(keep.as_secs_f64())
                .execute(&self.pool)
                .await?
                .rows_affected();
            }
        }
        Ok(dropped)
    }
}

/// `SELECT columns FROM stats.<prefix>_<granularity> WHERE bucket in span` for each span,
/// joined by UNION ALL; span bounds are bound from `$first` on, two per span.
fn union(prefix: &str, columns: &str, spans: &[Span], first: usize) -> String {
    spans
        .iter()
        .enumerate()
        .map(|(i, span)| {
            let (from, to) = (first + 2 * i, first + 2 * i + 1);
            format!(
                "SELECT {columns} FROM stats.{prefix}_{} WHERE bucket >= ${from} AND bucket < ${to}",
                span.granularity.table_suffix()
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

fn bind_spans<'q, O>(
    mut query: QueryAs<'q, Postgres, O, PgArguments>,
    spans: &[Span],
) -> QueryAs<'q, Postgres, O, PgArguments> {
    for span in spans {
        query = query.bind(time(span.from)).bind(time(span.to));
    }
    query
}

type SectionRow = (Option<i16>, Option<String>, i64, i64);

fn summary_of(section_rows: Vec<SectionRow>, top_clients: Vec<(String, i64)>) -> Summary {
    let mut summary = Summary {
        top_clients,
        ..Summary::default()
    };
    for (class, section, hits, bytes) in section_rows {
        match (class, section) {
            (Some(class), _) => {
                let i = usize::try_from(class).unwrap_or(0).min(5);
                summary.classes.hits[i] += hits;
                summary.classes.bytes[i] += bytes;
            }
            (None, Some(section)) => summary.top_sections.push((section, hits)),
            (None, None) => {}
        }
    }
    // UNION ALL keeps the order of each branch, but say so rather than rely on it.
    summary
        .top_sections
        .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    summary
}
