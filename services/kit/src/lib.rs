//! The service kit: the few things every httpmon service does the same way.
//!
//! A service binary reads its configuration ([`config`]), sets up [`telemetry`], opens its
//! [`db`] pool and migrates its own schema, then mounts its routes next to [`health`] and
//! [`docs`] on an actix-web `App` wrapped by [`http::middleware`]. Every error a handler
//! returns becomes a [`problem::Problem`] in one place.

pub mod access;
pub mod config;
pub mod db;
pub mod docs;
pub mod health;
pub mod http;
pub mod problem;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use problem::{ApiError, Problem};
