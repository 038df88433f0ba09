//! `date_lerp`: timestamps stepping through a date range.

use crate::callable::{Args, CallError, Env};
use crate::library::util::{opt, to_str};
use katabox_value::Value;
use katabox_value::convert;
use katabox_value::date::strtotime;

/// Start and end of a range phrase (`A to B`, a single date, or a shortcut).
fn parse_range(text: &str, now: i64, tz: &str) -> Option<(i64, i64)> {
    let t = text.trim().to_ascii_lowercase();
    let at = |s: &str| strtotime(s, now, tz);
    let shortcut = |from: &str, to: &str| Some((at(from)?, at(to)?));
    match t.as_str() {
        "today" => return shortcut("today", "today 23:59:59"),
        "yesterday" => return shortcut("yesterday", "yesterday 23:59:59"),
        "tomorrow" => return shortcut("tomorrow", "tomorrow 23:59:59"),
        _ => {}
    }
    for period in ["this", "next", "last"] {
        for unit in ["week", "month", "year"] {
            if t == format!("{period} {unit}") {
                let (from, to) = match unit {
                    "week" => (
                        format!("monday {period} week"),
                        format!("sunday {period} week 23:59:59"),
                    ),
                    "month" => (
                        format!("first day of {period} month 00:00:00"),
                        format!("last day of {period} month 23:59:59"),
                    ),
                    _ => {
                        let y = at(&format!("{period} year"))?;
                        let year = chrono::DateTime::from_timestamp(y, 0)?
                            .format("%Y")
                            .to_string();
                        (
                            format!("{year}-01-01 00:00:00"),
                            format!("{year}-12-31 23:59:59"),
                        )
                    }
                };
                return shortcut(&from, &to);
            }
        }
    }
    let (a, b) = match t.split_once(" to ") {
        Some((a, b)) => (a.trim().to_string(), b.trim().to_string()),
        None => (t.clone(), "now".to_string()),
    };
    let parse = |s: &str| -> Option<i64> {
        let digits = s.strip_prefix('-').unwrap_or(s);
        if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
            return s.parse().ok();
        }
        if s == "now" {
            return Some(now);
        }
        at(s)
    };
    Some((parse(&a)?, parse(&b)?))
}

/// `date_lerp(date_string, unit, step=1, limit=10000)`.
pub fn date_lerp(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let range = to_str(args.required(0)?)?;
    let unit = to_str(args.required(1)?)?
        .to_string_lossy()
        .to_ascii_lowercase();
    let step = opt(args, 2).map_or(1, convert::to_int);
    let limit = opt(args, 3)
        .map_or(10_000, convert::to_int)
        .clamp(0, env.limits().max_array_len as i64) as usize;
    let tz = env.timezone().to_string();
    let now = env.now();
    let Some((start, end)) = parse_range(&range.to_string_lossy(), now, &tz) else {
        return Ok(Value::Bool(false));
    };
    let (unit, step, align_month) = match unit.as_str() {
        "minute" | "hour" | "day" | "week" | "month" | "year" => (unit.as_str(), step, false),
        "dayofmonth" | "dayofweek" => ("day", step, false),
        "hourofday" => ("hour", step, false),
        "monthofyear" => ("month", step, true),
        "weekofyear" => ("week", step, false),
        "quarter" => ("month", step.saturating_mul(3), true),
        _ => return Ok(Value::Bool(false)),
    };
    if step <= 0 {
        return Ok(Value::Bool(false));
    }
    let mut t = start;
    if align_month {
        let day1 = strtotime("first day of this month 00:00:00", start, &tz);
        t = day1.unwrap_or(start);
    }
    let modifier = format!("+{step} {unit}");
    let mut out = Vec::new();
    while t <= end && out.len() < limit {
        env.charge(1)?;
        out.push(Value::Int(t));
        match strtotime(&modifier, t, &tz) {
            Some(n) if n > t => t = n,
            _ => break,
        }
    }
    Ok(Value::list(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::{TestEnv, a, je};

    fn js(args: Vec<Value>) -> String {
        match date_lerp(&mut TestEnv::default(), &a(args)) {
            Ok(r) => je(&r),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn lerp() {
        assert_eq!(
            js(vec![
                Value::str("2023-01-01 to 2023-01-03"),
                Value::str("day")
            ]),
            "[1672531200,1672617600,1672704000]"
        );
        assert_eq!(
            js(vec![
                Value::str("2023-01-15 to 2023-03-20"),
                Value::str("monthofyear")
            ]),
            "[1672531200,1675209600,1677628800]"
        );
        assert_eq!(
            js(vec![
                Value::str("2023-01-01 to 2023-01-03"),
                Value::str("day"),
                Value::Int(1),
                Value::Int(2)
            ]),
            "[1672531200,1672617600]"
        );
        assert_eq!(
            js(vec![Value::str("garbage to x"), Value::str("day")]),
            "false"
        );
        assert_eq!(
            js(vec![Value::str("2023-01-01"), Value::str("fortnightly")]),
            "false"
        );
    }
}
