#!/bin/bash
# SPDX-License-Identifier: MIT
# The daemon under valgrind's memcheck, through the whole scenario: ports
# added, removed and vanishing, flooded, unicast and ping traffic, a TCP
# transfer, every fdb verb, counters, file and live captures, netns add and
# del, a TAP port, the gateway, bad and stalled control clients, then a
# restart from the state file, still under valgrind. Each run must stop
# cleanly on SIGTERM with no memcheck error and no byte definitely,
# indirectly or possibly lost.
UBT_ID=vg
. "$(dirname "$0")/lib.sh"
[[ -z ${UBT_SANITIZE:-} ]] ||
	skip "this build uses -fsanitize=$UBT_SANITIZE; valgrind cannot run sanitized binaries"
command -v valgrind >/dev/null || skip "valgrind is not installed (scripts/deps.sh installs it)"
for t in tcpdump python3; do
	command -v "$t" >/dev/null || fail "needs '$t' installed"
done

# Valgrind's own status for "errors found": one the daemon never uses.
VG_ERR=97
# Valgrind runs one thread at a time, and (3.19 at least) stays in
# io_uring_enter without handing over: while the loop waits there, a
# capture's writer thread cannot run. It gets its turns when the loop
# thread's time slice ends; --fair-sched=yes makes that hand-over happen,
# and nudge (below) makes the loop work so its slices end.
UBT_DAEMON_WRAPPER=(valgrind --tool=memcheck --leak-check=full
	--show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible
	--error-exitcode=$VG_ERR --track-fds=no --track-origins=yes
	--fair-sched=yes --num-callers=30 --vgdb=no
	--log-file="$UBT_TMP/valgrind.%p.log")
# Start-up, and the leak check at exit, take a few seconds under valgrind.
UBT_DAEMON_SECS=30

# The subnet of this test's namespaces and gateway, away from the other
# tests' (they may run at the same time and the gateway is on the host).
NET=198.19.200
TAP=${P}t
N4=${P}n4
UBT_NS+=("$N4" "${P}tp")

# vg_stop: SIGTERM to the daemon of $BR; valgrind's log must report no
# error and nothing lost, and its exit status must be the daemon's 0.
vg_stop()
{
	local pid=${UBT_BRPID[$BR]} log rc=0
	log=$UBT_TMP/valgrind.$pid.log

	step "SIGTERM; valgrind's verdict on pid $pid"
	stop_bridge "$BR" || rc=$?
	[[ -s $log ]] || fail "valgrind wrote no log to $log"
	grep -E '(HEAP|LEAK|ERROR) SUMMARY|in use at|total heap|lost:|reachable:|freed' "$log" |
		sed 's/^==[0-9]*== */    /'
	if ! matches -F 'ERROR SUMMARY: 0 errors from 0 contexts' "$log" ||
		((rc != 0)); then
		cat "$log" >&2
		fail "memcheck found errors (valgrind exited with $rc; $VG_ERR means errors)"
	fi
	# Without leaks of these kinds the summary says either that every block
	# was freed or 0 bytes for each kind.
	if ! matches -F 'All heap blocks were freed' "$log"; then
		for kind in definitely indirectly possibly; do
			matches -E "$kind lost: 0 bytes in 0 blocks" "$log" || {
				cat "$log" >&2
				fail "memcheck: $kind lost bytes"
			}
		done
	fi
}

start_bridge "$P"
make_ns 1 "$NET.11/24"
make_ns 2 "$NET.12/24"
make_ns 3 "$NET.13/24"

step "ping between the namespaces"
ping_ok 1 2
ping_ok 2 3
ping_ok 3 1

step "flooded and unicast frames"
recv_start 2 "$UBT_TMP/f2" --timeout 5000 --count 6
recv_start 3 "$UBT_TMP/f3" --timeout 5000 --count 4
send 1 --src "${MAC[1]}" --dst 02:00:00:0f:0f:01 --id 1 --count 2
send 1 --src "${MAC[1]}" --dst ff:ff:ff:ff:ff:ff --vlan 9 --id 2 --count 2
send 1 --src "${MAC[1]}" --dst "${MAC[2]}" --id 3 --count 2
recv_wait
expect_frames "unknown unicast on 2" "$UBT_TMP/f2" 1 2
expect_frames "broadcast on 3" "$UBT_TMP/f3" 2 2
expect_frames "unicast to 2" "$UBT_TMP/f2" 3 2

