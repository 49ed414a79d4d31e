#!/usr/bin/env bash
# REGISTER with digest auth, best rate with 0 failures: Kamailio 5.6 vs hotdesk, same run.
#
#   bench/register.sh                 # 1 worker each, 10,000 users
#   WORKERS=2 bench/register.sh       # 2 workers each
#   ONLY=kamailio bench/register.sh   # one server only (kamailio | hotdesk)
#   INTERLEAVE=1 bench/register.sh    # both servers up at once, steps alternating at each rate
#
# Environment (defaults): WORKERS=1 USERS=10000 FIRST_EXT=100000 DOMAIN=bench.test
#   DURATION=10 (seconds per ladder step) LADDER="8000 16000 ... 48000" (REGISTER/s, ascending)
#   RETRIES=1 (re-runs of a failed step) STOP_AFTER=2 (failed rates in a row that end
#   the ascent) REFINE=2 (bisections between the best pass and the failure above it)
#   COOLDOWN=3 HOTDESK_BIN=$CARGO_TARGET_DIR/release/hotdesk (else target/release/hotdesk) HOTDESK_ARGS= KEEP=0 (keep the temp dir)
#   KAMAILIO_AUTH=htable|auth_db KAMAILIO_MALLOC=fm|tlsf|qm SCHED=rt|nice|none (rt by default as root)
#   RECORD=1 (0 = do not append to bench/results, for trial runs)
#   SIPP_CLIENTS=2 (SIPp processes sharing the rate; one tops out near 12,000/s here)
#   RETRANS_MAX_PCT=1 (a step with more SIPp retransmissions than this % of calls fails)
#   SIPP_WRAP= (a command the ladder's SIPp runs under, e.g. valgrind: bench/sipp_cost.sh)
#   INTERLEAVE=0 (1: Kamailio and hotdesk take turns, ROUNDS=2 steps each per rate in the
#   order K H H K; RETRIES and REFINE do not apply, STOP_AFTER does, per server)
# Output: one line per server, the ratio, and a dated block appended to
# bench/results/register.txt. See bench/README.md.
set -uo pipefail

. "$(dirname "$0")/lib/common.sh"
. "$BENCH_DIR/lib/kamailio.sh"
. "$BENCH_DIR/lib/hotdesk.sh"

case "${1:-}" in -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;; esac

WORKERS=${WORKERS:-1}
USERS=${USERS:-10000}
FIRST_EXT=${FIRST_EXT:-100000}
DOMAIN=${DOMAIN:-bench.test}
DURATION=${DURATION:-10}
# On the 2026-12 machines Kamailio's best step was anywhere from 23,000/s to 46,000/s:
# the default climbs that far, coarsely, and the bisection (REFINE) narrows the top.
LADDER=${LADDER:-8000 16000 24000 32000 36000 40000 44000 48000}
ONLY=${ONLY:-}
SCENARIO="$BENCH_DIR/sipp/register_auth.xml"
SIPP_BUFF=${SIPP_BUFF:-1048576}

ensure_tools
make_workdir
gen_users "$USERS" "$FIRST_EXT"

# SIPP_CLIENTS SIPp processes share the rate and the users (SIPp is single-threaded and
# tops out near 12,000 REGISTER/s here, before Kamailio does).
SIPP_CLIENTS=${SIPP_CLIENTS:-2}
SIPP_PORTS=()
for i in $(seq 1 "$SIPP_CLIENTS"); do
    SIPP_PORTS+=("$(free_port)")
    awk -v n="$SIPP_CLIENTS" -v i="$i" 'NR == 1 || (NR - 2) % n == i - 1' "$WORK/users.csv" \
        >"$WORK/users-$i.csv"
done

