#!/usr/bin/env bash
# Proves the e2e SIPp scenarios (crates/server/tests/e2e/sipp/*.xml) against a known-good
# peer, so that a failing e2e test points at hotdesk, not at the scenario. Kamailio 5.6
# plays a small PBX (REGISTER and INVITE challenged with 401 as hotdesk does, SUBSCRIBE
# with 407, routing to registered contacts, in-dialog requests relayed end to end so that
# the PRACK / re-INVITE / UPDATE / session-timer pairs of tests/e2e/dialogs.rs meet); a SIPp
# notifier plays the MWI server. Also runs negative cases: each check must fail when the
# server does the wrong thing.
#
#   bench/check-scenarios.sh          # prints one PASS/FAIL line per check; exit 1 on any FAIL
#   KEEP=1 bench/check-scenarios.sh   # keep the temp dir (SIPp message traces: *.msg)
set -uo pipefail

. "$(dirname "$0")/lib/common.sh"
. "$BENCH_DIR/lib/kamailio.sh"

case "${1:-}" in -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;; esac

E2E="$ROOT/crates/server/tests/e2e/sipp"
CHECK="$BENCH_DIR/sipp/check"
DOMAIN=check.test
SCHED=none PRIO=() PRIO_UAS=() PRIO_SERVER=()

ensure_tools
make_workdir
gen_users 10 100000
kamailio_users_db "$WORK/kamdb" "$DOMAIN"
KPORT=$(free_port)
kamailio_pbx_cfg "$KPORT" 1 "$DOMAIN" "$WORK/kamdb" >"$WORK/kamailio-pbx.cfg"
kamailio_start "$WORK/kamailio-pbx.cfg" "$KPORT" || die "kamailio did not start (KEEP=1 shows $WORK)"

# csv EXT [PASSWORD]: a one-row injection file.
csv() {
    local f="$WORK/u$1${2:+-bad}.csv"
    printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s]\n' "$1" "$1" "${2:-pw$1}" >"$f"
    echo "$f"
}

# sipp_to NAME SCENARIO LOCAL_PORT ARGS...: one SIPp run against Kamailio; returns its code.
sipp_to() {
    local name=$1 sf=$2 port=$3
    shift 3
    timeout -s KILL 40 sipp "127.0.0.1:$KPORT" -sf "$sf" -key domain "$DOMAIN" -auth_uri "$DOMAIN" \
        -i 127.0.0.1 -p "$port" -m 1 -timeout 20s -timeout_error -nostdin \
        -trace_msg -message_file "$WORK/$name.msg" -trace_logs -log_file "$WORK/$name.log" \
        "$@" >"$WORK/$name.out" 2>&1
}

FAILS=0
# expect NAME WANT(pass|fail) RC
expect() {
    local got=pass
    [ "$3" = 0 ] || got=fail
    if [ "$got" = "$2" ]; then
        printf 'PASS  %-46s (scenario %s as expected)\n' "$1" "$got"
    else
        printf 'FAIL  %-46s (scenario should %s, rc=%s; KEEP=1 to see %s.msg)\n' "$1" "$2" "$3" "$1"
        FAILS=$((FAILS + 1))
    fi
}

P1=$(free_port) P2=$(free_port) P3=$(free_port) P4=$(free_port) P5=$(free_port)

# --- registration ------------------------------------------------------------------------
sipp_to register_auth "$E2E/register_auth.xml" "$P1" -inf "$(csv 100000)"
expect register_auth pass $?
sipp_to register_wrong_password "$E2E/register_wrong_password.xml" "$P2" -inf "$(csv 100001 nope)"
expect register_wrong_password pass $?
sipp_to wrong_password_but_right "$E2E/register_wrong_password.xml" "$P2" -inf "$(csv 100001)"
expect "register_wrong_password (right password)" fail $?
sipp_to options "$E2E/options.xml" "$P2" -inf "$(csv 100001)"
expect options pass $?
sipp_to unregister "$E2E/unregister.xml" "$P1" -inf "$(csv 100000)"
expect unregister pass $?
# two bindings, one removed: a binding is left, so the check must trip
sipp_to reg_a "$E2E/register_auth.xml" "$P3" -inf "$(csv 100002)"
sipp_to reg_b "$E2E/register_auth.xml" "$P4" -inf "$(csv 100002)"
sipp_to unregister_one_of_two "$E2E/unregister.xml" "$P3" -inf "$(csv 100002)"
expect "unregister (other binding left)" fail $?
sipp_to register_star "$E2E/register_star.xml" "$P5" -inf "$(csv 100002)"
expect register_star pass $?

