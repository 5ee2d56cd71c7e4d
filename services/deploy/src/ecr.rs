//! ECR: the repository an image goes to, docker's login to its registry, and the digest a tag
//! names (task definitions are pinned to digests, never to tags).

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use aws_sdk_ecr::types::{ImageIdentifier, ImageScanningConfiguration, ImageTagMutability};
use base64::Engine;

use crate::registry::Manifest;

pub struct Ecr {
    client: aws_sdk_ecr::Client,
}

impl Ecr {
    pub fn new(client: aws_sdk_ecr::Client) -> Self {
        Self { client }
    }

    /// Creates the repository unless it exists (the stack creates them; this keeps a deploy of
    /// a new image working before the stack knows it), with the stack's settings: immutable
    /// tags, scan on push. Asking to create is the whole check: DescribeRepositories would do,
    /// but the emulator the tests use answers it with dates this SDK cannot read.
    pub async fn ensure_repository(&self, name: &str) -> anyhow::Result<()> {
        let created = self
            .client
            .create_repository()
            .repository_name(name)
            .image_tag_mutability(ImageTagMutability::Immutable)
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(true)
                    .build(),
            )
            .send()
            .await;
        match created {
            Ok(_) => {
                eprintln!("httpmon-deploy: created ECR repository {name}");
                Ok(())
            }
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_repository_already_exists_exception()) =>
            {
                Ok(())
            }
            Err(err) => Err(err).with_context(|| format!("creating ECR repository {name}")),
        }
    }

    /// Logs docker in to ECR's registry (or to `registry_override`) with a fresh token, the
    /// password on docker's stdin so it never shows in a process list. Returns the registry.
    pub async fn docker_login(&self, registry_override: Option<&str>) -> anyhow::Result<String> {
        let output = self
            .client
            .get_authorization_token()
            .send()
            .await
            .context("getting an ECR authorization token")?;
        let data = output
            .authorization_data()
            .first()
            .context("ECR returned no authorization data")?;
        let (user, password) = decode_token(
            data.authorization_token()
                .context("ECR returned no authorization token")?,
        )?;
        let registry = match registry_override {
            Some(registry) => registry.to_string(),
            None => registry_host(
                data.proxy_endpoint()
                    .context("ECR returned no registry endpoint")?,
            ),
        };
        let mut docker = Command::new("docker")
            .args(["login", "--username", &user, "--password-stdin", &registry])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .context("running docker login (is docker installed?)")?;
        docker
            .stdin
            .take()
            .context("docker login has no stdin")?
            .write_all(password.as_bytes())?;
        if !docker.wait()?.success() {
            bail!("docker login to {registry} failed");
        }
        eprintln!("httpmon-deploy: docker logged in to {registry}");
        Ok(registry)
    }

    /// The digest of the image tagged `tag`, or None when the repository has no such tag.
    pub async fn digest(&self, repository: &str, tag: &str) -> anyhow::Result<Option<String>> {
        let found = self
            .client
            .describe_images()
            .repository_name(repository)
            .image_ids(ImageIdentifier::builder().image_tag(tag).build())
            .send()
            .await;
        match found {
            Ok(output) => Ok(output
                .image_details()
                .first()
                .and_then(|image| image.image_digest())
                .map(String::from)),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_image_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(err) => {
                Err(err).with_context(|| format!("describing image {repository}:{tag} in ECR"))
            }
        }
    }

    /// Records a manifest pushed elsewhere under `tag`, with the digest the registry gave it.
    pub async fn put_manifest(
        &self,
        repository: &str,
        tag: &str,
        manifest: &Manifest,
    ) -> anyhow::Result<()> {
        let put = self
            .client
            .put_image()
            .repository_name(repository)
            .image_tag(tag)
            .image_manifest(&manifest.body)
            .image_manifest_media_type(&manifest.media_type)
            .image_digest(&manifest.digest)
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            // The same manifest under the same tag: already recorded.
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_image_already_exists_exception()) =>
            {
                Ok(())
            }
            Err(err) => Err(err).with_context(|| format!("recording {repository}:{tag} in ECR")),
        }
    }
}

/// ECR's token is base64 of `user:password` (the user is always AWS).
fn decode_token(token: &str) -> anyhow::Result<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .context("ECR authorization token is not base64")?;
    let decoded = String::from_utf8(decoded).context("ECR authorization token is not text")?;
    match decoded.split_once(':') {
        Some((user, password)) if !user.is_empty() && !password.is_empty() => {
            Ok((user.to_string(), password.to_string()))
        }
        _ => bail!("ECR authorization token is not user:password"),
    }
}

/// `https://123.dkr.ecr.eu-west-1.amazonaws.com` -> `123.dkr.ecr.eu-west-1.amazonaws.com`.
fn registry_host(endpoint: &str) -> String {
    let host = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .unwrap_or(endpoint);
    host.trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_user_and_password() {
        let token = base64::engine::general_purpose::STANDARD.encode("AWS:s3cr:et");
        assert_eq!(
            decode_token(&token).unwrap(),
            ("AWS".to_string(), "s3cr:et".to_string())
        );
        let no_password = base64::engine::general_purpose::STANDARD.encode("AWS");
        assert!(decode_token(&no_password).is_err());
        assert!(decode_token("not base64!").is_err());
    }

    #[test]
    fn registry_is_the_endpoint_host() {
        assert_eq!(
            registry_host("https://1.dkr.ecr.eu-west-1.amazonaws.com/"),
            "1.dkr.ecr.eu-west-1.amazonaws.com"
        );
        assert_eq!(registry_host("127.0.0.1:5000"), "127.0.0.1:5000");
    }
}
