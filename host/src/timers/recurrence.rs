//! `recurring_patterns`: cron expressions, one per line, in a timezone
//! (packages.md §6.3). The next occurrence is the earliest over all
//! patterns; croner defines what happens across DST changes (a time that
//! does not exist is skipped, a repeated hour fires once).

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use std::str::FromStr;

/// Why a timer's recurrence cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecurrenceError {
    /// The timezone is not an IANA name.
    #[error("'recurring_timezone' ({0}) is not a valid timezone. Format like: America/Los_Angeles")]
    Timezone(String),
    /// A pattern line does not parse.
    #[error(
        "'recurring_patterns' line {line} ({pattern}) is not a valid cron expression: {reason}"
    )]
    Pattern {
        line: usize,
        pattern: String,
        reason: String,
    },
}

/// The pattern lines that count: blank lines and `#` comments are skipped.
pub fn pattern_lines(patterns: &str) -> impl Iterator<Item = (usize, &str)> {
    patterns
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// The timezone a timer's patterns are read in (empty: `default_tz`).
pub fn timezone(name: &str, default_tz: Tz) -> Result<Tz, RecurrenceError> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(default_tz);
    }
    Tz::from_str(name).map_err(|_| RecurrenceError::Timezone(name.to_string()))
}

/// Checks every pattern line and the timezone.
pub fn validate(patterns: &str, tz: &str) -> Result<(), RecurrenceError> {
    timezone(tz, Tz::UTC)?;
    for (line, pattern) in pattern_lines(patterns) {
        parse(line, pattern)?;
    }
    Ok(())
}

fn parse(line: usize, pattern: &str) -> Result<Cron, RecurrenceError> {
    Cron::from_str(pattern).map_err(|e| RecurrenceError::Pattern {
        line,
        pattern: pattern.to_string(),
        reason: e.to_string(),
    })
}

/// The earliest occurrence of any pattern strictly after `after` (Unix
/// seconds), in the timer's timezone. `Ok(None)`: no line yields one (no
/// patterns, or none ever matches again).
pub fn next_occurrence(
    patterns: &str,
    tz: &str,
    default_tz: Tz,
    after: i64,
) -> Result<Option<i64>, RecurrenceError> {
    let zone = timezone(tz, default_tz)?;
    let Some(start) = DateTime::<Utc>::from_timestamp(after, 0) else {
        return Ok(None);
    };
    let start = zone.from_utc_datetime(&start.naive_utc());
    let mut earliest: Option<i64> = None;
    for (line, pattern) in pattern_lines(patterns) {
        let cron = parse(line, pattern)?;
        if let Ok(next) = cron.find_next_occurrence(&start, false) {
            let ts = next.timestamp();
            earliest = Some(earliest.map_or(ts, |e| e.min(ts)));
        }
    }
    Ok(earliest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .earliest()
            .map(|t| t.timestamp())
            .unwrap_or_default()
    }

    #[test]
    fn the_earliest_line_wins_and_comments_are_skipped() {
        let patterns = "# nightly\n0 3 * * *\n\n30 1 * * *\n";
        let now = at(Tz::UTC, 2026, 12, 6, 0, 0);
        let next = next_occurrence(patterns, "", Tz::UTC, now);
        assert_eq!(next, Ok(Some(at(Tz::UTC, 2026, 12, 6, 1, 30))));
    }

    #[test]
    fn an_occurrence_is_strictly_after_the_start() {
        let now = at(Tz::UTC, 2026, 12, 6, 3, 0);
        let next = next_occurrence("0 3 * * *", "UTC", Tz::UTC, now);
        assert_eq!(next, Ok(Some(at(Tz::UTC, 2026, 12, 7, 3, 0))));
    }

    #[test]
    fn patterns_are_read_in_the_timers_timezone() {
        let ny: Tz = "America/New_York".parse().expect("zone");
        // 15:00 UTC is 10:00 in New York: 09:00 there is tomorrow, 14:00 UTC.
        let now = at(Tz::UTC, 2026, 12, 6, 15, 0);
        let next = next_occurrence("0 9 * * *", "America/New_York", Tz::UTC, now);
        assert_eq!(next, Ok(Some(at(ny, 2026, 12, 7, 9, 0))));
        assert_eq!(next, Ok(Some(at(Tz::UTC, 2026, 12, 7, 14, 0))));
    }

    #[test]
    fn bad_timezones_and_patterns_are_named() {
        assert_eq!(
            validate("* * * * *", "Mars/Olympus").map_err(|e| e.to_string()),
            Err("'recurring_timezone' (Mars/Olympus) is not a valid timezone. Format like: America/Los_Angeles".into())
        );
        let err = validate("# ok\n* * * * *\nnot a cron", "").expect_err("line 3");
        assert!(
            matches!(err, RecurrenceError::Pattern { line: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn no_pattern_lines_means_no_occurrence() {
        assert_eq!(next_occurrence("# none\n\n", "", Tz::UTC, 0), Ok(None));
    }
}