# --- calls ---------------------------------------------------------------------------------
# a phone registers and answers; a caller places a call to it
sipp "127.0.0.1:$KPORT" -sf "$E2E/uas_register_then_answer.xml" -oocsf "$E2E/uas_answer.xml" \
    -inf "$(csv 100009)" -key domain "$DOMAIN" -auth_uri "$DOMAIN" -i 127.0.0.1 -p "$P1" \
    -m 1 -d 4000 -timeout 20s -timeout_error -nostdin \
    -trace_msg -message_file "$WORK/uas_register_then_answer.msg" >"$WORK/uas1.out" 2>&1 &
UAS=$!
STARTED_PIDS+=("$UAS")
sleep 1.5
sipp_to uac_invite "$E2E/uac_invite.xml" "$P2" -inf "$(csv 100000)" -s 100009 -d 500
expect uac_invite pass $?
sipp_to uac_invite_refused_answered "$E2E/uac_invite_refused.xml" "$P3" -inf "$(csv 100000)" -s 100009
expect "uac_invite_refused (call answered)" fail $?
wait "$UAS"
expect "uas_register_then_answer + uas_answer" pass $?
grep -q '^SIP/2.0 200 OK' "$WORK/uas_register_then_answer.msg" 2>/dev/null \
    && grep -q '^BYE ' "$WORK/uas_register_then_answer.msg"
expect "uas_answer answered and got BYE" pass $?

sipp_to uac_invite_refused "$E2E/uac_invite_refused.xml" "$P4" -inf "$(csv 100000)" -s 199999
expect "uac_invite_refused (404 unknown)" pass $?

# a phone that only rings; the caller cancels
sipp "127.0.0.1:$KPORT" -sf "$E2E/uas_register_then_answer.xml" -oocsf "$E2E/uas_ring_only.xml" \
    -inf "$(csv 100008)" -key domain "$DOMAIN" -auth_uri "$DOMAIN" -i 127.0.0.1 -p "$P5" \
    -m 1 -d 4000 -timeout 20s -timeout_error -nostdin \
    -trace_msg -message_file "$WORK/uas_ring_only.msg" >"$WORK/uas2.out" 2>&1 &
UAS=$!
STARTED_PIDS+=("$UAS")
sleep 1.5
sipp_to uac_cancel "$CHECK/uac_cancel.xml" "$P2" -inf "$(csv 100000)" -s 100008
expect "uac_cancel -> uas_ring_only" pass $?
wait "$UAS"
grep -q '^SIP/2.0 487' "$WORK/uas_ring_only.msg" 2>/dev/null
expect "uas_ring_only sent 487" pass $?

# --- dialogs: PRACK, re-INVITE, early UPDATE, session timers (tests/e2e/dialogs.rs) --------
# Kamailio relays these end to end (loose_route on the Record-Route), so each caller
# scenario meets its callee scenario directly: a check that the pair fits.
# phone_call NAME EXT UAS_OOCSF UAC [UAC ARGS...]: registers EXT answering with UAS_OOCSF,
# calls it with UAC from 100000; prints the caller's result, then the phone's.
phone_call() {
    local name=$1 ext=$2 oocsf=$3 uac=$4 port uas
    shift 4
    port=$(free_port)
    sipp "127.0.0.1:$KPORT" -sf "$E2E/uas_register_then_answer.xml" -oocsf "$E2E/$oocsf" \
        -inf "$(csv "$ext")" -key domain "$DOMAIN" -auth_uri "$DOMAIN" -i 127.0.0.1 -p "$port" \
        -m 1 -d 7000 -timeout 30s -timeout_error -nostdin \
        -trace_msg -message_file "$WORK/$name-phone.msg" >"$WORK/$name-phone.out" 2>&1 &
    uas=$!
    STARTED_PIDS+=("$uas")
    sleep 1.5
    sipp_to "$name" "$E2E/$uac" "$(free_port)" -inf "$(csv 100000)" -s "$ext" "$@"
    PHONE_CALL_RC=$?
    wait "$uas"
    PHONE_RC=$?
}

