//! The shipper's durable state: which file it follows, how far ingest has acknowledged it,
//! and the batch in flight. Written atomically, so a crash at any instant leaves either the
//! old or the new state, never a torn one.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What tells one file's content from another's at the same path: its inode, a hash of its
/// first bytes (a file truncated and rewritten keeps its inode but not its head), and an
/// epoch drawn when the shipper adopted it, so idempotency keys never repeat across files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileIdentity {
    pub dev: u64,
    pub ino: u64,
    pub epoch: String,
    /// How many of the first bytes `head_sha256` covers (at most [`HEAD_BYTES`]).
    pub head_len: u64,
    pub head_sha256: String,
}

/// Bytes at the start of a file that identify its content.
pub const HEAD_BYTES: u64 = 1024;

/// A batch sent but not yet acknowledged: the byte range of the file and its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    pub start: u64,
    pub end: u64,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipState {
    /// The followed path, for people reading the file.
    pub path: PathBuf,
    pub file: FileIdentity,
    /// Every byte before this offset is stored in ingest.
    pub acknowledged: u64,
    pub in_flight: Option<InFlight>,
}

impl InFlight {
    /// The key is a function of the file and the range alone, so a resend after a crash
    /// carries the same key as the lost attempt.
    pub fn new(file: &FileIdentity, start: u64, end: u64) -> Self {
        Self {
            start,
            end,
            idempotency_key: format!(
                "httpmon-ship-{:x}-{:x}-{}-{:x}-{:x}",
                file.dev, file.ino, file.epoch, start, end
            ),
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `$XDG_STATE_HOME/httpmon/ship/<name>-<hash of the absolute path>.json`.
pub fn default_path(file: &Path) -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .context("neither XDG_STATE_HOME nor HOME is set: pass --state PATH")?;
            PathBuf::from(home).join(".local/state")
        }
    };
    let absolute =
        std::path::absolute(file).with_context(|| format!("cannot resolve {}", file.display()))?;
    let name = absolute
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "log".into());
    let hash = sha256_hex(absolute.as_os_str().as_encoded_bytes());
    Ok(base
        .join("httpmon/ship")
        .join(format!("{name}-{}.json", &hash[..12])))
}

/// Reads the state, or None when there is none yet.
pub fn load(path: &Path) -> anyhow::Result<Option<ShipState>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("the state file {} is not valid", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read the state file {}", path.display())),
    }
}

/// Replaces the state file: write a temporary file beside it, fsync, rename over, fsync the
/// directory so the rename itself is durable.
pub fn save(path: &Path, state: &ShipState) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let write = || -> std::io::Result<()> {
        let mut file = File::create(&tmp)?;
        file.write_all(&serde_json::to_vec_pretty(state).expect("state serializes"))?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    };
    write().with_context(|| format!("cannot write the state file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> FileIdentity {
        FileIdentity {
            dev: 2049,
            ino: 77,
            epoch: "00ff".into(),
            head_len: 3,
            head_sha256: sha256_hex(b"abc"),
        }
    }

    #[test]
    fn keys_depend_on_the_file_and_the_range_only() {
        let a = InFlight::new(&identity(), 0, 100);
        assert_eq!(a, InFlight::new(&identity(), 0, 100));
        assert_ne!(
            a.idempotency_key,
            InFlight::new(&identity(), 0, 101).idempotency_key
        );
        let other_epoch = FileIdentity {
            epoch: "0100".into(),
            ..identity()
        };
        assert_ne!(
            a.idempotency_key,
            InFlight::new(&other_epoch, 0, 100).idempotency_key
        );
        assert!(a.idempotency_key.len() <= 200);
    }

    #[test]
    fn state_survives_a_round_trip_and_replaces_the_old_one() {
        let dir = std::env::temp_dir().join(format!("httpmon-state-{}", std::process::id()));
        let path = dir.join("nested/state.json");
        assert_eq!(load(&path).unwrap(), None);
        let mut state = ShipState {
            path: "/var/log/access.log".into(),
            file: identity(),
            acknowledged: 10,
            in_flight: Some(InFlight::new(&identity(), 10, 20)),
        };
        save(&path, &state).unwrap();
        assert_eq!(load(&path).unwrap().as_ref(), Some(&state));
        state.acknowledged = 20;
        state.in_flight = None;
        save(&path, &state).unwrap();
        assert_eq!(load(&path).unwrap(), Some(state));
        fs::remove_dir_all(dir).unwrap();
    }
}
