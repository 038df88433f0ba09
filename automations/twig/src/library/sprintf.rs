//! PHP's `sprintf` (scripting.md Appendix C).

use crate::callable::CallError;
use katabox_value::Value;
use katabox_value::convert::{self, Number};

/// Longest width or precision accepted (PHP refuses larger ones).
const MAX_WIDTH: usize = 1 << 20;

struct Spec {
    left: bool,
    plus: bool,
    pad: u8,
    width: usize,
    precision: Option<usize>,
}

/// Formats `fmt` with `args` as PHP's `sprintf`; `max_len` bounds the output.
pub fn sprintf(fmt: &[u8], args: &[Value], max_len: usize) -> Result<Vec<u8>, CallError> {
    let mut out = Vec::with_capacity(fmt.len());
    let mut i = 0;
    let mut next_arg = 0usize;
    while i < fmt.len() {
        let c = fmt[i];
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        if fmt.get(i) == Some(&b'%') {
            out.push(b'%');
            i += 1;
            continue;
        }
        // argnum$
        let mut argnum = None;
        let mut j = i;
        while j < fmt.len() && fmt[j].is_ascii_digit() {
            j += 1;
        }
        if j > i && fmt.get(j) == Some(&b'$') {
            let n: usize = std::str::from_utf8(&fmt[i..j])
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            if n == 0 || n > i32::MAX as usize {
                return Err(CallError::Php(
                    "Argument number specifier must be greater than zero and less than 2147483647"
                        .into(),
                ));
            }
            argnum = Some(n - 1);
            i = j + 1;
        }
        let mut spec = Spec {
            left: false,
            plus: false,
            pad: b' ',
            width: 0,
            precision: None,
        };
        loop {
            match fmt.get(i) {
                Some(b'-') => spec.left = true,
                Some(b'+') => spec.plus = true,
                Some(b'0') => spec.pad = b'0',
                Some(b' ') => spec.pad = b' ',
                Some(b'\'') => {
                    i += 1;
                    match fmt.get(i) {
                        Some(&p) => spec.pad = p,
                        None => return Err(CallError::Php("Missing padding character".into())),
                    }
                }
                _ => break,
            }
            i += 1;
        }
        let (w, ni) = read_num(fmt, i)?;
        spec.width = w.unwrap_or(0);
        i = ni;
        if fmt.get(i) == Some(&b'.') {
            let (p, ni) = read_num(fmt, i + 1)?;
            spec.precision = Some(p.unwrap_or(0));
            i = ni;
        }
        let Some(&conv) = fmt.get(i) else {
            return Err(CallError::Php(
                "Missing format specifier at end of string".into(),
            ));
        };
        i += 1;
        let idx = match argnum {
            Some(n) => n,
            None => {
                next_arg += 1;
                next_arg - 1
            }
        };
        let arg = args.get(idx).ok_or(CallError::ArgumentCount)?;
        format_one(&mut out, conv, &spec, arg)?;
        if out.len() > max_len {
            return Err(CallError::Limit(format!(
                "format: string size limit ({max_len} bytes) exceeded"
            )));
        }
    }
    Ok(out)
}

fn read_num(fmt: &[u8], mut i: usize) -> Result<(Option<usize>, usize), CallError> {
    let start = i;
    while i < fmt.len() && fmt[i].is_ascii_digit() {
        i += 1;
    }
    if i == start {
        return Ok((None, i));
    }
    let n: usize = std::str::from_utf8(&fmt[start..i])
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(usize::MAX);
    if n > MAX_WIDTH {
        return Err(CallError::Php(
            "Width must be greater than zero and less than 2147483647".into(),
        ));
    }
    Ok((Some(n), i))
}

fn to_i64(v: &Value) -> i64 {
    convert::to_int(v)
}

fn to_f64(v: &Value) -> f64 {
    match v {
        Value::Str(s) => convert::parse_leading_numeric(s.as_bytes()).map_or(0.0, Number::as_f64),
        other => convert::to_float(other),
    }
}

/// Pads `body` (with its sign already in front for numbers) to the width.
fn pad(out: &mut Vec<u8>, body: &[u8], spec: &Spec, numeric: bool) {
    let len = body.len();
    if spec.width <= len {
        out.extend_from_slice(body);
        return;
    }
    let fill = spec.width - len;
    if spec.left {
        out.extend_from_slice(body);
        let p = if spec.pad == b'0' && numeric {
            b' '
        } else {
            spec.pad
        };
        let p = if spec.pad == b'0' && !numeric {
            b'0'
        } else {
            p
        };
        out.extend(std::iter::repeat_n(p, fill));
    } else if numeric && spec.pad == b'0' && matches!(body.first(), Some(b'-') | Some(b'+')) {
        out.push(body[0]);
        out.extend(std::iter::repeat_n(b'0', fill));
        out.extend_from_slice(&body[1..]);
    } else {
        out.extend(std::iter::repeat_n(spec.pad, fill));
        out.extend_from_slice(body);
    }
}

