//! The CSV export of the classic log-monitoring exercise:
//!
//! ```text
//! "remotehost","rfc931","authuser","date","request","status","bytes"
//! "10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234
//! ```
//!
//! Seven fields, each quoted or not, with `""` standing for a quote inside a quoted field. The date
//! is a Unix time in seconds. The header line is recognised and skipped.

use std::borrow::Cow;

use memchr::memchr;

use crate::request::{self, section_of};
use crate::text::{is_placeholder, owned_text, shown};
use crate::{values, Entry, Format, Rejection};

const FIELDS: usize = 7;

/// Whether a line that does not start with a quote is still CSV: Common/Combined lines have no
/// comma before their first space, while unquoted CSV has at least the three separating host,
/// rfc931, authuser and date (its first space is inside the request).
pub(crate) fn looks_like_csv(line: &[u8]) -> bool {
    // Asked of every Common/Combined line too, whose first word is a short host: a plain loop.
    line.iter()
        .take_while(|&&byte| byte != b' ')
        .filter(|&&byte| byte == b',')
        .nth(2)
        .is_some()
}

pub(crate) fn parse(line: &[u8]) -> Result<Option<Entry<'_>>, Rejection> {
    let mut fields: [Cow<'_, [u8]>; FIELDS] = Default::default();
    let mut count = 0;
    let mut pos = Some(0);
    while let Some(start) = pos {
        let (field, next) = read_field(line, start, count)?;
        if count == 0 && field.eq_ignore_ascii_case(b"remotehost") {
            return Ok(None);
        }
        if let Some(slot) = fields.get_mut(count) {
            *slot = field;
        }
        count += 1;
        pos = next;
    }
    if count != FIELDS {
        return Err(Rejection::new(format!(
            "CSV line has {count} fields, expected 7 \
             (remotehost, rfc931, authuser, date, request, status, bytes)"
        )));
    }
    let [client, _rfc931, user, date, request_line, status, bytes] = fields;

    if client.is_empty() {
        return Err(Rejection::new("CSV remotehost is empty"));
    }
    let unix_micros = values::unix_seconds(&date).ok_or_else(|| {
        Rejection::new(format!(
            "date `{}` is not a Unix time in seconds",
            shown(&date)
        ))
    })?;
    let request = match request_line {
        Cow::Borrowed(line) => request::parse_line(line)?,
        Cow::Owned(line) => request::parse_line(&line)?.into_owned(),
    };
    let status = values::status(&status)?;
    let bytes = values::bytes(&bytes)?;

    Ok(Some(Entry {
        format: Format::Csv,
        unix_micros,
        utc_offset_minutes: 0,
        client: owned_text(client),
        user: (!is_placeholder(&user)).then(|| owned_text(user)),
        section: section_of(&request.path),
        method: request.method,
        path: request.path,
        protocol: request.protocol,
        status,
        bytes,
        referer: None,
        user_agent: None,
    }))
}

