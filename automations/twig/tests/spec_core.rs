//! The evaluator against the examples of scripting.md (§1–6, §10, §11):
//! printing, operators, precedence, lookup rules, tags, errors.

use katabox_twig::{Config, Delimiters, Engine};
use katabox_value::Value;

fn engine() -> Engine {
    Engine::new(Config::default())
}

fn dict(json: &str) -> Value {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or(serde_json::Value::Null);
    katabox_value::json::from_serde(&v)
}

fn render_with(t: &str, vars: &str) -> String {
    match engine().render(t, &dict(vars)) {
        Ok(s) => s.to_string_lossy().into_owned(),
        Err(e) => format!("ERR: {e}"),
    }
}

fn render(t: &str) -> String {
    render_with(t, "{}")
}

fn check(cases: &[(&str, &str)]) {
    let mut bad = Vec::new();
    for (t, want) in cases {
        let got = render(t);
        if got != *want {
            bad.push(format!("{t:?}: got {got:?}, want {want:?}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Error cases: the message must start with `want` (the template hash varies).
fn check_err(cases: &[(&str, &str)]) {
    let mut bad = Vec::new();
    for (t, want) in cases {
        let got = render(t);
        if !got.starts_with(&format!("ERR: {want}")) {
            bad.push(format!("{t:?}: got {got:?}, want ERR: {want:?}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn whitespace_control_and_newlines() {
    check(&[
        ("a  {{- 'b' -}}  c", "abc"),
        ("a  {{~ 'b' ~}}  \n c", "ab\n c"),
        ("a\n{% if true %}\nb\n{% endif %}\nc", "a\nb\nc"),
        ("a\n{{ 'b' }}\nc", "a\nb\nc"),
        ("a {# c #}\nb", "a b"),
        (
            "line1\n{% set x = 1 %}\nline2\n{%- if true -%}\n   inner   \n{%- endif -%}\n\nline3",
            "line1\nline2innerline3",
        ),
        ("{{-5|abs}}", "5"),
        ("a\r\nb{% if true %}\r\nc{% endif %}", "a\nbc"),
        ("{% verbatim %}{{ x }}{% endverbatim %}", "{{ x }}"),
        ("{% verbatim %}\na{% endverbatim %}\nb", "\na\nb"),
    ]);
}

#[test]
fn literals_and_strings() {
    check(&[
        ("{{ \"a #{1+2} b\" }}", "a 3 b"),
        ("{{ \"\\x41\\101\" }}", "AA"),
        ("{{ 'a\\'b' }}", "a'b"),
        ("{{ '#{x}' }}", "#{x}"),
        ("{{ \"\\u0041\" }}", "u0041"),
        ("{{ [1,2,]|length }}", "2"),
        ("{{ {(1+1): 'two'}[2] }}", "two"),
        ("{{ {'1': 'a'}[1] }}", "a"),
        ("{{ {1.5: 'c'}[1] }}", "c"),
        ("{{ {true: 1}|keys|first }}", "true"),
        ("{% set a = 5 %}{{ {a}.a }}", "5"),
        ("{{ TRUE }}|{{ FALSE }}|{{ NULL }}|{{ none }}", "1|||"),
        ("{{ 1e+2 }}", "100"),
        ("{{ 10000000000000000000000 }}", "1.0E+22"),
    ]);
}

#[test]
fn printing_and_floats() {
    check(&[
        ("{{ 0.1 + 0.2 }}", "0.3"),
        ("{{ (0.1+0.7)*10 }}", "8"),
        ("{{ 1/3 }}", "0.33333333333333"),
        ("{{ 7/2 }}|{{ 6/2 }}", "3.5|3"),
        ("{{ 1.0 }}|{{ 2.50 }}", "1|2.5"),
        ("{{ 1e+14 }}|{{ 1e+13 }}", "1.0E+14|10000000000000"),
        ("{{ 9223372036854775807 + 1 }}", "9.2233720368548E+18"),
        ("{{ 1.5e+300 * 1e+300 }}", "INF"),
        ("{{ true }}|{{ false }}|{{ null }}|{{ [1] }}", "1|||Array"),
    ]);
}

#[test]
fn precedence_table() {
    check(&[
        ("{{ 1 + 2 ~ 3 + 4 }}", "28"),
        ("{{ 'x' ~ 'a'|upper }}", "xA"),
        ("{{ -5|abs }}", "-5"),
        ("{{ not 1 == 2 }}", ""),
        ("{{ not 3 in [1,2] }}", ""),
        ("{{ 'v' ?? 'd' ~ 'e' }}", "ve"),
        ("{{ true ? 'a' : 'b' ~ 'c' }}", "a"),
        ("{{ 3 * 2 is even }}", "3"),
        ("{{ 'a' ~ 'b' is same as('ab') }}", "a"),
        ("{{ not '' is empty }}", ""),
        ("{{ 2 ** 3 ** 2 }}", "512"),
        ("{{ 10 / 2 * 5 }}", "25"),
        ("{{ 1 ? 2 ? 'a' : 'b' : 'c' }}", "a"),
        ("{{ '' ?? 'd' }}|{{ '' ?: 'd' }}", "|d"),
        ("{{ false ? 'a' }}", ""),
        ("{{ -2 ** 2 }}|{{ (-2) ** 2 }}", "-4|-4"),
        ("{% set x = -2 %}{{ -x ** 2 }}", "-4"),
    ]);
}

#[test]
fn arithmetic() {
    check(&[
        ("{{ '5' + 3 }}", "8"),
        ("{{ '5.5' + 1 }}", "6.5"),
        ("{{ ' 5' + 1 }}|{{ '5 ' + 1 }}", "6|6"),
        (
            "{{ '1e3' + 1 }}|{{ '012' + 1 }}|{{ '.5' + 1 }}",
            "1001|13|1.5",
        ),
        ("{{ '12abc' + 1 }}|{{ '0x1A' + 1 }}", "13|1"),
        ("{{ null + 1 }}|{{ true + 1 }}", "1|2"),
        ("{{ 10/4 }}|{{ 10/5 }}", "2.5|2"),
        (
            "{{ 7%3 }}|{{ -7%3 }}|{{ 10%-4 }}|{{ 7.5%2 }}|{{ 10.9%4 }}",
            "1|-1|2|1|2",
        ),
        (
            "{{ 7//2 }}|{{ -7//2 }}|{{ 10.5//1 }}|{{ 10//0.3 }}",
            "3|-4|10|33",
        ),
        (
            "{{ 2**10 }}|{{ 2**-1 }}|{{ 2**63 }}|{{ 4**0.5 }}",
            "1024|0.5|9.2233720368548E+18|2",
        ),
        ("{{ 5 b-and 3 }}|{{ 5 b-or 3 }}|{{ 5 b-xor 3 }}", "1|7|6"),
        ("{{ ([1] + [2,3])|join(',') }}", "1,3"),
        ("{{ -'3' }}|{{ -true }}|{{ -null }}", "-3|-1|0"),
        ("{{ '' ~ null ~ true ~ false ~ 1.0 }}", "11"),
        ("{{ 'a' ~ [1] }}", "aArray"),
    ]);
    check_err(&[
        ("{{ 1/0 }}", "Division by zero"),
        ("{{ 1%0 }}", "Modulo by zero"),
        ("{{ 1//0 }}", "Division by zero"),
        ("{{ 'abc' + 1 }}", "Unsupported operand types: string + int"),
        ("{{ -'abc' }}", "Unsupported operand types: string * int"),
        (
            "{{ null + 'x' }}",
            "Unsupported operand types: null + string",
        ),
        ("{{ [1] * 2 }}", "Unsupported operand types: array * int"),
    ]);
}

#[test]
fn comparisons_and_logic() {
    check(&[
        ("{{ 0 == '' }}|{{ 0 == 'a' }}|{{ 0 == '0' }}", "||1"),
        (
            "{{ '1' == '01' }}|{{ '1' == '1.0' }}|{{ 100 == '1e2' }}",
            "1|1|1",
        ),
        ("{{ null == 0 }}|{{ null == [] }}|{{ null == '0' }}", "1|1|"),
        (
            "{{ 'abc' < 'b' }}|{{ '2' < '10' }}|{{ 'abc' > 5 }}",
            "1|1|1",
        ),
        ("{{ 1 <=> 2 }}|{{ 2 <=> 2 }}|{{ 'b' <=> 'a' }}", "-1|0|1"),
        ("{{ {a:1,b:2} == {b:2,a:1} }}", "1"),
        (
            "{{ x or 'default' }}|{{ 'a' and 'b' }}|{{ 0 or '' }}",
            "1|1|",
        ),
        (
            "{{ 1 in 'abc1' }}|{{ 'A' in 'abc' }}|{{ '1' in [1] }}",
            "1||1",
        ),
        (
            "{{ 'a' in {k:'a'} }}|{{ [1] in [[1]] }}|{{ 0 in ['a'] }}",
            "1|1|",
        ),
        ("{{ 'a' in null }}|{{ 3 not in [1,2] }}", "|1"),
        (
            "{{ 'abc' starts with 'a' }}|{{ 123 starts with '1' }}|{{ 'abc' ends with 'bc' }}",
            "1||1",
        ),
        ("{{ 'abc' matches '/b/' }}|{{ 'abc' matches '/z/' }}", "1|0"),
        (
            "{{ [1,2,3] has some v => v > 2 }}|{{ [1,2,3] has every v => v > 2 }}",
            "1|",
        ),
        (
            "{{ (1..3)|join(',') }}|{{ ('a'..'c')|join(',') }}|{{ (3..1)|join(',') }}",
            "1,2,3|a,b,c|3,2,1",
        ),
        ("{{ 1..5|join(',') }}", "Array"),
        (
            "{{ date('2020-01-01') < date('2020-01-02') }}|{{ date('2020-01-02') == date('2020-01-02') }}",
            "1|1",
        ),
    ]);
    check_err(&[(
        "{{ 'a' matches 'x' }}",
        "Regexp \"x\" passed to \"matches\" is not valid: Delimiter must not be alphanumeric, backslash, or NUL in \"__string_template__",
    )]);
}

#[test]
fn variable_lookup_rules() {
    let cases = [
        ("{% set a = null %}{{ a }}", r#"{"a":"dict"}"#, "dict"),
        ("{% set a = 'local' %}{{ a }}", r#"{"a":"dict"}"#, "local"),
        (
            "{{ f is same as(false) }}|{{ f is null }}|{{ f|json_encode }}",
            r#"{"f":false}"#,
            "|1|null",
        ),
        ("{{ n is defined }}", r#"{"n":null}"#, ""),
        ("{{ z is same as(0) }}", r#"{"z":0}"#, "1"),
        (
            "{{ o.n is defined }}|{{ o.m is defined }}",
            r#"{"o":{"n":null}}"#,
            "1|",
        ),
        ("{{ undefined_var.foo.bar }}|{{ 'abc'.length }}", "{}", "|"),
        ("{% set s = 'abc' %}{{ s[0] }}", "{}", ""),
        (
            "{{ l[1.7] }}{{ l[true] }}{{ l['1'] }}{{ l['01'] }}",
            r#"{"l":[5,6]}"#,
            "666",
        ),
        ("{{ {a:1}.keys() }}", "{}", ""),
        ("{{ _context|json_encode }}", r#"{"a":1}"#, "[]"),
        (
            "{{ x|default('d') }}|{{ 0|default('d') }}|{{ ''|default('d') }}",
            "{}",
            "d|0|d",
        ),
        ("{{ x.y.z|default('d') }}", "{}", "d"),
        ("{{ (acc ?? 'n') }}", "{}", "n"),
    ];
    let mut bad = Vec::new();
    for (t, vars, want) in cases {
        let got = render_with(t, vars);
        if got != want {
            bad.push(format!("{t:?}: got {got:?}, want {want:?}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn tags() {
    check(&[
        (
            "{% for i in [1,2,3] %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }};{% endfor %}",
            "1/0/3/2/1//3;2/1/2/1///3;3/2/1/0//1/3;",
        ),
        (
            "{% set v = 'orig' %}{% set t = 0 %}{% for v in [1,2] %}{% set t = t + v %}{% set inner = 1 %}{% endfor %}{{v}}|{{t}}|{{inner}}",
            "orig|3|",
        ),
        (
            "{% for i in [1,2] %}{% set acc = (acc ?? '') ~ i %}{% endfor %}[{{ acc }}]",
            "[]",
        ),
        ("{% for v in 'abc' %}x{% else %}empty{% endfor %}", "empty"),
        (
            "{% for k, v in {a:1,b:2} %}{{k}}={{v}};{% endfor %}",
            "a=1;b=2;",
        ),
        ("{% for v in {a:1} %}{{ _key }}{% endfor %}", "a"),
        (
            "{% for i in [1,2] %}{% for j in [1] %}{{ loop.parent.loop.index }}{% endfor %}{% endfor %}",
            "12",
        ),
        ("{% set a, b = 1, 2 %}{{ a }}{{ b }}", "12"),
        (
            "{% set x %}  hello {{ 'w' }}  {% endset %}[{{x}}]|{{ x is same as('  hello w  ') }}|{{ x|length }}",
            "[  hello w  ]||11",
        ),
        ("{% set x %}0{% endset %}{% if x %}T{% endif %}", "T"),
        (
            "{% set x %}{% endset %}{% if x %}T{% else %}F{% endif %}",
            "F",
        ),
        (
            "{% set a = 1 %}{% with {b: 2} %}{% set a = 5 %}{{ a }}{{ b }}{% endwith %}|{{ a }}|{{ b }}",
            "52|1|",
        ),
        (
            "{% set a = 1 %}{% with {b: 2} only %}{{ a }}{{ b }}{% endwith %}",
            "2",
        ),
        ("{% apply upper %}hello {{ 'w' }}{% endapply %}", "HELLO W"),
        ("{% do 1 + 2 %}done", "done"),
        (
            "{% if false %}a{% elseif true %}b{% else %}c{% endif %}",
            "b",
        ),
        ("{% if true %}{% set z = 1 %}{% endif %}{{ z }}", "1"),
        ("{% sandbox %}text{% endsandbox %}", "text"),
        (
            "{{ '<b>' }}|{{ '<b>'|raw }}|{{ '<b>'|e|e }}",
            "<b>|<b>|&amp;lt;b&amp;gt;",
        ),
        (
            "{{ 5|e }}|{{ true|e }}|{{ null|e }}|{{ [1,2]|e }}",
            "5|1||Array",
        ),
    ]);
}

#[test]
fn syntax_errors() {
    check_err(&[
        ("{{ 'x' }", "Unexpected \"}\". (line 1)"),
        ("{{ 'x' ", "Unclosed \"variable\". (line 1)"),
        ("{% if true %}x", "Unexpected end of template. (line 1)"),
        ("{% endif %}", "Unknown \"endif\" tag. (line 1)"),
        (
            "{% for x in y %}{% endif %}",
            "Unexpected \"endif\" tag (expecting closing tag for the \"for\" tag defined near line 1). (line 1)",
        ),
        (
            "{% for a in [1] %}{% break %}{% endfor %}",
            "Unexpected \"break\" tag (expecting closing tag for the \"for\" tag defined near line 1). (line 1)",
        ),
        ("{% %}", "A block must start with a tag name. (line 1)"),
        (
            "{{ }}",
            "Unexpected token \"end of print statement\" of value \"\". (line 1)",
        ),
        (
            "{{ 1 + }}",
            "Unexpected token \"end of print statement\" of value \"\". (line 1)",
        ),
        (
            "{% if %}{% endif %}",
            "Unexpected token \"end of statement block\" of value \"\". (line 1)",
        ),
        (
            "{{ a b }}",
            "Unexpected token \"name\" of value \"b\" (\"end of print statement\" expected). (line 1)",
        ),
        (
            "{{ a === b }}",
            "Unexpected operator of value \"=\". Did you try to use \"===\" or \"!==\" for strict comparison? Use \"is same as(value)\" instead. (line 1)",
        ),
        ("{{ 'abc }}", "Unexpected character \"'\". (line 1)"),
        ("{{ \"unclosed }}", "Unclosed \"\"\". (line 1)"),
        ("{{ [1,2 }}", "Unclosed \"[\". (line 1)"),
        (
            "{{ 1e20 }}",
            "Unexpected token \"name\" of value \"e20\" (\"end of print statement\" expected). (line 1)",
        ),
        (
            "{{ a.() }}",
            "Expected name or number, got value \"(\" of type punctuation. (line 1)",
        ),
        (
            "{{ {a b: 1} }}",
            "A hash key must be followed by a colon (:). Unexpected token \"name\" of value \"b\" (\"punctuation\" expected with value \":\"). (line 1)",
        ),
        ("{# unclosed", "Unclosed comment. (line 1)"),
        (
            "{% verbatim %}a{% endverbatim",
            "Unexpected end of file: Unclosed \"verbatim\" block. (line 1)",
        ),
        ("{{ foo() }}", "Unknown \"foo\" function. (line 1)"),
        (
            "{% filter upper %}x{% endfilter %}",
            "Unknown \"filter\" tag. (line 1)",
        ),
        (
            "{% sett x = 1 %}",
            "Unknown \"sett\" tag. Did you mean \"set\"? (line 1)",
        ),
        ("{% raw %}", "Unknown \"raw\" tag. (line 1)"),
        ("{{ x is emtpy }}", "Unknown \"emtpy\" test. (line 1)"),
        (
            "{{ 'a' 'b' }}",
            "Unexpected token \"string\" of value \"b\" (\"end of print statement\" expected). (line 1)",
        ),
        (
            "{{ \"#{}\" }}",
            "Unexpected token \"end of string interpolation\" of value \"\". (line 1)",
        ),
        (
            "{% set true = 1 %}",
            "You cannot assign a value to \"true\". (line 1)",
        ),
        (
            "{% set 1 = 1 %}",
            "Only variables can be assigned to. Unexpected token \"number\" of value \"1\" (\"name\" expected). (line 1)",
        ),
        (
            "{% set a, b = 1 %}",
            "When using set, you must have the same number of variables and assignments. (line 1)",
        ),
        (
            "{% set a, b %}x{% endset %}",
            "When using set with a block, you cannot have a multi-target. (line 1)",
        ),
        (
            "{% if true %}{% else if true %}{% endif %}",
            "Unexpected token \"name\" of value \"if\" (\"end of statement block\" expected). (line 1)",
        ),
        (
            "{% sandbox %}{{ 1 }}{% endsandbox %}",
            "Only \"include\" tags are allowed within a \"sandbox\" section. (line 1)",
        ),
        (
            "\n\n{{ 1 +* 2 }}",
            "Unexpected token \"operator\" of value \"*\". (line 3)",
        ),
        (
            "{{ x|default(default='b') }}",
            "An exception has been thrown during the compilation of a template (\"Node \"0\" does not exist for Node \"Twig\\Node\\Node\".\"). (line -1)",
        ),
    ]);
}

#[test]
fn sandbox_errors_name_the_template() {
    let t = "{% include 'x' %}";
    let e = engine()
        .render(t, &Value::Null)
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some(
            "Tag \"include\" is not allowed in \"__string_template__a1d96febaebcf2850c31569ac666d159\" at line 1."
        )
    );
    check_err(&[
        (
            "{{ constant('PHP_EOL') }}",
            "Function \"constant\" is not allowed in \"__string_template__",
        ),
        (
            "{% if false %}{% macro m() %}{% endmacro %}{% endif %}",
            "Tag \"macro\" is not allowed in",
        ),
        (
            "{{ block('x') }}",
            "Block \"x\" on template \"__string_template__",
        ),
        (
            "{{ parent() }}",
            "Calling \"parent\" outside a block is forbidden. (line 1)",
        ),
        (
            "{% with 5 %}{% endwith %}",
            "Variables passed to the \"with\" tag must be a hash in \"__string_template__",
        ),
        (
            "{{ 'x'|e('foo') }}",
            "Invalid escaping strategy \"foo\" (valid ones: html, js, url, css, html_attr) in \"__string_template__",
        ),
    ]);
}

#[test]
fn runtime_errors_report_the_statement_line() {
    let got = render("a\n\n{{ 'x'|e('foo') }}");
    assert!(got.ends_with("at line 3."), "{got}");
}

#[test]
fn named_arguments() {
    check_err(&[
        (
            "{{ 'x'|e(strategy='html', 'y') }}",
            "Positional arguments cannot be used after named arguments for filter \"e\". (line 1)",
        ),
        (
            "{{ 'x'|e(foo=1) }}",
            "Unknown argument \"foo\" for filter \"e(strategy, charset, autoescape)\". (line 1)",
        ),
        (
            "{{ 'x'|e('html', strategy='js') }}",
            "Argument \"strategy\" is defined twice for filter \"e\". (line 1)",
        ),
        (
            "{{ 'x'|regexp(group=1) }}",
            "Value for argument \"pattern\" is required for filter \"regexp\". (line 1)",
        ),
    ]);
    check(&[
        ("{{ '<'|e(strategy='html') }}", "&lt;"),
        ("{{ 'a\"'|escape(strategy='js') }}", "a\\u0022"),
    ]);
}

#[test]
fn package_import_delimiters() {
    let e = Engine::with_delimiters(Config::default(), Delimiters::package_import());
    let d = dict(r#"{"default":{"name":"Kina"}}"#);
    let out = e
        .render(
            "{{{default.name}}} {{ kept }} {{% if true %}}yes{{% endif %}}{{# c #}}",
            &d,
        )
        .map(|s| s.to_string_lossy().into_owned());
    assert_eq!(out.as_deref(), Ok("Kina {{ kept }} yes"));
}

#[test]
fn compiled_templates_render_many_dictionaries() {
    let e = engine();
    let t = e.compile("Hi {{ name }}!");
    assert!(t.is_ok());
    if let Ok(t) = t {
        for n in ["a", "b"] {
            let out = e.render_template(&t, &dict(&format!(r#"{{"name":"{n}"}}"#)));
            assert_eq!(
                out.map(|s| s.to_string_lossy().into_owned()),
                Ok(format!("Hi {n}!"))
            );
        }
    }
}

#[test]
fn scripting_trait_reports_cerb_messages() {
    use katabox_kata::Scripting;
    let e = engine();
    assert_eq!(
        Scripting::render(&e, "{{ 1/0 }}", &Value::Null),
        Err("Division by zero".to_string())
    );
    assert!(Scripting::check(&e, "{{ 1/0 }}").is_ok());
    assert_eq!(
        Scripting::check(&e, "{{ x|lenght }}"),
        Err("Unknown \"lenght\" filter. Did you mean \"length\"? (line 1)".to_string())
    );
}

#[test]
fn engine_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<katabox_twig::Template>();
    let e = std::sync::Arc::new(engine());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let e = e.clone();
            std::thread::spawn(move || {
                e.render("{{ n * 2 }}", &dict(&format!(r#"{{"n":{i}}}"#)))
                    .map(|s| s.to_string_lossy().into_owned())
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().ok(), Some(Ok((i * 2).to_string())));
    }
}

#[test]
fn plain_text_is_returned_with_newlines_normalised() {
    check(&[
        ("a\r\nb\rc", "a\nb\nc"),
        ("no tags { here }", "no tags { here }"),
    ]);
}
