//! Wall-clock time as Unix seconds, and RFC 3339 timestamps.
//!
//! Every protocol reports expiry as either Unix seconds (git) or an RFC 3339
//! UTC timestamp with a `Z` (AWS, Kubernetes, Bazel): botocore and client-go
//! both reject a timestamp without a zone. Doing the calendar arithmetic here
//! saves a date-time dependency for one function.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now. A clock before 1970 reads as 0.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// 9999-12-31T23:59:59Z, the last instant RFC 3339 can write (and botocore
/// and client-go parse): an expiry later than this is not a real answer.
pub const LATEST: u64 = 253_402_300_799;

/// The longest wait or timeout any setting may ask for: a day. Larger values
/// are mistakes, and near `u64::MAX` they overflow every clock.
pub const MAX_WAIT_SECS: u64 = 86_400;

/// The one rule for a setting in whole seconds, wherever it is given (flag,
/// variable or config): at least `least` (1 for a timeout, which at zero
/// would never connect or let a command run) and at most a day. The error
/// says what is wrong, to follow the setting's name.
pub fn seconds_rule(secs: u64, least: u64) -> Result<u64, String> {
    if secs < least {
        return Err(format!("must be at least {least} second, not {secs}"));
    }
    if secs > MAX_WAIT_SECS {
        return Err(format!(
            "is {secs} seconds: at most {MAX_WAIT_SECS} (a day) is allowed"
        ));
    }
    Ok(secs)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time in seconds, saturating at
/// [`LATEST`].
pub fn rfc3339(unix: u64) -> String {
    let unix = unix.min(LATEST);
    let days = unix / 86_400;
    let secs = unix % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A span of seconds for people: `23h 59m`, `4m 10s`, `12s`.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// The Unix time of an HTTP-date in its one current form, IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), as a `Retry-After` may be sent;
/// `None` for anything else or a date before 1970.
pub fn parse_http_date(text: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_weekday, rest) = text.trim().split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, clock, "GMT"] = parts[..] else {
        return None;
    };
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let (day, year): (u64, u64) = (day.parse().ok()?, year.parse().ok()?);
    let clock: Vec<u64> = clock
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = clock[..] else {
        return None;
    };
    if !(1..=31).contains(&day) || !(1970..=9999).contains(&year) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

/// Howard Hinnant's civil-to-days algorithm, for a date from 1970 on.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let (era, yoe) = (year / 400, year % 400);
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm, for days since 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_800), "2100-01-01T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
        assert_eq!(rfc3339(LATEST), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(u64::MAX), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn parses_http_dates() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"),
            Some(951_782_400)
        );
        assert_eq!(
            parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(LATEST)
        );
        for unix in [1_700_000_000, 4_102_444_799, 4_102_444_800] {
            let date = rfc3339(unix);
            let (ymd, hms) = date.trim_end_matches('Z').split_once('T').unwrap();
            let [y, mo, d] = ymd.split('-').collect::<Vec<_>>()[..] else {
                panic!("{date}")
            };
            let months = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            let month = months[mo.parse::<usize>().unwrap() - 1];
            let http = format!("Xxx, {d} {month} {y} {hms} GMT");
            assert_eq!(parse_http_date(&http), Some(unix), "{http}");
        }
        for bad in [
            "",
            "3600",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Xyz 1994 08:49:37 GMT",
            "Wed, 31 Dec 1969 23:59:59 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn humanises_durations() {
        assert_eq!(human_duration(12), "12s");
        assert_eq!(human_duration(250), "4m 10s");
        assert_eq!(human_duration(86_399), "23h 59m");
        assert_eq!(human_duration(90_000), "1d 1h");
    }
}
