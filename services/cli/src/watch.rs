//! `httpmon watch`: the console of the classic exercise. Every interval it shows the busiest
//! sections of the last 10 seconds and a traffic summary, and every alert and recovery once,
//! oldest first; the alert messages stay listed under the statistics.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};

use serde_json::{json, Value};

use crate::args::WatchArgs;
use crate::{endpoint, ExitError};

/// Alert messages kept on screen.
const MESSAGES_SHOWN: usize = 15;
/// Sections listed.
const SECTIONS_SHOWN: usize = 10;

pub async fn run(args: WatchArgs, client: reqwest::Client) -> Result<(), ExitError> {
    let stats_url = endpoint(&args.server.url, "/api/stats?window=10s");
    let alerts_url = endpoint(&args.server.url, "/api/alerts?limit=100");
    if args.json {
        let (stats, alerts) = tokio::join!(
            get_json(&client, &stats_url),
            get_json(&client, &alerts_url)
        );
        let (stats, alerts) = (
            stats.map_err(ExitError::Runtime)?,
            alerts.map_err(ExitError::Runtime)?,
        );
        let document = json!({ "stats": stats, "active_alerts": alerts["active"] });
        println!(
            "{}",
            serde_json::to_string_pretty(&document).expect("JSON prints")
        );
        return Ok(());
    }

    let terminal = std::io::stdout().is_terminal();
    let mut console = Console::default();
    let mut ticker = tokio::time::interval(args.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let (stats, alerts) = tokio::join!(
            get_json(&client, &stats_url),
            get_json(&client, &alerts_url)
        );
        let new_messages = match &alerts {
            Ok(alerts) => console.record_events(alerts),
            Err(_) => Vec::new(),
        };
        let screen = render(
            &args.server.url,
            &stats,
            alerts.as_ref().err(),
            &console.messages,
        );
        let mut out = std::io::stdout().lock();
        if terminal {
            // Home and clear, then the whole screen again: nothing scrolls away.
            let _ = write!(out, "\x1b[H\x1b[2J{screen}");
        } else {
            for message in new_messages {
                let _ = writeln!(out, "{message}");
            }
            let _ = writeln!(out, "{}", summary(&stats));
        }
        let _ = out.flush();
    }
}

async fn get_json(client: &reqwest::Client, url: &reqwest::Url) -> Result<Value, String> {
    let response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| format!("the reply from {url} broke off: {e}"))?;
    if !status.is_success() {
        return Err(format!("{url} answered {status}: {}", body.trim()));
    }
    serde_json::from_str(&body).map_err(|e| format!("{url} did not answer JSON: {e}"))
}

/// The alert events seen so far, and their messages in the order they happened.
#[derive(Default)]
struct Console {
    seen: HashSet<i64>,
    messages: Vec<String>,
}

impl Console {
    /// Takes the events of `GET /api/alerts` (newest first) not seen before, oldest first,
    /// and returns their messages.
    fn record_events(&mut self, alerts: &Value) -> Vec<String> {
        let mut new: Vec<(i64, String)> = alerts["history"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|event| {
                let id = event["id"].as_i64()?;
                let message = event["message"].as_str()?;
                let rule = event["rule_name"].as_str().unwrap_or("alert");
                Some((id, format!("[{rule}] {message}")))
            })
            .filter(|(id, _)| !self.seen.contains(id))
            .collect();
        new.sort_by_key(|(id, _)| *id);
        let messages: Vec<String> = new
            .into_iter()
            .map(|(id, message)| {
                self.seen.insert(id);
                message
            })
            .collect();
        self.messages.extend(messages.iter().cloned());
        let excess = self.messages.len().saturating_sub(MESSAGES_SHOWN);
        self.messages.drain(..excess);
        messages
    }
}

fn number(value: &Value) -> i64 {
    value.as_i64().unwrap_or(0)
}

