#!/usr/bin/env bash
# What each server's messages cost the client reading them: SIPp's instructions per
# REGISTER pair (callgrind), against Kamailio and against hotdesk. On a 2-core machine SIPp
# shares the CPU with the server, so a byte the server sends costs the run twice.
#
#   bench/sipp_cost.sh                  # both servers
#   ONLY=hotdesk bench/sipp_cost.sh     # one server only (kamailio | hotdesk)
#
# Environment (defaults): RATE=200 (pairs/s; SIPp runs some 50 times slower under valgrind)
#   SHORT=10 LONG=20 (seconds of the two runs: their difference, divided by the extra
#   pairs, leaves out start-up and the loading of the user file) USERS=10000
#   HOTDESK_BIN as for register.sh; KEEP=1 keeps the callgrind files and logs (and
#   register.sh's work dirs).
# Output: one line per server. Not recorded in bench/results (BENCHMARKS.md quotes it).
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
RATE=${RATE:-200}
SHORT=${SHORT:-10}
LONG=${LONG:-20}
USERS=${USERS:-10000}
command -v valgrind >/dev/null || { echo "sipp_cost.sh: needs valgrind (apt-get install -y valgrind)" >&2; exit 1; }
OUT=$(mktemp -d "${TMPDIR:-/tmp}/sipp-cost.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$OUT"' EXIT

# instructions SERVER SECONDS: SIPp's total instruction count for one run.
instructions() {
    local server=$1 secs=$2
    SIPP_WRAP="valgrind --tool=callgrind --callgrind-out-file=$OUT/$server-$secs.%p" \
        ONLY=$server RECORD=0 REFINE=0 RETRIES=0 STOP_AFTER=1 LADDER=$RATE DURATION=$secs \
        SIPP_CLIENTS=1 USERS=$USERS "$BENCH_DIR/register.sh" >"$OUT/$server-$secs.log" 2>&1
    awk '/^totals:/ { s += $2 } END { print s + 0 }' "$OUT/$server-$secs".[0-9]*
}

for server in ${ONLY:-kamailio hotdesk}; do
    short=$(instructions "$server" "$SHORT")
    long=$(instructions "$server" "$LONG")
    if [ "$short" = 0 ] || [ "$long" = 0 ]; then
        echo "$server: no callgrind output (run again with KEEP=1 to keep the logs in $OUT)"
        continue
    fi
    echo "$server: SIPp $(((long - short) / (RATE * (LONG - SHORT)))) instructions per REGISTER pair" \
        "(callgrind; ${RATE}/s, ${LONG} s minus ${SHORT} s)"
done
