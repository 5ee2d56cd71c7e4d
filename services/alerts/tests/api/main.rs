//! Black-box tests of the alerts service: a real ingest and a real alerts server on real
//! ports, one Postgres database, each service connected as a role that owns only its schema.

mod cloudwatch;
mod helpers;
mod live;
mod replay;
mod retention;
mod rules;
mod service;
mod webhook;
