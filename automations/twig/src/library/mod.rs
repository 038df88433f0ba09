//! Cerb's filters, functions and tests (scripting.md §7–9 and appendices).
//!
//! CONTRACT with the evaluator: `filters()`, `functions()`, `tests()` list
//! every implemented callable; `HELPDESK_ONLY_FILTERS` /
//! `HELPDESK_ONLY_FUNCTIONS` name those that need Cerb's helpdesk and are
//! refused at parse time with a "not available in katabox" error.
//!
//! Also public for the evaluator and hosts: [`pcre::Pcre`] (PCRE pattern
//! strings over the linear-time `regex` crate), [`datetime::DateTime`] (the
//! DateTime object), [`plain_object::PlainObject`] (`stdClass`),
//! [`xml::XmlElement`] (SimpleXMLElement), [`json_enc::encode`] (PHP
//! `json_encode` with every flag), [`sprintf::sprintf`], [`rounding::php_round`].
//!
//! Not implemented (refused at parse time through `HELPDESK_ONLY_*`):
//! helpdesk callables, `cerb_automation` (needs a host hook to run another
//! automation), `dns_*` (network), `cerb_extract_uris` (HTMLPurifier).

pub mod datetime;
pub mod filters;
pub mod functions;
pub mod html;
pub mod json_enc;
pub mod json_pretty_fused;
pub mod pcre;
pub mod plain_object;
pub mod rounding;
pub mod sprintf;
pub mod tests;
pub mod xml;

mod date_parse;
mod sort;
mod stats;
mod util;
pub(crate) use util::type_or_class;

#[cfg(test)]
mod e2e;
#[cfg(test)]
mod robustness;
#[cfg(test)]
mod test_env;

use crate::callable::{Callable, FilterFn, FunctionFn, TestFn};
use filters::{arrays, dates, encoding, markdown, media, numbers, parsing, strings, text};
use functions::{arrays as farr, core as fcore, dates as fdates, dicts, misc, vobject};

macro_rules! c {
    ($name:literal, [$($p:literal),*], $f:expr) => {
        Callable { name: $name, params: &[$($p),*], variadic: false, func: $f }
    };
    ($name:literal, [$($p:literal),*], $f:expr, variadic) => {
        Callable { name: $name, params: &[$($p),*], variadic: true, func: $f }
    };
}

