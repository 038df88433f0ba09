//! Timer fields from JSON (the admin API and the CLI), checked as Cerb
//! checks imported timers; bits are 0/1 or booleans, patterns must parse.

use super::recurrence;
use crate::store::TimerRecord;
use chrono_tz::Tz;
use serde_json::Value as JsonValue;

/// Why a timer's fields were refused (answered as 400 by the API).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidTimer(pub String);

/// A new timer from `v`. Without `next_run_at` a recurring timer starts
/// at its next occurrence after `now`, a one-shot timer at `now`.
pub fn new_timer(v: &JsonValue, default_tz: Tz, now: i64) -> Result<TimerRecord, InvalidTimer> {
    let mut rec = TimerRecord::default();
    apply(&mut rec, v)?;
    if v.get("next_run_at").is_none() {
        rec.next_run_at = if rec.is_recurring {
            recurrence::next_occurrence(
                &rec.recurring_patterns,
                &rec.recurring_timezone,
                default_tz,
                now,
            )
            .map_err(|e| InvalidTimer(e.to_string()))?
            .unwrap_or(0)
        } else {
            now
        };
    }
    Ok(rec)
}

/// Copies the fields present in `v` onto `rec`.
pub fn apply(rec: &mut TimerRecord, v: &JsonValue) -> Result<(), InvalidTimer> {
    if !v.is_object() {
        return Err(InvalidTimer("The body must be a JSON object.".into()));
    }
    if let Some(name) = text(v, "name")? {
        rec.name = name;
    }
    if rec.name.trim().is_empty() {
        return Err(InvalidTimer("'name' is required.".into()));
    }
    if let Some(kata) = text(v, "automations_kata")? {
        crate::webhooks::lang::check_kata(&kata)
            .map_err(|e| InvalidTimer(format!("Invalid 'automations_kata': {e}")))?;
        rec.automations_kata = kata;
    }
    if let Some(p) = text(v, "recurring_patterns")? {
        rec.recurring_patterns = p;
    }
    if let Some(tz) = text(v, "recurring_timezone")? {
        rec.recurring_timezone = tz;
    }
    if let Some(b) = bit(v, "is_disabled")? {
        rec.is_disabled = b;
    }
    if let Some(b) = bit(v, "is_recurring")? {
        rec.is_recurring = b;
    }
    if let Some(n) = v.get("next_run_at") {
        rec.next_run_at = n
            .as_i64()
            .ok_or_else(|| InvalidTimer("'next_run_at' must be a Unix time.".into()))?;
    }
    recurrence::validate(&rec.recurring_patterns, &rec.recurring_timezone)
        .map_err(|e| InvalidTimer(e.to_string()))
}

fn text(v: &JsonValue, key: &str) -> Result<Option<String>, InvalidTimer> {
    match v.get(key) {
        None => Ok(None),
        Some(JsonValue::Null) => Ok(Some(String::new())),
        Some(JsonValue::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(InvalidTimer(format!("'{key}' must be a string."))),
    }
}

fn bit(v: &JsonValue, key: &str) -> Result<Option<bool>, InvalidTimer> {
    match v.get(key) {
        None => Ok(None),
        Some(JsonValue::Bool(b)) => Ok(Some(*b)),
        Some(n) if n.as_u64() == Some(0) => Ok(Some(false)),
        Some(n) if n.as_u64() == Some(1) => Ok(Some(true)),
        Some(_) => Err(InvalidTimer(format!("'{key}' must be 0 or 1."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_one_shot_timer_starts_now_and_a_recurring_one_at_its_next_occurrence() {
        let one = new_timer(&json!({"name": "once"}), Tz::UTC, 1_000).expect("valid");
        assert_eq!(one.next_run_at, 1_000);
        let v = json!({"name": "r", "is_recurring": 1, "recurring_patterns": "0 * * * *"});
        let every_hour = new_timer(&v, Tz::UTC, 1_000).expect("valid");
        assert_eq!(every_hour.next_run_at, 3_600);
    }

    #[test]
    fn bad_fields_are_refused_with_the_reason() {
        let cases = [
            (json!({}), "'name' is required."),
            (
                json!({"name": "t", "is_disabled": 2}),
                "'is_disabled' must be 0 or 1.",
            ),
            (
                json!({"name": "t", "next_run_at": "soon"}),
                "'next_run_at' must be a Unix time.",
            ),
            (json!({"name": 5}), "'name' must be a string."),
        ];
        for (v, want) in cases {
            assert_eq!(
                new_timer(&v, Tz::UTC, 0),
                Err(InvalidTimer(want.into())),
                "{v}"
            );
        }
        let bad_tz = json!({"name": "t", "recurring_timezone": "Nowhere/Land"});
        let err = new_timer(&bad_tz, Tz::UTC, 0).expect_err("bad zone");
        assert!(err.0.contains("is not a valid timezone"), "{err}");
    }
}
