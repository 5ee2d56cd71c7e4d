//! `httpmon ship`: follows an access log as it is written and ships its lines to ingest,
//! exactly once.
//!
//! One batch is in flight at a time. Before it is sent, its byte range and Idempotency-Key
//! are recorded in the state file; after ingest's 2xx, the acknowledged offset moves past it.
//! A crash anywhere in between is repaired on restart by resending the recorded range with
//! the same key, which ingest answers without storing it twice.

mod deliver;
mod follow;
mod progress;
pub mod state;

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::args::ShipArgs;
use crate::ExitError;
use deliver::{Delivery, IngestReport};
use follow::{Change, Followed, Lines};
use progress::Progress;
use state::{InFlight, ShipState};

pub async fn run(args: ShipArgs, client: reqwest::Client) -> Result<(), ExitError> {
    let state_path = match &args.state {
        Some(path) => path.clone(),
        None => state::default_path(&args.file).map_err(|e| ExitError::Usage(format!("{e:#}")))?,
    };
    let delivery = Delivery::new(client, &args.server.url, args.max_backoff);
    let mut shipper = Shipper::start(args, state_path, delivery).await?;
    shipper.follow().await
}

struct Shipper {
    args: ShipArgs,
    state_path: PathBuf,
    delivery: Delivery,
    followed: Followed,
    /// Every byte of the followed file before this offset is stored in ingest.
    acknowledged: u64,
    /// Lines read after `acknowledged` and not sent yet: the next batch.
    pending: Lines,
    /// When the oldest pending line was read, for `--flush-interval`.
    pending_since: Option<Instant>,
    progress: Progress,
}

impl Shipper {
    /// Resumes from the state file (first resending a batch left in flight), or starts on
    /// the file as it is now.
    async fn start(
        args: ShipArgs,
        state_path: PathBuf,
        delivery: Delivery,
    ) -> Result<Self, ExitError> {
        let saved = state::load(&state_path)?;
        let mut in_flight = None;
        let (followed, acknowledged) = match saved {
            Some(saved) => match Followed::locate(&args.file, &saved.file)? {
                Some(followed) => {
                    in_flight = saved.in_flight;
                    (followed, saved.acknowledged)
                }
                None => {
                    eprintln!(
                        "httpmon ship: the file recorded in {} is gone or was rewritten; \
                         shipping {} from its start",
                        state_path.display(),
                        args.file.display()
                    );
                    (open(&args).await?, 0)
                }
            },
            None => {
                let followed = open(&args).await?;
                let start = if args.from_start {
                    0
                } else {
                    followed.end_of_last_line()?
                };
                (followed, start)
            }
        };
        let mut shipper = Self {
            args,
            state_path,
            delivery,
            followed,
            acknowledged,
            pending: Lines::default(),
            pending_since: None,
            progress: Progress::new(),
        };
        if let Some(in_flight) = in_flight {
            shipper.resend(in_flight).await?;
        }
        shipper.save(None)?;
        Ok(shipper)
    }

    async fn follow(&mut self) -> Result<(), ExitError> {
        loop {
            let (len_before, count_before) = (self.pending.bytes.len(), self.pending.count);
            let read_to = self.acknowledged + len_before as u64;
            self.followed.read_lines(
                &mut self.pending,
                read_to,
                self.args.batch_lines,
                self.args.batch_bytes,
                self.args.once,
            )?;

            // Checked after reading, so lines read from content that replaced the file's
            // while they were read are dropped rather than shipped twice.
            let read_to = self.acknowledged + self.pending.bytes.len() as u64;
            match self.followed.change(&self.args.file, read_to)? {
                Change::None => {}
                Change::Truncated => {
                    self.pending.bytes.truncate(len_before);
                    self.pending.count = count_before;
                    self.pending.full = false;
                    if self.pending.count > 0 {
                        self.deliver().await?;
                    }
                    self.note("the file was truncated or rewritten; shipping it from its start");
                    self.switch_to(Followed::adopt(self.followed.file.try_clone()?)?)?;
                    continue;
                }
                Change::Rotated if !self.args.once => {
                    if let Ok(next) = File::open(&self.args.file) {
                        self.finish_rotated_file().await?;
                        self.note("the file was rotated; shipping the new one from its start");
                        self.switch_to(Followed::adopt(next)?)?;
                        continue;
                    }
                }
                Change::Rotated => {}
            }

            if self.pending.count > 0 && self.pending_since.is_none() {
                self.pending_since = Some(Instant::now());
            }
            if self.pending.full {
                self.deliver().await?;
                continue;
            }
            if self.args.once {
                if self.pending.count > 0 {
                    self.deliver().await?;
                }
                self.progress.interrupt();
                eprintln!("{}", self.progress.summary());
                return Ok(());
            }
            let waited = self.pending_since.map(|since| since.elapsed());
            if waited.is_some_and(|w| w >= self.args.flush_interval) {
                self.deliver().await?;
                continue;
            }

            self.progress
                .tick(self.followed.len()?.saturating_sub(self.acknowledged));
            let mut sleep = self.args.poll_interval;
            if let Some(waited) = waited {
                sleep = sleep.min(self.args.flush_interval.saturating_sub(waited));
            }
            tokio::time::sleep(sleep.max(Duration::from_millis(1))).await;
        }
    }

