//! Storing a rolled-up page: one UNNEST upsert per rollup table, adding to what is there.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::domain::rollup::{ClassRollup, ClientRollup, PageRollup, SectionRollup};
use crate::domain::window::Granularity;

pub async fn store(conn: &mut PgConnection, page: &PageRollup<'_>) -> Result<(), sqlx::Error> {
    for (i, g) in Granularity::ALL.into_iter().enumerate() {
        sections(conn, g, &page.sections[i]).await?;
        classes(conn, g, &page.classes[i]).await?;
        clients(conn, g, &page.clients[i]).await?;
    }
    section_totals(conn, page).await?;
    client_totals(conn, page).await?;
    if let (Some(earliest), Some(latest)) = (page.earliest, page.latest) {
        sqlx::query(
            "UPDATE stats.entry_bounds
             SET earliest = least(earliest, $1), latest = greatest(latest, $2)",
        )
        .bind(time(earliest))
        .bind(time(latest))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub fn time(unix_seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix_seconds, 0).unwrap_or_default()
}

async fn sections(
    conn: &mut PgConnection,
    granularity: Granularity,
    rows: &SectionRollup<'_>,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let n = rows.len();
    let (mut buckets, mut sections, mut classes, mut hits, mut bytes) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (&(bucket, section, class), counts) in rows {
        buckets.push(time(bucket));
        sections.push(section);
        classes.push(class);
        hits.push(counts.hits);
        bytes.push(counts.bytes);
    }
    let table = format!("stats.section_hits_{}", granularity.table_suffix());
    sqlx::query(&format!(
        "INSERT INTO {table} AS t (bucket, section, status_class, hits, bytes)
         SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::int2[], $4::int8[], $5::int8[])
         ON CONFLICT (bucket, section, status_class)
         DO UPDATE SET hits = t.hits + excluded.hits, bytes = t.bytes + excluded.bytes"
    ))
    .bind(buckets)
    .bind(sections)
    .bind(classes)
    .bind(hits)
    .bind(bytes)
    .execute(conn)
    .await?;
    Ok(())
}

async fn classes(
    conn: &mut PgConnection,
    granularity: Granularity,
    rows: &ClassRollup,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (&(bucket, class), counts) in rows {
        columns.0.push(time(bucket));
        columns.1.push(class);
        columns.2.push(counts.hits);
        columns.3.push(counts.bytes);
    }
    let table = format!("stats.class_hits_{}", granularity.table_suffix());
    sqlx::query(&format!(
        "INSERT INTO {table} AS t (bucket, status_class, hits, bytes)
         SELECT * FROM unnest($1::timestamptz[], $2::int2[], $3::int8[], $4::int8[])
         ON CONFLICT (bucket, status_class)
         DO UPDATE SET hits = t.hits + excluded.hits, bytes = t.bytes + excluded.bytes"
    ))
    .bind(columns.0)
    .bind(columns.1)
    .bind(columns.2)
    .bind(columns.3)
    .execute(conn)
    .await?;
    Ok(())
}

async fn clients(
    conn: &mut PgConnection,
    granularity: Granularity,
    rows: &ClientRollup<'_>,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let (mut buckets, mut clients, mut hits) = (
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
    );
    for (&(bucket, client), &count) in rows {
        buckets.push(time(bucket));
        clients.push(client);
        hits.push(count);
    }
    let table = format!("stats.client_hits_{}", granularity.table_suffix());
    sqlx::query(&format!(
        "INSERT INTO {table} AS t (bucket, client, hits)
         SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::int8[])
         ON CONFLICT (bucket, client) DO UPDATE SET hits = t.hits + excluded.hits"
    ))
    .bind(buckets)
    .bind(clients)
    .bind(hits)
    .execute(conn)
    .await?;
    Ok(())
}

async fn section_totals(conn: &mut PgConnection, page: &PageRollup<'_>) -> Result<(), sqlx::Error> {
    if page.section_totals.is_empty() {
        return Ok(());
    }
    let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (&(section, class), counts) in &page.section_totals {
        columns.0.push(section);
        columns.1.push(class);
        columns.2.push(counts.hits);
        columns.3.push(counts.bytes);
    }
    sqlx::query(
        "INSERT INTO stats.section_totals AS t (section, status_class, hits, bytes)
         SELECT * FROM unnest($1::text[], $2::int2[], $3::int8[], $4::int8[])
         ON CONFLICT (section, status_class)
         DO UPDATE SET hits = t.hits + excluded.hits, bytes = t.bytes + excluded.bytes",
    )
    .bind(columns.0)
    .bind(columns.1)
    .bind(columns.2)
    .bind(columns.3)
    .execute(conn)
    .await?;
    Ok(())
}

async fn client_totals(conn: &mut PgConnection, page: &PageRollup<'_>) -> Result<(), sqlx::Error> {
    if page.client_totals.is_empty() {
        return Ok(());
    }
    let (clients, hits): (Vec<&str>, Vec<i64>) =
        page.client_totals.iter().map(|(&c, &h)| (c, h)).unzip();
    sqlx::query(
        "INSERT INTO stats.client_totals AS t (client, hits)
         SELECT * FROM unnest($1::text[], $2::int8[])
         ON CONFLICT (client) DO UPDATE SET hits = t.hits + excluded.hits",
    )
    .bind(clients)
    .bind(hits)
    .execute(conn)
    .await?;
    Ok(())
}
