//! The spec's examples for filters, functions and tests (scripting.md
//! §7–9, appendices), rendered end to end through the engine.

use crate::{Config, Engine};
use katabox_value::Value;

fn engine() -> Engine {
    Engine::new(Config {
        now: Some(1_700_000_000),
        ..Config::default()
    })
}

fn render(src: &str) -> String {
    match engine().render(src, &Value::empty_array()) {
        Ok(s) => s.to_string_lossy().into_owned(),
        Err(e) => format!("ERR: {e}"),
    }
}

fn check(cases: &[(&str, &str)]) {
    let mut bad = Vec::new();
    for (src, want) in cases {
        let got = render(src);
        let ok = if let Some(err) = want.strip_prefix("ERR: ") {
            got.starts_with("ERR: ") && got.contains(err)
        } else {
            got == *want
        };
        if !ok {
            bad.push(format!("{src}\n   got:  {got:?}\n   want: {want:?}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn twig_core_filters() {
    check(&[
        ("{{ (-5.5)|abs }}", "5.5"),
        ("{{ '-3'|abs }}", "3"),
        ("{{ 5|abs(2) }}", "ERR: Argument count error"),
        (
            "{{ [1,2,3,4,5]|batch(2)|json_encode }}",
            r#"[[1,2],{"2":3,"3":4},{"4":5}]"#,
        ),
        (
            "{{ [1,2,3]|batch(2,'x')|json_encode }}",
            r#"[[1,2],{"2":3,"3":"x"}]"#,
        ),
        ("{{ 'hello WORLD'|capitalize }}", "Hello world"),
        (
            "{{ [{a:1,b:'x'},{a:2,b:'y'}]|column('b','a')|json_encode }}",
            r#"{"1":"x","2":"y"}"#,
        ),
        ("{{ 1700000000|date('c') }}", "2023-11-14T22:13:20+00:00"),
        ("{{ '0'|date }}", "January 1, 1970 00:00"),
        ("{{ '2020-01-02 03:04:05'|date('U') }}", "1577934245"),
        (
            "{{ 1700000000|date('c', 'America/Los_Angeles') }}",
            "2023-11-14T14:13:20-08:00",
        ),
        (
            "{{ '2018-01-01T10:00:00+05:00'|date('c', false) }}",
            "2018-01-01T10:00:00+05:00",
        ),
        ("{{ '+1 day'|date('U') - 'now'|date('U') }}", "86400"),
        ("{{ '@86400'|date('Y-m-d') }}", "1970-01-02"),
        (
            "{{ 'garbage'|date('Y') }}",
            "ERR: Failed to parse time string (garbage) at position 0 (g)",
        ),
        (
            "{{ 1|date('c', 'Bad/Zone') }}",
            "ERR: Unknown or bad timezone (Bad/Zone)",
        ),
        (
            "{{ '2020-01-31'|date_modify('+1 month')|date('Y-m-d') }}",
            "2020-03-02",
        ),
        (
            "{{ [1,2,3]|filter(v => v > 1)|json_encode }}",
            r#"{"1":2,"2":3}"#,
        ),
        (
            "{{ 'abc'|filter(v => v) }}",
            "ERR: The \"filter\" filter expects an array or \"Traversable\", got \"string\"",
        ),
        ("{{ {a:9,b:8}|first }}", "9"),
        ("{{ 'abc'|first }}{{ 5|first }}", "a5"),
        (
            "{{ '%s has %d items'|format('Kina', 3.7) }}",
            "Kina has 3 items",
        ),
        ("{{ '%s'|format() }}", "ERR: Argument count error"),
        ("{{ [1,2,3]|join(', ', ' and ') }}", "1, 2 and 3"),
        ("{{ [true,false,null,1.0]|join(',') }}", "1,,,1"),
        ("{{ {b:'x/y'}|json_encode(64) }}", r#"{"b":"x/y"}"#),
        ("{{ {a:1,b:2}|keys|json_encode }}", r#"["a","b"]"#),
        ("{{ 'été'|last }}{{ 'été'|length }}", "é3"),
        ("{{ 'ÉTÉ ABC'|lower }}", "été abc"),
        (
            "{{ {a:1,b:2}|map((v,k) => k ~ v)|json_encode }}",
            r#"{"a":"a1","b":"b2"}"#,
        ),
        (
            "{{ {a:1}|merge({b:2,a:3})|json_encode }}",
            r#"{"a":3,"b":2}"#,
        ),
        (
            "{{ {0:'a',5:'b'}|merge(['c'])|json_encode }}",
            r#"["a","b","c"]"#,
        ),
        (
            "{{ null|merge([1]) }}",
            "ERR: The merge filter only works with arrays or \"Traversable\", got \"NULL\" as first argument",
        ),
        ("{{ 1234.5678|number_format(2) }}", "1,234.57"),
        (
            "{{ 1234.5|number_format(decimal=1, thousand_sep=' ') }}",
            "1 234.5",
        ),
        ("{{ [1,2,3]|reduce((c, v) => c + v, 10) }}", "16"),
        (
            "{{ 'I like %food%'|replace({'%food%':'pie','like':'love'}) }}",
            "I love pie",
        ),
        ("{{ 'a'|replace({a:'b'}, 'x') }}", "b"),
        (
            "{{ 'x'|replace('y') }}",
            "ERR: as replace values, got \"string\"",
        ),
        (
            "{{ 123|reverse }}{{ {a:1,b:2}|reverse|json_encode }}",
            r#"321{"b":2,"a":1}"#,
        ),
        (
            "{{ 3.14159|round(2) }} {{ 2.5|round }} {{ (-2.5)|round }} {{ 1234|round(-2) }} {{ 1.005|round(2) }}",
            "3.14 3 -3 1200 1.01",
        ),
        (
            "{{ 1|round(0, 'x') }}",
            "ERR: The round filter only supports the \"common\", \"ceil\", and \"floor\" methods",
        ),
        (
            "{{ [1,2,3,4,5]|slice(1,2)|json_encode }} {{ 'hello'|slice(-3,2) }} {{ 'Hello'|slice(1,-1) }}",
            "[2,3] ll ell",
        ),
        (
            "{{ [3,1,2]|sort|json_encode }} {{ ['b','a','C']|sort|join }}",
            r#"{"1":1,"2":2,"0":3} Cab"#,
        ),
        (
            "{{ '<b> x </b>  <i>y</i>'|spaceless }}",
            "<b> x </b><i>y</i>",
        ),
        (
            "{{ 'a,b,c'|split(',', 2)|json_encode }} {{ 'abcde'|split('', 2)|json_encode }}",
            r#"["a","b,c"] ["ab","cd","e"]"#,
        ),
        (
            "{{ '<p>Hi <b>there</b></p>'|striptags('<b>') }}",
            "Hi <b>there</b>",
        ),
        (
            "{{ \"hello wORLD-foo bar_baz o'neil\"|title }}",
            "Hello World-Foo Bar_Baz O'neil",
        ),
        ("{{ '--x--'|trim('-', 'left') }}", "x--"),
        ("{{ 'straße'|upper }}", "STRASSE"),
        ("{{ 'a b&c/d?é'|url_encode }}", "a%20b%26c%2Fd%3F%C3%A9"),
        (
            "{{ {a:'x y', b:[1,2]}|url_encode }}",
            "a=x%20y&b%5B0%5D=1&b%5B1%5D=2",
        ),
    ]);
}

#[test]
fn cerb_filters() {
    check(&[
        ("{{ 'ABC$DEF(123)'|alphanum('()','_') }}", "ABC_DEF(123)"),
        (
            "{{ 'a, '|append('b', ', ') }}|{{ null|append('b', ', ') }}|{{ 5|append('x') }}",
            "a, b|b|",
        ),
        ("{{ 255|base_convert(10,16) }}", "ff"),
        (
            "{{ 'hello'|base64_encode }} {{ 'aGVsbG8'|base64_decode }} {{ '?>?'|base64url_encode }}",
            "aGVsbG8= hello Pz4_",
        ),
        ("{{ 1252600|bytes_pretty(2) }}", "1.25 MB"),
        (
            "{{ 3600|date_pretty(true) }} {{ (-90)|date_pretty(true) }}",
            "+1 hour -1 min",
        ),
        (
            "{{ 'message'|hash_hmac('secret') }}",
            "8b5f48702995c1598c573db1e21866a9b825d4a794d169d7060a03605796360b",
        ),
        (
            "{{ 'x'|hash_hmac('k', 'nope') }}",
            "ERR: must be a valid cryptographic hashing algorithm",
        ),
        (
            "{{ \"One\\nTwo\\nThree\"|indent('> ', 2) }}",
            "One\n> Two\n> Three",
        ),
        ("{{ '{\"a\":1}'|json_pretty }}", "{\n    \"a\": 1\n}"),
        (
            "{{ 'You can verify this hash'|md5 }}",
            "1c20552e3bae1c4711cf697137002581",
        ),
        (
            "{{ 'Devs: 1000 Ways to Improve Sales!'|permalink }}",
            "Devs-1000-Ways-to-Improve-Sales",
        ),
        (
            "{{ 'Order #Z-1234-5 shipped'|regexp('/#([A-Z0-9\\\\-]+)/', 1) }}",
            "Z-1234-5",
        ),
        ("{{ '*'|repeat(5) }}", "*****"),
        (
            "{{ '*'|repeat(-1) }}",
            "ERR: str_repeat(): Argument #2 ($times) must be greater than or equal to 0",
        ),
        (
            "{{ 330|secs_pretty }} / {{ 7530|secs_pretty(2) }}",
            "5 mins, 30 secs / 2 hours, 5 mins",
        ),
        (
            "{{ \"1\\n 2\\n\\n3\\r\\n\"|split_crlf|json_encode }}",
            r#"{"0":"1","1":"2","3":"3"}"#,
        ),
        (
            "{{ 'BTC,   ETH   ,LTC'|split_csv|json_encode }}",
            r#"["BTC","ETH","LTC"]"#,
        ),
        (
            "{{ [2,4,4,4,5,5,7,9]|stat('stdevp') }} {{ range(1,10)|stat('median') }}",
            "2 5.5",
        ),
        (
            "{{ 'ABCDEFGHIJ'|str_pos('H') }} {{ 'ABCDEF'|str_sub(-3,-1) }}",
            "7 DE",
        ),
        ("{{ 'abcdef'|truncate(5,'~') }}", "abcd~"),
        (
            "{{ '&quot;iPhone&quot; is &copy; Apple'|unescape }}",
            "\"iPhone\" is © Apple",
        ),
        ("{{ 'a%20b+c%2F'|url_decode }}", "a b+c/"),
        ("{{ {a:1,b:2}|values|json_encode }}", "[1,2]"),
        (
            "{{ 'x'|values }}",
            "ERR: array_values(): Argument #1 ($array) must be of type array, string given",
        ),
        (
            "{{ 'ticket'|context_name('id') }}",
            "cerberusweb.contexts.ticket",
        ),
    ]);
}

#[test]
fn functions() {
    check(&[
        ("{{ attribute({a:1}, 'a') }}{{ attribute([5,6], 1) }}", "16"),
        ("{{ cycle(['a','b'], 3) }}", "b"),
        ("{{ date('2020-01-01')|date('Y-m-d') }}", "2020-01-01"),
        (
            "{{ date('now') }}",
            "ERR: Object of class DateTime could not be converted to string",
        ),
        (
            "{{ max(1,3,2) }} {{ max({a:1,b:9}) }} {{ max('apple','banana') }} {{ max('abc', 0) }}",
            "3 9 banana abc",
        ),
        (
            "{{ max(1) }}",
            "ERR: max(): Argument #1 ($value) must be of type array, int given",
        ),
        (
            "{{ min([]) }}",
            "ERR: min(): Argument #1 ($value) must contain at least one element",
        ),
        ("{{ max() }}", "ERR: Argument count error"),
        ("{{ random(['x']) }}{{ random(3,3) }}", "x3"),
        (
            "{{ random([]) }}",
            "ERR: The random function cannot pick from an empty array",
        ),
        (
            "{{ range(0,10,5)|json_encode }} {{ range(5,1)|join }} {{ range('a','e',2)|join }}",
            "[0,5,10] 54321 ace",
        ),
        ("{{ range(0,1,0.25)|json_encode }}", "[0,0.25,0.5,0.75,1]"),
        (
            "{{ range(0,1,0)|json_encode }}",
            "ERR: range(): Argument #3 ($step) must not exceed the specified range",
        ),
        (
            "{{ array_combine(['a','b'],[1,2])|json_encode }}",
            r#"{"a":1,"b":2}"#,
        ),
        (
            "{{ array_count_values([1,2,'1','a','a'])|json_encode }}",
            r#"{"1":2,"2":1,"a":2}"#,
        ),
        (
            "{{ array_diff(['a','b','c'],['b'])|json_encode }}",
            r#"{"0":"a","2":"c"}"#,
        ),
        (
            "{{ array_fill_keys(range(1,3), true)|json_encode }}",
            r#"{"1":true,"2":true,"3":true}"#,
        ),
        (
            "{{ array_sort_keys({z:1,a:2,m:3})|json_encode }}",
            r#"{"a":2,"m":3,"z":1}"#,
        ),
        (
            "{{ array_sum([1,2,3.5]) }} {{ array_unique([1,'1',2,2,'a'])|json_encode }}",
            r#"6.5 {"0":1,"2":2,"4":"a"}"#,
        ),
        (
            "{{ clamp_float(-105.19,0,100) }} {{ clamp_int(110,-90,90) }} {{ clamp_int('5.9',0,10) }}",
            "0 90 5",
        ),
        (
            "{{ dict_set({}, 'a.b', 1)|json_encode }}",
            r#"{"a":{"b":1}}"#,
        ),
        (
            "{{ dict_set([1,2,[3,4,[5,6]]], '2.2.[]', 7)|json_encode }}",
            "[1,2,[3,4,[5,6,7]]]",
        ),
        ("{{ dict_unset({a:1,b:2}, 'a')|json_encode }}", r#"{"b":2}"#),
        ("{{ json_decode('{\"a\":1,\"b\":[1,2]}').b.1 }}", "2"),
        (
            "{{ json_decode([1]) }}",
            "ERR: json_decode(): Argument #1 ($json) must be of type string, array given",
        ),
        (
            "{{ jsonpath_set(null, 'team.groups[]', 'Support')|json_encode }}",
            r#"{"team":{"groups":["Support"]}}"#,
        ),
        ("{{ random_string(20)|length }}", "20"),
        (
            "{{ validate_email('kina') ? 'y' : 'n' }}{{ validate_number('1e3') ? 'y' : 'n' }}",
            "ny",
        ),
        (
            "{{ date_lerp('2023-01-01 to 2023-01-03', 'day')|json_encode }}",
            "[1672531200,1672617600,1672704000]",
        ),
    ]);
}

#[test]
fn tests_and_operators() {
    check(&[
        ("{{ 0 is empty }}|{{ {} is empty }}", "|1"),
        ("{{ 2.5 is even }}{{ '4' is even }}{{ 3 is odd }}", "111"),
        ("{{ 9 is divisible by 3 }}", "1"),
        ("{{ 9 is divisible by(0) }}", "ERR: Modulo by zero"),
        ("{{ 'a' is iterable }}|{{ [1] is iterable }}", "|1"),
        (
            "{{ ' 5' is numeric }}|{{ '0x1A' is numeric }}|{{ true is numeric }}",
            "1||",
        ),
        (
            "{{ 'support@cerb.example' is pattern('support@*', '*@example.com') }}",
            "1",
        ),
        ("{{ 'ABC' is pattern('abc') }}", "1"),
        (
            "{{ '[Bugs] New' is prefixed('[Bugs]') }}|{{ 5 is prefixed('5') }}",
            "1|",
        ),
        ("{{ 'cerb.ai' is suffixed('.ai', '.com') }}", "1"),
        (
            "{{ 'cerberusweb.contexts.task' is record type('task','ticket') }}",
            "1",
        ),
    ]);
}
