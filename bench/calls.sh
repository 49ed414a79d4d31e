#!/usr/bin/env bash
# INVITE -> 180 -> 200 -> ACK -> BYE through a server: Kamailio 5.6 as a stateful
# record-routing proxy vs hotdesk (B2BUA), same run.
#
#   bench/calls.sh                    # rate ladder, best calls/s with 0 failed calls
#   WORKERS=2 bench/calls.sh          # 2 workers each
#   bench/calls.sh hold               # capacity: HOLD_CALLS concurrent calls held, server RSS
#   ONLY=kamailio bench/calls.sh      # one server only (kamailio | hotdesk)
#
# Environment (defaults): WORKERS=1 DURATION=10 (s per step) LADDER="500 1000 ... 7000"
#   CALL_MS=0 (hold time between ACK and BYE in rate mode) RETRIES=1 STOP_AFTER=2 REFINE=2
#   COOLDOWN=3
#   HOLD_CALLS=10000 HOLD_RATE=500 HOLD_SECONDS=10 (time at full concurrency, hold mode)
#   HOLD_WARMUP=1000 (short calls before the hold, so that "before" is a warmed-up server)
#   KAMAILIO_DIALOG=0 in rate mode, 1 in hold mode (dialog module tracks every call, as a
#   B2BUA must) HOTDESK_CALLS=1 (0 = skip the hotdesk half; see run_hotdesk_calls)
#   KAMAILIO_AUTH=none (plain relay to the SIPp UAS) | htable (also accepted: 1): the
#   same work per call as hotdesk: the INVITE challenged (401) and checked against the
#   users' passwords in an htable, the callee registered first and found by
#   lookup("location") (see kamailio_proxy_cfg)
#   USERS=10000 FIRST_EXT=100000 DOMAIN=bench.test HOTDESK_BIN HOTDESK_ARGS KEEP=0
#   KAMAILIO_MALLOC=fm|tlsf|qm SCHED=rt|nice|none (rt by default as root) RECORD=1 (0 = trial run)
#   RETRANS_MAX_PCT=1 (a step with more SIPp retransmissions than this % of calls fails)
# Output: one line per server, the ratio, and a dated block appended to
# bench/results/calls.txt (hold mode: bench/results/hold.txt). See bench/README.md.
set -uo pipefail

. "$(dirname "$0")/lib/common.sh"
. "$BENCH_DIR/lib/kamailio.sh"
. "$BENCH_DIR/lib/hotdesk.sh"

MODE=rate
case "${1:-}" in
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    hold) MODE=hold ;;
    "" | rate) ;;
    *) die "unknown mode '$1' (rate | hold)" ;;
esac

WORKERS=${WORKERS:-1}
USERS=${USERS:-10000}
FIRST_EXT=${FIRST_EXT:-100000}
DOMAIN=${DOMAIN:-bench.test}
DURATION=${DURATION:-10}
LADDER=${LADDER:-500 1000 1500 2000 2500 3000 3500 4000 4500 5000 5500 6000 6500 7000}
CALL_MS=${CALL_MS:-0}
HOLD_CALLS=${HOLD_CALLS:-10000}
HOLD_RATE=${HOLD_RATE:-500}
HOLD_SECONDS=${HOLD_SECONDS:-10}
HOLD_WARMUP=${HOLD_WARMUP:-1000}
ONLY=${ONLY:-}
SIPP_BUFF=${SIPP_BUFF:-1048576}
UAC_XML="$BENCH_DIR/sipp/uac_call.xml"
UAS_XML="$BENCH_DIR/sipp/uas_call.xml"
case "${KAMAILIO_AUTH:-none}" in
    none | 0) KAMAILIO_AUTH=none ;;
    htable | 1) KAMAILIO_AUTH=htable ;;
    *) die "KAMAILIO_AUTH must be none or htable for calls.sh" ;;
esac
CALLEE_EXT=$((FIRST_EXT + USERS - 1))
if [ "$MODE" = hold ]; then
    KAMAILIO_DIALOG=${KAMAILIO_DIALOG:-1}
else
    KAMAILIO_DIALOG=${KAMAILIO_DIALOG:-0}
fi
export KAMAILIO_DIALOG

ensure_tools
make_workdir
gen_users "$USERS" "$FIRST_EXT"
# the callee: the last user, registered from the SIPp UAS port (register_callee)
printf 'SEQUENTIAL\n%s;[authentication username=%s password=pw%s]\n' \
    "$CALLEE_EXT" "$CALLEE_EXT" "$CALLEE_EXT" >"$WORK/callee.csv"
UAC_PORT=$(free_port)
UAS_PORT=$(free_port)

