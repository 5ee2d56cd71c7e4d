//! `httpmon watch` against the monolith: the console in a real terminal (tmux), and
//! `--json`.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Monolith, BIN};

fn paths(section: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("/{section}/{i}")).collect()
}

async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || Command::new(BIN).args(args).output())
        .await
        .unwrap()
        .expect("run httpmon")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_json_prints_the_last_10_seconds_and_the_active_alerts() {
    let monolith = Monolith::start().await;
    // The window is the last 10 s of wall-clock time: post until one run sees the lines.
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        monolith.post_lines(&paths("alpha", 20)).await;
        monolith.post_lines(&paths("beta", 5)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let output = run(vec![
            "watch".into(),
            "--json".into(),
            "--url".into(),
            monolith.url.clone(),
        ])
        .await;
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let document: Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
        assert!(document["active_alerts"].is_array(), "{document}");
        let sections: Vec<&str> = document["stats"]["top_sections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["section"].as_str().unwrap())
            .collect();
        if sections.first() == Some(&"/alpha") && sections.contains(&"/beta") {
            assert!(
                document["stats"]["hits"].as_i64().unwrap() >= 25,
                "{document}"
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never saw the sections: {document}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_json_exits_1_when_the_server_cannot_be_reached() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = run(vec![
        "watch".into(),
        "--json".into(),
        "--url".into(),
        format!("http://127.0.0.1:{port}"),
    ])
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot reach"));
}

/// A tmux server of the test's own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Runs `command` in a detached 200x50 terminal.
    fn start(command: &str) -> Self {
        let socket = format!(
            "httpmon-test-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros()
        );
        // Kept open after the command ends, so a failure's last screen can be read.
        let shell = format!("{command}; echo \"exited with $?\"; sleep 600");
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-s",
                "watch",
                "-x",
                "200",
                "-y",
                "50",
            ])
            .arg(shell)
            .status()
            .expect("start tmux");
        assert!(status.success(), "tmux new-session failed");
        Self { socket }
    }

    fn screen(&self) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "watch"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

const ALERT: &str = "High traffic generated an alert";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_shows_the_top_sections_and_keeps_alert_messages_on_screen() {
    if !Tmux::available() {
        eprintln!("SKIPPED watch_shows_the_top_sections_and_keeps_alert_messages_on_screen: tmux is not installed (scripts/test installs it)");
        return;
    }
    let monolith = Monolith::start().await;
    let rule = monolith
        .client
        .post(format!("{}/api/alerts/rules", monolith.url))
        .json(&serde_json::json!({ "name": "watch test", "window_seconds": 2, "threshold": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(rule.status(), 201, "{}", rule.text().await.unwrap());

    let tmux = Tmux::start(&format!("{BIN} watch --url {} --interval 1", monolith.url));

    // About 100 hits/s, most on /alpha, until the console shows the alert.
    let deadline = Instant::now() + Duration::from_secs(45);
    let mut screen;
    loop {
        monolith.post_lines(&paths("alpha", 8)).await;
        monolith.post_lines(&paths("beta", 2)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        screen = tmux.screen();
        let alpha_first = screen
            .lines()
            .skip_while(|l| !l.starts_with("Top sections"))
            .nth(1)
            .is_some_and(|l| l.trim_end().ends_with(" /alpha"));
        if screen.contains(ALERT) && alpha_first && screen.contains(" /beta") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the console never showed the sections and the alert:\n{screen}"
        );
    }

    // Traffic stops; after several more refreshes the message is still on screen.
    let window_line = |screen: &str| {
        screen
            .lines()
            .find(|l| l.starts_with("window ending"))
            .map(str::to_string)
    };
    let mut refreshes = vec![window_line(&screen)];
    let deadline = Instant::now() + Duration::from_secs(30);
    while refreshes.len() < 4 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        screen = tmux.screen();
        let line = window_line(&screen);
        if line.is_some() && line != *refreshes.last().unwrap() {
            refreshes.push(line);
        }
        assert!(
            Instant::now() < deadline,
            "the console stopped refreshing:\n{screen}"
        );
    }
    assert!(
        screen.contains(ALERT),
        "the alert message scrolled away:\n{screen}"
    );
    eprintln!("the last screen:\n{screen}");
}
