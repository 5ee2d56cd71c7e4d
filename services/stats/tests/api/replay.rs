//! Replaying a real log: what stats reports must equal a count made directly from the file.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::helpers::spawn;

/// The public 10,000-line Apache log when present (testdata/apache_logs), else generated
/// Combined lines of the same size.
fn log_lines() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/apache_logs");
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_string)
            .collect(),
        Err(_) => accesslog::sample::generate_combined_lines(10_000, 42),
    }
}

/// What the file holds, counted line by line with the parser alone.
#[derive(Default)]
struct Reference {
    hits: i64,
    bytes: i64,
    classes: HashMap<String, i64>,
    sections: HashMap<String, i64>,
    clients: HashMap<String, i64>,
}

impl Reference {
    fn count(lines: &[String], keep: impl Fn(i64) -> bool) -> Self {
        let mut r = Self::default();
        for line in lines {
            let Ok(Some(entry)) = accesslog::parse_line(line.as_bytes()) else {
                continue;
            };
            if !keep(entry.unix_micros.div_euclid(1_000_000)) {
                continue;
            }
            r.hits += 1;
            r.bytes += entry.bytes.unwrap_or(0) as i64;
            *r.classes
                .entry(format!("{}xx", entry.status / 100))
                .or_default() += 1;
            *r.sections.entry(entry.section.to_string()).or_default() += 1;
            *r.clients.entry(entry.client.to_string()).or_default() += 1;
        }
        r
    }

    fn check(&self, report: &Value, limit: usize) {
        assert_eq!(report["hits"], self.hits, "{report}");
        assert_eq!(report["bytes"], self.bytes);
        for class in ["1xx", "2xx", "3xx", "4xx", "5xx"] {
            assert_eq!(
                report["status"][class],
                self.classes.get(class).copied().unwrap_or(0),
                "{class}"
            );
        }
        assert_eq!(
            report["top_sections"],
            top(&self.sections, "section", limit)
        );
        assert_eq!(report["top_clients"], top(&self.clients, "client", limit));
    }
}

/// Most hits first, ties by name in byte order.
fn top(counts: &HashMap<String, i64>, key: &str, limit: usize) -> Value {
    let mut sorted: Vec<(&String, &i64)> = counts.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    sorted
        .into_iter()
        .take(limit)
        .map(|(name, hits)| json!({ key: name, "hits": hits }))
        .collect()
}

#[tokio::test]
async fn replaying_a_real_log_gives_exactly_the_counts_of_the_file() {
    let app = spawn().await;
    let lines = log_lines();
    let mut accepted = 0;
    for chunk in lines.chunks(1_500) {
        accepted += app.post_lines(chunk).await;
    }
    let all = Reference::count(&lines, |_| true);
    assert_eq!(
        accepted, all.hits,
        "ingest and the parser disagree on the file"
    );
    app.wait_for_offset(&app.stats.address, accepted).await;

    let (status, report) = app.get("/api/stats?window=all&limit=100").await;
    assert_eq!(status, 200);
    all.check(&report, 100);
    assert_eq!(report["feed"]["lag"], 0);
    let (_, report) = app.get("/api/stats?window=all").await;
    all.check(&report, 10);

    // A bounded window with ragged edges inside the log: from <= time < to.
    let times: Vec<i64> = lines
        .iter()
        .filter_map(|l| accesslog::parse_line(l.as_bytes()).ok().flatten())
        .map(|e| e.unix_micros.div_euclid(1_000_000))
        .collect();
    let (first, last) = (*times.iter().min().unwrap(), *times.iter().max().unwrap());
    let from = first + (last - first) / 4 + 7;
    let to = first + (last - first) * 3 / 5 + 3_661;
    let bounded = Reference::count(&lines, |t| from <= t && t < to);
    assert!(bounded.hits > 0 && bounded.hits < all.hits);
    let rfc = |t: i64| chrono::DateTime::from_timestamp(t, 0).unwrap().to_rfc3339();
    let (status, report) = app
        .get(&format!("/api/stats?from={}&to={}&limit=25", rfc(from), rfc(to)).replace('+', "%2B"))
        .await;
    assert_eq!(status, 200, "{report}");
    bounded.check(&report, 25);
    assert_eq!(report["window"]["seconds"], to - from);

    // The last hour of the log, for a replay whose clock is long past.
    let last_hour = Reference::count(&lines, |t| last + 1 - 3_600 <= t && t <= last);
    let (_, report) = app.get("/api/stats?window=1h&to=latest&limit=100").await;
    last_hour.check(&report, 100);
}