# calls_run RATE TOTAL PAUSE_MS LIMIT: one SIPp UAS + UAC pair through $TARGET, the
# request host being $RURI_HOST and the callee $CALLEE. Sets the S_* figures (UAC side),
# UAS_FAILED, CALLS_RC and the server CPU note. In hold mode samples memory meanwhile.
calls_run() {
    local rate=$1 total=$2 pause=$3 limit=$4 tag=$RANDOM
    local to=$((total / rate + pause / 1000 + 35)) uas_pid c0 c1 s0
    local ustf="$WORK/uas-$tag.csv" cstf="$WORK/uac-$tag.csv"
    c0=$(cpu_ticks "$SERVER_PID")
    children_cpu
    s0=$CHILD_CPU
    local e0
    e0=$(server_errors)
    "${PRIO_UAS[@]}" sipp -sf "$UAS_XML" -i 127.0.0.1 -p "$UAS_PORT" -buff_size "$SIPP_BUFF" -m "$total" \
        -timeout $((to + 10))s -nostdin -trace_stat -stf "$ustf" -fd 1 \
        -trace_err -error_file "$WORK/uas-$tag.err" >"$WORK/sipp-uas.out" 2>&1 &
    uas_pid=$!
    STARTED_PIDS+=("$uas_pid")
    wait_udp_listen "$UAS_PORT"
    [ "$MODE" = hold ] && hold_sampler "$rate" "$total" "$pause" &
    local sampler=$!
    "${PRIO[@]}" timeout -s KILL $((to + 30)) \
        sipp "$TARGET" -sf "$UAC_XML" -inf "$WORK/users.csv" -auth_uri "$DOMAIN" \
        -key domain "$RURI_HOST" -s "$CALLEE" -i 127.0.0.1 -p "$UAC_PORT" \
        -buff_size "$SIPP_BUFF" -r "$rate" -rp 1000 -m "$total" -l "$limit" -d "$pause" \
        -default_behaviors all,-abortunexp \
        -timeout "${to}s" -timeout_error -nostdin -trace_stat -stf "$cstf" -fd 1 \
        -trace_err -error_file "$WORK/uac-$tag.err" >"$WORK/sipp-uac.out" 2>&1
    CALLS_RC=$?
    # the UAS ends by itself 4 s after its last BYE (timewait); give stragglers a moment
    local i
    for i in $(seq 1 100); do kill -0 "$uas_pid" 2>/dev/null || break; sleep 0.1; done
    stop_pid "$uas_pid"
    [ "$MODE" = hold ] && wait "$sampler" 2>/dev/null
    c1=$(cpu_ticks "$SERVER_PID")
    children_cpu
    UAS_FAILED=$(stat_field "$ustf" 'FailedCall(C)')
    UAS_FAILED=${UAS_FAILED:-0}
    # INVITEs the server challenged (401/407 lines of SIPp's last scenario screen): proves
    # the server really authenticated the calls (hotdesk always; Kamailio with KAMAILIO_AUTH)
    CHALLENGED=$(awk '/Scenario Screen/ { n = 0 } $1 ~ /^40[17]$/ && $2 ~ /^<-/ { n += $3 } END { print n + 0 }' \
        "$WORK/sipp-uac.out" 2>/dev/null)
    sipp_summary "$cstf" "$(awk -v p="$pause" 'BEGIN { printf "%.3f", p / 1000 }')"
    CPU_NOTE="challenged=$CHALLENGED $(cpu_note "$c0" "$c1" "$S_OK" "$S_ELAPSED") $(sipp_cpu_note "$s0" "$CHILD_CPU" "$S_ELAPSED") server_errors=$(($(server_errors) - e0))"
}

calls_step() {
    local rate=$1 total=$(($1 * DURATION))
    calls_run "$rate" "$total" "$CALL_MS" $((rate * (CALL_MS / 1000 + 3)))
    step_verdict "$rate" "$total" "$CALLS_RC" "uas_failed=$UAS_FAILED $CPU_NOTE"
    [ "$UAS_FAILED" = 0 ] || STEP_OK=0
}

# hold_sampler RATE TOTAL PAUSE_MS: writes "before peak after" memory of the server to
# $WORK/hold.mem: before the first call, halfway through the hold, after the last BYE.
hold_sampler() {
    local rate=$1 total=$2 pause=$3 ramp
    ramp=$((total / rate))
    echo "before $(mem_tree "$SERVER_PID")" >"$WORK/hold.mem"
    sleep $((ramp + (pause / 1000 - ramp) / 2))
    echo "peak $(mem_tree "$SERVER_PID")" >>"$WORK/hold.mem"
    sleep $(((pause / 1000 - ramp) / 2 + ramp + 8))
    echo "after $(mem_tree "$SERVER_PID")" >>"$WORK/hold.mem"
}