# register_step RATE: one ladder step against $TARGET (host:port).
register_step() {
    local rate=$1 m=$((rate * DURATION)) rc=0 c0 c1 s0 e0 i pids=() stfs=() tag=$RANDOM
    local per=$((rate / SIPP_CLIENTS))
    c0=$(cpu_ticks "$SERVER_PID")
    children_cpu
    s0=$CHILD_CPU
    e0=$(server_errors)
    for i in $(seq 1 "$SIPP_CLIENTS"); do
        stfs+=("$WORK/reg-$rate-$tag-$i.csv")
        "${PRIO[@]}" timeout -s KILL $((DURATION * 4 + 60)) \
            ${SIPP_WRAP:-} sipp "$TARGET" -sf "$SCENARIO" -inf "$WORK/users-$i.csv" -auth_uri "$DOMAIN" \
            -key domain "$DOMAIN" -i 127.0.0.1 -p "${SIPP_PORTS[$((i - 1))]}" -buff_size "$SIPP_BUFF" \
            -r "$per" -rp 1000 -m $((per * DURATION)) -l "$per" \
            -timeout $((DURATION * 3 + 30))s -timeout_error \
            -nostdin -trace_stat -stf "${stfs[-1]}" -fd 1 >"$WORK/sipp-reg-$i.out" 2>&1 &
        pids+=($!)
    done
    for i in "${pids[@]}"; do
        wait "$i" || rc=$?
    done
    c1=$(cpu_ticks "$SERVER_PID")
    children_cpu
    sipp_summary_many 0 "${stfs[@]}"
    step_verdict "$rate" $((per * SIPP_CLIENTS * DURATION)) "$rc" \
        "$(cpu_note "$c0" "$c1" "$S_OK" "$S_ELAPSED") $(sipp_cpu_note "$s0" "$CHILD_CPU" "$S_ELAPSED") server_errors=$(($(server_errors) - e0))"
}

# smoke SERVER: one registration must pass before a ladder means anything.
smoke() {
    local stf="$WORK/smoke-$1.csv" rc
    "${PRIO[@]}" timeout -s KILL 30 sipp "$TARGET" -sf "$SCENARIO" -inf "$WORK/users.csv" -auth_uri "$DOMAIN" \
        -key domain "$DOMAIN" -i 127.0.0.1 -p "${SIPP_PORTS[0]}" -m 1 -timeout 10s -timeout_error \
        -nostdin -trace_stat -stf "$stf" -trace_msg -message_file "$WORK/smoke-$1.msg" \
        >"$WORK/smoke-$1.out" 2>&1
    rc=$?
    sipp_summary "$stf" 0
    [ "$rc" = 0 ] && [ "$S_OK" = 1 ]
}

K_LINE="" H_LINE="" K_ACH=0 H_ACH=0

# kamailio_up: starts Kamailio as a registrar and proves one registration; on failure
# K_LINE says why and it returns 1.
kamailio_up() {
    local port cfg
    port=$(free_port)
    kamailio_users_db "$WORK/kamdb" "$DOMAIN"
    cfg="$WORK/kamailio-registrar.cfg"
    kamailio_registrar_cfg "$port" "$WORKERS" "$DOMAIN" "$WORK/kamdb" >"$cfg"
    if ! kamailio_start "$cfg" "$port"; then
        K_LINE="kamailio: failed to start (see KEEP=1 $WORK/kamailio.log)"
        return 1
    fi
    K_TARGET="127.0.0.1:$port"
    use_server kamailio
    if ! smoke kamailio; then
        K_LINE="kamailio: failed (single REGISTER did not pass; KEEP=1 shows $WORK/smoke-kamailio.msg)"
        stop_pid "$KAMAILIO_PID"
        return 1
    fi
}

# kamailio_line: K_LINE from the ladder's best, with the memory Kamailio holds now.
kamailio_line() {
    local mem
    mem=$(mem_tree "$KAMAILIO_PID")
    K_LINE="kamailio $(kamailio_version) workers=$WORKERS auth=${KAMAILIO_AUTH:-htable} malloc=$KAMAILIO_MALLOC: $(best_phrase REGISTER) rss_kb=${mem% *} pss_kb=${mem#* }"
}

run_kamailio() {
    kamailio_up || return
    log "kamailio $(kamailio_version), workers=$WORKERS auth=${KAMAILIO_AUTH:-htable} malloc=$KAMAILIO_MALLOC, ladder: $LADDER"
    # shellcheck disable=SC2086
    ladder register_step $LADDER
    kamailio_line
    stop_pid "$KAMAILIO_PID"
    K_ACH=$BEST_ACHIEVED
    K_LADDER="$LADDER_LOG"
}

