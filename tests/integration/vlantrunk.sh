#!/bin/bash
# SPDX-License-Identifier: MIT
# VLAN filtering under TCP, tags pushed and popped: two bridges, each with
# an access port of VLAN 10, and a trunk between them (a veth pair, one
# end a port of each). A transfer ns1 -> ns2 crosses the trunk tagged:
# bridge A pushes the tag onto GSO super-frames (their virtio-net offsets
# moved by 4 bytes) and bridge B pops it, with the veths' default
# offloads. The bytes must arrive intact, and the super-frames cross the
# trunk whole and tagged.
UBT_ID=vt
. "$(dirname "$0")/lib.sh"

TA=${P}ta TB=${P}tb

start_bridge "${P}a"
make_ns 1 172.16.9.1/24
ubctl vlan add dev "${HOSTIF[1]}" vid 10 pvid untagged
start_bridge "${P}b"
make_ns 2 172.16.9.2/24
ubctl vlan add dev "${HOSTIF[2]}" vid 10 pvid untagged

step "the trunk: $TA (bridge A) <-> $TB (bridge B), VLANs 10 and 20 tagged"
ip link add "$TA" type veth peer name "$TB"
UBT_LINKS+=("$TA")
for t in "$TA" "$TB"; do
	sysctl -qw "net.ipv6.conf.$t.disable_ipv6=1"
	ip link set "$t" up
done
for side in a b; do
	BR=$P$side
	ubctl port add "${P}t$side"
	ubctl vlan add dev "${P}t$side" vid 10
	ubctl vlan add dev "${P}t$side" vid 20
	ubctl set vlan-filtering on
done

step "ping both ways, with the trunk's frames captured on bridge A"
BR=${P}a
ubctl capture start "$TA" "$UBT_TMP/trunk.pcap" >/dev/null
ping_ok 1 2 3
ping_ok 2 1 3
ubctl capture stop all
tagged=$(pcap_frames "$UBT_TMP/trunk.pcap" 'vlan 10 and icmp')
untagged=$(pcap_frames "$UBT_TMP/trunk.pcap" 'not vlan')
info "on the trunk: $tagged ICMP frames in VLAN 10, $untagged untagged frames"
((tagged >= 12)) || fail "expected 12 ICMP frames tagged 10 on the trunk, saw $tagged"
# Loop probes leave untagged (the bridges' own); nothing else does. ("vlan"
# shifts the offsets of what follows it in a filter: it comes last.)
expect_eq "untagged frames on the trunk other than loop probes" 0 \
	"$(pcap_frames "$UBT_TMP/trunk.pcap" 'not ether proto 0x88b5 and not vlan')"

step "send 20 MiB of random bytes ns1 -> ns2 over TCP, across the trunk"
head -c $((20 << 20)) /dev/urandom >"$UBT_TMP/in"
want=$(sha256sum <"$UBT_TMP/in" | cut -d' ' -f1)
port=$((20000 + $$ % 20000))
bg_ns 2 timeout 30 socat -u "TCP-LISTEN:$port,bind=${IP[2]},reuseaddr" "CREATE:$UBT_TMP/out"
server=$UBT_LASTPID
wait_until 5 "TCP listener in ns2" tcp_listening 2 "$port"
in_ns "$P"1 timeout 30 socat -u "OPEN:$UBT_TMP/in" "TCP:${IP[2]}:$port" ||
	fail "the sender failed (exit $?)"
rc=0
wait "$server" || rc=$?
((rc == 0)) || fail "the receiver failed (exit $rc)"
expect_eq "bytes received" $((20 << 20)) "$(stat -c %s "$UBT_TMP/out")"
expect_eq "sha256 of the received file" "$want" "$(sha256sum <"$UBT_TMP/out" | cut -d' ' -f1)"

step "the super-frames crossed the trunk whole: pushed on A, popped on B"
BR=${P}a
read -r pkts bytes < <(port_stat "$TA" tx_packets tx_bytes)
info "$TA (A's trunk): $pkts frames, $bytes bytes sent"
((pkts > 0 && bytes / pkts > 3000)) ||
	fail "average frame onto the trunk is $((bytes / (pkts ? pkts : 1))) bytes: GSO frames were not tagged whole"
BR=${P}b
read -r pkts bytes < <(port_stat "${HOSTIF[2]}" tx_packets tx_bytes)
info "${HOSTIF[2]} (B's access port): $pkts frames, $bytes bytes sent"
((pkts > 0 && bytes / pkts > 3000)) ||
	fail "average frame to ns2 is $((bytes / (pkts ? pkts : 1))) bytes: GSO frames were not untagged whole"
for side in a b; do
	BR=$P$side
	expect_eq "bridge ${side^^}'s frames dropped for want of a copy (tx_drop_busy, all ports)" 0 \
		"$(ubctl -j -s port show | jq '[.[].tx_drop_busy] | add')"
	bridge_alive
done
test_done
