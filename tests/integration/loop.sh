#!/bin/bash
# SPDX-License-Identifier: MIT
# Loop protection (on by default), BPDU guard and the group forward mask.
# A loop is two ports of the bridge joined by a kernel bridge in a
# namespace of its own:
# - quiet (no traffic): the bridge's probes come back, one of the two
#   ports is blocked within 2 s, the other namespaces still talk, and the
#   port forwards again a hold time after the loop is gone;
# - a storm (probes filtered out by the kernel bridge, one broadcast
#   sent): addresses flapping between the ports block one within 2 s, and
#   the storm stops;
# - loop-guard off lifts a block and keeps the port open;
# - bpdu-guard blocks a port a BPDU comes in on; a group forward mask lets
#   LLDP through, and nothing else of 01:80:C2:00:00:0X.
UBT_ID=lg
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
ubctl set loop-hold 3
make_ns 1 10.84.0.1/24
make_ns 2 10.84.0.2/24
# Fixed neighbours: no ARP broadcast of theirs starts a storm the test
# did not send.
in_ns "${P}1" ip neigh replace "${IP[2]}" lladdr "${MAC[2]}" dev eth0 nud permanent
in_ns "${P}2" ip neigh replace "${IP[1]}" lladdr "${MAC[1]}" dev eth0 nud permanent
ping_ok 1 2
LNS=${P}lp
LA=${P}la LB=${P}lb

# loop_up RULE: the kernel bridge br0 in $LNS joining the peers of $LA and
# $LB, forwarding what nft's RULE lets through; br0 itself sends nothing
# (its IGMP reports would start a storm the test did not send).
loop_up()
{
	local rule=$1

	ip netns add "$LNS"
	UBT_NS+=("$LNS")
	# No IPv6 and no multicast (IGMP reports of br0's): any frame of
	# their own would start a storm in a quiet loop.
	in_ns "$LNS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip link add "$LA" type veth peer name a netns "$LNS"
	ip link add "$LB" type veth peer name b netns "$LNS"
	UBT_LINKS+=("$LA" "$LB")
	sysctl -qw "net.ipv6.conf.$LA.disable_ipv6=1" "net.ipv6.conf.$LB.disable_ipv6=1"
	in_ns "$LNS" ip link add br0 type bridge
	for i in a b; do
		in_ns "$LNS" ip link set dev "$i" multicast off master br0 up
	done
	in_ns "$LNS" nft -f - <<-EOF
		table bridge loop {
			chain relay { type filter hook forward priority 0; $rule; }
			chain local { type filter hook output priority 0; drop; }
		}
	EOF
	in_ns "$LNS" ip link set br0 multicast off up
	ip link set "$LA" multicast off up
	ip link set "$LB" multicast off up
}
# loop_down: its namespace deleted, with the veths; their ports go too.
loop_down()
{
	ip netns del "$LNS"
	wait_until 5 "the loop's ports to go" bash -c "! \"$UBCTL\" -n $P -j port show | jq -e 'any(.[]; .name == \"$LA\" or .name == \"$LB\")' >/dev/null"
}
blocked_of() { ubctl -j port show | jq -r --arg p "$1" '.[] | select(.name == $p) | .blocked'; }
state_of() { ubctl -j port show | jq -r --arg p "$1" '.[] | select(.name == $p) | .state'; }
# Which of the two is blocked ("" if none, "both" if both).
blocked_one()
{
	local a b
	a=$(blocked_of "$LA") b=$(blocked_of "$LB")
	if [[ $a != no && $b != no ]]; then echo both
	elif [[ $a != no ]]; then echo "$LA"
	elif [[ $b != no ]]; then echo "$LB"
	fi
}
rx_of() { ubctl -j port show -s | jq -r --arg p "$1" '.[] | select(.name == $p) | .rx_packets'; }

step "a quiet loop (only the probes go round): the probes find it"
loop_up "ether type != 0x88b5 drop"
ubctl port add "$LA" "$LB"
wait_until 3 "a port of the loop to be blocked" bash -c "[[ -n \$(\"$UBCTL\" -n $P -j port show | jq -r '.[] | select(.blocked != \"no\") | .name') ]]"
one=$(blocked_one)
[[ $one == "$LB" ]] || fail "expected $LB (the higher id) blocked alone, saw '$one'"
expect_eq "why" loop "$(blocked_of "$LB")"
expect_eq "its state" blocked "$(state_of "$LB")"
grep -q "port $LB blocked: a loop (a probe of port $LA came back)" "$UBT_TMP/$P.log" ||
	fail "no log line for the block: $(tail -n 3 "$UBT_TMP/$P.log")"
ping_ok 1 2

step "the loop gone: forwarding again after the hold time (3 s)"
in_ns "$LNS" ip link del br0
wait_until 6 "$LB to forward again" bash -c "[[ \$(\"$UBCTL\" -n $P -j port show | jq -r '.[] | select(.name == \"$LB\") | .state') == forwarding ]]"
grep -q "port $LB forwards again" "$UBT_TMP/$P.log" || fail "no log line for the unblock"
loop_down

