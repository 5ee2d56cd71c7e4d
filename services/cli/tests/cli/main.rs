//! Black-box tests of the `httpmon` binary: real servers on real ports against a real
//! Postgres, the binary run as a child process (and in a real terminal, through tmux).

mod ship;
mod support;
mod watch;
