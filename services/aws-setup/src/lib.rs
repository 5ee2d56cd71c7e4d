//! The AWS SDK configuration every httpmon AWS client starts from.
//!
//! Credentials, region and endpoint come from the standard chain (environment, profile, ECS
//! task role), so `AWS_ENDPOINT_URL` points every client at an emulator in tests. TLS uses
//! rustls with ring, the provider the rest of the workspace already builds.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

pub async fn sdk_config() -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await
}