/// The field starting at `start`, and where the next one starts (`None` after the last).
fn read_field(
    line: &[u8],
    start: usize,
    index: usize,
) -> Result<(Cow<'_, [u8]>, Option<usize>), Rejection> {
    let rest = line.get(start..).unwrap_or_default();
    let [b'"', quoted @ ..] = rest else {
        return Ok(match memchr(b',', rest) {
            Some(comma) => (Cow::Borrowed(&rest[..comma]), Some(start + comma + 1)),
            None => (Cow::Borrowed(rest), None),
        });
    };

    // Only a field that contains `""` needs a copy.
    let mut unescaped: Option<Vec<u8>> = None;
    let mut copied_up_to = 0;
    let mut from = 0;
    let unterminated = || Rejection::new(format!("CSV field {} has no closing quote", index + 1));
    let end = loop {
        let quote = from
            + memchr(b'"', quoted.get(from..).ok_or_else(unterminated)?)
                .ok_or_else(unterminated)?;
        if quoted.get(quote + 1) == Some(&b'"') {
            let buffer = unescaped.get_or_insert_with(Vec::new);
            buffer.extend_from_slice(quoted.get(copied_up_to..=quote).unwrap_or_default());
            copied_up_to = quote + 2;
            from = quote + 2;
        } else {
            break quote;
        }
    };
    let value = match unescaped {
        Some(mut buffer) => {
            buffer.extend_from_slice(quoted.get(copied_up_to..end).unwrap_or_default());
            Cow::Owned(buffer)
        }
        None => Cow::Borrowed(quoted.get(..end).unwrap_or_default()),
    };
    // `start + 1` skips the opening quote, `end + 1` the closing one.
    let after = start + 1 + end + 1;
    match line.get(after) {
        None => Ok((value, None)),
        Some(b',') => Ok((value, Some(after + 1))),
        Some(_) => Err(Rejection::new(format!(
            "CSV field {} has text after its closing quote",
            index + 1
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(line: &[u8]) -> Entry<'_> {
        match parse(line) {
            Ok(Some(entry)) => entry,
            other => panic!("{}: {other:?}", String::from_utf8_lossy(line)),
        }
    }

    fn reason(line: &[u8]) -> String {
        match parse(line) {
            Err(rejection) => rejection.reason(),
            other => panic!("{} was accepted: {other:?}", String::from_utf8_lossy(line)),
        }
    }

    #[test]
    fn quoted_line() {
        let entry =
            entry(br#""10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234"#);
        assert_eq!(
            entry,
            Entry {
                format: Format::Csv,
                unix_micros: 1_549_573_860_000_000,
                utc_offset_minutes: 0,
                client: "10.0.0.2".into(),
                user: Some("apache".into()),
                method: "GET".into(),
                path: "/api/user".into(),
                section: "/api".into(),
                protocol: "HTTP/1.0".into(),
                status: 200,
                bytes: Some(1234),
                referer: None,
                user_agent: None,
            }
        );
        assert!(matches!(entry.path, Cow::Borrowed(_)));
    }

    #[test]
    fn unquoted_and_mixed_lines() {
        let unquoted = entry(b"10.0.0.2,-,apache,1549573860,GET /api/user HTTP/1.0,200,1234");
        let mixed =
            entry(br#"10.0.0.2,"-",apache,"1549573860","GET /api/user HTTP/1.0","200",1234"#);
        assert_eq!(unquoted, mixed);
        assert_eq!(unquoted.section, "/api");
    }

    #[test]
    fn dashes_are_absent_values() {
        let entry = entry(br#""10.0.0.4","-","-",1549573860,"POST /report HTTP/1.0",503,-"#);
        assert_eq!(entry.user, None);
        assert_eq!(entry.bytes, None);
        assert_eq!(entry.status, 503);
    }

    #[test]
    fn header_line_is_skipped() {
        let header = br#""remotehost","rfc931","authuser","date","request","status","bytes""#;
        assert_eq!(parse(header), Ok(None));
        assert_eq!(
            parse(b"remotehost,rfc931,authuser,date,request,status,bytes"),
            Ok(None)
        );
    }

    #[test]
    fn doubled_quotes_are_unescaped() {
        let entry = entry(br#""10.0.0.2","-","a""b",1549573860,"GET /q?x=""y"" HTTP/1.0",200,1"#);
        assert_eq!(entry.user.as_deref(), Some(r#"a"b"#));
        assert_eq!(entry.path, r#"/q?x="y""#);
        assert_eq!(entry.section, "/q");
    }

    #[test]
    fn non_utf8_is_replaced() {
        let entry =
            entry(b"\"10.0.0.2\",\"-\",\"caf\xe9\",1549573860,\"GET /\xff HTTP/1.0\",200,1");
        assert_eq!(entry.user.as_deref(), Some("caf\u{fffd}"));
        assert_eq!(entry.path, "/\u{fffd}");
    }

    #[test]
    fn detection_of_unquoted_csv() {
        assert!(looks_like_csv(
            b"10.0.0.2,-,apache,1549573860,GET / HTTP/1.0,200,1"
        ));
        assert!(!looks_like_csv(
            br#"10.0.0.2 - - [10/Oct/2000:13:55:36 -0700] "GET /a,b,c,d HTTP/1.0" 200 1"#
        ));
        assert!(!looks_like_csv(b"a,b c,d,e"));
    }

    #[test]
    fn problems_are_named() {
        assert_eq!(
            reason(br#""10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200"#),
            "CSV line has 6 fields, expected 7 (remotehost, rfc931, authuser, date, request, status, bytes)"
        );
        assert!(
            reason(b"10.0.0.2,-,apache,1549573860,GET /a,b HTTP/1.0,200,1")
                .contains("has 8 fields")
        );
        assert_eq!(
            reason(br#""10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0,200,1"#),
            "CSV field 5 has no closing quote"
        );
        assert_eq!(
            reason(br#""10.0.0.2"x,"-","apache",1549573860,"GET / HTTP/1.0",200,1"#),
            "CSV field 1 has text after its closing quote"
        );
        assert_eq!(
            reason(br#""10.0.0.2","-","apache",yesterday,"GET / HTTP/1.0",200,1"#),
            "date `yesterday` is not a Unix time in seconds"
        );
        assert_eq!(
            reason(br#""","-","apache",1549573860,"GET / HTTP/1.0",200,1"#),
            "CSV remotehost is empty"
        );
        assert_eq!(
            reason(br#""10.0.0.2","-","apache",1549573860,"-",400,1"#),
            "malformed request line `-`: it does not start with a method (1 to 32 letters)"
        );
        assert_eq!(
            reason(br#""10.0.0.2","-","apache",1549573860,"GET / HTTP/1.0",OK,1"#),
            "status `OK` is not a number"
        );
        assert_eq!(reason(br#"""#), "CSV field 1 has no closing quote");
    }
}