    /// Ships the rest of a file renamed away, its last line too: nothing will complete it.
    async fn finish_rotated_file(&mut self) -> Result<(), ExitError> {
        loop {
            let read_to = self.acknowledged + self.pending.bytes.len() as u64;
            self.followed.read_lines(
                &mut self.pending,
                read_to,
                self.args.batch_lines,
                self.args.batch_bytes,
                true,
            )?;
            let full = self.pending.full;
            if self.pending.count > 0 {
                self.deliver().await?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    fn switch_to(&mut self, followed: Followed) -> Result<(), ExitError> {
        self.followed = followed;
        self.acknowledged = 0;
        self.pending = Lines::default();
        self.pending_since = None;
        self.save(None)
    }

    /// Sends the pending lines as one batch and waits for ingest's acknowledgement.
    async fn deliver(&mut self) -> Result<(), ExitError> {
        let batch = std::mem::take(&mut self.pending);
        self.pending_since = None;
        let start = self.acknowledged;
        let end = start + batch.bytes.len() as u64;
        // Ingest refuses a body with no line in it; there is nothing to store either.
        if batch.bytes.iter().all(u8::is_ascii_whitespace) {
            self.acknowledged = end;
            return self.save(None);
        }
        let in_flight = InFlight::new(&self.followed.identity, start, end);
        self.save(Some(&in_flight))?;
        let report = self
            .delivery
            .send(&batch.bytes, &in_flight.idempotency_key)
            .await?;
        self.acknowledged = end;
        self.save(None)?;
        self.acknowledged_batch(batch.count, start, &report);
        Ok(())
    }

    /// Sends again a batch that was in flight when the last run stopped, with its key.
    async fn resend(&mut self, in_flight: InFlight) -> Result<(), ExitError> {
        if in_flight.start != self.acknowledged || self.followed.len()? < in_flight.end {
            self.note(&format!(
                "the batch in flight at bytes {}..{} is no longer in the file; it may be lost",
                in_flight.start, in_flight.end
            ));
            return Ok(());
        }
        let mut bytes = vec![0u8; (in_flight.end - in_flight.start) as usize];
        std::os::unix::fs::FileExt::read_exact_at(
            &self.followed.file,
            &mut bytes,
            in_flight.start,
        )?;
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64
            + u64::from(bytes.last().is_some_and(|&b| b != b'\n'));
        let report = self
            .delivery
            .send(&bytes, &in_flight.idempotency_key)
            .await?;
        self.acknowledged = in_flight.end;
        self.acknowledged_batch(lines, in_flight.start, &report);
        Ok(())
    }

    fn acknowledged_batch(&mut self, lines: u64, start: u64, report: &IngestReport) {
        if report.rejected > 0 {
            let first = report
                .rejected_lines
                .first()
                .map(|r| format!(" (line {} of the batch: {})", r.line, r.reason))
                .unwrap_or_default();
            self.note(&format!(
                "ingest rejected {} of the lines at byte {start}{first}",
                report.rejected
            ));
        }
        self.progress.shipped(lines, report.rejected);
        if let Ok(len) = self.followed.len() {
            self.progress.tick(len.saturating_sub(self.acknowledged));
        }
    }

    fn save(&self, in_flight: Option<&InFlight>) -> Result<(), ExitError> {
        state::save(
            &self.state_path,
            &ShipState {
                path: self.args.file.clone(),
                file: self.followed.identity.clone(),
                acknowledged: self.acknowledged,
                in_flight: in_flight.cloned(),
            },
        )?;
        Ok(())
    }

    fn note(&self, message: &str) {
        self.progress.interrupt();
        eprintln!("httpmon ship: {message}");
    }
}

/// Opens the file to follow; when following, waits for it to appear.
async fn open(args: &ShipArgs) -> Result<Followed, ExitError> {
    let mut said_waiting = false;
    loop {
        match File::open(&args.file) {
            Ok(file) => return Ok(Followed::adopt(file)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !args.once => {
                if !said_waiting {
                    eprintln!(
                        "httpmon ship: waiting for {} to appear",
                        args.file.display()
                    );
                    said_waiting = true;
                }
                tokio::time::sleep(args.poll_interval).await;
            }
            Err(e) => {
                return Err(ExitError::Runtime(format!(
                    "cannot open {}: {e}",
                    args.file.display()
                )))
            }
        }
    }
}
