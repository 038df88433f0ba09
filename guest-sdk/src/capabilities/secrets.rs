//! Named secrets: the host computes with them, the guest never sees them.

use crate::Error;

/// HMAC of `data` with the operator's secret `name`; `algorithm` is
/// `sha1`, `sha256` or `sha512`. Returns the raw digest.
///
/// ```no_run
/// use katabox_guest::capabilities::secrets;
/// let digest = secrets::hmac("github", "sha256", b"payload")?;
/// let expected = format!("sha256={}", secrets::hex(&digest));
/// assert!(secrets::constant_time_eq(expected.as_bytes(), b"sha256=..."));
/// # Ok::<(), katabox_guest::Error>(())
/// ```
pub fn hmac(name: &str, algorithm: &str, data: &[u8]) -> Result<Vec<u8>, Error> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::host::Imports
            .hmac("start:secrets.hmac/rust:", name, algorithm, data)
            .map_err(Error::new)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (name, algorithm, data);
        Err(Error::new(super::NOT_IN_SANDBOX))
    }
}

/// Compares two byte strings in time that depends only on their lengths
/// (for signatures).
///
/// ```
/// use katabox_guest::capabilities::secrets::constant_time_eq;
/// assert!(constant_time_eq(b"abc", b"abc"));
/// assert!(!constant_time_eq(b"abc", b"abd"));
/// assert!(!constant_time_eq(b"abc", b"ab"));
/// ```
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    core::hint::black_box(diff) == 0
}

/// Lower-case hex of `bytes`.
///
/// ```
/// assert_eq!(katabox_guest::capabilities::secrets::hex(&[0x0f, 0xa0]), "0fa0");
/// ```
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
