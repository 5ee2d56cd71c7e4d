//! Realistic, varied Combined lines for benchmarks and load tests.
//!
//! The parser benchmark and the end-to-end ingest benchmark feed on the same traffic, so their
//! numbers can be compared. Lines are deterministic for a given seed; the mix (clients, paths,
//! statuses, agents, zones) follows what a busy public site sees, and every line parses.

use std::fmt::Write;

use crate::time::{civil_from_days, MONTHS};

/// `n` Combined lines, reproducible from `seed`, in time order.
pub fn generate_combined_lines(n: usize, seed: u64) -> Vec<String> {
    let mut random = XorShift::new(seed);
    // 2019-02-07T21:11:00Z; a few hundred lines per second from there on.
    let mut unix_seconds: i64 = 1_549_573_860;
    let mut lines = Vec::with_capacity(n);
    for _ in 0..n {
        unix_seconds += i64::from(random.below(3) == 0);
        lines.push(line(&mut random, unix_seconds));
    }
    lines
}

const SECTIONS: [&str; 12] = [
    "api", "pages", "static", "images", "blog", "report", "user", "search", "docs", "assets",
    "checkout", "admin",
];

const LEAVES: [&str; 10] = [
    "index.html",
    "create",
    "list",
    "42",
    "logo.png",
    "app.9f2c1e.js",
    "style.css",
    "feed.xml",
    "v1",
    "settings",
];

const QUERIES: [&str; 6] = [
    "?page=2",
    "?q=rust+parser&lang=en",
    "?id=1093&ref=home",
    "?utm_source=newsletter&utm_medium=email",
    "?v=3",
    "?sort=desc&limit=50",
];

const REFERERS: [&str; 5] = [
    "https://www.google.com/",
    "https://www.example.com/pages/start",
    "https://news.ycombinator.com/item?id=19098000",
    "https://duckduckgo.com/",
    "https://www.example.com/blog/2019/02/release",
];

const USER_AGENTS: [&str; 7] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.96 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.0.3 Safari/605.1.15",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:65.0) Gecko/20100101 Firefox/65.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 12_1_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/7.64.0",
];

/// Zone offsets in minutes, as servers around the world write them.
const ZONES: [i16; 7] = [0, 0, -420, 60, 330, -300, 540];

fn line(random: &mut XorShift, unix_seconds: i64) -> String {
    let mut line = String::with_capacity(256);

    match random.below(10) {
        0..=5 => {
            let [a, b, c, d] = (random.next() as u32).to_be_bytes();
            let _ = write!(line, "{}.{b}.{c}.{d}", a.max(1));
        }
        6 | 7 => {
            let _ = write!(
                line,
                "2001:db8:{:x}::{:x}",
                random.below(0x10000),
                random.below(0x10000)
            );
        }
        8 => line.push_str("::1"),
        _ => {
            let _ = write!(line, "crawl-66-249-66-{}.googlebot.com", random.below(255));
        }
    }

    match random.below(20) {
        0 => line.push_str(" - frank "),
        1 => line.push_str(" - alice "),
        _ => line.push_str(" - - "),
    }

    let zone = ZONES[random.below(ZONES.len() as u64) as usize];
    push_clf_time(&mut line, unix_seconds, zone);

    let method = match random.below(20) {
        0..=14 => "GET",
        15 | 16 => "POST",
        17 => "PUT",
        18 => "HEAD",
        _ => "DELETE",
    };
    line.push_str(" \"");
    line.push_str(method);
    line.push(' ');
    if random.below(4) == 0 {
        line.push('/');
    } else {
        line.push('/');
        line.push_str(SECTIONS[random.below(SECTIONS.len() as u64) as usize]);
        if random.below(5) != 0 {
            line.push('/');
            line.push_str(LEAVES[random.below(LEAVES.len() as u64) as usize]);
        }
    }
    if random.below(4) == 0 {
        line.push_str(QUERIES[random.below(QUERIES.len() as u64) as usize]);
    }
    line.push_str(if random.below(3) == 0 {
        " HTTP/2.0\" "
    } else {
        " HTTP/1.1\" "
    });

    let status = match random.below(100) {
        0..=74 => 200,
        75..=82 => 304,
        83..=86 => 301,
        87..=92 => 404,
        93 => 401,
        94 => 403,
        95 => 206,
        96..=98 => 500,
        _ => 503,
    };
    let _ = write!(line, "{status} ");
    if status == 304 || method == "HEAD" || random.below(50) == 0 {
        line.push('-');
    } else {
        let _ = write!(line, "{}", random.below(60_000));
    }

    line.push_str(" \"");
    if random.below(3) == 0 {
        line.push('-');
    } else {
        line.push_str(REFERERS[random.below(REFERERS.len() as u64) as usize]);
    }
    line.push_str("\" \"");
    line.push_str(USER_AGENTS[random.below(USER_AGENTS.len() as u64) as usize]);
    line.push('"');
    line
}

