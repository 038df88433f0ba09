#!/usr/bin/env python3
"""The load test of issue 7: `katabox serve` answering the seed webhook
against a bare axum server sending the same body, in the same run.

Called by bench/run.sh (which builds the release binaries first); writes a
markdown report. All traffic goes to 127.0.0.1; every server started here
is killed on exit, and every wrk run is bounded by `timeout`.

Usage: loadtest.py --katabox BIN --bare BIN --package FILE --out FILE
                   [--micro FILE] [--duration 10] [--conns 1,32,256]
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

GUID = "b5d89ded60c1e4da7b7b2750182e026a5b975cf3"
PATH = f"/webhooks/{GUID}?key=value"

# wrk script: POST like the seed guide's curl (empty body, one custom
# header) and print the percentiles wrk's --latency table leaves out.
WRK_LUA = r"""
wrk.method = "POST"
wrk.headers["X-CustomHeader"] = "true"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "KB_RESULT requests=%d duration_us=%d bytes=%d p50=%d p99=%d p999=%d max=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
"""

children = []


def kill_children(*_):
    for p in children:
        if p.poll() is None:
            p.kill()
            p.wait()


def on_signal(signum, _frame):
    kill_children()
    sys.exit(128 + signum)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, timeout=2.0):
    """One request like wrk's (Host and X-CustomHeader only); (status, body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.putrequest("POST", PATH, skip_host=True, skip_accept_encoding=True)
        c.putheader("Host", f"127.0.0.1:{port}")
        c.putheader("X-CustomHeader", "true")
        c.endheaders()
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def wait_for_200(port, proc, limit_s=60.0):
    """Polls until the webhook answers 200; seconds from now, or raises."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            status, body = post(port, timeout=1.0)
            if status == 200:
                return time.monotonic() - t0, body
        except OSError:
            pass
        time.sleep(0.001)
    raise RuntimeError("no 200 answer within the time limit")


def start_katabox(binary, package, data_dir, port, log, extra=()):
    t0 = time.monotonic()
    p = subprocess.Popen(
        [binary, "serve", "--data", data_dir, "--listen", f"127.0.0.1:{port}",
         "--package", package, *extra],
        stdout=log, stderr=subprocess.STDOUT)
    children.append(p)
    waited, body = wait_for_200(port, p)
    return p, time.monotonic() - t0, body


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class RssSampler:
    """Samples a process's VmRSS every 100 ms; keeps the maximum."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            v = rss_kib(self.pid)
            if v:
                self.peak = max(self.peak, v)
            self.stop.wait(0.1)

    def done(self):
        self.stop.set()
        self.thread.join()
        return self.peak


