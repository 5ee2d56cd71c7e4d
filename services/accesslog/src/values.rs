//! The small numeric fields every format shares: status, body bytes and Unix times.
//!
//! They are validated the same way whatever the format, so a status of 600 or a negative size is
//! refused with the same words whether it came from a Combined, CSV or JSON line.

use crate::text::shown;
use crate::Rejection;

/// 9999-12-31T23:59:59Z: the last second the other time formats (four-digit years) can express.
pub(crate) const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

#[inline]
pub(crate) fn status(token: &[u8]) -> Result<u16, Rejection> {
    if token.is_empty() || !token.iter().all(u8::is_ascii_digit) {
        return Err(Rejection::new(format!(
            "status `{}` is not a number",
            shown(token)
        )));
    }
    match *token {
        [a, b, c] => {
            let status = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
            if (100..=599).contains(&status) {
                Ok(status)
            } else {
                Err(status_out_of_range(token))
            }
        }
        _ => Err(status_out_of_range(token)),
    }
}

fn status_out_of_range(token: &[u8]) -> Rejection {
    Rejection::new(format!("status `{}` is outside 100..=599", shown(token)))
}

/// Body size; `-` (nothing sent, or not known) is `None`.
#[inline]
pub(crate) fn bytes(token: &[u8]) -> Result<Option<u64>, Rejection> {
    if token == b"-" {
        return Ok(None);
    }
    if token.is_empty() || !token.iter().all(u8::is_ascii_digit) {
        return Err(Rejection::new(format!(
            "bytes `{}` is not a number or `-`",
            shown(token)
        )));
    }
    token
        .iter()
        .try_fold(0u64, |total, digit| {
            total.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
        })
        .map(Some)
        .ok_or_else(|| Rejection::new(format!("bytes `{}` is too large", shown(token))))
}

/// `1549573860` or `1549573860.25` (seconds since the epoch, optionally signed and fractional)
/// as microseconds. Digits past the sixth decimal are dropped.
pub(crate) fn unix_seconds(token: &[u8]) -> Option<i64> {
    let (negative, unsigned) = match token {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, token),
    };
    let (whole, fraction) = match memchr::memchr(b'.', unsigned) {
        Some(dot) => (unsigned.get(..dot)?, Some(unsigned.get(dot + 1..)?)),
        None => (unsigned, None),
    };
    // Twelve digits already exceed MAX_UNIX_SECONDS, and bounding the length keeps the
    // arithmetic below free of overflow.
    if whole.is_empty() || whole.len() > 12 || !whole.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let seconds = whole
        .iter()
        .fold(0i64, |total, digit| total * 10 + i64::from(digit - b'0'));
    if seconds > MAX_UNIX_SECONDS {
        return None;
    }
    let mut micros = 0i64;
    if let Some(fraction) = fraction {
        if fraction.is_empty() || !fraction.iter().all(u8::is_ascii_digit) {
            return None;
        }
        for position in 0..6 {
            let digit = fraction.get(position).map_or(0, |digit| digit - b'0');
            micros = micros * 10 + i64::from(digit);
        }
    }
    let total = seconds * 1_000_000 + micros;
    Some(if negative { -total } else { total })
}

/// Whole seconds as microseconds, if within the years the other time formats can express.
pub(crate) fn unix_seconds_i64(seconds: i64) -> Option<i64> {
    (seconds.unsigned_abs() <= MAX_UNIX_SECONDS.unsigned_abs()).then(|| seconds * 1_000_000)
}

/// A JSON number of seconds as microseconds, if it is a time the other formats could express.
pub(crate) fn unix_seconds_f64(seconds: f64) -> Option<i64> {
    let limit = MAX_UNIX_SECONDS as f64;
    if seconds.is_finite() && (-limit..=limit).contains(&seconds) {
        // In range, so the cast neither saturates nor loses more than float precision.
        Some((seconds * 1e6).round() as i64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_must_be_three_digits_within_range() {
        assert_eq!(status(b"200"), Ok(200));
        assert_eq!(status(b"100"), Ok(100));
        assert_eq!(status(b"599"), Ok(599));
        assert_eq!(
            status(b"abc").unwrap_err().reason(),
            "status `abc` is not a number"
        );
        assert_eq!(
            status(b"").unwrap_err().reason(),
            "status `` is not a number"
        );
        assert_eq!(
            status(b"-1").unwrap_err().reason(),
            "status `-1` is not a number"
        );
        for outside in [&b"600"[..], b"099", b"000", b"2000", b"20", b"0200"] {
            assert!(
                status(outside)
                    .unwrap_err()
                    .reason()
                    .contains("outside 100..=599"),
                "{outside:?}"
            );
        }
    }

    #[test]
    fn bytes_accept_dash_and_refuse_garbage() {
        assert_eq!(bytes(b"-"), Ok(None));
        assert_eq!(bytes(b"0"), Ok(Some(0)));
        assert_eq!(bytes(b"2326"), Ok(Some(2326)));
        assert_eq!(bytes(b"18446744073709551615"), Ok(Some(u64::MAX)));
        assert_eq!(
            bytes(b"18446744073709551616").unwrap_err().reason(),
            "bytes `18446744073709551616` is too large"
        );
        assert_eq!(
            bytes(b"12k").unwrap_err().reason(),
            "bytes `12k` is not a number or `-`"
        );
        assert!(bytes(b"").is_err());
        assert!(bytes(b"--").is_err());
        assert!(bytes(b"-5").is_err());
    }

    #[test]
    fn unix_seconds_with_and_without_fraction() {
        assert_eq!(unix_seconds(b"1549573860"), Some(1_549_573_860_000_000));
        assert_eq!(unix_seconds(b"0"), Some(0));
        assert_eq!(unix_seconds(b"1549573860.5"), Some(1_549_573_860_500_000));
        assert_eq!(
            unix_seconds(b"1549573860.123456789"),
            Some(1_549_573_860_123_456)
        );
        assert_eq!(unix_seconds(b"-1.5"), Some(-1_500_000));
        assert_eq!(
            unix_seconds(b"253402300799"),
            Some(MAX_UNIX_SECONDS * 1_000_000)
        );
        for bad in [
            &b""[..],
            b"-",
            b".5",
            b"1.",
            b"1e9",
            b"12 3",
            b"253402300800",
            b"9999999999999",
        ] {
            assert_eq!(unix_seconds(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn integer_seconds() {
        assert_eq!(unix_seconds_i64(1), Some(1_000_000));
        assert_eq!(unix_seconds_i64(-1), Some(-1_000_000));
        assert_eq!(unix_seconds_i64(MAX_UNIX_SECONDS + 1), None);
        assert_eq!(unix_seconds_i64(i64::MIN), None);
    }

    #[test]
    fn float_seconds() {
        assert_eq!(unix_seconds_f64(1.5), Some(1_500_000));
        assert_eq!(
            unix_seconds_f64(1_549_573_860.25),
            Some(1_549_573_860_250_000)
        );
        assert_eq!(unix_seconds_f64(f64::NAN), None);
        assert_eq!(unix_seconds_f64(f64::INFINITY), None);
        assert_eq!(unix_seconds_f64(1e300), None);
    }
}
