//! Signed timestamps: parsing and the replay window.

use crate::error::VerifyError;

/// Parses a Unix timestamp in seconds: 1–15 ASCII digits, nothing else.
pub(crate) fn parse_unix_seconds(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() || text.len() > 15 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Checks `|now - timestamp| <= tolerance` (seconds).
pub(crate) fn check_tolerance(timestamp: i64, now: i64, tolerance: u64) -> Result<(), VerifyError> {
    let within = now
        .checked_sub(timestamp)
        .is_some_and(|delta| delta.unsigned_abs() <= tolerance);
    if within {
        Ok(())
    } else {
        Err(VerifyError::TimestampOutsideTolerance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_plain_digits() {
        assert_eq!(parse_unix_seconds("1614265330"), Some(1_614_265_330));
        assert_eq!(parse_unix_seconds(" 42 "), Some(42));
        assert_eq!(parse_unix_seconds("-5"), None);
        assert_eq!(parse_unix_seconds("1e9"), None);
        assert_eq!(parse_unix_seconds(""), None);
        assert_eq!(parse_unix_seconds("9999999999999999"), None);
    }

    #[test]
    fn window_is_inclusive_and_symmetric() {
        assert!(check_tolerance(1000, 1300, 300).is_ok());
        assert!(check_tolerance(1600, 1300, 300).is_ok());
        assert!(check_tolerance(999, 1300, 300).is_err());
        assert!(check_tolerance(1601, 1300, 300).is_err());
        assert!(check_tolerance(i64::MIN, i64::MAX, u64::MAX).is_err());
    }
}
