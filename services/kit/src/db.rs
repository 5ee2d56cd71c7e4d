//! The Postgres pool and per-schema migrations.
//!
//! Each service owns one schema and keeps its own migration history inside it, so the
//! services can be deployed, migrated and rolled back independently while sharing one
//! database. A service may connect as a role that owns only its schema.

use std::time::{Duration, Instant};

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use crate::config::DatabaseConfig;

/// Opens the pool, waiting up to `startup_timeout` for the database to answer (containers
/// often start before Postgres does).
pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<PgPool> {
    // Requests here are short queries: starting parallel workers costs more than it saves
    // (about 10 ms on a busy machine) and takes the cores other requests need.
    let options = config
        .url
        .parse::<PgConnectOptions>()?
        .options([("max_parallel_workers_per_gather", "0")]);
    let deadline = Instant::now() + config.startup_timeout;
    let mut delay = Duration::from_millis(100);
    loop {
        match sqlx::PgConnection::connect_with(&options).await {
            Ok(conn) => {
                conn.close().await.ok();
                break;
            }
            Err(e) if Instant::now() < deadline => {
                tracing::warn!(error = %e, "database not reachable yet, retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            Err(e) => return Err(anyhow::Error::new(e).context("database unreachable at startup")),
        }
    }
    Ok(pool_options(config).connect_lazy_with(options))
}

fn pool_options(config: &DatabaseConfig) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(config.acquire_timeout)
        // A connection that died with the database is noticed before a request gets it.
        .test_before_acquire(true)
}

/// Runs `migrator` inside `schema`, creating the schema when missing. The migration history
/// (`_sqlx_migrations`) lands in that schema too, one history per service.
pub async fn migrate(pool: &PgPool, schema: &str, migrator: &Migrator) -> anyhow::Result<()> {
    // A connection of its own, pointed at the schema from the start: nothing pool-shared is
    // ever left with another search_path.
    let options = pool
        .connect_options()
        .as_ref()
        .clone()
        .options([("search_path", schema)]);
    let mut conn = sqlx::PgConnection::connect_with(&options).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(schema)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        // Identifiers cannot be bound; `format('%I')` quotes the name safely.
        let create: String = sqlx::query_scalar("SELECT format('CREATE SCHEMA %I', $1::text)")
            .bind(schema)
            .fetch_one(&mut conn)
            .await?;
        sqlx::query(&create).execute(&mut conn).await?;
    }
    // `run_direct`, not `run`: `run`'s generic Acquire bound makes the caller's future
    // impossible to prove Send, and services are built inside spawned tasks.
    // The monolith connects as a member of every service role. Migrating as the schema's
    // owner keeps each table its service's, whichever side migrates first.
    let set_owner: Option<String> = sqlx::query_scalar(
        "SELECT format('SET ROLE %I', n.nspowner::regrole::text)
         FROM pg_namespace n
         WHERE n.nspname = $1 AND n.nspowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
           AND pg_has_role(current_user, n.nspowner, 'MEMBER')",
    )
    .bind(schema)
    .fetch_optional(&mut conn)
    .await?;
    if let Some(set_owner) = set_owner {
        sqlx::query(&set_owner).execute(&mut conn).await?;
    }
    let result = migrator.run_direct(&mut conn).await;
    conn.close().await.ok();
    result.map_err(|e| anyhow::Error::new(e).context(format!("migrating schema {schema}")))
}

/// True when the database answers a trivial query within `timeout`.
pub async fn is_ready(pool: &PgPool, timeout: Duration) -> bool {
    let ping = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(pool);
    matches!(tokio::time::timeout(timeout, ping).await, Ok(Ok(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: T) {}

    /// Services are built inside spawned tasks (tests, the monolith): startup must be Send.
    #[tokio::test]
    async fn migrating_is_a_send_future() {
        static MIGRATOR: Migrator = Migrator::DEFAULT;
        let pool = PgPoolOptions::new()
            .connect_lazy("postgres://nobody@127.0.0.1:1/none")
            .unwrap();
        assert_send(migrate(&pool, "schema", &MIGRATOR));
    }
}
