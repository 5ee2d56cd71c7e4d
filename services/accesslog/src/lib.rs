//! Access-log lines in, [`Entry`] values out.
//!
//! The parser takes one line at a time and detects its format on that line alone, so a single feed
//! may mix Apache and nginx Common/Combined lines, the CSV export of the classic exercise and JSON
//! lines. It is pure: no I/O, no clock, no global state, and it never panics.
//!
//! Common and Combined lines are the hot path. For them every field of the returned entry borrows
//! from the line unless the bytes are not valid UTF-8, so a well-formed line costs no allocation.
//! CSV and JSON are rarer and favour clarity over speed.
//!
//! What counts as a "section" (the unit the rest of httpmon aggregates on) lives in [`section()`],
//! which other crates call directly.

#![forbid(unsafe_code)]

mod clf;
mod csv;
mod json;
mod rejection;
mod request;
pub mod sample;
mod section;
mod text;
mod time;
mod values;

use std::borrow::Cow;

pub use rejection::Rejection;
pub use section::section;

/// Lines longer than this are rejected before any scanning, so a runaway line costs nothing.
pub const MAX_LINE_BYTES: usize = 65_536;

/// The shape a line was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `host ident authuser [time] "request" status bytes`
    Common,
    /// Common followed by `"referer" "user-agent"` (Apache's and nginx's default).
    Combined,
    /// `"remotehost","rfc931","authuser",date,"request",status,bytes` with a Unix date.
    Csv,
    /// One JSON object per line.
    Json,
}

/// One request, as recorded by the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    pub format: Format,
    /// Instant of the request, UTC, in microseconds since the Unix epoch.
    pub unix_micros: i64,
    /// The zone the line was written in, e.g. `-0700` gives -420; 0 for Unix times.
    pub utc_offset_minutes: i16,
    /// Remote host: IPv4, IPv6 or host name, as logged.
    pub client: Cow<'a, str>,
    /// Authenticated user; `None` when logged as `-`.
    pub user: Option<Cow<'a, str>>,
    pub method: Cow<'a, str>,
    /// Path and query as sent; for an absolute URI only its path part (`/` when it has none).
    pub path: Cow<'a, str>,
    /// `section(path)`, borrowed from `path` whenever `path` is.
    pub section: Cow<'a, str>,
    /// E.g. `HTTP/1.1`; empty when the request line has none (HTTP/0.9 style).
    pub protocol: Cow<'a, str>,
    /// Always within 100..=599.
    pub status: u16,
    /// Body size; `None` when logged as `-`.
    pub bytes: Option<u64>,
    /// `None` when logged as `-` or when the format has no referer.
    pub referer: Option<Cow<'a, str>>,
    /// `None` when logged as `-` or when the format has no user agent.
    pub user_agent: Option<Cow<'a, str>>,
}

impl Entry<'_> {
    /// Detaches the entry from the line it was parsed from, for callers that keep entries around
    /// longer than their input buffer.
    pub fn into_owned(self) -> Entry<'static> {
        fn own(text: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(text.into_owned())
        }
        Entry {
            format: self.format,
            unix_micros: self.unix_micros,
            utc_offset_minutes: self.utc_offset_minutes,
            client: own(self.client),
            user: self.user.map(own),
            method: own(self.method),
            path: own(self.path),
            section: own(self.section),
            protocol: own(self.protocol),
            status: self.status,
            bytes: self.bytes,
            referer: self.referer.map(own),
            user_agent: self.user_agent.map(own),
        }
    }
}

/// Parses one line, given without its trailing newline (a trailing `\r` is tolerated).
///
/// `Ok(None)` means there is nothing to store and nothing wrong: a blank line, a `#` comment or
/// the CSV header line. Anything else either becomes an entry or is rejected with a reason.
pub fn parse_line(line: &[u8]) -> Result<Option<Entry<'_>>, Rejection> {
    if line.len() > MAX_LINE_BYTES {
        return Err(Rejection::too_long());
    }
    let line = text::trim(line);
    match line.first() {
        None | Some(b'#') => Ok(None),
        Some(b'{') => json::parse(line).map(Some),
        Some(b'"') => csv::parse(line),
        // Common, Combined, or CSV without quotes.
        Some(_) => clf::parse(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_comment_and_whitespace_lines_are_skipped() {
        for line in [
            &b""[..],
            b"   ",
            b"\t \r",
            b"\r",
            b"# a comment",
            b"  #Fields: x",
        ] {
            assert_eq!(parse_line(line), Ok(None), "{line:?}");
        }
    }

    #[test]
    fn lines_over_the_limit_are_rejected_up_front() {
        let line = vec![b'a'; MAX_LINE_BYTES + 1];
        let rejection = parse_line(&line).unwrap_err();
        assert_eq!(rejection.reason(), "line is longer than 65536 bytes");

        // A line exactly at the limit is parsed (and here rejected for its shape, not its size).
        let line = vec![b'a'; MAX_LINE_BYTES];
        assert_eq!(
            parse_line(&line).unwrap_err().reason(),
            "unrecognised format"
        );
    }

    #[test]
    fn format_is_detected_per_line() {
        let lines: [(&[u8], Format); 5] = [
            (
                br#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
                Format::Common,
            ),
            (
                br#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326 "-" "curl/8.0""#,
                Format::Combined,
            ),
            (
                br#""10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234"#,
                Format::Csv,
            ),
            (
                b"10.0.0.2,-,apache,1549573860,GET /api/user HTTP/1.0,200,1234",
                Format::Csv,
            ),
            (
                br#"{"time":1549573860,"client":"::1","request":"GET / HTTP/1.1","status":200}"#,
                Format::Json,
            ),
        ];
        for (line, format) in lines {
            let entry = parse_line(line).unwrap().unwrap();
            assert_eq!(entry.format, format, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn leading_and_trailing_whitespace_is_tolerated() {
        let line = b"  127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326\r";
        let entry = parse_line(line).unwrap().unwrap();
        assert_eq!(entry.client, "127.0.0.1");
        assert_eq!(entry.bytes, Some(2326));
    }

    #[test]
    fn into_owned_keeps_every_field() {
        let line = br#"::1 - bob [10/Oct/2000:13:55:36 -0700] "GET /a/b?c HTTP/1.1" 404 - "http://x/" "ua""#;
        let entry = parse_line(line).unwrap().unwrap();
        let owned = entry.clone().into_owned();
        assert_eq!(owned, entry);
    }
}
