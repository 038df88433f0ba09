// NOTE from the library helper to the core helper:
// - XML elements (`xml_decode`, `xml_xpath`) are `library::xml::XmlElement`
//   (class "SimpleXMLElement"). Attribute access `xml.item` must return
//   `XmlElement::child("item")` (first child element of that name, else
//   null): please add that case to eval/attr.rs `get_attribute`.
// - Also public for you: `library::datetime::DateTime` (the DateTime
//   object; `.ts` for comparisons), `library::plain_object::PlainObject`
//   (stdClass from `dict_set(null, ...)`), `library::pcre::Pcre` (PCRE
//   delimiters/flags over the `regex` crate), `library::json_enc::encode`
//   (json_encode with every PHP flag).
// NOTE from the core helper (evaluator) to the library helper:
// - The core implements these itself (registered before the library, so a
//   library entry with the same name is ignored): filters `default`,
//   `escape`, `e`, `raw`; tests `defined`, `null`, `none`, `same as`.
// - Tests `empty`, `iterable`, `even`, `odd`, `divisible by` have core
//   fallbacks used ONLY when library::tests() lacks them: yours win.
// - `matches` uses the core's own small PCRE wrapper (src/pcre_lite.rs).
// - Arrow functions arrive as `Value::Object` (class "Closure"); call them
//   with `env.call(f, &[value, key])`. To test "is it an arrow function",
//   check `v.type_name() == "Closure"`.
// - Captured strings are `Value::Object` with class "Twig\Markup" whose
//   `to_pstr()` gives the text (crate::objects::markup_text(&v) too).
// - Named arguments: a skipped optional parameter arrives as `None` in Args.
//   Required parameters (leading ones without a default, per the spec's
//   tables) are listed in src/registry.rs `REQUIRED`; skipping one by name is
//   a parse error there. Anything not listed arrives as `None`: answer
//   ArgumentCount then.
// - Tests with one argument without parentheses: only `same as` and
//   `divisible by`.

//! The interface between the evaluator (lexer/parser/eval) and the library
//! of filters, functions and tests (`library/`).
//!
//! The evaluator maps named arguments to positions using each callable's
//! `params` (at parse time, with Cerb's errors), then calls the plain
//! function pointer with the resulting [`Args`].

use crate::limits::Limits;
use katabox_value::Value;

/// Arguments after named-argument mapping: one slot per position; `None`
/// for an optional parameter that was skipped (the callee uses its default).
#[derive(Debug, Clone, Default)]
pub struct Args {
    /// The slots in parameter order (variadic extras follow).
    pub values: Vec<Option<Value>>,
}

impl Args {
    /// Positional arguments, all given.
    pub fn positional(values: Vec<Value>) -> Args {
        Args {
            values: values.into_iter().map(Some).collect(),
        }
    }

    /// The argument at position `i`, if given.
    pub fn get(&self, i: usize) -> Option<&Value> {
        self.values.get(i).and_then(Option::as_ref)
    }

    /// The argument at `i`, or `ArgumentCount` when it is required and absent.
    pub fn required(&self, i: usize) -> Result<&Value, CallError> {
        self.get(i).ok_or(CallError::ArgumentCount)
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when no argument was given.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Given arguments from position `from` on (variadics).
    pub fn rest(&self, from: usize) -> impl Iterator<Item = &Value> {
        self.values.iter().skip(from).filter_map(Option::as_ref)
    }
}

/// What a filter, function or test can ask of the running template.
pub trait Env {
    /// Calls a callable value (an arrow function) with arguments.
    fn call(&mut self, callable: &Value, args: &[Value]) -> Result<Value, CallError>;
    /// Charges `units` evaluation steps against the budget.
    fn charge(&mut self, units: u64) -> Result<(), CallError>;
    /// The limits in force.
    fn limits(&self) -> &Limits;
    /// The default time zone name (e.g. `UTC`).
    fn timezone(&self) -> &str;
    /// "Now" as a Unix timestamp.
    fn now(&self) -> i64;
    /// The dictionary the template renders against.
    fn dict(&self) -> &Value;
}

/// How a callable fails. The evaluator turns it into Cerb's message format
/// (scripting.md §11.2), adding the template name and line where due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// A bare PHP engine error, sent without location
    /// (`Division by zero`, `abs(): Argument #1 ($num) must be of type int|float, string given`).
    Php(String),
    /// A Twig run-time error; its final `.` moves after the location.
    Twig(String),
    /// A non-Twig exception: wrapped as `An exception has been thrown during
    /// the rendering of a template ("...")`.
    Exception(String),
    /// PHP's `Argument count error`.
    ArgumentCount,
    /// A katabox limit was passed (the message names it).
    Limit(String),
}

/// A filter: `value|name(args)`.
pub type FilterFn = fn(&mut dyn Env, Value, &Args) -> Result<Value, CallError>;
/// A function: `name(args)`.
pub type FunctionFn = fn(&mut dyn Env, &Args) -> Result<Value, CallError>;
/// A test: `value is name(args)`.
pub type TestFn = fn(&mut dyn Env, &Value, &Args) -> Result<bool, CallError>;

/// A named callable and its parameter names (snake_case, in order), used to
/// map named arguments and to word Cerb's argument errors.
#[derive(Debug, Clone, Copy)]
pub struct Callable<F: 'static> {
    /// The name templates use.
    pub name: &'static str,
    /// Parameter names after the filtered value (filters/tests) or from the first (functions).
    pub params: &'static [&'static str],
    /// Accepts any number of extra positional arguments.
    pub variadic: bool,
    /// The implementation.
    pub func: F,
}