static FILTERS: &[Callable<FilterFn>] = &[
    // Twig core, in Twig's registration order.
    c!("date", ["format", "timezone"], dates::date),
    c!("date_modify", ["modifier"], dates::date_modify),
    c!("format", [], strings::format, variadic),
    c!("replace", ["from"], strings::replace),
    c!(
        "number_format",
        ["decimal", "decimal_point", "thousand_sep"],
        numbers::number_format
    ),
    c!("abs", [], numbers::abs),
    c!("round", ["precision", "method"], numbers::round),
    c!("url_encode", [], strings::url_encode),
    c!("json_encode", ["flags", "depth"], encoding::json_encode),
    c!(
        "convert_encoding",
        ["to", "from"],
        strings::convert_encoding
    ),
    c!("title", [], strings::title),
    c!("capitalize", [], strings::capitalize),
    c!("upper", [], strings::upper),
    c!("lower", [], strings::lower),
    c!("striptags", ["allowable_tags"], strings::striptags),
    c!("trim", ["character_mask", "side"], strings::trim),
    c!("nl2br", [], strings::nl2br),
    c!("spaceless", [], strings::spaceless),
    c!("join", ["glue", "and"], arrays::join),
    c!("split", ["delimiter", "limit"], strings::split),
    c!("sort", ["arrow"], arrays::sort),
    c!("merge", ["arr2"], arrays::merge),
    c!("batch", ["size", "fill", "preserve_keys"], arrays::batch),
    c!("column", ["name", "index"], arrays::column),
    c!("filter", ["arrow"], arrays::filter),
    c!("map", ["arrow"], arrays::map),
    c!("reduce", ["arrow", "initial"], arrays::reduce),
    c!("reverse", ["preserve_keys"], arrays::reverse),
    c!("length", [], arrays::length),
    c!("slice", ["start", "length", "preserve_keys"], arrays::slice),
    c!("first", [], arrays::first),
    c!("last", [], arrays::last),
    c!("keys", [], arrays::keys),
    // Cerb.
    c!("alphanum", ["also", "replace"], text::alphanum),
    c!("append", ["suffix", "delimiter", "trim"], text::append),
    c!(
        "base_convert",
        ["base_from", "base_to"],
        encoding::base_convert
    ),
    c!("base64_decode", [], encoding::base64_decode),
    c!("base64_encode", [], encoding::base64_encode),
    c!("base64url_decode", [], encoding::base64url_decode),
    c!("base64url_encode", [], encoding::base64url_encode),
    c!("bytes_pretty", ["precision"], numbers::bytes_pretty),
    c!("context_alias", [], text::context_alias),
    c!("context_name", ["type"], text::context_name),
    c!("csv", [], encoding::csv),
    c!("date_pretty", ["is_delta"], dates::date_pretty),
    c!("hash_hmac", ["key", "algo", "raw"], encoding::hash_hmac),
    c!("html_to_text", ["truncate"], text::html_to_text),
    c!("image_info", [], media::image_info),
    c!("indent", ["marker", "from_line"], text::indent),
    c!("json_pretty", [], encoding::json_pretty),
    c!("kata_encode", [], encoding::kata_encode),
    c!(
        "markdown_to_html",
        ["is_untrusted"],
        markdown::markdown_to_html
    ),
    c!("md5", [], encoding::md5),
    c!(
        "parse_csv",
        ["separator", "enclosure", "escape"],
        encoding::parse_csv
    ),
    c!("parse_emails", [], parsing::parse_emails),
    c!("parse_url", [], parsing::parse_url),
    c!("parse_user_agent", [], media::parse_user_agent),
    c!("permalink", ["spaces_as"], text::permalink),
    c!("quote", ["wrap_to"], text::quote),
    c!("regexp", ["pattern", "group"], text::regexp),
    c!("repeat", ["times"], text::repeat),
    c!("secs_pretty", ["precision"], dates::secs_pretty),
    c!("sha1", [], encoding::sha1),
    c!(
        "split_crlf",
        ["keep_blanks", "trim_lines"],
        text::split_crlf
    ),
    c!("split_csv", [], text::split_csv),
    c!("stat", ["measure", "decimals"], parsing::stat),
    c!(
        "str_pos",
        ["needle", "offset", "ignore_case"],
        text::str_pos
    ),
    c!("str_sub", ["from", "to"], text::str_sub),
    c!("strip_lines", ["prefixes"], text::strip_lines),
    c!("tokenize", [], text::tokenize),
    c!("truncate", ["length", "separator"], text::truncate),
    c!("unescape", ["mode", "flags"], encoding::unescape),
    c!("url_decode", ["as"], encoding::url_decode),
    c!("values", [], encoding::values),
];

