//! Twig's functions: attribute, cycle, date, max, min, random, range.

use crate::callable::{Args, CallError, Env};
use crate::library::datetime::{self, DateTime};
use crate::library::util::{self, check_array_len, mb_chars, opt};
use katabox_value::compare::spaceship;
use katabox_value::convert::{self, Number};
use katabox_value::{Key, Value};

/// `attribute(variable, attribute, arguments=[])`.
pub fn attribute(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let var = args.required(0)?;
    let attr = args.required(1)?;
    Ok(match (var, util::key_of(attr)) {
        (Value::Array(a), Some(k)) => a.get(&k).cloned().unwrap_or(Value::Null),
        _ => Value::Null,
    })
}

/// `cycle(values, position)`.
pub fn cycle(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let values = args.required(0)?;
    let pos = args.required(1)?;
    let Some(a) = values.as_array() else {
        return Ok(values.clone());
    };
    // `$values[$position % count($values)]`: PHP's `%`, type errors included.
    let idx = match crate::eval::ops::modulo(pos, &Value::Int(a.len() as i64))? {
        Value::Int(i) => i,
        _ => 0,
    };
    Ok(a.get(&Key::Int(idx)).cloned().unwrap_or(Value::Null))
}

/// `date(date=null, timezone=null)`: a DateTime object.
pub fn date(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let v = args.get(0).cloned().unwrap_or(Value::Null);
    let d = datetime::to_datetime(env, &v, args.get(1))?;
    Ok(DateTime::into_value(d))
}

fn extreme(name: &str, args: &Args, want: i64) -> Result<Value, CallError> {
    let given: Vec<&Value> = args.rest(0).collect();
    let items: Vec<Value> = match given.as_slice() {
        [] => return Err(CallError::ArgumentCount),
        [one] => match one.as_array() {
            Some(a) if a.is_empty() => {
                return Err(CallError::Php(format!(
                    "{name}(): Argument #1 ($value) must contain at least one element"
                )));
            }
            Some(a) => a.values().cloned().collect(),
            None => {
                return Err(CallError::Php(format!(
                    "{name}(): Argument #1 ($value) must be of type array, {} given",
                    one.type_name()
                )));
            }
        },
        many => many.iter().map(|v| (*v).clone()).collect(),
    };
    let mut best = items[0].clone();
    for it in &items[1..] {
        if spaceship(it, &best) == want {
            best = it.clone();
        }
    }
    Ok(best)
}

/// `max(value, ...values)`.
pub fn max(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    extreme("max", args, 1)
}

/// `min(value, ...values)`.
pub fn min(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    extreme("min", args, -1)
}

fn mt_rand(min: i64, max: i64) -> Result<i64, CallError> {
    if max < min {
        return Err(CallError::Php(
            "mt_rand(): Argument #2 ($max) must be greater than or equal to argument #1 ($min)"
                .into(),
        ));
    }
    Ok(fastrand::i64(min..=max))
}

/// `random(values=null, max=null)`.
pub fn random(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    // A captured string is an object to Twig: returned as is.
    let values = opt(args, 0).cloned();
    let maxv = opt(args, 1);
    match values {
        None => Ok(Value::Int(match maxv {
            None => fastrand::i64(0..=2_147_483_647),
            Some(m) => mt_rand(0, convert::to_int(m))?,
        })),
        Some(v @ (Value::Int(_) | Value::Float(_))) => {
            let n = convert::to_int(&v);
            let (lo, hi) = match maxv {
                None if n < 0 => (n, 0),
                None => (0, n),
                Some(m) => (n, convert::to_int(m)),
            };
            Ok(Value::Int(mt_rand(lo, hi)?))
        }
        Some(Value::Str(s)) => {
            if s.is_empty() {
                return Ok(Value::str(""));
            }
            let chars = mb_chars(s.as_bytes());
            Ok(Value::bytes(chars[fastrand::usize(..chars.len())]))
        }
        Some(Value::Array(a)) => {
            if a.is_empty() {
                return Err(CallError::Twig(
                    "The random function cannot pick from an empty array.".into(),
                ));
            }
            Ok(a.get_index(fastrand::usize(..a.len()))
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null))
        }
        Some(other) => Ok(other),
    }
}

fn range_error() -> CallError {
    CallError::Php("range(): Argument #3 ($step) must not exceed the specified range".into())
}

fn numeric_of(v: &Value) -> Number {
    match v {
        Value::Str(s) => convert::parse_leading_numeric(s.as_bytes()).unwrap_or(Number::Int(0)),
        Value::Float(f) => Number::Float(*f),
        other => Number::Int(convert::to_int(other)),
    }
}

