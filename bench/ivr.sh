#!/usr/bin/env bash
# bench/ivr.sh — concurrent IVR sessions through the hotdesk binary (SPEC §5: 500 log-in IVR
# sessions with clean 20 ms RTP pacing).
#
# N SIPp callers (one hot-desk phone's credentials, digest auth) dial *44 at RATE calls/s and
# stay silent in the menu for HOLD seconds, then hang up. The server answers each with its
# own RTP session and plays the log-in prompt, then comfort silence, every 20 ms. Once all
# N are up, a WINDOW-second sample reads the media driver's own pacing counters from
# /metrics (packets sent 20 ms ± 2 ms after their session's previous one) and the server's
# CPU time from /proc. SIPp's RTP goes to its own media port (-mp), which it does not read.
#
# Usage: bench/ivr.sh                      (N=500 HOLD=40 RATE=50 WINDOW=10 RT_PRIORITY=10)
#        N=200 bench/ivr.sh
# Needs: sipp, curl, target/release/hotdesk (HOTDESK_BIN to override).
set -euo pipefail

N=${N:-500}
HOLD=${HOLD:-40}
RATE=${RATE:-50}
WINDOW=${WINDOW:-10}
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
BIN=${HOTDESK_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/hotdesk}
work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    [ "${KEEP:-0}" = 1 ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sip=$(free_port); http=$(free_port); local_port=$(free_port); media=$(free_port)
token=bench-ivr-token

RT_PRIORITY=${RT_PRIORITY-10}
# RT_PRIORITY= (empty) keeps the media thread under default scheduling (the server's own
# default is real-time priority 10, so pass 0 explicitly).
env HOTDESK_MEDIA_RT_PRIORITY=${RT_PRIORITY:-0} HOTDESK_ADMIN_TOKEN=$token HOTDESK_SECRET_KEY=$(printf '5e%.0s' $(seq 32)) \
HOTDESK_RTP_PORTS=30000-31999 HOTDESK_IVR_SESSION_SECS=$((HOLD + 60)) \
HOTDESK_IVR_FIRST_DIGIT_SECS=$((HOLD + 30)) HOTDESK_PROMPTS_DIR="$root/prompts" RUST_LOG=warn \
    "$BIN" serve --sip 127.0.0.1:$sip --http 127.0.0.1:$http \
    --database "sqlite://$work/h.db" --domain bench.test >"$work/server.log" 2>&1 &
server_pid=$!
api() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/healthz" >/dev/null && break; sleep 0.1; done
api -X POST "http://127.0.0.1:$http/api/v1/domains" -d '{"name":"bench.test"}' >/dev/null || true
api -X POST "http://127.0.0.1:$http/api/v1/domains/bench.test/devices" \
    -d '{"mac":"001565000001","model":"yealink-t46u","kind":"hotdesk","extension":"94001","sip_password":"bench-secret-94001"}' >/dev/null

# The e2e scenario, holding silently, then our BYE.
steps="  <pause milliseconds=\"$((HOLD * 1000))\"/>"
bye='  <send retrans="500" start_txn="bye">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      Max-Forwards: 70
      From: <sip:[field0]@[domain]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 999 BYE
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" response_txn="bye"/>'
python3 - "$root/crates/server/tests/e2e/sipp/ivr_call.xml" "$work/ivr_hold.xml" "$steps" "$bye" <<'PY'
import sys
src, dst, steps, bye = sys.argv[1:5]
text = open(src).read().replace("RTP_PORT", "[media_port]").replace("STEPS", steps).replace("HANGUP", bye)
open(dst, "w").write(text)
PY
printf 'SEQUENTIAL\n94001;[authentication username=94001 password=bench-secret-94001]\n' >"$work/phone.csv"

sipp 127.0.0.1:$sip -sf "$work/ivr_hold.xml" -inf "$work/phone.csv" -key domain bench.test \
    -auth_uri bench.test -s '*44' -i 127.0.0.1 -p $local_port -mi 127.0.0.1 -mp $media \
    -r "$RATE" -m "$N" -l "$N" -timeout $((HOLD + N / RATE + 60))s -timeout_error -nostdin \
    -trace_stat -stf "$work/stat.csv" >"$work/sipp.out" 2>&1 &
sipp_pid=$!

metric() { curl -sf "http://127.0.0.1:$http/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
# Wait until every session is up.
up=0
for _ in $(seq $((N / RATE * 10 + 200))); do
    up=$(metric hotdesk_ivr_rtp_ports_in_use || echo 0)
    [ "${up:-0}" -ge "$N" ] && break
    sleep 0.1
done
sleep 1
p0=$(metric hotdesk_ivr_rtp_packets_total); c0=$(metric hotdesk_ivr_rtp_clean_packets_total); t0=$(cpu_ticks)
sleep "$WINDOW"
p1=$(metric hotdesk_ivr_rtp_packets_total); c1=$(metric hotdesk_ivr_rtp_clean_packets_total); t1=$(cpu_ticks)
live=$(metric hotdesk_ivr_rtp_ports_in_use)
worst=$(metric hotdesk_ivr_rtp_worst_spacing_error_us)
wait "$sipp_pid" && sipp_ok=yes || sipp_ok=no
after=$(metric hotdesk_ivr_rtp_ports_in_use)
hz=$(getconf CLK_TCK)
python3 - "$N" "$up" "$live" "$p0" "$p1" "$c0" "$c1" "$t0" "$t1" "$hz" "$WINDOW" "$worst" "$sipp_ok" "$after" <<'PY'
import sys
n, up, live, p0, p1, c0, c1, t0, t1, hz, window, worst, ok, after = sys.argv[1:15]
n, up, live = int(n), int(up), int(live)
packets, clean = int(p1) - int(p0), int(c1) - int(c0)
cores = (int(t1) - int(t0)) / int(hz) / int(window)
print(f"sessions: {n} asked, {up} up at the start of the window, {live} at its end")
print(f"RTP in window: {packets} packets ({packets / int(window):.0f}/s), "
      f"{100 * clean / max(packets, 1):.1f} % within 20 ms ± 2 ms")
print(f"worst spacing error since start: {int(worst) / 1000:.1f} ms")
print(f"server CPU: {100 * cores:.1f} % of a core, {100 * cores / max(live, 1):.3f} % per session")
print(f"SIPp all calls completed: {ok}; RTP ports held afterwards: {after}")
PY
