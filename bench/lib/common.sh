# shellcheck shell=bash
# Shared helpers for bench/register.sh and bench/calls.sh: tool checks, temp dir and
# process bookkeeping, free ports, SIPp statistics, the rate ladder and memory sampling.
# Sourced, never run. Everything listens on 127.0.0.1 only.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
RESULTS_DIR="$BENCH_DIR/results"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Installs the SIP peers on a fresh machine (Debian packages) when running as root.
ensure_tools() {
    local missing=()
    command -v sipp >/dev/null || missing+=(sip-tester)
    command -v kamailio >/dev/null || missing+=(kamailio)
    command -v sipsak >/dev/null || missing+=(sipsak)
    command -v curl >/dev/null || missing+=(curl)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        log "installing ${missing[*]}"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
    else
        die "missing ${missing[*]}: run as root or: apt-get install -y ${missing[*]}"
    fi
}

# "${PRIO[@]}" CMD...: runs SIPp load generators with the scheduling SCHED picks, so that
# the compilers other people run on the same 2 cores disturb the figures less; servers get
# "${PRIO_SERVER[@]}", the SIPp UAS (the called phone) "${PRIO_UAS[@]}":
#   rt    (default as root) SCHED_RR (chrt): server 30 > UAS 20 > UAC 10. They preempt the
#         compilers at once; the kernel's RT throttling still leaves others 5 % of each core.
#         On this machine, load 12, it turned a noisy 700-800 calls/s into a clean 3,500.
#         The ranks matter: at one priority a busy SIPp held a core for a whole 100 ms
#         round-robin slice while the server's packets queued up.
#   nice  nice -n $NICE (default -10) for all: helps, but wake-up delays still cause storms.
#   none  (default otherwise) as is.
# Arrays, not functions, so that "${PRIO[@]}" cmd & leaves $! = the command's own pid.
if [ -z "${SCHED:-}" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v chrt >/dev/null; then SCHED=rt; else SCHED=none; fi
fi
case "$SCHED" in
    rt) PRIO=(chrt -r 10) PRIO_UAS=(chrt -r 20) PRIO_SERVER=(chrt -r 30) ;;
    nice) PRIO=(nice -n "${NICE:--10}") PRIO_UAS=("${PRIO[@]}") PRIO_SERVER=("${PRIO[@]}") ;;
    none) PRIO=() PRIO_UAS=() PRIO_SERVER=() ;;
    *) die "SCHED must be rt, nice or none" ;;
esac

# --- temp dir and the processes we started (only those are ever killed) ---------------

WORK=""
STARTED_PIDS=()

make_workdir() {
    WORK="$(mktemp -d /tmp/hotdesk-bench.XXXXXX)"
    trap cleanup EXIT
    trap 'exit 130' INT TERM
}

cleanup() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    sleep 0.3
    for pid in "${STARTED_PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null
    done
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        if [ "${KEEP:-0}" = 1 ]; then
            log "kept work dir $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
}

# Stops one process we started and forgets it.
stop_pid() {
    local pid=$1 i
    kill "$pid" 2>/dev/null
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    local keep=() p
    for p in "${STARTED_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    STARTED_PIDS=("${keep[@]}")
}

# --- ports ---------------------------------------------------------------------------

# Prints a port free for both UDP and TCP on 127.0.0.1 and not handed out before.
USED_PORTS=" "
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 30000))
        case "$USED_PORTS" in *" $p "*) continue ;; esac
        if [ -z "$(ss -Hlun "sport = :$p" 2>/dev/null)" ] && [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
            USED_PORTS="$USED_PORTS$p "
            echo "$p"
            return
        fi
    done
}

