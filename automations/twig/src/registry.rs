//! Names the parser knows: tags, filters, functions and tests, connecting
//! them to the evaluator's own callables and to the library; and Twig's
//! "Did you mean" suggestions (§11.3).

use crate::ast::{FilterImpl, TestImpl};
use crate::callable::FunctionFn;
use crate::library;
use foldhash::{HashMap, HashMapExt};
use std::sync::OnceLock;

/// A filter the parser can resolve.
#[derive(Debug, Clone, Copy)]
pub struct FilterDef {
    pub name: &'static str,
    /// Leading parameters without a default (for named-argument errors).
    pub required: usize,
    pub params: &'static [&'static str],
    pub variadic: bool,
    pub func: FilterImpl,
}

/// A test the parser can resolve.
#[derive(Debug, Clone, Copy)]
pub struct TestDef {
    pub name: &'static str,
    /// Leading parameters without a default.
    pub required: usize,
    pub params: &'static [&'static str],
    pub variadic: bool,
    /// Takes one argument without parentheses (`same as`, `divisible by`).
    pub one_mandatory: bool,
    pub func: TestImpl,
}

/// A function the parser can resolve; `func` is `None` for refused ones.
#[derive(Debug, Clone, Copy)]
pub struct FunctionDef {
    pub name: &'static str,
    /// Leading parameters without a default.
    pub required: usize,
    pub params: &'static [&'static str],
    pub variadic: bool,
    pub func: Option<FunctionFn>,
}

/// Every known name.
pub struct Registry {
    pub filters: HashMap<&'static str, FilterDef>,
    pub filter_order: Vec<&'static str>,
    pub functions: HashMap<&'static str, FunctionDef>,
    pub function_order: Vec<&'static str>,
    pub tests: HashMap<&'static str, TestDef>,
    pub test_order: Vec<&'static str>,
}

/// Tags Twig registers, in registration order (for suggestions).
pub const ALL_TAGS: &[&str] = &[
    "apply",
    "for",
    "if",
    "extends",
    "include",
    "block",
    "use",
    "macro",
    "import",
    "from",
    "set",
    "flush",
    "do",
    "embed",
    "with",
    "deprecated",
    "autoescape",
    "sandbox",
];

/// Functions registered but refused by the sandbox.
const REFUSED_FUNCTIONS: &[&str] = &["constant", "include", "source"];

/// Tests the evaluator implements only when the library does not.
const FALLBACK_TESTS: &[(&str, TestImpl, bool)] = &[
    ("empty", TestImpl::Empty, false),
    ("iterable", TestImpl::Iterable, false),
    ("even", TestImpl::Even, false),
    ("odd", TestImpl::Odd, false),
    ("divisible by", TestImpl::DivisibleBy, true),
];

impl Registry {
    /// The process-wide registry.
    pub fn get() -> &'static Registry {
        static REG: OnceLock<Registry> = OnceLock::new();
        REG.get_or_init(Registry::build)
    }

    fn build() -> Registry {
        let mut r = Registry {
            filters: HashMap::new(),
            filter_order: Vec::new(),
            functions: HashMap::new(),
            function_order: Vec::new(),
            tests: HashMap::new(),
            test_order: Vec::new(),
        };
        let core_filters = [
            ("default", &["default"][..], FilterImpl::Default),
            (
                "escape",
                &["strategy", "charset", "autoescape"][..],
                FilterImpl::Escape,
            ),
            (
                "e",
                &["strategy", "charset", "autoescape"][..],
                FilterImpl::Escape,
            ),
            ("raw", &[][..], FilterImpl::Raw),
        ];
        for (name, params, func) in core_filters {
            r.add_filter(FilterDef {
                name,
                required: 0,
                params,
                variadic: false,
                func,
            });
        }
        for c in library::filters() {
            if !r.filters.contains_key(c.name) {
                r.add_filter(FilterDef {
                    name: c.name,
                    required: required("filter", c.name, c.params.len()),
                    params: c.params,
                    variadic: c.variadic,
                    func: FilterImpl::Lib(c.func),
                });
            }
        }
        for name in REFUSED_FUNCTIONS {
            r.add_function(FunctionDef {
                name,
                required: 0,
                params: &[],
                variadic: true,
                func: None,
            });
        }
        for c in library::functions() {
            if !r.functions.contains_key(c.name) {
                r.add_function(FunctionDef {
                    name: c.name,
                    required: required("function", c.name, c.params.len()),
                    params: c.params,
                    variadic: c.variadic,
                    func: Some(c.func),
                });
            }
        }
        let core_tests = [
            ("defined", TestImpl::Defined, false),
            ("null", TestImpl::Null, false),
            ("none", TestImpl::Null, false),
            ("same as", TestImpl::SameAs, true),
        ];
        for (name, func, one) in core_tests {
            r.add_test(TestDef {
                name,
                required: usize::from(one),
                params: if one { &["value"] } else { &[] },
                variadic: false,
                one_mandatory: one,
                func,
            });
        }
        for c in library::tests() {
            if !r.tests.contains_key(c.name) {
                r.add_test(TestDef {
                    name: c.name,
                    required: required("test", c.name, c.params.len()),
                    params: c.params,
                    variadic: c.variadic,
                    one_mandatory: c.name == "divisible by",
                    func: TestImpl::Lib(c.func),
                });
            }
        }
        for (name, func, one) in FALLBACK_TESTS {
            if !r.tests.contains_key(name) {
                r.add_test(TestDef {
                    name,
                    required: usize::from(*one),
                    params: if *one { &["num"] } else { &[] },
                    variadic: false,
                    one_mandatory: *one,
                    func: *func,
                });
            }
        }
        r
    }

    fn add_filter(&mut self, f: FilterDef) {
        self.filter_order.push(f.name);
        self.filters.insert(f.name, f);
    }

    fn add_function(&mut self, f: FunctionDef) {
        self.function_order.push(f.name);
        self.functions.insert(f.name, f);
    }

    fn add_test(&mut self, t: TestDef) {
        self.test_order.push(t.name);
        self.tests.insert(t.name, t);
    }
}

