//! Cerb's encoding filters: base64*, md5, sha1, hash_hmac, url_decode,
//! unescape, base_convert, json_encode, json_pretty, csv, parse_csv,
//! kata_encode, values.

use crate::callable::{Args, CallError, Env};
use crate::library::json_enc;
use crate::library::util::{self, cerb_str, charge_for, check_str_len, opt, to_str};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use katabox_value::convert;
use katabox_value::{Array, Key, PStr, Value};
use sha2::Digest;

fn empty() -> Value {
    Value::str("")
}

/// `base64_encode`.
pub fn base64_encode(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    Ok(match cerb_str(&v) {
        Some(s) => Value::str(base64::engine::general_purpose::STANDARD.encode(s.as_bytes())),
        None => empty(),
    })
}

/// PHP's lenient `base64_decode`: characters outside the alphabet skipped.
pub fn lenient_base64(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in b {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// `base64_decode`.
pub fn base64_decode(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    Ok(match cerb_str(&v) {
        Some(s) => Value::bytes(lenient_base64(s.as_bytes())),
        None => empty(),
    })
}

/// `base64url_encode`.
pub fn base64url_encode(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    Ok(match cerb_str(&v) {
        Some(s) => {
            Value::str(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s.as_bytes()))
        }
        None => empty(),
    })
}

/// `base64url_decode`.
pub fn base64url_decode(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    Ok(match cerb_str(&v) {
        Some(s) => {
            let mapped: Vec<u8> = s
                .as_bytes()
                .iter()
                .map(|c| match c {
                    b'-' => b'+',
                    b'_' => b'/',
                    o => *o,
                })
                .collect();
            Value::bytes(lenient_base64(&mapped))
        }
        None => empty(),
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `md5`.
pub fn md5(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    Ok(match cerb_str(&v) {
        Some(s) => Value::str(hex(&md5::Md5::digest(s.as_bytes()))),
        None => empty(),
    })
}

/// `sha1`.
pub fn sha1(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    Ok(match cerb_str(&v) {
        Some(s) => Value::str(hex(&sha1::Sha1::digest(s.as_bytes()))),
        None => empty(),
    })
}

fn hmac_bytes(algo: &str, key: &[u8], msg: &[u8]) -> Option<Vec<u8>> {
    macro_rules! run {
        ($t:ty) => {{
            let mut m = <Hmac<$t> as Mac>::new_from_slice(key).ok()?;
            m.update(msg);
            Some(m.finalize().into_bytes().to_vec())
        }};
    }
    match algo {
        "md5" => run!(md5::Md5),
        "sha1" => run!(sha1::Sha1),
        "sha224" => run!(sha2::Sha224),
        "sha256" => run!(sha2::Sha256),
        "sha384" => run!(sha2::Sha384),
        "sha512" => run!(sha2::Sha512),
        "sha512/224" => run!(sha2::Sha512_224),
        "sha512/256" => run!(sha2::Sha512_256),
        _ => None,
    }
}

/// `hash_hmac(key='', algo='sha256', raw=false)`.
pub fn hash_hmac(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let Some(msg) = cerb_str(&v) else {
        return Ok(empty());
    };
    let key = match args.get(0) {
        None => PStr::default(),
        Some(k) => match cerb_str(k) {
            Some(k) => k,
            None => return Ok(empty()),
        },
    };
    let algo = match args.get(1) {
        None => PStr::from("sha256"),
        Some(a) => match cerb_str(a) {
            Some(a) => a,
            None => return Ok(empty()),
        },
    };
    if msg.is_empty() || msg.as_bytes() == b"0" {
        return Ok(empty());
    }
    let raw = util::bool_arg(args, 2, false);
    let algo = algo.to_string_lossy().to_ascii_lowercase();
    match hmac_bytes(&algo, key.as_bytes(), msg.as_bytes()) {
        Some(d) if raw => Ok(Value::bytes(d)),
        Some(d) => Ok(Value::str(hex(&d))),
        None => Err(CallError::Php(
            "hash_hmac(): Argument #1 ($algo) must be a valid cryptographic hashing algorithm"
                .into(),
        )),
    }
}

fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Percent-decoding; `plus` also turns `+` into a space (`urldecode`).
pub fn percent_decode(b: &[u8], plus: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hexval(b[i + 1]), hexval(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// PHP `parse_str` into an array.
pub fn parse_str(b: &[u8]) -> Array {
    let mut out = Array::new();
    for pair in b.split(|c| *c == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.iter().position(|c| *c == b'=') {
            Some(p) => (&pair[..p], &pair[p + 1..]),
            None => (pair, &b""[..]),
        };
        let key = percent_decode(k, true);
        let val = Value::bytes(percent_decode(v, true));
        // Split `a[b][]` into the base and the bracket segments.
        let (base, segs) = match key.iter().position(|c| *c == b'[') {
            Some(p) if p > 0 => {
                let mut segs = Vec::new();
                let mut rest = &key[p..];
                while rest.first() == Some(&b'[') {
                    match rest.iter().position(|c| *c == b']') {
                        Some(e) => {
                            segs.push(rest[1..e].to_vec());
                            rest = &rest[e + 1..];
                        }
                        None => break,
                    }
                }
                (key[..p].to_vec(), segs)
            }
            _ => (key.clone(), Vec::new()),
        };
        if base.is_empty() {
            continue;
        }
        let base: Vec<u8> = base
            .iter()
            .map(|c| if *c == b' ' || *c == b'.' { b'_' } else { *c })
            .collect();
        let mut path = vec![Some(base)];
        path.extend(
            segs.into_iter()
                .map(|s| if s.is_empty() { None } else { Some(s) }),
        );
        set_path(&mut out, &path, val, 0);
    }
    out
}

fn set_path(a: &mut Array, path: &[Option<Vec<u8>>], val: Value, depth: usize) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() || depth > 64 {
        match first {
            Some(k) => a.insert(Key::from_bytes(k), val),
            None => a.push(val),
        }
        return;
    }
    let key = match first {
        Some(k) => Key::from_bytes(k),
        None => Key::Int(a.next_index()),
    };
    let mut child = match a.get(&key) {
        Some(Value::Array(c)) => (**c).clone(),
        _ => Array::new(),
    };
    set_path(&mut child, rest, val, depth + 1);
    a.insert(key, Value::array(child));
}

/// `url_decode(as='')`.
pub fn url_decode(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(&v) else {
        return Ok(empty());
    };
    let mode = util::str_arg(args, 0, "")?;
    if mode.as_bytes().eq_ignore_ascii_case(b"json") {
        let parsed = Value::array(parse_str(s.as_bytes()));
        return json_enc::encode_value(&parsed, 0, 512, env.limits().max_string_bytes);
    }
    Ok(Value::bytes(percent_decode(s.as_bytes(), false)))
}

/// `unescape(mode, flags)`: HTML 4.01 entity decoding (`&apos;` kept).
pub fn unescape(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let s = to_str(&util::unmark(v))?;
    let t = s.to_string_lossy();
    let parts: Vec<String> = t
        .split("&apos;")
        .map(|p| html_escape::decode_html_entities(p).into_owned())
        .collect();
    Ok(Value::str(parts.join("&apos;")))
}

/// `base_convert(base_from, base_to)`.
pub fn base_convert(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let Some(s) = util::scalar_str(&v) else {
        return Ok(empty());
    };
    let from = args.required(0)?;
    let to = args.required(1)?;
    let (Some(from), Some(to)) = (num_base(from), num_base(to)) else {
        return Ok(empty());
    };
    if !(2..=36).contains(&from) {
        return Err(CallError::Php(
            "base_convert(): Argument #2 ($from_base) must be between 2 and 36 (inclusive)".into(),
        ));
    }
    if !(2..=36).contains(&to) {
        return Err(CallError::Php(
            "base_convert(): Argument #3 ($to_base) must be between 2 and 36 (inclusive)".into(),
        ));
    }
    let mut n: u64 = 0;
    let mut f: Option<f64> = None;
    for &c in s.as_bytes() {
        let d = match c {
            b'0'..=b'9' => u64::from(c - b'0'),
            b'a'..=b'z' => u64::from(c - b'a' + 10),
            b'A'..=b'Z' => u64::from(c - b'A' + 10),
            _ => continue,
        };
        if d >= from as u64 {
            continue;
        }
        match f {
            Some(x) => f = Some(x * from as f64 + d as f64),
            None => match n.checked_mul(from as u64).and_then(|m| m.checked_add(d)) {
                Some(m) if m <= i64::MAX as u64 => n = m,
                _ => f = Some(n as f64 * from as f64 + d as f64),
            },
        }
    }
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    match f {
        None => {
            if n == 0 {
                out.push(b'0');
            }
            while n > 0 {
                out.push(digits[(n % to as u64) as usize]);
                n /= to as u64;
            }
        }
        Some(mut x) => {
            if !x.is_finite() {
                return Ok(empty());
            }
            x = x.floor();
            loop {
                out.push(digits[(x % to as f64) as usize % 36]);
                x = (x / to as f64).floor();
                if x < 1.0 {
                    break;
                }
            }
        }
    }
    out.reverse();
    Ok(Value::bytes(out))
}

fn num_base(v: &Value) -> Option<i64> {
    match util::unmark(v.clone()) {
        Value::Int(i) => Some(i),
        Value::Float(f) => Some(convert::float_to_int(f)),
        Value::Str(s) => {
            convert::parse_numeric(s.as_bytes()).map(|n| convert::to_int(&n.to_value()))
        }
        _ => None,
    }
}

/// `json_encode(flags=0, depth=512)`.
pub fn json_encode(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    if args.len() > 2 {
        return Err(CallError::ArgumentCount);
    }
    let flags = opt(args, 0).map_or(0, convert::to_int);
    let depth = opt(args, 1).map_or(512, convert::to_int);
    if depth <= 0 {
        return Err(CallError::Php(
            "json_encode(): Argument #3 ($depth) must be greater than 0".into(),
        ));
    }
    // Deeper nesting than PHP's default is refused to bound recursion.
    let depth = usize::try_from(depth).unwrap_or(usize::MAX).min(512);
    let out = json_enc::encode_value(&v, flags, depth, env.limits().max_string_bytes)?;
    if let Value::Str(o) = &out {
        charge_for(env, o.len())?;
    }
    Ok(out)
}

/// `json_pretty`.
pub fn json_pretty(env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(&v) else {
        return Ok(empty());
    };
    let decoded = katabox_value::json::decode(s.as_bytes()).unwrap_or(Value::Null);
    json_enc::encode_value(
        &decoded,
        128 | 64 | 2_097_152,
        512,
        env.limits().max_string_bytes,
    )
}

fn csv_field(v: &Value) -> Result<Vec<u8>, CallError> {
    let s = to_str(v)?;
    let b = s.as_bytes();
    let needs = b
        .iter()
        .any(|c| matches!(c, b',' | b'"' | b'\\' | b' ' | b'\t' | b'\r' | b'\n'));
    if !needs {
        return Ok(b.to_vec());
    }
    let mut out = Vec::with_capacity(b.len() + 2);
    out.push(b'"');
    for &c in b {
        if c == b'"' {
            out.push(b'"');
        }
        out.push(c);
    }
    out.push(b'"');
    Ok(out)
}

/// `csv`: rows to CSV text.
pub fn csv(env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let Some(rows) = v.as_array() else {
        return Ok(Value::Null);
    };
    let mut out = Vec::new();
    for row in rows.values() {
        let Some(cells) = row.as_array() else {
            continue;
        };
        let mut first = true;
        for cell in cells.values() {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend(csv_field(cell)?);
        }
        out.push(b'\n');
        check_str_len(env, out.len(), "csv")?;
    }
    charge_for(env, out.len())?;
    Ok(Value::bytes(out))
}

/// PHP `str_getcsv`-style parsing of one text into rows.
pub fn parse_csv_rows(b: &[u8], sep: u8, enc: u8, esc: Option<u8>) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut i = 0;
    while i < b.len() {
        // A blank line.
        if b[i] == b'\n' || (b[i] == b'\r' && b.get(i + 1) == Some(&b'\n')) {
            rows.push(Value::list([Value::Null]));
            i += if b[i] == b'\r' { 2 } else { 1 };
            continue;
        }
        let mut fields = Vec::new();
        let mut field = Vec::new();
        let mut in_quotes = false;
        let mut was_quoted = false;
        while let Some(&c) = b.get(i) {
            if in_quotes {
                if Some(c) == esc && esc != Some(enc) && b.get(i + 1).is_some() {
                    field.push(c);
                    field.push(b[i + 1]);
                    i += 2;
                    continue;
                }
                if c == enc {
                    if b.get(i + 1) == Some(&enc) {
                        field.push(enc);
                        i += 2;
                        continue;
                    }
                    in_quotes = false;
                    i += 1;
                    continue;
                }
                field.push(c);
                i += 1;
                continue;
            }
            if c == enc && field.iter().all(|x| *x == b' ' || *x == b'\t') && !was_quoted {
                field.clear();
                in_quotes = true;
                was_quoted = true;
                i += 1;
                continue;
            }
            if c == sep {
                fields.push(Value::bytes(std::mem::take(&mut field)));
                was_quoted = false;
                i += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                i += 1;
                if c == b'\r' && b.get(i) == Some(&b'\n') {
                    i += 1;
                }
                break;
            }
            field.push(c);
            i += 1;
        }
        fields.push(Value::bytes(field));
        rows.push(Value::list(fields));
    }
    rows
}

/// `parse_csv(separator=',', enclosure='"', escape='\\')`.
pub fn parse_csv(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(&v) else {
        return Ok(Value::empty_array());
    };
    if s.is_empty() {
        return Ok(Value::list([Value::Bool(false)]));
    }
    let first_byte = |i: usize, d: u8| -> Result<Option<u8>, CallError> {
        Ok(match args.get(i) {
            None => Some(d),
            Some(x) => to_str(x)?.as_bytes().first().copied(),
        })
    };
    let sep = first_byte(0, b',')?.unwrap_or(b',');
    let enc = first_byte(1, b'"')?.unwrap_or(b'"');
    let esc = first_byte(2, b'\\')?;
    charge_for(env, s.len())?;
    let rows = parse_csv_rows(s.as_bytes(), sep, enc, esc);
    util::check_array_len(env, rows.len(), "parse_csv")?;
    Ok(Value::list(rows))
}

fn kata_lines(
    a: &Array,
    depth: usize,
    out: &mut String,
    env: &mut dyn Env,
) -> Result<(), CallError> {
    if depth > env.limits().max_depth {
        return Err(CallError::Limit(
            "kata_encode: nesting depth limit exceeded".into(),
        ));
    }
    let pad = "  ".repeat(depth);
    let inner = "  ".repeat(depth + 1);
    for (k, v) in a.iter() {
        env.charge(1)?;
        let key = k.to_string_lossy();
        match v {
            Value::Array(sub) if sub.is_list() && !sub.is_empty() => {
                out.push_str(&format!("{pad}{key}@list:\n"));
                for item in sub.values() {
                    out.push_str(&format!("{inner}{}\n", to_str(item)?.to_string_lossy()));
                }
            }
            Value::Array(sub) => {
                out.push_str(&format!("{pad}{key}:\n"));
                kata_lines(sub, depth + 1, out, env)?;
            }
            Value::Int(i) => out.push_str(&format!("{pad}{key}@int: {i}\n")),
            other => {
                let s = to_str(&util::unmark(other.clone()))?;
                let t = s.to_string_lossy();
                if matches!(util::unmark(other.clone()), Value::Str(_))
                    && (t.is_empty() || t.contains('\n'))
                {
                    out.push_str(&format!("{pad}{key}@text:\n"));
                    if !t.is_empty() {
                        for line in t.split('\n') {
                            out.push_str(&format!("{inner}{line}\n"));
                        }
                    }
                } else {
                    out.push_str(&format!("{pad}{key}: {t}\n"));
                }
            }
        }
    }
    Ok(())
}

/// `kata_encode`.
pub fn kata_encode(env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let Some(a) = v.as_array() else {
        return Ok(Value::Null);
    };
    let mut out = String::new();
    kata_lines(a, 0, &mut out, env)?;
    Ok(Value::str(out.trim_end()))
}

/// `values`.
pub fn values(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    match v.as_array() {
        Some(a) => Ok(Value::array(a.values_list())),
        None => Err(CallError::Php(format!(
            "array_values(): Argument #1 ($array) must be of type array, {} given",
            v.type_name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::{j, js, st};

    #[test]
    fn base64_and_hashes() {
        assert_eq!(st(base64_encode, Value::str("hello"), vec![]), "aGVsbG8=");
        assert_eq!(st(base64_decode, Value::str("aGVsbG8"), vec![]), "hello");
        assert_eq!(st(base64url_encode, Value::str("?>?"), vec![]), "Pz4_");
        assert_eq!(st(base64url_decode, Value::str("Pz4_"), vec![]), "?>?");
        assert_eq!(st(base64_encode, Value::Int(5), vec![]), "");
        assert_eq!(
            st(md5, Value::str("You can verify this hash"), vec![]),
            "1c20552e3bae1c4711cf697137002581"
        );
        assert_eq!(
            st(hash_hmac, Value::str("message"), vec![Value::str("secret")]),
            "8b5f48702995c1598c573db1e21866a9b825d4a794d169d7060a03605796360b"
        );
        assert!(
            st(
                hash_hmac,
                Value::str("m"),
                vec![Value::str("k"), Value::str("nope")]
            )
            .contains("valid cryptographic")
        );
        assert_eq!(st(hash_hmac, Value::str("0"), vec![Value::str("k")]), "");
    }

    #[test]
    fn url_and_entities() {
        assert_eq!(st(url_decode, Value::str("a%20b+c%2F"), vec![]), "a b+c/");
        assert_eq!(
            st(
                url_decode,
                Value::str("name=Kina&arr[]=1&arr[]=2&o[k]=v"),
                vec![Value::str("json")]
            ),
            r#"{"name":"Kina","arr":["1","2"],"o":{"k":"v"}}"#
        );
        assert_eq!(
            st(
                unescape,
                Value::str("&quot;iPhone&quot; is &copy; Apple &apos;"),
                vec![]
            ),
            "\"iPhone\" is © Apple &apos;"
        );
        assert_eq!(
            st(
                base_convert,
                Value::Int(255),
                vec![Value::Int(10), Value::Int(16)]
            ),
            "ff"
        );
        assert_eq!(
            st(
                base_convert,
                Value::str("zz"),
                vec![Value::Int(36), Value::Int(10)]
            ),
            "1295"
        );
    }

    #[test]
    fn json_filters() {
        assert_eq!(
            st(json_encode, j(r#"{"b":"x/y"}"#), vec![Value::Int(64)]),
            r#"{"b":"x/y"}"#
        );
        assert_eq!(
            st(
                json_encode,
                Value::Int(1),
                vec![Value::Int(0), Value::Int(1), Value::Int(1)]
            ),
            "ArgumentCount"
        );
        assert_eq!(
            st(
                json_pretty,
                Value::str(r#"{"a":1,"b":[1,2],"c":"x/y"}"#),
                vec![]
            ),
            "{\n    \"a\": 1,\n    \"b\": [\n        1,\n        2\n    ],\n    \"c\": \"x/y\"\n}"
        );
        assert_eq!(st(json_pretty, Value::str("nope"), vec![]), "null");
        assert_eq!(st(json_pretty, j("[1]"), vec![]), "");
    }

    #[test]
    fn csv_both_ways() {
        assert_eq!(
            st(
                csv,
                j(r#"[[1,"a b"],["x,y","q\"z"],"skip",[null,true,1.5]]"#),
                vec![]
            ),
            "1,\"a b\"\n\"x,y\",\"q\"\"z\"\n,1,1.5\n"
        );
        assert_eq!(
            js(parse_csv, Value::str("a,b,\"c,d\"\n1,2,3"), vec![]),
            r#"[["a","b","c,d"],["1","2","3"]]"#
        );
        assert_eq!(
            js(parse_csv, Value::str("a\n\nb"), vec![]),
            r#"[["a"],[null],["b"]]"#
        );
        assert_eq!(js(parse_csv, Value::str("a\n"), vec![]), r#"[["a"]]"#);
        assert_eq!(js(parse_csv, Value::str(""), vec![]), "[false]");
    }

    #[test]
    fn kata_and_values() {
        assert_eq!(
            st(
                kata_encode,
                j(
                    r#"{"colors":["red","green"],"size":100,"nested":{"a":"x","b":true},"empty":"","n":null}"#
                ),
                vec![]
            ),
            "colors@list:\n  red\n  green\nsize@int: 100\nnested:\n  a: x\n  b: 1\nempty@text:\nn:"
        );
        assert_eq!(js(values, j(r#"{"a":1,"b":2}"#), vec![]), "[1,2]");
        assert!(st(values, Value::Null, vec![]).contains("null given"));
    }
}
