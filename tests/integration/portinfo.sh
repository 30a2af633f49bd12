#!/bin/bash
# SPDX-License-Identifier: MIT
# What the daemon says about its ports is what they are: "port show"
# follows an MTU change, a TAP's attach line gives the MTU it was made
# with, "bridge up" counts the ports restored from the state file, and
# --workers states the range it accepts.
UBT_ID=pi
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
make_ns 1 10.78.0.1/24
make_ns 2 10.78.0.2/24

step "an MTU change shows in port show"
expect_eq "mtu of ${HOSTIF[1]} at attach" 1500 "$(port_field "${HOSTIF[1]}" mtu)"
ip link set "${HOSTIF[1]}" mtu 1400
mtu_is() { [[ $(port_field "${HOSTIF[1]}" mtu) == "$1" ]]; }
poll_until 3 mtu_is 1400 ||
	fail "mtu of ${HOSTIF[1]} after 'ip link set mtu 1400': $(port_field "${HOSTIF[1]}" mtu)"
ip link set "${HOSTIF[1]}" mtu 1500
wait_until 3 "mtu of ${HOSTIF[1]} back to 1500" mtu_is 1500
ping_ok 1 2

step "a TAP's attach line gives its real MTU"
ubctl port add "${P}t" --tap --mtu 9000
expect_eq "mtu of ${P}t" 9000 "$(port_field "${P}t" mtu)"
line=$(grep "port ${P}t attached" "$UBT_TMP/$P.log" || true)
[[ $line == *"mtu 9000"* ]] || fail "attach line of ${P}t: '$line'"
ubctl port del "${P}t"

step "bridge up counts the restored ports"
stop_bridge "$P" || fail "ubridge did not stop cleanly"
start_bridge "$P"
# The line comes once the state is replayed, maybe after the socket.
second_up() { (($(grep -c "bridge up" "$UBT_TMP/$P.log") == 2)); }
wait_until 5 "the second start's \"bridge up\" line" second_up
line=$(grep "bridge up" "$UBT_TMP/$P.log" | tail -n 1)
[[ $line == *"bridge up, 2 port(s)"* ]] || fail "after restoring 2 ports: '$line'"
ping_ok 1 2

step "--workers states the range it accepts"
for bad in 0 17; do
	rc=0
	out=$("$UBRIDGE" -f -n "${P}x" --no-state --workers "$bad" 2>&1) || rc=$?
	expect_eq "exit status for --workers $bad" 2 "$rc"
	[[ $out == *"(1 to 16)"* ]] || fail "--workers $bad: '$out'"
done

bridge_alive
test_done