wait_udp_listen() {
    local port=$1 i
    for i in $(seq 1 100); do
        [ -n "$(ss -Hlun "sport = :$port" 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    return 1
}

# sip_ping HOST:PORT: one OPTIONS answered with 200 (retransmitted, 5 s at most).
sip_ping() {
    "${PRIO[@]}" timeout -s KILL 10 sipp "$1" -sf "$BENCH_DIR/sipp/options_ping.xml" -i 127.0.0.1 \
        -p "$(free_port)" -m 1 -timeout 5s -timeout_error -nostdin >/dev/null 2>&1
}

# --- users ---------------------------------------------------------------------------

# gen_users N FIRST_EXT: writes $WORK/users.csv (SIPp injection file) and $WORK/import.csv
# (hotdesk users:import body). Password of extension E is pwE.
gen_users() {
    local n=$1 first=$2
    awk -v n="$n" -v f="$first" 'BEGIN {
        print "SEQUENTIAL" > "'"$WORK"'/users.csv"
        print "extension,first_name,last_name,did,pin,sip_password" > "'"$WORK"'/import.csv"
        for (i = 0; i < n; i++) {
            e = f + i
            printf "%d;[authentication username=%d password=pw%d]\n", e, e, e > "'"$WORK"'/users.csv"
            printf "%d,Bench,User%d,,,pw%d\n", e, e, e > "'"$WORK"'/import.csv"
        }
    }'
}

# --- SIPp statistics -----------------------------------------------------------------

# stat_field FILE NAME: value of column NAME on the last line of a SIPp -trace_stat file.
# Time columns hold "date<TAB>time<TAB>epoch"; for them the epoch is printed.
stat_field() {
    awk -F';' -v name="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) col = i; next }
        { last = $0 }
        END {
            if (!col || last == "") { print ""; exit }
            split(last, f, ";"); v = f[col]
            n = split(v, t, "\t"); print (n == 3 ? t[3] : v)
        }' "$1" 2>/dev/null
}

# sipp_summary FILE HOLD_SECONDS: sets S_OK S_FAILED S_RETRANS S_ELAPSED S_ACHIEVED.
# The achieved rate leaves out the time calls spend held (the scenario pause), so a run
# that kept up with its target rate shows the target rate.
sipp_summary() {
    local f=$1 hold=${2:-0} start now
    S_OK=$(stat_field "$f" 'SuccessfulCall(C)')
    S_FAILED=$(stat_field "$f" 'FailedCall(C)')
    S_RETRANS=$(stat_field "$f" 'Retransmissions(C)')
    start=$(stat_field "$f" 'StartTime')
    now=$(stat_field "$f" 'CurrentTime')
    S_OK=${S_OK:-0} S_FAILED=${S_FAILED:-0} S_RETRANS=${S_RETRANS:-0}
    if [ -n "$start" ] && [ -n "$now" ]; then
        S_ELAPSED=$(awk -v a="$start" -v b="$now" 'BEGIN { printf "%.3f", b - a }')
        S_ACHIEVED=$(awk -v ok="$S_OK" -v e="$S_ELAPSED" -v h="$hold" \
            'BEGIN { d = e - h; if (d < 0.001) d = 0.001; printf "%d", ok / d }')
    else
        S_ELAPSED=0 S_ACHIEVED=0
    fi
}

# sipp_summary_many HOLD_SECONDS FILE...: sipp_summary over several SIPp clients run side
# by side: counts summed, elapsed = the longest, achieved = all successes / that time.
sipp_summary_many() {
    local hold=$1 f ok=0 failed=0 retrans=0 elapsed=0
    shift
    for f in "$@"; do
        sipp_summary "$f" "$hold"
        ok=$((ok + S_OK)) failed=$((failed + S_FAILED)) retrans=$((retrans + S_RETRANS))
        elapsed=$(awk -v a="$elapsed" -v b="$S_ELAPSED" 'BEGIN { print (b > a ? b : a) }')
    done
    S_OK=$ok S_FAILED=$failed S_RETRANS=$retrans S_ELAPSED=$elapsed
    S_ACHIEVED=$(awk -v ok="$ok" -v e="$elapsed" -v h="$hold" \
        'BEGIN { d = e - h; if (d < 0.001) d = 0.001; printf "%d", ok / d }')
}

# --- rate ladder ---------------------------------------------------------------------

