//! The stats service binary: configuration, telemetry, then the library.

use kit::config::Env;
use stats::config::StatsConfig;
use stats::Application;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    kit::telemetry::init("stats");
    let config = StatsConfig::from_env(&Env::from_process())?;
    Application::build(config)
        .await?
        .run_until_stopped()
        .await?;
    Ok(())
}
