#!/usr/bin/env bash
# The long-running part of katabox's security suite (docs/security.md).
#
#   scripts/attack.sh            everything below
#   scripts/attack.sh load       5 minutes of mixed traffic (strict 2x p99)
#   scripts/attack.sh props      the property tests with 20x the CI cases
#   scripts/attack.sh http       random requests x10, 10,000 unknown guids
#   scripts/attack.sh fuzz       cargo-fuzz targets under fuzz/, 60 s each
#   scripts/attack.sh deny       cargo deny check (installs cargo-deny)
#
# Everything talks to loopback only. Figures are printed by the tests
# (`--nocapture`); copy them into docs/security.md.
set -euo pipefail
cd "$(dirname "$0")/.."

LOAD_SECS="${KATABOX_LOAD_SECS:-300}"
FUZZ_SECS="${FUZZ_SECS:-60}"

# Each suite is a module of the e2e test binary: filter by its name.
t() { cargo test -p katabox --test e2e -- --nocapture --test-threads=1 "$1::" "${@:2}"; }

load() {
    KATABOX_LOAD_SECS="$LOAD_SECS" KATABOX_LOAD_STRICT=1 t security_load
}

props() {
    PROPTEST_CASES=8000 t security_props
}

http() {
    KATABOX_ATTACK_REQUESTS=20000 KATABOX_ATTACK_GUIDS=10000 t security_http
    t security_server --include-ignored || echo "attack.sh: open findings still fail (see docs/security.md)"
    t security_crash
    t security_scripts
    t security_guest
}

fuzz() {
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
    (cd fuzz && for target in $(cargo +nightly fuzz list); do
        cargo +nightly fuzz run "$target" "corpus/$target" -- -max_total_time="$FUZZ_SECS" -rss_limit_mb=2048
    done)
}

deny() {
    command -v cargo-deny >/dev/null || cargo install cargo-deny --locked --no-default-features
    cargo deny --workspace check
}

case "${1:-all}" in
    load) load ;;
    props) props ;;
    http) http ;;
    fuzz) fuzz ;;
    deny) deny ;;
    all) deny; props; http; load; fuzz ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
esac
