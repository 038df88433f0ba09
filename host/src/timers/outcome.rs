//! What a timer run changes, as Cerb's `Model_AutomationTimer` decides it
//! (packages.md §6.3): pure functions of the run's end, so every branch is
//! tested without a sandbox.

use katabox_value::Value;
use katabox_value::convert::to_int;

/// Cerb's `next_run_at` when an `await` has no `until` (in the past, so
/// the timer runs again on the next tick).
pub const AWAIT_WITHOUT_UNTIL: i64 = 900;

/// A continuation expires this long after its `until` (7 days, as Cerb).
pub const CONTINUATION_TTL: i64 = 604_800;

/// How a timer run ended, as far as the outcome rules care.
#[derive(Debug, Clone, Default)]
pub struct Ended {
    /// `return`, `await`, `exit`, `error`, or empty when nothing ran.
    pub exit: String,
    /// `__return`.
    pub returned: Option<Value>,
    /// The run could not execute (Cerb's `executeScript` returned false).
    pub failed: bool,
}

impl Ended {
    fn delete(&self) -> bool {
        self.exit == "return"
            && self
                .returned
                .as_ref()
                .and_then(|r| r.get("delete"))
                .is_some_and(Value::truthy)
    }

    fn until(&self) -> Option<&Value> {
        self.returned.as_ref().and_then(|r| r.get("until"))
    }
}

/// What happens to the timer after a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Delete the timer and its continuation.
    Delete,
    /// Save the run's dictionary as the continuation; run again at `until`.
    Await { until: i64 },
    /// Drop any continuation; the next occurrence of a recurring timer, or
    /// `next_run_at = 0` and disabled.
    Finish,
    /// Resuming failed: drop the continuation, `next_run_at = 0`, disabled.
    Fail,
}

/// After the first run of a cycle (Cerb's `_start`). `ran_automation`:
/// a handler selected an automation (an `await` from anything else is
/// not saved).
pub fn after_start(ended: &Ended, ran_automation: bool) -> Decision {
    if ended.delete() {
        return Decision::Delete;
    }
    if ended.exit == "await" && ran_automation && !ended.failed {
        let until = match ended.until() {
            Some(v) if v.truthy() => to_int(v),
            _ => AWAIT_WITHOUT_UNTIL,
        };
        return Decision::Await { until };
    }
    Decision::Finish
}

/// After a resumed run (Cerb's `_continue`, once its checks passed): an
/// `await` needs a new `until`, else the timer falls through to finish.
pub fn after_resume(ended: &Ended) -> Decision {
    if ended.failed {
        return Decision::Fail;
    }
    if ended.delete() {
        return Decision::Delete;
    }
    if ended.exit == "await"
        && let Some(until) = ended.until().filter(|v| v.truthy())
    {
        return Decision::Await {
            until: to_int(until),
        };
    }
    Decision::Finish
}

#[cfg(test)]
mod tests {
    use super::*;
    use katabox_value::Array;

    fn ended(exit: &str, ret: &[(&str, Value)]) -> Ended {
        let mut a = Array::new();
        for (k, v) in ret {
            a.insert(*k, v.clone());
        }
        Ended {
            exit: exit.into(),
            returned: (!ret.is_empty()).then(|| Value::array(a)),
            failed: false,
        }
    }

    #[test]
    fn a_truthy_delete_on_return_deletes() {
        let e = ended("return", &[("delete", Value::Bool(true))]);
        assert_eq!(after_start(&e, true), Decision::Delete);
        assert_eq!(after_resume(&e), Decision::Delete);
        let e = ended("return", &[("delete", Value::str("0"))]);
        assert_eq!(after_start(&e, true), Decision::Finish);
        // Only `return` deletes: an exit with the same key does not.
        let e = ended("exit", &[("delete", Value::Bool(true))]);
        assert_eq!(after_start(&e, true), Decision::Finish);
    }

    #[test]
    fn await_takes_until_or_cerbs_literal_900() {
        let e = ended("await", &[("until", Value::Int(1_900_000_000))]);
        assert_eq!(
            after_start(&e, true),
            Decision::Await {
                until: 1_900_000_000
            }
        );
        assert_eq!(
            after_start(&ended("await", &[]), true),
            Decision::Await { until: 900 }
        );
        // Nothing ran an automation: nothing to continue.
        assert_eq!(after_start(&ended("await", &[]), false), Decision::Finish);
        // A numeric string, as PHP's intval reads it.
        let e = ended("await", &[("until", Value::str("1900000000"))]);
        assert_eq!(
            after_resume(&e),
            Decision::Await {
                until: 1_900_000_000
            }
        );
    }

    #[test]
    fn a_resumed_await_without_until_finishes() {
        assert_eq!(after_resume(&ended("await", &[])), Decision::Finish);
    }

    #[test]
    fn a_failure_while_resuming_fails_but_a_first_run_failure_finishes() {
        let mut e = ended("error", &[]);
        e.failed = true;
        assert_eq!(after_resume(&e), Decision::Fail);
        assert_eq!(after_start(&e, true), Decision::Finish);
        assert_eq!(after_resume(&ended("error", &[])), Decision::Finish);
    }
}
