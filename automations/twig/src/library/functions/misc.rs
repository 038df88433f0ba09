//! Cerb's other pure functions: clamp_float, clamp_int, json_decode,
//! random_string, regexp_match_all, validate_email, validate_number.

use crate::callable::{Args, CallError, Env};
use crate::library::filters::parsing::parse_addresses;
use crate::library::pcre::Pcre;
use crate::library::util::{self, charge_for, opt, to_str};
use katabox_value::Value;
use katabox_value::convert::{self, Number};

fn numeric(v: &Value) -> Option<Number> {
    match util::unmark(v.clone()) {
        Value::Int(i) => Some(Number::Int(i)),
        Value::Float(f) => Some(Number::Float(f)),
        Value::Str(s) => convert::parse_numeric(s.as_bytes()),
        _ => None,
    }
}

/// `cerb_url(url, full=true, proxy=true)`: Cerb's URL writer with URL
/// rewriting on: the values of the `a=b&c=d` query joined with `/`, after
/// the public base URL (`serve --public-url`) when `full`, or after `/`.
pub fn cerb_url(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let q = match opt(args, 0) {
        Some(v) => to_str(&util::unmark(v.clone()))?,
        None => Default::default(),
    };
    let full = opt(args, 1).is_none_or(convert::truthy);
    let q = q.to_string_lossy();
    let parts: Vec<&str> = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').map_or("", |(_, v)| v))
        .collect();
    let path = parts.join("/");
    let base = if full {
        crate::public_url().unwrap_or("")
    } else {
        ""
    };
    Ok(Value::str(format!("{base}/{path}")))
}

/// `cerb_record_readable(...)` / `cerb_record_writeable(...)`: katabox
/// has no records, so no actor can read or write one.
pub fn cerb_record_access(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    args.required(0)?;
    args.required(1)?;
    Ok(Value::Bool(false))
}

/// PHP's `min(max($x, $min), $max)`: loose comparison, and the bound
/// itself (not converted) when it wins.
fn clamp(x: Value, min: Value, max: Value) -> Value {
    use katabox_value::compare::spaceship;
    let lo = if spaceship(&min, &x) == 1 { min } else { x };
    if spaceship(&max, &lo) == -1 { max } else { lo }
}

/// `clamp_float(string, min=PHP_FLOAT_MIN, max=PHP_FLOAT_MAX)`:
/// `floatClamp` (`floatval`, then PHP's `max`/`min`).
pub fn clamp_float(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let v = util::unmark(args.required(0)?.clone());
    if numeric(&v).is_none() {
        return Ok(Value::Bool(false));
    }
    let min = opt(args, 1)
        .cloned()
        .unwrap_or(Value::Float(f64::MIN_POSITIVE));
    let max = opt(args, 2).cloned().unwrap_or(Value::Float(f64::MAX));
    Ok(clamp(Value::Float(convert::to_float(&v)), min, max))
}

/// `clamp_int(string, min=PHP_INT_MIN, max=PHP_INT_MAX)`: `intClamp`
/// (`intval`, then PHP's `max`/`min`).
pub fn clamp_int(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let v = util::unmark(args.required(0)?.clone());
    if numeric(&v).is_none() {
        return Ok(Value::Bool(false));
    }
    let min = opt(args, 1).cloned().unwrap_or(Value::Int(i64::MIN));
    let max = opt(args, 2).cloned().unwrap_or(Value::Int(i64::MAX));
    Ok(clamp(Value::Int(convert::to_int(&v)), min, max))
}

/// `json_decode(str)`.
pub fn json_decode(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let v = util::unmark(args.get(0).cloned().unwrap_or(Value::Null));
    let s = match &v {
        Value::Null => return Ok(Value::Null),
        Value::Array(_) => {
            return Err(CallError::Php(
                "json_decode(): Argument #1 ($json) must be of type string, array given".into(),
            ));
        }
        other => to_str(other)?,
    };
    charge_for(env, s.len())?;
    Ok(katabox_value::json::decode(s.as_bytes()).unwrap_or(Value::Null))
}

/// `kata_parse(string)`: the tree without evaluating annotations.
pub fn kata_parse(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(s) = util::cerb_str(args.required(0)?) else {
        return Ok(Value::empty_array());
    };
    charge_for(env, s.len())?;
    Ok(katabox_kata::parse(&s.to_string_lossy()).map_or(Value::empty_array(), |t| t.to_value()))
}

const RANDOM_CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ123456789";

/// `random_string(length=8)`.
pub fn random_string(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let len = match args.get(0) {
        None => 8,
        Some(v) => match numeric(v) {
            Some(n) => convert::to_int(&n.to_value()),
            None => 1,
        },
    }
    .clamp(1, 255) as usize;
    let out: Vec<u8> = (0..len)
        .map(|_| RANDOM_CHARS[fastrand::usize(..RANDOM_CHARS.len())])
        .collect();
    Ok(Value::bytes(out))
}

