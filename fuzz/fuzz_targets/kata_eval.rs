//! KATA parse and evaluate (with Cerb's scripting) on arbitrary text.
#![no_main]

use katabox_twig::{Config, Engine};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let engine = Engine::new(Config::default());
    if let Ok(tree) = katabox_kata::parse(text)
        && let Ok(value) = katabox_kata::evaluate(&tree, None, &engine)
    {
        let _ = katabox_kata::emit(&value);
    }
});
