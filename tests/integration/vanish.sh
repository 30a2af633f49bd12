#!/bin/bash
# SPDX-License-Identifier: MIT
# Ports that vanish while traffic flows: one namespace deleted, one host veth
# deleted. The daemon survives, drops both ports, and keeps forwarding
# between the others.
UBT_ID=vn
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
make_ns 1 172.16.8.1/16
make_ns 2 172.16.8.2/16
make_ns 3 172.16.8.3/16
make_ns 4 172.16.8.4/16
step "1 pings everyone"
for n in 2 3 4; do
	ping_ok 1 "$n" 1
done

step "traffic: ping 1 -> 2 every 10 ms, broadcast frames from 1 every 200 us"
bg_ns 1 ping -q -i 0.01 -w 4 "${IP[2]}" >"$UBT_TMP/ping"
pinger=$UBT_LASTPID
bg_ns 1 timeout 3 "$UBT_FRAME" send eth0 --src "${MAC[1]}" --dst ff:ff:ff:ff:ff:ff \
	--count 1000000 --interval 200 --id 9
sleep 0.5

step "delete namespace 3 and host veth ${HOSTIF[4]} under traffic"
ip netns del "$P"3
ip link del "${HOSTIF[4]}"
sleep 0.3
bridge_alive

step "port show drops them"
gone() { ! port_listed "${HOSTIF[3]}" && ! port_listed "${HOSTIF[4]}"; }
poll_until 5 gone || fail "port show still lists a deleted port: $(ubctl port show 2>&1)"
port_listed "${HOSTIF[1]}" || fail "port show lost ${HOSTIF[1]}"
port_listed "${HOSTIF[2]}" || fail "port show lost ${HOSTIF[2]}"

step "the background ping kept getting replies"
rc=0
wait "$pinger" || rc=$?
((rc == 0)) || fail "background ping 1 -> 2 exited with $rc (no replies)"
stats=$(grep -E 'packets transmitted' "$UBT_TMP/ping")
info "$stats"
tx=$(sed -E 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\1/' <<<"$stats")
rx=$(sed -E 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\2/' <<<"$stats")
((rx * 2 >= tx)) || fail "background ping lost more than half: $stats"

step "1 and 2 still ping"
bridge_alive
ping_ok 1 2
ping_ok 2 1
test_done