# ladder STEP_FN RATE...: runs STEP_FN RATE for each rate (ascending). STEP_FN sets
# STEP_OK (1/0), STEP_ACHIEVED and STEP_NOTE. A failed step is retried RETRIES times
# (default 1: the machine is noisy); the ascent stops after STOP_AFTER rates in a row
# failed (default 2, so one unlucky moment does not end it), then the gap between the best
# pass and the first failure above it is bisected REFINE times (default 2).
# Sets BEST_RATE (0 if nothing passed), BEST_ACHIEVED, BEST_NOTE and LADDER_LOG.
ladder() {
    local fn=$1
    shift
    BEST_RATE=0 BEST_ACHIEVED=0 BEST_NOTE="" LADDER_LOG=""
    local fail_rate=0 fails=0 rate
    for rate in "$@"; do
        if ladder_try "$fn" "$rate"; then
            BEST_RATE=$rate BEST_ACHIEVED=$STEP_ACHIEVED BEST_NOTE=$STEP_NOTE
            fail_rate=0 fails=0
        else
            [ "$fail_rate" -eq 0 ] && fail_rate=$rate
            fails=$((fails + 1))
            [ "$fails" -ge "${STOP_AFTER:-2}" ] && break
        fi
    done
    local i mid
    for i in $(seq 1 "${REFINE:-2}"); do
        [ "$fail_rate" -gt 0 ] && [ "$BEST_RATE" -gt 0 ] || break
        mid=$(( (BEST_RATE + fail_rate) / 2 / 100 * 100 ))
        [ "$mid" -gt "$BEST_RATE" ] && [ "$mid" -lt "$fail_rate" ] || break
        if ladder_try "$fn" "$mid"; then
            BEST_RATE=$mid BEST_ACHIEVED=$STEP_ACHIEVED BEST_NOTE=$STEP_NOTE
        else
            fail_rate=$mid
        fi
    done
}

ladder_try() {
    local fn=$1 rate=$2 attempt
    for attempt in $(seq 0 "${RETRIES:-1}"); do
        "$fn" "$rate"
        if [ "$STEP_OK" = 1 ]; then
            LADDER_LOG="$LADDER_LOG $rate:ok($STEP_ACHIEVED/s)"
            log "  $rate/s: ok, achieved $STEP_ACHIEVED/s, $STEP_NOTE"
            settle
            return 0
        fi
        LADDER_LOG="$LADDER_LOG $rate:FAIL"
        log "  $rate/s: FAIL, achieved $STEP_ACHIEVED/s, $STEP_NOTE"
        # An overloaded server can stay in a retransmission storm for minutes (Kamailio's
        # INVITE transactions wait 120 s for a final answer): start the next step afresh.
        if [ -n "${RESTART_FN:-}" ]; then
            "$RESTART_FN" || log "  server restart failed"
        fi
        settle
    done
    return 1
}

# settle: COOLDOWN seconds (default 3), then until the server is idle (under 5 % of a core
# over a second, 60 s at most): after an overloaded step Kamailio's transaction timers keep
# retransmitting for up to 30 s, and the next step must not start in that storm.
settle() {
    sleep "${COOLDOWN:-3}"
    local i a b hz
    hz=$(getconf CLK_TCK)
    for i in $(seq 1 60); do
        a=$(cpu_ticks "$SERVER_PID")
        sleep 1
        b=$(cpu_ticks "$SERVER_PID")
        [ $(((b - a) * 100)) -lt $((hz * 5)) ] && return 0
    done
    log "  server still busy after 60 s"
}

# step_verdict TARGET_RATE EXPECTED_CALLS RC [EXTRA_NOTE]: pass = SIPp exit 0, all calls
# succeeded, none failed, the achieved rate within 5 % of the target (else SIPp or the
# server lagged), and retransmissions at most RETRANS_MAX_PCT % of the calls (default 1):
# SIPp retransmits after 500 ms without an answer, so many of them mean answers that late,
# which is no pass even if every call got through in the end.
step_verdict() {
    local rate=$1 expected=$2 rc=$3
    STEP_ACHIEVED=$S_ACHIEVED
    STEP_NOTE="ok=$S_OK failed=$S_FAILED retrans=$S_RETRANS elapsed=${S_ELAPSED}s sipp_rc=$rc${4:+ $4}"
    if [ "$rc" = 0 ] && [ "$S_FAILED" = 0 ] && [ "$S_OK" -ge "$expected" ] \
        && [ "$S_ACHIEVED" -ge $((rate * 95 / 100)) ] \
        && [ $((S_RETRANS * 100)) -le $((expected * ${RETRANS_MAX_PCT:-1})) ]; then
        STEP_OK=1
    else
        STEP_OK=0
    fi
}

