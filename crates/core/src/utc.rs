//! UTC calendar dates of Unix timestamps, as JavaScript's `Date` writes
//! them: the TC3 signature's date, and the times the token engine keeps
//! (an authorization's revocation, in the store).

/// `new Date(ts * 1000).toISOString()` for years 0..=9999.
pub(crate) fn iso8601(timestamp: i64) -> String {
    let s = timestamp.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}.000Z",
        date(timestamp),
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// `new Date(ts * 1000).toISOString().split('T')[0]` for years 0..=9999.
pub(crate) fn date(timestamp: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = timestamp.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    if !(0..=9999).contains(&y) {
        return format!("{y:04}-{m:02}-{d:02}");
    }
    // Written digit by digit: `format!` cost more than the arithmetic
    // above, and every cloud call signs with this date (and the emulator
    // verifies with it).
    let digit = |n: i64, div: i64| b'0' + (n / div % 10) as u8;
    let text = [
        digit(y, 1000),
        digit(y, 100),
        digit(y, 10),
        digit(y, 1),
        b'-',
        digit(m, 10),
        digit(m, 1),
        b'-',
        digit(d, 10),
        digit(d, 1),
    ];
    text.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_795_805_473), "2026-11-27");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(date(253_402_300_799), "9999-12-31");
        assert_eq!(date(-62_167_219_200), "0000-01-01");
        // Outside years 0..=9999, as `format!` writes them.
        assert_eq!(date(253_402_300_800), "10000-01-01");
        assert_eq!(date(-62_167_219_201), "-001-12-31");
        let _ = date(i64::MIN);
        let _ = date(i64::MAX);
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_795_805_473), "2026-11-27T18:51:13.000Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.000Z");
    }
}
