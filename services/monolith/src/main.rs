//! The monolith binary: configuration, telemetry, then the library.

use kit::config::Env;
use monolith::{Application, MonolithConfig};

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    kit::telemetry::init("monolith");
    let config = MonolithConfig::from_env(&Env::from_process())?;
    Application::build(config)
        .await?
        .run_until_stopped()
        .await?;
    Ok(())
}