static FUNCTIONS: &[Callable<FunctionFn>] = &[
    // Twig core.
    c!("max", ["value"], fcore::max, variadic),
    c!("min", ["value"], fcore::min, variadic),
    c!("range", ["low", "high", "step"], fcore::range),
    c!("cycle", ["values", "position"], fcore::cycle),
    c!("random", ["values", "max"], fcore::random),
    c!("date", ["date", "timezone"], fcore::date),
    c!(
        "attribute",
        ["variable", "attribute", "arguments"],
        fcore::attribute
    ),
    // Cerb.
    c!(
        "array_column",
        ["array", "column_key", "index_key"],
        farr::array_column
    ),
    c!("array_combine", ["keys", "values"], farr::array_combine),
    c!("array_count_values", ["values"], farr::array_count_values),
    c!("array_diff", ["arr1", "arr2"], farr::array_diff),
    c!(
        "array_extract_keys",
        ["array", "keys"],
        farr::array_extract_keys
    ),
    c!("array_fill_keys", ["keys", "value"], farr::array_fill_keys),
    c!("array_intersect", ["arr1", "arr2"], farr::array_intersect),
    c!("array_matches", ["array", "patterns"], farr::array_matches),
    c!("array_sort_keys", ["arr"], farr::array_sort_keys),
    c!("array_sum", ["arr"], farr::array_sum),
    c!("array_unique", ["arr"], farr::array_unique),
    c!("array_values", ["arr"], farr::array_values),
    c!(
        "cerb_placeholders_list",
        ["extract", "prefix"],
        dicts::placeholders_list
    ),
    c!("clamp_float", ["string", "min", "max"], misc::clamp_float),
    c!("clamp_int", ["string", "min", "max"], misc::clamp_int),
    c!("cerb_url", ["url", "full", "proxy"], misc::cerb_url),
    c!(
        "cerb_record_readable",
        [
            "record_context",
            "record_id",
            "actor_context",
            "actor_context_id"
        ],
        misc::cerb_record_access
    ),
    c!(
        "cerb_record_writeable",
        [
            "record_context",
            "record_id",
            "actor_context",
            "actor_context_id"
        ],
        misc::cerb_record_access
    ),
    c!(
        "date_lerp",
        ["date_string", "unit", "step", "limit"],
        fdates::date_lerp
    ),
    c!(
        "dict_set",
        ["var", "path", "val", "delimiter"],
        dicts::dict_set
    ),
    c!("dict_unset", ["var", "path"], dicts::dict_unset),
    c!("json_decode", ["str"], misc::json_decode),
    c!("kata_parse", ["string"], misc::kata_parse),
    c!("jsonpath_set", ["var", "path", "val"], dicts::jsonpath_set),
    c!(
        "placeholders_list",
        ["extract", "prefix"],
        dicts::placeholders_list
    ),
    c!("random_string", ["length"], misc::random_string),
    c!(
        "regexp_match_all",
        ["pattern", "text", "group"],
        misc::regexp_match_all
    ),
    c!("shuffle", ["array"], farr::shuffle),
    c!("validate_email", ["string"], misc::validate_email),
    c!("validate_number", ["number"], misc::validate_number),
    c!("vobject_parse", ["text"], vobject::vobject_parse),
    c!("xml_attr", ["xml", "attr", "default"], xml::xml_attr),
    c!("xml_attrs", ["xml"], xml::xml_attrs),
    c!("xml_decode", ["str", "namespaces", "mode"], xml::xml_decode),
    c!("xml_encode", ["xml"], xml::xml_encode),
    c!("xml_tag", ["xml"], xml::xml_tag),
    c!("xml_xpath", ["xml", "path", "element"], xml::xml_xpath),
    c!("xml_xpath_ns", ["xml", "prefix", "ns"], xml::xml_xpath_ns),
];

static TESTS: &[Callable<TestFn>] = &[
    c!("even", [], tests::even),
    c!("odd", [], tests::odd),
    c!("divisible by", ["num"], tests::divisible_by),
    c!("constant", ["constant", "object"], tests::constant),
    c!("empty", [], tests::empty),
    c!("iterable", [], tests::iterable),
    c!("numeric", [], tests::numeric),
    c!("pattern", [], tests::pattern, variadic),
    c!("prefixed", [], tests::prefixed, variadic),
    c!("record type", [], tests::is_record_type, variadic),
    c!("suffixed", [], tests::suffixed, variadic),
];

/// Every implemented filter.
pub fn filters() -> &'static [Callable<FilterFn>] {
    FILTERS
}

/// Every implemented function.
pub fn functions() -> &'static [Callable<FunctionFn>] {
    FUNCTIONS
}

/// Every implemented test.
pub fn tests() -> &'static [Callable<TestFn>] {
    TESTS
}

/// Filters that need Cerb's helpdesk (records, workers, URLs).
pub const HELPDESK_ONLY_FILTERS: &[&str] = &["cerb_translate"];

/// Functions that need Cerb's helpdesk (records, workers, URLs), or the
/// host (another automation, the network).
pub const HELPDESK_ONLY_FUNCTIONS: &[&str] = &[
    "cerb_automation",
    "cerb_avatar_image",
    "cerb_avatar_url",
    "cerb_calendar_time_elapsed",
    "cerb_extract_uris",
    "cerb_file_url",
    "cerb_has_priv",
    "dns_get_record",
    "dns_host_by_ip",
];