/// `[10/Oct/2000:13:55:36 -0700]` for the given instant, as written in the given zone.
fn push_clf_time(line: &mut String, unix_seconds: i64, offset_minutes: i16) {
    let local = unix_seconds + i64::from(offset_minutes) * 60;
    let (year, month, day) = civil_from_days(local.div_euclid(86_400));
    let second_of_day = local.rem_euclid(86_400);
    let month_name = MONTHS
        .get((month as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("Jan");
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let offset = offset_minutes.unsigned_abs();
    let _ = write!(
        line,
        "[{day:02}/{month_name}/{year:04}:{:02}:{:02}:{:02} {sign}{:02}{:02}]",
        second_of_day / 3_600,
        second_of_day / 60 % 60,
        second_of_day % 60,
        offset / 60,
        offset % 60,
    );
}

/// xorshift64*: tiny, fast and good enough to vary benchmark traffic. Not for anything secret.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        // The state must never be zero; mixing the seed also spreads nearby seeds apart.
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform enough in `0..bound` for the small bounds used here.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_line, Format};

    #[test]
    fn every_generated_line_parses_as_combined() {
        let lines = generate_combined_lines(5_000, 7);
        assert_eq!(lines.len(), 5_000);
        let mut previous = i64::MIN;
        for line in &lines {
            let entry = parse_line(line.as_bytes())
                .unwrap_or_else(|rejection| panic!("{line}: {rejection}"))
                .unwrap();
            assert_eq!(entry.format, Format::Combined);
            assert!(entry.unix_micros >= previous, "lines are in time order");
            previous = entry.unix_micros;
        }
    }

    #[test]
    fn traffic_is_varied() {
        let lines = generate_combined_lines(5_000, 1);
        let entries: Vec<_> = lines
            .iter()
            .map(|line| parse_line(line.as_bytes()).unwrap().unwrap())
            .collect();
        assert!(entries.iter().any(|entry| entry.client.contains(':')));
        assert!(entries.iter().any(|entry| entry.client.ends_with(".com")));
        assert!(entries.iter().any(|entry| entry.bytes.is_none()));
        assert!(entries.iter().any(|entry| entry.path.contains('?')));
        assert!(entries.iter().any(|entry| entry.utc_offset_minutes == 330));
        assert!(entries.iter().any(|entry| entry.status == 404));
        assert!(entries.iter().any(|entry| entry.referer.is_none()));
        let average = lines.iter().map(String::len).sum::<usize>() / lines.len();
        assert!(
            (180..=280).contains(&average),
            "average line length {average}"
        );
    }

    #[test]
    fn same_seed_same_lines() {
        assert_eq!(
            generate_combined_lines(50, 3),
            generate_combined_lines(50, 3)
        );
        assert_ne!(
            generate_combined_lines(50, 3),
            generate_combined_lines(50, 4)
        );
    }

    #[test]
    fn clf_time_rendering() {
        let mut line = String::new();
        push_clf_time(&mut line, 971_211_336, -420);
        assert_eq!(line, "[10/Oct/2000:13:55:36 -0700]");
    }
}
