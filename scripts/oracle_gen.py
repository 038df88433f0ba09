"""Case generators for scripts/oracle-diff.py, one function per family.

Each takes a `random.Random` and returns one case in the oracle's batch
format (`mode` plus `template`/`vars`, `kata`/`vars` or
`script`/`inputs`/`trigger`).
"""

import json

SCALARS = [
    "0", "1", "-3", "7", "42", "1.5", "-2.25", "0.1", "3.0", "1e3", "1.0E+25",
    "'5'", "'2.5'", "' 12'", "'12 '", "'3abc'", "'1e2x'", "'abc'", "''", "'0'",
    "'-4'", "'0x1A'", "'.5'", "null", "true", "false", "'1.'", "'1e'", "' '", "'+1'",
    "'- 1'", "'1 '", "'\\n5'", "'.'", "'-.5e1x'", "'9999999999999999999'", "'1e400'",
]
ARRAYS = ["[]", "[1,2]", "[0]", "[null]", "{'a':1}", "['x']", "[[]]", "{'a':[1]}"]
VAR_VALUES = [0, 1, -3, 2.5, "5", "2.5", "3abc", "abc", "", "0", None, True, False,
              [], [1, 2], {"a": 1}, " 7", "1e3", [None], 1e15, 0.1]


def operand(rng, arrays=True, var_share=0.25):
    """(twig expression, vars) for one operand."""
    if rng.random() < var_share:
        v = rng.choice(VAR_VALUES)
        name = "v%d" % rng.randrange(1000)
        return name, {name: v}
    pool = SCALARS + (ARRAYS if arrays else [])
    return rng.choice(pool), {}


def tpl(template, vars_=None):
    return {"mode": "template", "template": template, "vars": vars_ or {}}


def operators(rng):
    """Family 2: arithmetic / string / comparison operators on mixed types."""
    op = rng.choice(["+", "-", "*", "/", "%", "//", "**", "~", "b-and", "b-or", "b-xor",
                     "<", ">", "<=", ">=", "==", "!=", "<=>", "..", "in", "not in"])
    a, va = operand(rng)
    b, vb = operand(rng)
    vs = {**va, **vb}
    if rng.random() < 0.2:
        c, vc = operand(rng, arrays=False)
        vs.update(vc)
        op2 = rng.choice(["+", "-", "*", "~"])
        expr = f"{a} {op} {b} {op2} {c}"
    else:
        expr = f"{a} {op} {b}"
    if rng.random() < 0.5:
        return tpl("{{ (%s)|json_encode }}" % expr, vs)
    return tpl("{{ %s }}" % expr, vs)


MATH_FILTERS = ["abs", "round", "round(1)", "round(2, 'floor')", "round(0, 'ceil')",
                "number_format", "number_format(2)", "number_format(2, ',', '.')"]
MATH_FUNCS = ["max(%s)", "min(%s)", "max(%s, 3)", "min(%s, '2')", "max([%s, 1])",
              "min([%s, 'a'])", "array_sum([%s, 2])", "array_sum(%s)", "clamp_int(%s, 1, 5)",
              "clamp_float(%s, 0.5, 2)", "validate_number(%s)", "[%s, 3, '4']|stat('median')",
              "[%s, 1]|stat('mean')", "[%s]|stat('mode')", "[%s, 2]|stat('sum')",
              "[%s, 2, 9]|stat('stdevp')", "[%s, 5]|stat('max')", "%s|stat('count')",
              "[%s, 2, 2]|stat('vars', 1)", "(%s)|base_convert(10, 2)",
              "[%s, 1]|stat('median', 0)", "[%s, '7']|stat('min')", "%s|stat('median')",
              "[%s, 1.5, -2]|stat('varp')", "cycle([1,2], %s)", "[1,2,3]|slice(%s, 1)|join",
              "(%s)|bytes_pretty", "(%s)|secs_pretty", "range(1, 3, %s)|join"]


def math(rng):
    """Family 3: math filters and functions on every type."""
    a, va = operand(rng, var_share=0.3)
    if rng.random() < 0.55:
        f = rng.choice(MATH_FILTERS)
        expr = f"({a})|{f}"
    else:
        f = rng.choice(MATH_FUNCS)
        expr = f.replace("%s", a)
    if rng.random() < 0.4:
        return tpl("{{ (%s)|json_encode }}" % expr, va)
    return tpl("{{ %s }}" % expr, va)


