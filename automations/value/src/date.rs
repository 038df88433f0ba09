//! PHP `strtotime` (a compatible subset, see the spec's scripting.md
//! Appendix B and kata.md §11.3): date phrases → Unix timestamps.
//!
//! The phrase is scanned left to right; each piece sets a date, a time, a
//! zone, or adds a relative offset, as PHP's parser does. Then the pieces
//! are combined in PHP's order: absolute fields (missing ones from "now"),
//! month/year offsets (with PHP's day overflow), `first/last day of`,
//! weekday moves, day and time offsets, and finally the zone.

use chrono::{NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;

/// Largest |year| handled; beyond it parsing fails instead of overflowing.
const MAX_YEAR: i64 = 1_000_000;

/// Parses a date phrase relative to `now` (Unix seconds) in `timezone`
/// (an IANA name; unknown names mean UTC). `None` when it does not parse.
pub fn strtotime(text: &str, now: i64, timezone: &str) -> Option<i64> {
    let lower = text.to_ascii_lowercase();
    let t = lower.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\0');
    if t.is_empty() || t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let default_zone = timezone
        .parse::<Tz>()
        .ok()
        .or_else(|| Tz::from_str_insensitive(timezone).ok())
        .unwrap_or(Tz::UTC);
    let mut p = Phrase::default();
    scan(t, &mut p)?;
    p.resolve(now, default_zone)
}

/// A time zone found in the phrase.
#[derive(Clone, Copy, Debug)]
enum Zone {
    /// A fixed offset east of UTC, in seconds.
    Offset(i64),
    /// A named zone.
    Named(Tz),
}

/// Relative offsets.
#[derive(Default, Debug, Clone, Copy)]
struct Rel {
    y: i64,
    m: i64,
    d: i64,
    h: i64,
    i: i64,
    s: i64,
    weekdays: i64,
}

/// What a phrase says, before it is combined.
#[derive(Default, Debug)]
struct Phrase {
    date: Option<(i64, i64, i64)>,
    /// A month (and maybe year) without a day: `January 2020`.
    month_only: Option<(Option<i64>, i64)>,
    time: Option<(i64, i64, i64)>,
    zone: Option<Zone>,
    reset_time: bool,
    rel: Rel,
    /// Weeks that came from `this/next/last week`.
    text_weeks: Option<i64>,
    /// timelib's weekday relative: (weekday, 0=Sunday, negated by `ago`;
    /// behaviour: 0 after `next`/`last`, 1 for a bare name or `this`, 2
    /// with `this/next/last week`).
    weekday: Option<(i64, i64)>,
    /// `first day of` (true) / `last day of` (false).
    first_last_day_of: Option<bool>,
    /// (n: 1..5 or -1 for last, weekday) of the month.
    nth_weekday_of: Option<(i64, i64)>,
}

const MONTHS: [(&str, i64); 23] = [
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("sept", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
];

const WEEKDAYS: [(&str, i64); 17] = [
    ("monday", 0),
    ("tuesday", 1),
    ("wednesday", 2),
    ("thursday", 3),
    ("friday", 4),
    ("saturday", 5),
    ("sunday", 6),
    ("tues", 1),
    ("thurs", 3),
    ("thur", 3),
    ("mon", 0),
    ("tue", 1),
    ("wed", 2),
    ("thu", 3),
    ("fri", 4),
    ("sat", 5),
    ("sun", 6),
];

/// Zone abbreviations (offset in hours, may be fractional via minutes).
const ZONE_ABBR: [(&str, i64); 16] = [
    ("utc", 0),
    ("gmt", 0),
    ("ut", 0),
    ("z", 0),
    ("est", -300),
    ("edt", -240),
    ("cst", -360),
    ("cdt", -300),
    ("mst", -420),
    ("mdt", -360),
    ("pst", -480),
    ("pdt", -420),
    ("cet", 60),
    ("cest", 120),
    ("bst", 60),
    ("ist", 330),
];

fn month_of(w: &str) -> Option<i64> {
    let w = w.strip_suffix('.').unwrap_or(w);
    MONTHS
        .iter()
        .find(|(n, _)| *n == w)
        .map(|(_, m)| *m)
        .or(if w == "dec" { Some(12) } else { None })
}

fn weekday_of(w: &str) -> Option<i64> {
    let w = w.strip_suffix('.').unwrap_or(w);
    WEEKDAYS.iter().find(|(n, _)| *n == w).map(|(_, d)| *d)
}

/// A relative unit: (field, multiplier).
fn unit_of(w: &str) -> Option<(char, i64)> {
    Some(match w {
        "sec" | "secs" | "second" | "seconds" => ('s', 1),
        "min" | "mins" | "minute" | "minutes" => ('i', 1),
        "hour" | "hours" => ('h', 1),
        "day" | "days" => ('d', 1),
        "week" | "weeks" => ('d', 7),
        "fortnight" | "fortnights" | "forthnight" | "forthnights" => ('d', 14),
        "month" | "months" => ('m', 1),
        "year" | "years" => ('y', 1),
        "weekday" | "weekdays" => ('w', 1),
        _ => return None,
    })
}

fn ordinal_of(w: &str) -> Option<i64> {
    Some(match w {
        "first" => 1,
        "second" => 2,
        "third" => 3,
        "fourth" => 4,
        "fifth" => 5,
        "last" | "previous" => -1,
        "next" => 1,
        _ => return None,
    })
}

/// A token of the phrase.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(String),
    Word(String),
    Punct(char),
    Space,
}

fn tokenize(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Tok::Num(chars[start..i].iter().collect()));
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphabetic() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else if c.is_whitespace() || c == ',' {
            while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
                i += 1;
            }
            out.push(Tok::Space);
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    out
}