/// Leading parameters without a default value (scripting.md §7–9 tables),
/// capped by the callable's parameter count.
const REQUIRED: &[(&str, &str, usize)] = &[
    ("filter", "batch", 1),
    ("filter", "column", 1),
    ("filter", "convert_encoding", 2),
    ("filter", "date_modify", 1),
    ("filter", "filter", 1),
    ("filter", "map", 1),
    ("filter", "merge", 1),
    ("filter", "reduce", 1),
    ("filter", "replace", 1),
    ("filter", "slice", 1),
    ("filter", "split", 1),
    ("filter", "append", 1),
    ("filter", "base_convert", 2),
    ("filter", "regexp", 1),
    ("filter", "repeat", 1),
    ("filter", "str_pos", 1),
    ("filter", "str_sub", 2),
    ("filter", "strip_lines", 1),
    ("function", "cycle", 2),
    ("function", "range", 2),
    ("function", "array_column", 2),
    ("function", "array_combine", 2),
    ("function", "array_count_values", 1),
    ("function", "array_diff", 2),
    ("function", "array_extract_keys", 2),
    ("function", "array_fill_keys", 1),
    ("function", "array_intersect", 2),
    ("function", "array_matches", 2),
    ("function", "array_sort_keys", 1),
    ("function", "array_sum", 1),
    ("function", "array_unique", 1),
    ("function", "array_values", 1),
    ("function", "cerb_automation", 2),
    ("function", "cerb_extract_uris", 1),
    ("function", "clamp_float", 1),
    ("function", "clamp_int", 1),
    ("function", "date_lerp", 2),
    ("function", "dict_set", 3),
    ("function", "dict_unset", 2),
    ("function", "dns_get_record", 1),
    ("function", "dns_host_by_ip", 1),
    ("function", "json_decode", 1),
    ("function", "jsonpath_set", 3),
    ("function", "kata_parse", 1),
    ("function", "regexp_match_all", 2),
    ("function", "shuffle", 1),
    ("function", "validate_email", 1),
    ("function", "validate_number", 1),
    ("function", "vobject_parse", 1),
    ("function", "xml_decode", 1),
    ("function", "xml_encode", 1),
    ("function", "xml_tag", 1),
    ("function", "xml_attrs", 1),
    ("function", "xml_attr", 2),
    ("function", "xml_xpath", 2),
    ("function", "xml_xpath_ns", 3),
];

fn required(kind: &str, name: &str, params: usize) -> usize {
    REQUIRED
        .iter()
        .find(|(k, n, _)| *k == kind && *n == name)
        .map_or(0, |(_, _, r)| (*r).min(params))
}

/// True when `name` is a helpdesk-only filter.
pub fn helpdesk_filter(name: &str) -> bool {
    library::HELPDESK_ONLY_FILTERS.contains(&name)
}

/// True when `name` is a helpdesk-only function.
pub fn helpdesk_function(name: &str) -> bool {
    library::HELPDESK_ONLY_FUNCTIONS.contains(&name)
}

/// PHP `levenshtein` on bytes.
fn levenshtein(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Twig's suggestion suffix (` Did you mean "a", "b"?`) or `""`.
pub fn suggestions<'a>(name: &str, items: impl IntoIterator<Item = &'a str>) -> String {
    if name.len() > 256 {
        return String::new();
    }
    let mut alts: Vec<(usize, usize, &str)> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let lev = levenshtein(name.as_bytes(), item.as_bytes());
        // PHP compares `$lev <= strlen($name) / 3` in floats.
        if (lev * 3 <= name.len()) || item.contains(name) {
            alts.push((lev, i, item));
        }
    }
    if alts.is_empty() {
        return String::new();
    }
    alts.sort();
    let names: Vec<&str> = alts.iter().map(|a| a.2).collect();
    format!(" Did you mean \"{}\"?", names.join("\", \""))
}

/// Adds a suggestion to a message ending in `.`: `Unknown "x" tag. Did you mean "y"?`
pub fn with_suggestions<'a>(
    message: String,
    name: &str,
    items: impl IntoIterator<Item = &'a str>,
) -> String {
    let s = suggestions(name, items);
    format!("{message}{s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_follow_twig() {
        assert_eq!(
            suggestions("sett", ALL_TAGS.iter().copied()),
            " Did you mean \"set\"?"
        );
        assert_eq!(suggestions("zzzz", ALL_TAGS.iter().copied()), "");
        assert_eq!(levenshtein(b"kitten", b"sitting"), 3);
    }
}