# hotdesk_up: starts hotdesk, imports the users and proves one registration; on failure
# H_LINE says why and it returns 1.
hotdesk_up() {
    local sip http last
    sip=$(free_port)
    http=$(free_port)
    if ! hotdesk_start "$sip" "$http" "$WORKERS" "$DOMAIN" || ! hotdesk_import "$DOMAIN" \
        || ! hotdesk_sip_ready "$sip"; then
        H_LINE="hotdesk: skipped ($HOTDESK_SKIP)"
        hotdesk_stop
        return 1
    fi
    H_TARGET="127.0.0.1:$sip"
    use_server hotdesk
    if ! smoke hotdesk; then
        last=$(grep -ao 'SIP/2.0 [0-9][0-9][0-9][^\r]*' "$WORK/smoke-hotdesk.msg" 2>/dev/null | tail -1)
        H_LINE="hotdesk: skipped (single REGISTER did not pass; last answer: ${last:-none})"
        hotdesk_stop
        return 1
    fi
}

# hotdesk_line: H_LINE from the ladder's best, with the memory hotdesk holds now.
hotdesk_line() {
    local mem
    mem=$(mem_tree "$HOTDESK_PID")
    H_LINE="hotdesk workers=$WORKERS: $(best_phrase REGISTER) rss_kb=${mem% *} $(hotdesk_build)"
}

run_hotdesk() {
    hotdesk_up || return
    log "hotdesk workers=$WORKERS, ladder: $LADDER"
    # shellcheck disable=SC2086
    ladder register_step $LADDER
    hotdesk_line
    hotdesk_stop
    H_ACH=$BEST_ACHIEVED
    H_LADDER="$LADDER_LOG"
}

# use_server kamailio|hotdesk: points the steps (TARGET, SERVER_PID, SERVER_LOG) and the
# restart after a failed step at that server.
use_server() {
    case $1 in
        kamailio)
            TARGET=$K_TARGET SERVER_PID=$KAMAILIO_PID SERVER_LOG="$WORK/kamailio.log"
            RESTART_FN=kamailio_restart
            ;;
        hotdesk)
            TARGET=$H_TARGET SERVER_PID=$HOTDESK_PID SERVER_LOG="$WORK/hotdesk.log"
            RESTART_FN=hotdesk_restart
            ;;
    esac
}

