//! Date strings as Cerb's validation accepts them (PHP `strtotime`).

/// True when `text` parses as a date string (relative to now, UTC).
pub fn parses(text: &str) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    katabox_value::date::strtotime(text, now, "UTC").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_phrases_and_rejects_noise() {
        assert!(parses("tomorrow 8am"));
        assert!(parses("2020-01-01 00:00:00 UTC"));
        assert!(!parses("not a date at all"));
    }
}
