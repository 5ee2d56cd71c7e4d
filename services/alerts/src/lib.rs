//! alerts: watches ingest's traffic through its feed and raises alerts when a rule's average
//! hits per second crosses its threshold. It owns `/api/alerts` (active alerts and their
//! history) and `/api/alerts/rules`, and keeps everything in schema `alerts`.
//!
//! [`Alerts`] is the part the monolith mounts too (routes plus its background tasks: the feed
//! consumer, the wall-clock ticks, the webhook notifier and, when configured, the CloudWatch
//! publisher); [`Application`] is the standalone service.

pub mod config;
pub mod consumer;
pub mod domain;
pub mod notify;
pub mod routes;
pub mod storage;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::dev::{Server, ServerHandle};
use actix_web::web;
use feed::consumer::{Consumer, ConsumerStatus};
use kit::shutdown::Shutdown;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{AlertSettings, AlertsConfig};
use crate::consumer::AlertsProjection;
use crate::domain::evaluation::{Clock, SystemClock, Timeline};
use crate::domain::rule::{Comparison, Condition, Metric, RuleSpec};
use crate::storage::AlertStore;

/// alerts' state and routes, ready to mount on any actix-web `App`.
#[derive(Clone)]
pub struct Alerts {
    store: AlertStore,
    timeline: Timeline,
    clock: Arc<dyn Clock>,
    status: watch::Receiver<ConsumerStatus>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Alerts {
    /// Migrates schema `alerts`, creates the default rule on first start, and spawns the
    /// background tasks, which run until `shutdown`.
    pub async fn start(
        pool: PgPool,
        settings: AlertSettings,
        shutdown: Shutdown,
    ) -> anyhow::Result<Self> {
        Self::start_with_clock(pool, settings, shutdown, Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(
        pool: PgPool,
        settings: AlertSettings,
        shutdown: Shutdown,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        kit::db::migrate(&pool, storage::SCHEMA, &storage::MIGRATOR).await?;
        let store = AlertStore::new(pool.clone());
        let timeline = Timeline {
            lateness: settings.lateness_seconds,
        };
        let default_rule = RuleSpec {
            name: "High traffic".into(),
            metric: Metric::Hits,
            condition: Condition {
                window_seconds: settings.default_window_seconds,
                threshold: settings.default_threshold,
                comparison: Comparison::Above,
            },
            webhook_url: None,
        };
        store
            .seed_default_rule(&default_rule, timeline.on_tick(clock.now()).complete)
            .await?;

        let projection = Arc::new(AlertsProjection {
            timeline,
            clock: clock.clone(),
        });
        let consumer = Consumer::new(projection, pool.clone(), settings.consumer.clone());
        let status = consumer.status();
        let mut tasks = vec![
            tokio::spawn(consumer.run(shutdown.clone())),
            tokio::spawn(consumer::run_ticks(
                pool.clone(),
                timeline,
                clock.clone(),
                settings.tick_interval,
                status.clone(),
                shutdown.clone(),
            )),
            tokio::spawn(consumer::run_counts_retention(
                pool.clone(),
                settings.counts_retention,
                status.clone(),
                shutdown.clone(),
            )),
            tokio::spawn(notify::webhook::run(
                pool.clone(),
                settings.webhook,
                shutdown.clone(),
            )),
        ];
        if let Some(cloudwatch) = settings.cloudwatch {
            tasks.push(tokio::spawn(notify::cloudwatch::run(
                pool,
                cloudwatch,
                timeline,
                clock.clone(),
                status.clone(),
                shutdown,
            )));
        }
        Ok(Self {
            store,
            timeline,
            clock,
            status,
            tasks: Arc::new(Mutex::new(tasks)),
        })
    }

    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        routes::configure(cfg, self.clone());
        kit::docs::configure(cfg, "/api/alerts/docs", routes::document());
    }

    /// Waits for the background tasks to finish once shutdown was triggered.
    pub async fn stopped(&self) {
        let tasks = std::mem::take(&mut *self.tasks.lock().expect("task list"));
        for task in tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "alerts background task failed");
            }
        }
    }

    /// The second new rules start being judged from.
    fn rule_start(&self) -> i64 {
        self.timeline.on_tick(self.clock.now()).complete
    }
}

/// The standalone alerts service.
pub struct Application {
    port: u16,
    server: Server,
    alerts: Alerts,
    trigger: kit::shutdown::ShutdownTrigger,
}

impl Application {
    pub async fn build(config: AlertsConfig) -> anyhow::Result<Self> {
        let pool = kit::db::connect(&config.service.database).await?;
        let (trigger, shutdown) = kit::shutdown::channel();
        let alerts = Alerts::start(pool.clone(), config.settings, shutdown).await?;
        let listener = TcpListener::bind(config.service.address())?;
        let port = listener.local_addr()?.port();
        let mounted = alerts.clone();
        let server = kit::http::serve(listener, pool, config.service.access.clone(), move |cfg| {
            mounted.configure(cfg)
        })?;
        tracing::info!(port, "alerts listening");
        Ok(Self {
            port,
            server,
            alerts,
            trigger,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server as SIGTERM would (tests use it to restart the service).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT, then lets in-flight requests finish and the background
    /// tasks commit what they were doing.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.trigger.trigger();
        self.alerts.stopped().await;
        served
    }
}
