//! How long `GET /api/stats` takes for each window once the read model holds N entries.
//!
//! Given `DATABASE_URL` (a role that may create databases and roles), it creates a fresh
//! database, starts an in-process stats app on it (its consumer pointed at nothing: no ingest
//! is needed), fills the rollups through the same write path the consumer uses with N synthetic
//! entries spread evenly over a span ending now, with the traffic mix of
//! `accesslog::sample` (mostly one-off clients, a few heavy ones, a dozen sections), lets
//! retention drop expired per-second rows, then times requests over HTTP and prints p50/p99
//! per window. Figures only; nothing is asserted.
//!
//! ```text
//! cargo run --release -p stats --example query_latency -- [entries=10000000] [span_secs=86400] [samples=200]
//! ```

use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Utc};
use feed::FeedEntry;
use kit::config::Env;
use kit::testing::TestDatabase;
use stats::config::StatsConfig;
use stats::domain::rollup::PageRollup;

/// Entries per write: what one large feed page would carry.
const CHUNK: usize = 100_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let entries = args.first().copied().unwrap_or(10_000_000) as usize;
    let span = args.get(1).copied().unwrap_or(86_400) as i64;
    let samples = args.get(2).copied().unwrap_or(200) as usize;

    let db = TestDatabase::create().await;
    let url = db.service_role("stats").await;
    let env = Env::from_pairs([
        ("DATABASE_URL", url.as_str()),
        ("PORT", "0"),
        ("HOST", "127.0.0.1"),
        // Nothing listens there: the consumer just keeps retrying, as with ingest down.
        ("INGEST_URL", "http://127.0.0.1:9"),
        ("FEED_POLL_INTERVAL_SECS", "5"),
        ("STATS_RETENTION_INTERVAL_SECS", "1"),
    ]);
    let config = StatsConfig::from_env(&env)?;
    let pool = kit::db::connect(&config.service.database).await?;

    // Build first: that migrates the schema the fill writes into.
    let app = stats::Application::build(config).await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(app.run_until_stopped());

    let started = Instant::now();
    fill(&pool, entries, span).await?;
    let took = started.elapsed().as_secs_f64();
    println!(
        "filled rollups with {entries} entries over {span}s in {took:.1}s ({:.0} entries/s applied)",
        entries as f64 / took
    );
    // Retention runs every second here; give it a moment to drop old per-second rows.
    tokio::time::sleep(Duration::from_secs(3)).await;
    sqlx::query("VACUUM ANALYZE").execute(&pool).await.ok();
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT relname::text, n_live_tup FROM pg_stat_user_tables
         WHERE schemaname = 'stats' ORDER BY relname",
    )
    .fetch_all(&pool)
    .await?;
    for (table, count) in rows {
        println!("  {table:<22} {count:>10} rows");
    }

    let client = reqwest::Client::new();
    println!(
        "{:<40} {:>9} {:>9} {:>9} {:>8}",
        "request", "p50 ms", "p99 ms", "max ms", "samples"
    );
    for query in [
        // The data ends when the fill started: windows end at the newest entry.
        "/api/stats?window=10s&to=latest",
        "/api/stats?window=2m&to=latest",
        "/api/stats?window=1h&to=latest",
        "/api/stats?window=24h&to=latest",
        "/api/stats?window=all",
        "/api/stats?window=24h&to=latest&limit=100",
        "/api/stats/timeseries?window=24h&to=latest",
        "/api/stats/timeseries?window=2m&to=latest&step=1s",
    ] {
        let mut latencies = Vec::with_capacity(samples);
        // Slow requests get fewer samples: at most about 30 s per request kind.
        let budget = Instant::now() + Duration::from_secs(30);
        for i in 0..samples + 5 {
            if i > 10 && Instant::now() > budget {
                break;
            }
            let start = Instant::now();
            let response = client.get(format!("{address}{query}")).send().await?;
            assert!(
                response.status().is_success(),
                "{query}: {}",
                response.status()
            );
            response.bytes().await?;
            if i >= 5 {
                latencies.push(start.elapsed());
            }
        }
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{query:<40} {:>9.2} {:>9.2} {:>9.2} {:>8}",
            ms(at(0.5)),
            ms(at(0.99)),
            ms(*latencies.last().unwrap()),
            latencies.len()
        );
    }
    server.abort();
    Ok(())
}

/// Writes `entries` synthetic entries, evenly spread over the `span` seconds before now, in
/// pages of [`CHUNK`], through the consumer's own aggregation and upserts.
async fn fill(pool: &sqlx::PgPool, entries: usize, span: i64) -> anyhow::Result<()> {
    let end = Utc::now().timestamp();
    let start = end - span;
    let utc = FixedOffset::east_opt(0).expect("UTC");
    let mut written = 0usize;
    let mut seed = 1u64;
    while written < entries {
        let n = CHUNK.min(entries - written);
        let lines = accesslog::sample::generate_combined_lines(n, seed);
        seed += 1;
        let page: Vec<FeedEntry> = lines
            .iter()
            .enumerate()
            .filter_map(|(i, line)| {
                let entry = accesslog::parse_line(line.as_bytes()).ok().flatten()?;
                let position = (written + i) as i64;
                let t = start + position * span / entries as i64;
                Some(FeedEntry {
                    offset: position + 1,
                    time: DateTime::from_timestamp(t, 0)?.with_timezone(&utc),
                    client: entry.client.into_owned(),
                    method: entry.method.into_owned(),
                    path: entry.path.into_owned(),
                    section: entry.section.into_owned(),
                    status: entry.status,
                    bytes: entry.bytes.map(|b| b as i64),
                })
            })
            .collect();
        let mut tx = pool.begin().await?;
        stats::storage::writes::store(&mut tx, &PageRollup::of(&page)).await?;
        tx.commit().await?;
        written += n;
        if written % 1_000_000 < CHUNK {
            eprintln!("  {written} entries written");
        }
    }
    Ok(())
}