/// `range(low, high, step=1)`.
pub fn range(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    if args.len() > 3 {
        return Err(CallError::ArgumentCount);
    }
    let low = util::unmark(args.required(0)?.clone());
    let high = util::unmark(args.required(1)?.clone());
    let step_v = args.get(2).cloned().unwrap_or(Value::Int(1));
    crate::library::filters::numbers::num_param_at("range", 3, "step", &step_v)?;
    let step_is_float = match &step_v {
        Value::Float(_) => true,
        Value::Str(s) => matches!(convert::parse_numeric(s.as_bytes()), Some(Number::Float(_))),
        _ => false,
    };
    let step = convert::to_float(&step_v).abs();
    let max_len = env.limits().max_array_len;
    // Character ranges.
    if let (Value::Str(a), Value::Str(b)) = (&low, &high)
        && !a.is_empty()
        && !b.is_empty()
        && convert::parse_numeric(a.as_bytes()).is_none()
        && convert::parse_numeric(b.as_bytes()).is_none()
    {
        let (lo, hi) = (i64::from(a.as_bytes()[0]), i64::from(b.as_bytes()[0]));
        let lstep = step as i64;
        if lstep <= 0 {
            return Err(range_error());
        }
        let mut out = Vec::new();
        if lo > hi {
            let mut c = lo;
            while c >= hi {
                out.push(Value::bytes([c as u8]));
                c = c.saturating_sub(lstep);
            }
        } else {
            let mut c = lo;
            while c <= hi {
                out.push(Value::bytes([c as u8]));
                c = c.saturating_add(lstep);
            }
        }
        return Ok(Value::list(out));
    }
    let (ln, hn) = (numeric_of(&low), numeric_of(&high));
    let is_float =
        step_is_float || matches!(ln, Number::Float(_)) || matches!(hn, Number::Float(_));
    if is_float {
        let (l, h) = (ln.as_f64(), hn.as_f64());
        if !l.is_finite() || !h.is_finite() || step.is_nan() {
            return Err(range_error());
        }
        let span = (h - l).abs();
        if span == 0.0 {
            return Ok(Value::list([Value::Float(l)]));
        }
        if step <= 0.0 || span < step {
            return Err(range_error());
        }
        let n = ((span / step).floor() as u64).saturating_add(1);
        check_array_len(env, usize::try_from(n).unwrap_or(usize::MAX), "range")?;
        env.charge(n / 64 + 1)?;
        let dir = if h >= l { 1.0 } else { -1.0 };
        return Ok(Value::list(
            (0..n).map(|i| Value::Float(l + dir * i as f64 * step)),
        ));
    }
    let (l, h) = (
        convert::to_int(&ln.to_value()),
        convert::to_int(&hn.to_value()),
    );
    let span = (i128::from(h) - i128::from(l)).unsigned_abs();
    if span == 0 {
        return Ok(Value::list([Value::Int(l)]));
    }
    let lstep = step as u128;
    if lstep == 0 || span < lstep {
        return Err(range_error());
    }
    let n = span / lstep + 1;
    if n > max_len as u128 {
        return Err(CallError::Limit(format!(
            "range: array length limit ({max_len}) exceeded"
        )));
    }
    env.charge((n as u64) / 64 + 1)?;
    let dir: i128 = if h >= l { 1 } else { -1 };
    Ok(Value::list((0..n).map(|i| {
        let x = i128::from(l) + dir * (i as i128) * (lstep as i128);
        Value::Int(x as i64)
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::{TestEnv, a, j, je};

    fn js(f: crate::callable::FunctionFn, args: Vec<Value>) -> String {
        match f(&mut TestEnv::default(), &a(args)) {
            Ok(r) => je(&r),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(
            js(range, vec![Value::Int(0), Value::Int(10), Value::Int(5)]),
            "[0,5,10]"
        );
        assert_eq!(js(range, vec![Value::Int(5), Value::Int(1)]), "[5,4,3,2,1]");
        assert_eq!(
            js(range, vec![Value::str("a"), Value::str("e"), Value::Int(2)]),
            r#"["a","c","e"]"#
        );
        assert_eq!(
            js(
                range,
                vec![Value::Int(0), Value::Int(1), Value::Float(0.25)]
            ),
            "[0,0.25,0.5,0.75,1]"
        );
        assert_eq!(
            js(range, vec![Value::str("A"), Value::str("c")])
                .matches(',')
                .count(),
            34
        );
        assert!(
            js(range, vec![Value::Int(0), Value::Int(1), Value::Int(0)])
                .contains("must not exceed")
        );
        assert!(js(range, vec![Value::Int(0), Value::Int(i64::MAX)]).contains("Limit"));
        assert_eq!(
            js(
                range,
                vec![Value::Int(1), Value::Int(2), Value::Int(1), Value::Int(1)]
            ),
            "ArgumentCount"
        );
    }

    #[test]
    fn extremes() {
        assert_eq!(
            js(max, vec![Value::Int(1), Value::Int(3), Value::Int(2)]),
            "3"
        );
        assert_eq!(js(max, vec![j(r#"{"a":1,"b":9}"#)]), "9");
        assert_eq!(
            js(max, vec![Value::str("apple"), Value::str("banana")]),
            r#""banana""#
        );
        assert_eq!(js(max, vec![Value::Int(1), Value::str("2")]), r#""2""#);
        assert_eq!(js(max, vec![Value::str("abc"), Value::Int(0)]), r#""abc""#);
        assert!(js(max, vec![Value::Int(1)]).contains("must be of type array, int given"));
        assert!(
            js(min, vec![j("[]")])
                .contains("min(): Argument #1 ($value) must contain at least one element")
        );
        assert_eq!(js(min, vec![]), "ArgumentCount");
    }

    #[test]
    fn misc() {
        assert_eq!(js(cycle, vec![j(r#"["a","b"]"#), Value::Int(3)]), r#""b""#);
        assert_eq!(js(attribute, vec![j("[5,6]"), Value::Int(1)]), "6");
        assert_eq!(js(random, vec![j(r#"["x"]"#)]), r#""x""#);
        assert_eq!(js(random, vec![Value::Int(3), Value::Int(3)]), "3");
        assert!(js(random, vec![j("[]")]).contains("cannot pick from an empty array"));
        assert_eq!(js(random, vec![Value::str("")]), r#""""#);
    }
}
