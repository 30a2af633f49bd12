#!/bin/bash
# SPDX-License-Identifier: MIT
# The host on the bridge: a TAP port the bridge makes carries frames to and
# from AF_PACKET ports like any other (ping and a checked TCP transfer with
# a namespace on each kind); the gateway answers the namespaces; NAT lets a
# namespace reach an "outside" namespace behind another host interface,
# which sees the host's address as source; nat off and gateway del leave
# nothing behind. Addresses come from 198.18.0.0/15, the range set aside
# for benchmarks and tests (RFC 2544).
UBT_ID=gw
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || fail "needs nft (nftables) installed"

start_bridge "$P"
TAP=${P}t
GWIF=${P:0:12}-gw
OUT=${P}o
VOUT=${P}vo
UBT_NS+=("${P}n1" "${P}n2" "$OUT")
UBT_LINKS+=("$VOUT")
fwd0=$(cat /proc/sys/net/ipv4/ip_forward)
# Whatever happens, IPv4 forwarding ends as it was (lib.sh's cleanup
# calls this first).
ubt_on_exit() { echo "$fwd0" >/proc/sys/net/ipv4/ip_forward; }

step "namespace n1 on an AF_PACKET port; a TAP port, moved into namespace n2"
ubctl netns add "${P}n1" --addr 198.18.1.1/16 --gw 198.18.0.1
ubctl port add --tap "$TAP" --mtu 1400
expect_eq "kind of $TAP" tap "$(port_field "$TAP" kind)"
expect_eq "MTU of $TAP" 1400 "$(port_field "$TAP" mtu)"
ip netns add "${P}n2"
ip link set "$TAP" netns "${P}n2"
in_ns "${P}n2" ip addr add 198.18.1.2/16 dev "$TAP"
in_ns "${P}n2" ip link set "$TAP" up

step "ping and a checked TCP transfer between the AF_PACKET and the TAP side"
ping_addr "${P}n1" 198.18.1.2 3 || fail "ping n1 -> n2 (TAP): $(ubctl -s port show)"
ping_addr "${P}n2" 198.18.1.1 3 || fail "ping n2 (TAP) -> n1"
head -c 8000000 /dev/urandom >"$UBT_TMP/data"
bg_ns n2 sh -c "timeout 20 socat -u TCP-LISTEN:5001,reuseaddr - >'$UBT_TMP/got'"
wait_until 5 "the listener in n2" tcp_listening n2 5001
in_ns "${P}n1" timeout 20 socat -u "FILE:$UBT_TMP/data" TCP:198.18.1.2:5001 || fail "TCP n1 -> n2 failed"
got_all() { test "$(stat -c %s "$UBT_TMP/got" 2>/dev/null || echo 0)" -eq 8000000; }
poll_until 10 got_all || fail "TCP through the TAP port: $(stat -c %s "$UBT_TMP/got") of 8000000 bytes in 10 s; $(ubctl -s port show)"
expect_eq "sha256 of the data received through the TAP port" \
	"$(sha256sum <"$UBT_TMP/data")" "$(sha256sum <"$UBT_TMP/got")"

step "the gateway: the host answers on 198.18.0.1"
ubctl gateway add 198.18.0.1/16
expect_eq "gateway address" 198.18.0.1/16 "$(ubctl -j gateway show | jq -r .addr)"
ip -o addr show dev "$GWIF" | matches "inet 198.18.0.1/16" || fail "no 198.18.0.1/16 on $GWIF"
ping_addr "${P}n1" 198.18.0.1 3 || fail "ping n1 -> the gateway"
out=$(ubctl port del "$GWIF" 2>&1) && fail "port del of the gateway port succeeded"
info "$out"
out=$(ubctl gateway add 198.18.0.9/16 2>&1) && fail "a second gateway was accepted"
info "$out"

step "an outside namespace behind another host interface (198.19.0.0/24)"
ip netns add "$OUT"
ip link add "$VOUT" type veth peer name eth0 netns "$OUT"
ip addr add 198.19.0.1/24 dev "$VOUT"
ip link set "$VOUT" up
in_ns "$OUT" ip addr add 198.19.0.2/24 dev eth0
in_ns "$OUT" ip link set eth0 up
# The outside knows no route back to 198.18.0.0/16: without NAT, no answer.
echo 0 >/proc/sys/net/ipv4/ip_forward
! ping_addr "${P}n1" 198.19.0.2 2 2>/dev/null || fail "outside reached without NAT"

step "nat on: n1 reaches the outside, which sees the host's address"
ubctl nat on
expect_eq "IPv4 forwarding with NAT on" 1 "$(cat /proc/sys/net/ipv4/ip_forward)"
nft list table ip "ubridge_${P}" | matches masquerade || fail "no masquerade rule in table ubridge_$P"
bg_ns o sh -c "timeout 10 socat TCP-LISTEN:5002,reuseaddr SYSTEM:'echo \$SOCAT_PEERADDR'"
wait_until 5 "the listener outside" tcp_listening o 5002
seen=$(in_ns "${P}n1" timeout 5 socat -u TCP:198.19.0.2:5002 - </dev/null) || fail "n1 could not connect to the outside"
expect_eq "source address seen outside" 198.19.0.1 "$seen"

step "nat off removes every rule and puts forwarding back"
ubctl nat off
! nft list table ip "ubridge_${P}" >/dev/null 2>&1 || fail "table ubridge_$P still there after nat off"
expect_eq "IPv4 forwarding after nat off" 0 "$(cat /proc/sys/net/ipv4/ip_forward)"

step "nat on again, then gateway del: NAT goes with the gateway"
ubctl nat on
ubctl gateway del
! nft list table ip "ubridge_${P}" >/dev/null 2>&1 || fail "table ubridge_$P left by gateway del"
! link_exists "$GWIF" || fail "$GWIF left by gateway del"
out=$(ubctl nat on 2>&1) && fail "nat on without a gateway succeeded"
info "$out"

step "errors: a TAP name taken, a bad CIDR"
out=$(ubctl port add --tap "$VOUT" 2>&1) && fail "a TAP port over an existing interface was made"
info "$out"
out=$(ubctl gateway add 198.18.0.300/16 2>&1) && fail "bad gateway CIDR accepted"
info "$out"
ping_addr "${P}n1" 198.18.1.2 3 || fail "ping n1 -> n2 after the errors"

bridge_alive
test_done
