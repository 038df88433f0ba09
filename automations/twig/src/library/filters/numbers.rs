//! Number filters: abs, number_format, round (Twig) and bytes_pretty (Cerb).

use crate::callable::{Args, CallError, Env};
use crate::library::rounding::php_round;
use crate::library::util::{self, check_str_len, opt, to_str};
use katabox_value::Value;
use katabox_value::convert::{self, Number};

/// A PHP `int|float` parameter (numeric strings coerced, null → 0). A
/// leading-numeric string (`"3abc"`) is a type error, as in PHP 8.
pub fn num_param(func: &str, arg: &str, v: &Value) -> Result<Number, CallError> {
    num_param_at(func, 1, arg, v)
}

/// [`num_param`] for argument number `pos`.
pub fn num_param_at(func: &str, pos: u8, arg: &str, v: &Value) -> Result<Number, CallError> {
    let bad = |t: &str| {
        CallError::Php(format!(
            "{func}(): Argument #{pos} (${arg}) must be of type int|float, {t} given"
        ))
    };
    match v {
        Value::Null => Ok(Number::Int(0)),
        Value::Bool(b) => Ok(Number::Int(i64::from(*b))),
        Value::Int(i) => Ok(Number::Int(*i)),
        Value::Float(f) => Ok(Number::Float(*f)),
        Value::Str(s) => convert::parse_numeric(s.as_bytes()).ok_or_else(|| bad("string")),
        Value::Array(_) => Err(bad("array")),
        Value::Object(o) => Err(bad(o.class_name())),
    }
}

/// `abs`.
pub fn abs(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    if !args.is_empty() {
        return Err(CallError::ArgumentCount);
    }
    Ok(match num_param("abs", "num", &v)? {
        Number::Int(i) => match i.checked_abs() {
            Some(a) => Value::Int(a),
            None => Value::Float(-(i as f64)),
        },
        Number::Float(f) => Value::Float(f.abs()),
    })
}

/// PHP `number_format`.
pub fn number_format_raw(num: f64, decimals: i64, point: &[u8], sep: &[u8]) -> Vec<u8> {
    let dec = decimals.clamp(0, 1000) as usize;
    let rounded = php_round(num, dec as i64);
    if !rounded.is_finite() {
        return if rounded.is_nan() {
            b"nan".to_vec()
        } else if rounded > 0.0 {
            b"inf".to_vec()
        } else {
            b"-inf".to_vec()
        };
    }
    let negative = rounded < 0.0 && rounded != 0.0;
    let text = format!("{:.dec$}", rounded.abs());
    let (int_part, frac) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (text.clone(), None),
    };
    // "-0" never appears: a value that rounds to zero is not negative.
    let negative = negative
        && (int_part.bytes().any(|b| b != b'0')
            || frac.as_ref().is_some_and(|f| f.bytes().any(|b| b != b'0')));
    let mut out = Vec::new();
    if negative {
        out.push(b'-');
    }
    let digits = int_part.as_bytes();
    for (i, d) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.extend_from_slice(sep);
        }
        out.push(*d);
    }
    if let Some(f) = frac
        && dec > 0
    {
        out.extend_from_slice(point);
        out.extend_from_slice(f.as_bytes());
    }
    out
}

/// `number_format(decimal=0, decimal_point='.', thousand_sep=',')`.
pub fn number_format(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    // PHP's `(float)` cast: objects (captured strings included) give 1.
    let num = match v {
        Value::Object(_) => 1.0,
        other => convert::to_float(&other),
    };
    let dec = opt(args, 0).map_or(0, convert::to_int);
    check_str_len(env, dec.max(0) as usize, "number_format")?;
    let point = match opt(args, 1) {
        Some(p) => to_str(p)?,
        None => ".".into(),
    };
    let sep = match opt(args, 2) {
        Some(p) => to_str(p)?,
        None => ",".into(),
    };
    Ok(Value::bytes(number_format_raw(
        num,
        dec,
        point.as_bytes(),
        sep.as_bytes(),
    )))
}

/// `round(precision=0, method='common')`: Twig's `twig_round`, which
/// casts the value with `(float)` first (arrays give 0 or 1, strings their
/// numeric prefix).
pub fn round(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let precision = opt(args, 0).map_or(0, convert::to_int).clamp(-400, 400);
    let method = util::str_arg(args, 1, "common")?;
    let n = match util::unmark(v) {
        Value::Object(_) => 1.0,
        other => convert::to_float(&other),
    };
    match method.as_bytes() {
        b"common" => Ok(Value::Float(php_round(n, precision))),
        b"ceil" | b"floor" => {
            let scale = 10f64.powi(precision as i32);
            let x = n * scale;
            let r = if method.as_bytes() == b"ceil" {
                x.ceil()
            } else {
                x.floor()
            };
            Ok(Value::Float(r / scale))
        }
        _ => Err(CallError::Twig(
            "The round filter only supports the \"common\", \"ceil\", and \"floor\" methods."
                .into(),
        )),
    }
}

