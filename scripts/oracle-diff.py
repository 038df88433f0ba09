#!/usr/bin/env python3
"""Diff katabox against Cerb's engine (the oracle) on generated cases.

A dev tool: it needs the oracle (`php ~/cerb-oracle/run.php`, see
/work/shared/oracle/README.md) and a built `target/debug/katabox`. The
project's CI never runs it.

    scripts/oracle-diff.py FAMILY [--n N] [--seed S] [--show K]
                                  [--emit DIR --pick M] [--cli]

FAMILY is a generator in scripts/oracle_gen.py. Each case goes to the
oracle (one `batch` process) and to katabox (`template render`,
`kata eval`; automations through the native `oracle_batch` example, or the
real CLI with --cli). Results are compared as the conformance runner does (numbers by value,
key order ignored, `[]` == `{}`). With --emit, M cases on which both agree are
written as conformance vectors (`source = "Cerb engine"`).
"""

import argparse
import concurrent.futures
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_gen  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORACLE = os.path.expanduser(os.environ.get("CERB_ORACLE", "/root/cerb-oracle/run.php"))
KATABOX = os.environ.get("KATABOX_BIN", os.path.join(ROOT, "target/debug/katabox"))
BATCH = os.path.join(ROOT, "target/debug/examples/oracle_batch")


