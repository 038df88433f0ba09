//! The wire encoding of values between the host and guests.
//!
//! JSON cannot carry PHP values faithfully (byte strings, int vs float,
//! integer keys, lists with holes), so values cross the WIT boundary as
//! bytes in this small tagged format (all integers little-endian):
//!
//! | tag | value | payload |
//! | --- | --- | --- |
//! | `0` | null | — |
//! | `1` / `2` | false / true | — |
//! | `3` | int | 8 bytes, i64 |
//! | `4` | float | 8 bytes, f64 bits |
//! | `5` | string | u32 length, then the bytes |
//! | `6` | array | u32 count, then per entry a key (tag 3 or 5 with its payload) and a value |
//!
//! Objects are written as their JSON form. Decoding checks every length
//! against the input and limits nesting, so hostile bytes give an error.

use crate::{Array, Key, PStr, Value};
use thiserror::Error;

/// Nesting deeper than this is refused when decoding.
pub const MAX_DEPTH: usize = 512;

/// Why bytes did not decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The input ended early or a length overran it.
    #[error("wire value truncated")]
    Truncated,
    /// An unknown tag.
    #[error("wire value has unknown tag {0}")]
    Tag(u8),
    /// Nesting beyond [`MAX_DEPTH`].
    #[error("wire value nested too deeply")]
    Depth,
    /// Bytes left after the value.
    #[error("wire value has trailing bytes")]
    Trailing,
}

/// Encodes a value.
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    encode_into(v, &mut out);
    out
}

fn put_len(n: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_str(s: &[u8], out: &mut Vec<u8>) {
    out.push(5);
    put_len(s.len(), out);
    out.extend_from_slice(s);
}

/// Appends the encoding of `v` to `out`.
pub fn encode_into(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(0),
        Value::Bool(false) => out.push(1),
        Value::Bool(true) => out.push(2),
        Value::Int(i) => {
            out.push(3);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Float(f) => {
            out.push(4);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Value::Str(s) => put_str(s.as_bytes(), out),
        Value::Array(a) => {
            out.push(6);
            put_len(a.len(), out);
            for (k, v) in a.iter() {
                match k {
                    Key::Int(i) => {
                        out.push(3);
                        out.extend_from_slice(&i.to_le_bytes());
                    }
                    Key::Str(s) => put_str(s.as_bytes(), out),
                }
                encode_into(v, out);
            }
        }
        Value::Object(o) => encode_into(&o.to_json_value(), out),
    }
}

/// Decodes one value that must span all of `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Value, WireError> {
    let mut r = Reader { b: bytes, pos: 0 };
    let v = r.value(0)?;
    if r.pos != bytes.len() {
        return Err(WireError::Trailing);
    }
    Ok(v)
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], WireError> {
        let end = self.pos.checked_add(n).ok_or(WireError::Truncated)?;
        let s = self.b.get(self.pos..end).ok_or(WireError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    fn eight(&mut self) -> Result<[u8; 8], WireError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(a)
    }

    fn len(&mut self) -> Result<usize, WireError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        usize::try_from(u32::from_le_bytes(a)).map_err(|_| WireError::Truncated)
    }

    fn value(&mut self, depth: usize) -> Result<Value, WireError> {
        if depth > MAX_DEPTH {
            return Err(WireError::Depth);
        }
        Ok(match self.u8()? {
            0 => Value::Null,
            1 => Value::Bool(false),
            2 => Value::Bool(true),
            3 => Value::Int(i64::from_le_bytes(self.eight()?)),
            4 => Value::Float(f64::from_bits(u64::from_le_bytes(self.eight()?))),
            5 => {
                let n = self.len()?;
                Value::Str(PStr::from_bytes(self.take(n)?))
            }
            6 => {
                let n = self.len()?;
                // Each entry needs at least 2 bytes: never trust `n` for capacity.
                let mut a = Array::with_capacity(n.min((self.b.len() - self.pos) / 2));
                for _ in 0..n {
                    let k = match self.u8()? {
                        3 => Key::Int(i64::from_le_bytes(self.eight()?)),
                        5 => {
                            let n = self.len()?;
                            Key::from_bytes(self.take(n)?)
                        }
                        t => return Err(WireError::Tag(t)),
                    };
                    let v = self.value(depth + 1)?;
                    a.insert(k, v);
                }
                Value::array(a)
            }
            t => return Err(WireError::Tag(t)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips_php_values() {
        let mut a = Array::new();
        a.insert(0, Value::bytes([0xff, 0x00]));
        a.insert(2, Value::Float(1.0));
        a.insert(
            "k",
            Value::list([Value::Int(-3), Value::Null, Value::Bool(true)]),
        );
        let v = Value::array(a);
        assert_eq!(decode(&encode(&v)), Ok(v));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode(&bytes);
        }
    }
}
