//! `httpmon ship` against a real ingest: rotation, truncation, ingest going away, and
//! crashes at random points, each checked line by line in the database.

use std::collections::hash_map::RandomState;
use std::fs::{self, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::process::Stdio;
use std::time::Duration;

use crate::support::{
    assert_exactly_once, ship_command, wait_for_exit, AccessLog, IngestServer, Shipper,
};

fn random_below(n: u64) -> u64 {
    RandomState::new().build_hasher().finish() % n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_rotated_by_rename_is_finished_then_the_new_file_is_shipped() {
    let ingest = IngestServer::start().await;
    let mut log = AccessLog::new("rotate");
    log.append(100);
    let mut shipper = Shipper::follow(&log, &ingest.url);
    assert_exactly_once(&ingest.wait_for_paths(100).await, 100);

    // logrotate's default: rename, the server keeps writing to the old file for a moment,
    // then reopens the path as a new file.
    let rotated = log.dir.join("access.log.1");
    fs::rename(&log.path, &rotated).unwrap();
    log.append_to(&rotated, 30);
    fs::File::create(&log.path).unwrap();
    log.append(70);

    assert_exactly_once(&ingest.wait_for_paths(200).await, 200);
    shipper.assert_running();

    // And again, with the new file.
    fs::rename(&log.path, log.dir.join("access.log.2")).unwrap();
    fs::File::create(&log.path).unwrap();
    log.append(50);
    assert_exactly_once(&ingest.wait_for_paths(250).await, 250);
    shipper.assert_running();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copytruncate_then_a_longer_rewrite_is_shipped_from_its_start() {
    let ingest = IngestServer::start().await;
    let mut log = AccessLog::new("copytruncate");
    log.append(100);
    let mut shipper = Shipper::follow(&log, &ingest.url);
    assert_exactly_once(&ingest.wait_for_paths(100).await, 100);

    // logrotate's copytruncate, then more new lines than the file held before, written at
    // once: only the file's first bytes tell that it is new content.
    fs::copy(&log.path, log.dir.join("access.log.1")).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&log.path)
        .unwrap()
        .set_len(0)
        .unwrap();
    log.append(150);

    assert_exactly_once(&ingest.wait_for_paths(250).await, 250);
    shipper.assert_running();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_file_is_shipped_from_its_start() {
    let ingest = IngestServer::start().await;
    let mut log = AccessLog::new("truncate");
    log.append(100);
    let mut shipper = Shipper::follow(&log, &ingest.url);
    assert_exactly_once(&ingest.wait_for_paths(100).await, 100);

    OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log.path)
        .unwrap();
    // Give the shipper time to see the empty file before anything new arrives.
    tokio::time::sleep(Duration::from_millis(300)).await;
    log.append(10);

    assert_exactly_once(&ingest.wait_for_paths(110).await, 110);
    shipper.assert_running();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_written_while_ingest_is_down_arrive_once_it_is_back() {
    let mut ingest = IngestServer::start().await;
    let mut log = AccessLog::new("ingest-down");
    log.append(50);
    let mut shipper = Shipper::follow(&log, &ingest.url);
    assert_exactly_once(&ingest.wait_for_paths(50).await, 50);

    ingest.stop().await;
    for _ in 0..10 {
        log.append(20);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shipper.assert_running();

    ingest.restart().await;
    log.append(50);
    assert_exactly_once(&ingest.wait_for_paths(300).await, 300);
    shipper.assert_running();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipper_killed_at_random_points_ships_every_line_exactly_once() {
    let ingest = IngestServer::start().await;
    let mut log = AccessLog::new("sigkill");
    let path = log.path.clone();

    // A web server appending steadily while the shipper is killed and restarted.
    let (stop_writing, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let writer = tokio::spawn(async move {
        loop {
            log.append(7);
            if stopped.try_recv().is_ok() {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });

    let state_file = path.with_file_name("ship-state.json");
    let mut killed_in_flight = 0;
    let kills = 20;
    for _ in 0..kills {
        let mut shipper = Shipper(
            ship_command(&path, &ingest.url, &[])
                .spawn()
                .expect("start httpmon ship"),
        );
        tokio::time::sleep(Duration::from_millis(50 + random_below(400))).await;
        shipper.assert_running();
        shipper.kill();
        // No state file yet when killed before its first save.
        if let Ok(bytes) = fs::read(&state_file) {
            let state: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            if !state["in_flight"].is_null() {
                killed_in_flight += 1;
            }
        }
    }
    eprintln!("{killed_in_flight} of {kills} kills left a batch in flight");
    stop_writing.send(()).unwrap();
    let log = writer.await.unwrap();

    // A last run ships the rest and exits.
    let mut last = ship_command(&log.path, &ingest.url, &["--once"])
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let status = wait_for_exit(&mut last, Duration::from_secs(30)).await;
    assert!(status.success(), "httpmon ship --once: {status}");

    assert!(log.written > 1000, "only {} lines written", log.written);
    assert_exactly_once(&ingest.stored_paths().await, log.written);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_ships_a_whole_file_with_its_unterminated_last_line_and_exits_0() {
    let ingest = IngestServer::start().await;
    let mut log = AccessLog::new("once");
    log.append(60);
    // A last line without its newline.
    let mut content = fs::read(&log.path).unwrap();
    content.pop();
    fs::write(&log.path, content).unwrap();

    let mut child = ship_command(&log.path, &ingest.url, &["--once"])
        .spawn()
        .unwrap();
    let status = wait_for_exit(&mut child, Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0));
    assert_exactly_once(&ingest.stored_paths().await, 60);

    // Nothing new: a second run ships nothing again.
    let mut child = ship_command(&log.path, &ingest.url, &["--once"])
        .spawn()
        .unwrap();
    assert_eq!(
        wait_for_exit(&mut child, Duration::from_secs(30))
            .await
            .code(),
        Some(0)
    );
    assert_exactly_once(&ingest.stored_paths().await, 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_ingest_refuses_exits_1_with_the_problem_and_usage_errors_exit_2() {
    let ingest = IngestServer::start().await;
    let log = AccessLog::new("refused");
    fs::write(&log.path, "not an access log line\nnor this\n").unwrap();

    let child = ship_command(&log.path, &ingest.url, &["--once"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("422") && stderr.contains("none of the 2 lines could be used"),
        "{stderr}"
    );

    let usage = std::process::Command::new(crate::support::BIN)
        .args(["ship", "access.log", "--url", "not a url"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let missing_url = std::process::Command::new(crate::support::BIN)
        .args(["ship", "access.log"])
        .env_remove("HTTPMON_URL")
        .output()
        .unwrap();
    assert_eq!(missing_url.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_key_from_the_environment_is_sent_as_a_bearer_token() {
    const KEY: &str = "shipper-test-key-0123456789";
    let ingest = IngestServer::start_with(&[("HTTPMON_API_KEYS", KEY)]).await;
    let mut log = AccessLog::new("api-key");
    log.append(10);

    let without = ship_command(&log.path, &ingest.url, &["--once"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = tokio::task::spawn_blocking(move || without.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("401"), "{stderr}");

    // The refused batch is still in flight: the next run sends it, with the key.
    let mut with = ship_command(&log.path, &ingest.url, &["--once"])
        .env("HTTPMON_API_KEY", KEY)
        .spawn()
        .unwrap();
    let status = wait_for_exit(&mut with, Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0));
    assert_exactly_once(&ingest.stored_paths().await, 10);
}
