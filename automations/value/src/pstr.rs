//! Immutable, cheaply cloned byte strings (PHP strings).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// A PHP string: immutable bytes, normally UTF-8, cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PStr(Arc<[u8]>);

impl PStr {
    /// A string from raw bytes.
    pub fn from_bytes(b: &[u8]) -> PStr {
        PStr(Arc::from(b))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text, when the bytes are valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The text, with invalid UTF-8 replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for PStr {
    fn from(s: &str) -> Self {
        PStr(Arc::from(s.as_bytes()))
    }
}

impl From<String> for PStr {
    fn from(s: String) -> Self {
        PStr(Arc::from(s.into_bytes().into_boxed_slice()))
    }
}

impl From<Vec<u8>> for PStr {
    fn from(b: Vec<u8>) -> Self {
        PStr(Arc::from(b.into_boxed_slice()))
    }
}

impl fmt::Debug for PStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.to_string_lossy(), f)
    }
}

impl fmt::Display for PStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}
