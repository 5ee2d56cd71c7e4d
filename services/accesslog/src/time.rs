//! Timestamps: the CLF `10/Oct/2000:13:55:36 -0700` form, RFC 3339, and the calendar arithmetic
//! that turns a local date and time plus a zone offset into microseconds since the Unix epoch.
//!
//! The arithmetic is done here by hand (proleptic Gregorian calendar, no leap seconds beyond
//! accepting `:60`) because it is small, exact and fast, and the crate stays dependency-light.

/// A parsed instant together with the zone it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub unix_micros: i64,
    pub offset_minutes: i16,
}

const SECONDS_PER_DAY: i64 = 86_400;

/// Days from 1970-01-01 to the given date.
///
/// Counting years from March makes February, with its leap day, the last month of the year, so a
/// year's length only matters once the whole year is behind us; 400-year eras repeat exactly.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719_468 days separate 0000-03-01, where era 0 starts, from the Unix epoch.
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day) of a day counted from 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are small by construction (1..=12 and 1..=31).
    (year, month as u32, day as u32)
}

pub(crate) fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A local date and time as written, before the zone is applied.
struct Local {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Local {
    fn check(&self) -> Result<(), &'static str> {
        if !(1..=12).contains(&self.month) {
            return Err("has a month outside 1..=12");
        }
        if self.day == 0 || self.day > days_in_month(self.year, self.month) {
            return Err("has a day that does not exist in its month");
        }
        if self.hour > 23 {
            return Err("has an hour above 23");
        }
        if self.minute > 59 {
            return Err("has a minute above 59");
        }
        // 60 is a leap second; it is counted as the first second of the next minute.
        if self.second > 60 {
            return Err("has a second above 60");
        }
        Ok(())
    }

    fn to_stamp(&self, offset_minutes: i16, micros: i64) -> Stamp {
        let local_seconds = days_from_civil(self.year, self.month, self.day) * SECONDS_PER_DAY
            + i64::from(self.hour) * 3_600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        let utc_seconds = local_seconds - i64::from(offset_minutes) * 60;
        Stamp {
            unix_micros: utc_seconds * 1_000_000 + micros,
            offset_minutes,
        }
    }
}

fn digit(byte: u8) -> Option<u32> {
    byte.is_ascii_digit().then(|| u32::from(byte - b'0'))
}

fn two_digits(high: u8, low: u8) -> Option<u32> {
    Some(digit(high)? * 10 + digit(low)?)
}

fn four_digits(bytes: [u8; 4]) -> Option<i64> {
    let [a, b, c, d] = bytes;
    Some(i64::from(two_digits(a, b)? * 100 + two_digits(c, d)?))
}

/// `+hh` `mm` as signed minutes; hours up to 23 cover every zone in use (−12:00 to +14:00) and
/// then some.
fn offset(sign: u8, hours: (u8, u8), minutes: (u8, u8)) -> Result<i16, &'static str> {
    const SHAPE: &str = "has a zone offset that is not like +hhmm";
    let sign = match sign {
        b'+' => 1,
        b'-' => -1,
        _ => return Err(SHAPE),
    };
    let hours = two_digits(hours.0, hours.1).ok_or(SHAPE)?;
    let minutes = two_digits(minutes.0, minutes.1).ok_or(SHAPE)?;
    if hours > 23 || minutes > 59 {
        return Err("has a zone offset out of range");
    }
    // At most 23 * 60 + 59, which fits.
    Ok(sign * (hours * 60 + minutes) as i16)
}

