//! The request line (`GET /a/b?c HTTP/1.1`): method, path and protocol.
//!
//! Every format carries one, whole or in parts. A request whose path cannot be found is rejected
//! rather than stored, because without a path there is no section to count it in; that covers
//! the `-`, empty and TLS-handshake garbage that servers log for requests they could not read.

use std::borrow::Cow;

use memchr::memchr3;

use crate::text::{find_near, shown, text, Line};
use crate::Rejection;

pub(crate) struct Request<'a> {
    pub method: Cow<'a, str>,
    pub path: Cow<'a, str>,
    pub protocol: Cow<'a, str>,
}

impl Request<'_> {
    pub fn into_owned(self) -> Request<'static> {
        Request {
            method: Cow::Owned(self.method.into_owned()),
            path: Cow::Owned(self.path.into_owned()),
            protocol: Cow::Owned(self.protocol.into_owned()),
        }
    }
}

/// The section of a path that may or may not borrow from the line.
#[inline]
pub(crate) fn section_of<'a>(path: &Cow<'a, str>) -> Cow<'a, str> {
    match path {
        Cow::Borrowed(path) => Cow::Borrowed(crate::section(path)),
        Cow::Owned(path) => Cow::Owned(crate::section(path).to_owned()),
    }
}

/// What is wrong with a request, independently of how it was written down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Empty,
    Method,
    NoTarget,
    Target,
    Protocol,
}

impl Problem {
    fn describe(self) -> &'static str {
        match self {
            Problem::Empty => "it is empty",
            Problem::Method => "it does not start with a method (1 to 32 letters)",
            Problem::NoTarget => "it has no target",
            Problem::Target => "its target is neither a path nor an absolute URI",
            Problem::Protocol => "its protocol is not like HTTP/1.1",
        }
    }

    fn rejection(self, request: &[u8]) -> Rejection {
        Rejection::new(format!(
            "malformed request line `{}`: {}",
            shown(request),
            self.describe()
        ))
    }
}

/// `METHOD target PROTOCOL`, or `METHOD target` for HTTP/0.9-style requests.
pub(crate) fn parse_line(line: &[u8]) -> Result<Request<'_>, Rejection> {
    parse_within(Line::new(line), line)
}

/// [`parse_line`] for a request that is a slice of a larger, already checked, line.
#[inline]
pub(crate) fn parse_within<'a>(
    line: Line<'a>,
    request: &'a [u8],
) -> Result<Request<'a>, Rejection> {
    split_line(line, request).map_err(|problem| problem.rejection(request))
}

fn split_line<'a>(line: Line<'a>, request: &'a [u8]) -> Result<Request<'a>, Problem> {
    if request.is_empty() {
        return Err(Problem::Empty);
    }
    let method_len = request
        .iter()
        .position(|&byte| !is_method_byte(byte))
        .unwrap_or(request.len());
    let (method, after_method) = request.split_at(method_len);
    // Checked before anything else so garbage is reported as such, not as a missing target.
    // Every byte of `method` is a method byte already; its length and first byte remain.
    if !method_shape(method) || !matches!(after_method.first(), None | Some(b' ')) {
        return Err(Problem::Method);
    }
    let rest = after_method.get(1..).ok_or(Problem::NoTarget)?;
    // The protocol is the last word, so it is found from the end. Whatever lies between the
    // method and the protocol is the target, spaces included: servers such as nginx accept a
    // raw space there and log the target as received.
    let (target, protocol) = match rest.iter().rposition(|&byte| byte == b' ') {
        Some(space) => (&rest[..space], rest.get(space + 1..).unwrap_or_default()),
        None => (rest, &b""[..]),
    };
    if target.len() < rest.len() && protocol.is_empty() {
        // A trailing space: a protocol was announced but is missing.
        return Err(Problem::Protocol);
    }
    from_checked_parts(line, method, target, protocol)
}

/// A request logged as separate fields (JSON `method`, `path`, `protocol`).
pub(crate) fn from_parts<'a>(
    method: &'a [u8],
    target: &'a [u8],
    protocol: &'a [u8],
) -> Result<Request<'a>, Rejection> {
    let checked = if is_method(method) {
        from_checked_parts(Line::new(target), method, target, protocol)
    } else {
        Err(Problem::Method)
    };
    checked.map_err(|problem| {
        let mut whole = [method, target, protocol].join(&b' ');
        if protocol.is_empty() {
            whole.pop();
        }
        problem.rejection(&whole)
    })
}

#[inline]
fn from_checked_parts<'a>(
    line: Line<'a>,
    method: &'a [u8],
    target: &'a [u8],
    protocol: &'a [u8],
) -> Result<Request<'a>, Problem> {
    if !protocol.is_empty() && !is_protocol(protocol) {
        return Err(Problem::Protocol);
    }
    Ok(Request {
        method: line.text(method),
        path: path_of(line, method, target)?,
        protocol: line.text(protocol),
    })
}

