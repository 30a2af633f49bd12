#!/bin/bash
# SPDX-License-Identifier: MIT
# Two bridges side by side stay apart; a second daemon with a name already
# in use fails cleanly; SIGTERM and SIGINT stop a daemon with exit 0 and
# remove its socket.
UBT_ID=lc
. "$(dirname "$0")/lib.sh"

A=${P}a
B=${P}b
start_bridge "$A"
make_ns a1 172.16.11.1/16
make_ns a2 172.16.11.2/16
start_bridge "$B"
make_ns b1 172.16.11.3/16
make_ns b2 172.16.11.4/16

step "each pair pings, across the bridges nothing does"
ping_ok a1 a2
ping_ok b1 b2
! ping_addr "$P"a1 "${IP[b1]}" 1 2>/dev/null || fail "a1 reached b1 across two bridges"

step "each bridge lists only its own ports"
ports() { "$UBCTL" -n "$1" -j port show | jq -r '[.[].name] | sort | join(" ")'; }
expect_eq "ports of $A" "$(printf '%s\n' "${HOSTIF[a1]}" "${HOSTIF[a2]}" | sort | xargs)" "$(ports "$A")"
expect_eq "ports of $B" "$(printf '%s\n' "${HOSTIF[b1]}" "${HOSTIF[b2]}" | sort | xargs)" "$(ports "$B")"

step "a second ubridge -n $A fails with a message and non-zero exit"
rc=0
timeout 5 "$UBRIDGE" -f -n "$A" 2>"$UBT_TMP/dup.err" >/dev/null || rc=$?
((rc != 0 && rc != 124)) || fail "second daemon: expected it to exit non-zero by itself, got $rc"
[[ -s $UBT_TMP/dup.err ]] || fail "second daemon exited $rc without a message"
info "exit $rc: $(head -n 3 "$UBT_TMP/dup.err")"
[[ -S $(sock_path "$A") ]] || fail "the first daemon's socket vanished"
bridge_alive "$A"
ports "$A" >/dev/null || fail "the first daemon no longer answers"
ping_ok a1 a2

step "SIGTERM stops $B: exit 0, socket removed"
rc=0
stop_bridge "$B" || rc=$?
expect_eq "exit status of ubridge -n $B after SIGTERM" 0 "$rc"
[[ ! -e $(sock_path "$B") ]] || fail "$(sock_path "$B") left behind"
BR=$A
ping_ok a1 a2

step "SIGINT stops $A: exit 0, socket removed"
pid=${UBT_BRPID[$A]}
unset "UBT_BRPID[$A]"
kill -INT "$pid"
poll_until 5 pid_gone "$pid" || { kill -KILL "$pid"; fail "ubridge ignored SIGINT for 5 s"; }
rc=0
wait "$pid" || rc=$?
expect_eq "exit status of ubridge -n $A after SIGINT" 0 "$rc"
[[ ! -e $(sock_path "$A") ]] || fail "$(sock_path "$A") left behind"

test_done
