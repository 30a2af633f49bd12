#!/bin/bash
# SPDX-License-Identifier: MIT
# FDB ageing with the daemon's clock warped forward, static entries (they
# survive ageing, steer traffic, go with fdb del) and per-port flush.
UBT_ID=fa
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
make_ns a 172.16.10.1/16
make_ns b 172.16.10.2/16
make_ns c 172.16.10.3/16
M=02:00:00:aa:bb:01
M2=02:00:00:aa:bb:02

learn_all()
{
	ping_ok a b 1
	ping_ok c a 1
	for n in a b c; do
		expect_fdb "${MAC[$n]}" "${HOSTIF[$n]}"
	done
}
no_learned() { [[ -z $(ubctl -j fdb show | jq -r '.[] | select(.type == "learned") | .mac') ]]; }

step "learn A, B and C; add static $M on B"
learn_all
ubctl fdb add "$M" dev "${HOSTIF[b]}"
expect_fdb "$M" "${HOSTIF[b]}"
expect_eq "type of $M" static "$(fdb_type_of "$M")"

step "set ageing 10, time warp 11000: learned entries age out, the static one stays"
ubctl set ageing 10
ubctl time warp 11000
poll_until 3 no_learned || fail "learned entries left after ageing: $(ubctl fdb show 2>&1)"
expect_fdb "$M" "${HOSTIF[b]}"

step "the static entry steers: A -> $M reaches only B"
for n in a b c; do
	recv_start "$n" "$UBT_TMP/$n"
done
send a --src "${MAC[a]}" --dst "$M" --id 1 --count 3
recv_wait
expect_frames "frames to $M on B" "$UBT_TMP/b" 1 3
expect_frames "frames to $M on C" "$UBT_TMP/c" 1 0
expect_frames "frames to $M back on A" "$UBT_TMP/a" 1 0

step "fdb del $M: gone, and frames to it flood again"
ubctl fdb del "$M"
expect_fdb "$M" ""
for n in b c; do
	recv_start "$n" "$UBT_TMP/$n"
done
send a --src "${MAC[a]}" --dst "$M" --id 2 --count 3
recv_wait
expect_frames "frames to $M on B after del" "$UBT_TMP/b" 2 3
expect_frames "frames to $M on C after del" "$UBT_TMP/c" 2 3

step "fdb flush dev ${HOSTIF[a]} removes only A's learned entries"
learn_all
# A source nothing else sends from: A's own MAC may come back at any
# moment, with the ARP probe of a neighbour entry growing stale.
X=02:00:00:aa:bb:0a
send a --src "$X" --dst ff:ff:ff:ff:ff:ff --count 1
x_learned() { [[ $(fdb_port_of "$X") == "${HOSTIF[a]}" ]]; }
wait_until 5 "$X learned on ${HOSTIF[a]}" x_learned
ubctl fdb add "$M2" dev "${HOSTIF[a]}"
ubctl fdb flush dev "${HOSTIF[a]}"
expect_fdb "$X" ""
expect_fdb "${MAC[b]}" "${HOSTIF[b]}"
expect_fdb "${MAC[c]}" "${HOSTIF[c]}"
expect_fdb "$M2" "${HOSTIF[a]}"

bridge_alive
test_done
