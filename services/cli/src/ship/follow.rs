//! The followed file: its identity, reading whole lines from an offset, and noticing when
//! the path was rotated to a new file or the file was truncated or rewritten.

use std::collections::hash_map::RandomState;
use std::fs::{self, File};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

use super::state::{sha256_hex, FileIdentity, HEAD_BYTES};

/// An open file and the identity of the content being shipped from it.
pub struct Followed {
    pub file: File,
    pub identity: FileIdentity,
}

/// What changed at the path or in the file since the last look.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    None,
    /// Shorter than what was read, or its first bytes differ: new content from offset 0.
    Truncated,
    /// The path now names another file; the open one is finished, then the new one read.
    Rotated,
}

/// Whole lines read from the file.
#[derive(Debug, Default)]
pub struct Lines {
    pub bytes: Vec<u8>,
    pub count: u64,
    /// The limits were reached: more lines may follow at once.
    pub full: bool,
}

impl Followed {
    /// Starts following `file` as new content: a fresh epoch, its head hashed as it is now.
    pub fn adopt(file: File) -> io::Result<Self> {
        let meta = file.metadata()?;
        let (head_len, head_sha256) = hash_head(&file, meta.len().min(HEAD_BYTES))?;
        Ok(Self {
            file,
            identity: FileIdentity {
                dev: meta.dev(),
                ino: meta.ino(),
                epoch: random_epoch(),
                head_len,
                head_sha256,
            },
        })
    }

    /// Finds the file `identity` names: at `path`, or, after a rotation, beside it under
    /// another name. None when it is gone or its content is not the one recorded.
    pub fn locate(path: &Path, identity: &FileIdentity) -> io::Result<Option<Self>> {
        let same_inode =
            |meta: &fs::Metadata| meta.dev() == identity.dev && meta.ino() == identity.ino;
        let mut candidate = match fs::metadata(path) {
            Ok(meta) if same_inode(&meta) => Some(path.to_path_buf()),
            Ok(_) => None,
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if candidate.is_none() {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            for entry in fs::read_dir(dir)? {
                let entry = entry?;
                if entry
                    .metadata()
                    .is_ok_and(|m| m.is_file() && same_inode(&m))
                {
                    candidate = Some(entry.path());
                    break;
                }
            }
        }
        let Some(found) = candidate else {
            return Ok(None);
        };
        let followed = Self {
            file: File::open(found)?,
            identity: identity.clone(),
        };
        Ok(followed.head_matches()?.then_some(followed))
    }

    pub fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    /// Appends whole lines from offset `from` to `into`, until it holds `max_lines` lines or
    /// the next line would take it past `max_bytes` (a longer single line goes alone); then
    /// `into.full` is set. At the end of the file, a last line without its newline is left
    /// for later, unless `take_partial`.
    pub fn read_lines(
        &self,
        into: &mut Lines,
        from: u64,
        max_lines: u64,
        max_bytes: u64,
        take_partial: bool,
    ) -> io::Result<()> {
        let fits = |lines: &Lines, len: usize| {
            lines.bytes.is_empty() || (lines.bytes.len() + len) as u64 <= max_bytes
        };
        let mut partial: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; 64 << 10];
        let mut pos = from;
        while into.count < max_lines {
            let n = self.file.read_at(&mut buf, pos)?;
            if n == 0 {
                if take_partial && !partial.is_empty() {
                    if !fits(into, partial.len()) {
                        into.full = true;
                        return Ok(());
                    }
                    into.bytes.extend_from_slice(&partial);
                    into.count += 1;
                }
                return Ok(());
            }
            pos += n as u64;
            let mut chunk = &buf[..n];
            while let Some(i) = chunk.iter().position(|&b| b == b'\n') {
                if !fits(into, partial.len() + i + 1) {
                    into.full = true;
                    return Ok(());
                }
                into.bytes.append(&mut partial);
                into.bytes.extend_from_slice(&chunk[..=i]);
                into.count += 1;
                chunk = &chunk[i + 1..];
                if into.count >= max_lines {
                    into.full = true;
                    return Ok(());
                }
            }
            partial.extend_from_slice(chunk);
            if !fits(into, partial.len()) {
                into.full = true;
                return Ok(());
            }
        }
        into.full = true;
        Ok(())
    }

    /// Looks at the path and the open file; `read_to` is the offset read so far.
    pub fn change(&mut self, path: &Path, read_to: u64) -> io::Result<Change> {
        if self.len()? < read_to || !self.head_matches()? {
            return Ok(Change::Truncated);
        }
        self.extend_head()?;
        match fs::metadata(path) {
            Ok(meta) if meta.dev() != self.identity.dev || meta.ino() != self.identity.ino => {
                Ok(Change::Rotated)
            }
            // Renamed away and not yet replaced: the writer may still append to the old file.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Change::None),
            Err(e) => Err(e),
            Ok(_) => Ok(Change::None),
        }
    }

