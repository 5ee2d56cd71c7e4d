//! Sending one batch to `POST /api/logs` until ingest acknowledges it: gzip-compressed, with
//! its Idempotency-Key, retried with exponential backoff and jitter while ingest or the
//! network is down.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::time::Duration;

use serde::Deserialize;

use crate::ExitError;

/// Ingest's reply to a stored batch (the fields the shipper reports).
#[derive(Debug, Default, Deserialize)]
pub struct IngestReport {
    pub rejected: u64,
    #[serde(default)]
    pub rejected_lines: Vec<RejectedLine>,
}

#[derive(Debug, Deserialize)]
pub struct RejectedLine {
    pub line: u64,
    pub reason: String,
}

pub struct Delivery {
    client: reqwest::Client,
    logs_url: reqwest::Url,
    first_backoff: Duration,
    max_backoff: Duration,
}

enum Attempt {
    Acknowledged(IngestReport),
    /// Worth retrying: ingest or the network is down, or ingest asks to slow down.
    Retry(String),
    /// The request itself is wrong; retrying cannot help.
    Refused(String),
}

impl Delivery {
    pub fn new(client: reqwest::Client, base: &reqwest::Url, max_backoff: Duration) -> Self {
        Self {
            client,
            logs_url: crate::endpoint(base, "/api/logs"),
            first_backoff: Duration::from_millis(200).min(max_backoff),
            max_backoff,
        }
    }

    /// Sends `lines` until a 2xx; Err only for a refusal (a 4xx other than 408 and 429).
    pub async fn send(
        &self,
        lines: &[u8],
        idempotency_key: &str,
    ) -> Result<IngestReport, ExitError> {
        let body = gzip(lines);
        let mut backoff = self.first_backoff;
        loop {
            match self.attempt(&body, idempotency_key).await {
                Attempt::Acknowledged(report) => return Ok(report),
                Attempt::Refused(problem) => {
                    return Err(ExitError::Runtime(format!(
                        "ingest refused the batch {idempotency_key}: {problem}"
                    )))
                }
                Attempt::Retry(why) => {
                    let wait = with_jitter(backoff);
                    super::progress::clear_line();
                    eprintln!(
                        "httpmon ship: {why}; retrying in {:.1}s",
                        wait.as_secs_f64()
                    );
                    tokio::time::sleep(wait).await;
                    backoff = (backoff * 2).min(self.max_backoff);
                }
            }
        }
    }

    async fn attempt(&self, body: &[u8], idempotency_key: &str) -> Attempt {
        let sent = self
            .client
            .post(self.logs_url.clone())
            .header("Content-Type", "text/plain")
            .header("Content-Encoding", "gzip")
            .header("Idempotency-Key", idempotency_key)
            .body(body.to_vec())
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Attempt::Retry(format!("cannot reach {}: {e}", self.logs_url)),
        };
        let status = response.status();
        let text = match response.text().await {
            Ok(t) => t,
            Err(e) => {
                return Attempt::Retry(format!("the reply from {} broke off: {e}", self.logs_url))
            }
        };
        if status.is_success() {
            return match serde_json::from_str(&text) {
                Ok(report) => Attempt::Acknowledged(report),
                // Committed all the same: 2xx means stored.
                Err(_) => Attempt::Acknowledged(IngestReport::default()),
            };
        }
        let described = format!("{status}: {}", text.trim());
        if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            Attempt::Retry(format!("ingest answered {described}"))
        } else {
            Attempt::Refused(described)
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4),
        flate2::Compression::fast(),
    );
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// A wait between half and all of `backoff`, so shippers that failed together do not all
/// come back at the same instant.
fn with_jitter(backoff: Duration) -> Duration {
    let random = RandomState::new().build_hasher().finish();
    let fraction = 0.5 + (random % 1_000) as f64 / 2_000.0;
    backoff.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_half_and_all_of_the_backoff() {
        for _ in 0..100 {
            let wait = with_jitter(Duration::from_secs(2));
            assert!(wait >= Duration::from_secs(1) && wait <= Duration::from_secs(2));
        }
    }

    #[test]
    fn gzip_round_trips() {
        let mut out = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&gzip(b"a\nb\n")[..]),
            &mut out,
        )
        .unwrap();
        assert_eq!(out, b"a\nb\n");
    }
}