fn month_number(name: [u8; 3]) -> Option<u32> {
    Some(match &name {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// `dd/Mon/yyyy:HH:MM:SS +hhmm`, exactly as Apache's `%t` and nginx's `$time_local` write it
/// (without the brackets).
#[inline]
pub(crate) fn parse_clf(bytes: &[u8]) -> Result<Stamp, &'static str> {
    const SHAPE: &str = "is not like dd/Mon/yyyy:HH:MM:SS +hhmm";
    let b: &[u8; 26] = bytes.try_into().map_err(|_| SHAPE)?;
    // Every line goes through here, so the fixed layout is checked in bulk, with one branch for
    // all the digits and one for all the separators, rather than field by field.
    let d = |at: usize| u32::from(b[at].wrapping_sub(b'0'));
    let digits = [
        d(0),
        d(1),
        d(7),
        d(8),
        d(9),
        d(10),
        d(12),
        d(13),
        d(15),
        d(16),
        d(18),
        d(19),
        d(22),
        d(23),
        d(24),
        d(25),
    ];
    let separators = [b[2], b[6], b[11], b[14], b[17], b[20]];
    // A digit is at most 9, so `digit + 6` fits in four bits exactly when it is one; OR-ing
    // them all keeps the check free of branches and of a serial chain of comparisons.
    let any_non_digit = digits.iter().fold(0, |bits, &digit| bits | (digit + 6)) > 0xF;
    if any_non_digit || separators != *b"//::: " {
        return Err(SHAPE);
    }
    let [d0, d1, y0, y1, y2, y3, h0, h1, m0, m1, s0, s1, oh0, oh1, om0, om1] = digits;
    let local = Local {
        day: d0 * 10 + d1,
        month: month_number([b[3], b[4], b[5]]).ok_or("has an unknown month name")?,
        year: i64::from(y0 * 1000 + y1 * 100 + y2 * 10 + y3),
        hour: h0 * 10 + h1,
        minute: m0 * 10 + m1,
        second: s0 * 10 + s1,
    };
    let sign = match b[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return Err(SHAPE),
    };
    let (offset_hours, offset_minutes) = (oh0 * 10 + oh1, om0 * 10 + om1);
    if offset_hours > 23 || offset_minutes > 59 {
        return Err("has a zone offset out of range");
    }
    // At most 23 * 60 + 59, which fits.
    let offset = sign * (offset_hours * 60 + offset_minutes) as i16;
    local.check()?;
    Ok(local.to_stamp(offset, 0))
}

/// RFC 3339 (`2019-02-07T20:31:00.123+05:30`, `...Z`), which is what nginx's `$time_iso8601` and
/// most JSON loggers write. A space instead of `T` and an offset without its colon are accepted
/// too, since both are common; a missing zone is not, because the instant would be a guess.
pub(crate) fn parse_rfc3339(bytes: &[u8]) -> Result<Stamp, &'static str> {
    const SHAPE: &str = "is not like 2000-10-10T13:55:36-07:00";
    let (head, rest) = bytes.split_at_checked(19).ok_or(SHAPE)?;
    let b: &[u8; 19] = head.try_into().map_err(|_| SHAPE)?;
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return Err(SHAPE);
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return Err(SHAPE);
    }
    let local = Local {
        year: four_digits([b[0], b[1], b[2], b[3]]).ok_or(SHAPE)?,
        month: two_digits(b[5], b[6]).ok_or(SHAPE)?,
        day: two_digits(b[8], b[9]).ok_or(SHAPE)?,
        hour: two_digits(b[11], b[12]).ok_or(SHAPE)?,
        minute: two_digits(b[14], b[15]).ok_or(SHAPE)?,
        second: two_digits(b[17], b[18]).ok_or(SHAPE)?,
    };

    let (micros, zone) = match rest {
        [b'.' | b',', fraction @ ..] => {
            let digits = fraction
                .iter()
                .position(|byte| !byte.is_ascii_digit())
                .unwrap_or(fraction.len());
            if digits == 0 {
                return Err(SHAPE);
            }
            let mut micros = 0i64;
            for position in 0..6 {
                let value = match fraction.get(position) {
                    Some(byte) if position < digits => byte - b'0',
                    _ => 0,
                };
                micros = micros * 10 + i64::from(value);
            }
            (micros, fraction.get(digits..).unwrap_or_default())
        }
        _ => (0, rest),
    };
    let offset = match *zone {
        [b'Z' | b'z'] => 0,
        [sign, h1, h2, b':', m1, m2] | [sign, h1, h2, m1, m2] => offset(sign, (h1, h2), (m1, m2))?,
        [] => return Err("has no zone offset (add Z or +hh:mm)"),
        _ => return Err(SHAPE),
    };
    local.check()?;
    Ok(local.to_stamp(offset, micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clf(text: &str) -> Result<Stamp, &'static str> {
        parse_clf(text.as_bytes())
    }

    fn rfc(text: &str) -> Result<Stamp, &'static str> {
        parse_rfc3339(text.as_bytes())
    }

    fn stamp(unix_seconds: i64, offset_minutes: i16) -> Stamp {
        Stamp {
            unix_micros: unix_seconds * 1_000_000,
            offset_minutes,
        }
    }

    #[test]
    fn known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        assert_eq!(days_from_civil(1900, 3, 1), -25_508);
        assert_eq!(days_from_civil(0, 1, 1), -719_528);
        assert_eq!(days_from_civil(9999, 12, 31), 2_932_896);
    }

    #[test]
    fn civil_from_days_inverts_days_from_civil() {
        for days in (-800_000..3_000_000).step_by(997) {
            let (year, month, day) = civil_from_days(days);
            assert!((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month));
            assert_eq!(days_from_civil(year, month, day), days);
        }
    }

    #[test]
    fn leap_years() {
        assert!(is_leap_year(2000));
        assert!(is_leap_year(2024));
        assert!(!is_leap_year(1900));
        assert!(!is_leap_year(2023));
        assert!(!is_leap_year(2100));
    }

    #[test]
    fn apache_documentation_example() {
        // 2000-10-10T20:55:36Z
        assert_eq!(
            clf("10/Oct/2000:13:55:36 -0700"),
            Ok(stamp(971_211_336, -420))
        );
    }

    #[test]
    fn every_kind_of_zone_offset() {
        let utc = 1_549_573_860; // 2019-02-07T21:11:00Z
        assert_eq!(clf("07/Feb/2019:21:11:00 +0000"), Ok(stamp(utc, 0)));
        assert_eq!(clf("08/Feb/2019:02:41:00 +0530"), Ok(stamp(utc, 330)));
        assert_eq!(clf("07/Feb/2019:09:11:00 -1200"), Ok(stamp(utc, -720)));
        assert_eq!(clf("08/Feb/2019:11:11:00 +1400"), Ok(stamp(utc, 840)));
        assert_eq!(clf("07/Feb/2019:17:41:00 -0330"), Ok(stamp(utc, -210)));
        assert_eq!(clf("07/Feb/2019:21:11:00 -0000"), Ok(stamp(utc, 0)));
    }

    #[test]
    fn leap_days() {
        assert_eq!(
            clf("29/Feb/2024:00:00:00 +0000"),
            Ok(stamp(1_709_164_800, 0))
        );
        assert_eq!(clf("29/Feb/2000:12:00:00 +0000"), Ok(stamp(951_825_600, 0)));
        let no_such_day = Err("has a day that does not exist in its month");
        assert_eq!(clf("29/Feb/2023:00:00:00 +0000"), no_such_day);
        assert_eq!(clf("29/Feb/1900:00:00:00 +0000"), no_such_day);
        assert_eq!(clf("31/Apr/2023:00:00:00 +0000"), no_such_day);
        assert_eq!(clf("00/Jan/2023:00:00:00 +0000"), no_such_day);
        assert_eq!(clf("32/Jan/2023:00:00:00 +0000"), no_such_day);
    }

    #[test]
    fn crossing_midnight_and_year_with_the_offset() {
        // Local New Year's Eve in UTC-05:00 is already the next year in UTC.
        assert_eq!(
            clf("31/Dec/2023:23:30:00 -0500"),
            Ok(stamp(1_704_083_400, -300))
        );
        // Before the epoch.
        assert_eq!(clf("31/Dec/1969:23:59:59 +0000"), Ok(stamp(-1, 0)));
    }

    #[test]
    fn leap_second_rolls_into_the_next_minute() {
        assert_eq!(
            clf("31/Dec/2016:23:59:60 +0000"),
            clf("01/Jan/2017:00:00:00 +0000")
        );
    }

    #[test]
    fn out_of_range_fields_are_named() {
        assert_eq!(
            clf("10/Foo/2000:13:55:36 -0700"),
            Err("has an unknown month name")
        );
        assert_eq!(
            clf("10/oct/2000:13:55:36 -0700"),
            Err("has an unknown month name")
        );
        assert_eq!(
            clf("10/Oct/2000:24:00:00 -0700"),
            Err("has an hour above 23")
        );
        assert_eq!(
            clf("10/Oct/2000:13:60:36 -0700"),
            Err("has a minute above 59")
        );
        assert_eq!(
            clf("10/Oct/2000:13:55:61 -0700"),
            Err("has a second above 60")
        );
        assert_eq!(
            clf("10/Oct/2000:13:55:36 -2400"),
            Err("has a zone offset out of range")
        );
        assert_eq!(
            clf("10/Oct/2000:13:55:36 +0060"),
            Err("has a zone offset out of range")
        );
    }

    #[test]
    fn malformed_clf_times() {
        for bad in [
            "",
            "10/Oct/2000:13:55:36",
            "10/Oct/2000:13:55:36 0700",
            "10/Oct/2000:13:55:36 +07:00",
            "1/Oct/2000:13:55:36 -0700 ",
            "10-Oct-2000:13:55:36 -0700",
            "10/Oct/2000 13:55:36 -0700",
            "1a/Oct/2000:13:55:36 -0700",
            "10/Oct/2000:13:55:36 -07a0",
            "10/Oct/2000:13:55:36.123 -07",
        ] {
            assert!(clf(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rfc3339_offsets_and_fractions() {
        let utc = 1_549_573_860;
        assert_eq!(rfc("2019-02-07T21:11:00Z"), Ok(stamp(utc, 0)));
        assert_eq!(rfc("2019-02-07t21:11:00z"), Ok(stamp(utc, 0)));
        assert_eq!(rfc("2019-02-07T21:11:00+00:00"), Ok(stamp(utc, 0)));
        assert_eq!(rfc("2019-02-08T02:41:00+05:30"), Ok(stamp(utc, 330)));
        assert_eq!(rfc("2019-02-07T14:11:00-0700"), Ok(stamp(utc, -420)));
        assert_eq!(rfc("2019-02-07 21:11:00Z"), Ok(stamp(utc, 0)));
        let with_fraction = |micros| Stamp {
            unix_micros: utc * 1_000_000 + micros,
            offset_minutes: 0,
        };
        assert_eq!(rfc("2019-02-07T21:11:00.5Z"), Ok(with_fraction(500_000)));
        assert_eq!(rfc("2019-02-07T21:11:00.123Z"), Ok(with_fraction(123_000)));
        assert_eq!(
            rfc("2019-02-07T21:11:00.123456789Z"),
            Ok(with_fraction(123_456))
        );
        assert_eq!(
            rfc("2019-02-07T21:11:00,25+00:00"),
            Ok(with_fraction(250_000))
        );
    }

    #[test]
    fn malformed_rfc3339_times() {
        assert_eq!(
            rfc("2019-02-07T21:11:00"),
            Err("has no zone offset (add Z or +hh:mm)")
        );
        assert_eq!(
            rfc("2019-02-29T21:11:00Z"),
            Err("has a day that does not exist in its month")
        );
        assert_eq!(
            rfc("2019-13-07T21:11:00Z"),
            Err("has a month outside 1..=12")
        );
        for bad in [
            "",
            "2019-02-07",
            "2019-02-07T21:11Z",
            "2019/02/07T21:11:00Z",
            "2019-02-07T21:11:00.Z",
            "2019-02-07T21:11:00+5:30",
            "2019-02-07T21:11:00+05:30 ",
            "2019-02-07T21:11:00ZZ",
            "2019-02-07X21:11:00Z",
        ] {
            assert!(rfc(bad).is_err(), "{bad}");
        }
    }
}
