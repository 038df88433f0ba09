//! The DateTime object (from `date()` / `date_modify`), conversion of
//! values to date-times (scripting.md §7.1.1) and PHP `date()` formatting
//! (Appendix A).

use crate::callable::{CallError, Env};
use crate::library::date_parse;
use crate::library::util::{self, is_markup_class};
use chrono::{Datelike, FixedOffset, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::{OffsetComponents, OffsetName, Tz};
use katabox_value::{Array, Object, PStr, Value};
use std::any::Any;
use std::sync::Arc;

/// A time zone: a named IANA zone or a fixed UTC offset (seconds east).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    /// An IANA zone.
    Named(Tz),
    /// A fixed offset from an explicit `+05:00` in a date string.
    Fixed(i32),
}

impl Zone {
    /// Looks a zone up by name (case-insensitive), as `DateTimeZone` does.
    pub fn parse(name: &str) -> Option<Zone> {
        if name.eq_ignore_ascii_case("utc") || name.eq_ignore_ascii_case("z") {
            return Some(Zone::Named(Tz::UTC));
        }
        if let Ok(tz) = name.parse::<Tz>() {
            return Some(Zone::Named(tz));
        }
        if let Ok(tz) = Tz::from_str_insensitive(name) {
            return Some(Zone::Named(tz));
        }
        date_parse::parse_offset(name).map(Zone::Fixed)
    }

    /// The zone's UTC offset (seconds) at a Unix time.
    pub fn offset_at(&self, ts: i64) -> i32 {
        match self {
            Zone::Fixed(o) => *o,
            Zone::Named(tz) => tz
                .offset_from_utc_datetime(&naive_utc(ts))
                .fix()
                .local_minus_utc(),
        }
    }

    fn name(&self) -> String {
        match self {
            Zone::Named(tz) => tz.name().to_string(),
            Zone::Fixed(o) => offset_text(*o, true),
        }
    }
}

fn naive_utc(ts: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .naive_utc()
}

/// Instants outside chrono's range are clamped to this (±100,000 years).
const TS_LIMIT: i64 = 3_000_000_000_000;

/// A PHP DateTime: an instant and the zone it is shown in.
#[derive(Debug, Clone, PartialEq)]
pub struct DateTime {
    /// Unix seconds.
    pub ts: i64,
    /// The display zone.
    pub zone: Zone,
}

impl DateTime {
    /// A date-time at `ts` in `zone`.
    pub fn new(ts: i64, zone: Zone) -> DateTime {
        DateTime {
            ts: ts.clamp(-TS_LIMIT, TS_LIMIT),
            zone,
        }
    }

    /// Wraps it as a value.
    pub fn into_value(self) -> Value {
        Value::Object(Arc::new(self))
    }

    /// The DateTime inside a value, if any.
    pub fn from_value(v: &Value) -> Option<&DateTime> {
        match v {
            Value::Object(o) => o.as_any().downcast_ref::<DateTime>(),
            _ => None,
        }
    }

    /// Local wall-clock time.
    fn local(&self) -> NaiveDateTime {
        naive_utc(
            self.ts
                .saturating_add(i64::from(self.zone.offset_at(self.ts))),
        )
    }

    /// Formats with PHP's `date()` format characters.
    pub fn format(&self, fmt: &[u8]) -> String {
        format_date(self, fmt)
    }
}

