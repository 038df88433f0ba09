//! The PHP array: an ordered map with integer or string keys.

use crate::{PStr, Value};
use indexmap::IndexMap;
use indexmap::map::Entry;

/// A PHP array key: an integer, or a string that is not a canonical integer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// Integer key.
    Int(i64),
    /// String key (never a canonical decimal integer).
    Str(PStr),
}

impl Key {
    /// Normalises a string key as PHP does: a canonical decimal integer
    /// (`"0"`, `"15"`, `"-5"`; not `"01"`, `"+1"`, `" 1"`) becomes an int key.
    pub fn from_bytes(b: &[u8]) -> Key {
        match canonical_int(b) {
            Some(i) => Key::Int(i),
            None => Key::Str(PStr::from_bytes(b)),
        }
    }

    /// Normalises a string key (see [`Key::from_bytes`]).
    pub fn from_pstr(s: &PStr) -> Key {
        match canonical_int(s.as_bytes()) {
            Some(i) => Key::Int(i),
            None => Key::Str(s.clone()),
        }
    }

    /// The key PHP uses for a value: ints as-is, floats truncated, bools
    /// 0/1, null `""`, strings normalised. Arrays and objects cannot be keys.
    pub fn from_value(v: &Value) -> Option<Key> {
        Some(match v {
            Value::Null => Key::Str(PStr::default()),
            Value::Bool(b) => Key::Int(i64::from(*b)),
            Value::Int(i) => Key::Int(*i),
            Value::Float(f) => Key::Int(crate::convert::float_to_int(*f)),
            Value::Str(s) => Key::from_pstr(s),
            Value::Array(_) | Value::Object(_) => return None,
        })
    }

    /// The key as a PHP value (int or string).
    pub fn to_value(&self) -> Value {
        match self {
            Key::Int(i) => Value::Int(*i),
            Key::Str(s) => Value::Str(s.clone()),
        }
    }

    /// The key as text (ints in decimal).
    pub fn to_string_lossy(&self) -> String {
        match self {
            Key::Int(i) => i.to_string(),
            Key::Str(s) => s.to_string_lossy().into_owned(),
        }
    }
}

// Hashed by hand so that a borrowed key (`KeyRef`) hashes the same and
// lookups by `&str` need no allocation.
impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Key::Int(i) => KeyRef::Int(*i).hash(state),
            Key::Str(s) => KeyRef::Str(s.as_bytes()).hash(state),
        }
    }
}

/// A key borrowed from a `&str` (normalised like [`Key::from_bytes`]), for
/// lookups that should not allocate.
#[derive(Clone, Copy, Debug)]
enum KeyRef<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> KeyRef<'a> {
    fn from_bytes(b: &'a [u8]) -> KeyRef<'a> {
        match canonical_int(b) {
            Some(i) => KeyRef::Int(i),
            None => KeyRef::Str(b),
        }
    }
}

impl std::hash::Hash for KeyRef<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            KeyRef::Int(i) => {
                state.write_u8(0);
                state.write_i64(*i);
            }
            KeyRef::Str(b) => {
                state.write_u8(1);
                state.write_usize(b.len());
                state.write(b);
            }
        }
    }
}

impl indexmap::Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        match (self, key) {
            (KeyRef::Int(a), Key::Int(b)) => a == b,
            (KeyRef::Str(a), Key::Str(b)) => *a == b.as_bytes(),
            _ => false,
        }
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Self {
        Key::from_bytes(s.as_bytes())
    }
}

impl From<i64> for Key {
    fn from(i: i64) -> Self {
        Key::Int(i)
    }
}

/// Parses a canonical decimal integer as PHP array keys accept it.
fn canonical_int(b: &[u8]) -> Option<i64> {
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || b.len() > 1) {
        // "0" is canonical; "00", "01", "-0" are not.
        return None;
    }
    std::str::from_utf8(b).ok()?.parse::<i64>().ok()
}

/// An ordered PHP array.
#[derive(Clone, Debug, Default)]
pub struct Array {
    map: IndexMap<Key, Value>,
    next_index: i64,
}

impl Array {
    /// An empty array.
    pub fn new() -> Array {
        Array::default()
    }

