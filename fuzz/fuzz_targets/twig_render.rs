//! Template parse and render on arbitrary text, with a small dictionary.
#![no_main]

use katabox_twig::{Config, Engine};
use katabox_value::{Array, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let mut dict = Array::new();
    dict.insert("s", Value::str("héllo 😀"));
    dict.insert("n", Value::Int(42));
    let mut list = Array::new();
    list.push(Value::Int(1));
    list.push(Value::str("two"));
    dict.insert("l", Value::array(list));
    let engine = Engine::new(Config::default());
    let _ = engine.render(source, &Value::array(dict));
});
