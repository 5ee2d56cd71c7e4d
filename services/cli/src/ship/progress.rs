//! What the shipper tells a person: on a terminal one status line refreshed in place; in a
//! log (stderr not a terminal) a plain line every few seconds while lines are shipped.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    terminal: bool,
    every: Duration,
    started: Instant,
    last_report: Instant,
    lines_at_last_report: u64,
    pub lines: u64,
    pub rejected: u64,
}

impl Progress {
    pub fn new() -> Self {
        let terminal = std::io::stderr().is_terminal();
        let now = Instant::now();
        Self {
            terminal,
            every: if terminal {
                Duration::from_millis(500)
            } else {
                Duration::from_secs(5)
            },
            started: now,
            last_report: now,
            lines_at_last_report: 0,
            lines: 0,
            rejected: 0,
        }
    }

    pub fn shipped(&mut self, lines: u64, rejected: u64) {
        self.lines += lines;
        self.rejected += rejected;
    }

    /// Reports when the last report is old enough; `behind` is the bytes of the file not
    /// yet acknowledged.
    pub fn tick(&mut self, behind: u64) {
        let elapsed = self.last_report.elapsed();
        if elapsed < self.every || (!self.terminal && self.lines == self.lines_at_last_report) {
            return;
        }
        let rate = (self.lines - self.lines_at_last_report) as f64 / elapsed.as_secs_f64();
        let line = format!(
            "httpmon ship: {} lines shipped, {rate:.0} lines/s, {} behind the end of the file{}",
            self.lines,
            bytes(behind),
            if self.rejected > 0 {
                format!(", {} rejected by ingest", self.rejected)
            } else {
                String::new()
            }
        );
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
        self.last_report = Instant::now();
        self.lines_at_last_report = self.lines;
    }

    /// Clears the status line before other output is printed on the terminal.
    pub fn interrupt(&self) {
        if self.terminal {
            clear_line();
        }
    }

    pub fn summary(&self) -> String {
        format!(
            "httpmon ship: {} lines shipped in {:.1}s{}",
            self.lines,
            self.started.elapsed().as_secs_f64(),
            if self.rejected > 0 {
                format!(", {} rejected by ingest", self.rejected)
            } else {
                String::new()
            }
        )
    }
}

fn bytes(n: u64) -> String {
    match n {
        0..1_024 => format!("{n} B"),
        1_024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

/// Clears the status line, when stderr is a terminal, so a message starts on a clean line.
pub fn clear_line() {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K");
    }
}