step "a checked 4 MiB TCP transfer 1 -> 2"
head -c $((4 << 20)) /dev/urandom >"$UBT_TMP/in"
bg_ns 2 timeout 60 socat -u "TCP-LISTEN:5001,bind=${IP[2]},reuseaddr" "CREATE:$UBT_TMP/out"
server=$UBT_LASTPID
wait_until 10 "TCP listener in ns2" tcp_listening 2 5001
in_ns "$P"1 timeout 60 socat -u "OPEN:$UBT_TMP/in" "TCP:${IP[2]}:5001" ||
	fail "the sender failed (exit $?)"
wait "$server" || fail "the receiver failed"
expect_eq "sha256 of the received bytes" "$(sha256sum <"$UBT_TMP/in")" "$(sha256sum <"$UBT_TMP/out")"

step "fdb: show, add, del, flush by port and all; counters; ageing by time warp"
expect_fdb "${MAC[2]}" "${HOSTIF[2]}"
ubctl fdb add 02:00:00:00:aa:01 dev "${HOSTIF[3]}" vlan 5
ubctl fdb add 02:00:00:00:aa:02 dev "${HOSTIF[3]}"
expect_fdb 02:00:00:00:aa:01 "${HOSTIF[3]}"
ubctl fdb del 02:00:00:00:aa:01 vlan 5
expect_fdb 02:00:00:00:aa:01 ""
ubctl fdb flush dev "${HOSTIF[1]}"
expect_fdb "${MAC[1]}" ""
ubctl fdb flush
expect_fdb "${MAC[2]}" ""
expect_fdb 02:00:00:00:aa:02 "${HOSTIF[3]}"
ping_ok 1 2 1
ubctl set ageing 10
ubctl time warp 20000
# Counted, not looked up: a slow run lets ns1's ARP confirm its neighbour
# within the wait, and that frame teaches its address again.
aged() { ubctl -j stats | jq -e '.fdb_aged > 0' >/dev/null; }
wait_until 10 "learned entries to age out" aged
ubctl -s port show >/dev/null
ubctl set ageing 300

step "captures: a filtered one on a port, one of all ports, a live one into tcpdump"
ubctl capture start "${HOSTIF[1]}" "$UBT_TMP/p1.pcap" --filter icmp >/dev/null
ubctl capture start all "$UBT_TMP/all.pcap" --snaplen 128 >/dev/null
watch_start "$UBT_TMP/watch.txt" 30 2 all --filter "ether proto 0x88b5"
wait_until 10 "the live capture to be listed" capture_watched
ping_ok 1 2
send 3 --src "${MAC[3]}" --dst 02:00:00:0f:0f:02 --id 4 --count 2
# nudge: 200 frames the live capture filters out, so the writer gets turns.
nudge() { send 3 --src "${MAC[3]}" --dst 02:00:00:0f:0f:03 --type 0x88b6 --count 200; }
watch_done() { nudge; test -e "$UBT_TMP/watch.txt.rc"; }
wait_until 30 "tcpdump and ubctl to finish" watch_done
expect_eq "exit statuses of ubctl and tcpdump" "0 0" "$(cat "$UBT_TMP/watch.txt.rc")"
watch_ended() { nudge; ! capture_watched; }
wait_until 30 "the live capture to end with its reader" watch_ended
ubctl capture stop all
expect_eq "echo requests in the port's capture" 2 \
	"$(pcap_frames "$UBT_TMP/p1.pcap" 'icmp[icmptype] == icmp-echo')"
(($(pcap_frames "$UBT_TMP/all.pcap") >= 6)) ||
	fail "the bridge-wide capture lacks frames"