fn format_one(out: &mut Vec<u8>, conv: u8, spec: &Spec, arg: &Value) -> Result<(), CallError> {
    match conv {
        b's' => {
            let s = convert::to_pstr(arg).map_err(|e| CallError::Php(e.0))?;
            let mut b = s.as_bytes();
            if let Some(p) = spec.precision
                && p < b.len()
            {
                b = &b[..p];
            }
            pad(out, b, spec, false);
        }
        b'd' => {
            let n = to_i64(arg);
            let mut body = n.to_string();
            if spec.plus && n >= 0 {
                body.insert(0, '+');
            }
            pad(out, body.as_bytes(), spec, true);
        }
        b'u' => {
            let n = to_i64(arg) as u64;
            pad(out, n.to_string().as_bytes(), spec, true);
        }
        b'c' => out.push(to_i64(arg) as u8),
        b'b' => pad(
            out,
            format!("{:b}", to_i64(arg) as u64).as_bytes(),
            spec,
            true,
        ),
        b'o' => pad(
            out,
            format!("{:o}", to_i64(arg) as u64).as_bytes(),
            spec,
            true,
        ),
        b'x' => pad(
            out,
            format!("{:x}", to_i64(arg) as u64).as_bytes(),
            spec,
            true,
        ),
        b'X' => pad(
            out,
            format!("{:X}", to_i64(arg) as u64).as_bytes(),
            spec,
            true,
        ),
        b'e' | b'E' | b'f' | b'F' | b'g' | b'G' => {
            let f = to_f64(arg);
            let prec = spec.precision.unwrap_or(6).min(53);
            let mut body = float_body(f, conv, prec);
            if spec.plus && f >= 0.0 && !body.starts_with('-') {
                body.insert(0, '+');
            }
            pad(out, body.as_bytes(), spec, true);
        }
        other => {
            return Err(CallError::Php(format!(
                "Unknown format specifier \"{}\"",
                char::from(other)
            )));
        }
    }
    Ok(())
}

fn float_body(f: f64, conv: u8, prec: usize) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Inf".into() } else { "-Inf".into() };
    }
    match conv {
        b'f' | b'F' => format!("{f:.prec$}"),
        b'e' | b'E' => {
            let s = exp_form(f, prec);
            if conv == b'E' { s.to_uppercase() } else { s }
        }
        _ => {
            let p = if prec == 0 { 1 } else { prec };
            let s = general(f, p);
            if conv == b'G' { s.to_uppercase() } else { s }
        }
    }
}

/// `d.ddde+X` with an unpadded exponent.
fn exp_form(f: f64, prec: usize) -> String {
    let s = format!("{f:.prec$e}");
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}e{sign}{digits}")
        }
        None => s,
    }
}

/// PHP `%g`: `p` significant digits, scientific when the exponent is < -4 or >= p.
fn general(f: f64, p: usize) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let e_form = format!("{:.*e}", p.saturating_sub(1), f);
    let (mant, exp) = e_form.split_once('e').unwrap_or((&e_form, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i64 {
        let mut mant = trim_zeros(mant).to_string();
        // PHP always writes a decimal part in the exponential form (`1.0e+6`).
        if !mant.contains('.') {
            mant.push_str(".0");
        }
        let (sign, digits) = if exp < 0 { ('-', -exp) } else { ('+', exp) };
        format!("{mant}e{sign}{digits}")
    } else {
        let decimals = (p as i64 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{f:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
#[allow(clippy::approx_constant)]
mod tests {
    use super::*;

    fn f(fmt: &str, args: Vec<Value>) -> String {
        String::from_utf8_lossy(&sprintf(fmt.as_bytes(), &args, 1 << 20).unwrap_or_default())
            .into_owned()
    }

    #[test]
    fn appendix_c() {
        assert_eq!(
            f(
                "%5.1f|%-5s|%05.1f|%+d",
                vec![
                    Value::Float(3.14159),
                    Value::str("ab"),
                    Value::Float(2.5),
                    Value::Int(5)
                ]
            ),
            "  3.1|ab   |002.5|+5"
        );
        assert_eq!(
            f("%2$s %1$s", vec![Value::str("a"), Value::str("b")]),
            "b a"
        );
        assert_eq!(
            f(
                "%o %X %E %g",
                vec![
                    Value::Int(8),
                    Value::Int(255),
                    Value::Float(12345.678),
                    Value::Float(0.00001234)
                ]
            ),
            "10 FF 1.234568E+4 1.234e-5"
        );
        assert_eq!(f("%u", vec![Value::Int(-1)]), "18446744073709551615");
        assert_eq!(
            f(
                "%g|%g|%G",
                vec![
                    Value::Int(1_000_000),
                    Value::Int(100_000),
                    Value::Float(123_456_789.0)
                ]
            ),
            "1.0e+6|100000|1.23457E+8"
        );
        assert_eq!(f("%e", vec![Value::Float(1234.5)]), "1.234500e+3");
        assert_eq!(
            f(
                "%s has %d items",
                vec![Value::str("Kina"), Value::Float(3.7)]
            ),
            "Kina has 3 items"
        );
        assert_eq!(f("%d", vec![Value::str("3 apples")]), "3");
        assert_eq!(f("%f", vec![Value::str("abc")]), "0.000000");
        assert_eq!(f("%05d", vec![Value::Int(-3)]), "-0003");
        assert_eq!(f("%'*8s", vec![Value::str("x")]), "*******x");
    }

    #[test]
    fn too_few_arguments() {
        assert_eq!(
            sprintf(b"%s %s", &[Value::Int(1)], 100),
            Err(CallError::ArgumentCount)
        );
    }
}
