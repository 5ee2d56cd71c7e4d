//! ingest: owns `/api/logs`. It parses access-log lines, stores them in schema `ingest`, and
//! serves them to the read models as a feed in commit order.
//!
//! [`Ingest`] is the part the monolith mounts too; [`Application`] is the standalone service.

pub mod batch;
pub mod config;
pub mod routes;
pub mod storage;

use std::net::TcpListener;

use actix_web::dev::{Server, ServerHandle};
use actix_web::web;
use sqlx::PgPool;

use crate::config::{IngestConfig, Limits};
use crate::storage::EntryStore;

/// ingest's state and routes, ready to mount on any actix-web `App`.
#[derive(Clone)]
pub struct Ingest {
    store: EntryStore,
    limits: Limits,
}

impl Ingest {
    /// Migrates schema `ingest` and returns the service ready to mount.
    pub async fn start(pool: PgPool, limits: Limits) -> anyhow::Result<Self> {
        kit::db::migrate(&pool, storage::SCHEMA, &storage::MIGRATOR).await?;
        Ok(Self {
            store: EntryStore::new(pool),
            limits,
        })
    }

    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        routes::configure(cfg, self.clone());
        kit::docs::configure(cfg, "/api/logs/docs", routes::document());
    }
}

/// The standalone ingest service.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub async fn build(config: IngestConfig) -> anyhow::Result<Self> {
        let pool = kit::db::connect(&config.service.database).await?;
        let ingest = Ingest::start(pool.clone(), config.limits).await?;
        let listener = TcpListener::bind(config.service.address())?;
        let port = listener.local_addr()?.port();
        let server = kit::http::serve(listener, pool, config.service.access.clone(), move |cfg| {
            ingest.configure(cfg)
        })?;
        tracing::info!(port, "ingest listening");
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server as SIGTERM would.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
