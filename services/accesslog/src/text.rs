//! Turning slices of a line into text, and quoting them in rejection reasons.
//!
//! Logs carry whatever bytes clients sent, so invalid UTF-8 is expected: it is replaced, field by
//! field, instead of failing the line. Valid text is borrowed, which is the common case.

use std::borrow::Cow;

/// A line whose UTF-8 validity is checked once, up front, so that its fields can then be handed
/// out as `&str` without validating each of them again (on the hot path, per-field validation
/// costs more than all the scanning). Fields of a line that is not valid UTF-8 as a whole are
/// checked, and repaired if need be, one by one.
#[derive(Clone, Copy)]
pub(crate) struct Line<'a> {
    bytes: &'a [u8],
    valid: Option<&'a str>,
}

impl<'a> Line<'a> {
    #[inline]
    pub(crate) fn new(bytes: &'a [u8]) -> Line<'a> {
        Line {
            bytes,
            valid: std::str::from_utf8(bytes).ok(),
        }
    }

    /// `part` as text; `part` is normally a slice of this line, but any slice is handled.
    #[inline]
    pub(crate) fn text(&self, part: &'a [u8]) -> Cow<'a, str> {
        if let Some(valid) = self.valid {
            // Where `part` sits in the line, if it is inside it at all.
            let start = (part.as_ptr() as usize).wrapping_sub(self.bytes.as_ptr() as usize);
            let inside = start <= self.bytes.len() && part.len() <= self.bytes.len() - start;
            // `get` also checks that both ends fall on char boundaries, which they do whenever
            // the parser split at ASCII separators.
            if let Some(field) = valid.get(start..start + part.len()).filter(|_| inside) {
                return Cow::Borrowed(field);
            }
        }
        text(part)
    }

    /// A field that may be logged as absent (`-` or empty), as text.
    #[inline]
    pub(crate) fn optional(&self, part: &'a [u8]) -> Option<Cow<'a, str>> {
        (!is_placeholder(part)).then(|| self.text(part))
    }
}

/// The position of the first `needle` in `haystack`. For the short fields of a line (a method,
/// a status) a plain loop beats memchr, whose setup pays off only over longer distances.
pub(crate) fn find_near(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&byte| byte == needle)
}

/// The field as text: borrowed when valid UTF-8, otherwise a lossy copy.
pub(crate) fn text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// Same as [`text`] for a field that may already be owned (unescaped CSV or JSON).
pub(crate) fn owned_text(bytes: Cow<'_, [u8]>) -> Cow<'_, str> {
    match bytes {
        Cow::Borrowed(bytes) => text(bytes),
        Cow::Owned(bytes) => Cow::Owned(
            String::from_utf8(bytes)
                .unwrap_or_else(|bad| String::from_utf8_lossy(bad.as_bytes()).into_owned()),
        ),
    }
}

/// Loggers write `-` for "no value"; an empty field means the same.
pub(crate) fn is_placeholder(bytes: &[u8]) -> bool {
    bytes.is_empty() || bytes == b"-"
}

/// Strips the spaces, tabs and line-ending bytes that editors and shippers leave around a line.
pub(crate) fn trim(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r' | b'\n', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n'] = bytes {
        bytes = rest;
    }
    bytes
}

/// How a field is quoted inside a rejection reason: bounded, so a huge line does not produce a
/// huge message, and with control bytes escaped, so the message stays on one line.
pub(crate) fn shown(bytes: &[u8]) -> String {
    const MAX_CHARS: usize = 60;
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len().min(MAX_CHARS + 8));
    for (count, c) in text.chars().enumerate() {
        if count == MAX_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_utf8_is_borrowed() {
        assert!(matches!(text("héllo".as_bytes()), Cow::Borrowed("héllo")));
    }

    #[test]
    fn invalid_utf8_is_replaced_not_refused() {
        let field = text(b"caf\xe9 \xff");
        assert!(matches!(field, Cow::Owned(_)));
        assert_eq!(field, "caf\u{fffd} \u{fffd}");
        assert_eq!(
            owned_text(Cow::Owned(b"a\xffb".to_vec())),
            "a\u{fffd}b".to_string()
        );
    }

    #[test]
    fn dash_and_empty_are_absent() {
        let line = Line::new(b"- -- x");
        assert_eq!(line.optional(&b"- -- x"[..1]), None);
        assert_eq!(line.optional(b""), None);
        assert_eq!(line.optional(b"--").as_deref(), Some("--"));
    }

    #[test]
    fn fields_of_a_valid_line_are_borrowed_from_it() {
        let bytes = "h\u{e9} [x]".as_bytes();
        let line = Line::new(bytes);
        let field = line.text(&bytes[4..7]);
        assert!(matches!(field, Cow::Borrowed("[x]")));
        assert_eq!(field.as_ptr(), bytes[4..].as_ptr());
        // Not on a char boundary: still correct, through the slow path.
        assert_eq!(line.text(&bytes[2..3]), "\u{fffd}");
        // Not a slice of the line at all.
        assert!(matches!(line.text(b"other"), Cow::Borrowed("other")));
        assert_eq!(line.text(b"\xff"), "\u{fffd}");
    }

    #[test]
    fn fields_of_an_invalid_line_are_checked_one_by_one() {
        let bytes = b"ok \xff";
        let line = Line::new(bytes);
        assert!(matches!(line.text(&bytes[..2]), Cow::Borrowed("ok")));
        assert_eq!(line.text(&bytes[3..]), "\u{fffd}");
    }

    #[test]
    fn find_near_finds_the_first() {
        assert_eq!(find_near(b' ', b"ab c d"), Some(2));
        assert_eq!(find_near(b' ', b"abc"), None);
    }

    #[test]
    fn trim_strips_both_ends() {
        assert_eq!(trim(b" \t a b \r\n"), b"a b");
        assert_eq!(trim(b"\r"), b"");
        assert_eq!(trim(b""), b"");
    }

    #[test]
    fn shown_is_bounded_and_single_line() {
        assert_eq!(shown(b"\x16\x03\x01"), "\\u{16}\\u{3}\\u{1}");
        assert_eq!(shown(b"a\nb"), "a\\nb");
        let long = shown(&[b'x'; 500]);
        assert_eq!(long.chars().count(), 61);
        assert!(long.ends_with('…'));
    }
}
