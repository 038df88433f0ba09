//! Misbehaving guest for the limit tests: `request_params.do` picks
//! `panic`, `spin` (loops forever) or `alloc` (allocates without bound);
//! anything else answers 200 `fine`.

use katabox_guest::{Error, Output, Value};

fn run(_trigger: &str, dict: Value) -> Result<Output, Error> {
    let what = dict
        .get_path(["request_params", "do"])
        .map(Value::to_string_lossy)
        .unwrap_or_default();
    match what.as_str() {
        "panic" => panic!("the guest panicked on purpose"),
        "spin" => {
            let mut x = 0u64;
            loop {
                x = core::hint::black_box(x.wrapping_add(1));
            }
        }
        "alloc" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![7u8; 1 << 20]);
                core::hint::black_box(&hoard);
            }
        }
        _ => Ok(Output::new().status_code(200).body("fine")),
    }
}

katabox_guest::automation!(run);
