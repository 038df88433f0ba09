//! `file.read`, `file.write`: automation resources (automations.md §13.2).

use super::data::{DataStore, Resource};
use super::inputs::{self, object};
use super::now;
use base64::Engine as _;
use katabox_value::{Value, convert};

const PREFIX: &str = "cerb:automation_resource:";
/// Default `length` of `file.read`.
pub const DEFAULT_LENGTH: usize = 1_024_000;
/// Largest resource `file.write` accepts.
pub const MAX_SIZE: usize = 16 << 20;

/// Validates the inputs of a file command.
pub fn validate(command: &str, inputs: &mut Value) -> Result<(), String> {
    inputs::map(inputs)?;
    if command == "file.read" {
        inputs::required_str(inputs, "uri")?;
    } else if inputs.get("content").is_none() && inputs.get("uri").is_none() {
        return Err("`inputs:content:` is required.".into());
    }
    Ok(())
}

fn token(uri: &str) -> Result<&str, String> {
    if let Some(t) = uri.strip_prefix(PREFIX) {
        return Ok(t);
    }
    if uri.starts_with("cerb:attachment:") || uri.starts_with("cerb:resource:") {
        return Err(format!("Failed to load the automation resource (`{uri}`)"));
    }
    if uri.starts_with("cerb:") {
        return Err(
            "Only these URIs are supported: attachment, automation_resource, resource".into(),
        );
    }
    Err(format!("Failed to parse the URI (`{uri}`)"))
}

/// `file.read`: `{bytes, uri, name, offset_from, offset_to, mime_type, size}`.
pub fn read(data: &dyn DataStore, inputs: &Value) -> Result<Value, String> {
    let uri = inputs::opt_str(inputs, "uri").unwrap_or_default();
    let tok = token(&uri)?;
    let res = data
        .resource_read(tok, now())
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("Failed to load the automation resource (`{uri}`)"))?;
    let size = res.bytes.len();
    let offset = inputs
        .get("offset")
        .map(convert::to_int)
        .unwrap_or(0)
        .clamp(0, size as i64) as usize;
    let length = inputs
        .get("length")
        .map(convert::to_int)
        .filter(|n| *n > 0)
        .map(|n| n as usize)
        .unwrap_or(DEFAULT_LENGTH);
    let end = offset.saturating_add(length).min(size);
    let mut chunk = &res.bytes[offset..end];
    if let Some(split) = inputs::opt_str(inputs, "length_split").filter(|s| !s.is_empty())
        && end < size
        && let Some(pos) = chunk
            .windows(split.len())
            .rposition(|w| w == split.as_bytes())
    {
        chunk = &chunk[..pos + split.len()];
    }
    let bytes = match std::str::from_utf8(chunk) {
        Ok(s) => Value::str(s),
        Err(_) => Value::str(format!(
            "data:{};base64,{}",
            res.mime_type,
            base64::engine::general_purpose::STANDARD.encode(chunk)
        )),
    };
    Ok(object([
        ("bytes", bytes),
        ("uri", Value::str(&uri)),
        ("name", res.name.map(Value::str).unwrap_or(Value::Null)),
        ("offset_from", Value::Int(offset as i64)),
        ("offset_to", Value::Int((offset + chunk.len()) as i64)),
        ("mime_type", Value::str(&res.mime_type)),
        ("size", Value::Int(size as i64)),
    ]))
}

/// `file.write`: `{uri, mime_type, expires_at, size, id[, name]}`.
pub fn write(data: &dyn DataStore, inputs: &Value) -> Result<Value, String> {
    let content = inputs.get("content").cloned().unwrap_or(Value::Null);
    let mut bytes = match &content {
        Value::Array(a) => {
            if let Some(t) = a.get_str("text") {
                t.to_pstr()
                    .map(|p| p.as_bytes().to_vec())
                    .unwrap_or_default()
            } else if let Some(b) = a.get_str("bytes") {
                b.to_pstr()
                    .map(|p| p.as_bytes().to_vec())
                    .unwrap_or_default()
            } else {
                return Err(
                    "`start:file.write:inputs:content:` must be one of: bytes, text, zip".into(),
                );
            }
        }
        v => v
            .to_pstr()
            .map(|p| p.as_bytes().to_vec())
            .unwrap_or_default(),
    };
    let now = now();
    let (token, mut prior) = match inputs::opt_str(inputs, "uri") {
        Some(uri) => {
            let tok = token(&uri)?.to_string();
            let prior = data
                .resource_read(&tok, now)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("Failed to load the automation resource (`{uri}`)"))?;
            (tok, prior.bytes)
        }
        None => (uuid::Uuid::new_v4().to_string(), Vec::new()),
    };
    prior.append(&mut bytes);
    if prior.len() > MAX_SIZE {
        return Err(format!("The resource is larger than {MAX_SIZE} bytes"));
    }
    let mime = inputs::opt_str(inputs, "mime_type")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "application/octet-stream".into());
    let expires = inputs
        .get("expires")
        .map(convert::to_int)
        .filter(|n| *n > 0)
        .unwrap_or(now + 900);
    let name = inputs::opt_str(inputs, "name").filter(|s| !s.is_empty());
    let size = prior.len();
    data.resource_write(Resource {
        token: token.clone(),
        name: name.clone(),
        mime_type: mime.clone(),
        expires_at: expires,
        bytes: prior,
    })
    .map_err(|e| e.to_string())?;
    let mut out = object([
        ("uri", Value::str(format!("{PREFIX}{token}"))),
        ("mime_type", Value::str(&mime)),
        ("expires_at", Value::Int(expires)),
        ("size", Value::Int(size as i64)),
        ("id", Value::str(&token)),
    ]);
    if let Some(n) = name {
        inputs::set(&mut out, "name", Value::str(n));
    }
    Ok(out)
}
