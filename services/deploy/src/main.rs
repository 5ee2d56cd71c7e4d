//! `httpmon-deploy`: the steps of `deploy.sh` that talk to AWS with some logic in them. The
//! script does the plain calls with the AWS CLI (register a task definition, update a service,
//! change a rule) and asks this command for the rest:
//!
//! - `ecr-login REPOSITORY`: make sure the ECR repository exists, fetch an authorization token
//!   and log docker in with it (password on stdin); prints where to push the image
//!   (`registry/REPOSITORY`).
//! - `image-digest REPOSITORY TAG`: the digest ECR holds for a tag (exit 2 when it has none).
//! - `mirror-image REPOSITORY TAG`: only with `HTTPMON_REGISTRY`; see below.
//! - `watch-alarms [--seconds N] [--interval N] NAME,NAME...`: poll CloudWatch alarms for a
//!   soak period; exit 3 as soon as one is in ALARM.
//! - `pin-image CONTAINER IMAGE`: a described task definition (stdin) -> the input of a new
//!   revision with IMAGE (a digest reference) in CONTAINER, tagged with the revision it replaces.
//!
//! AWS settings come from the standard chain (`aws_setup::sdk_config`), so `AWS_ENDPOINT_URL`
//! points every call at an emulator. `HTTPMON_REGISTRY=host:port` sends the images to that
//! registry instead of ECR's (an emulator's repository URI resolves nowhere); `mirror-image`
//! then records the pushed manifest in ECR's API under the same tag and digest, so the rest of
//! the deploy reads ECR as it would on AWS.

mod alarms;
mod cli;
mod ecr;
mod registry;
mod task_definition;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use cli::Command;

/// Exit status of `image-digest` when the tag is not in the repository.
const NOT_FOUND: u8 = 2;
/// Exit status of `watch-alarms` when an alarm fired.
const ALARM: u8 = 3;
/// Exit status for a command line that cannot be understood.
const USAGE_ERROR: u8 = 64;

#[tokio::main]
async fn main() -> ExitCode {
    let command = match Command::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(err) => {
            eprintln!("httpmon-deploy: {err}\n\n{}", cli::USAGE);
            return ExitCode::from(USAGE_ERROR);
        }
    };
    match run(command).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("httpmon-deploy: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Help => {
            println!("{}", cli::USAGE);
            return Ok(ExitCode::SUCCESS);
        }
        // No AWS call: stdin to stdout.
        Command::PinImage { container, image } => {
            let mut described = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut described)?;
            println!(
                "{}",
                task_definition::pin_image(&described, &container, &image)?
            );
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let config = aws_setup::sdk_config().await;
    let registry_override = std::env::var("HTTPMON_REGISTRY")
        .ok()
        .filter(|value| !value.is_empty());
    match command {
        Command::Help | Command::PinImage { .. } => unreachable!("answered above"),
        Command::EcrLogin { repository } => {
            let ecr = ecr::Ecr::new(aws_sdk_ecr::Client::new(&config));
            ecr.ensure_repository(&repository).await?;
            // Where docker pushes: ECR's registry, or the override, under the same name.
            let registry = ecr.docker_login(registry_override.as_deref()).await?;
            println!("{registry}/{repository}");
        }
        Command::ImageDigest { repository, tag } => {
            match ecr::Ecr::new(aws_sdk_ecr::Client::new(&config))
                .digest(&repository, &tag)
                .await?
            {
                Some(digest) => println!("{digest}"),
                None => {
                    eprintln!(
                        "httpmon-deploy: no image tagged {tag} in ECR repository {repository}"
                    );
                    return Ok(ExitCode::from(NOT_FOUND));
                }
            }
        }
        Command::MirrorImage { repository, tag } => {
            let registry = registry_override
                .context("mirror-image only makes sense with HTTPMON_REGISTRY set")?;
            let manifest = registry::manifest(&registry, &repository, &tag).await?;
            ecr::Ecr::new(aws_sdk_ecr::Client::new(&config))
                .put_manifest(&repository, &tag, &manifest)
                .await?;
            println!("{}", manifest.digest);
        }
        Command::WatchAlarms {
            names,
            seconds,
            interval,
        } => {
            let client = aws_sdk_cloudwatch::Client::new(&config);
            let watch = alarms::Watch {
                names,
                period: Duration::from_secs(seconds),
                interval: Duration::from_secs(interval),
            };
            if let Some(firing) = watch.run(&client).await? {
                for alarm in firing {
                    eprintln!("httpmon-deploy: ALARM {}: {}", alarm.name, alarm.reason);
                }
                return Ok(ExitCode::from(ALARM));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
