//! Hostile templates end in a clean error: never a hang, a panic, a stack
//! overflow or unbounded memory.

use katabox_twig::{Config, Engine, Limits};
use katabox_value::Value;
use std::time::{Duration, Instant};

fn run(e: &Engine, t: &str) -> Result<String, String> {
    e.render(t, &Value::Null)
        .map(|s| s.to_string_lossy().into_owned())
        .map_err(|e| e.to_string())
}

fn expect_error(t: &str, contains: &str) {
    let e = Engine::new(Config::default());
    let start = Instant::now();
    let r = run(&e, t);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "too slow: {t:.60}"
    );
    match r {
        Err(m) => assert!(
            m.contains(contains),
            "{t:.60}: error {m:?} lacks {contains:?}"
        ),
        Ok(out) => panic!("{t:.60}: rendered {} bytes instead of failing", out.len()),
    }
}

#[test]
fn loops_stop_at_25000_iterations() {
    expect_error(
        "{% for i in 1..30000 %}{% endfor %}",
        "limit of 25000 iterations",
    );
    let e = Engine::new(Config::default());
    assert_eq!(
        run(&e, "{% for i in 1..25000 %}{% endfor %}ok").as_deref(),
        Ok("ok")
    );
}

#[test]
fn nested_loops_exhaust_the_step_budget() {
    expect_error(
        "{% for i in 1..2000 %}{% for j in 1..2000 %}{% for k in 1..2000 %}x{% endfor %}{% endfor %}{% endfor %}",
        "limit",
    );
}

#[test]
fn deep_nesting_is_refused_at_parse_time() {
    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
    expect_error(&parens, "limit of 128 levels");
    let ifs = format!(
        "{}x{}",
        "{% if true %}".repeat(1000),
        "{% endif %}".repeat(1000)
    );
    expect_error(&ifs, "limit of 128 levels");
    let chain = format!("{{{{ 'x'{} }}}}", "|raw".repeat(5000));
    expect_error(&chain, "limit of 128 levels");
    let sum = format!("{{{{ 1{} }}}}", " + 1".repeat(5000));
    expect_error(&sum, "limit of 128 levels");
    let minus = format!("{{{{ {}1 }}}}", "- ".repeat(5000));
    expect_error(&minus, "limit of 128 levels");
    let arrays = format!("{{{{ {}{} }}}}", "[".repeat(5000), "]".repeat(5000));
    expect_error(&arrays, "limit of 128 levels");
}

#[test]
fn string_doubling_hits_the_string_limit() {
    expect_error(
        "{% set s = 'xxxxxxxxxxxxxxxx' %}{% for i in 1..40 %}{% set s = s ~ s %}{% endfor %}{{ s|length }}",
        "limit of 16777216 bytes",
    );
}

#[test]
fn huge_ranges_are_refused() {
    // Beyond PHP's own array size: Cerb's message.
    expect_error(
        "{{ (1..100000000000)|length }}",
        "The supplied range exceeds the maximum array size: start=1 end=100000000000",
    );
    expect_error(
        "{{ (0..1e+300)|length }}",
        "The supplied range exceeds the maximum array size",
    );
    // Within PHP's size but over katabox's array limit.
    expect_error("{{ (1..2000000)|length }}", "limit of 1000000 elements");
}

#[test]
fn output_is_bounded() {
    let cfg = Config {
        limits: Limits {
            max_output_bytes: 1000,
            ..Limits::default()
        },
        ..Config::default()
    };
    let e = Engine::new(cfg);
    let r = run(&e, "{% for i in 1..2000 %}xx{% endfor %}");
    assert!(r.is_err_and(|m| m.contains("limit of 1000 bytes")));
}

#[test]
fn step_budget_is_configurable() {
    let cfg = Config {
        limits: Limits {
            max_steps: 100,
            ..Limits::default()
        },
        ..Config::default()
    };
    let e = Engine::new(cfg);
    assert!(
        run(&e, "{% for i in 1..1000 %}{{ i }}{% endfor %}").is_err_and(|m| m.contains("steps"))
    );
    assert_eq!(run(&e, "{{ 1 + 1 }}").as_deref(), Ok("2"));
}

#[test]
fn arrow_functions_nest_only_as_deep_as_the_parser_allows() {
    let mut t = String::from("1");
    for _ in 0..200 {
        t = format!("([{t}]|map(v => v)|first)");
    }
    expect_error(&format!("{{{{ {t} }}}}"), "limit of 128 levels");
}

#[test]
fn deepest_accepted_template_renders_without_overflowing_the_stack() {
    // 60 nested tags around a 120-deep left-leaning expression chain and a
    // 60-deep parenthesised one: accepted, and evaluated on a 2 MiB stack.
    let chain = format!("1{}", " + 1".repeat(120));
    let parens = format!("{}1{}", "(".repeat(55), ")".repeat(55));
    let t = format!(
        "{}{{{{ {chain} }}}}{{{{ {parens} }}}}{}",
        "{% if true %}{% for i in [1] %}".repeat(30),
        "{% endfor %}{% endif %}".repeat(30)
    );
    let out = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || run(&Engine::new(Config::default()), &t))
        .ok()
        .and_then(|h| h.join().ok());
    assert_eq!(out, Some(Ok("1211".to_string())));
}
