//! Values across the boundary: the value model's wire encoding.

use katabox_value::{Value, wire};

/// A value that could not be decoded from its wire form.
#[derive(Debug, thiserror::Error)]
#[error("invalid value encoding: {0}")]
pub struct ValueError(String);

/// Encodes a value in the wire form (`types.value`).
pub fn encode(v: &Value) -> Vec<u8> {
    wire::encode(v)
}

/// Decodes a value from the wire form (`types.value`).
pub fn decode(bytes: &[u8]) -> Result<Value, ValueError> {
    wire::decode(bytes).map_err(|e| ValueError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use katabox_value::Array;

    #[test]
    fn round_trips_a_dictionary() {
        let mut a = Array::new();
        a.insert("n", Value::Int(5));
        a.insert("s", Value::str("x"));
        let v = Value::array(a);
        let back = decode(&encode(&v)).ok();
        assert_eq!(back, Some(v));
    }

    #[test]
    fn rejects_garbage() {
        assert!(decode(&[0xff, 0xfe, 0x00]).is_err());
    }
}
