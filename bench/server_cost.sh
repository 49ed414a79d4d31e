#!/usr/bin/env bash
# Hotdesk's own instructions per REGISTER pair (callgrind around the server): three runs of
# one build agreed within 0.4 % (103,151–103,546) whatever else the machine did, so two
# builds can be compared where CPU time per pair cannot tell 1–2 µs apart. Kernel work is
# not counted, nor cache misses.
#
#   bench/server_cost.sh                         # target/release/hotdesk
#   HOTDESK_BIN=/path/to/other bench/server_cost.sh
#   CACHE=1 USERS=10000 bench/server_cost.sh     # also simulated last-level data misses
#
# Environment (defaults): RATE=250 (pairs/s; the server runs some 30 times slower under
#   valgrind) SHORT=10 LONG=20 (seconds of the two runs: their difference, divided by the
#   extra pairs, leaves out start-up and the user import) USERS=500; HOTDESK_BIN as for
#   register.sh; KEEP=1 keeps the callgrind files and logs; CACHE=1 simulates a 32 KB L1 and
#   a 2 MB last-level cache (about one core's share here) and adds their data misses per
#   pair: the per-user maps miss there once the users outgrow it, which instructions do not
#   show (valgrind runs slower still with it).
# Output: one line. Not recorded in bench/results (BENCHMARKS.md quotes it).
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
RATE=${RATE:-250}
SHORT=${SHORT:-10}
LONG=${LONG:-20}
USERS=${USERS:-500}
BIN=${HOTDESK_BIN:-${CARGO_TARGET_DIR:-$BENCH_DIR/../target}/release/hotdesk}
command -v valgrind >/dev/null || { echo "server_cost.sh: needs valgrind (apt-get install -y valgrind)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "server_cost.sh: no binary at $BIN (cargo build --release)" >&2; exit 1; }
SIM=""
[ "${CACHE:-0}" = 1 ] && SIM="--cache-sim=yes --D1=32768,8,64 --LL=2097152,16,64"
OUT=$(mktemp -d "${TMPDIR:-/tmp}/server-cost.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$OUT"' EXIT

# instructions SECONDS: the server's total instruction count for one run.
instructions() {
    local secs=$1 wrap
    wrap="$OUT/hotdesk-$secs"
    printf '#!/bin/sh\nexec valgrind --tool=callgrind %s --callgrind-out-file=%s.%%p %s "$@"\n' \
        "$SIM" "$wrap" "$BIN" >"$wrap.sh"
    chmod +x "$wrap.sh"
    # SCHED=none: valgrind serialises the server's threads; real-time priority would only
    # starve SIPp.
    HOTDESK_BIN="$wrap.sh" SCHED=none ONLY=hotdesk RECORD=0 REFINE=0 RETRIES=0 STOP_AFTER=1 \
        LADDER=$RATE DURATION=$secs SIPP_CLIENTS=1 USERS=$USERS "$BENCH_DIR/register.sh" \
        >"$wrap.log" 2>&1
    # Instructions, and with the cache simulated its last-level data read and write misses.
    awk '/^totals:/ { s += $2; m += $9 + $10 } END { print s + 0, m + 0 }' "$wrap".[0-9]*
}

read -r short short_misses < <(instructions "$SHORT")
read -r long long_misses < <(instructions "$LONG")
if [ "$short" = 0 ] || [ "$long" = 0 ]; then
    echo "hotdesk: no callgrind output (run again with KEEP=1 to keep the logs in $OUT)"
    exit 1
fi
pairs=$((RATE * (LONG - SHORT)))
misses=""
if [ -n "$SIM" ]; then
    misses=", $(awk -v a="$short_misses" -v b="$long_misses" -v n="$pairs" \
        'BEGIN { printf "%.1f", (b - a) / n }') last-level data misses"
fi
echo "hotdesk $(basename "$BIN"): $(((long - short) / pairs)) instructions$misses per REGISTER pair" \
    "(callgrind around the server; ${RATE}/s, ${LONG} s minus ${SHORT} s, $USERS users)"
