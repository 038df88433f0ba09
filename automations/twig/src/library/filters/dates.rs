//! Date filters: date, date_modify (Twig); date_pretty, secs_pretty (Cerb).

use crate::callable::{Args, CallError, Env};
use crate::library::datetime::{self, DateTime};
use crate::library::util::{self, opt, to_str};
use katabox_value::Value;
use katabox_value::convert;

/// `date(format=null, timezone=null)`.
pub fn date(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let d = datetime::to_datetime(env, &v, args.get(1))?;
    let fmt = match opt(args, 0) {
        Some(f) => to_str(f)?,
        None => "F j, Y H:i".into(),
    };
    util::check_str_len(env, fmt.len().saturating_mul(32), "date")?;
    Ok(Value::str(d.format(fmt.as_bytes())))
}

/// `date_modify(modifier)`: a DateTime.
pub fn date_modify(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let modifier = to_str(args.required(0)?)?;
    let d = datetime::to_datetime(env, &v, Some(&Value::Bool(false)))?;
    let m = datetime::modify(env, &d, &modifier.to_string_lossy())?;
    Ok(DateTime::into_value(m))
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("{n} {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// `date_pretty(is_delta=false)`.
pub fn date_pretty(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let v = util::unmark(v);
    let ts = match &v {
        Value::Int(i) => *i,
        Value::Float(f) => convert::float_to_int(*f),
        Value::Str(s) => match convert::parse_numeric(s.as_bytes()) {
            Some(n) => convert::to_int(&n.to_value()),
            None => return Ok(Value::str("")),
        },
        _ => return Ok(Value::str("")),
    };
    if ts == 0 {
        return Ok(Value::str(""));
    }
    let is_delta = util::bool_arg(args, 0, false);
    let d = if is_delta {
        ts
    } else {
        env.now().saturating_sub(ts)
    };
    if d == 0 {
        return Ok(Value::str("just now"));
    }
    let a = d.unsigned_abs() as f64;
    let round = |x: f64| crate::library::rounding::php_round(x, 0) as i64;
    let text = if a >= 31_557_600.0 {
        plural(round(a / 31_557_600.0), "year")
    } else if a >= 2_592_000.0 {
        plural(round(a / 2_592_000.0), "month")
    } else if a >= 86_400.0 {
        plural(round(a / 86_400.0), "day")
    } else if a >= 3_600.0 {
        plural((a / 3_600.0).floor() as i64, "hour")
    } else if a >= 60.0 {
        plural((a / 60.0).floor() as i64, "min")
    } else {
        plural(a as i64, "sec")
    };
    let out = if is_delta {
        format!("{}{text}", if d > 0 { "+" } else { "-" })
    } else if d > 0 {
        format!("{text} ago")
    } else {
        text
    };
    Ok(Value::str(out))
}

/// `secs_pretty(precision=0)`.
pub fn secs_pretty(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    // Cerb's `strSecsToString`: `is_numeric`, `empty`, `intval`, then
    // PHP's float arithmetic per unit.
    let v = util::unmark(v);
    let numeric = match &v {
        Value::Int(_) | Value::Float(_) => true,
        Value::Str(s) => convert::parse_numeric(s.as_bytes()).is_some(),
        _ => false,
    };
    if !numeric {
        return Ok(Value::str(""));
    }
    if !convert::truthy(&v) {
        return Ok(Value::str("0 secs"));
    }
    let units: [(f64, &str); 7] = [
        (31_449_600.0, "year"),
        (2_628_000.0, "month"),
        (604_800.0, "week"),
        (86_400.0, "day"),
        (3_600.0, "hour"),
        (60.0, "min"),
        (1.0, "sec"),
    ];
    let mut rest = convert::to_int(&v) as f64;
    let mut parts = Vec::new();
    for (size, name) in units {
        let n = (rest / size).floor();
        rest -= n * size;
        if n != 0.0 {
            parts.push(plural(convert::float_to_int(n), name));
        }
    }
    let length = opt(args, 0).map_or(0, convert::to_int);
    if length != 0 {
        let (from, to) = super::arrays::slice_bounds(parts.len(), 0, Some(length));
        parts = parts[from..to].to_vec();
    }
    Ok(Value::str(parts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::{TestEnv, a, st};

    #[test]
    fn date_filter() {
        assert_eq!(
            st(date, Value::Int(1_700_000_000), vec![Value::str("c")]),
            "2023-11-14T22:13:20+00:00"
        );
        assert_eq!(
            st(
                date,
                Value::str("2020-01-02 03:04:05"),
                vec![Value::str("U")]
            ),
            "1577934245"
        );
        assert_eq!(
            st(
                date,
                Value::str("2018-01-01T10:00:00+05:00"),
                vec![Value::str("c")]
            ),
            "2018-01-01T05:00:00+00:00"
        );
        assert_eq!(
            st(
                date,
                Value::str("2018-01-01T10:00:00+05:00"),
                vec![Value::str("c"), Value::Bool(false)]
            ),
            "2018-01-01T10:00:00+05:00"
        );
        assert_eq!(
            st(date, Value::str("@86400"), vec![Value::str("Y-m-d")]),
            "1970-01-02"
        );
        assert!(st(date, Value::str("garbage"), vec![Value::str("Y")]).contains(
            "Failed to parse time string (garbage) at position 0 (g): The timezone could not be found in the database"
        ));
    }

    #[test]
    fn date_modify_overflows_months() {
        let mut env = TestEnv::default();
        let m = date_modify(
            &mut env,
            Value::str("2020-01-31"),
            &a(vec![Value::str("+1 month")]),
        );
        let out = m.and_then(|d| date(&mut env, d, &a(vec![Value::str("Y-m-d")])));
        assert_eq!(
            out.map(|v| v.to_string_lossy()),
            Ok("2020-03-02".to_string())
        );
    }

    #[test]
    fn pretty() {
        assert_eq!(
            st(date_pretty, Value::Int(3600), vec![Value::Bool(true)]),
            "+1 hour"
        );
        assert_eq!(
            st(date_pretty, Value::Int(-90), vec![Value::Bool(true)]),
            "-1 min"
        );
        assert_eq!(
            st(date_pretty, Value::Int(1_700_000_000 - 300), vec![]),
            "5 mins ago"
        );
        assert_eq!(
            st(date_pretty, Value::Int(1_700_000_000 + 5 * 86400), vec![]),
            "5 days"
        );
        assert_eq!(st(secs_pretty, Value::Int(330), vec![]), "5 mins, 30 secs");
        assert_eq!(
            st(secs_pretty, Value::Int(7530), vec![Value::Int(2)]),
            "2 hours, 5 mins"
        );
        assert_eq!(st(secs_pretty, Value::Int(0), vec![]), "0 secs");
        assert_eq!(
            st(secs_pretty, Value::Int(86400 * 15), vec![]),
            "2 weeks, 1 day"
        );
        assert_eq!(
            st(secs_pretty, Value::Int(86400 * (6 * 30 + 15)), vec![]),
            "6 months, 1 week, 5 days, 12 hours"
        );
        assert_eq!(st(secs_pretty, Value::Int(3601), vec![]), "1 hour, 1 sec");
        assert_eq!(st(secs_pretty, Value::Null, vec![]), "");
    }
}