    /// Offset just past the last newline: where to start when joining a file at its end.
    pub fn end_of_last_line(&self) -> io::Result<u64> {
        let len = self.len()?;
        let from = len.saturating_sub(64 << 10);
        let mut tail = vec![0u8; (len - from) as usize];
        self.file.read_exact_at(&mut tail, from)?;
        Ok(match tail.iter().rposition(|&b| b == b'\n') {
            Some(i) => from + i as u64 + 1,
            None if from == 0 => 0,
            None => len,
        })
    }

    fn head_matches(&self) -> io::Result<bool> {
        if self.len()? < self.identity.head_len {
            return Ok(false);
        }
        let (_, hash) = hash_head(&self.file, self.identity.head_len)?;
        Ok(hash == self.identity.head_sha256)
    }

    /// A file adopted while shorter than [`HEAD_BYTES`] gets a longer head as it grows, so a
    /// rewrite is told apart by more than its first few bytes.
    fn extend_head(&mut self) -> io::Result<()> {
        if self.identity.head_len < HEAD_BYTES {
            let len = self.len()?.min(HEAD_BYTES);
            if len > self.identity.head_len {
                (self.identity.head_len, self.identity.head_sha256) = hash_head(&self.file, len)?;
            }
        }
        Ok(())
    }
}

fn hash_head(file: &File, len: u64) -> io::Result<(u64, String)> {
    let mut head = vec![0u8; len as usize];
    file.read_exact_at(&mut head, 0)?;
    Ok((len, sha256_hex(&head)))
}

/// 64 random bits, in hex: std's hasher keys are drawn from the OS's random source.
fn random_epoch() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_file(name: &str, content: &[u8]) -> (std::path::PathBuf, Followed) {
        let dir =
            std::env::temp_dir().join(format!("httpmon-follow-{}-{name}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("access.log");
        fs::write(&path, content).unwrap();
        let followed = Followed::adopt(File::open(&path).unwrap()).unwrap();
        (path, followed)
    }

    fn read(f: &Followed, from: u64, max_lines: u64, max_bytes: u64, partial: bool) -> Lines {
        let mut lines = Lines::default();
        f.read_lines(&mut lines, from, max_lines, max_bytes, partial)
            .unwrap();
        lines
    }

    #[test]
    fn only_whole_lines_are_read_unless_asked() {
        let (path, f) = temp_file("whole", b"a\nbb\nccc");
        let lines = read(&f, 0, 100, 1 << 20, false);
        assert_eq!(
            (lines.bytes.as_slice(), lines.count, lines.full),
            (&b"a\nbb\n"[..], 2, false)
        );
        let lines = read(&f, 5, 100, 1 << 20, true);
        assert_eq!((lines.bytes.as_slice(), lines.count), (&b"ccc"[..], 1));
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn limits_cut_between_lines_and_a_long_line_goes_alone() {
        let (path, f) = temp_file("limits", b"aaaa\nbb\ncc\n");
        let lines = read(&f, 0, 2, 1 << 20, false);
        assert_eq!(
            (lines.bytes.as_slice(), lines.full),
            (&b"aaaa\nbb\n"[..], true)
        );
        let lines = read(&f, 0, 100, 3, false);
        assert_eq!((lines.bytes.as_slice(), lines.full), (&b"aaaa\n"[..], true));
        let lines = read(&f, 5, 100, 6, false);
        assert_eq!(
            (lines.bytes.as_slice(), lines.full),
            (&b"bb\ncc\n"[..], false)
        );

        // Appending to a batch respects what it already holds.
        let mut batch = read(&f, 0, 1, 100, false);
        batch.full = false;
        f.read_lines(&mut batch, 5, 100, 7, false).unwrap();
        assert_eq!((batch.bytes.as_slice(), batch.full), (&b"aaaa\n"[..], true));
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn truncation_rewrite_and_rotation_are_noticed() {
        let (path, mut f) = temp_file("changes", b"first line\nsecond line\n");
        assert_eq!(f.change(&path, 23).unwrap(), Change::None);

        // Rewritten in place with other content at least as long.
        fs::write(&path, b"other content, longer than before\n").unwrap();
        assert_eq!(f.change(&path, 23).unwrap(), Change::Truncated);

        let mut f = Followed::adopt(File::open(&path).unwrap()).unwrap();
        fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        assert_eq!(f.change(&path, 10).unwrap(), Change::Truncated);

        let mut f = Followed::adopt(File::open(&path).unwrap()).unwrap();
        let rotated = path.with_extension("log.1");
        fs::rename(&path, &rotated).unwrap();
        assert_eq!(
            f.change(&path, 0).unwrap(),
            Change::None,
            "not replaced yet"
        );
        File::create(&path).unwrap().write_all(b"new\n").unwrap();
        assert_eq!(f.change(&path, 0).unwrap(), Change::Rotated);

        // The rotated file is still found by its identity.
        let found = Followed::locate(&path, &f.identity)
            .unwrap()
            .expect("found beside");
        assert_eq!(found.identity, f.identity);
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn joining_at_the_end_skips_a_partial_last_line() {
        let (path, f) = temp_file("end", b"one\ntwo\nthr");
        assert_eq!(f.end_of_last_line().unwrap(), 8);
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
