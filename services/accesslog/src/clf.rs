//! Common and Combined lines, as Apache and nginx write them by default:
//!
//! ```text
//! host ident authuser [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326
//! host ident authuser [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326 "referer" "agent"
//! ```
//!
//! This is the hot path. The line is walked once, left to right: short fields with plain byte
//! loops, quoted ones with memchr, the time at fixed offsets. Every field is a slice of the line,
//! so nothing is allocated unless a field holds invalid UTF-8. Anything after the user agent (nginx and Apache setups often append fields)
//! is ignored, and so is anything after the bytes field that is not a quoted referer.

use memchr::memchr;

use crate::request::{self, section_of};
use crate::text::{find_near, shown, Line};
use crate::{csv, time, values, Entry, Format, Rejection};

/// Parses a line that starts with a bare host. Unquoted CSV starts that way too, and a comma in
/// the first word is what gives it away; checking for it while looking for the end of the host
/// keeps the common case to a single scan.
pub(crate) fn parse(bytes: &[u8]) -> Result<Option<Entry<'_>>, Rejection> {
    let stop = bytes
        .iter()
        .position(|&byte| byte == b' ' || byte == b',')
        .unwrap_or(bytes.len());
    let client_end = if bytes.get(stop) == Some(&b',') {
        if csv::looks_like_csv(bytes) {
            return csv::parse(bytes);
        }
        find_near(b' ', bytes).unwrap_or(bytes.len())
    } else {
        stop
    };
    parse_after_client(bytes, client_end).map(Some)
}

fn parse_after_client(bytes: &[u8], client_end: usize) -> Result<Entry<'_>, Rejection> {
    let line = Line::new(bytes);
    let mut at = Cursor::new(bytes);

    let client = bytes.get(..client_end).unwrap_or_default();
    at.pos = client_end;
    if client.is_empty() || !at.eat(b' ') {
        return Err(Rejection::unrecognised());
    }
    let _ident = at.word();
    if !at.eat(b' ') {
        return Err(Rejection::unrecognised());
    }
    // The user name may contain spaces (it is whatever the client authenticated as), so it ends
    // at the ` [` that opens the time rather than at the next space.
    let rest = at.rest();
    let open = find_near(b'[', rest).ok_or_else(Rejection::unrecognised)?;
    let user = match open.checked_sub(1) {
        Some(space) if rest.get(space) == Some(&b' ') => &rest[..space],
        _ => return Err(Rejection::unrecognised()),
    };
    at.pos += open + 1;

    let rest = at.rest();
    // A well-formed time is exactly 26 bytes long; look further only for the error message.
    let close = match rest.get(26) {
        Some(b']') => 26,
        _ => memchr(b']', rest)
            .ok_or_else(|| Rejection::new("missing closing `]` after the time"))?,
    };
    let written = &rest[..close];
    let stamp = time::parse_clf(written)
        .map_err(|why| Rejection::new(format!("time `{}` {why}", shown(written))))?;
    at.pos += close + 1;

    if !at.eat_pair(b' ', b'"') {
        return Err(Rejection::new("missing quoted request after the time"));
    }
    let request_line = at
        .quoted()
        .ok_or_else(|| Rejection::new("missing closing `\"` after the request"))?;
    let request = request::parse_within(line, request_line)?;

    if !at.eat(b' ') {
        return Err(Rejection::new("missing status after the request"));
    }
    // Statuses are three digits, so try that before scanning for the end of the word.
    let status = match at.rest() {
        [a, b, c, b' ', ..] => {
            at.pos += 3;
            values::status(&[*a, *b, *c])?
        }
        _ => values::status(at.word())?,
    };
    if !at.eat(b' ') {
        return Err(Rejection::new("missing bytes after the status"));
    }
    let bytes = values::bytes(at.word())?;

    let (format, referer, user_agent) = if at.eat_pair(b' ', b'"') {
        let referer = at
            .quoted()
            .ok_or_else(|| Rejection::new("missing closing `\"` after the referer"))?;
        if !at.eat_pair(b' ', b'"') {
            return Err(Rejection::new(
                "missing quoted user agent after the referer",
            ));
        }
        // The user agent is the last field, so a line cut short inside it (a writer that
        // truncated or was interrupted) still says everything else: keep the rest of it.
        let user_agent = at.quoted().unwrap_or_else(|| at.rest());
        (
            Format::Combined,
            line.optional(referer),
            line.optional(user_agent),
        )
    } else {
        (Format::Common, None, None)
    };

    Ok(Entry {
        format,
        unix_micros: stamp.unix_micros,
        utc_offset_minutes: stamp.offset_minutes,
        client: line.text(client),
        user: line.optional(user),
        section: section_of(&request.path),
        method: request.method,
        path: request.path,
        protocol: request.protocol,
        status,
        bytes,
        referer,
        user_agent,
    })
}

