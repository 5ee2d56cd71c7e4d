//! The command line, parsed by hand: four subcommands with a few arguments each do not need a
//! parser crate in the build.

pub const USAGE: &str = "\
usage: httpmon-deploy ecr-login REPOSITORY
       httpmon-deploy image-digest REPOSITORY TAG
       httpmon-deploy mirror-image REPOSITORY TAG        (with HTTPMON_REGISTRY)
       httpmon-deploy watch-alarms [--seconds N] [--interval N] NAME[,NAME...]
       httpmon-deploy pin-image CONTAINER IMAGE < described.json > register.json

REPOSITORY is an ECR repository name (e.g. mystack/ingest). Exit status: 0 done, 1 error,
2 image-digest found no such tag, 3 watch-alarms saw an alarm in ALARM, 64 bad usage.";

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Help,
    EcrLogin {
        repository: String,
    },
    ImageDigest {
        repository: String,
        tag: String,
    },
    MirrorImage {
        repository: String,
        tag: String,
    },
    WatchAlarms {
        names: Vec<String>,
        seconds: u64,
        interval: u64,
    },
    PinImage {
        container: String,
        image: String,
    },
}

impl Command {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut args = args.into_iter();
        let name = args.next().ok_or("a subcommand is required")?;
        let rest: Vec<String> = args.collect();
        match name.as_str() {
            "-h" | "--help" | "help" => Ok(Command::Help),
            "ecr-login" => match rest.as_slice() {
                [repository] => Ok(Command::EcrLogin {
                    repository: repository.clone(),
                }),
                _ => Err("ecr-login takes one REPOSITORY".into()),
            },
            "image-digest" | "mirror-image" => match rest.as_slice() {
                [repository, tag] => {
                    let (repository, tag) = (repository.clone(), tag.clone());
                    Ok(if name == "image-digest" {
                        Command::ImageDigest { repository, tag }
                    } else {
                        Command::MirrorImage { repository, tag }
                    })
                }
                _ => Err(format!("{name} takes REPOSITORY and TAG")),
            },
            "watch-alarms" => parse_watch(rest),
            "pin-image" => match rest.as_slice() {
                [container, image] => Ok(Command::PinImage {
                    container: container.clone(),
                    image: image.clone(),
                }),
                _ => Err("pin-image takes CONTAINER and IMAGE".into()),
            },
            other => Err(format!("unknown subcommand `{other}`")),
        }
    }
}

fn parse_watch(args: Vec<String>) -> Result<Command, String> {
    let (mut seconds, mut interval, mut names) = (300, 15, Vec::new());
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" | "--interval" => {
                let value = args.next().ok_or(format!("{arg} needs a number"))?;
                let value: u64 = value
                    .parse()
                    .map_err(|_| format!("{arg} {value}: not a whole number of seconds"))?;
                if arg == "--seconds" {
                    seconds = value;
                } else {
                    interval = value.max(1);
                }
            }
            list => names.extend(
                list.split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                    .map(String::from),
            ),
        }
    }
    if names.is_empty() {
        return Err("watch-alarms needs the names of the alarms to watch".into());
    }
    Ok(Command::WatchAlarms {
        names,
        seconds,
        interval,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, String> {
        Command::parse(line.split_whitespace().map(String::from))
    }

    #[test]
    fn subcommands_take_their_arguments() {
        assert_eq!(
            parse("ecr-login s/ingest"),
            Ok(Command::EcrLogin {
                repository: "s/ingest".into()
            })
        );
        assert_eq!(
            parse("image-digest s/ingest abc123"),
            Ok(Command::ImageDigest {
                repository: "s/ingest".into(),
                tag: "abc123".into()
            })
        );
        assert!(parse("image-digest s/ingest").is_err());
        assert!(parse("deploy").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn watch_reads_names_and_periods() {
        assert_eq!(
            parse("watch-alarms --seconds 60 a,b, c --interval 0"),
            Ok(Command::WatchAlarms {
                names: vec!["a".into(), "b".into(), "c".into()],
                seconds: 60,
                interval: 1,
            })
        );
        assert!(parse("watch-alarms --seconds 60").is_err());
        assert!(parse("watch-alarms --seconds soon a").is_err());
    }
}
