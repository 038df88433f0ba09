//! Date strings (PHP `strtotime`, scripting.md Appendix B) through the
//! shared parser `katabox_value::date::strtotime`, plus the zone a string
//! names (for the `date` filter's `timezone=false`).

use crate::library::datetime::Zone;
use katabox_value::date::strtotime;
use regex::Regex;
use std::sync::LazyLock;

/// A trailing explicit offset or `Z` after a time (`…10:00:00+05:00`).
static TRAILING_ZONE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(z|utc|gmt|[+-]\d{1,2}(?::?\d{2})?)$")
        .ok()
});

/// `+05:00`, `+0500`, `-05` or `Z` → seconds east of UTC.
pub fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") || s.eq_ignore_ascii_case("gmt")
    {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 => (
            digits[..1].parse::<i32>().ok()?,
            digits[1..].parse::<i32>().ok()?,
        ),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// Runs the shared parser in `zone` (fixed offsets by shifting to UTC).
fn run(text: &str, now: i64, zone: Zone) -> Option<i64> {
    match zone {
        Zone::Named(tz) => strtotime(text, now, tz.name()),
        Zone::Fixed(off) => {
            let off = i64::from(off);
            let shifted = strtotime(text, now.checked_add(off)?, "UTC")?;
            // An explicit zone in the text already gave an absolute instant.
            if TRAILING_ZONE
                .as_ref()
                .is_some_and(|re| re.is_match(text.trim()))
            {
                Some(shifted)
            } else {
                shifted.checked_sub(off)
            }
        }
    }
}

/// Parses a date string relative to `now` in `zone`; the zone is returned
/// when the string names an offset.
pub fn parse(text: &str, now: i64, zone: Zone) -> Option<(i64, Option<Zone>)> {
    let t = text.trim();
    let ts = run(t, now, zone)?;
    if t.starts_with('@') {
        return Some((ts, Some(Zone::Fixed(0))));
    }
    let named = TRAILING_ZONE
        .as_ref()
        .and_then(|re| re.captures(t))
        .and_then(|c| c.get(1))
        .and_then(|m| parse_offset(m.as_str()))
        .map(Zone::Fixed);
    Some((ts, named))
}

/// Applies a relative modifier to `base` in `zone`.
pub fn modify(text: &str, base: i64, zone: Zone) -> Option<i64> {
    run(text.trim(), base, zone)
}