/// `bytes_pretty(precision='0')`.
pub fn bytes_pretty(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    // Cerb's `strPrettyBytes`: `is_numeric`, then `abs(intval(...))`.
    let v = util::unmark(v);
    let int = match &v {
        Value::Int(_) | Value::Float(_) => convert::to_int(&v),
        Value::Str(s) if convert::parse_numeric(s.as_bytes()).is_some() => convert::to_int(&v),
        _ => return Ok(Value::str("")),
    };
    let precision = opt(args, 0)
        .map_or(0, |p| convert::float_to_int(convert::to_float(p)))
        .clamp(0, 100);
    let abs = (int as f64).abs();
    let sign = if int < 0 { "-" } else { "" };
    let fmt = |x: f64, unit: &str| {
        let s = number_format_raw(x, precision, b".", b",");
        format!("{sign}{} {unit}", String::from_utf8_lossy(&s))
    };
    let out = if abs >= 1e12 {
        fmt(abs / 1e12, "TB")
    } else if abs >= 1e9 {
        fmt(abs / 1e9, "GB")
    } else if abs >= 1e6 {
        fmt(abs / 1e6, "MB")
    } else if abs >= 1e3 {
        fmt(abs / 1e3, "KB")
    } else {
        format!("{sign}{} bytes", int.unsigned_abs())
    };
    Ok(Value::str(out))
}

#[cfg(test)]
#[allow(clippy::approx_constant)]
mod tests {
    use super::*;
    use crate::library::test_env::st;

    #[test]
    fn abs_cases() {
        assert_eq!(st(abs, Value::Float(-5.5), vec![]), "5.5");
        assert_eq!(st(abs, Value::str("-3"), vec![]), "3");
        assert_eq!(st(abs, Value::Int(5), vec![Value::Int(2)]), "ArgumentCount");
        assert_eq!(
            st(abs, Value::str("x"), vec![]),
            "Php(\"abs(): Argument #1 ($num) must be of type int|float, string given\")"
        );
    }

    #[test]
    fn number_format_cases() {
        assert_eq!(
            st(number_format, Value::Float(1234.5678), vec![Value::Int(2)]),
            "1,234.57"
        );
        assert_eq!(st(number_format, Value::Float(2.5), vec![]), "3");
        assert_eq!(st(number_format, Value::Float(0.5), vec![]), "1");
        assert_eq!(st(number_format, Value::str("1,234"), vec![]), "1");
        assert_eq!(st(number_format, Value::Float(-0.4), vec![]), "0");
        assert_eq!(
            st(
                number_format,
                Value::Float(1234.5),
                vec![Value::Int(1), Value::Null, Value::str(" ")]
            ),
            "1 234.5"
        );
    }

    #[test]
    fn round_cases() {
        assert_eq!(
            st(round, Value::Float(3.14159), vec![Value::Int(2)]),
            "3.14"
        );
        assert_eq!(st(round, Value::Float(-2.5), vec![]), "-3");
        assert_eq!(st(round, Value::Int(1234), vec![Value::Int(-2)]), "1200");
        assert_eq!(st(round, Value::Float(1.005), vec![Value::Int(2)]), "1.01");
        assert_eq!(
            st(
                round,
                Value::Float(1.21),
                vec![Value::Int(1), Value::str("ceil")]
            ),
            "1.3"
        );
        assert!(
            st(
                round,
                Value::Float(1.0),
                vec![Value::Int(1), Value::str("x")]
            )
            .contains("only supports")
        );
    }

    #[test]
    fn bytes_pretty_cases() {
        assert_eq!(st(bytes_pretty, Value::str("768000"), vec![]), "768 KB");
        assert_eq!(
            st(bytes_pretty, Value::Int(1_252_600), vec![Value::Int(2)]),
            "1.25 MB"
        );
        assert_eq!(st(bytes_pretty, Value::Int(999_999), vec![]), "1,000 KB");
        assert_eq!(
            st(bytes_pretty, Value::Int(1999), vec![Value::Int(1)]),
            "2.0 KB"
        );
        assert_eq!(st(bytes_pretty, Value::Int(12), vec![]), "12 bytes");
        assert_eq!(st(bytes_pretty, Value::str("x"), vec![]), "");
    }
}
