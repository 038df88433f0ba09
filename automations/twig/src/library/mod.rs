//! Cerb's filters, functions and tests (scripting.md §7–9 and appendices).
//!
//! CONTRACT with the evaluator: `filters()`, `functions()`, `tests()` list
//! every implemented callable; `HELPDESK_ONLY_FILTERS` /
//! `HELPDESK_ONLY_FUNCTIONS` name those that need Cerb's helpdesk and are
//! refused at parse time with a "not available in katabox" error.

use crate::callable::{Callable, FilterFn, FunctionFn, TestFn};

/// Every implemented filter.
pub fn filters() -> &'static [Callable<FilterFn>] {
    &[]
}

/// Every implemented function.
pub fn functions() -> &'static [Callable<FunctionFn>] {
    &[]
}

/// Every implemented test.
pub fn tests() -> &'static [Callable<TestFn>] {
    &[]
}

/// Filters that need Cerb's helpdesk (records, workers, URLs).
pub const HELPDESK_ONLY_FILTERS: &[&str] = &[];

/// Functions that need Cerb's helpdesk (records, workers, URLs).
pub const HELPDESK_ONLY_FUNCTIONS: &[&str] = &[];