/// `regexp_match_all(pattern, text, group=0)`.
pub fn regexp_match_all(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let pat = to_str(args.required(0)?)?;
    let text = to_str(&util::unmark(args.required(1)?.clone()))?;
    let group = opt(args, 2).map_or(0, convert::to_int);
    let Ok(re) = Pcre::new(pat.as_bytes()) else {
        return Ok(Value::empty_array());
    };
    charge_for(env, text.len())?;
    let matches = re.all(text.as_bytes(), env.limits().max_array_len);
    let n = re.group_count();
    let column = |g: usize| {
        Value::list(matches.iter().map(|m| match m.get(g).copied().flatten() {
            Some((a, b)) => Value::bytes(&text.as_bytes()[a..b]),
            None => Value::str(""),
        }))
    };
    if group == 0 {
        return Ok(Value::list((0..n).map(column)));
    }
    match usize::try_from(group) {
        Ok(g) if g < n => Ok(column(g)),
        _ => Ok(Value::empty_array()),
    }
}

/// `validate_email(string)`.
pub fn validate_email(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Value::Str(s) = args.required(0)? else {
        return Ok(Value::Bool(false));
    };
    let t = s.to_string_lossy();
    let ok = t.find('@').is_some_and(|p| p > 0) && parse_addresses(&t).len() == 1;
    Ok(Value::Bool(ok))
}

/// `validate_number(number)`.
pub fn validate_number(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let v = args.required(0)?;
    let ok = match v {
        Value::Int(_) | Value::Float(_) => true,
        Value::Str(s) => convert::parse_numeric(s.as_bytes()).is_some(),
        _ => false,
    };
    Ok(Value::Bool(ok))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::{TestEnv, a, je};

    fn js(f: crate::callable::FunctionFn, args: Vec<Value>) -> String {
        match f(&mut TestEnv::default(), &a(args)) {
            Ok(r) => je(&r),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn clamps() {
        assert_eq!(
            js(
                clamp_float,
                vec![Value::Float(-105.19), Value::Int(0), Value::Int(100)]
            ),
            "0"
        );
        assert_eq!(
            js(
                clamp_int,
                vec![Value::Int(110), Value::Int(-90), Value::Int(90)]
            ),
            "90"
        );
        assert_eq!(
            js(
                clamp_int,
                vec![Value::str("5.9"), Value::Int(0), Value::Int(10)]
            ),
            "5"
        );
        assert_eq!(js(clamp_int, vec![Value::str("x")]), "false");
        let r = clamp_float(&mut TestEnv::default(), &a(vec![Value::Int(-5)]));
        assert_eq!(
            r.map(|v| v.to_string_lossy()),
            Ok("2.2250738585072E-308".to_string())
        );
    }

    #[test]
    fn decoding_and_validation() {
        assert_eq!(
            js(json_decode, vec![Value::str(r#" {"a":1,"b":[1,2]} "#)]),
            r#"{"a":1,"b":[1,2]}"#
        );
        assert_eq!(js(json_decode, vec![Value::str("nope")]), "null");
        assert_eq!(js(json_decode, vec![Value::Int(5)]), "5");
        assert_eq!(js(json_decode, vec![Value::Bool(true)]), "1");
        assert!(js(json_decode, vec![Value::empty_array()]).contains("array given"));
        assert_eq!(js(validate_email, vec![Value::str("kina")]), "false");
        assert_eq!(
            js(validate_email, vec![Value::str("kina@cerb.example")]),
            "true"
        );
        for (v, want) in [
            ("20.f", "false"),
            ("123.45", "true"),
            ("1e3", "true"),
            ("0x1A", "false"),
        ] {
            assert_eq!(js(validate_number, vec![Value::str(v)]), want, "{v}");
        }
        assert_eq!(js(validate_number, vec![Value::Bool(true)]), "false");
    }

    #[test]
    fn random_strings_and_matches() {
        let r = random_string(&mut TestEnv::default(), &a(vec![Value::Int(20)]));
        let s = r.map(|v| v.to_string_lossy()).unwrap_or_default();
        assert_eq!(s.len(), 20);
        assert!(s.bytes().all(|b| RANDOM_CHARS.contains(&b)));
        let r = random_string(&mut TestEnv::default(), &a(vec![Value::Int(9999)]));
        assert_eq!(r.map(|v| v.to_string_lossy().len()), Ok(255));
        assert_eq!(
            js(
                regexp_match_all,
                vec![
                    Value::str("#^(.*?): (.*?)$#m"),
                    Value::str("X-Mailer: Cerb\nFrom: a@b")
                ]
            ),
            r#"[["X-Mailer: Cerb","From: a@b"],["X-Mailer","From"],["Cerb","a@b"]]"#
        );
        assert_eq!(
            js(
                regexp_match_all,
                vec![Value::str("/(a)/"), Value::str("aa"), Value::Int(1)]
            ),
            r#"["a","a"]"#
        );
        assert_eq!(
            js(regexp_match_all, vec![Value::str("bad"), Value::str("aa")]),
            "[]"
        );
    }
}
