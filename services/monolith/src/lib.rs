//! The monolith: ingest, stats and alerts mounted on one actix-web `App` with one pool, their
//! feed consumers running in-process, serving the same paths from the same schemas as the
//! standalone services. The load balancer can send any share of a path to either side at any
//! time: both read and write the same tables, and the consumers' advisory locks keep a single
//! applier per read model across the monolith and the services.

use std::net::TcpListener;

use actix_web::dev::{Server, ServerHandle};
use alerts::config::AlertSettings;
use alerts::Alerts;
use feed::consumer::ConsumerConfig;
use ingest::Ingest;
use kit::config::{ConfigError, Env, ServiceConfig};
use kit::shutdown::{self, ShutdownTrigger};
use stats::config::Retention;
use stats::Stats;

/// The API documents the monolith's `/docs` page offers.
const DOCUMENTS: [(&str, &str); 3] = [
    ("logs", "/api/logs/openapi.json"),
    ("stats", "/api/stats/openapi.json"),
    ("alerts", "/api/alerts/openapi.json"),
];

#[derive(Debug, Clone)]
pub struct MonolithConfig {
    pub service: ServiceConfig,
    pub ingest: ingest::config::Limits,
    pub stats_consumer: ConsumerConfig,
    pub retention: Retention,
    pub alerts: AlertSettings,
    /// True when `INGEST_URL` is unset: the consumers follow this process's own feed.
    pub follows_itself: bool,
}

impl MonolithConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let follows_itself = env.raw("INGEST_URL").is_none();
        // Replaced by the bound port in `build` when the consumers follow this process.
        let env = env
            .clone()
            .with_default("INGEST_URL", "http://127.0.0.1:8080");
        Ok(Self {
            service: ServiceConfig::from_env(&env)?,
            ingest: ingest::config::IngestConfig::from_env(&env)?.limits,
            stats_consumer: ConsumerConfig::from_env(&env)?,
            retention: Retention::from_env(&env)?,
            alerts: AlertSettings::from_env(&env)?,
            follows_itself,
        })
    }
}

pub struct Application {
    port: u16,
    server: Server,
    stats: Stats,
    alerts: Alerts,
    shutdown: ShutdownTrigger,
}

impl Application {
    pub async fn build(mut config: MonolithConfig) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.service.address())?;
        let port = listener.local_addr()?.port();
        if config.follows_itself {
            let own_feed = format!("http://127.0.0.1:{port}");
            config.stats_consumer.ingest_url = own_feed.clone();
            config.alerts.consumer.ingest_url = own_feed;
        }

        let pool = kit::db::connect(&config.service.database).await?;
        let (trigger, shutdown) = shutdown::channel();
        let ingest = Ingest::start(pool.clone(), config.ingest).await?;
        let stats = Stats::start(
            pool.clone(),
            config.stats_consumer,
            config.retention,
            shutdown.clone(),
        )
        .await?;
        let alerts = Alerts::start(pool.clone(), config.alerts, shutdown).await?;

        let (mounted_stats, mounted_alerts) = (stats.clone(), alerts.clone());
        let server = kit::http::serve(listener, pool, config.service.access.clone(), move |cfg| {
            ingest.configure(cfg);
            mounted_stats.configure(cfg);
            mounted_alerts.configure(cfg);
            kit::docs::selector(cfg, "/docs", &DOCUMENTS);
        })?;
        tracing::info!(port, "monolith listening");
        Ok(Self {
            port,
            server,
            stats,
            alerts,
            shutdown: trigger,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server as SIGTERM would.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT, lets in-flight requests finish, then stops the consumers
    /// once they have committed or rolled back their page.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.shutdown.trigger();
        self.stats.stopped().await;
        self.alerts.stopped().await;
        served
    }
}
