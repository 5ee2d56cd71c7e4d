//! Black-box tests of the ingest service: the real server on a real port, the real Postgres,
//! connected as a role that owns only schema `ingest`.

mod feed;
mod helpers;
mod idempotency;
mod logs;
mod service;
mod shutdown;
