//! Properties of the parser that must hold for every input, not just the examples in the unit
//! tests: it never panics, a well-formed Combined line gives back exactly what was written into
//! it, and `section` always yields a short prefix of the path.

use accesslog::{parse_line, section, Entry, Format};
use proptest::prelude::*;

/// Checks that hold for every entry the parser returns, whatever the input.
fn assert_entry_invariants(entry: &Entry<'_>) {
    assert!((100..=599).contains(&entry.status));
    assert_eq!(entry.section, section(&entry.path));
    assert!(!entry.client.is_empty());
    assert!(!entry.method.is_empty());
    assert!(entry.path.starts_with('/') || entry.path == "*" || entry.method == "CONNECT");
    assert!(entry.utc_offset_minutes.abs() < 24 * 60);
}

fn assert_section_invariants(path: &str) {
    let section = section(path);
    assert!(!section.is_empty());
    assert!(
        section == "/" || path.starts_with(section),
        "{path:?} -> {section:?}"
    );
    assert!(!section.contains(['?', '#']), "{path:?} -> {section:?}");
    // At most one `/`, and only as the first byte.
    assert!(
        section.char_indices().all(|(at, c)| c != '/' || at == 0),
        "{path:?} -> {section:?}"
    );
    // Taking the section of a section changes nothing.
    assert_eq!(crate::section(section), section);
    if path.starts_with('/') {
        // A slice of the path itself, ending where the path's second segment, query or
        // fragment begins.
        assert_eq!(section.as_ptr(), path.as_ptr());
        let after = &path[section.len()..];
        assert!(
            after.is_empty() || after.starts_with(['/', '?', '#']),
            "{path:?} -> {section:?}"
        );
        // Nothing before the cut could have been a cut.
        assert!(!section[1..].contains(['/', '?', '#']));
    }
}

/// Days since 1970-01-01 to (year, month, day), by counting: slow, obviously right, and written
/// independently of the parser's calendar arithmetic.
fn civil(mut days: i64) -> (i64, u32, u32) {
    let leap = |year: i64| year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let mut year = 1970;
    loop {
        let length = if leap(year) { 366 } else { 365 };
        if days < length {
            break;
        }
        days -= length;
        year += 1;
    }
    let lengths = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut month = 0;
    while days >= lengths[month] {
        days -= lengths[month];
        month += 1;
    }
    (year, month as u32 + 1, days as u32 + 1)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `10/Oct/2000:13:55:36 -0700` for a UTC instant seen from a zone.
fn clf_time(unix_seconds: i64, offset_minutes: i16) -> String {
    let local = unix_seconds + i64::from(offset_minutes) * 60;
    let (year, month, day) = civil(local / 86_400);
    let second = local % 86_400;
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let offset = offset_minutes.unsigned_abs();
    format!(
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} {sign}{:02}{:02}",
        MONTHS[month as usize - 1],
        second / 3_600,
        second / 60 % 60,
        second % 60,
        offset / 60,
        offset % 60
    )
}

fn client() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|[a, b, c, d]| format!("{a}.{b}.{c}.{d}")),
        any::<[u16; 8]>().prop_map(|groups| groups
            .iter()
            .map(|group| format!("{group:x}"))
            .collect::<Vec<_>>()
            .join(":")),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| format!("2001:db8::{a:x}:{b:x}")),
        Just("::1".to_owned()),
        "[a-z][a-z0-9-]{0,15}(\\.[a-z][a-z0-9-]{0,10}){0,3}",
    ]
}

/// Quoted-field contents as a logger writes them: no raw `"`, escapes kept as `\"` and `\\`,
/// and never `-` or empty (which mean "absent").
fn quoted_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9 ;:/.,()+=&%_~-]{1,12}",
        Just("\\\"".to_owned()),
        Just("\\\\".to_owned()),
        Just("é".to_owned()),
        Just("[en]".to_owned()),
    ];
    prop::collection::vec(piece, 1..8)
        .prop_map(|pieces| pieces.concat())
        .prop_filter("`-` means absent", |text| text != "-")
}

#[derive(Debug, Clone)]
struct Line {
    client: String,
    user: Option<String>,
    unix_seconds: i64,
    offset_minutes: i16,
    method: String,
    scheme_and_host: Option<String>,
    segments: Vec<String>,
    query: Option<String>,
    protocol: Option<&'static str>,
    status: u16,
    bytes: Option<u64>,
    referer: Option<String>,
    user_agent: Option<String>,
    extra: Option<String>,
}

impl Line {
    fn path(&self) -> String {
        let mut path = format!("/{}", self.segments.join("/"));
        if let Some(query) = &self.query {
            path.push('?');
            path.push_str(query);
        }
        path
    }

    /// Worked out from the parts, not from the path, so it does not reuse the rule under test.
    fn section(&self) -> String {
        format!("/{}", self.segments.first().map_or("", String::as_str))
    }

    fn render(&self) -> String {
        let dash = |field: &Option<String>| field.clone().unwrap_or_else(|| "-".to_owned());
        let mut request = format!(
            "{} {}{}",
            self.method,
            self.scheme_and_host.as_deref().unwrap_or(""),
            self.path()
        );
        if let Some(protocol) = self.protocol {
            request.push(' ');
            request.push_str(protocol);
        }
        let bytes = self.bytes.map_or("-".to_owned(), |bytes| bytes.to_string());
        let mut line = format!(
            r#"{} - {} [{}] "{request}" {} {bytes} "{}" "{}""#,
            self.client,
            dash(&self.user),
            clf_time(self.unix_seconds, self.offset_minutes),
            self.status,
            dash(&self.referer),
            dash(&self.user_agent),
        );
        if let Some(extra) = &self.extra {
            line.push(' ');
            line.push_str(extra);
        }
        line
    }
}

