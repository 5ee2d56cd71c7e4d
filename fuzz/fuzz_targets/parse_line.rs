//! Fuzzes the access-log parser with arbitrary bytes: it must never panic, and every entry it
//! returns must be internally consistent, whatever the line looked like.
//!
//! Run with `cargo +nightly fuzz run parse_line` from this directory.

#![no_main]

use accesslog::{parse_line, section, Format, MAX_LINE_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = parse_line(data);
    if data.len() > MAX_LINE_BYTES {
        assert!(parsed.is_err(), "over-long lines are always rejected");
    }
    match parsed {
        Ok(Some(entry)) => {
            assert!((100..=599).contains(&entry.status));
            assert!(!entry.client.is_empty());
            assert!(!entry.method.is_empty());
            assert!(entry.utc_offset_minutes.abs() < 24 * 60);
            assert_eq!(entry.section, section(&entry.path));
            assert!(entry.path.starts_with(&*entry.section) || entry.section == "/");
            if matches!(entry.format, Format::Common | Format::Csv) {
                assert!(entry.referer.is_none() && entry.user_agent.is_none());
            }
            if entry.format == Format::Csv {
                assert_eq!(entry.utc_offset_minutes, 0);
            }
        }
        Ok(None) => {}
        Err(rejection) => assert!(!rejection.reason().is_empty()),
    }

    // `section` on its own, over the same bytes taken as text.
    let path = String::from_utf8_lossy(data);
    let cut = section(&path);
    assert!(!cut.is_empty());
    assert!(cut == "/" || path.starts_with(cut));
    assert!(!cut.contains(['?', '#']));
    assert!(cut.char_indices().all(|(at, c)| c != '/' || at == 0));
});
