//! Parser throughput on one core, over realistic Combined traffic held in memory.
//!
//! `cargo run --release -p accesslog --example parse_throughput -- [N]` (N defaults to 1,000,000).
//! Generation is not timed; the best of a few rounds is reported, since the question is what the
//! parser can do, not how noisy the machine is.

use std::hint::black_box;
use std::time::{Duration, Instant};

use accesslog::parse_line;
use accesslog::sample::generate_combined_lines;

const ROUNDS: usize = 5;

fn main() {
    let n = match std::env::args().nth(1) {
        Some(arg) => arg.replace('_', "").parse().unwrap_or_else(|_| {
            eprintln!("usage: parse_throughput [N]  (N: number of lines, e.g. 1000000)");
            std::process::exit(2);
        }),
        None => 1_000_000,
    };

    let lines = generate_combined_lines(n, 42);
    let total_bytes: usize = lines.iter().map(String::len).sum();

    let mut best = Duration::MAX;
    let mut best_on_cpu: Option<Duration> = None;
    let mut parsed = 0u64;
    let mut status_sum = 0u64;
    for _ in 0..ROUNDS {
        let cpu_before = on_cpu();
        let started = Instant::now();
        let (count, sum) = parse_all(&lines);
        best = best.min(started.elapsed());
        if let (Some(before), Some(after)) = (cpu_before, on_cpu()) {
            let spent = after.saturating_sub(before);
            best_on_cpu = Some(best_on_cpu.map_or(spent, |best| best.min(spent)));
        }
        (parsed, status_sum) = (count, sum);
    }

    let seconds = best.as_secs_f64();
    println!(
        "parser: {n} lines, {:.1} MB in {seconds:.3} s -> {:.2} M lines/s, {:.0} MB/s (one core)",
        total_bytes as f64 / 1e6,
        n as f64 / seconds / 1e6,
        total_bytes as f64 / seconds / 1e6,
    );
    println!(
        "check: {parsed} lines parsed, {} rejected or skipped, sum of statuses {status_sum}",
        n as u64 - parsed
    );
    // On a shared machine the thread is not always running; its own CPU time says what the
    // parser costs, independently of what else the machine was doing.
    if let Some(on_cpu) = best_on_cpu.filter(|on_cpu| !on_cpu.is_zero()) {
        let seconds = on_cpu.as_secs_f64();
        println!(
            "on-cpu: {seconds:.3} s -> {:.2} M lines/s ({:.0}% of the wall-clock time)",
            n as f64 / seconds / 1e6,
            100.0 * seconds / best.as_secs_f64(),
        );
    }
}

/// Time this thread has spent running, where the platform tells (Linux).
fn on_cpu() -> Option<Duration> {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = schedstat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Parses every line, keeping enough of each entry alive that none of the work is optimised away.
fn parse_all(lines: &[String]) -> (u64, u64) {
    let mut parsed = 0u64;
    let mut status_sum = 0u64;
    for line in lines {
        let result = parse_line(black_box(line.as_bytes()));
        if let Ok(Some(entry)) = &result {
            parsed += 1;
            status_sum += u64::from(entry.status);
        }
        black_box(&result);
    }
    (parsed, status_sum)
}
