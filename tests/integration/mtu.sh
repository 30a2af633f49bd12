#!/bin/bash
# SPDX-License-Identifier: MIT
# Jumbo frames: with MTU 9000 on every veth end, full-size pings pass both
# ways with DF set, and a 9014-byte raw frame arrives whole.
UBT_ID=mt
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
make_ns 1 172.16.7.1/16 9000
make_ns 2 172.16.7.2/16 9000

step "ping -s 8972 -M do both ways"
for pair in 1:2 2:1; do
	from=${pair%:*} to=${pair#*:}
	in_ns "$P$from" ping -q -c 2 -i 0.2 -W 1 -s 8972 -M "do" "${IP[$to]}" >/dev/null ||
		fail "ping -s 8972 -M do $from -> $to failed"
done

step "a 9014-byte frame 1 -> 2"
recv_start 2 "$UBT_TMP/2"
send 1 --src "${MAC[1]}" --dst ff:ff:ff:ff:ff:ff --size 9014 --id 1 --count 2
send 1 --src "${MAC[1]}" --dst "${MAC[2]}" --size 9014 --id 2 --count 2
recv_wait
for id in 1 2; do
	n=$(count "$UBT_TMP/2" "len=9014 id=$id seq=")
	((n == 2)) || { cat "$UBT_TMP/2" >&2; fail "id $id: expected 2 frames of 9014 bytes, saw $n"; }
done

bridge_alive
test_done
