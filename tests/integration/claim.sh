#!/bin/bash
# SPDX-License-Identifier: MIT
# A port belongs to one bridge: a second ubridge cannot take an interface
# the first holds (pings cross once, no duplicates), nor a TAP the first
# made; an interface in a kernel bridge, loopback and a non-Ethernet
# interface are refused with a clear reason; and the claims of a daemon
# killed with SIGKILL go with it, so the next bridge can take its ports.
UBT_ID=pc
. "$(dirname "$0")/lib.sh"

A=${P}a
B=${P}b
start_bridge "$B"
start_bridge "$A"
make_ns 1 10.77.0.1/24
make_ns 2 10.77.0.2/24

# refused BRIDGE IFNAME MESSAGE: "ubctl -n BRIDGE port add IFNAME" fails,
# saying MESSAGE.
refused()
{
	local out rc=0
	out=$("$UBCTL" -n "$1" port add "$2" 2>&1) || rc=$?
	((rc != 0)) || fail "port add $2 on $1 was accepted"
	[[ $out == *"$3"* ]] || fail "port add $2 on $1: expected '$3', saw '$out'"
}

step "bridge $B cannot take $A's ports"
for i in 1 2; do
	refused "$B" "${HOSTIF[$i]}" "${HOSTIF[$i]} is a port of bridge $A already"
done
expect_eq "ports of $B" 0 "$("$UBCTL" -n "$B" -j port show | jq length)"

step "pings cross once"
out=$(in_ns "${P}1" ping -c 5 -i 0.2 -W 1 10.77.0.2 2>&1) || fail "ping 1 -> 2: $out"
matches ' 5 received' <<<"$out" || fail "ping 1 -> 2: $out"
! matches 'DUP!|duplicates' <<<"$out" || fail "duplicate replies: $out"

step "a TAP $A made is $A's"
ubctl port add "${P}t" --tap
refused "$B" "${P}t" "${P}t is a port of bridge $A already"

step "an interface in a kernel bridge is refused"
ip link add "${P}kb" type bridge
UBT_LINKS+=("${P}kb")
ip link add "${P}k1" type veth peer name "${P}k2"
UBT_LINKS+=("${P}k1")
ip link set "${P}k1" master "${P}kb"
refused "$A" "${P}k1" "${P}k1 is enslaved to ${P}kb"
ip link set "${P}k1" nomaster
ubctl port add "${P}k1"

step "loopback and a non-Ethernet interface are refused"
refused "$A" lo "lo is a loopback interface"
if ip tuntap add "${P}tn" mode tun 2>/dev/null; then
	UBT_LINKS+=("${P}tn")
	refused "$A" "${P}tn" "${P}tn is not an Ethernet interface"
else
	info "no TUN device here: the non-Ethernet case is not tried"
fi

step "$A killed with SIGKILL: $B takes its ports at once"
kill -KILL "${UBT_BRPID[$A]}"
wait "${UBT_BRPID[$A]}" 2>/dev/null || true
unset "UBT_BRPID[$A]"
BR=$B
ubctl port add "${HOSTIF[1]}" || fail "$B cannot take ${HOSTIF[1]} after $A was killed"
ubctl port add "${HOSTIF[2]}" || fail "$B cannot take ${HOSTIF[2]} after $A was killed"
ping_ok 1 2 3

step "$A starts again; what $B holds is refused to it"
rm -f "$(sock_path "$A")"
start_bridge "$A" --no-state
refused "$A" "${HOSTIF[1]}" "${HOSTIF[1]} is a port of bridge $B already"
stop_bridge "$A"

bridge_alive "$B"
test_done