/// One line: hits, rate, status classes and the top client.
fn summary(stats: &Result<Value, String>) -> String {
    let stats = match stats {
        Ok(stats) => stats,
        Err(e) => return format!("stats unavailable: {e}"),
    };
    let status = &stats["status"];
    let classes = ["2xx", "3xx", "4xx", "5xx"]
        .iter()
        .map(|c| format!("{c} {}", number(&status[c])))
        .collect::<Vec<_>>()
        .join("  ");
    let top_client = stats["top_clients"]
        .get(0)
        .map(|c| {
            format!(
                "{} ({} hits)",
                c["client"].as_str().unwrap_or("?"),
                number(&c["hits"])
            )
        })
        .unwrap_or_else(|| "-".into());
    format!(
        "last 10 s: {} hits, {:.1} hits/s | {classes} | top client {top_client}",
        number(&stats["hits"]),
        stats["hits_per_second"].as_f64().unwrap_or(0.0),
    )
}

fn render(
    url: &reqwest::Url,
    stats: &Result<Value, String>,
    alerts_error: Option<&String>,
    messages: &[String],
) -> String {
    let mut screen = String::new();
    let mut line = |text: String| {
        screen.push_str(&text);
        screen.push('\n');
    };
    line(format!("httpmon watch  {url}"));
    if let Ok(stats) = stats {
        if let Some(to) = stats["window"]["to"].as_str() {
            line(format!("window ending {to}"));
        }
    }
    line(String::new());
    line(summary(stats));
    line(String::new());
    line("Top sections (last 10 s)".into());
    match stats {
        Ok(stats) => {
            let sections = stats["top_sections"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if sections.is_empty() {
                line("  (no hits)".into());
            }
            for section in sections.iter().take(SECTIONS_SHOWN) {
                line(format!(
                    "  {:>8}  {}",
                    number(&section["hits"]),
                    section["section"].as_str().unwrap_or("?")
                ));
            }
        }
        Err(_) => line("  -".into()),
    }
    line(String::new());
    line("Alerts (oldest first)".into());
    if let Some(e) = alerts_error {
        line(format!("  alerts unavailable: {e}"));
    }
    if messages.is_empty() {
        line("  (none yet)".into());
    }
    for message in messages {
        line(format!("  {message}"));
    }
    screen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> Value {
        json!({
            "window": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:00:10Z", "seconds": 10},
            "hits": 25, "bytes": 100, "hits_per_second": 2.5,
            "status": {"1xx": 0, "2xx": 20, "3xx": 0, "4xx": 5, "5xx": 0},
            "top_sections": [{"section": "/api", "hits": 20}, {"section": "/pages", "hits": 5}],
            "top_clients": [{"client": "10.0.0.1", "hits": 25}]
        })
    }

    #[test]
    fn the_screen_lists_sections_summary_and_messages() {
        let url = "http://localhost:8080".parse().unwrap();
        let screen = render(&url, &Ok(stats()), None, &["[r] High traffic".into()]);
        assert!(screen.contains("25 hits, 2.5 hits/s"), "{screen}");
        assert!(screen.contains("4xx 5"), "{screen}");
        assert!(screen.contains("top client 10.0.0.1 (25 hits)"), "{screen}");
        assert!(
            screen.contains("\n        20  /api\n         5  /pages\n"),
            "{screen}"
        );
        assert!(screen.contains("[r] High traffic"), "{screen}");
    }

    #[test]
    fn each_event_is_recorded_once_oldest_first() {
        let mut console = Console::default();
        let page = |ids: &[i64]| {
            json!({"history": ids.iter().map(|id| json!({
                "id": id, "rule_name": "r", "message": format!("event {id}")
            })).collect::<Vec<_>>()})
        };
        assert_eq!(
            console.record_events(&page(&[2, 1])),
            ["[r] event 1", "[r] event 2"]
        );
        assert_eq!(console.record_events(&page(&[3, 2, 1])), ["[r] event 3"]);
        assert!(console.record_events(&page(&[3, 2, 1])).is_empty());
        assert_eq!(console.messages.len(), 3);
    }
}