BIG = ["1000000000000000.2", "1000000000000000.3", "999999999999999.9", "123456789012345.67",
       "1e15", "1.5e15", "2e16", "1e20", "12345678901234567", "0.1 + 0.2", "1/3", "2/3*1e15",
       "9007199254740993", "1e15 + 0.25", "-1000000000000000.5", "4.35 * 100", "1.0E+25",
       "100000000000000000000", "0.00001", "1e-7", "-0.0", "1e14 + 0.3", "99999999999999.99"]


def floats(rng):
    """Family 4: large and awkward floats through string conversion paths."""
    a = rng.choice(BIG)
    how = rng.choice(["~", "json", "nf", "nf2", "round", "round2", "plain", "string", "key",
                      "sum", "kata"])
    if how == "~":
        return tpl("{{ 'x' ~ (%s) }}" % a)
    if how == "json":
        return tpl("{{ (%s)|json_encode }}" % a)
    if how == "nf":
        return tpl("{{ (%s)|number_format }}" % a)
    if how == "nf2":
        return tpl("{{ (%s)|number_format(%d, '.', '') }}" % (a, rng.randrange(0, 4)))
    if how == "round":
        return tpl("{{ (%s)|round(%d) }}" % (a, rng.randrange(0, 3)))
    if how == "round2":
        return tpl("{{ (%s)|round(%d)|json_encode }}" % (a, rng.randrange(-1, 3)))
    if how == "string":
        return tpl("{{ [%s]|join(',') }}" % a)
    if how == "key":
        return tpl("{{ {(%s): 1}|json_encode }}" % a)
    if how == "sum":
        return tpl("{{ (%s) + 0.1 }}" % a)
    if how == "kata":
        return {"mode": "kata", "kata": "a@float: {{ %s }}\nb@json: {{ (%s)|json_encode }}\n" % (a, a),
                "vars": {}}
    return tpl("{{ %s }}" % a)


def arrays(rng):
    """Family 5: truthiness and comparison of arrays, `??`, default, empty."""
    a, va = operand(rng, var_share=0.3)
    b, vb = operand(rng, var_share=0.3)
    vs = {**va, **vb}
    form = rng.choice(["cmp", "cmp", "cond", "default", "empty", "coalesce", "bits", "not", "sameas"])
    op = rng.choice(["<", ">", "<=", ">=", "==", "!=", "<=>"])
    if form == "cmp":
        e = f"{a} {op} {b}"
    elif form == "cond":
        e = f"{a} ? 'T' : 'F'"
    elif form == "default":
        e = f"{a}|default('D')"
    elif form == "empty":
        e = f"{a} is empty ? 'E' : 'N'"
    elif form == "coalesce":
        e = f"x ?? {a} {op} {b}"
    elif form == "bits":
        e = f"{a} {rng.choice(['b-and', 'b-or', 'b-xor'])} {b} {op} 1"
    elif form == "not":
        e = f"not {a} {rng.choice(['and', 'or'])} {b}"
    elif form == "sameas":
        e = f"{a} is same as({b})"
    return tpl("{{ (%s)|json_encode }}" % e, vs)