/// A cursor over tokens.
struct Cur<'a> {
    t: &'a [Tok],
    i: usize,
}

impl Cur<'_> {
    fn peek(&self, k: usize) -> Option<&Tok> {
        self.t.get(self.i + k)
    }
    fn num(&self, k: usize) -> Option<&str> {
        match self.peek(k) {
            Some(Tok::Num(n)) => Some(n),
            _ => None,
        }
    }
    fn word(&self, k: usize) -> Option<&str> {
        match self.peek(k) {
            Some(Tok::Word(w)) => Some(w),
            _ => None,
        }
    }
    fn punct(&self, k: usize, c: char) -> bool {
        self.peek(k) == Some(&Tok::Punct(c))
    }
    fn space(&self, k: usize) -> bool {
        self.peek(k) == Some(&Tok::Space)
    }
    /// Index of the next non-space token at or after offset `k`.
    fn skip_space(&self, k: usize) -> usize {
        if self.space(k) { k + 1 } else { k }
    }
}

fn int(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().filter(|v| v.abs() < 10_000_000_000)
}

/// `HH:MM[:SS[.frac]]` at offset `k`: (h, m, s, tokens used).
fn clock(c: &Cur<'_>, k: usize) -> Option<(i64, i64, i64, usize)> {
    let h = c.num(k)?;
    if h.len() > 2 || !c.punct(k + 1, ':') {
        return None;
    }
    let m = c.num(k + 2)?;
    if m.len() != 2 {
        return None;
    }
    let mut used = 3;
    let mut s = 0;
    if c.punct(k + 3, ':')
        && let Some(sec) = c.num(k + 4)
        && sec.len() == 2
    {
        s = int(sec)?;
        used = 5;
        if (c.punct(k + 5, '.') || c.punct(k + 5, ',')) && c.num(k + 6).is_some() {
            used = 7;
        }
    }
    Some((int(h)?, int(m)?, s, used))
}

/// `am`/`pm` (also `a.m.`) at offset `k`: (is_pm, tokens used).
fn meridian(c: &Cur<'_>, k: usize) -> Option<(bool, usize)> {
    let k2 = c.skip_space(k);
    let pm = match c.word(k2)? {
        "am" => false,
        "pm" => true,
        "a" | "p" if c.punct(k2 + 1, '.') && c.word(k2 + 2) == Some("m") => {
            let used = if c.punct(k2 + 3, '.') { 4 } else { 3 };
            return Some((c.word(k2) == Some("p"), k2 - k + used));
        }
        _ => return None,
    };
    Some((pm, k2 - k + 1))
}

fn apply_meridian(h: i64, pm: bool) -> Option<i64> {
    if !(1..=12).contains(&h) {
        return None;
    }
    Some(match (h, pm) {
        (12, false) => 0,
        (12, true) => 12,
        (h, true) => h + 12,
        (h, false) => h,
    })
}

/// Parses an optional time (with optional meridian) at offset `k`;
/// returns the time and the tokens used.
fn time_at(c: &Cur<'_>, k: usize) -> Option<((i64, i64, i64), usize)> {
    if let Some((h, m, s, used)) = clock(c, k) {
        if let Some((pm, mu)) = meridian(c, k + used) {
            return Some(((apply_meridian(h, pm)?, m, s), used + mu));
        }
        if h > 23 || m > 59 || s > 60 {
            return None;
        }
        return Some(((h, m, s), used));
    }
    let h = c.num(k)?;
    if h.len() > 2 {
        return None;
    }
    let (pm, mu) = meridian(c, k + 1)?;
    Some(((apply_meridian(int(h)?, pm)?, 0, 0), 1 + mu))
}

