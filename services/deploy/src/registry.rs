//! The registry side of `HTTPMON_REGISTRY`: read back the manifest docker pushed, with the
//! digest the registry computed, so ECR's API can be told about the same image.

use anyhow::{bail, Context};

pub struct Manifest {
    pub body: String,
    pub media_type: String,
    pub digest: String,
}

const ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.index.v1+json";

/// GET /v2/<repository>/manifests/<tag> of a registry API. Plain HTTP for loopback registries
/// (as docker itself allows), HTTPS for any other.
pub async fn manifest(registry: &str, repository: &str, tag: &str) -> anyhow::Result<Manifest> {
    let scheme = if is_loopback(registry) {
        "http"
    } else {
        "https"
    };
    let url = format!("{scheme}://{registry}/v2/{repository}/manifests/{tag}");
    let response = reqwest::Client::new()
        .get(&url)
        .header(reqwest::header::ACCEPT, ACCEPT)
        .send()
        .await
        .with_context(|| format!("reading {url}"))?;
    if !response.status().is_success() {
        bail!("{url} answered {}", response.status());
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(String::from)
    };
    let digest = header("docker-content-digest")
        .with_context(|| format!("{url} sent no Docker-Content-Digest"))?;
    let media_type =
        header("content-type").with_context(|| format!("{url} sent no Content-Type"))?;
    let body = response.text().await?;
    Ok(Manifest {
        body,
        media_type,
        digest,
    })
}

fn is_loopback(registry: &str) -> bool {
    let host = registry.rsplit_once(':').map_or(registry, |(host, _)| host);
    host == "localhost" || host.starts_with("127.") || host == "[::1]"
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_registries_are_plain_http() {
        assert!(super::is_loopback("127.0.0.1:5000"));
        assert!(super::is_loopback("localhost:5000"));
        assert!(!super::is_loopback("registry.example.com:443"));
    }
}