/// A read position in the line. Every access goes through `get`, so no input can make it panic.
struct Cursor<'a> {
    line: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(line: &'a [u8]) -> Cursor<'a> {
        Cursor { line, pos: 0 }
    }

    fn rest(&self) -> &'a [u8] {
        self.line.get(self.pos..).unwrap_or_default()
    }

    /// Up to (not including) the next space, or to the end of the line. Words are short.
    fn word(&mut self) -> &'a [u8] {
        let rest = self.rest();
        let len = find_near(b' ', rest).unwrap_or(rest.len());
        self.pos += len;
        rest.get(..len).unwrap_or_default()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.rest().first() == Some(&byte);
        self.pos += usize::from(found);
        found
    }

    fn eat_pair(&mut self, first: u8, second: u8) -> bool {
        let found = matches!(self.rest(), [a, b, ..] if *a == first && *b == second);
        self.pos += 2 * usize::from(found);
        found
    }

    /// The contents of a quoted field whose opening quote was just eaten, leaving the position
    /// after its closing quote. Apache writes a quote inside a field as `\"` (and a backslash as
    /// `\\`), so the closing quote is the first one preceded by an even number of backslashes.
    #[inline]
    fn quoted(&mut self) -> Option<&'a [u8]> {
        let mut from = self.pos;
        loop {
            let quote = from + memchr(b'"', self.line.get(from..)?)?;
            from = quote + 1;
            let before = self.line.get(self.pos..quote)?;
            let backslashes = before.iter().rev().take_while(|&&b| b == b'\\').count();
            if backslashes % 2 == 0 {
                self.pos = quote + 1;
                return Some(before);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    fn entry(line: &[u8]) -> Entry<'_> {
        match parse(line) {
            Ok(Some(entry)) => entry,
            Ok(None) => panic!("{} was skipped", String::from_utf8_lossy(line)),
            Err(rejection) => panic!("{}: {rejection}", String::from_utf8_lossy(line)),
        }
    }

    fn reason(line: &[u8]) -> String {
        match parse(line) {
            Ok(entry) => panic!("{} was accepted: {entry:?}", String::from_utf8_lossy(line)),
            Err(rejection) => rejection.reason(),
        }
    }

    const APACHE_COMMON: &[u8] =
        br#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;
    const APACHE_COMBINED: &[u8] = br#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#;
    const NGINX_COMBINED: &[u8] = br#"93.180.71.3 - - [17/May/2015:08:05:32 +0000] "GET /downloads/product_1 HTTP/1.1" 304 0 "-" "Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)""#;

    #[test]
    fn apache_common_example() {
        let entry = entry(APACHE_COMMON);
        assert_eq!(
            entry,
            Entry {
                format: Format::Common,
                unix_micros: 971_211_336_000_000,
                utc_offset_minutes: -420,
                client: "127.0.0.1".into(),
                user: Some("frank".into()),
                method: "GET".into(),
                path: "/apache_pb.gif".into(),
                section: "/apache_pb.gif".into(),
                protocol: "HTTP/1.0".into(),
                status: 200,
                bytes: Some(2326),
                referer: None,
                user_agent: None,
            }
        );
    }

    #[test]
    fn apache_combined_example() {
        let entry = entry(APACHE_COMBINED);
        assert_eq!(entry.format, Format::Combined);
        assert_eq!(entry.unix_micros, 971_211_336_000_000);
        assert_eq!(
            entry.referer.as_deref(),
            Some("http://www.example.com/start.html")
        );
        assert_eq!(
            entry.user_agent.as_deref(),
            Some("Mozilla/4.08 [en] (Win98; I ;Nav)")
        );
    }

    #[test]
    fn nginx_combined_example() {
        let entry = entry(NGINX_COMBINED);
        assert_eq!(entry.format, Format::Combined);
        assert_eq!(entry.client, "93.180.71.3");
        assert_eq!(entry.user, None);
        assert_eq!(entry.path, "/downloads/product_1");
        assert_eq!(entry.section, "/downloads");
        assert_eq!(entry.status, 304);
        assert_eq!(entry.bytes, Some(0));
        assert_eq!(entry.referer, None);
        assert_eq!(
            entry.user_agent.as_deref(),
            Some("Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)")
        );
        assert_eq!(entry.unix_micros, 1_431_849_932_000_000);
    }

    #[test]
    fn valid_lines_borrow_every_field() {
        let entry = entry(APACHE_COMBINED);
        let borrowed = |field: &Cow<'_, str>| matches!(field, Cow::Borrowed(_));
        assert!(borrowed(&entry.client));
        assert!(borrowed(entry.user.as_ref().unwrap()));
        assert!(borrowed(&entry.method));
        assert!(borrowed(&entry.path));
        assert!(borrowed(&entry.section));
        assert!(borrowed(&entry.protocol));
        assert!(borrowed(entry.referer.as_ref().unwrap()));
        assert!(borrowed(entry.user_agent.as_ref().unwrap()));
    }

    #[test]
    fn ipv6_and_host_name_clients() {
        for client in [
            "2001:db8::1",
            "::1",
            "fe80::1ff:fe23:4567:890a%eth0",
            "::ffff:192.0.2.128",
            "crawl-66-249-66-1.googlebot.com",
            "localhost",
        ] {
            let line =
                format!(r#"{client} - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1"#);
            assert_eq!(entry(line.as_bytes()).client, client);
        }
    }

    #[test]
    fn users_and_idents() {
        let line = br#"10.0.0.1 ident-x alice [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1"#;
        assert_eq!(entry(line).user.as_deref(), Some("alice"));
        let line = br#"10.0.0.1 - John Smith [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1"#;
        assert_eq!(entry(line).user.as_deref(), Some("John Smith"));
        let line = br#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1"#;
        assert_eq!(entry(line).user, None);
    }

    #[test]
    fn dash_bytes_and_dash_fields() {
        let line = br#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "HEAD / HTTP/1.1" 304 - "-" "-""#;
        let entry = entry(line);
        assert_eq!(entry.bytes, None);
        assert_eq!(entry.referer, None);
        assert_eq!(entry.user_agent, None);
        assert_eq!(entry.format, Format::Combined);
    }

    #[test]
    fn escaped_quotes_are_kept_as_written() {
        let line = br#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /q?x=\"a\" HTTP/1.1" 200 5 "http://r/\"x\"" "Agent \"quoted\" \\""#;
        let entry = entry(line);
        assert_eq!(entry.path, r#"/q?x=\"a\""#);
        assert_eq!(entry.referer.as_deref(), Some(r#"http://r/\"x\""#));
        assert_eq!(entry.user_agent.as_deref(), Some(r#"Agent \"quoted\" \\"#));
    }

    #[test]
    fn escaped_quote_then_space_in_the_request() {
        // The escaped quote followed by what looks like a status must not end the request.
        let line = br#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a\" 200 1 HTTP/1.1" 404 5"#;
        let entry = entry(line);
        assert_eq!(entry.path, r#"/a\" 200 1"#);
        assert_eq!(entry.status, 404);
    }

    #[test]
    fn nginx_hex_escapes_are_just_bytes() {
        let line = br#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a\x22b HTTP/1.1" 200 5 "-" "x\x22y""#;
        let entry = entry(line);
        assert_eq!(entry.path, r"/a\x22b");
        assert_eq!(entry.user_agent.as_deref(), Some(r"x\x22y"));
    }

    #[test]
    fn non_utf8_fields_are_replaced_field_by_field() {
        let line = b"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /caf\xe9 HTTP/1.1\" 200 5 \"-\" \"agent \xff\"";
        let entry = entry(line);
        assert_eq!(entry.path, "/caf\u{fffd}");
        assert_eq!(entry.section, "/caf\u{fffd}");
        assert_eq!(entry.user_agent.as_deref(), Some("agent \u{fffd}"));
        assert!(matches!(entry.client, Cow::Borrowed(_)));
    }

    #[test]
    fn extra_fields_after_the_user_agent_are_ignored() {
        let line = br#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "curl/8.0" "203.0.113.9" rt=0.003"#;
        let entry = entry(line);
        assert_eq!(entry.format, Format::Combined);
        assert_eq!(entry.user_agent.as_deref(), Some("curl/8.0"));
    }

    #[test]
    fn a_comma_in_the_host_is_not_enough_for_csv() {
        let line =
            br#"192.0.2.1,198.51.100.7 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5"#;
        assert_eq!(entry(line).client, "192.0.2.1,198.51.100.7");
        let csv = b"10.0.0.2,-,apache,1549573860,GET /api/user HTTP/1.0,200,1234";
        assert_eq!(entry(csv).format, Format::Csv);
    }

    #[test]
    fn unquoted_fields_after_the_bytes_leave_a_common_line() {
        let line = br#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 1234"#;
        assert_eq!(entry(line).format, Format::Common);
    }

    #[test]
    fn absolute_uri_targets() {
        let line =
            br#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET http://h/a/b?x HTTP/1.1" 200 5"#;
        let entry = entry(line);
        assert_eq!(entry.path, "/a/b?x");
        assert_eq!(entry.section, "/a");
    }

    #[test]
    fn http09_request_without_protocol() {
        let line = br#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /pages/x" 200 5"#;
        let entry = entry(line);
        assert_eq!(entry.protocol, "");
        assert_eq!(entry.section, "/pages");
    }

    #[test]
    fn malformed_requests_nginx_logs_with_400() {
        let tls = br#"45.95.147.1 - - [10/Oct/2000:13:55:36 -0700] "\x16\x03\x01\x00\xEE\x01\x00\x00\xEA\x03\x03" 400 157 "-" "-""#;
        assert!(reason(tls).starts_with(r"malformed request line `\x16\x03\x01"));
        let dash = br#"45.95.147.1 - - [10/Oct/2000:13:55:36 -0700] "-" 400 0 "-" "-""#;
        assert!(reason(dash).starts_with("malformed request line `-`"));
        let empty = br#"45.95.147.1 - - [10/Oct/2000:13:55:36 -0700] "" 400 0 "-" "-""#;
        assert_eq!(reason(empty), "malformed request line ``: it is empty");
    }

    #[test]
    fn time_problems() {
        assert_eq!(
            reason(br#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700 "GET / HTTP/1.1" 200 1"#),
            "missing closing `]` after the time"
        );
        assert_eq!(
            reason(br#"1.2.3.4 - - [29/Feb/2001:13:55:36 -0700] "GET / HTTP/1.1" 200 1"#),
            "time `29/Feb/2001:13:55:36 -0700` has a day that does not exist in its month"
        );
        assert_eq!(
            reason(br#"1.2.3.4 - - [2000-10-10T13:55:36Z] "GET / HTTP/1.1" 200 1"#),
            "time `2000-10-10T13:55:36Z` is not like dd/Mon/yyyy:HH:MM:SS +hhmm"
        );
        let leap = entry(br#"1.2.3.4 - - [29/Feb/2000:00:00:00 +0000] "GET / HTTP/1.1" 200 1"#);
        assert_eq!(leap.unix_micros, 951_782_400_000_000);
    }

    #[test]
    fn structural_problems() {
        let cases: [(&[u8], &str); 11] = [
            (b"garbage", "unrecognised format"),
            (b"a b c", "unrecognised format"),
            (
                b"1.2.3.4 - -[10/Oct/2000:13:55:36 -0700]",
                "unrecognised format",
            ),
            (
                b"1.2.3.4 - [10/Oct/2000:13:55:36 -0700]",
                "unrecognised format",
            ),
            (
                b"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700]",
                "missing quoted request after the time",
            ),
            (
                b"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] GET / 200 1",
                "missing quoted request after the time",
            ),
            (
                br#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1 200 1"#,
                "missing closing `\"` after the request",
            ),
            (
                br#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1""#,
                "missing status after the request",
            ),
            (
                br#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200"#,
                "missing bytes after the status",
            ),
            (
                br#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-"#,
                "missing closing `\"` after the referer",
            ),
            (
                br#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-""#,
                "missing quoted user agent after the referer",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(reason(line), expected, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn status_and_bytes_problems() {
        assert_eq!(
            reason(br#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" abc 1"#),
            "status `abc` is not a number"
        );
        assert_eq!(
            reason(br#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 999 1"#),
            "status `999` is outside 100..=599"
        );
        assert_eq!(
            reason(br#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 x"#),
            "bytes `x` is not a number or `-`"
        );
    }

    #[test]
    fn a_user_agent_cut_short_keeps_the_rest_of_the_line() {
        let line = br#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a/b HTTP/1.1" 200 1 "-" "Googlebot/2.1; +http://x"#;
        let entry = crate::parse_line(line).unwrap().unwrap();
        assert_eq!(entry.format, Format::Combined);
        assert_eq!(
            entry.user_agent.as_deref(),
            Some("Googlebot/2.1; +http://x")
        );
        assert_eq!(entry.section, "/a");
    }

    #[test]
    fn quoted_field_scanning() {
        let mut at = Cursor::new(br#"a\\" b\"c" d"#);
        assert_eq!(at.quoted(), Some(&br"a\\"[..]));
        assert_eq!(at.rest(), br#" b\"c" d"#);
        let mut at = Cursor::new(br#"\"\"\""#);
        assert_eq!(at.quoted(), None);
        assert_eq!(at.pos, 0, "a failed scan does not move");
    }
}
