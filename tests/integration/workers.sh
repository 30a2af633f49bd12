#!/bin/bash
# SPDX-License-Identifier: MIT
# ubridge --workers 3: three data-path threads, ports dealt to the one with
# the fewest, frames crossing between ports of different workers, a port of
# worker 2 detached and attached again while traffic between other
# workers' ports goes on undisturbed, a clean stop of every thread, polling
# workers sharing one CPU (warned about, still forwarding), and bad counts
# refused. (The data-path tests also run whole with --workers 3:
# the .workers variants.)
UBT_ID=wk
. "$(dirname "$0")/lib.sh"

# worker_of NAME: the worker column of NAME's port.
worker_of() { ubctl -j port show | jq -r --arg p "${HOSTIF[$1]}" '.[] | select(.name == $p) | .worker | tostring'; }

start_bridge "$P" --workers 3
pid=${UBT_BRPID[$BR]}
make_ns a 10.84.0.1/24
make_ns b 10.84.0.2/24
make_ns c 10.84.0.3/24
make_ns d 10.84.0.4/24

step "three threads, ports spread over them"
# (A sanitizer may add a thread of its own, named like the main one.)
names=$(grep -h '^ubridge-w' /proc/"$pid"/task/*/comm | sort | tr '\n' ' ')
info "worker threads besides the main one: $names"
expect_eq "worker threads" "ubridge-w1 ubridge-w2 " "$names"
expect_eq "worker of a" 0 "$(worker_of a)"
expect_eq "worker of b" 1 "$(worker_of b)"
expect_eq "worker of c" 2 "$(worker_of c)"
expect_eq "worker of d" 0 "$(worker_of d)"

step "every pair talks, across workers and within one"
for from in a b c d; do
	for to in a b c d; do
		[[ $from == "$to" ]] || ping_ok "$from" "$to" 1
	done
done
for n in a b c d; do
	tx=$(port_stat "${HOSTIF[$n]}" tx_packets)
	((tx >= 6)) || fail "port of $n sent $tx frames, expected 6 or more"
done

step "detach and attach worker 2's port while a and b (workers 0, 1) talk"
bg_ns a ping -q -i 0.01 -c 300 -W 1 "${IP[b]}"
flood=$UBT_LASTPID
sleep 0.5
ubctl port del "${HOSTIF[c]}" || fail "port del ${HOSTIF[c]} failed"
sleep 0.3
ubctl port add "${HOSTIF[c]}" || fail "port add ${HOSTIF[c]} failed"
expect_eq "worker of c, attached again" 2 "$(worker_of c)"
wait "$flood" || fail "ping a -> b lost replies while c's port came and went"
ping_ok c a 1
ping_ok b c 1
bridge_alive

step "SIGTERM stops every thread"
stop_bridge "$P" || fail "ubridge --workers 3 did not stop cleanly"

step "polling workers on fewer CPUs than workers: warned about, and forwarding"
UBT_DAEMON_WRAPPER=(taskset -c 0)
start_bridge "${P}y" --busy-poll --workers 2
UBT_DAEMON_WRAPPER=()
matches "2 polling workers on 1 CPU" "$UBT_TMP/${P}y.log" ||
	fail "no warning about 2 polling workers on 1 CPU: $(cat "$UBT_TMP/${P}y.log")"
ubctl port add "${HOSTIF[a]}" || fail "port add ${HOSTIF[a]} to ${P}y failed"
ubctl port add "${HOSTIF[b]}" || fail "port add ${HOSTIF[b]} to ${P}y failed"
ping_ok a b 5
stop_bridge "${P}y" || fail "ubridge -n ${P}y did not stop cleanly"

step "bad worker counts are refused"
for bad in 0 17 abc; do
	rc=0
	out=$("$UBRIDGE" -f -n "${P}x" --no-state --workers "$bad" 2>&1) || rc=$?
	expect_eq "exit status for --workers $bad" 2 "$rc"
	info "$out"
done
test_done