step "a port removed and added again; a port whose interface vanishes"
ubctl port del "${HOSTIF[3]}"
! port_listed "${HOSTIF[3]}" || fail "${HOSTIF[3]} still a port after port del"
ubctl port add "${HOSTIF[3]}"
ping_ok 3 1
ip link del "${HOSTIF[3]}"
not_port3() { ! port_listed "${HOSTIF[3]}"; }
wait_until 10 "the vanished port to go" not_port3
expect_fdb 02:00:00:00:aa:02 ""

step "netns add and del; a TAP port in a namespace; the gateway"
ubctl netns add "${P}n5" --addr "$NET.15/24"
ping_addr "${P}n5" "${IP[1]}" 2 || fail "ping n5 -> 1"
ubctl netns del "${P}n5"
ubctl netns add "$N4" --addr "$NET.14/24" --gw "$NET.1"
ubctl port add --tap "$TAP" --mtu 1400
ip netns add "${P}tp"
ip link set "$TAP" netns "${P}tp"
in_ns "${P}tp" ip addr add "$NET.16/24" dev "$TAP"
in_ns "${P}tp" ip link set "$TAP" up
ping_addr "$N4" "$NET.16" 2 || fail "ping n4 -> the TAP side"
ubctl gateway add "$NET.1/24"
ping_addr "$N4" "$NET.1" 2 || fail "ping n4 -> the gateway"

step "bad requests through ubctl, garbage and a stalled client on the socket"
for args in "port add ${P}nope" "port add ${HOSTIF[1]}" "fdb add zz:00:00:00:00:01 dev ${HOSTIF[1]}" \
	"fdb add 02:00:00:00:00:01 dev ${P}nope" "set ageing -5" "frobnicate" "port frobnicate" \
	"capture start nosuchport $UBT_TMP/x.pcap" "capture start all $UBT_TMP/x.pcap --filter tcp_portt" \
	"netns add ${P}e --addr $NET.300/24" "netns del ${P}nope" "gateway add $NET.2/24"; do
	# shellcheck disable=SC2086
	if ubctl $args >/dev/null 2>&1; then fail "ubctl $args succeeded"; fi
done
# raw: standard input straight to the socket, the reply ignored.
raw() { ctl_raw 10 5 >/dev/null 2>&1 || true; }
head -c 512 /dev/urandom >"$UBT_TMP/req"
raw <"$UBT_TMP/req"
head -c 100000 /dev/zero | tr '\0' a >"$UBT_TMP/req"
raw <"$UBT_TMP/req"
printf 'port show\0\x01\xff\n' | raw
printf 'fdb' | raw
raw </dev/null
# A client that sends nothing holds its slot until its deadline, here
# brought forward by the clock warp; then the daemon cancels and closes.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(30)
sys.exit(0 if s.recv(1) == b"" else 1)' "$(sock_path "$BR")" &
idle=$!
UBT_BGPIDS+=("$idle")
ubctl time warp 15000
wait_until 20 "the stalled client to be dropped" pid_gone "$idle"
wait "$idle" || fail "the stalled client was not closed by the daemon"
bridge_alive

step "configuration for the restart: a static entry, a capture"
ubctl fdb add 02:00:00:00:aa:03 dev "${HOSTIF[2]}"
ubctl capture start all "$UBT_TMP/keep.pcap" --filter icmp >/dev/null
ports_before=$(ubctl -j port show | jq -c 'map(.name) | sort')
wait_until 10 "the state file" test -s "$UBT_TMP/$P.state"
vg_stop

step "restart under valgrind from the state file"
start_bridge "$P"
expect_eq "ports after the restart" "$ports_before" "$(ubctl -j port show | jq -c 'map(.name) | sort')"
expect_fdb 02:00:00:00:aa:03 "${HOSTIF[2]}"
ping_ok 1 2
ping_addr "${P}1" "$NET.1" 2 || fail "ping 1 -> the gateway after the restart"
ubctl capture stop all
ubctl netns del "$N4"
ubctl gateway del
ubctl port del "$TAP"
vg_stop

test_done