# --- CPU and memory ------------------------------------------------------------------

# cpu_ticks PID: user+system clock ticks used so far by PID and its direct children
# (Kamailio forks its workers). Per-request CPU cost is steadier than a rate on a shared,
# noisy machine, so the scripts report both.
cpu_ticks() {
    local pid=$1 p sum=0 t
    for p in "$pid" $(ps -o pid= --ppid "$pid" 2>/dev/null); do
        t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null)
        sum=$((sum + ${t:-0}))
    done
    echo "$sum"
}

# cpu_note TICKS_BEFORE TICKS_AFTER CALLS ELAPSED: "server_cpu=NN% cpu_us_per_call=NN.N" (tenths: the steps of two builds differ by less than a microsecond).
cpu_note() {
    awk -v a="$1" -v b="$2" -v n="$3" -v e="$4" -v hz="$(getconf CLK_TCK)" 'BEGIN {
        s = (b - a) / hz
        printf "server_cpu=%d%% cpu_us_per_call=%.1f", (e > 0 ? 100 * s / e : 0), (n > 0 ? 1e6 * s / n : 0)
    }'
}

# children_cpu: sets CHILD_CPU to the CPU seconds (user+sys) of this shell's waited-for
# children so far (SIPp runs as one). Must run in the main shell, not in $(...).
children_cpu() {
    times >"$WORK/.times"
    CHILD_CPU=$(awk 'NR == 2 {
        t = 0
        for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
        printf "%.2f", t
    }' "$WORK/.times")
}

# sipp_cpu_note CPU_BEFORE CPU_AFTER ELAPSED: "sipp_cpu=NN%" (100% = one core busy; near
# 100% means SIPp itself, not the server, limits the rate).
sipp_cpu_note() {
    awk -v a="$1" -v b="$2" -v e="$3" 'BEGIN { printf "sipp_cpu=%d%%", (e > 0 ? 100 * (b - a) / e : 0) }'
}

# mem_tree PID: "rss_kb pss_kb" summed over PID and its direct children (Kamailio forks
# its workers; RSS counts its shared memory once per process, PSS splits it fairly).
mem_tree() {
    local pid=$1 p rss=0 pss=0 r s
    for p in "$pid" $(ps -o pid= --ppid "$pid" 2>/dev/null); do
        r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
        s=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
        rss=$((rss + ${r:-0}))
        pss=$((pss + ${s:-0}))
    done
    echo "$rss $pss"
}

# server_errors: lines with ERROR in the server's log ($SERVER_LOG) so far; a step's note
# shows how many it added (Kamailio logs e.g. "out of mem" there before replying 500).
server_errors() {
    local n
    n=$(grep -c 'ERROR' "${SERVER_LOG:-/dev/null}" 2>/dev/null)
    echo "${n:-0}"
}

# best_phrase UNIT: "best N UNIT/s (achieved …; note)" or why there is none.
best_phrase() {
    if [ "$BEST_RATE" -gt 0 ]; then
        echo "best ${BEST_RATE} $1/s (achieved ${BEST_ACHIEVED}/s; $BEST_NOTE)"
    else
        echo "no ladder step passed (ladder:$LADDER_LOG)"
    fi
}

# --- results -------------------------------------------------------------------------

machine_note() {
    echo "host=$(hostname) cores=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,) sched=$SCHED" \
        "git=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)" \
        "sipp=$(sipp -v 2>&1 | grep -o 'v[0-9.]*' | head -1)"
}

# append_result FILE LINE...: appends to bench/results/FILE unless RECORD=0 (trial runs).
append_result() {
    local file=$1
    shift
    [ "${RECORD:-1}" = 0 ] && return 0
    mkdir -p "$RESULTS_DIR"
    printf '%s\n' "$@" >>"$RESULTS_DIR/$file"
}
