#!/usr/bin/env python3
"""The scale-out load test of issue 17 (docs/scale-out.md): the seed webhook
on one host on redb, then one, two and three hosts on one PostgreSQL, in
the same run; wrk drives every host at once (the total connections split
between them) and each host's /metrics gives the PostgreSQL statements it
sent (katabox_store_round_trips_total), so the report shows round trips per
request on the request path (--history-save none) and with the history.

PostgreSQL is a throwaway server started here from the installed binaries
(initdb into a temporary directory, default settings, fsync on; as root it
runs as the `postgres` user). Everything listens on 127.0.0.1 or a unix
socket; every process started here is stopped on exit.

Usage: scaleout.py --katabox target/release/katabox --package FILE --out FILE
                   [--duration 10] [--conns 32] [--rounds 2]
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

GUID = "b5d89ded60c1e4da7b7b2750182e026a5b975cf3"
TOKEN = "katabox-bench-token-0123456789abcdef"
WRK_LUA = r"""
wrk.method = "POST"
wrk.headers["X-CustomHeader"] = "true"
done = function(summary, latency, requests)
  io.write(string.format("KB_RESULT requests=%d duration_us=%d p50=%d p99=%d non2xx=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""

children = []
cleanups = []


def stop_all(*_):
    for p in children:
        if p.poll() is None:
            p.kill()
            p.wait()
    for f in reversed(cleanups):
        try:
            f()
        except Exception:
            pass


def on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name):
    found = shutil.which(name)
    if found:
        return found
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    sys.exit(f"{name} not found: install PostgreSQL")


def as_pg(cmd):
    return (["runuser", "-u", "postgres", "--"] + cmd) if os.geteuid() == 0 else cmd


def start_postgres():
    tmp = tempfile.mkdtemp(prefix="katabox-bench-pg-")
    if os.geteuid() == 0:
        subprocess.run(["chown", "postgres:", tmp], check=True)
    data = os.path.join(tmp, "data")
    port = free_port()
    subprocess.run(as_pg([pg_bin("initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
                   check=True, stdout=subprocess.DEVNULL)
    opts = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c max_connections=200"
    subprocess.run(as_pg([pg_bin("pg_ctl"), "-D", data, "-o", opts, "-l", os.path.join(tmp, "log"),
                          "-w", "start"]), check=True, stdout=subprocess.DEVNULL)

    def stop():
        subprocess.run(as_pg([pg_bin("pg_ctl"), "-D", data, "stop", "-m", "fast"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)

    cleanups.append(stop)
    return tmp, port


def psql(sock, port, db, sql):
    out = subprocess.run(["psql", "-h", sock, "-p", str(port), "-U", "postgres", "-d", db,
                          "-Atc", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def start_host(binary, data, port, extra):
    env = dict(os.environ, KATABOX_ADMIN_TOKEN=TOKEN)
    p = subprocess.Popen([binary, "serve", "--data", data, "--listen", f"127.0.0.1:{port}",
                          "--log-format", "off"] + extra,
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children.append(p)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return p
        except Exception:
            time.sleep(0.1)
    raise RuntimeError("a host did not start")


def trips(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                 headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read().decode()
    m = re.search(r"^katabox_store_round_trips_total (\d+)", text, re.M)
    return int(m.group(1)) if m else 0


def post(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/{GUID}?key=value", data=b"",
                                 headers={"X-CustomHeader": "true"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def wrk_all(ports, conns, duration, lua):
    per = max(1, conns // len(ports))
    procs = [subprocess.Popen(["timeout", str(duration + 30), "wrk", "-t1", f"-c{per}", f"-d{duration}s",
                               "-s", lua, f"http://127.0.0.1:{p}/webhooks/{GUID}?key=value"],
                              stdout=subprocess.PIPE, text=True) for p in ports]
    total = {"requests": 0, "non2xx": 0, "errors": 0, "p50": [], "p99": [], "secs": 0.0}
    for w in procs:
        out, _ = w.communicate()
        m = re.search(r"KB_RESULT (.*)", out)
        if not m:
            raise RuntimeError(f"wrk gave no result:\n{out}")
        kv = dict(x.split("=") for x in m.group(1).split())
        total["requests"] += int(kv["requests"])
        total["non2xx"] += int(kv["non2xx"])
        total["errors"] += int(kv["errors"])
        total["p50"].append(int(kv["p50"]))
        total["p99"].append(int(kv["p99"]))
        total["secs"] = max(total["secs"], int(kv["duration_us"]) / 1e6)
    return total


def scenario(a, name, hosts, url, history, lua, pg):
    tmp = tempfile.mkdtemp(prefix="katabox-bench-")
    cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    ports = []
    procs = []
    for n in range(hosts):
        extra = ["--history-save", history]
        if url:
            extra += ["--store", url]
        if n == 0:
            extra += ["--package", a.package]
        port = free_port()
        procs.append(start_host(a.katabox, os.path.join(tmp, f"data{n}"), port, extra))
        ports.append(port)
    for p in ports:
        for _ in range(20):
            assert post(p) == 200
    before = sum(trips(p) for p in ports)
    xact0 = int(psql(pg[0], pg[1], "postgres", "SELECT sum(xact_commit) FROM pg_stat_database")) if url else 0
    r = wrk_all(ports, a.conns, a.duration, lua)
    time.sleep(0.5)  # the last history batches
    after = sum(trips(p) for p in ports)
    xact1 = int(psql(pg[0], pg[1], "postgres", "SELECT sum(xact_commit) FROM pg_stat_database")) if url else 0
    for p in procs:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    rps = r["requests"] / r["secs"] if r["secs"] else 0
    return {
        "name": name, "hosts": hosts, "history": history, "requests": r["requests"],
        "rps": rps, "p50_ms": max(r["p50"]) / 1000, "p99_ms": max(r["p99"]) / 1000,
        "non2xx": r["non2xx"], "errors": r["errors"],
        "trips_per_request": (after - before) / r["requests"] if r["requests"] else 0,
        "commits_per_request": (xact1 - xact0) / r["requests"] if r["requests"] else 0,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--katabox", required=True)
    ap.add_argument("--package", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    lua = os.path.join(tempfile.mkdtemp(prefix="katabox-bench-lua-"), "post.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA)
    sock, port = start_postgres()
    results = []
    n = 0
    try:
        for rnd in range(a.rounds):
            for history in ["all", "none"]:
                for name, hosts in [("redb", 1), ("postgres", 1), ("postgres", 2), ("postgres", 3)]:
                    url = None
                    if name == "postgres":
                        n += 1
                        db = f"bench{n}"
                        psql(sock, port, "postgres", f"CREATE DATABASE {db}")
                        url = f"postgres://postgres@localhost:{port}/{db}?host={sock}"
                    r = scenario(a, name, hosts, url, history, lua, (sock, port))
                    r["round"] = rnd + 1
                    results.append(r)
                    print(json.dumps(r), flush=True)
    finally:
        stop_all()
    lines = [
        f"# Scale-out load test ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"`bench/scaleout.py --duration {a.duration} --conns {a.conns} --rounds {a.rounds}`; "
        f"{os.cpu_count()} cores shared by PostgreSQL, every host and wrk.",
        "",
        "| backend | hosts | history | round | req/s | p50 ms | p99 ms | non-2xx | PG statements / request | PG commits / request |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r['name']} | {r['hosts']} | {r['history']} | {r['round']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | "
            f"{r['p99_ms']:.2f} | {r['non2xx'] + r['errors']} | {r['trips_per_request']:.3f} | {r['commits_per_request']:.3f} |")
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