/// 1 to 32 ASCII letters, `-` or `_`, starting with a letter (so the `-` servers log for an
/// unreadable request is not taken for a method).
fn is_method(method: &[u8]) -> bool {
    method_shape(method) && method.iter().all(|&byte| is_method_byte(byte))
}

fn method_shape(method: &[u8]) -> bool {
    (1..=32).contains(&method.len()) && method.first().is_some_and(u8::is_ascii_alphabetic)
}

fn is_method_byte(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'-' || byte == b'_'
}

/// `NAME/version`, e.g. `HTTP/1.1`, `HTTP/2`, `HTTP/2.0`.
fn is_protocol(protocol: &[u8]) -> bool {
    // Nearly every line carries one of these; one comparison settles it.
    if matches!(protocol, b"HTTP/1.1" | b"HTTP/1.0" | b"HTTP/2.0") {
        return true;
    }
    let Some(slash) = find_near(b'/', protocol) else {
        return false;
    };
    let (name, version) = (&protocol[..slash], &protocol[slash + 1..]);
    !name.is_empty()
        && name.iter().all(u8::is_ascii_alphabetic)
        && version.first().is_some_and(u8::is_ascii_digit)
        && version
            .iter()
            .all(|&byte| byte.is_ascii_digit() || byte == b'.')
}

/// The path a target asks for: origin-form as is, the path part of an absolute URI, `*` (asked of
/// the server as a whole: `OPTIONS *`, SSDP's `M-SEARCH *`), and the authority itself for
/// `CONNECT host:port`, which proxies log.
fn path_of<'a>(line: Line<'a>, method: &[u8], target: &'a [u8]) -> Result<Cow<'a, str>, Problem> {
    match target {
        [] => Err(Problem::NoTarget),
        [b'/', ..] => Ok(line.text(target)),
        b"*" => Ok(Cow::Borrowed("*")),
        _ => {
            if let Some(after_authority) = absolute_uri_path(line, target) {
                return Ok(after_authority);
            }
            if method == b"CONNECT" {
                return Ok(line.text(target));
            }
            Err(Problem::Target)
        }
    }
}

