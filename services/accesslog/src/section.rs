//! The section of a path: what httpmon counts hits by.
//!
//! A section is the path up to (not including) its second `/`, without query string or fragment:
//! `/pages/create?x=1` is in section `/pages`. Every crate that groups requests calls this one
//! function, so they cannot disagree on where a section ends.

/// The section of `path`, as a slice of it (or the static `"/"` when nothing is left).
///
/// `/pages/create?x=1` -> `/pages`, `/report` -> `/report`, `/a/` -> `/a`, `/` and `` -> `/`.
/// A target that does not start with `/` (`*`, or a CONNECT authority) is cut at its first `/`.
#[inline]
pub fn section(path: &str) -> &str {
    let bytes = path.as_bytes();
    // Skip the leading `/`; the section ends at the next `/` or where the query or fragment
    // starts. Stopping there, rather than finding the end of the path first, keeps this to a
    // handful of bytes for typical paths.
    let skip = usize::from(bytes.first() == Some(&b'/'));
    let tail = bytes.get(skip..).unwrap_or_default();
    let cut = skip
        + tail
            .iter()
            .position(|&byte| matches!(byte, b'/' | b'?' | b'#'))
            .unwrap_or(tail.len());
    // `cut` is at an ASCII byte or the end, so it is a char boundary.
    match path.get(..cut) {
        Some(section) if !section.is_empty() => section,
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::section;

    #[test]
    fn examples() {
        for (path, expected) in [
            ("/pages/create?x=1", "/pages"),
            ("/pages/create", "/pages"),
            ("/report", "/report"),
            ("/report?x", "/report"),
            ("/report#top", "/report"),
            ("/report?a=/b/c", "/report"),
            ("/", "/"),
            ("/?x=1", "/"),
            ("/a/", "/a"),
            ("", "/"),
            ("?x", "/"),
            ("//double", "/"),
            ("/api/v1/users/42", "/api"),
            ("/favicon.ico", "/favicon.ico"),
            ("/caf\u{e9}/menu", "/caf\u{e9}"),
            ("*", "*"),
            ("example.com:443", "example.com:443"),
        ] {
            assert_eq!(section(path), expected, "{path:?}");
        }
    }

    #[test]
    fn borrows_from_the_path() {
        let path = String::from("/pages/create");
        let section = section(&path);
        assert_eq!(section.as_ptr(), path.as_ptr());
    }
}
