# shellcheck shell=bash
# hotdesk under benchmark: start the release binary on free ports with a fresh SQLite
# database, create the domain and import users through the REST API, stop it.
# Sourced after lib/common.sh. Each function prints nothing on success and sets
# HOTDESK_SKIP to a reason on failure (the caller prints "hotdesk: skipped (reason)").

HOTDESK_BIN="${HOTDESK_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/hotdesk}"
HOTDESK_TOKEN="bench-admin-token-$$-$RANDOM"

# hotdesk_start SIP_PORT HTTP_PORT WORKERS DOMAIN [keep]: sets HOTDESK_PID and HOTDESK_API;
# a fresh database unless "keep" (restart with the users already imported).
# The worker count is passed as TOKIO_WORKER_THREADS (the runtime's worker threads, which
# run the SIP tasks); HOTDESK_ARGS adds extra command-line arguments.
hotdesk_start() {
    local sip=$1 http=$2 workers=$3 domain=$4 keep=${5:-} i
    HOTDESK_SKIP=""
    HOTDESK_ARGV=("$sip" "$http" "$workers" "$domain")
    if [ ! -x "$HOTDESK_BIN" ]; then
        HOTDESK_SKIP="no binary at $HOTDESK_BIN; build with cargo build --release"
        return 1
    fi
    mkdir -p "$WORK/hotdesk"
    [ "$keep" = keep ] || rm -f "$WORK/hotdesk/h.db"*
    # shellcheck disable=SC2086
    HOTDESK_ADMIN_TOKEN="$HOTDESK_TOKEN" TOKIO_WORKER_THREADS="$workers" \
        RUST_LOG="${HOTDESK_LOG:-warn}" \
        "${PRIO_SERVER[@]}" "$HOTDESK_BIN" serve --sip "127.0.0.1:$sip" --http "127.0.0.1:$http" \
        --database "sqlite://$WORK/hotdesk/h.db" --domain "$domain" ${HOTDESK_ARGS:-} \
        >>"$WORK/hotdesk.log" 2>&1 &
    HOTDESK_PID=$!
    SERVER_PID=$HOTDESK_PID
    STARTED_PIDS+=("$HOTDESK_PID")
    HOTDESK_API="http://127.0.0.1:$http/api/v1"
    for i in $(seq 1 200); do
        if ! kill -0 "$HOTDESK_PID" 2>/dev/null; then
            wait "$HOTDESK_PID"
            HOTDESK_SKIP="exited at start with status $?: $(tail -3 "$WORK/hotdesk.log" | tr '\n' ' ')"
            return 1
        fi
        curl -fsS -o /dev/null "http://127.0.0.1:$http/healthz" 2>/dev/null && break
        sleep 0.1
    done
    if ! curl -fsS -o /dev/null "http://127.0.0.1:$http/healthz" 2>/dev/null; then
        HOTDESK_SKIP="no answer on /healthz after 20 s: $(tail -3 "$WORK/hotdesk.log" | tr '\n' ' ')"
        return 1
    fi
}

# hotdesk_sip_ready SIP_PORT: the HTTP line comes last at start-up, so the SIP socket is
# bound by now if this build has one.
hotdesk_sip_ready() {
    if [ -z "$(ss -Hlun "sport = :$1" 2>/dev/null)" ]; then
        HOTDESK_SKIP="SIP/UDP not listening on 127.0.0.1:$1 (this build serves HTTP only)"
        return 1
    fi
}

# hotdesk_restart: the ladder's RESTART_FN: same ports and database, empty memory.
hotdesk_restart() {
    log "  restarting hotdesk"
    hotdesk_stop
    hotdesk_start "${HOTDESK_ARGV[@]}" keep && hotdesk_sip_ready "${HOTDESK_ARGV[0]}" \
        && { [ -z "${HOTDESK_AFTER_RESTART:-}" ] || "$HOTDESK_AFTER_RESTART"; }
}

# hotdesk_build: which binary was measured (path and build time), for the results.
hotdesk_build() {
    echo "bin=$HOTDESK_BIN built=$(date -u -r "$HOTDESK_BIN" +%Y-%m-%dT%H:%MZ 2>/dev/null)"
}

hotdesk_stop() {
    [ -n "${HOTDESK_PID:-}" ] && stop_pid "$HOTDESK_PID"
    HOTDESK_PID=""
}

# api METHOD PATH CONTENT_TYPE BODY_FILE: prints the HTTP status; body in $WORK/api.out.
api() {
    curl -sS -o "$WORK/api.out" -w '%{http_code}' -X "$1" "$HOTDESK_API$2" \
        -H "Authorization: Bearer $HOTDESK_TOKEN" -H "Content-Type: $3" \
        --data-binary "@$4" --max-time "${IMPORT_TIMEOUT:-900}" 2>>"$WORK/api.err"
}

# hotdesk_import DOMAIN: creates the domain (201, or 409 if --domain made it) and imports
# $WORK/import.csv. Rows carry no PIN (argon2-hashing 10,000 PINs would dominate the run);
# if the server insists on one, it retries with PIN = extension.
hotdesk_import() {
    local domain=$1 code t0 t1
    printf '{"name":"%s"}' "$domain" >"$WORK/domain.json"
    code=$(api POST /domains application/json "$WORK/domain.json")
    case "$code" in
        200 | 201 | 409) ;;
        *)
            HOTDESK_SKIP="POST /domains -> $code $(head -c 200 "$WORK/api.out")"
            return 1
            ;;
    esac
    t0=$(date +%s.%N)
    code=$(api POST "/domains/$domain/users:import" text/csv "$WORK/import.csv")
    if [ "${code:0:1}" = 4 ]; then
        log "import without PINs -> $code $(head -c 200 "$WORK/api.out"); retrying with PINs"
        awk -F, -v OFS=, 'NR > 1 { $5 = $1 } { print }' "$WORK/import.csv" >"$WORK/import-pins.csv"
        code=$(api POST "/domains/$domain/users:import" text/csv "$WORK/import-pins.csv")
    fi
    t1=$(date +%s.%N)
    if [ "${code:0:1}" != 2 ]; then
        HOTDESK_SKIP="users:import -> ${code:-no answer} $(head -c 200 "$WORK/api.out")"
        return 1
    fi
    log "hotdesk: imported $(($(wc -l <"$WORK/import.csv") - 1)) users in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
}
