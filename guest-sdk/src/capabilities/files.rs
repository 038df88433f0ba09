//! `file.read:`, `file.write:` (automation resources).

use super::{call, map};
use crate::Error;
use crate::command::Gated;
use katabox_value::Value;

/// Reads up to `length` bytes from `offset` of the resource `uri`; the
/// output has `bytes`, `uri`, `name`, `mime_type`, `size`, `offset_from`,
/// `offset_to`.
///
/// ```no_run
/// let out = katabox_guest::capabilities::files::read("cerb:automation_resource:abc", 0, 1024)?;
/// let bytes = out.get("bytes");
/// # Ok::<(), katabox_guest::Error>(())
/// ```
pub fn read(uri: &str, offset: i64, length: i64) -> Result<Value, Error> {
    call(
        Gated::FileRead,
        map([
            ("uri", Value::str(uri)),
            ("offset", Value::Int(offset)),
            ("length", Value::Int(length)),
        ]),
    )
}

/// Writes `content` to a new automation resource of `mime_type` that
/// expires after `expires` seconds; the output has `uri`, `id`, `size`,
/// `mime_type`, `expires_at`.
///
/// ```no_run
/// let out = katabox_guest::capabilities::files::write(b"hello", "text/plain", 3600)?;
/// let uri = out.get("uri");
/// # Ok::<(), katabox_guest::Error>(())
/// ```
pub fn write(content: &[u8], mime_type: &str, expires: i64) -> Result<Value, Error> {
    let text = map([("bytes", Value::bytes(content))]);
    call(
        Gated::FileWrite,
        map([
            ("content", Value::array(text)),
            ("mime_type", Value::str(mime_type)),
            ("expires", Value::Int(expires)),
        ]),
    )
}
