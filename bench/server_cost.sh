#!/usr/bin/env bash
# Hotdesk's own instructions per REGISTER pair (callgrind around the server): three runs of
# one build agreed within 0.4 % (103,151–103,546) whatever else the machine did, so two
# builds can be compared where CPU time per pair cannot tell 1–2 µs apart. Kernel work is
# not counted, nor cache misses.
#
#   bench/server_cost.sh                         # target/release/hotdesk
#   HOTDESK_BIN=/path/to/other bench/server_cost.sh
#
# Environment (defaults): RATE=250 (pairs/s; the server runs some 30 times slower under
#   valgrind) SHORT=10 LONG=20 (seconds of the two runs: their difference, divided by the
#   extra pairs, leaves out start-up and the user import) USERS=500; HOTDESK_BIN as for
#   register.sh; KEEP=1 keeps the callgrind files and logs.
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
OUT=$(mktemp -d "${TMPDIR:-/tmp}/server-cost.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$OUT"' EXIT

# instructions SECONDS: the server's total instruction count for one run.
instructions() {
    local secs=$1 wrap
    wrap="$OUT/hotdesk-$secs"
    printf '#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s.%%p %s "$@"\n' \
        "$wrap" "$BIN" >"$wrap.sh"
    chmod +x "$wrap.sh"
    # SCHED=none: valgrind serialises the server's threads; real-time priority would only
    # starve SIPp.
    HOTDESK_BIN="$wrap.sh" SCHED=none ONLY=hotdesk RECORD=0 REFINE=0 RETRIES=0 STOP_AFTER=1 \
        LADDER=$RATE DURATION=$secs SIPP_CLIENTS=1 USERS=$USERS "$BENCH_DIR/register.sh" \
        >"$wrap.log" 2>&1
    awk '/^totals:/ { s += $2 } END { print s + 0 }' "$wrap".[0-9]*
}

short=$(instructions "$SHORT")
long=$(instructions "$LONG")
if [ "$short" = 0 ] || [ "$long" = 0 ]; then
    echo "hotdesk: no callgrind output (run again with KEEP=1 to keep the logs in $OUT)"
    exit 1
fi
echo "hotdesk $(basename "$BIN"): $(((long - short) / (RATE * (LONG - SHORT)))) instructions per REGISTER pair" \
    "(callgrind around the server; ${RATE}/s, ${LONG} s minus ${SHORT} s, $USERS users)"
