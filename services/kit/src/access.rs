//! Who may call a service: API keys from `HTTPMON_API_KEYS` (comma-separated), sent as
//! `Authorization: Bearer <key>`.
//!
//! Every request that changes something (any method but GET, HEAD and OPTIONS) needs a key;
//! reads need one too when `HTTPMON_READS_NEED_KEY=true`. Health checks and API documents stay
//! open, since load balancers and browsers call them without keys. With no keys configured
//! everything is open, and the service says so loudly at startup.
//!
//! Keys are kept only as SHA-256 digests and compared in constant time against every key, so
//! neither timing nor a log line gives one away.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{ConfigError, Env};
use crate::problem::ApiError;

/// Keys shorter than this are refused at startup: a short key can be guessed.
pub const MIN_KEY_LENGTH: usize = 16;

#[derive(Clone, Default)]
pub struct Access {
    key_digests: Vec<[u8; 32]>,
    reads_need_key: bool,
}

/// Never prints the keys, only how many there are.
impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("keys", &self.key_digests.len())
            .field("reads_need_key", &self.reads_need_key)
            .finish()
    }
}

impl Access {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let keys: Vec<&str> = env
            .raw("HTTPMON_API_KEYS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .collect();
        if let Some(i) = keys.iter().position(|k| k.len() < MIN_KEY_LENGTH) {
            return Err(crate::config::invalid(
                "HTTPMON_API_KEYS",
                "<not shown>",
                &format!("key {} is shorter than {MIN_KEY_LENGTH} characters", i + 1),
            ));
        }
        let reads_need_key = env.or("HTTPMON_READS_NEED_KEY", false)?;
        if reads_need_key && keys.is_empty() {
            return Err(crate::config::invalid(
                "HTTPMON_READS_NEED_KEY",
                "true",
                "needs HTTPMON_API_KEYS",
            ));
        }
        Ok(Self {
            key_digests: keys.iter().map(|k| digest(k.as_bytes())).collect(),
            reads_need_key,
        })
    }

    pub fn is_open(&self) -> bool {
        self.key_digests.is_empty()
    }

    /// Says at startup what is open to anyone.
    pub fn announce(&self) {
        if self.is_open() {
            tracing::warn!(
                "HTTPMON_API_KEYS is not set: ANYONE who can reach this service may change \
                 its data; set keys before exposing it"
            );
        } else {
            tracing::info!(
                keys = self.key_digests.len(),
                reads_need_key = self.reads_need_key,
                "API keys required for writes"
            );
        }
    }

    /// Whether `request` may go on: `Ok` or the 401/403 to answer.
    fn check(
        &self,
        method: &Method,
        path: &str,
        authorization: Option<&[u8]>,
    ) -> Result<(), ApiError> {
        let read = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if self.is_open() || (read && (!self.reads_need_key || always_open(path))) {
            return Ok(());
        }
        let Some(key) = authorization.and_then(|h| h.strip_prefix(b"Bearer ")) else {
            return Err(ApiError::Unauthorized(
                "this request needs an API key: Authorization: Bearer <key>".into(),
            ));
        };
        let presented = digest(key.trim_ascii());
        // Compare with every key, without stopping at a match.
        let known = self
            .key_digests
            .iter()
            .fold(subtle::Choice::from(0), |found, k| {
                found | k.ct_eq(&presented)
            });
        if bool::from(known) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this API key is not accepted here".into(),
            ))
        }
    }
}

/// A key this service sends to another (`HTTPMON_API_KEY`); printed only as `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(pub String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl ApiKey {
    /// `HTTPMON_API_KEY`, when set and not empty.
    pub fn from_env(env: &Env) -> Option<Self> {
        env.raw("HTTPMON_API_KEY")
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|k| Self(k.to_string()))
    }
}

fn digest(key: &[u8]) -> [u8; 32] {
    Sha256::digest(key).into()
}

/// Health checks and the API documents: called by load balancers and browsers without keys.
fn always_open(path: &str) -> bool {
    path == "/health"
        || path.starts_with("/health/")
        || path.ends_with("/openapi.json")
        || path.ends_with("/docs")
        || path.contains("/docs/")
}

/// The middleware [`crate::http::serve`] wraps every service in.
pub async fn require_key(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let allowed = match request.app_data::<web::Data<Access>>() {
        Some(access) => access.check(
            request.method(),
            request.path(),
            request
                .headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .map(|v| v.as_bytes()),
        ),
        None => Ok(()),
    };
    match allowed {
        Ok(()) => Ok(next.call(request).await?.map_into_left_body()),
        Err(refusal) => {
            let response = actix_web::ResponseError::error_response(&refusal);
            Ok(request.into_response(response).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(keys: &str, reads: bool) -> Access {
        Access::from_env(&Env::from_pairs([
            ("HTTPMON_API_KEYS", keys),
            (
                "HTTPMON_READS_NEED_KEY",
                if reads { "true" } else { "false" },
            ),
        ]))
        .unwrap()
    }

    const KEY: &[u8] = b"Bearer 0123456789abcdef";

    #[test]
    fn writes_need_one_of_the_keys_and_reads_only_when_configured() {
        let writes = access("0123456789abcdef, fedcba9876543210", false);
        assert!(writes.check(&Method::GET, "/api/stats", None).is_ok());
        assert!(matches!(
            writes.check(&Method::POST, "/api/logs", None),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(matches!(
            writes.check(&Method::POST, "/api/logs", Some(b"Basic abc")),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(matches!(
            writes.check(
                &Method::DELETE,
                "/api/alerts/rules/1",
                Some(b"Bearer 0123456789abcdeX")
            ),
            Err(ApiError::Forbidden(_))
        ));
        assert!(writes.check(&Method::POST, "/api/logs", Some(KEY)).is_ok());
        assert!(writes
            .check(
                &Method::PUT,
                "/api/alerts/rules/1",
                Some(b"Bearer fedcba9876543210")
            )
            .is_ok());

        let reads = access("0123456789abcdef", true);
        assert!(matches!(
            reads.check(&Method::GET, "/api/stats", None),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(reads.check(&Method::GET, "/api/stats", Some(KEY)).is_ok());
        for open in [
            "/health",
            "/health/ready",
            "/api/stats/openapi.json",
            "/api/logs/docs/",
            "/docs/",
        ] {
            assert!(reads.check(&Method::GET, open, None).is_ok(), "{open}");
        }
    }

    #[test]
    fn no_keys_means_open_and_bad_settings_are_refused() {
        let open = access("", false);
        assert!(open.is_open());
        assert!(open.check(&Method::POST, "/api/logs", None).is_ok());
        let short = Access::from_env(&Env::from_pairs([("HTTPMON_API_KEYS", "short")]));
        let message = short.unwrap_err().to_string();
        assert!(message.contains("HTTPMON_API_KEYS"), "{message}");
        assert!(
            !message.contains("short\""),
            "the key is not shown: {message}"
        );
        let reads_without_keys =
            Access::from_env(&Env::from_pairs([("HTTPMON_READS_NEED_KEY", "true")]));
        assert!(reads_without_keys.is_err());
    }

    #[test]
    fn keys_are_not_printed() {
        let printed = format!("{:?}", access("0123456789abcdef", false));
        assert!(!printed.contains("0123456789abcdef"), "{printed}");
    }
}
