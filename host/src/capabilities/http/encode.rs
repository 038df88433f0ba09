//! Request bodies encoded as Cerb does (by the content type's base value).

use katabox_value::json::{self, JsonOptions};
use katabox_value::{Array, Value};

const FORM: &str = "application/x-www-form-urlencoded";

fn content_type(headers: &[(String, String)]) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
}

/// The body bytes; may add a default `content-type` header.
pub fn body(
    body: Option<&Value>,
    headers: &mut Vec<(String, String)>,
) -> Result<Option<Vec<u8>>, String> {
    let Some(body) = body.filter(|b| !b.is_null()) else {
        return Ok(None);
    };
    let ct = content_type(headers);
    match body {
        Value::Array(a) => {
            let base = ct.clone().unwrap_or_else(|| FORM.to_string());
            if ct.is_none() {
                headers.push(("content-type".into(), FORM.into()));
            }
            if matches!(
                base.as_str(),
                "application/json" | "application/x-amz-json-1.0" | "application/x-amz-json-1.1"
            ) {
                let text = json::encode(body, &JsonOptions::pretty()).map_err(|e| e.to_string())?;
                Ok(Some(text.replace("\\/", "/").into_bytes()))
            } else {
                let mut pairs = Vec::new();
                form_pairs(a, None, &mut pairs, 0);
                let mut ser = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in &pairs {
                    ser.append_pair(k, v);
                }
                Ok(Some(
                    ser.finish()
                        .replace("%5B", "[")
                        .replace("%5D", "]")
                        .into_bytes(),
                ))
            }
        }
        v => {
            if ct.is_none() {
                headers.push(("content-type".into(), FORM.into()));
            }
            Ok(Some(
                v.to_pstr()
                    .map(|p| p.as_bytes().to_vec())
                    .unwrap_or_default(),
            ))
        }
    }
}

fn form_pairs(a: &Array, prefix: Option<&str>, out: &mut Vec<(String, String)>, depth: usize) {
    if depth > 32 {
        return;
    }
    let list = a.is_list();
    for (k, v) in a.iter() {
        let key = match prefix {
            None => k.to_string_lossy(),
            Some(p) if list => format!("{p}[]"),
            Some(p) => format!("{p}[{}]", k.to_string_lossy()),
        };
        match v {
            Value::Array(inner) => form_pairs(inner, Some(&key), out, depth + 1),
            Value::Bool(b) => out.push((key, if *b { "1".into() } else { "0".into() })),
            Value::Null => {}
            other => out.push((key, other.to_string_lossy())),
        }
    }
}