/// A numeric zone offset `+05:00`, `+0500`, `+05` at offset `k` (which
/// holds the sign).
fn offset_at(c: &Cur<'_>, k: usize) -> Option<(i64, usize)> {
    let sign = if c.punct(k, '+') {
        1
    } else if c.punct(k, '-') {
        -1
    } else {
        return None;
    };
    let n = c.num(k + 1)?;
    let (h, m, used) = match n.len() {
        1 | 2 if c.punct(k + 2, ':') && c.num(k + 3).is_some_and(|m| m.len() == 2) => {
            (int(n)?, int(c.num(k + 3)?)?, 4)
        }
        1 | 2 => (int(n)?, 0, 2),
        3 | 4 => {
            let v = int(n)?;
            (v / 100, v % 100, 2)
        }
        _ => return None,
    };
    if h > 14 || m > 59 {
        return None;
    }
    Some((sign * (h * 3600 + m * 60), used))
}

fn scan(s: &str, p: &mut Phrase) -> Option<()> {
    let toks = tokenize(s);
    let mut c = Cur { t: &toks, i: 0 };
    while c.i < toks.len() {
        let used = step(&c, p)?;
        c.i += used.max(1);
    }
    Some(())
}

/// A four-digit (or two-digit) year.
fn year_of(n: &str) -> Option<i64> {
    let y = int(n)?;
    match n.len() {
        4 => Some(y),
        2 => Some(if y < 70 { 2000 + y } else { 1900 + y }),
        _ => None,
    }
}

/// Handles the piece at the cursor; returns the tokens consumed.
fn step(c: &Cur<'_>, p: &mut Phrase) -> Option<usize> {
    match c.peek(0)? {
        Tok::Space => Some(1),
        Tok::Punct('@') => {
            let (neg, k) = if c.punct(1, '-') {
                (true, 2)
            } else {
                (false, 1)
            };
            let v = int(c.num(k)?)?;
            let mut used = k + 1;
            if c.punct(used, '.') && c.num(used + 1).is_some() {
                used += 2;
            }
            let ts = if neg { -v } else { v };
            let days = ts.div_euclid(86_400);
            let secs = ts.rem_euclid(86_400);
            p.date = Some(civil_from_days(days));
            p.time = Some((secs / 3600, secs % 3600 / 60, secs % 60));
            p.zone = Some(Zone::Offset(0));
            Some(used)
        }
        Tok::Punct('+') | Tok::Punct('-') => {
            let sign = if c.punct(0, '-') { -1 } else { 1 };
            if let Some(n) = c.num(1) {
                let k = c.skip_space(2);
                if let Some(unit) = c.word(k).and_then(unit_of) {
                    add_rel(p, unit, sign * int(n)?, false);
                    return Some(k + 1);
                }
            }
            let (off, used) = offset_at(c, 0)?;
            p.zone = Some(Zone::Offset(off));
            Some(used)
        }
        Tok::Num(n) => number_piece(c, p, n),
        Tok::Word(w) => word_piece(c, p, w),
        Tok::Punct('.') => Some(1),
        Tok::Punct(_) => None,
    }
}

fn add_rel(p: &mut Phrase, (field, mult): (char, i64), n: i64, from_text: bool) {
    let v = n.saturating_mul(mult);
    let r = &mut p.rel;
    match field {
        's' => r.s = r.s.saturating_add(v),
        'i' => r.i = r.i.saturating_add(v),
        'h' => r.h = r.h.saturating_add(v),
        'm' => r.m = r.m.saturating_add(v),
        'y' => r.y = r.y.saturating_add(v),
        'w' => r.weekdays = r.weekdays.saturating_add(v),
        _ => {
            if from_text && mult == 7 {
                p.text_weeks = Some(p.text_weeks.unwrap_or(0) + n);
                // `this/next/last week`: Monday unless a day is named.
                p.weekday = Some(match p.weekday {
                    Some((wd, _)) => (wd, 2),
                    None => (1, 2),
                });
            } else {
                r.d = r.d.saturating_add(v);
            }
        }
    }
}

/// A Monday-based weekday (0 = Monday) as timelib counts (0 = Sunday).
fn sunday_based(wd: i64) -> i64 {
    (wd + 1) % 7
}

