//! Turning a request body into a batch: the entries to store and the lines rejected, with
//! their 1-based line numbers and reasons. Pure: no I/O.

use std::borrow::Cow;

use accesslog::{parse_line, Entry};
use serde::Serialize;
use utoipa::ToSchema;

/// A line that could not be stored, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RejectedLine {
    /// 1-based line number in the body (element number for a JSON array).
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Batch<'a> {
    pub entries: Vec<Entry<'a>>,
    /// The first rejected lines, up to the listing cap.
    pub rejected_lines: Vec<RejectedLine>,
    /// Every rejected line, listed or not.
    pub rejected: usize,
    /// Blank lines, comments and CSV headers: nothing to store, nothing wrong.
    pub skipped: usize,
}

impl<'a> Batch<'a> {
    /// Parses each line; `max_listed` caps how many rejections are named.
    pub fn parse<I>(lines: I, max_listed: usize) -> Self
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let mut batch = Batch::default();
        for (index, line) in lines.into_iter().enumerate() {
            let outcome = if memchr::memchr(0, line).is_some() {
                // Postgres text cannot hold NUL; refuse the line rather than alter it.
                Err("line contains a NUL byte".to_string())
            } else {
                parse_line(line).map_err(|r| r.reason())
            };
            match outcome {
                Ok(Some(entry)) => batch.entries.push(entry),
                Ok(None) => batch.skipped += 1,
                Err(reason) => {
                    batch.rejected += 1;
                    if batch.rejected_lines.len() < max_listed {
                        batch.rejected_lines.push(RejectedLine {
                            line: index + 1,
                            reason,
                        });
                    }
                }
            }
        }
        batch
    }
}

/// The lines of a `text/plain` body: split on `\n`, a final newline ends the last line.
pub fn text_lines(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    let empty = body.is_empty();
    body.split(|&b| b == b'\n').filter(move |_| !empty)
}

/// The lines of an `application/json` body: an array whose elements are log lines (strings)
/// or structured entries (objects, read like one JSON log line each).
pub fn json_lines(body: &[u8]) -> Result<Vec<Cow<'_, [u8]>>, serde_json::Error> {
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_slice(body)?;
    items
        .into_iter()
        .map(|item| {
            let raw = item.get();
            if raw.starts_with('"') {
                let line: String = serde_json::from_str(raw)?;
                Ok(Cow::Owned(line.into_bytes()))
            } else {
                Ok(Cow::Borrowed(raw.as_bytes()))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &[u8] =
        br#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;

    #[test]
    fn good_lines_are_kept_and_bad_ones_named_by_line_number() {
        let body = [GOOD, b"garbage", b"", GOOD, b"bad\0line"].join(&b'\n');
        let batch = Batch::parse(text_lines(&body), 10);
        assert_eq!(batch.entries.len(), 2);
        assert_eq!(batch.skipped, 1);
        assert_eq!(batch.rejected, 2);
        let lines: Vec<usize> = batch.rejected_lines.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 5]);
        assert_eq!(batch.rejected_lines[1].reason, "line contains a NUL byte");
    }

    #[test]
    fn the_listing_is_capped_but_the_count_is_not() {
        let body = vec![&b"nope"[..]; 50].join(&b'\n');
        let batch = Batch::parse(text_lines(&body), 3);
        assert_eq!(batch.rejected, 50);
        assert_eq!(batch.rejected_lines.len(), 3);
    }

    #[test]
    fn text_lines_follow_newlines() {
        assert_eq!(text_lines(b"").count(), 0);
        assert_eq!(text_lines(b"a\n").collect::<Vec<_>>(), [b"a"]);
        assert_eq!(text_lines(b"a\n\nb").count(), 3);
    }

    #[test]
    fn json_arrays_hold_lines_or_objects() {
        let body = br#"["127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a/b HTTP/1.0\" 200 5",
                       {"time": "2000-10-10T13:55:36Z", "client": "::1", "method": "GET",
                        "path": "/x/y", "status": 404, "bytes": 0}]"#;
        let lines = json_lines(body).unwrap();
        let batch = Batch::parse(lines.iter().map(|l| l.as_ref()), 10);
        assert_eq!(batch.rejected_lines, []);
        let sections: Vec<&str> = batch.entries.iter().map(|e| e.section.as_ref()).collect();
        assert_eq!(sections, ["/a", "/x"]);
    }
}
