//! Rolling a page of feed entries up in memory, so storing it costs one upsert per rollup
//! table whatever the page size.

use std::collections::HashMap;

use feed::FeedEntry;

use super::window::Granularity;

/// The class of a status: 404 -> 4. ingest only stores 100..=599, so this is 1..=5.
pub fn status_class(status: u16) -> i16 {
    (status / 100) as i16
}

/// Hits and bytes by (bucket start, section, status class).
pub type SectionRollup<'a> = HashMap<(i64, &'a str, i16), Counts>;
/// Hits and bytes by (bucket start, status class).
pub type ClassRollup = HashMap<(i64, i16), Counts>;
/// Hits by (bucket start, client).
pub type ClientRollup<'a> = HashMap<(i64, &'a str), i64>;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub hits: i64,
    pub bytes: i64,
}

/// One page, rolled up at every granularity and into the all-time totals.
#[derive(Debug, Default)]
pub struct PageRollup<'a> {
    /// Indexed like [`Granularity::ALL`].
    pub sections: [SectionRollup<'a>; 4],
    pub classes: [ClassRollup; 4],
    pub clients: [ClientRollup<'a>; 4],
    pub section_totals: HashMap<(&'a str, i16), Counts>,
    pub client_totals: HashMap<&'a str, i64>,
    /// The oldest and newest entry seconds in the page.
    pub earliest: Option<i64>,
    pub latest: Option<i64>,
}

impl<'a> PageRollup<'a> {
    pub fn of(entries: &'a [FeedEntry]) -> Self {
        let mut rollup = Self::default();
        for entry in entries {
            // Event time, by the second it falls in (whatever zone it was logged in).
            let t = entry.time.timestamp();
            let class = status_class(entry.status);
            let counts = Counts {
                hits: 1,
                bytes: entry.bytes.unwrap_or(0),
            };
            let section = entry.section.as_str();
            let client = entry.client.as_str();
            for (i, g) in Granularity::ALL.into_iter().enumerate() {
                let bucket = g.floor(t);
                add(
                    rollup.sections[i]
                        .entry((bucket, section, class))
                        .or_default(),
                    counts,
                );
                add(
                    rollup.classes[i].entry((bucket, class)).or_default(),
                    counts,
                );
                *rollup.clients[i].entry((bucket, client)).or_default() += 1;
            }
            add(
                rollup.section_totals.entry((section, class)).or_default(),
                counts,
            );
            *rollup.client_totals.entry(client).or_default() += 1;
            rollup.earliest = Some(rollup.earliest.map_or(t, |e| e.min(t)));
            rollup.latest = Some(rollup.latest.map_or(t, |l| l.max(t)));
        }
        rollup
    }
}

fn add(total: &mut Counts, counts: Counts) {
    total.hits += counts.hits;
    total.bytes += counts.bytes;
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn entry(offset: i64, time: &str, client: &str, section: &str, status: u16) -> FeedEntry {
        FeedEntry {
            offset,
            time: DateTime::parse_from_rfc3339(time).unwrap(),
            client: client.into(),
            method: "GET".into(),
            path: format!("{section}/x"),
            section: section.into(),
            status,
            bytes: Some(100),
        }
    }

    #[test]
    fn a_page_rolls_up_by_event_time_at_every_granularity() {
        let entries = [
            entry(1, "2024-05-01T12:00:00.900+02:00", "a", "/x", 200),
            entry(2, "2024-05-01T10:00:00Z", "a", "/x", 204),
            entry(3, "2024-05-01T10:00:01Z", "b", "/x", 503),
            entry(4, "2024-05-01T10:59:59Z", "b", "/y", 200),
        ];
        let rollup = PageRollup::of(&entries);
        let t = DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z")
            .unwrap()
            .timestamp();
        // Seconds: the first two entries share a second (zones and fractions do not matter).
        assert_eq!(
            rollup.sections[3][&(t, "/x", 2)],
            Counts {
                hits: 2,
                bytes: 200
            }
        );
        assert_eq!(rollup.sections[3][&(t + 1, "/x", 5)].hits, 1);
        assert_eq!(rollup.sections[3].len(), 3);
        // Minutes: one bucket for /x 2xx, one for /x 5xx, one for /y.
        assert_eq!(rollup.sections[2].len(), 3);
        assert_eq!(rollup.classes[3][&(t, 2)].hits, 2);
        assert_eq!(rollup.classes[1][&(t, 2)].hits, 3);
        assert_eq!(rollup.classes[1][&(t, 5)].bytes, 100);
        // Hours and days: every entry in one bucket per key.
        assert_eq!(rollup.sections[1][&(t, "/x", 2)].hits, 2);
        assert_eq!(rollup.clients[1][&(t, "b")], 2);
        assert_eq!(rollup.clients[0].len(), 2);
        assert_eq!(rollup.client_totals["a"], 2);
        assert_eq!(rollup.section_totals[&("/x", 2)].hits, 2);
        assert_eq!((rollup.earliest, rollup.latest), (Some(t), Some(t + 3599)));
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(100), 1);
        assert_eq!(status_class(299), 2);
        assert_eq!(status_class(404), 4);
        assert_eq!(status_class(599), 5);
    }
}