prop_compose! {
    fn combined_line()(
        client in client(),
        user in proptest::option::of("[a-z][a-z0-9._]{0,10}"),
        // 1970-01-02 to 2099-12-31, so that local times stay within the oracle's range.
        unix_seconds in 86_400i64..4_102_358_400,
        offset_minutes in -(23 * 60 + 59)..=(23i16 * 60 + 59),
        method in prop_oneof![
            Just("GET".to_owned()),
            Just("POST".to_owned()),
            "[A-Z][A-Za-z_-]{0,31}",
        ],
        scheme_and_host in proptest::option::of("https?://[a-z0-9.-]{1,12}(:[0-9]{1,5})?"),
        segments in prop::collection::vec("[a-zA-Z0-9._~%!$&'()*+,;=:@-]{0,10}", 0..5),
        query in proptest::option::of("[a-zA-Z0-9=&/?:%.-]{0,20}"),
        protocol in proptest::option::of(prop_oneof![
            Just("HTTP/1.0"), Just("HTTP/1.1"), Just("HTTP/2.0"), Just("HTTP/2"),
        ]),
        status in 100u16..=599,
        bytes in proptest::option::of(any::<u64>()),
        referer in proptest::option::of(quoted_text()),
        user_agent in proptest::option::of(quoted_text()),
        extra in proptest::option::of(r#"("[a-z0-9. ]{0,10}"|[a-z0-9=.]{1,10})"#),
    ) -> Line {
        Line {
            client, user, unix_seconds, offset_minutes, method, scheme_and_host, segments, query,
            protocol, status, bytes, referer, user_agent, extra,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(Some(entry)) = parse_line(&bytes) {
            assert_entry_invariants(&entry);
        }
    }

    #[test]
    fn damaged_lines_never_panic(
        line in combined_line(),
        cut in any::<prop::sample::Index>(),
        insert_at in any::<prop::sample::Index>(),
        noise in prop::collection::vec(
            prop_oneof![Just(b'"'), Just(b'\\'), Just(b' '), Just(b'['), Just(b']'), any::<u8>()],
            0..6,
        ),
    ) {
        let mut bytes = line.render().into_bytes();
        bytes.truncate(cut.index(bytes.len() + 1));
        let at = insert_at.index(bytes.len() + 1);
        bytes.splice(at..at, noise);
        if let Ok(Some(entry)) = parse_line(&bytes) {
            assert_entry_invariants(&entry);
        }
    }

    #[test]
    fn combined_lines_round_trip(line in combined_line()) {
        let text = line.render();
        let entry = parse_line(text.as_bytes())
            .unwrap_or_else(|rejection| panic!("{text}: {rejection}"))
            .unwrap();
        assert_entry_invariants(&entry);
        prop_assert_eq!(entry.format, Format::Combined);
        prop_assert_eq!(&entry.client, &line.client);
        prop_assert_eq!(entry.user.as_deref(), line.user.as_deref());
        prop_assert_eq!(entry.unix_micros, line.unix_seconds * 1_000_000);
        prop_assert_eq!(entry.utc_offset_minutes, line.offset_minutes);
        prop_assert_eq!(&entry.method, &line.method);
        prop_assert_eq!(entry.path, line.path());
        prop_assert_eq!(entry.section, line.section());
        prop_assert_eq!(&entry.protocol, line.protocol.unwrap_or(""));
        prop_assert_eq!(entry.status, line.status);
        prop_assert_eq!(entry.bytes, line.bytes);
        prop_assert_eq!(entry.referer.as_deref(), line.referer.as_deref());
        prop_assert_eq!(entry.user_agent.as_deref(), line.user_agent.as_deref());
    }

    #[test]
    fn common_lines_round_trip(line in combined_line()) {
        // The same line cut after the bytes field.
        let text = line.render();
        let common = text.split(" \"").take(2).collect::<Vec<_>>().join(" \"");
        let entry = parse_line(common.as_bytes())
            .unwrap_or_else(|rejection| panic!("{common}: {rejection}"))
            .unwrap();
        prop_assert_eq!(entry.format, Format::Common);
        prop_assert_eq!(entry.status, line.status);
        prop_assert_eq!(entry.bytes, line.bytes);
        prop_assert_eq!(entry.referer, None);
    }

    #[test]
    fn section_of_any_text(path in any::<String>()) {
        assert_section_invariants(&path);
    }

    #[test]
    fn section_of_path_like_text(path in "(/[a-z?#]{0,4}){0,5}") {
        assert_section_invariants(&path);
    }

    #[test]
    fn section_is_the_first_segment(
        segments in prop::collection::vec("[a-z0-9._-]{0,6}", 1..5),
        query in proptest::option::of("[a-z0-9=&/?#]{0,8}"),
    ) {
        let mut path = format!("/{}", segments.join("/"));
        if let Some(query) = &query {
            path.push('?');
            path.push_str(query);
        }
        let expected = format!("/{}", segments[0]);
        prop_assert_eq!(section(&path), expected.as_str());
    }
}

#[test]
fn the_oracle_calendar_agrees_with_known_dates() {
    assert_eq!(clf_time(971_211_336, -420), "10/Oct/2000:13:55:36 -0700");
    assert_eq!(clf_time(951_782_400, 0), "29/Feb/2000:00:00:00 +0000");
    assert_eq!(clf_time(0, 330), "01/Jan/1970:05:30:00 +0530");
}