fn number_piece(c: &Cur<'_>, p: &mut Phrase, n: &str) -> Option<usize> {
    // GNU short date: YYYY-MM (the first of the month).
    if n.len() == 4
        && c.punct(1, '-')
        && let Some(m) = c.num(2)
        && m.len() <= 2
        && !c.punct(3, '-')
        && !c.punct(3, ':')
    {
        p.date = Some((int(n)?, int(m)?, 1));
        return Some(3);
    }
    // ISO date: YYYY-MM-DD or YYYY/MM/DD, optionally followed by T/space time.
    if n.len() == 4
        && (c.punct(1, '-') || c.punct(1, '/'))
        && let (Some(m), Some(d)) = (c.num(2), c.num(4))
        && c.peek(3) == c.peek(1)
    {
        p.date = Some((int(n)?, int(m)?, int(d)?));
        let mut used = 5;
        if c.word(5) == Some("t") {
            let (t, tu) = time_at(c, 6)?;
            p.time = Some(t);
            used = 6 + tu;
        } else if let Some(w) = c.word(5)
            && w.starts_with('t')
            && w.len() > 1
        {
            return None;
        }
        return Some(used);
    }
    // m/d[/y]
    if c.punct(1, '/')
        && let Some(d) = c.num(2)
    {
        let mut used = 3;
        let mut year = None;
        if c.punct(3, '/')
            && let Some(y) = c.num(4)
        {
            year = Some(year_of(y)?);
            used = 5;
        }
        p.date = Some((year.unwrap_or(i64::MIN), int(n)?, int(d)?));
        return Some(used);
    }
    // d-m-Y and d.m.Y
    if (c.punct(1, '-') || c.punct(1, '.'))
        && let (Some(m), Some(y)) = (c.num(2), c.num(4))
        && c.peek(3) == c.peek(1)
        && y.len() == 4
    {
        p.date = Some((int(y)?, int(m)?, int(n)?));
        return Some(5);
    }
    // d-Mon-Y, d Mon [Y], dth Mon
    {
        let mut k = 1;
        if let Some(sfx) = c.word(k)
            && matches!(sfx, "st" | "nd" | "rd" | "th")
        {
            k += 1;
        }
        if c.punct(k, '-') || c.space(k) {
            k += 1;
        }
        if let Some(m) = c.word(k).and_then(month_of) {
            let mut used = k + 1;
            if c.punct(used, '.') {
                used += 1;
            }
            let mut year = i64::MIN;
            let k2 = if c.punct(used, '-') {
                used + 1
            } else {
                c.skip_space(used)
            };
            if let Some(y) = c.num(k2)
                && y.len() == 4
                && !c.punct(k2 + 1, ':')
            {
                year = int(y)?;
                used = k2 + 1;
            }
            if n.len() > 2 {
                return None;
            }
            p.date = Some((year, m, int(n)?));
            return Some(used);
        }
    }
    // a time
    if let Some((t, used)) = time_at(c, 0) {
        p.time = Some(t);
        return Some(used);
    }
    // N unit
    let k = c.skip_space(1);
    if let Some(unit) = c.word(k).and_then(unit_of) {
        add_rel(p, unit, int(n)?, false);
        return Some(k + 1);
    }
    None
}

