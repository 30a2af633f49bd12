#!/bin/bash
# SPDX-License-Identifier: MIT
# The TX ring (--packet-tx ring, or flood given in UBT_BRIDGE_ARGS). A
# frame too large for the egress's TX slots goes as a send, in order with
# the small frames around it, and so do frames to one port interleaved
# with flooded ones; a TX ring the kernel does not drain (a slow qdisc on
# the egress) is back-pressure: counted drops (tx_drop_busy), no stall,
# and frames pass again once it drains.
UBT_ID=tx
. "$(dirname "$0")/lib.sh"

args=()
[[ ${UBT_BRIDGE_ARGS:-} == *--packet-tx* ]] || args=(--packet-tx ring)
start_bridge "$P" "${args[@]}"
make_ns 1 "" 9000
make_ns 2 "" 1500
# The egress's TX slots were sized for the MTU it had when attached (1500):
# with 9000 now, frames over 1518 bytes pass the egress but not its ring.
ip link set "${HOSTIF[2]}" mtu 9000
in_ns "${P}2" ip link set eth0 mtu 9000
expect_eq "kind of ${HOSTIF[2]}" packet-rings "$(port_field "${HOSTIF[2]}" kind)"

step "64-byte frames with every 5th 4000 bytes long, 1 -> 2, keep their order"
recv_start 2 "$UBT_TMP/order" --timeout 2000
send 1 --src "${MAC[1]}" --dst "${MAC[2]}" --size 64 --big 4000 --every 5 --count 250 --id 1
recv_wait
seqs=$(grep -oE 'id=1 seq=[0-9]+' "$UBT_TMP/order" | cut -d= -f3)
expect_eq "frames arrived in order" "$(sort -n <<<"$seqs")" "$seqs"
n=$(count "$UBT_TMP/order" 'len=64 id=1 ')
big=$(count "$UBT_TMP/order" 'len=4000 id=1 ')
info "$n small and $big large frames arrived"
((n >= 150 && big >= 30)) || { ubctl -s port show; fail "expected most of 200 small and 50 large frames, saw $n and $big"; }

step "frames to 2 with every 3rd broadcast, 1 -> 2, keep their order"
send 2 --src "${MAC[2]}" --dst ff:ff:ff:ff:ff:ff --id 9
poll_until 5 eval 'ubctl fdb show | matches -i "${MAC[2]}"' || fail "${MAC[2]} not learned"
recv_start 2 "$UBT_TMP/mixed" --timeout 2000
send 1 --src "${MAC[1]}" --dst "${MAC[2]}" --alt-dst ff:ff:ff:ff:ff:ff --every 3 --count 300 --id 4
recv_wait
seqs=$(grep -oE 'id=4 seq=[0-9]+' "$UBT_TMP/mixed" | cut -d= -f3)
expect_eq "frames arrived in order" "$(sort -n <<<"$seqs")" "$seqs"
n=$(count "$UBT_TMP/mixed" '^dst=ff:ff:ff:ff:ff:ff .* id=4 ')
info "$(wc -l <<<"$seqs") frames arrived, $n of them broadcast"
((n >= 60 && $(wc -l <<<"$seqs") >= 200)) || fail "expected most of 300 frames, 100 broadcast"

step "a TX ring the kernel does not drain: drops counted, no stall"
busy0=$(port_stat "${HOSTIF[2]}" tx_drop_busy)
# 64-byte broadcasts (the TX ring in either mode) at 100 kbit/s: the
# qdisc holds the skbs, and with them
# the TX ring's slots.
tc qdisc add dev "${HOSTIF[2]}" root tbf rate 100kbit burst 16k limit 10m
send 1 --src "${MAC[1]}" --dst ff:ff:ff:ff:ff:ff --size 64 --count 3000 --id 2 --interval 50
busy() { (($(port_stat "${HOSTIF[2]}" tx_drop_busy) > busy0)); }
poll_until 5 busy || fail "tx_drop_busy on ${HOSTIF[2]} stayed at $busy0"
info "tx_drop_busy: $(port_stat "${HOSTIF[2]}" tx_drop_busy)"
bridge_alive

step "the ring drains, and frames pass again"
tc qdisc del dev "${HOSTIF[2]}" root
recv_start 2 "$UBT_TMP/after"
send 1 --src "${MAC[1]}" --dst "${MAC[2]}" --size 64 --count 5 --id 3 --interval 10000
recv_wait
expect_eq "frames after the drain" 5 "$(count "$UBT_TMP/after" 'id=3 seq=')"

bridge_alive
test_done