def arrays2(rng):
    """Family 5, compound: precedence of b-and/b-or/not/??/in with
    comparisons, arrays compared with arrays, default / empty / null tests."""
    a, va = operand(rng, var_share=0.4)
    b, vb = operand(rng, var_share=0.4)
    c, vc = operand(rng, var_share=0.3)
    vs = {**va, **vb, **vc}
    op = rng.choice(["<", ">", "<=", ">=", "==", "!=", "<=>"])
    bit = rng.choice(["b-and", "b-or", "b-xor"])
    logic = rng.choice(["and", "or"])
    forms = [
        f"{a} {op} {b} {bit} {c}",
        f"{a} {bit} {b} {op} {c}",
        f"not {a} {op} {b}",
        f"{a} {op} {b} {logic} {c}",
        f"undefined_x ?? {b} {op} {c}",
        f"(undefined_x ?? {b}) {op} {c}",
        f"{a}.nope ?? {b} {op} {c}",
        f"{a} in {b} {op} {c}",
        f"{a} {op} {b} ? {c} : 'no'",
        f"{a} ?: {b} {op} {c}",
        f"[{a}] {op} [{b}]",
        f"[{a}, 1] {op} [{b}]",
        f"{{'k': {a}}} {op} {{'k': {b}}}",
        f"{{'k': {a}}} {op} {{'j': {b}}}",
        f"{a}|default({b}) {op} {c}",
        f"{a} is empty and {b} is not empty",
        f"{a} is null or {b} is iterable",
        f"{a} is not same as({b}) {logic} {c}",
        f"{a} {op} {b} {op} {c}",
        f"-{a} {op} {b}",
        f"{a} ~ {b} {op} {c}",
        f"{a} starts with {b}",
        f"{a} matches '/^1/'",
        f"{a}|length {op} {b}",
        f"{a} is divisible by(3)",
        f"{a} is even",
    ]
    e = rng.choice(forms)
    if rng.random() < 0.3:
        return tpl("{%% if %s %%}T{%% else %%}F{%% endif %%}" % e, vs)
    return tpl("{{ (%s)|json_encode }}" % e, vs)


def escaping(rng):
    """Family 6: json_encode (and neighbours) under autoescape."""
    vals = ["'a/b'", "'é ü'", "'\\u00e9'", "'tab\there'", "{'url': 'http://x/y?a=1&b=2'}", "[1.5, true, null, 'x\\y']",
            "'😀'", "'line\nbreak'", "{'0': 'a', '2': 'b'}", "{'k': {'n': \"</script>\"}}", '"q"', "'<a href=\"x\">&</a>'", "{'a':'\"b\"'}", "['<', '>', '&', \"'\"]", "x",
            "'it''s'", "{'k': \"<'&'>\"}", "'é'", "1.5", "null"]
    v = rng.choice(vals)
    strategy = rng.choice(["html", "js", "html_attr", "url", "css"])
    filt = rng.choice(["json_encode", "json_encode|raw", "json_encode(constant('JSON_PRETTY_PRINT'))",
                       "json_encode|e", "json_encode|upper", "url_encode", "json_encode|escape('js')",
                       "json_encode ~ 'x'", "raw|json_encode", "e|json_encode", "json_encode|trim",
                       "json_encode|default('d')", "json_encode|slice(0, 4)", "json_encode|replace({'a': '<'})",
                       "json_encode|json_pretty", "json_pretty", "json_encode|split(',')|join('&')",
                       "json_encode(constant('JSON_HEX_QUOT'))", "json_encode|nl2br", "json_encode|striptags",
                       "json_encode|title", "json_encode|format('<%s>')", "json_encode|spaceless",
                       "json_encode|kata_encode", "json_encode|md5|length", "json_encode|first",
                       "json_encode|reverse", "json_encode|length", "json_encode|url_encode",
                       "json_encode|escape('html_attr')", "json_encode|escape('url')", "keys|json_encode", "json_encode(constant('JSON_UNESCAPED_SLASHES'))",
                       "json_encode(constant('JSON_UNESCAPED_UNICODE'))", "json_encode(constant('JSON_HEX_TAG') b-or constant('JSON_HEX_AMP'))",
                       "json_encode(constant('JSON_FORCE_OBJECT'))", "json_encode(constant('JSON_HEX_APOS'))"])
    vs = {"x": rng.choice(['a"b', "<b>", "it's", {"k": "\"&"}, ["<", 1]])}
    r = rng.random()
    if r < 0.45:
        # pre_escape filters: no autoescape tag in Cerb's sandbox
        pre = rng.choice(["nl2br", "spaceless"])
        src = rng.choice([v, "x", "x|raw", "x|e", "x|e('js')", "(true ? x : 'b')", "x ?: 'b'",
                          "x ~ '<'", "'<' ~ '\"'", "x|upper", "x|json_encode|raw", "x|nl2br"])
        t = "{{ %s|%s|%s }}" % (src, rng.choice(["json_encode", "raw", "upper", "trim", "e"]), pre)
        if rng.random() < 0.5:
            t = "{{ (%s)|%s }}" % (src, pre)
    elif r < 0.5:
        t = "{%% autoescape '%s' %%}{{ %s|%s }}{%% endautoescape %%}" % (strategy, v, filt)
    elif r < 0.6:
        t = "{%% autoescape %%}{{ %s|%s }}{%% endautoescape %%}" % (v, filt)
    elif r < 0.75:
        t = "{%% autoescape %%}{%% set y = %s|%s %%}{{ y }}|{{ y|raw }}{%% endautoescape %%}" % (v, filt)
    elif r < 0.9:
        t = "{%% apply escape('%s') %%}{{ %s|%s }}{%% endapply %%}" % (strategy, v, filt)
    else:
        t = "{%% autoescape %%}{%% autoescape false %%}{{ %s|%s }}{%% endautoescape %%}{{ %s|%s }}{%% endautoescape %%}" % (v, filt, v, filt)
    return tpl(t, vs)