fn word_piece(c: &Cur<'_>, p: &mut Phrase, w: &str) -> Option<usize> {
    match w {
        "now" => return Some(1),
        "today" | "midnight" => {
            p.reset_time = true;
            return Some(1);
        }
        "noon" => {
            p.time = Some((12, 0, 0));
            return Some(1);
        }
        "tomorrow" | "yesterday" => {
            p.reset_time = true;
            p.rel.d += if w == "tomorrow" { 1 } else { -1 };
            return Some(1);
        }
        "ago" => {
            let r = &mut p.rel;
            for f in [
                &mut r.y,
                &mut r.m,
                &mut r.d,
                &mut r.h,
                &mut r.i,
                &mut r.s,
                &mut r.weekdays,
            ] {
                *f = -*f;
            }
            if let Some(tw) = p.text_weeks.as_mut() {
                *tw = -*tw;
            }
            if let Some((wd, _)) = p.weekday.as_mut() {
                *wd = if *wd == 0 { -7 } else { -*wd };
            }
            return Some(1);
        }
        "of" | "at" | "on" | "the" | "and" => return Some(1),
        _ => {}
    }
    // first/last day of
    if matches!(w, "first" | "last") && c.word(2) == Some("day") && c.word(4) == Some("of") {
        p.first_last_day_of = Some(w == "first");
        return Some(5);
    }
    // <ordinal> <weekday> of
    if let Some(n) = ordinal_of(w)
        && let Some(wd) = c.word(2).and_then(weekday_of)
        && c.word(4) == Some("of")
    {
        p.nth_weekday_of = Some((n, wd));
        p.reset_time = true;
        return Some(5);
    }
    // next/last/this <weekday|unit>
    if matches!(w, "next" | "last" | "previous" | "this") && c.space(1) {
        let n = match w {
            "next" => 1,
            "this" => 0,
            _ => -1,
        };
        if let Some(wd) = c.word(2).and_then(weekday_of) {
            // timelib: `next` is +1 behaviour 0, `last` -1 (a week back)
            // behaviour 0, `this` 0 behaviour 1; the time is unset.
            if n < 0 {
                p.rel.d = p.rel.d.saturating_sub(7);
            }
            p.weekday = Some((sunday_based(wd), if n == 0 { 1 } else { 0 }));
            p.time = None;
            p.reset_time = true;
            return Some(3);
        }
        if let Some(unit) = c.word(2).and_then(unit_of) {
            add_rel(p, unit, n, true);
            return Some(3);
        }
        return None;
    }
    // A day name (`weekday` alone is Monday in timelib): a weekday
    // relative that unsets the time given so far.
    let bare = if matches!(w, "weekday" | "weekdays") {
        Some(0)
    } else {
        weekday_of(w)
    };
    if let Some(wd) = bare {
        let behaviour = match p.weekday {
            Some((_, 2)) => 2,
            _ => 1,
        };
        p.weekday = Some((sunday_based(wd), behaviour));
        p.time = None;
        p.reset_time = true;
        return Some(if c.punct(1, '.') { 2 } else { 1 });
    }
    if let Some(m) = month_of(w) {
        let mut k = if c.punct(1, '.') { 2 } else { 1 };
        if c.punct(k, '-') || c.space(k) {
            k += 1;
        }
        if let Some(d) = c.num(k) {
            if d.len() == 4 && !c.punct(k + 1, ':') {
                p.month_only = Some((Some(int(d)?), m));
                return Some(k + 1);
            }
            if d.len() <= 2 && !c.punct(k + 1, ':') {
                let mut used = k + 1;
                if let Some(sfx) = c.word(used)
                    && matches!(sfx, "st" | "nd" | "rd" | "th")
                {
                    used += 1;
                }
                let mut year = i64::MIN;
                let k2 = if c.punct(used, '-') {
                    used + 1
                } else {
                    c.skip_space(used)
                };
                if let Some(y) = c.num(k2)
                    && y.len() == 4
                    && !c.punct(k2 + 1, ':')
                {
                    year = int(y)?;
                    used = k2 + 1;
                }
                p.date = Some((year, m, int(d)?));
                return Some(used);
            }
        }
        p.month_only = Some((None, m));
        return Some(if c.punct(1, '.') { 2 } else { 1 });
    }
    if let Some((_, mins)) = ZONE_ABBR.iter().find(|(n, _)| *n == w) {
        p.zone = Some(Zone::Offset(mins * 60));
        return Some(1);
    }
    // IANA zone names: word(/word)+
    if c.punct(1, '/') {
        let mut name = w.to_owned();
        let mut k = 1;
        while c.punct(k, '/')
            && let Some(part) = c.word(k + 1)
        {
            name.push('/');
            name.push_str(part);
            k += 2;
        }
        let tz = Tz::from_str_insensitive(&name).ok()?;
        p.zone = Some(Zone::Named(tz));
        return Some(k);
    }
    // Single-letter military zones (J is not a zone).
    if w.len() == 1 && w != "j" {
        let b = i64::from(w.as_bytes()[0]);
        let hours = match w.as_bytes()[0] {
            b'a'..=b'i' => b - i64::from(b'a') + 1,
            b'k'..=b'm' => b - i64::from(b'k') + 10,
            b'n'..=b'y' => -(b - i64::from(b'n') + 1),
            _ => 0,
        };
        p.zone = Some(Zone::Offset(hours * 3600));
        return Some(1);
    }
    None
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month may be any
/// value in 1..=12; day may overflow, as PHP allows).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + (d - 1)
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    days_from_civil(y + i64::from(m == 12), if m == 12 { 1 } else { m + 1 }, 1)
        - days_from_civil(y, m, 1)
}

