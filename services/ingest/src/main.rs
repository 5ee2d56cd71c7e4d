//! The ingest service binary: configuration, telemetry, then the library.

use ingest::config::IngestConfig;
use ingest::Application;
use kit::config::Env;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    kit::telemetry::init("ingest");
    let config = IngestConfig::from_env(&Env::from_process())?;
    Application::build(config)
        .await?
        .run_until_stopped()
        .await?;
    Ok(())
}
