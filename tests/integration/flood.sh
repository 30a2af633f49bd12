#!/bin/bash
# SPDX-License-Identifier: MIT
# Flooding: unknown unicast, broadcast and multicast from A reach B, C and D
# once each and never come back to A; 802.1D reserved group addresses are
# never forwarded; frames with a multicast or all-zero source are dropped,
# counted, and not learned.
UBT_ID=fl
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
for n in a b c d; do
	make_ns "$n"
done
UNKNOWN=02:00:00:0f:0f:01
MCAST_SRC=01:02:03:04:05:06
ZERO_SRC=00:00:00:00:00:00
drops0=$(port_stat "${HOSTIF[a]}" rx_drop_bad_src)
[[ $drops0 =~ ^[0-9]+$ ]] || fail "port show -s: rx_drop_bad_src of ${HOSTIF[a]}: expected a number, saw '$drops0'"

step "send from A: unknown unicast, broadcast, multicast, 01:80:c2:00:00:0{0,e}, bad sources"
for n in a b c d; do
	recv_start "$n" "$UBT_TMP/$n" --timeout 2000
done
send a --src "${MAC[a]}" --dst "$UNKNOWN" --id 1 --count 3
send a --src "${MAC[a]}" --dst ff:ff:ff:ff:ff:ff --id 2 --count 3
send a --src "${MAC[a]}" --dst 01:00:5e:01:02:03 --id 3 --count 3
send a --src "${MAC[a]}" --dst 01:80:c2:00:00:00 --id 4 --count 2
send a --src "${MAC[a]}" --dst 01:80:c2:00:00:0e --id 5 --count 2
send a --src "$MCAST_SRC" --dst ff:ff:ff:ff:ff:ff --id 6
send a --src "$ZERO_SRC" --dst ff:ff:ff:ff:ff:ff --id 7
recv_wait

step "B, C and D each got every flooded frame once, nothing else"
for n in b c d; do
	expect_frames "unknown unicast on $n" "$UBT_TMP/$n" 1 3
	expect_frames "broadcast on $n" "$UBT_TMP/$n" 2 3
	expect_frames "multicast on $n" "$UBT_TMP/$n" 3 3
	expect_frames "01:80:c2:00:00:00 on $n" "$UBT_TMP/$n" 4 0
	expect_frames "01:80:c2:00:00:0e on $n" "$UBT_TMP/$n" 5 0
	expect_frames "multicast source on $n" "$UBT_TMP/$n" 6 0
	expect_frames "all-zero source on $n" "$UBT_TMP/$n" 7 0
done
step "nothing came back to A"
expect_eq "frames seen on A" 0 "$(count "$UBT_TMP/a" .)"

step "bad sources are not learned, and counted"
expect_fdb "$MCAST_SRC" ""
expect_fdb "$ZERO_SRC" ""
expect_fdb "${MAC[a]}" "${HOSTIF[a]}"
expect_fdb "$UNKNOWN" ""
drops_reached() { (($(port_stat "${HOSTIF[a]}" rx_drop_bad_src) >= drops0 + 2)); }
poll_until 3 drops_reached ||
	fail "rx_drop_bad_src on ${HOSTIF[a]}: expected >= $((drops0 + 2)), saw $(port_stat "${HOSTIF[a]}" rx_drop_bad_src)"

bridge_alive
test_done
