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
worker_of() { port_field "${HOSTIF[$1]}" worker; }

start_bridge "$P" --workers 3
pid=${UBT_BRPID[$BR]}
make_ns a 10.84.0.1/24
make_ns b 10.84.0.2/24
make_ns c 10.84.0.3/24
make_ns d 10.84.0.4/24

step "three threads, ports spread over them"
# (A sanitizer may add a thread of its own, named like the main one.)
names=$(grep -h '^ubridge-w' /proc/"$pid"/task/*/comm | sort | tr '\n' ' ')
info "worker threads (the main one is the control thread): $names"
expect_eq "worker threads" "ubridge-w0 ubridge-w1 ubridge-w2 " "$names"
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

step "a capture of worker 1's port that ends by itself, worker 0 idle"
# With nothing learned (ageing 0) worker 0 has no deadline and sleeps: the
# worker whose frames complete the capture must end it.
ubctl set ageing 0
out=$UBT_TMP/watch.pcap
bash -c '"$1" -n "$2" capture watch "$3" --count 3 >"$4"' _ "$UBCTL" "$BR" "${HOSTIF[b]}" "$out" &
watch=$!
UBT_BGPIDS+=("$watch")
sleep 0.3
ping_addr "${P}b" "${IP[c]}" 3 || true
# Promptly: without it the capture ends only when something else happens
# to wake worker 0 (seconds later, or never).
wait_until 2 "capture watch of ${HOSTIF[b]} --count 3 to end" pid_gone "$watch"
wait "$watch" || fail "capture watch of ${HOSTIF[b]} failed"
size=$(stat -c %s "$out")
((size > 24 + 3 * 16)) || fail "capture watch wrote $size bytes, expected 3 frames"
ubctl set ageing 300

step "detach and attach worker 2's port under traffic, while a and b (workers 0, 1) talk"
# d (worker 0) floods c (worker 2): worker 0's sends to c's port, and c's
# replies held in worker 2's ring, are in flight when the port goes.
bg_ns d ping -q -i 0.002 -c 1000 -W 1 "${IP[c]}"
ip netns exec "${P}a" ping -q -i 0.01 -c 300 -W 1 "${IP[b]}" >"$UBT_TMP/talk.out" 2>&1 &
talk=$!
UBT_BGPIDS+=("$talk")
sleep 0.5
ubctl port del "${HOSTIF[c]}" || fail "port del ${HOSTIF[c]} failed"
sleep 0.3
ubctl port add "${HOSTIF[c]}" || fail "port add ${HOSTIF[c]} failed"
expect_eq "worker of c, attached again" 2 "$(worker_of c)"
wait "$talk" || true
info "a -> b: $(grep 'packets transmitted' "$UBT_TMP/talk.out")"
matches ' 0% packet loss' "$UBT_TMP/talk.out" ||
	fail "ping a -> b lost replies while c's port came and went"
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
