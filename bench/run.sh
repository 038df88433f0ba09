#!/usr/bin/env bash
# The whole benchmark suite of issue 7 in one command (see docs/performance.md):
#   1. criterion microbenchmarks: KATA parse/eval, Twig render vs minijinja,
#      an in-process automation run, the sandbox per-run cost, a redb run
#      record write and a policy check;
#   2. the load test: release `katabox serve` answering the seed webhook vs a
#      bare axum server sending the same body, wrk at 1/32/256 connections.
# Writes bench/results-latest.md (and the raw criterion output next to it).
#
# Environment: DURATION (s per wrk run, default 10), CONNS (default 1,32,256),
# SKIP_MICRO=1 to run only the load test, MICRO_ARGS (criterion flags,
# default "--warm-up-time 1 --measurement-time 3" to bound the run time).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=${OUT:-bench/results-latest.md}
MICRO_OUT=bench/micro-latest.txt
DURATION=${DURATION:-10}
CONNS=${CONNS:-1,32,256}
MICRO_ARGS=${MICRO_ARGS:---warm-up-time 1 --measurement-time 3}

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

if [ "${SKIP_MICRO:-0}" != 1 ]; then
    : >"$MICRO_OUT"
    for target in "katabox-kata parse_eval" "katabox-twig render" "katabox-runtime run" \
                  "katabox sandbox" "katabox store"; do
        set -- $target
        echo "== cargo bench -p $1 --bench $2" | tee -a "$MICRO_OUT"
        # shellcheck disable=SC2086
        cargo bench -p "$1" --bench "$2" -- $MICRO_ARGS 2>&1 | tee -a "$MICRO_OUT"
    done
fi

cargo build --release -p katabox --bin katabox --example bare_axum
# Private copies, so that a rebuild by someone else cannot swap the binaries mid-run.
BIN=$(mktemp -d "${TMPDIR:-/tmp}/katabox-bench-bin.XXXXXX")
trap 'rm -rf "$BIN"' EXIT
cp target/release/katabox target/release/examples/bare_axum "$BIN/"

micro_flag=()
[ -s "$MICRO_OUT" ] && micro_flag=(--micro "$MICRO_OUT")
python3 bench/loadtest.py --katabox "$BIN/katabox" --bare "$BIN/bare_axum" \
    --package automations/examples/webhooks-example.json --out "$OUT" \
    --duration "$DURATION" --conns "$CONNS" "${micro_flag[@]}"
