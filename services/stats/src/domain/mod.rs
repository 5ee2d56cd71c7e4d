//! stats' pure logic, no I/O: windows and how they map onto rollup buckets, and rolling a
//! page of entries up in memory.

pub mod rollup;
pub mod series;
pub mod window;
