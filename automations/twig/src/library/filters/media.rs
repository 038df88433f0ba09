//! `image_info` (image dimensions from bytes or a data URI) and
//! `parse_user_agent` (platform, browser and version of a User-Agent).

use crate::callable::{Args, CallError, Env};
use crate::library::filters::encoding::lenient_base64;
use crate::library::util::to_str;
use katabox_value::{Array, Value};

/// Width, height, channels (when PHP reports them), bits, MIME type.
type Info = (u64, u64, Option<i64>, Option<i64>, &'static str);

fn be16(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?])))
}
fn le16(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?])))
}
fn be32(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from(u32::from_be_bytes(
        b.get(i..i + 4)?.try_into().ok()?,
    )))
}
fn le32(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from(u32::from_le_bytes(
        b.get(i..i + 4)?.try_into().ok()?,
    )))
}

fn jpeg(b: &[u8]) -> Option<Info> {
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            i += 1;
            continue;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let len = be16(b, i + 2)? as usize;
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let bits = i64::from(*b.get(i + 4)?);
            let h = be16(b, i + 5)?;
            let w = be16(b, i + 7)?;
            let channels = i64::from(*b.get(i + 9)?);
            return Some((w, h, Some(channels), Some(bits), "image/jpeg"));
        }
        i += 2 + len;
    }
    None
}

fn info(b: &[u8]) -> Option<Info> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((
            be32(b, 16)?,
            be32(b, 20)?,
            None,
            Some(i64::from(*b.get(24)?)),
            "image/png",
        ));
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        let bits = i64::from((b.get(10)? & 0x07) + 1);
        return Some((le16(b, 6)?, le16(b, 8)?, Some(3), Some(bits), "image/gif"));
    }
    if b.starts_with(&[0xFF, 0xD8]) {
        return jpeg(b);
    }
    if b.starts_with(b"BM") {
        let h = i64::from(le32(b, 22)? as u32 as i32).unsigned_abs();
        return Some((
            le32(b, 18)?,
            h,
            None,
            Some(le16(b, 28)? as i64),
            "image/bmp",
        ));
    }
    if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        let (w, h) = match b.get(12..16)? {
            b"VP8 " => (le16(b, 26)? & 0x3FFF, le16(b, 28)? & 0x3FFF),
            b"VP8L" => {
                let v = le32(b, 21)?;
                ((v & 0x3FFF) + 1, ((v >> 14) & 0x3FFF) + 1)
            }
            b"VP8X" => {
                let w = le32(b, 24)? & 0xFF_FFFF;
                let h = le32(b, 27)? & 0xFF_FFFF;
                (w + 1, h + 1)
            }
            _ => return None,
        };
        return Some((w, h, None, Some(8), "image/webp"));
    }
    None
}

fn error(msg: &str) -> Value {
    let mut a = Array::new();
    a.insert("_error", Value::str(msg));
    Value::array(a)
}

/// `image_info`.
pub fn image_info(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let s = to_str(&crate::library::util::unmark(v))?;
    let mut bytes = s.as_bytes().to_vec();
    if bytes.starts_with(b"data:") {
        let lower = bytes.to_ascii_lowercase();
        let Some(p) = memchr::memmem::find(&lower, b";base64,") else {
            return Ok(error("No base64 encoded image data."));
        };
        bytes = lenient_base64(&bytes[p + 8..]);
        if bytes.is_empty() {
            return Ok(error("Failed to base64 decode image bytes."));
        }
    }
    let Some((w, h, channels, bits, mime)) = info(&bytes) else {
        return Ok(error("Failed to determine image dimensions."));
    };
    let mut a = Array::new();
    a.insert("width", Value::Int(w as i64));
    a.insert("height", Value::Int(h as i64));
    if let Some(c) = channels {
        a.insert("channels", Value::Int(c));
    }
    if let Some(b) = bits {
        a.insert("bits", Value::Int(b));
    }
    a.insert("type", Value::str(mime));
    Ok(Value::array(a))
}