# run_interleaved: both servers up at once; at every rate each gets ROUNDS steps, in the
# order K H H K (the next rate H K K H), so that the machine's drift during the run falls
# on both alike. A server's best is the highest rate at which at least one of its steps
# passed; it stops climbing after STOP_AFTER rates in a row with none. Each rate's tally
# (passes/steps, best achieved rate, CPU per pair of every step) goes to the ladder logs.
run_interleaved() {
    local rounds=${ROUNDS:-2} i=0 j rate s order
    local -A climbing=([kamailio]=1 [hotdesk]=1) fails=([kamailio]=0 [hotdesk]=0)
    local -A best=([kamailio]=0 [hotdesk]=0) ach=([kamailio]=0 [hotdesk]=0) note tally
    local -A passes steps top cpus
    kamailio_up || climbing[kamailio]=0
    hotdesk_up || climbing[hotdesk]=0
    log "interleaved: kamailio $(kamailio_version) and hotdesk, workers=$WORKERS, $rounds rounds, ladder: $LADDER"
    for rate in $LADDER; do
        [ "${climbing[kamailio]}${climbing[hotdesk]}" = 00 ] && break
        order=()
        for j in $(seq 0 $((rounds - 1))); do
            if [ $(((i + j) % 2)) = 0 ]; then order+=(kamailio hotdesk); else order+=(hotdesk kamailio); fi
        done
        for s in kamailio hotdesk; do passes[$s]=0 steps[$s]=0 top[$s]=0 cpus[$s]=""; done
        for s in "${order[@]}"; do
            [ "${climbing[$s]}" = 1 ] || continue
            use_server "$s"
            register_step "$rate"
            steps[$s]=$((steps[$s] + 1))
            cpus[$s]="${cpus[$s]:+${cpus[$s]},}$(grep -o 'cpu_us_per_call=[0-9.]*' <<<"$STEP_NOTE" | cut -d= -f2)"
            if [ "$STEP_OK" = 1 ]; then
                log "  $s $rate/s: ok, achieved $STEP_ACHIEVED/s, $STEP_NOTE"
                passes[$s]=$((passes[$s] + 1))
                if [ "$STEP_ACHIEVED" -gt "${top[$s]}" ]; then
                    top[$s]=$STEP_ACHIEVED
                    note[$s]=$STEP_NOTE
                fi
            else
                log "  $s $rate/s: FAIL, achieved $STEP_ACHIEVED/s, $STEP_NOTE"
                "$RESTART_FN" || log "  $s restart failed"
                use_server "$s"
            fi
            settle
        done
        for s in kamailio hotdesk; do
            [ "${steps[$s]}" -gt 0 ] || continue
            tally[$s]="${tally[$s]:-} $rate:${passes[$s]}/${steps[$s]}(${top[$s]}/s;${cpus[$s]}us)"
            if [ "${passes[$s]}" -gt 0 ]; then
                best[$s]=$rate ach[$s]=${top[$s]} fails[$s]=0
            else
                fails[$s]=$((fails[$s] + 1))
                [ "${fails[$s]}" -ge "${STOP_AFTER:-2}" ] && climbing[$s]=0
            fi
        done
        i=$((i + 1))
    done
    for s in kamailio hotdesk; do
        BEST_RATE=${best[$s]} BEST_ACHIEVED=${ach[$s]} BEST_NOTE=${note[$s]:-} LADDER_LOG=${tally[$s]:-}
        case $s in
            kamailio) [ -n "$K_LINE" ] || { kamailio_line; K_ACH=$BEST_ACHIEVED K_LADDER=$LADDER_LOG; } ;;
            hotdesk) [ -n "$H_LINE" ] || { hotdesk_line; H_ACH=$BEST_ACHIEVED H_LADDER=$LADDER_LOG; } ;;
        esac
    done
    [ -z "$KAMAILIO_PID" ] || stop_pid "$KAMAILIO_PID"
    hotdesk_stop
}

K_LADDER="" H_LADDER="" K_TARGET="" H_TARGET="" KAMAILIO_PID="" HOTDESK_PID=""
if [ "${INTERLEAVE:-0}" = 1 ] && [ -z "$ONLY" ]; then
    run_interleaved
else
    [ "$ONLY" = hotdesk ] || run_kamailio
    [ "$ONLY" = kamailio ] || run_hotdesk
fi

RATIO_LINE="ratio hotdesk/kamailio: n/a"
if [ "$K_ACH" -gt 0 ] && [ "$H_ACH" -gt 0 ]; then
    RATIO_LINE="ratio hotdesk/kamailio: $(awk -v h="$H_ACH" -v k="$K_ACH" 'BEGIN { printf "%.2f", h / k }')"
fi

echo
[ -n "$K_LINE" ] && echo "$K_LINE"
[ -n "$H_LINE" ] && echo "$H_LINE"
echo "$RATIO_LINE"

append_result register.txt \
    "## $(date -u +%Y-%m-%dT%H:%M:%SZ) register.sh $(machine_note)" \
    "command: WORKERS=$WORKERS USERS=$USERS DURATION=$DURATION SIPP_CLIENTS=$SIPP_CLIENTS LADDER=\"$LADDER\"${ONLY:+ ONLY=$ONLY}$([ "${INTERLEAVE:-0}" = 1 ] && echo " INTERLEAVE=1 ROUNDS=${ROUNDS:-2}") bench/register.sh" \
    ${K_LINE:+"$K_LINE"} ${K_LADDER:+"  kamailio ladder:$K_LADDER"} \
    ${H_LINE:+"$H_LINE"} ${H_LADDER:+"  hotdesk ladder:$H_LADDER"} \
    "$RATIO_LINE" ""