/// For `scheme://authority/path?query`, the `/path?query` part (`/` if there is no path).
fn absolute_uri_path<'a>(line: Line<'a>, target: &'a [u8]) -> Option<Cow<'a, str>> {
    let colon = find_near(b':', target)?;
    let scheme = &target[..colon];
    let valid_scheme = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.'));
    let after_scheme = target.get(colon + 1..)?.strip_prefix(b"//")?;
    if !valid_scheme {
        return None;
    }
    Some(match memchr3(b'/', b'?', b'#', after_scheme) {
        Some(start) => match after_scheme.get(start..)? {
            rest @ [b'/', ..] => line.text(rest),
            // `http://host?x` asks for `/?x`; rare enough that copying is fine.
            rest => Cow::Owned(format!("/{}", text(rest))),
        },
        None => Cow::Borrowed("/"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(line: &str) -> (String, String, String, String) {
        let request = parse_line(line.as_bytes()).unwrap();
        let section = section_of(&request.path).into_owned();
        (
            request.method.into_owned(),
            request.path.into_owned(),
            section,
            request.protocol.into_owned(),
        )
    }

    fn reason(line: &[u8]) -> String {
        match parse_line(line) {
            Ok(_) => panic!("{line:?} was accepted"),
            Err(rejection) => rejection.reason(),
        }
    }

    fn owned(
        method: &str,
        path: &str,
        section: &str,
        protocol: &str,
    ) -> (String, String, String, String) {
        (method.into(), path.into(), section.into(), protocol.into())
    }

    #[test]
    fn ordinary_requests() {
        assert_eq!(
            parts("GET /apache_pb.gif HTTP/1.0"),
            owned("GET", "/apache_pb.gif", "/apache_pb.gif", "HTTP/1.0")
        );
        assert_eq!(
            parts("POST /api/user?id=3 HTTP/1.1"),
            owned("POST", "/api/user?id=3", "/api", "HTTP/1.1")
        );
        assert_eq!(parts("GET / HTTP/2.0"), owned("GET", "/", "/", "HTTP/2.0"));
        assert_eq!(parts("GET /x HTTP/2"), owned("GET", "/x", "/x", "HTTP/2"));
        assert_eq!(
            parts("PROPFIND /dav/ HTTP/1.1"),
            owned("PROPFIND", "/dav/", "/dav", "HTTP/1.1")
        );
        assert_eq!(
            parts("M-SEARCH * HTTP/1.1").0,
            "M-SEARCH",
            "methods may contain dashes"
        );
    }

    #[test]
    fn requests_without_protocol() {
        assert_eq!(parts("GET /"), owned("GET", "/", "/", ""));
        assert_eq!(parts("GET /a/b"), owned("GET", "/a/b", "/a", ""));
    }

    #[test]
    fn absolute_uris_keep_only_their_path() {
        assert_eq!(
            parts("GET http://h/a/b?x HTTP/1.1"),
            owned("GET", "/a/b?x", "/a", "HTTP/1.1")
        );
        assert_eq!(
            parts("GET http://example.com HTTP/1.1"),
            owned("GET", "/", "/", "HTTP/1.1")
        );
        assert_eq!(
            parts("GET https://example.com:8443/ HTTP/1.1"),
            owned("GET", "/", "/", "HTTP/1.1")
        );
        assert_eq!(
            parts("GET http://[2001:db8::1]:80/pages/x HTTP/1.1"),
            owned("GET", "/pages/x", "/pages", "HTTP/1.1")
        );
        assert_eq!(
            parts("GET http://example.com?q=1 HTTP/1.1"),
            owned("GET", "/?q=1", "/", "HTTP/1.1")
        );
    }

    #[test]
    fn spaces_inside_the_target_are_kept() {
        assert_eq!(
            parts("GET /a b/c HTTP/1.1"),
            owned("GET", "/a b/c", "/a b", "HTTP/1.1")
        );
    }

    #[test]
    fn options_star_and_connect() {
        assert_eq!(
            parts("OPTIONS * HTTP/1.1"),
            owned("OPTIONS", "*", "*", "HTTP/1.1")
        );
        assert_eq!(
            parts("CONNECT example.com:443 HTTP/1.1"),
            owned("CONNECT", "example.com:443", "example.com:443", "HTTP/1.1")
        );
        assert!(reason(b"GET *x HTTP/1.1").contains("neither a path nor an absolute URI"));
    }

    #[test]
    fn escaped_quotes_and_odd_bytes_are_kept_as_written() {
        assert_eq!(
            parts(r#"GET /search?q=\"x\" HTTP/1.1"#).1,
            r#"/search?q=\"x\""#
        );
        assert_eq!(parts(r"GET /a\x22b HTTP/1.1").1, r"/a\x22b");
        let request = parse_line(b"GET /caf\xe9/menu HTTP/1.1").unwrap();
        assert_eq!(request.path, "/caf\u{fffd}/menu");
        assert_eq!(section_of(&request.path), "/caf\u{fffd}");
    }

    #[test]
    fn valid_paths_are_borrowed() {
        let request = parse_line(b"GET /pages/x HTTP/1.1").unwrap();
        assert!(matches!(request.path, Cow::Borrowed(_)));
        assert!(matches!(section_of(&request.path), Cow::Borrowed("/pages")));
    }

    #[test]
    fn malformed_request_lines_name_the_line() {
        assert_eq!(
            reason(b"-"),
            "malformed request line `-`: it does not start with a method (1 to 32 letters)"
        );
        assert_eq!(reason(b""), "malformed request line ``: it is empty");
        assert_eq!(
            reason(br"\x16\x03\x01\x00\xA5\x01\x00\x00\xA1\x03\x03"),
            r"malformed request line `\x16\x03\x01\x00\xA5\x01\x00\x00\xA1\x03\x03`: it does not start with a method (1 to 32 letters)"
        );
        assert!(
            reason(b"\x16\x03\x01\x02\x00\x01").contains("`\\u{16}\\u{3}\\u{1}\\u{2}\\u{0}\\u{1}`")
        );
        assert!(reason(b"GET").ends_with("it has no target"));
        assert!(reason(b"GET ").ends_with("it has no target"));
        assert!(reason(b"GET  HTTP/1.1").ends_with("it has no target"));
        assert!(reason(b"GET index.html HTTP/1.1").ends_with("neither a path nor an absolute URI"));
        assert!(reason(b"GET /a HTTP").ends_with("its protocol is not like HTTP/1.1"));
        assert!(reason(b"GET /a HTTP/x").ends_with("its protocol is not like HTTP/1.1"));
        assert!(reason(b"GET /a HTTP/1.1 ").ends_with("its protocol is not like HTTP/1.1"));
        assert!(reason(b"GET /a HTTP/1.1 x").ends_with("its protocol is not like HTTP/1.1"));
        assert!(reason(b"GET /a b").ends_with("its protocol is not like HTTP/1.1"));
        assert!(reason(b"GET/a HTTP/1.1").contains("does not start with a method"));
        assert!(reason(b"G3T /a HTTP/1.1").contains("does not start with a method"));
        let long_method = format!("{} / HTTP/1.1", "A".repeat(33));
        assert!(reason(long_method.as_bytes()).contains("does not start with a method"));
        assert!(reason(b"GET 1http://x/ HTTP/1.1").ends_with("neither a path nor an absolute URI"));
    }

    #[test]
    fn parts_are_checked_like_a_line() {
        let request = from_parts(b"GET", b"http://h/a?b", b"").unwrap();
        assert_eq!(request.path, "/a?b");
        assert_eq!(request.protocol, "");
        assert_eq!(
            from_parts(b"GET", b"nope", b"HTTP/1.1").err().unwrap().reason(),
            "malformed request line `GET nope HTTP/1.1`: its target is neither a path nor an absolute URI"
        );
        assert_eq!(
            from_parts(b"", b"/", b"").err().unwrap().reason(),
            "malformed request line ` /`: it does not start with a method (1 to 32 letters)"
        );
    }
}