phone_call uac_100rel 100007 uas_100rel.xml uac_100rel.xml -d 500
expect "uac_100rel -> uas_100rel" pass $PHONE_CALL_RC
expect "uas_100rel (phone side)" pass $PHONE_RC
phone_call uac_reinvite 100006 uas_reinvite.xml uac_reinvite.xml -d 500
expect "uac_reinvite -> uas_reinvite" pass $PHONE_CALL_RC
expect "uas_reinvite (phone side)" pass $PHONE_RC
phone_call uac_early_update 100005 uas_early_update.xml uac_early_update.xml -d 500
expect "uac_early_update -> uas_early_update" pass $PHONE_CALL_RC
expect "uas_early_update (phone side)" pass $PHONE_RC
# the callee's 422 with Min-SE is relayed to the caller (RFC 4028 §8.1)
phone_call uac_session_too_small 100004 uas_interval_too_small.xml uac_session_too_small.xml \
    -key se 60
expect "uac_session_too_small <- uas_interval_too_small" pass $PHONE_CALL_RC
# negative: the callee answers, so the caller gets no 422
phone_call too_small_answered 100004 uas_session_timer.xml uac_session_too_small.xml -key se 60
expect "uac_session_too_small (call answered)" fail $PHONE_CALL_RC
# negative: a proxy never ends a lapsed session, so the caller waits for a BYE in vain
phone_call uac_session_timer 100003 uas_session_timer.xml uac_session_timer.xml -key se 2
expect "uac_session_timer (no BYE on expiry)" fail $PHONE_CALL_RC
# busy phone: refused with 486 (HD-ROUTE-1 / -7 fall-through)
phone_call uac_busy 100002 uas_busy.xml uac_invite_refused.xml
expect "uac_invite_refused <- uas_busy (486)" pass $PHONE_CALL_RC
phone_call uac_invite_busy 100002 uas_busy.xml uac_invite.xml -d 500
expect "uac_invite (phone busy)" fail $PHONE_CALL_RC

# --- message waiting (SIPp notifier in place of the server) --------------------------------
NPORT=$(free_port)
sipp -sf "$CHECK/mwi_notifier.xml" -i 127.0.0.1 -p "$NPORT" -m 1 -timeout 20s -nostdin \
    >"$WORK/notifier.out" 2>&1 &
NOTIFIER=$!
STARTED_PIDS+=("$NOTIFIER")
wait_udp_listen "$NPORT"
timeout -s KILL 40 sipp "127.0.0.1:$NPORT" -sf "$E2E/subscribe_mwi.xml" -inf "$(csv 100003)" \
    -key domain "$DOMAIN" -auth_uri "$DOMAIN" -i 127.0.0.1 -p "$P3" -m 1 -d 300 -aa \
    -timeout 20s -timeout_error -nostdin -trace_msg -message_file "$WORK/subscribe_mwi.msg" \
    -trace_logs -log_file "$WORK/subscribe_mwi.log" >"$WORK/subscribe_mwi.out" 2>&1
expect subscribe_mwi pass $?
grep -q 'waiting=yes voice=2/5' "$WORK/subscribe_mwi.log" 2>/dev/null
expect "subscribe_mwi logged waiting=yes voice=2/5" pass $?
wait "$NOTIFIER"
expect "mwi_notifier (helper) completed" pass $?

echo
if [ "$FAILS" -eq 0 ]; then
    echo "all scenario checks passed"
else
    echo "$FAILS scenario check(s) wrong"
    exit 1
fi