/// Monday = 0.
fn weekday_of_days(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// Normalises a (year, month) pair whose month may be out of range.
fn norm_month(y: i64, m: i64) -> (i64, i64) {
    let z = m - 1;
    (y + z.div_euclid(12), z.rem_euclid(12) + 1)
}

fn zone_offset_at(zone: Zone, utc: i64) -> i64 {
    match zone {
        Zone::Offset(o) => o,
        Zone::Named(tz) => chrono::DateTime::from_timestamp(utc, 0).map_or(0, |dt| {
            i64::from(
                tz.offset_from_utc_datetime(&dt.naive_utc())
                    .fix()
                    .local_minus_utc(),
            )
        }),
    }
}

fn local_to_utc(zone: Zone, local: i64) -> Option<i64> {
    match zone {
        Zone::Offset(o) => local.checked_sub(o),
        Zone::Named(tz) => {
            let naive: NaiveDateTime = chrono::DateTime::from_timestamp(local, 0)?.naive_utc();
            match tz.from_local_datetime(&naive).earliest() {
                Some(dt) => Some(dt.timestamp()),
                None => {
                    // In a DST gap PHP moves forward by the gap.
                    let later = naive + chrono::Duration::hours(1);
                    tz.from_local_datetime(&later)
                        .earliest()
                        .map(|dt| dt.timestamp())
                }
            }
        }
    }
}

impl Phrase {
    fn resolve(&self, now: i64, default_zone: Tz) -> Option<i64> {
        let zone = self.zone.unwrap_or(Zone::Named(default_zone));
        // timelib fills the unset fields from `now` in the default zone,
        // then reads them in the phrase's zone: `a` (UTC+1) is an hour
        // before now.
        let now_local = now.checked_add(zone_offset_at(Zone::Named(default_zone), now))?;
        let (ny, nm, nd) = civil_from_days(now_local.div_euclid(86_400));
        let now_secs = now_local.rem_euclid(86_400);
        let (mut y, mut m, mut d) = (ny, nm, nd);
        let mut date_given = false;
        if let Some((yy, mm, dd)) = self.date {
            if !(1..=12).contains(&mm) || !(1..=31).contains(&dd) {
                return None;
            }
            y = if yy == i64::MIN { ny } else { yy };
            m = mm;
            d = dd;
            date_given = true;
        } else if let Some((yy, mm)) = self.month_only {
            if let Some(yy) = yy {
                y = yy;
                d = 1;
                date_given = true;
            }
            m = mm;
        }
        let (mut h, mut mi, mut s) = (now_secs / 3600, now_secs % 3600 / 60, now_secs % 60);
        if let Some((hh, mm, ss)) = self.time {
            if hh > 23 || mm > 59 || ss > 60 {
                return None;
            }
            (h, mi, s) = (hh, mm, ss);
        } else if date_given || self.reset_time {
            (h, mi, s) = (0, 0, 0);
        }
        let r = self.rel;
        // Years and months first (PHP lets the day overflow afterwards).
        let (yy, mm) = norm_month(y.checked_add(r.y)?, m.checked_add(r.m)?);
        if yy.abs() > MAX_YEAR {
            return None;
        }
        (y, m) = (yy, mm);
        match self.first_last_day_of {
            Some(true) => d = 1,
            Some(false) => d = days_in_month(y, m),
            None => {}
        }
        let mut days = days_from_civil(y, m, d);
        if let Some((n, wd)) = self.nth_weekday_of {
            if n > 0 {
                let first = days_from_civil(y, m, 1);
                days = first + (wd - weekday_of_days(first)).rem_euclid(7) + (n - 1) * 7;
            } else {
                let last = days_from_civil(y, m, days_in_month(y, m));
                days = last - (weekday_of_days(last) - wd).rem_euclid(7);
            }
        }
        let weeks = self.text_weeks.unwrap_or(0);
        if let Some((wd, behaviour)) = self.weekday {
            // timelib's do_adjust_for_weekday, before the relative offsets.
            let cur = (weekday_of_days(days) + 1) % 7;
            if behaviour == 2 {
                let mut w = wd;
                if cur == 0 && w != 0 {
                    w -= 7;
                }
                if w == 0 && cur != 0 {
                    w = 7;
                }
                days = days - cur + w;
            } else {
                let rel_days = r.d.saturating_add(weeks.saturating_mul(7));
                let mut diff = wd - cur;
                if (rel_days < 0 && diff < 0) || (rel_days >= 0 && diff <= -behaviour) {
                    diff += 7;
                }
                if wd >= 0 {
                    days += diff;
                } else {
                    days -= 7 - (wd.abs() - cur);
                }
            }
        }
        days = days.checked_add(r.d)?.checked_add(weeks.checked_mul(7)?)?;
        if r.weekdays != 0 {
            if r.weekdays.abs() > 1_000_000 {
                return None;
            }
            let step = r.weekdays.signum();
            let mut left = r.weekdays.abs();
            // Whole weeks first, then single days.
            days += (left / 5) * 7 * step;
            left %= 5;
            while weekday_of_days(days) >= 5 {
                days += step;
            }
            while left > 0 {
                days += step;
                if weekday_of_days(days) < 5 {
                    left -= 1;
                }
            }
        }
        let secs = h
            .checked_mul(3600)?
            .checked_add(mi.checked_mul(60)?)?
            .checked_add(s)?
            .checked_add(r.h.checked_mul(3600)?)?
            .checked_add(r.i.checked_mul(60)?)?
            .checked_add(r.s)?;
        let local = days.checked_mul(86_400)?.checked_add(secs)?;
        local_to_utc(zone, local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-01-10 12:34:56 UTC, a Wednesday.
    const NOW: i64 = 1_704_890_096;

    fn at(s: &str) -> Option<i64> {
        strtotime(s, NOW, "UTC")
    }

    fn ymd_hms(y: i64, m: i64, d: i64, h: i64, i: i64, s: i64) -> i64 {
        days_from_civil(y, m, d) * 86_400 + h * 3600 + i * 60 + s
    }

    #[test]
    fn absolute_forms() {
        assert_eq!(at("2020-01-01 00:00:00 UTC"), Some(1_577_836_800));
        assert_eq!(at("2025-01-01 00:00:00 UTC"), Some(1_735_689_600));
        assert_eq!(at("2020-01-02"), Some(ymd_hms(2020, 1, 2, 0, 0, 0)));
        assert_eq!(at("2020-01-02 03:04"), Some(ymd_hms(2020, 1, 2, 3, 4, 0)));
        assert_eq!(
            at("2020-01-02T03:04:05Z"),
            Some(ymd_hms(2020, 1, 2, 3, 4, 5))
        );
        assert_eq!(
            at("2020-01-02T03:04:05.123+05:00"),
            Some(ymd_hms(2020, 1, 2, 3, 4, 5) - 5 * 3600)
        );
        assert_eq!(
            at("2020-01-02 03:04:05 +0500"),
            Some(ymd_hms(2020, 1, 2, 3, 4, 5) - 5 * 3600)
        );
        assert_eq!(at("10/03/2020"), Some(ymd_hms(2020, 10, 3, 0, 0, 0)));
        assert_eq!(at("10-03-2020"), Some(ymd_hms(2020, 3, 10, 0, 0, 0)));
        assert_eq!(at("1-Jan-2018"), Some(ymd_hms(2018, 1, 1, 0, 0, 0)));
        assert_eq!(at("Jan 9 2002"), Some(ymd_hms(2002, 1, 9, 0, 0, 0)));
        assert_eq!(at("January 9, 2002"), Some(ymd_hms(2002, 1, 9, 0, 0, 0)));
        assert_eq!(
            at("9 January 2002 10:30"),
            Some(ymd_hms(2002, 1, 9, 10, 30, 0))
        );
        assert_eq!(at("@1700000000"), Some(1_700_000_000));
        assert_eq!(at("@-86400"), Some(-86_400));
    }

    #[test]
    fn keywords_and_times() {
        assert_eq!(at("now"), Some(NOW));
        assert_eq!(at("today"), Some(ymd_hms(2024, 1, 10, 0, 0, 0)));
        assert_eq!(at("midnight"), Some(ymd_hms(2024, 1, 10, 0, 0, 0)));
        assert_eq!(at("noon"), Some(ymd_hms(2024, 1, 10, 12, 0, 0)));
        assert_eq!(at("tomorrow"), Some(ymd_hms(2024, 1, 11, 0, 0, 0)));
        assert_eq!(at("yesterday"), Some(ymd_hms(2024, 1, 9, 0, 0, 0)));
        assert_eq!(at("tomorrow 5pm"), Some(ymd_hms(2024, 1, 11, 17, 0, 0)));
        assert_eq!(at("tomorrow 8am"), Some(ymd_hms(2024, 1, 11, 8, 0, 0)));
        assert_eq!(at("today 08:30"), Some(ymd_hms(2024, 1, 10, 8, 30, 0)));
        assert_eq!(at("10am"), Some(ymd_hms(2024, 1, 10, 10, 0, 0)));
        assert_eq!(at("5:30 pm"), Some(ymd_hms(2024, 1, 10, 17, 30, 0)));
        assert_eq!(at("16:00:30"), Some(ymd_hms(2024, 1, 10, 16, 0, 30)));
        assert_eq!(at("12am"), Some(ymd_hms(2024, 1, 10, 0, 0, 0)));
    }

    #[test]
    fn relative_offsets() {
        assert_eq!(at("+1 day"), Some(NOW + 86_400));
        assert_eq!(at("-2 weeks"), Some(NOW - 14 * 86_400));
        assert_eq!(at("+30 mins"), Some(NOW + 1800));
        assert_eq!(at("3 days ago"), Some(NOW - 3 * 86_400));
        assert_eq!(at("+1 week 2 days"), Some(NOW + 9 * 86_400));
        assert_eq!(at("+2 weeks 08:00"), Some(ymd_hms(2024, 1, 24, 8, 0, 0)));
        assert_eq!(
            strtotime("+1 month", ymd_hms(2020, 1, 31, 0, 0, 0), "UTC"),
            Some(ymd_hms(2020, 3, 2, 0, 0, 0))
        );
        assert_eq!(
            at("2020-01-31 +1 month"),
            Some(ymd_hms(2020, 3, 2, 0, 0, 0))
        );
        assert_eq!(at("next year"), Some(NOW + 366 * 86_400));
        assert_eq!(at("+1 weekday"), Some(NOW + 86_400));
        // Friday + 1 weekday = Monday.
        assert_eq!(
            at("2024-01-12 +1 weekday"),
            Some(ymd_hms(2024, 1, 15, 0, 0, 0))
        );
    }

    #[test]
    fn weekdays_and_month_boundaries() {
        assert_eq!(at("monday"), Some(ymd_hms(2024, 1, 15, 0, 0, 0)));
        assert_eq!(at("wednesday"), Some(ymd_hms(2024, 1, 10, 0, 0, 0)));
        assert_eq!(at("next wednesday"), Some(ymd_hms(2024, 1, 17, 0, 0, 0)));
        assert_eq!(at("last friday"), Some(ymd_hms(2024, 1, 5, 0, 0, 0)));
        assert_eq!(at("this friday"), Some(ymd_hms(2024, 1, 12, 0, 0, 0)));
        // Sunday → next monday is the following day.
        assert_eq!(
            strtotime("next monday", ymd_hms(2024, 1, 14, 9, 0, 0), "UTC"),
            Some(ymd_hms(2024, 1, 15, 0, 0, 0))
        );
        assert_eq!(
            at("first day of next month"),
            Some(ymd_hms(2024, 2, 1, 12, 34, 56))
        );
        assert_eq!(
            at("last day of this month"),
            Some(ymd_hms(2024, 1, 31, 12, 34, 56))
        );
        assert_eq!(
            at("first day of last month"),
            Some(ymd_hms(2023, 12, 1, 12, 34, 56))
        );
        assert_eq!(
            at("last friday of this month"),
            Some(ymd_hms(2024, 1, 26, 0, 0, 0))
        );
        assert_eq!(at("monday this week"), Some(ymd_hms(2024, 1, 8, 0, 0, 0)));
        assert_eq!(at("monday next week"), Some(ymd_hms(2024, 1, 15, 0, 0, 0)));
    }

    #[test]
    fn zones() {
        assert_eq!(
            strtotime("2020-01-01 00:00", 0, "America/New_York"),
            Some(1_577_854_800)
        );
        assert_eq!(
            at("2020-07-01 00:00 America/New_York"),
            Some(ymd_hms(2020, 7, 1, 4, 0, 0))
        );
        assert!(at("x").is_some());
    }

    #[test]
    fn garbage_fails() {
        for s in [
            "",
            "garbage",
            "5",
            "2020",
            "13/45/2020",
            "25:00",
            "+",
            "1 florp",
            "{{x}}",
        ] {
            assert_eq!(at(s), None, "{s}");
        }
    }

    #[test]
    fn weekday_relatives_follow_timelib() {
        // A day name after a date moves to that day (time unset).
        assert_eq!(
            at("2024-03-13 10:00 friday"),
            Some(ymd_hms(2024, 3, 15, 0, 0, 0))
        );
        assert_eq!(
            at("2024-03-13 friday 10:00"),
            Some(ymd_hms(2024, 3, 15, 10, 0, 0))
        );
        // `this/next week` with a day: that day of the (next) week.
        assert_eq!(
            at("2024-03-06 monday next week"),
            Some(ymd_hms(2024, 3, 11, 0, 0, 0))
        );
        assert_eq!(
            at("2024-03-10 saturday next week"),
            Some(ymd_hms(2024, 3, 16, 0, 0, 0))
        );
        assert_eq!(
            at("2024-03-13 this week"),
            Some(ymd_hms(2024, 3, 11, 0, 0, 0))
        );
        // `ago` turns the weekday around.
        assert_eq!(
            at("2024-03-13 monday 2 weeks ago"),
            Some(ymd_hms(2024, 2, 19, 0, 0, 0))
        );
        assert_eq!(
            at("third wednesday of 2023-05"),
            Some(ymd_hms(2023, 5, 17, 0, 0, 0))
        );
        assert_eq!(
            at("2024-03-13 weekday"),
            Some(ymd_hms(2024, 3, 18, 0, 0, 0))
        );
    }
}