def norm(v):
    """A comparable form: numbers by value, empty containers unified."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        # as the conformance runner compares numbers: by value
        return ("n", repr(float(v) + 0.0))
    if isinstance(v, (list, dict)):
        if not v:
            return ("arr", ())
        if isinstance(v, list):
            return ("arr", tuple((str(i), norm(x)) for i, x in enumerate(v)))
        return ("arr", tuple(sorted((str(k), norm(x)) for k, x in v.items())))
    return v


def oracle(cases):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for c in cases:
            f.write(json.dumps(c) + "\n")
        name = f.name
    out = subprocess.run(["php", ORACLE, "batch", name], capture_output=True, text=True)
    os.unlink(name)
    res = {}
    for line in out.stdout.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        res[r.get("id")] = r
    return res


def run_cli(c):
    with tempfile.TemporaryDirectory() as d:
        vars_path = os.path.join(d, "vars.json")
        if c["mode"] == "template":
            src = os.path.join(d, "t.twig")
            open(src, "w").write(c["template"])
            json.dump(c.get("vars") or {}, open(vars_path, "w"))
            cmd = [KATABOX, "template", "render", src, "--vars", vars_path]
        elif c["mode"] == "kata":
            src = os.path.join(d, "k.kata")
            open(src, "w").write(c["kata"])
            json.dump(c.get("vars") or {}, open(vars_path, "w"))
            cmd = [KATABOX, "kata", "eval", src, "--vars", vars_path]
        else:
            src = os.path.join(d, "s.kata")
            open(src, "w").write(c["script"])
            json.dump(c.get("inputs") or {}, open(vars_path, "w"))
            cmd = [KATABOX, "automation", "run", src, "--inputs", vars_path]
            if c.get("trigger"):
                cmd += ["--trigger", c["trigger"]]
        out = subprocess.run(cmd, capture_output=True, text=True)
        try:
            return json.loads(out.stdout)
        except ValueError:
            return {"error": "katabox: " + out.stdout + out.stderr}


def katabox(cases, cli):
    res = {}
    autos = [c for c in cases if c["mode"] == "automation"]
    rest = [c for c in cases if c["mode"] != "automation"]
    if cli:
        rest += autos
        autos = []
    if autos:
        data = "".join(json.dumps(c) + "\n" for c in autos)
        out = subprocess.run([BATCH], input=data, capture_output=True, text=True)
        for line in out.stdout.splitlines():
            r = json.loads(line)
            res[r["id"]] = r
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        for c, r in zip(rest, ex.map(run_cli, rest)):
            res[c["id"]] = r
    return res


def key(c, r):
    """What is compared for a case."""
    if r is None:
        return ("missing",)
    if c["mode"] == "template":
        return ("error", r["error"]) if r.get("error") is not None else ("output", r.get("output"))
    if c["mode"] == "kata":
        if r.get("error") is not None:
            return ("error", r["error"])
        return ("tree", norm(r.get("formatted", r.get("tree"))))
    exit_ = r.get("exit") or ("error" if r.get("error") else None)
    return (exit_, norm(r.get("return")), r.get("error"))


def toml_str(s):
    s = s if isinstance(s, str) else json.dumps(s)
    if "'''" not in s and not s.endswith("'") and "\r" not in s:
        return "'''\n" + s + "'''" if "\n" in s else "'''" + s + "'''"
    return json.dumps(s, ensure_ascii=False)


def vector(c, r, family, i):
    lines = [f'kind = "{c["mode"]}"', f'name = "{family} {i}"', 'source = "Cerb engine"']
    exp = ["", "[expect]"]
    if c["mode"] == "template":
        lines.append("template = " + toml_str(c["template"]))
        lines.append("vars = " + toml_str(json.dumps(c.get("vars") or {})))
        if r.get("error") is not None:
            exp.append("error = " + json.dumps(r["error"], ensure_ascii=False))
        else:
            exp.append("output = " + json.dumps(r["output"], ensure_ascii=False))
    elif c["mode"] == "kata":
        lines.append("kata = " + toml_str(c["kata"]))
        lines.append("vars = " + toml_str(json.dumps(c.get("vars") or {})))
        if r.get("error") is not None:
            exp.append("error = " + json.dumps(r["error"], ensure_ascii=False))
        else:
            exp.append("tree = " + toml_str(json.dumps(r["formatted"])))
    else:
        if c.get("trigger"):
            lines.append(f'trigger = "{c["trigger"]}"')
        lines.append("script = " + toml_str(c["script"]))
        lines.append("inputs = " + toml_str(json.dumps(c.get("inputs") or {})))
        exp.append(f'exit = "{r["exit"] or "error"}"')
        if r.get("return") is not None:
            exp.append("return = " + toml_str(json.dumps(r["return"])))
        if r.get("error"):
            exp.append("error = " + json.dumps(r["error"], ensure_ascii=False))
    return "\n".join(lines + exp) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("family")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show", type=int, default=10)
    ap.add_argument("--emit")
    ap.add_argument("--pick", type=int, default=10)
    ap.add_argument("--cli", action="store_true")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    if a.family.startswith("file:"):
        lines = open(a.family[5:]).read().splitlines()
        it = iter([json.loads(x) for x in lines if x.strip()])
        gen = lambda _rng: next(it)  # noqa: E731
        a.n = min(a.n, len(lines))
        a.family = "file"
    else:
        gen = getattr(oracle_gen, a.family.replace("-", "_"))
    cases, seen = [], set()
    for _ in range(a.n * 3):
        if len(cases) >= a.n:
            break
        c = gen(rng)
        k = json.dumps(c, sort_keys=True)
        if k in seen:
            continue
        seen.add(k)
        c["id"] = f"{a.family}-{len(cases)}"
        cases.append(c)
    o = oracle(cases)
    k = katabox(cases, a.cli)
    diff, agree = [], []
    for c in cases:
        ro, rk = o.get(c["id"]), k.get(c["id"])
        if ro and str(ro.get("error") or "").startswith("oracle: "):
            continue
        (agree if key(c, ro) == key(c, rk) else diff).append((c, ro, rk))
    print(f"{a.family}: {len(cases)} variants, {len(diff)} differed")
    for c, ro, rk in diff[: a.show]:
        src = c.get("template") or c.get("kata") or c.get("script")
        print("---", json.dumps(src), json.dumps(c.get("vars") or c.get("inputs") or {}))
        print("  cerb:   ", json.dumps(key(c, ro), default=str)[:400])
        print("  katabox:", json.dumps(key(c, rk), default=str)[:400])
    if a.emit:
        os.makedirs(a.emit, exist_ok=True)
        # errors first (the half that most often differed), then the rest
        errs = [x for x in agree if x[1].get("error")]
        rest = [x for x in agree if not x[1].get("error")]
        half = min(len(errs), a.pick // 2)
        chosen = errs[:: max(1, len(errs) // max(1, half))][:half] if half else []
        left = a.pick - len(chosen)
        chosen += rest[:: max(1, len(rest) // max(1, left))][:left]
        for i, (c, ro, _) in enumerate(chosen):
            path = os.path.join(a.emit, f"{a.family}-{a.seed}-{i:02}.toml")
            open(path, "w").write(vector(c, ro, a.family, i))
        print(f"wrote {len(chosen)} vectors to {a.emit}")


if __name__ == "__main__":
    main()