    /// An empty array with room for `n` entries.
    pub fn with_capacity(n: usize) -> Array {
        Array {
            map: IndexMap::with_capacity(n),
            next_index: 0,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// True when the keys are exactly 0, 1, ..., n-1 in order (a JSON list).
    pub fn is_list(&self) -> bool {
        self.map
            .keys()
            .enumerate()
            .all(|(i, k)| matches!(k, Key::Int(n) if usize::try_from(*n).ok() == Some(i)))
    }

    /// Looks up a key.
    pub fn get(&self, k: &Key) -> Option<&Value> {
        self.map.get(k)
    }

    /// Looks up a string key, normalised as PHP does.
    pub fn get_str(&self, k: &str) -> Option<&Value> {
        self.map.get(&KeyRef::from_bytes(k.as_bytes()))
    }

    /// Mutable lookup.
    pub fn get_mut(&mut self, k: &Key) -> Option<&mut Value> {
        self.map.get_mut(k)
    }

    /// True when the key exists.
    pub fn contains_key(&self, k: &Key) -> bool {
        self.map.contains_key(k)
    }

    /// Sets `k` to `v`; an existing key keeps its position.
    pub fn insert(&mut self, k: impl Into<Key>, v: Value) {
        let k = k.into();
        if let Key::Int(i) = k
            && i >= self.next_index
        {
            self.next_index = i.saturating_add(1);
        }
        match self.map.entry(k) {
            Entry::Occupied(mut e) => {
                e.insert(v);
            }
            Entry::Vacant(e) => {
                e.insert(v);
            }
        }
    }

    /// Appends with the next integer key (`$a[] = v`).
    pub fn push(&mut self, v: Value) {
        let k = self.next_index;
        self.insert(Key::Int(k), v);
    }

    /// Removes a key, keeping the order of the others.
    pub fn remove(&mut self, k: &Key) -> Option<Value> {
        self.map.shift_remove(k)
    }

    /// Entries in order.
    pub fn iter(&self) -> indexmap::map::Iter<'_, Key, Value> {
        self.map.iter()
    }

    /// Mutable entries in order.
    pub fn iter_mut(&mut self) -> indexmap::map::IterMut<'_, Key, Value> {
        self.map.iter_mut()
    }

    /// Keys in order.
    pub fn keys(&self) -> indexmap::map::Keys<'_, Key, Value> {
        self.map.keys()
    }

    /// Values in order.
    pub fn values(&self) -> indexmap::map::Values<'_, Key, Value> {
        self.map.values()
    }

    /// Entry at a position.
    pub fn get_index(&self, i: usize) -> Option<(&Key, &Value)> {
        self.map.get_index(i)
    }

    /// The next key `push` would use.
    pub fn next_index(&self) -> i64 {
        self.next_index
    }

    /// A list of the values, renumbered from 0 (`array_values`).
    pub fn values_list(&self) -> Array {
        self.map.values().cloned().collect()
    }
}

impl FromIterator<Value> for Array {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Self {
        let mut a = Array::new();
        for v in iter {
            a.push(v);
        }
        a
    }
}

impl FromIterator<(Key, Value)> for Array {
    fn from_iter<I: IntoIterator<Item = (Key, Value)>>(iter: I) -> Self {
        let mut a = Array::new();
        for (k, v) in iter {
            a.insert(k, v);
        }
        a
    }
}

impl<'a> IntoIterator for &'a Array {
    type Item = (&'a Key, &'a Value);
    type IntoIter = indexmap::map::Iter<'a, Key, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.map.iter()
    }
}

impl IntoIterator for Array {
    type Item = (Key, Value);
    type IntoIter = indexmap::map::IntoIter<Key, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.map.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integer_keys_normalise() {
        let mut a = Array::new();
        a.insert("name", Value::Int(1));
        a.insert("7", Value::Int(2));
        a.insert(Key::Int(-3), Value::Int(3));
        assert_eq!(a.get_str("name"), Some(&Value::Int(1)));
        assert_eq!(a.get_str("7"), Some(&Value::Int(2)));
        assert_eq!(a.get(&Key::Int(7)), Some(&Value::Int(2)));
        assert_eq!(a.get_str("-3"), Some(&Value::Int(3)));
        assert_eq!(a.get_str("07"), None);
        assert_eq!(a.get_str("nam"), None);
        assert_eq!(Key::from("0"), Key::Int(0));
        assert_eq!(Key::from("15"), Key::Int(15));
        assert_eq!(Key::from("-5"), Key::Int(-5));
        for s in ["01", "+1", " 1", "1.5", "-0", "", "99999999999999999999"] {
            assert!(matches!(Key::from(s), Key::Str(_)), "{s}");
        }
    }

    #[test]
    fn push_uses_max_int_key_plus_one() {
        let mut a = Array::new();
        a.insert(5, Value::Null);
        a.insert("x", Value::Null);
        a.push(Value::Int(1));
        assert!(a.contains_key(&Key::Int(6)));
        assert!(!a.is_list());
        let l: Array = [Value::Int(1), Value::Int(2)].into_iter().collect();
        assert!(l.is_list());
    }

    #[test]
    fn reassigning_keeps_position() {
        let mut a = Array::new();
        a.insert("a", Value::Int(1));
        a.insert("b", Value::Int(2));
        a.insert("a", Value::Int(3));
        let keys: Vec<String> = a.keys().map(Key::to_string_lossy).collect();
        assert_eq!(keys, ["a", "b"]);
    }
}
