//! `settings: time_limit_ms` (policy.md §6): read raw, unevaluated.

use crate::sandbox::MAX_TIME_LIMIT_MS;
use katabox_kata::{Node, NodeValue};
use katabox_value::convert::parse_numeric;

/// The time limit from the `settings:` children, or `None` for the default:
/// the key must be exactly `time_limit_ms`, its text numeric and non-zero;
/// the number is truncated to an integer and clamped to 0–120,000.
pub fn time_limit(children: &[Node]) -> Option<u64> {
    let node = children.iter().find(|n| n.key == "time_limit_ms")?;
    let NodeValue::Text(text) = &node.value else {
        return None;
    };
    let n = parse_numeric(text.as_bytes())?.as_f64();
    if n == 0.0 || n.is_nan() {
        return None;
    }
    let ms = n.trunc().clamp(0.0, MAX_TIME_LIMIT_MS as f64);
    Some(ms as u64)
}