DATE_FORMATS = ["l jS", "D, jS F Y", "l jS \\o\\f F", "N w z t L", "jS", "S", "l", "D j M",
                "W o", "Y-m-d l", "U", "c", "r", "g:i a", "G H h", "y n"]
DATE_INPUTS = ["'now'", "'+1 day'", "'tomorrow'", "'next monday'", "'last friday'", "'2024-02-29'",
               "'2024-02-29 +1 year'", "'first day of next month'", "'last day of february 2023'",
               "'monday next week'", "'2021-03-03'", "'+3 weeks'", "'yesterday noon'", "1700000000",
               "'2023-12-31 23:59:59'", "'2020-01-01 +11 days'", "'@86400'", "'2022-11-21 -1 week'",
               "'third wednesday of 2023-05'", "'2024-01-01 next saturday'", "'2024-03-13 monday'",
               "'2024-03-10 sunday next week'", "'2024-03-13 10:00 friday'", "'2024-03-13 friday 10:00'",
               "'2024-03-13 monday 2 weeks ago'", "'2024-03-13 last monday'", "'2024-03-17 this week'",
               "'2024-03-13 weekday'", "'last friday of 2024-02'", "'2024-02 +1 month'",
               "'2024-03-13 saturday this week'", "'2024-03-13 next week sunday'", "'2023-12-31 monday next week'"]


def dates(rng):
    """Family 7: date formatting of relative inputs (reproducible ones)."""
    i = rng.choice(DATE_INPUTS)
    f = rng.choice(DATE_FORMATS)
    if any(w in i for w in ["now", "+", "tomorrow", "next", "last", "yesterday"]) and "20" not in i:
        # relative to now: anchor so the answer is reproducible
        i = "'2024-03-0%d %s'" % (rng.randrange(1, 9), i.strip("'"))
    tz = rng.choice(["", ", 'UTC'", ", 'America/New_York'", ", 'Asia/Tokyo'"])
    return tpl("{{ %s|date('%s'%s) }}" % (i, f, tz))


BOOL_STRINGS = ["yes", "no", "Yes", "NO", "y", "n", "true", "false", "TRUE", "on", "off", "1", "0",
                "", " ", "2", "-1", "0.0", "00", "abc", "null", "nil", "t", "f", " yes ", "ok",
                "disabled", "enabled", "0.1", "[]", "none", "x", "Y", "N", "oN", "nO "]


def kata_bools(rng):
    """Family 8: @bool / @bit of unusual strings."""
    lines = []
    for i in range(rng.randrange(1, 4)):
        s = rng.choice(BOOL_STRINGS)
        ann = rng.choice(["bool", "bit", "bool", "optional,bool", "bool,optional", "trim,bool"])
        if rng.random() < 0.3:
            s = "{{ '%s' }}" % s
        lines.append(f"k{i}@{ann}: {s}")
    return {"mode": "kata", "kata": "\n".join(lines) + "\n", "vars": {}}


OPT_VALUES = ["", "{{ '' }}", "{{ null }}", "{{ x }}", "{{ undefined_name }}", "0", "{{ 0 }}",
              "{{ false }}", " ", "a", "{{ [] }}", "{{ y }}"]
