#!/usr/bin/env bash
# Profiles `katabox serve` on the seed webhook under wrk load (32
# connections): `perf record -g` on the server process for the length of one
# wrk run, then the hottest symbols (self time and with children).
# Needs a release build (bench/run.sh makes one) and perf (Debian linux-perf).
# Usage: bench/profile.sh [SECONDS]   — writes bench/profile-latest.txt
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECS=${1:-10}
OUT=bench/profile-latest.txt
WORK=$(mktemp -d "${TMPDIR:-/tmp}/katabox-profile.XXXXXX")
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
cp target/release/katabox "$WORK/katabox"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT/webhooks/b5d89ded60c1e4da7b7b2750182e026a5b975cf3?key=value"
"$WORK/katabox" serve --data "$WORK/data" --listen "127.0.0.1:$PORT" \
    --package automations/examples/webhooks-example.json >"$WORK/log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'X-CustomHeader: true' "$URL" || true)
    [ "$code" = 200 ] && break
    sleep 0.05
done
cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["X-CustomHeader"] = "true"
LUA
perf record -F 999 -g -p "$PID" -o "$WORK/perf.data" -- sleep "$SECS" >/dev/null 2>&1 &
PERF=$!
timeout $((SECS + 20)) wrk -t2 -c32 -d"${SECS}s" --latency -s "$WORK/post.lua" "$URL" >"$WORK/wrk.txt"
wait "$PERF" || true
{
    echo "# perf profile of katabox serve, seed webhook, wrk -t2 -c32 -d${SECS}s ($(date -u '+%F %H:%M UTC'))"
    echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    cat "$WORK/wrk.txt"
    echo
    perf report -i "$WORK/perf.data" --no-children --sort symbol --stdio 2>/dev/null \
        | grep -E '^ +[0-9.]+%' | sed -E 's/ +-? +-? *$//' >"$WORK/self.txt"
    echo "## self time by area"
    awk '{ pct = $1; sub(/%/, "", pct); sym = $0;
           area = "other (host code: hyper/axum/tokio, webhook layer, libc)";
           if (sym ~ /\[k\]/) area = "kernel (scheduling, syscalls, page faults)";
           else if (sym ~ /wasm\[0\]/ && sym ~ /(dlmalloc|dlfree|realloc|rust_alloc|rust_dealloc)/) area = "guest allocator";
           else if (sym ~ /wasm\[0\]/) area = "guest code (KATA runtime + Twig in wasm)";
           else if (sym ~ /redb::/) area = "redb (store reads + run record write)";
           else if (sym ~ /wasmtime|cranelift|pagemap/) area = "wasmtime (instantiate, calls, pool)";
           else if (sym ~ /(malloc|free|memmove|memcpy|memset)/) area = "host allocator and copies";
           sum[area] += pct }
         END { for (a in sum) printf "%6.1f%%  %s\n", sum[a], a }' "$WORK/self.txt" | sort -rn
    echo
    echo "## self time (top 60)"
    head -60 "$WORK/self.txt"
    echo
    echo "## with children (top 60)"
    perf report -i "$WORK/perf.data" --children --sort symbol --stdio 2>/dev/null \
        | grep -E '^ +[0-9.]+%' | sed -E 's/ +-? +-? *$//' | head -60
} >"$OUT"
echo "wrote $OUT"