step "a storm, probes filtered out: the flapping addresses find it"
loop_up "ether type 0x88b5 drop"
ubctl port add "$LA" "$LB"
sleep 1.5
[[ -z $(blocked_one) ]] || fail "blocked without a storm (the probes should not pass): $(blocked_one)"
# (Not ubt-frame's default type, 0x88b5: the loop drops that one.)
send 1 --dst ff:ff:ff:ff:ff:ff --src "${MAC[1]}" --type 0x88b6 --count 1
wait_until 2 "a port of the storm to be blocked" bash -c "[[ -n \$(\"$UBCTL\" -n $P -j port show | jq -r '.[] | select(.blocked != \"no\") | .name') ]]"
one=$(blocked_one)
[[ $one == "$LA" || $one == "$LB" ]] || fail "expected one port of the loop blocked, saw '$one'"
expect_eq "why" flapping "$(blocked_of "$one")"
grep -q "port $one blocked: a loop ([0-9]* addresses moved onto it in a second)" "$UBT_TMP/$P.log" ||
	fail "no log line for the flapping block: $(tail -n 3 "$UBT_TMP/$P.log")"
a0=$(rx_of "$LA") b0=$(rx_of "$LB")
sleep 1
a1=$(rx_of "$LA") b1=$(rx_of "$LB")
(((a1 - a0) + (b1 - b0) < 20)) || fail "the storm goes on: $((a1 - a0)) + $((b1 - b0)) frames in a second"
ping_ok 1 2

step "loop-guard off: the block is lifted, and the port stays open"
ubctl port set "$one" --loop-guard off
wait_until 3 "$one to forward" bash -c "[[ \$(\"$UBCTL\" -n $P -j port show | jq -r '.[] | select(.name == \"$one\") | .state') == forwarding ]]"
wait_until 5 "the state file to keep it" grep -qx "port set $one loop-guard off" "$UBT_TMP/$P.state"
ubctl port set "$one" --loop-guard on
loop_down

step "forged probes: another port's id with a made-up tag blocks nothing"
# In namespace 1: read a probe of port 1, then send it back as if from
# ports 0-7, each with a tag of its own choosing; then itself, unchanged
# (a port that sends our frames back to us is a loop of its own).
forge()
{
	in_ns "${P}1" python3 - "$1" <<-'PY'
		import socket, struct, sys
		s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
		s.bind(("eth0", 0))
		s.settimeout(3)
		while True:
		    f = s.recv(128)
		    if f[:6] == bytes.fromhex("0375626c6f6f"):
		        break
		if sys.argv[1] == "replay":
		    s.send(f)
		else:
		    for port in range(8):
		        s.send(f[:26] + struct.pack(">IQ", port, 0x1234567800 + port) + f[38:])
	PY
}
forge others
sleep 1.2
[[ -z $(ubctl -j port show | jq -r '.[] | select(.blocked != "no") | .name') ]] ||
	fail "a forged probe blocked a port: $(ubctl port show)"
grep -q "port ${HOSTIF[1]}: a loop probe that did not leave this bridge (forged?), ignored" "$UBT_TMP/$P.log" ||
	fail "no log line for the forged probes"
forge replay
wait_until 2 "${HOSTIF[1]} blocked by its own probe" bash -c "[[ \$(\"$UBCTL\" -n $P -j port show | jq -r '.[] | select(.name == \"${HOSTIF[1]}\") | .blocked') == loop ]]"
ubctl port set "${HOSTIF[1]}" --loop-guard off
wait_until 3 "${HOSTIF[1]} to forward" ping_addr "${P}1" "${IP[2]}" 1
ubctl port set "${HOSTIF[1]}" --loop-guard on

step "bpdu-guard: a BPDU blocks the port"
ubctl port set "${HOSTIF[2]}" --bpdu-guard on
send 2 --dst 01:80:c2:00:00:00 --src "${MAC[2]}" --type 0x0026 --count 1
wait_until 2 "${HOSTIF[2]} to be blocked" bash -c "[[ \$(\"$UBCTL\" -n $P -j port show | jq -r '.[] | select(.name == \"${HOSTIF[2]}\") | .blocked') == bpdu ]]"
expect_eq "BPDUs dropped" 1 "$(ubctl -j port show -s | jq -r --arg p "${HOSTIF[2]}" '.[] | select(.name == $p) | .rx_drop_bpdu')"
ping_addr "${P}1" "${IP[2]}" 1 && fail "ping 1 -> 2 through the blocked port"
ubctl port set "${HOSTIF[2]}" --bpdu-guard off
wait_until 3 "${HOSTIF[2]} to forward" ping_addr "${P}1" "${IP[2]}" 1

step "group forward mask: LLDP only where asked"
recv_start 2 "$UBT_TMP/lldp0" --type 0x88cc --timeout 800
send 1 --dst 01:80:c2:00:00:0e --src "${MAC[1]}" --type 0x88cc --count 3 --id 1
recv_wait
expect_frames "LLDP with mask 0" "$UBT_TMP/lldp0" 1 0
ubctl port set "${HOSTIF[1]}" --group-fwd-mask 0x4000
recv_start 2 "$UBT_TMP/lldp1" --type 0x88cc --timeout 800
send 1 --dst 01:80:c2:00:00:0e --src "${MAC[1]}" --type 0x88cc --count 3 --id 2
send 1 --dst 01:80:c2:00:00:03 --src "${MAC[1]}" --type 0x88cc --count 3 --id 3
recv_wait
expect_frames "LLDP with mask 0x4000" "$UBT_TMP/lldp1" 2 3
expect_frames "802.1X with mask 0x4000" "$UBT_TMP/lldp1" 3 0
out=$(ubctl port set "${HOSTIF[1]}" --group-fwd-mask 0x2 2>&1) && fail "PAUSE in the mask accepted"
[[ $out == *"802.3x PAUSE"* ]] || fail "unclear refusal: $out"
wait_until 5 "the state file to keep the mask" grep -qx "port set ${HOSTIF[1]} group-fwd-mask 16384" "$UBT_TMP/$P.state"

bridge_alive
test_done
