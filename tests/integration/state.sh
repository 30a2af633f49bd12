#!/bin/bash
# SPDX-License-Identifier: MIT
# Restart without loss: the configuration (ports, namespaces made, a TAP
# port, the gateway, static FDB entries, ageing, VLANs, a capture) is written on
# every change, so even SIGKILL then a new start gives the same bridge,
# forwarding again; a truncated or garbage state file is reported, set
# aside and not used.
UBT_ID=st
. "$(dirname "$0")/lib.sh"

# The gateway puts an address on the host: each test that makes one has a
# subnet of its own (gateway.sh 198.18.0.0/16, valgrind.sh 198.19.200.0/24),
# or tests run side by side would route each other's replies.
STATE=$UBT_TMP/br.state
N1=${P}n1 N2=${P}n2
UBT_NS+=("$N1" "$N2")
start_bridge "$P" --state "$STATE"

step "configure: two namespaces, a TAP port, a gateway, a static entry, ageing, a capture"
ubctl netns add "$N1" --addr 198.19.18.1/20
ubctl netns add "$N2" --addr 198.19.18.2/20
ubctl port add --tap "${P}t" --mtu 1300
ubctl gateway add 198.19.16.1/20
ubctl fdb add 02:00:00:00:5e:01 dev "${P}t" vlan 7
ubctl set ageing 77
ubctl capture start all "$UBT_TMP/cap.pcap" --filter icmp >/dev/null
step "VLAN filtering: n1 and n2 access ports of VLAN 30 (one by netns add --vlan), the gateway in it too, the TAP in none"
ubctl netns del "$N1"
ubctl netns add "$N1" --addr 198.19.18.1/20 --vlan 30
ubctl vlan add dev "veth-$N2" vid 30 pvid untagged
ubctl vlan add dev "veth-$N2" vid 31-33
ubctl vlan add dev "$P-gw" vid 30 pvid untagged
ubctl vlan del dev "${P}t" vid 1
ubctl set vlan-filtering on
vlans_of() { ubctl -j vlan show | jq -r --arg p "$1" '.[] | select(.port == $p) | "\(.pvid) \(.vids) \(.untagged)"'; }
expect_eq "n1's VLANs" "30 30 30" "$(vlans_of "veth-$N1")"
expect_eq "n2's VLANs" "30 30-33 30" "$(vlans_of "veth-$N2")"
expect_eq "the TAP's VLANs" "0 - -" "$(vlans_of "${P}t")"
ping_addr "$N1" 198.19.18.2 3 || fail "ping before the restart"
ping_addr "$N2" 198.19.16.1 1 || fail "ping n2 -> the gateway before the restart"
GW_MAC=$(cat "/sys/class/net/$P-gw/address")

# What a restarted bridge must show again (ifindex and counters aside).
snapshot()
{
	{
		ubctl -j port show | jq -c 'map({name, kind, mtu}) | sort_by(.name)'
		ubctl -j netns show | jq -c 'map({name, port, ifname, made}) | sort_by(.name)'
		ubctl -j fdb show | jq -c 'map(select(.type == "static")) | sort_by(.mac)'
		ubctl -j stats | jq -c '{ageing, vlan_filtering}'
		ubctl -j vlan show | jq -c 'sort_by(.port)'
		ubctl -j gateway show | jq -c .
		ubctl -j capture show | jq -c 'map({port, dir, file, filter})'
	} >"$1"
}
snapshot "$UBT_TMP/before"
wait_until 3 "the state file" test -s "$STATE"
# The capture's writer flushes every so often: what it has not written
# when SIGKILL comes is lost, as it would be for any writer.
ECHO_REQ='icmp[icmptype] == icmp-echo and dst host 198.19.18.2'
cap_has() { (($(pcap_frames "$UBT_TMP/cap.pcap" "$ECHO_REQ") >= $1)); }
wait_until 5 "the echo requests in the capture" cap_has 3

step "SIGKILL: no chance to save anything at exit"
kill -KILL "${UBT_BRPID[$P]}"
wait "${UBT_BRPID[$P]}" 2>/dev/null || true
unset "UBT_BRPID[$P]"
rm -f "$(sock_path "$P")"

# The dead daemon's TAPs go with its io_uring instance, which the kernel
# tears down after the process is gone: a restart may find them for a
# moment. Make that moment last half a second (an interface with the
# gateway's name, whatever is left of the old one), and the restore must
# wait it out.
old_gw_gone() { ! link_exists "$P-gw"; }
wait_until 5 "the old gateway TAP gone" old_gw_gone
ip link add "$P-gw" type veth peer name "$P-gx"
UBT_LINKS+=("$P-gw")
(sleep 0.5; ip link del "$P-gw") &
UBT_BGPIDS+=("$!")

step "a new start restores the same bridge"
start_bridge "$P" --state "$STATE"
snapshot "$UBT_TMP/after"
if ! diff -u "$UBT_TMP/before" "$UBT_TMP/after" >&2; then
	fail "the restarted bridge differs (see the diff above)"
fi
ping_addr "$N1" 198.19.18.2 3 || fail "ping n1 -> n2 after the restart"
# The gateway came back with its MAC, so what n2 had in its ARP cache is
# still right.
expect_eq "the gateway's MAC after the restart" "$GW_MAC" "$(cat "/sys/class/net/$P-gw/address")"
expect_eq "the gateway's MAC in n2's ARP cache" "$GW_MAC" \
	"$(ip netns exec "$N2" ip -j neigh show 198.19.16.1 | jq -r '.[0].lladdr')"
ping_addr "$N2" 198.19.16.1 3 || fail "ping n2 -> the gateway after the restart"
ubctl capture stop all
# The capture carried on in the same file: frames from both lives.
expect_eq "echo requests n1 -> n2 in the capture (3 before, 3 after)" 6 \
	"$(pcap_frames "$UBT_TMP/cap.pcap" "$ECHO_REQ")"

step "netns del after the restart still removes the namespace add made"
ubctl netns del "$N1"
! ns_exists "$N1" || fail "$N1 left after netns del"

step "SIGTERM, then a truncated state file: set aside, reported, not used"
stop_bridge "$P" || fail "ubridge did not stop cleanly"
head -c -20 "$STATE" >"$STATE.cut" && mv "$STATE.cut" "$STATE"
start_bridge "$P" --state "$STATE"
expect_eq "ports after a truncated state file" 0 "$(ubctl -j port show | jq length)"
compgen -G "$STATE.corrupt-*" >/dev/null || fail "the truncated state file was not set aside"
matches "is corrupt" <"$UBT_TMP/$P.log" || fail "no error logged for the corrupt state file"

step "garbage with a forged end line: the checksum refuses it"
stop_bridge "$P" || fail "ubridge did not stop cleanly"
rm -f "$STATE".corrupt-*
printf 'port add %s\nend 1 0123456789abcdef\n' "${P}n2" >"$STATE"
start_bridge "$P" --state "$STATE"
expect_eq "ports after a forged state file" 0 "$(ubctl -j port show | jq length)"
compgen -G "$STATE.corrupt-*" >/dev/null || fail "the forged state file was not set aside"

bridge_alive
test_done
