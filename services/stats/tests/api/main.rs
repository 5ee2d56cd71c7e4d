//! Black-box tests of the stats service: a real ingest and real stats servers on real ports,
//! the real Postgres, each service connected as a role that owns only its own schema. The
//! tests talk HTTP only (plus an admin connection for invariants no endpoint shows).

mod consumer;
mod helpers;
mod outage;
mod replay;
mod service;
mod windows;