/// Platforms in detection order: (needle, platform).
const PLATFORMS: &[(&str, &str)] = &[
    ("iPad", "iPad"),
    ("iPhone", "iPhone"),
    ("iPod", "iPod"),
    ("Android", "Android"),
    ("CrOS", "Chrome OS"),
    ("Windows Phone", "Windows Phone"),
    ("Windows", "Windows"),
    ("Macintosh", "Macintosh"),
    ("Mac OS X", "Macintosh"),
    ("Linux", "Linux"),
    ("FreeBSD", "FreeBSD"),
    ("OpenBSD", "OpenBSD"),
    ("NetBSD", "NetBSD"),
    ("BlackBerry", "BlackBerry"),
    ("Kindle", "Kindle"),
    ("PlayStation", "PlayStation"),
    ("Xbox", "Xbox"),
    ("Nintendo", "Nintendo Switch"),
];

/// Browsers in detection order: (token, browser name).
const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("Edge/", "Edge"),
    ("OPR/", "Opera"),
    ("Opera/", "Opera"),
    ("Vivaldi/", "Vivaldi"),
    ("YaBrowser/", "Yandex"),
    ("SamsungBrowser/", "SamsungBrowser"),
    ("UCBrowser/", "UC Browser"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("MSIE ", "MSIE"),
    ("Trident/", "MSIE"),
    ("curl/", "curl"),
    ("Wget/", "Wget"),
    ("Safari/", "Safari"),
];

fn version_after(ua: &str, token: &str) -> String {
    ua.find(token)
        .map(|p| {
            ua[p + token.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect()
        })
        .unwrap_or_default()
}

/// `parse_user_agent`.
pub fn parse_user_agent(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let s = to_str(&crate::library::util::unmark(v))?;
    let ua = s.to_string_lossy();
    if ua.trim().is_empty() {
        return Ok(Value::empty_array());
    }
    let platform = PLATFORMS
        .iter()
        .find(|(n, _)| ua.contains(n))
        .map(|(_, p)| *p);
    let browser = BROWSERS.iter().find(|(t, _)| ua.contains(t));
    let (browser, version) = match browser {
        Some((_, "Safari")) => {
            let v = version_after(&ua, "Version/");
            (
                "Safari",
                if v.is_empty() {
                    version_after(&ua, "Safari/")
                } else {
                    v
                },
            )
        }
        Some((_, "MSIE")) if ua.contains("Trident/") && !ua.contains("MSIE ") => {
            ("MSIE", version_after(&ua, "rv:"))
        }
        Some((t, name)) => (*name, version_after(&ua, t)),
        None => return Ok(Value::empty_array()),
    };
    let mut a = Array::new();
    a.insert("platform", platform.map_or(Value::Null, Value::str));
    a.insert("browser", Value::str(browser));
    a.insert("version", Value::str(version));
    Ok(Value::array(a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::{TestEnv, a, je};

    fn js(f: crate::callable::FilterFn, v: Value) -> String {
        match f(&mut TestEnv::default(), v, &a(vec![])) {
            Ok(r) => je(&r),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn images() {
        // A 1x1 PNG.
        let png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
        assert_eq!(
            js(image_info, Value::str(png)),
            r#"{"width":1,"height":1,"bits":8,"type":"image/png"}"#
        );
        assert_eq!(
            js(image_info, Value::str("data:x")),
            r#"{"_error":"No base64 encoded image data."}"#
        );
        assert_eq!(
            js(image_info, Value::str("nope")),
            r#"{"_error":"Failed to determine image dimensions."}"#
        );
    }

    #[test]
    fn user_agents() {
        let safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.1 Safari/605.1.15";
        assert_eq!(
            js(parse_user_agent, Value::str(safari)),
            r#"{"platform":"Macintosh","browser":"Safari","version":"16.1"}"#
        );
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        assert_eq!(
            js(parse_user_agent, Value::str(chrome)),
            r#"{"platform":"Windows","browser":"Chrome","version":"120.0.0.0"}"#
        );
        assert_eq!(js(parse_user_agent, Value::str("")), "[]");
    }
}