def wrk(port, conns, duration, lua):
    # wrk needs at least one connection per thread: -t1 for one connection.
    cmd = ["timeout", str(duration + 30), "wrk", f"-t{min(2, conns)}", f"-c{conns}", f"-d{duration}s",
           "--latency", "-s", lua, f"http://127.0.0.1:{port}{PATH}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    m = re.search(r"^KB_RESULT (.*)$", out, re.M)
    if not m:
        raise RuntimeError(f"wrk gave no result:\n{out}")
    r = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = r["non2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    return r


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1048576:.1f} GiB"
    return {"nproc": os.cpu_count(), "cpu": model, "mem": mem,
            "kernel": os.uname().release}


def ms(us):
    return f"{us / 1000:.2f} ms"


def micro_rows(path):
    """(name, median) pairs from criterion's console output."""
    rows, name = [], None
    if not path or not os.path.exists(path):
        return rows
    unit = {"ps": 1e-6, "ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"^(\S.*?)\s+time:\s+\[(\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\]", line)
            if m:
                name = m.group(1)
            else:
                m2 = re.match(r"^\s+time:\s+\[(\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\]", line)
                if m2 and name:
                    m = m2
                elif line and not line.startswith(" ") and not re.match(
                        r"^(Benchmarking|Found|Warning|Gnuplot|Running|Compiling|Finished|Blocking|change|No change|Performance|\s)", line):
                    name = line.strip()
                    continue
                else:
                    continue
            g = m.groups()[-6:]
            median_us = float(g[2]) * unit.get(g[3], 1.0)
            rows.append((name, median_us))
            name = None
    return rows


def fmt_us(us):
    if us < 1:
        return f"{us * 1000:.0f} ns"
    if us < 1000:
        return f"{us:.2f} µs"
    return f"{us / 1000:.2f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--katabox", required=True)
    ap.add_argument("--bare", required=True)
    ap.add_argument("--package", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--micro")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--conns", default="1,32,256")
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--history-conns", type=int, default=32,
                    help="connections of the history on/off comparison (0: skip it)")
    ap.add_argument("--history-rounds", type=int, default=5,
                    help="wrk runs per mode in the history comparison (A B A B ...: a round "
                         "on this shared machine varies by up to 10%%, so one pair is not enough)")
    ap.add_argument("--timer-conns", type=int, default=32,
                    help="connections of the scheduler on/off comparison (0: skip it)")
    ap.add_argument("--log-conns", type=int, default=32,
                    help="connections of the request log json/off comparison (0: skip it)")
    ap.add_argument("--fair-conns", type=int, default=32,
                    help="connections of the fairness comparison, 8 spinning automations or none (0: skip it)")
    ap.add_argument("--fair-spinners", type=int, default=8,
                    help="concurrent clients of the spinning automation in the fairness comparison")
    ap.add_argument("--log-rounds", type=int, default=3,
                    help="wrk runs per mode in the request log comparison")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    conns = [int(c) for c in a.conns.split(",")]
    work = tempfile.mkdtemp(prefix="katabox-bench-")
    try:
        return run(a, conns, work)
    finally:
        kill_children()
        shutil.rmtree(work, ignore_errors=True)


def run(a, conns, work):
    lua = os.path.join(work, "post.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA)
    log = open(os.path.join(work, "server.log"), "w")
    load_before = loadavg()

    # Warm-up start: compiles the guest into the component cache.
    port = free_port()
    p, warm_s, _ = start_katabox(a.katabox, a.package, os.path.join(work, "warm"), port, log)
    p.kill()
    p.wait()

    # Timed start with a fresh data dir (the package import is part of it).
    port = free_port()
    kb, startup_s, body = start_katabox(a.katabox, a.package, os.path.join(work, "data"), port, log)
    print(f"katabox: start-up to first 200 = {startup_s * 1000:.1f} ms (warm-up start {warm_s * 1000:.0f} ms)", flush=True)

    body_file = os.path.join(work, "body.json")
    with open(body_file, "wb") as f:
        f.write(body)
    bport = free_port()
    bare = subprocess.Popen([a.bare, f"127.0.0.1:{bport}", body_file], stdout=log, stderr=subprocess.STDOUT)
    children.append(bare)
    _, bare_body = wait_for_200(bport, bare)

    time.sleep(1.0)
    idle_kb, idle_bare = rss_kib(kb.pid), rss_kib(bare.pid)
    results = []
    for c in conns:
        row = {"conns": c}
        for name, port_, proc in (("bare", bport, bare), ("katabox", port, kb)):
            s = RssSampler(proc.pid)
            r = wrk(port_, c, a.duration, lua)
            r["rss_peak"] = s.done()
            row[name] = r
            print(f"{name:8} c={c:<4} {r['rps']:>10.0f} req/s  p50 {ms(r['p50'])}  p99 {ms(r['p99'])}"
                  f"  p99.9 {ms(r['p999'])}  errors {r['errors']}  rss peak {r['rss_peak']} KiB", flush=True)
        results.append(row)
    history = history_compare(a, work, lua) if a.history_conns else None
    timers = timers_compare(a, work, lua) if a.timer_conns else None
    logging = logging_compare(a, work, lua) if a.log_conns else None
    fairness = fairness_compare(a, work, lua) if a.fair_conns else None
    load_after = loadavg()
    report = render(a, machine(), load_before, load_after, startup_s, warm_s, body,
                    len(bare_body), idle_kb, idle_bare, results, micro_rows(a.micro))
    if history:
        report += history
    if timers:
        report += timers
    if logging:
        report += logging
    if fairness:
        report += fairness
    with open(a.out, "w") as f:
        f.write(report)
    print(f"wrote {a.out}")
    return 0


def ab_runs(a, work, lua, label, conns, rounds, modes):
    """One server per mode (`(name, serve flags, setup(port, data_dir) or
    None)`), then wrk against each in turn, `rounds` times (A B A B ...), so
    that drift in the machine's load hits every mode alike. Per mode: mean
    req/s, worst p99, and the server's CPU time per request in µs (user +
    system over its wrk runs / requests answered: much less disturbed by
    other load on the machine than req/s)."""
    hz = os.sysconf("SC_CLK_TCK")
    servers = {}
    for name, extra, setup in modes:
        port = free_port()
        data = os.path.join(work, f"{label}-{name}")
        log = open(os.path.join(work, f"server-{label}-{name}.log"), "w")
        p, _, _ = start_katabox(a.katabox, a.package, data, port, log, extra)
        if setup:
            setup(port, data)
        servers[name] = (port, p.pid)
    runs = {name: [] for name in servers}
    cpu = {name: [0, 0] for name in servers}  # ticks, requests
    for _ in range(rounds):
        for name, (port, pid) in servers.items():
            before = cpu_ticks(pid)
            r = wrk(port, conns, a.duration, lua)
            cpu[name][0] += cpu_ticks(pid) - before
            cpu[name][1] += r["requests"]
            runs[name].append(r)
            print(f"{label} {name:4} c={conns:<4} {r['rps']:>10.0f} req/s  p99 {ms(r['p99'])}", flush=True)
    return {name: {"rps": sum(r["rps"] for r in v) / len(v),
                   "p99": max(r["p99"] for r in v),
                   "cpu_us": cpu[name][0] / hz * 1e6 / cpu[name][1] if cpu[name][1] else 0.0}
            for name, v in runs.items()}


def ab_report(title, note, column, stats, on, off, targets):
    """A markdown section: one row per mode, then `targets`, each
    `(text, "rps" | "cpu_us", bound)`: the on/off ratio of that figure must
    be at least `bound` (req/s) or at most `bound` (CPU per request)."""
    L = [f"## {title}\n", note + "\n",
         f"| {column} | req/s (mean) | worst p99 | server CPU per request |",
         "| --- | ---: | ---: | ---: |"]
    for m, st in stats.items():
        L.append(f"| {m} | {st['rps']:.0f} | {ms(st['p99'])} | {st['cpu_us']:.1f} µs |")
    L.append("")
    L.append("| target | figure | verdict |\n| --- | --- | --- |")
    for text, key, bound in targets:
        ratio = stats[on][key] / stats[off][key] if stats[off][key] else 0.0
        ok = ratio >= bound if key == "rps" else ratio <= bound
        L.append(f"| {text} | {ratio * 100:.1f}% | {verdict(ok)} |")
    return "\n".join(L) + "\n\n"


def history_compare(a, work, lua):
    """The seed webhook with the run history on (`--history-save all`, the
    default) and off (`none`), same run."""
    c, rounds = a.history_conns, a.history_rounds
    stats = ab_runs(a, work, lua, "history", c, rounds,
                    [(m, ("--history-save", m), None) for m in ("all", "none")])
    note = (f"Seed webhook, wrk -c{c} -d{a.duration}s, each mode {rounds} times (A B A B ...), same run; "
            "`all` records every run with its request and response (bodies up to 1 MiB).")
    return ab_report("Run history on vs off (issue 13)", note, "--history-save", stats, "all", "none",
                     [("history on within 10% of off (throughput)", "rps", 0.9)])


def create_idle_timers(port, data_dir, count):
    """`count` recurring timers that are never due during the run (yearly)."""
    with open(os.path.join(data_dir, "admin-token")) as f:
        token = f.read().strip()
    for i in range(count):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        body = json.dumps({"name": f"idle {i}", "is_recurring": 1, "recurring_patterns": "0 3 1 1 *",
                           "automations_kata": "automation/go:\n  uri: cerb:automation:none\n"})
        c.request("POST", "/api/timers", body=body,
                  headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 201:
            raise RuntimeError(f"creating a timer answered {r.status}")


def timers_compare(a, work, lua):
    """The seed webhook with the timer scheduler on (default 1 s tick, 100
    idle timers stored) and off (`--no-timers`, no timers), same run."""
    c = a.timer_conns
    stats = ab_runs(a, work, lua, "timers", c, 2,
                    [("on", (), lambda port, data: create_idle_timers(port, data, 100)),
                     ("off", ("--no-timers",), None)])
    note = (f"Seed webhook, wrk -c{c} -d{a.duration}s, each mode twice (A B A B), same run; "
            "`on` ticks every second over 100 stored idle timers, `off` is `--no-timers`.")
    return ab_report("Timer scheduler on vs off (issue 15)", note, "scheduler", stats, "on", "off",
                     [("scheduler on within 5% of off (throughput)", "rps", 0.95)])


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks (Linux /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def logging_compare(a, work, lua):
    """The seed webhook with the request log as JSON (written to a file, one
    line per request) and with `--log-format off`, same run. Metrics are
    recorded in both (they cannot be turned off), so this is the log's cost
    on top of them."""
    c = a.log_conns
    stats = ab_runs(a, work, lua, "log", c, a.log_rounds,
                    [(m, ("--log-format", m), None) for m in ("json", "off")])
    note = (f"Seed webhook, wrk -c{c} -d{a.duration}s, each mode {a.log_rounds} times (A B A B …), "
            "same run; `json` writes one JSON line per request to a file, `off` is "
            "`--log-format off`; both record the Prometheus metrics. CPU per request is the "
            "server's user + system time over the wrk runs divided by the requests answered.")
    return ab_report("Request log json vs off (issue 16)", note, "--log-format", stats, "json", "off",
                     [("log on within 3% of off (throughput)", "rps", 0.97),
                      ("log on within 3% of off (CPU per request)", "cpu_us", 1.03)])


SPIN_PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "packages", "spin.json")
SPIN_GUID = "5f1a5e5f1a5e5f1a5e5f1a5e5f1a5e5f1a5e5f1a"


class Spinners:
    """`n` clients, each POSTing to the spinning automation again as soon as
    its previous run answers (the run loops until its 2 s time limit)."""

    def __init__(self, port, n):
        self.port, self.stop, self.answers = port, threading.Event(), 0
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(n)]
        for t in self.threads:
            t.start()

    def loop(self):
        while not self.stop.is_set():
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                c.request("POST", f"/webhooks/{SPIN_GUID}", body=b"")
                c.getresponse().read()
                self.answers += 1
            except OSError:
                self.stop.wait(0.05)
            finally:
                c.close()

    def done(self):
        self.stop.set()
        for t in self.threads:
            t.join()
        return self.answers


def fairness_compare(a, work, lua):
    """The seed webhook's latency alone and while `--fair-spinners` clients
    keep the spinning automation (bench/packages/spin.json) running to its
    time limit, one server, A B A B."""
    c, n = a.fair_conns, a.fair_spinners
    port = free_port()
    log = open(os.path.join(work, "server-fair.log"), "w")
    p, _, _ = start_katabox(a.katabox, a.package, os.path.join(work, "fair"), port, log,
                            ("--package", SPIN_PACKAGE))
    stats = {"alone": [], "spinners": []}
    spun = 0
    for _ in range(2):
        for mode in stats:
            sp = Spinners(port, n) if mode == "spinners" else None
            if sp:
                time.sleep(0.5)  # every spinner is inside its run
            r = wrk(port, c, a.duration, lua)
            if sp:
                spun += sp.done()
            stats[mode].append(r)
            print(f"fair {mode:8} c={c:<4} {r['rps']:>10.0f} req/s  p50 {ms(r['p50'])}  p99 {ms(r['p99'])}"
                  f"  errors {r['errors']}", flush=True)
    p.kill()
    p.wait()
    agg = {m: {"rps": sum(r["rps"] for r in v) / len(v), "p50": max(r["p50"] for r in v),
               "p99": max(r["p99"] for r in v), "errors": sum(r["errors"] for r in v)}
           for m, v in stats.items()}
    ratio = agg["spinners"]["p99"] / agg["alone"]["p99"] if agg["alone"]["p99"] else 0.0
    L = ["## Fairness under spinning automations (issue 18)\n",
         f"Seed webhook, wrk -c{c} -d{a.duration}s, one server, alone and while {n} clients keep "
         "`bench.spin` (an endless `while:` stopped by its 2 s time limit) running, each mode twice "
         f"(A B A B); the spinners' runs answered: {spun}.\n",
         "| mode | req/s (mean) | worst p50 | worst p99 | errors |", "| --- | ---: | ---: | ---: | ---: |"]
    for m, st in agg.items():
        L.append(f"| {m} | {st['rps']:.0f} | {ms(st['p50'])} | {ms(st['p99'])} | {st['errors']} |")
    L.append("")
    L.append("| target | figure | verdict |\n| --- | --- | --- |")
    L.append(f"| p99 with spinners at most 2× alone | {ratio:.2f}× | {verdict(ratio <= 2.0)} |")
    return "\n".join(L) + "\n\n"


def verdict(ok):
    return "**met**" if ok else "**not met**"


def render(a, m, load_before, load_after, startup_s, warm_s, body_sample, bare_len,
           idle_kb, idle_bare, results, micro):
    body_len = len(body_sample)
    L = []
    L.append(f"# Benchmark results ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
    L.append(f"Command: `{a.command}`. Machine: {m['nproc']} cores ({m['cpu']}), "
             f"{m['mem']} RAM, Linux {m['kernel']}. Load average before/after the load "
             f"test: {load_before} / {load_after} (the cores are shared with other builds).\n")
    L.append("## Load test (wrk -t2 -cN -d%ds --latency; -t1 at one connection; loopback, release builds)\n" % a.duration)
    L.append(f"Seed webhook POST {PATH} with `X-CustomHeader: true`; the bare axum "
             f"server sends the seed's own answer ({body_len} bytes; bare sent {bare_len}).\n")
    if b'"http"' not in body_sample:
        L.append(f"**WARNING: the seed webhook did not answer with its JSON dump** (got {body_len} "
                 f"bytes: {body_sample[:80]!r}); the katabox figures below are not the seed path.\n")
    L.append("| conns | server | req/s | p50 | p99 | p99.9 | errors | peak RSS |")
    L.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in results:
        for name in ("bare", "katabox"):
            r = row[name]
            L.append(f"| {row['conns']} | {name} | {r['rps']:.0f} | {ms(r['p50'])} | {ms(r['p99'])} | "
                     f"{ms(r['p999'])} | {r['errors']} | {r['rss_peak'] / 1024:.1f} MiB |")
    L.append("")
    L.append("Ratios (katabox / bare axum, same run):\n")
    L.append("| conns | throughput | p50 | p99 | p99.9 |")
    L.append("| ---: | ---: | ---: | ---: | ---: |")
    for row in results:
        k, b = row["katabox"], row["bare"]
        def q(x, y):
            return f"{x / y:.2f}×" if y else "–"
        L.append(f"| {row['conns']} | {k['rps'] / b['rps'] * 100:.0f}% | {q(k['p50'], b['p50'])} | "
                 f"{q(k['p99'], b['p99'])} | {q(k['p999'], b['p999'])} |")
    L.append("")
    peak = max(r["katabox"]["rss_peak"] for r in results)
    L.append(f"Resident memory of `katabox serve`: idle {idle_kb / 1024:.1f} MiB, peak under load "
             f"{peak / 1024:.1f} MiB ({peak / idle_kb:.2f}× idle); bare axum idle {idle_bare / 1024:.1f} MiB.\n")
    L.append(f"Start-up (spawn → first 200 answer, fresh data dir, guest already compiled "
             f"and cached): {startup_s * 1000:.0f} ms (the warm-up start that filled the cache: "
             f"{warm_s * 1000:.0f} ms).\n")
    if micro:
        L.append("## Microbenchmarks (criterion medians)\n")
        L.append("| benchmark | median |")
        L.append("| --- | ---: |")
        for n, us in micro:
            L.append(f"| {n} | {fmt_us(us)} |")
        L.append("")
    L.append("## Targets (issue 7)\n")
    L.append("| target | figure | verdict |")
    L.append("| --- | --- | --- |")
    r32 = next((r for r in results if r["conns"] == 32), None)
    if r32:
        ratio = r32["katabox"]["rps"] / r32["bare"]["rps"]
        L.append(f"| throughput at 32 conns ≥ 50% of bare axum | {ratio * 100:.0f}% "
                 f"({r32['katabox']['rps']:.0f} vs {r32['bare']['rps']:.0f} req/s) | {verdict(ratio >= 0.5)} |")
        p99 = r32["katabox"]["p99"]
        L.append(f"| p99 at 32 conns ≤ 2 ms | {ms(p99)} | {verdict(p99 <= 2000)} |")
    sb = dict(micro)
    seed = sb.get("run/seed_webhook")
    if seed is not None:
        L.append(f"| sandbox cost per seed run ≤ 20 µs | {fmt_us(seed)} (run/seed_webhook) | {verdict(seed <= 20)} |")
    pairs = sorted({n.rsplit('/', 1)[0] for n in sb if n.endswith("/minijinja")})
    worse = []
    for g in pairs:
        k, mj = sb.get(f"{g}/katabox"), sb.get(f"{g}/minijinja")
        if k is not None and mj:
            worse.append((g, k / mj))
    if worse:
        slow = [f"{g} {x:.2f}×" for g, x in worse if x > 1.0]
        L.append(f"| template rendering no slower than minijinja | katabox/minijinja: "
                 + ", ".join(f"{g} {x:.2f}×" for g, x in worse)
                 + f" | {verdict(not slow)} |")
    L.append(f"| start-up to first answered webhook ≤ 200 ms | {startup_s * 1000:.0f} ms | {verdict(startup_s <= 0.2)} |")
    L.append(f"| memory under load within 2× of idle | {peak / idle_kb:.2f}× | {verdict(peak <= 2 * idle_kb)} |")
    L.append("")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    sys.exit(main())
