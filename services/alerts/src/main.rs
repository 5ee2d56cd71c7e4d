//! The alerts service binary: configuration, telemetry, then the library.

use alerts::config::AlertsConfig;
use alerts::Application;
use kit::config::Env;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    kit::telemetry::init("alerts");
    let config = AlertsConfig::from_env(&Env::from_process())?;
    Application::build(config)
        .await?
        .run_until_stopped()
        .await?;
    Ok(())
}