OPT_ANNS = ["optional", "optional,int", "optional,bool", "optional,float", "optional,json",
            "optional,bit", "optional,csv", "optional,list", "int,optional", "bool,optional",
            "optional,trim", "trim,optional", "optional,date", "optional,base64", "json,optional",
            "optional,key", "key,optional", "optional,raw", "raw,optional", "optional,kata"]


def optional(rng):
    """Family 1: @optional with empty values, in set / return / kata."""
    inputs = {"x": rng.choice(["", None, "0", 0, "v"]), "y": rng.choice(["", " ", "x"])}
    entries = []
    for i in range(rng.randrange(1, 4)):
        ann = rng.choice(OPT_ANNS)
        val = rng.choice(OPT_VALUES)
        if "key" in ann:
            val = rng.choice(["x", "y", "nope", ""])
        entries.append((f"k{i}@{ann}", val))
    where = rng.choice(["return", "set", "kata", "nested"])
    if where == "kata":
        return {"mode": "kata", "kata": "".join(f"{k}: {v}\n" for k, v in entries), "vars": inputs}
    body = "".join(f"    {k}: {v}\n" for k, v in entries)
    if where == "return":
        script = "start:\n  return:\n" + body
    elif where == "set":
        script = ("start:\n  set:\n" + body + "  return:\n    keys@json: {{ "
                  + "{" + ", ".join(f"'{k.split('@')[0]}': {k.split('@')[0]} is defined"
                                    for k, _ in entries) + "}|json_encode }}\n")
    else:
        nb = "".join(f"      {k}: {v}\n" for k, v in entries)
        script = "start:\n  return:\n    outer:\n" + nb
    return {"mode": "automation", "script": script, "inputs": inputs}


TRIGGERS = ["cerb.trigger.automation.function", "cerb.trigger.interaction.worker",
            "cerb.trigger.interaction.website", "cerb.trigger.webhook.respond",
            "cerb.trigger.automation.timer", "cerb.trigger.ui.widget", "cerb.trigger.map.clicked",
            "cerb.trigger.mail.filter", "cerb.trigger.record.changed", "cerb.trigger.projectBoard.cardAction"]


def inputs(rng):
    """Family 9: inputs not declared by the `inputs:` block, per trigger."""
    decl = rng.choice(["", "inputs:\n  text/a:\n    type: freeform\n",
                       "inputs:\n  text/a:\n    type: freeform\n    required@bool: yes\n",
                       "inputs:\n  text/a:\n    type: freeform\n  text/b:\n    default: 1\n",
                       "inputs:\n"])
    given = rng.choice([{}, {"a": "1"}, {"x": "1"}, {"a": "1", "x": 2}, {"b": "q"}, {"x": "", "y": ""}])
    trig = rng.choice(TRIGGERS)
    script = decl + "start:\n  return:\n    a: {{ inputs.a }}\n    b: {{ inputs.b }}\n    x: {{ inputs.x }}\n"
    return {"mode": "automation", "script": script, "inputs": {"inputs": given}, "trigger": trig}


def dumps(v):
    return json.dumps(v)


KATA_STRINGS = ["1e3", "1E+3", "0x1A", " 12 ", "3abc", "-0", "9999999999999999999", "1.5e400", ".5",
                "1.", "+7", "abc", "", "1,2,,3", "a\\nb", "[1,2]", "{\"a\":1}", "null", "true", "YWJj",
                "YWJj=", "%%%", "0.1", "1e15", "-1e15", "007", "1_000"]


def kata_annotations(rng):
    """Family 8 neighbours: other KATA annotations on unusual strings."""
    lines = []
    for i in range(rng.randrange(1, 4)):
        s = rng.choice(KATA_STRINGS)
        ann = rng.choice(["int", "float", "bit", "bool", "csv", "list", "json", "base64", "trim",
                          "int,bool", "float,int", "trim,int", "json,bool", "csv,json", "text"])
        if rng.random() < 0.3:
            s = "{{ '%s' }}" % s.replace("'", "")
        lines.append(f"k{i}@{ann}: {s}")
    return {"mode": "kata", "kata": "\n".join(lines) + "\n", "vars": {}}