# run_hold NAME: HOLD_CALLS calls set up at HOLD_RATE, all held HOLD_SECONDS at once.
# First HOLD_WARMUP short calls, so that "before" is a warmed-up server: hotdesk's
# allocator keeps the ~48 MB the 10,000-user import used until later allocations purge
# it, which made "before" larger than the peak with 10,000 calls held.
run_hold() {
    local name=$1 pause=$(((HOLD_CALLS / HOLD_RATE + HOLD_SECONDS) * 1000))
    if [ "$HOLD_WARMUP" -gt 0 ]; then
        log "$name: warm-up, $HOLD_WARMUP calls at $HOLD_RATE/s, not held"
        MODE=warmup
        calls_run "$HOLD_RATE" "$HOLD_WARMUP" 0 "$HOLD_WARMUP"
        MODE=hold
        log "$name: warm-up ok=$S_OK failed=$S_FAILED"
        settle
    fi
    log "$name: $HOLD_CALLS calls at $HOLD_RATE/s, held ${HOLD_SECONDS}s together (pause ${pause} ms)"
    calls_run "$HOLD_RATE" "$HOLD_CALLS" "$pause" "$HOLD_CALLS"
    local b p a
    b=$(awk '$1 == "before" { print $2, $3 }' "$WORK/hold.mem")
    p=$(awk '$1 == "peak" { print $2, $3 }' "$WORK/hold.mem")
    a=$(awk '$1 == "after" { print $2, $3 }' "$WORK/hold.mem")
    local verdict=ok
    [ "$CALLS_RC" = 0 ] && [ "$S_FAILED" = 0 ] && [ "$UAS_FAILED" = 0 ] && [ "$S_OK" -ge "$HOLD_CALLS" ] || verdict=FAIL
    # PSS (shared pages split between processes) compares a forking server with a threaded one
    HOLD_LINE="$verdict: $S_OK/$HOLD_CALLS calls held, failed=$S_FAILED uas_failed=$UAS_FAILED retrans=$S_RETRANS; pss_kb before=${b#* } peak=${p#* } after=${a#* }; peak rss_kb=${p% *} (summed over processes); $(awk -v b="${b#* }" -v p="${p#* }" -v n="$HOLD_CALLS" 'BEGIN { printf "%.2f", (p - b) / n }') KB/call"
}

K_LINE="" H_LINE="" K_ACH=0 H_ACH=0 K_LADDER="" H_LADDER=""

run_kamailio_calls() {
    local port cfg version dbdir=""
    version=$(kamailio_version)
    port=$(free_port)
    cfg="$WORK/kamailio-proxy.cfg"
    if [ "$KAMAILIO_AUTH" = htable ]; then
        dbdir="$WORK/kamdb"
        kamailio_users_db "$dbdir" "$DOMAIN"
    fi
    kamailio_proxy_cfg "$port" "$WORKERS" "$DOMAIN" ${dbdir:+"$dbdir"} >"$cfg"
    if ! kamailio_start "$cfg" "$port"; then
        K_LINE="kamailio: failed to start (see KEEP=1 $WORK/kamailio.log)"
        return
    fi
    TARGET="127.0.0.1:$port"
    RURI_HOST="127.0.0.1:$UAS_PORT"
    CALLEE=callee
    KAMAILIO_AFTER_RESTART=""
    if [ "$KAMAILIO_AUTH" = htable ]; then
        # as for hotdesk: the caller dials the callee's extension in the domain, the proxy
        # challenges it and finds the callee's binding (the SIPp UAS port)
        REG_TARGET="127.0.0.1:$port"
        if ! register_callee; then
            K_LINE="kamailio: failed (callee $CALLEE_EXT could not register)"
            stop_pid "$KAMAILIO_PID"
            return
        fi
        KAMAILIO_AFTER_RESTART=register_callee
        RURI_HOST="$DOMAIN"
        CALLEE=$CALLEE_EXT
    fi
    SERVER_PID=$KAMAILIO_PID
    SERVER_LOG="$WORK/kamailio.log"
    RESTART_FN=kamailio_restart
    local desc="kamailio $version proxy auth=$KAMAILIO_AUTH workers=$WORKERS dialog=$KAMAILIO_DIALOG malloc=$KAMAILIO_MALLOC"
    if [ "$MODE" = hold ]; then
        run_hold kamailio
        K_LINE="$desc: $HOLD_LINE"
    else
        log "$desc, ladder: $LADDER"
        # shellcheck disable=SC2086
        ladder calls_step $LADDER
        K_ACH=$BEST_ACHIEVED
        K_LADDER=$LADDER_LOG
        K_LINE="$desc: $(best_phrase calls)"
    fi
    stop_pid "$KAMAILIO_PID"
}

# ---------------------------------------------------------------------------------------
# hotdesk calls (HOTDESK_CALLS=0 skips them): start hotdesk, import the users, register
# the callee (last user) with the bench REGISTER scenario from the UAS port so that its
# binding points at the SIPp UAS, then drive the same UAC scenario at sip:CALLEE@DOMAIN;
# the UAC answers hotdesk's INVITE challenge from users.csv (-auth_uri DOMAIN). hotdesk is
# a B2BUA: each call is two dialogs, the INVITE is digest-authenticated (HD-SEC-3).
# ---------------------------------------------------------------------------------------
# register_callee: binds the callee to the SIPp UAS port (the UAS is not running then)
# at $REG_TARGET (hotdesk, or Kamailio with KAMAILIO_AUTH=htable).
register_callee() {
    "${PRIO[@]}" timeout -s KILL 30 sipp "$REG_TARGET" -sf "$BENCH_DIR/sipp/register_auth.xml" \
        -inf "$WORK/callee.csv" -auth_uri "$DOMAIN" -key domain "$DOMAIN" -i 127.0.0.1 \
        -p "$UAS_PORT" -m 1 -timeout 10s -timeout_error -nostdin >"$WORK/callee-reg.out" 2>&1
}

run_hotdesk_calls() {
    if [ "${HOTDESK_CALLS:-1}" != 1 ]; then
        H_LINE="hotdesk: skipped (HOTDESK_CALLS=0)"
        return
    fi
    local sip http callee=$CALLEE_EXT
    sip=$(free_port)
    http=$(free_port)
    if ! hotdesk_start "$sip" "$http" "$WORKERS" "$DOMAIN" || ! hotdesk_import "$DOMAIN" \
        || ! hotdesk_sip_ready "$sip"; then
        H_LINE="hotdesk: skipped ($HOTDESK_SKIP)"
        hotdesk_stop
        return
    fi
    REG_TARGET="127.0.0.1:$sip"
    if ! register_callee; then
        H_LINE="hotdesk: skipped (callee $callee could not register)"
        hotdesk_stop
        return
    fi
    RESTART_FN=hotdesk_restart HOTDESK_AFTER_RESTART=register_callee
    TARGET="127.0.0.1:$sip"
    RURI_HOST="$DOMAIN"
    CALLEE=$callee
    SERVER_PID=$HOTDESK_PID
    SERVER_LOG="$WORK/hotdesk.log"
    if [ "$MODE" = hold ]; then
        run_hold hotdesk
        H_LINE="hotdesk workers=$WORKERS $(hotdesk_build): $HOLD_LINE"
    else
        log "hotdesk workers=$WORKERS, ladder: $LADDER"
        # shellcheck disable=SC2086
        ladder calls_step $LADDER
        H_ACH=$BEST_ACHIEVED
        H_LADDER=$LADDER_LOG
        H_LINE="hotdesk workers=$WORKERS: $(best_phrase calls) $(hotdesk_build)"
    fi
    hotdesk_stop
}

[ "$ONLY" = hotdesk ] || run_kamailio_calls
[ "$ONLY" = kamailio ] || run_hotdesk_calls

RATIO_LINE="ratio hotdesk/kamailio: n/a"
if [ "$K_ACH" -gt 0 ] && [ "$H_ACH" -gt 0 ]; then
    RATIO_LINE="ratio hotdesk/kamailio: $(awk -v h="$H_ACH" -v k="$K_ACH" 'BEGIN { printf "%.2f", h / k }')"
fi

echo
[ -n "$K_LINE" ] && echo "$K_LINE"
[ -n "$H_LINE" ] && echo "$H_LINE"
[ "$MODE" = rate ] && echo "$RATIO_LINE"

if [ "$MODE" = hold ]; then
    append_result hold.txt \
        "## $(date -u +%Y-%m-%dT%H:%M:%SZ) calls.sh hold $(machine_note)" \
        "command: WORKERS=$WORKERS HOLD_CALLS=$HOLD_CALLS HOLD_RATE=$HOLD_RATE HOLD_SECONDS=$HOLD_SECONDS HOLD_WARMUP=$HOLD_WARMUP${ONLY:+ ONLY=$ONLY} bench/calls.sh hold" \
        ${K_LINE:+"$K_LINE"} ${H_LINE:+"$H_LINE"} ""
else
    append_result calls.txt \
        "## $(date -u +%Y-%m-%dT%H:%M:%SZ) calls.sh $(machine_note)" \
        "command: WORKERS=$WORKERS DURATION=$DURATION CALL_MS=$CALL_MS LADDER=\"$LADDER\" KAMAILIO_AUTH=$KAMAILIO_AUTH${ONLY:+ ONLY=$ONLY} bench/calls.sh" \
        ${K_LINE:+"$K_LINE"} ${K_LADDER:+"  kamailio ladder:$K_LADDER"} \
        ${H_LINE:+"$H_LINE"} ${H_LADDER:+"  hotdesk ladder:$H_LADDER"} \
        "$RATIO_LINE" ""
fi
