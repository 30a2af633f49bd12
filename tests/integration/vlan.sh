#!/bin/bash
# SPDX-License-Identifier: MIT
# 802.1Q tags survive the bridge: a frame tagged VLAN 100 comes out tagged
# 100 with its full length, an untagged one comes out untagged. (The kernel
# strips tags into the packet auxdata on receive; a bridge that reads with
# a plain recv loses them.)
UBT_ID=vl
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
make_ns a
make_ns b

step "tagged (VLAN 100) broadcast and unknown unicast, and untagged broadcast, A -> B"
recv_start b "$UBT_TMP/b"
send a --src "${MAC[a]}" --dst ff:ff:ff:ff:ff:ff --vlan 100 --size 100 --id 1 --count 2
send a --src "${MAC[a]}" --dst 02:00:00:0f:0f:02 --vlan 100 --size 300 --id 2 --count 2
send a --src "${MAC[a]}" --dst ff:ff:ff:ff:ff:ff --size 90 --id 3 --count 2
recv_wait

check()
{
	local id=$1 want=$2 n
	n=$(count "$UBT_TMP/b" "$want id=$id seq=")
	if ((n != 2)); then
		cat "$UBT_TMP/b" >&2
		fail "id $id on B: expected 2 frames with '$want', saw $n"
	fi
}
check 1 "dst=ff:ff:ff:ff:ff:ff src=${MAC[a]} vlan=100 type=0x88b5 len=100"
check 2 "dst=02:00:00:0f:0f:02 src=${MAC[a]} vlan=100 type=0x88b5 len=300"
check 3 "dst=ff:ff:ff:ff:ff:ff src=${MAC[a]} vlan=none type=0x88b5 len=90"
expect_eq "frames seen on B" 6 "$(count "$UBT_TMP/b" .)"

bridge_alive
test_done
