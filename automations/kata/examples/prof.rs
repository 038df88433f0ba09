use katabox_kata::{NoScripting, eval_text};
use katabox_value::Value;

fn main() {
    let mut s = String::from("&shared:\n  colors@list:\n    red\n    green\n");
    let mut i = 0;
    while s.len() < 1_000_000 {
        s.push_str(&format!(
            "event/e{i}:\n  actions:\n    set/v{i}:\n      count@int: {i}\n      flag@bool: yes\n      name: item {i}\n      tags@csv: a, b, c\n      body@text:\n        line one {i}\n        line two\n    options@ref: shared:colors\n# comment {i}\n"
        ));
        i += 1;
    }
    let d = Value::empty_array();
    for _ in 0..20 {
        let _ = eval_text(&s, Some(&d), &NoScripting);
    }
}
