//! The dictionary of referers and user agents: each distinct value stored once, entries
//! refer to it by id. A batch costs one lookup round trip once its values are known.

use std::collections::HashMap;

use accesslog::Entry;
use sqlx::PgPool;

/// Ids for every referer and user agent in `entries`, inserting the new ones.
pub async fn intern(
    pool: &PgPool,
    entries: &[Entry<'_>],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let mut wanted: Vec<&str> = entries
        .iter()
        .flat_map(|e| [e.referer.as_deref(), e.user_agent.as_deref()])
        .flatten()
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut ids = HashMap::with_capacity(wanted.len());
    if wanted.is_empty() {
        return Ok(ids);
    }
    lookup(pool, &wanted, &mut ids).await?;
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|v| !ids.contains_key(*v))
        .collect();
    if !missing.is_empty() {
        // A concurrent batch may insert the same value first; ON CONFLICT skips it and the
        // second lookup finds its id.
        sqlx::query(
            "INSERT INTO ingest.texts (value)
             SELECT value FROM unnest($1::text[]) AS value
             ON CONFLICT (md5(value)) DO NOTHING",
        )
        .bind(&missing)
        .execute(pool)
        .await?;
        lookup(pool, &missing, &mut ids).await?;
    }
    Ok(ids)
}

async fn lookup(
    pool: &PgPool,
    values: &[&str],
    ids: &mut HashMap<String, i64>,
) -> Result<(), sqlx::Error> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, value FROM ingest.texts
         WHERE md5(value) IN (SELECT md5(v) FROM unnest($1::text[]) AS v)",
    )
    .bind(values)
    .fetch_all(pool)
    .await?;
    ids.extend(rows.into_iter().map(|(id, value)| (value, id)));
    Ok(())
}