impl Object for DateTime {
    fn class_name(&self) -> &str {
        "DateTime"
    }
    fn to_json_value(&self) -> Value {
        let mut a = Array::new();
        a.insert("date", Value::str(self.format(b"Y-m-d H:i:s.u")));
        let tz_type = match self.zone {
            Zone::Fixed(_) => 1,
            Zone::Named(_) => 3,
        };
        a.insert("timezone_type", Value::Int(tz_type));
        a.insert("timezone", Value::str(self.zone.name()));
        Value::array(a)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `+hh:mm` (colon) or `+hhmm`.
fn offset_text(off: i32, colon: bool) -> String {
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.unsigned_abs();
    if colon {
        format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
    } else {
        format!("{sign}{:02}{:02}", a / 3600, (a % 3600) / 60)
    }
}

/// The zone to convert into: `None`/null → default, string → that zone,
/// `false` → keep the input's zone.
fn target_zone(env: &dyn Env, tz: Option<&Value>) -> Result<Option<Zone>, CallError> {
    match tz {
        None | Some(Value::Null) => default_zone(env).map(Some),
        Some(Value::Bool(false)) => Ok(None),
        Some(v) => {
            let name = util::to_str(v)?;
            let name = name.to_string_lossy();
            Zone::parse(&name).map(Some).ok_or_else(|| {
                CallError::Exception(format!(
                    "DateTimeZone::__construct(): Unknown or bad timezone ({name})"
                ))
            })
        }
    }
}

/// The environment's default zone (UTC when it is not a known zone).
pub fn default_zone(env: &dyn Env) -> Result<Zone, CallError> {
    Ok(Zone::parse(env.timezone()).unwrap_or(Zone::Named(Tz::UTC)))
}

/// Converts a value to a DateTime (§7.1.1) in the timezone `tz`.
pub fn to_datetime(env: &dyn Env, v: &Value, tz: Option<&Value>) -> Result<DateTime, CallError> {
    let target = target_zone(env, tz)?;
    let default = default_zone(env)?;
    let base = match v {
        Value::Object(o) if !is_markup_class(o.class_name()) => match DateTime::from_value(v) {
            Some(d) => d.clone(),
            None => parse_text(env, &util::to_str(v)?, default)?,
        },
        Value::Null => DateTime::new(env.now(), default),
        Value::Int(i) => DateTime::new(*i, Zone::Named(Tz::UTC)),
        Value::Bool(false) => DateTime::new(env.now(), default),
        Value::Bool(true) => DateTime::new(1, Zone::Named(Tz::UTC)),
        other => {
            let text = util::to_str(other)?;
            parse_text(env, &text, default)?
        }
    };
    Ok(match target {
        Some(z) => DateTime::new(base.ts, z),
        None => base,
    })
}

fn is_timestamp(b: &[u8]) -> bool {
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

fn parse_text(env: &dyn Env, text: &PStr, default: Zone) -> Result<DateTime, CallError> {
    let b = text.as_bytes();
    if is_timestamp(b) {
        let ts = std::str::from_utf8(b)
            .ok()
            .and_then(|t| t.parse::<i64>().ok())
            .unwrap_or(if b.first() == Some(&b'-') {
                -TS_LIMIT
            } else {
                TS_LIMIT
            });
        return Ok(DateTime::new(ts, Zone::Named(Tz::UTC)));
    }
    let t = text.to_string_lossy();
    if t.is_empty() || t.eq_ignore_ascii_case("now") {
        return Ok(DateTime::new(env.now(), default));
    }
    match date_parse::parse(&t, env.now(), default) {
        Some((ts, zone)) => Ok(DateTime::new(ts, zone.unwrap_or(default))),
        None => Err(parse_failure(&t)),
    }
}

/// PHP's exception text for an unparseable date string.
pub fn parse_failure(text: &str) -> CallError {
    let first = text.chars().next().unwrap_or(' ');
    CallError::Exception(format!(
        "Failed to parse time string ({text}) at position 0 ({first}): The timezone could not be found in the database"
    ))
}

/// Applies a relative modifier (`+1 month`) to a date-time.
pub fn modify(env: &dyn Env, d: &DateTime, modifier: &str) -> Result<DateTime, CallError> {
    let zone_name = d.zone.name();
    match date_parse::modify(modifier, d.ts, d.zone) {
        Some(ts) => Ok(DateTime::new(ts, d.zone)),
        None => {
            let _ = (env, zone_name);
            let first = modifier.chars().next().unwrap_or(' ');
            Err(CallError::Exception(format!(
                "DateTime::modify(): Failed to parse time string ({modifier}) at position 0 ({first}): The timezone could not be found in the database"
            )))
        }
    }
}

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn abbreviation(d: &DateTime) -> String {
    match d.zone {
        Zone::Fixed(o) => offset_text(o, true),
        Zone::Named(tz) => {
            let off = tz.offset_from_utc_datetime(&naive_utc(d.ts));
            match off.abbreviation() {
                Some(a) if a.starts_with('+') || a.starts_with('-') => a.to_string(),
                Some(a) => a.to_string(),
                None => offset_text(off.fix().local_minus_utc(), false),
            }
        }
    }
}

fn is_dst(d: &DateTime) -> bool {
    match d.zone {
        Zone::Fixed(_) => false,
        Zone::Named(tz) => {
            let off = tz.offset_from_utc_datetime(&naive_utc(d.ts));
            off.dst_offset().num_seconds() != 0
        }
    }
}

fn format_date(d: &DateTime, fmt: &[u8]) -> String {
    let l = d.local();
    let off = d.zone.offset_at(d.ts);
    let mut out = String::new();
    let mut i = 0;
    let weekday0 = l.weekday().num_days_from_monday() as usize;
    let hour12 = match l.hour() % 12 {
        0 => 12,
        h => h,
    };
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        match c {
            b'd' => out.push_str(&format!("{:02}", l.day())),
            b'D' => out.push_str(&DAYS[weekday0][..3]),
            b'j' => out.push_str(&l.day().to_string()),
            b'l' => out.push_str(DAYS[weekday0]),
            b'N' => out.push_str(&(weekday0 + 1).to_string()),
            b'S' => out.push_str(match l.day() {
                1 | 21 | 31 => "st",
                2 | 22 => "nd",
                3 | 23 => "rd",
                _ => "th",
            }),
            b'w' => out.push_str(&l.weekday().num_days_from_sunday().to_string()),
            b'z' => out.push_str(&(l.ordinal0()).to_string()),
            b'W' => out.push_str(&format!("{:02}", l.iso_week().week())),
            b'F' => out.push_str(MONTHS[l.month0() as usize]),
            b'm' => out.push_str(&format!("{:02}", l.month())),
            b'M' => out.push_str(&MONTHS[l.month0() as usize][..3]),
            b'n' => out.push_str(&l.month().to_string()),
            b't' => out.push_str(&days_in_month(l.year(), l.month()).to_string()),
            b'L' => out.push_str(if is_leap(l.year()) { "1" } else { "0" }),
            b'o' => out.push_str(&l.iso_week().year().to_string()),
            b'Y' => {
                let y = l.year();
                if y < 0 {
                    out.push_str(&format!("-{:04}", -y));
                } else {
                    out.push_str(&format!("{y:04}"));
                }
            }
            b'y' => out.push_str(&format!("{:02}", l.year().rem_euclid(100))),
            b'a' => out.push_str(if l.hour() < 12 { "am" } else { "pm" }),
            b'A' => out.push_str(if l.hour() < 12 { "AM" } else { "PM" }),
            b'B' => {
                let secs = (d.ts + 3600).rem_euclid(86400);
                out.push_str(&format!("{:03}", (secs * 10 / 864) % 1000));
            }
            b'g' => out.push_str(&hour12.to_string()),
            b'G' => out.push_str(&l.hour().to_string()),
            b'h' => out.push_str(&format!("{hour12:02}")),
            b'H' => out.push_str(&format!("{:02}", l.hour())),
            b'i' => out.push_str(&format!("{:02}", l.minute())),
            b's' => out.push_str(&format!("{:02}", l.second())),
            b'u' => out.push_str("000000"),
            b'v' => out.push_str("000"),
            b'e' => out.push_str(&d.zone.name()),
            b'I' => out.push_str(if is_dst(d) { "1" } else { "0" }),
            b'O' => out.push_str(&offset_text(off, false)),
            b'P' => out.push_str(&offset_text(off, true)),
            b'p' => {
                if off == 0 {
                    out.push('Z');
                } else {
                    out.push_str(&offset_text(off, true));
                }
            }
            b'T' => out.push_str(&abbreviation(d)),
            b'Z' => out.push_str(&off.to_string()),
            b'c' => out.push_str(&format_date(d, b"Y-m-d\\TH:i:sP")),
            b'r' => out.push_str(&format_date(d, b"D, d M Y H:i:s O")),
            b'U' => out.push_str(&d.ts.to_string()),
            b'\\' => {
                if i < fmt.len() {
                    push_char_at(&mut out, fmt, &mut i);
                }
            }
            _ => {
                i -= 1;
                push_char_at(&mut out, fmt, &mut i);
            }
        }
    }
    out
}

/// Copies the (possibly multi-byte) character at `*i` and advances.
fn push_char_at(out: &mut String, fmt: &[u8], i: &mut usize) {
    let rest = &fmt[*i..];
    let len = util::mb_chars(rest).first().map_or(1, |c| c.len());
    out.push_str(&String::from_utf8_lossy(&rest[..len]));
    *i += len;
}

/// A fixed-offset chrono zone for an offset in seconds.
pub fn fixed(off: i32) -> FixedOffset {
    FixedOffset::east_opt(off)
        .unwrap_or_else(|| FixedOffset::east_opt(0).unwrap_or(chrono::Utc.fix()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::TestEnv;

    fn fmt(v: Value, f: &str, tz: Option<Value>) -> String {
        let env = TestEnv::default();
        match to_datetime(&env, &v, tz.as_ref()) {
            Ok(d) => d.format(f.as_bytes()),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn appendix_a_all_characters() {
        assert_eq!(
            fmt(
                Value::Int(1_700_000_000),
                "D, d M Y H:i:s T e P O U u v N j n y a A g G h H i s S t L W z F l M",
                None
            ),
            "Tue, 14 Nov 2023 22:13:20 UTC UTC +00:00 +0000 1700000000 000000 000 2 14 11 23 pm PM 10 22 10 22 13 20 th 30 0 46 317 November Tuesday Nov"
        );
    }

    #[test]
    fn zones_and_timestamps() {
        assert_eq!(
            fmt(Value::Int(0), "Y-m-d H:i:s", None),
            "1970-01-01 00:00:00"
        );
        assert_eq!(
            fmt(Value::str("0"), "F j, Y H:i", None),
            "January 1, 1970 00:00"
        );
        assert_eq!(
            fmt(
                Value::Int(1_700_000_000),
                "c",
                Some(Value::str("America/Los_Angeles"))
            ),
            "2023-11-14T14:13:20-08:00"
        );
        assert_eq!(
            fmt(
                Value::Int(1_700_000_000),
                "T",
                Some(Value::str("America/Los_Angeles"))
            ),
            "PST"
        );
        assert_eq!(fmt(Value::str("-86400"), "Y-m-d", None), "1969-12-31");
        assert_eq!(
            fmt(Value::Int(1_700_000_000), "Y-m-d\\TH:i", None),
            "2023-11-14T22:13"
        );
        assert!(
            fmt(Value::Int(0), "c", Some(Value::str("Bad/Zone")))
                .contains("Unknown or bad timezone (Bad/Zone)")
        );
    }

    #[test]
    fn json_shape() {
        let d = DateTime::new(1_577_836_800, Zone::Named(Tz::UTC));
        let j =
            katabox_value::json::encode(&d.into_value(), &katabox_value::json::JsonOptions::php());
        assert_eq!(
            j.as_deref(),
            Ok(r#"{"date":"2020-01-01 00:00:00.000000","timezone_type":3,"timezone":"UTC"}"#)
        );
    }
}
