#!/bin/bash
# SPDX-License-Identifier: MIT
# ubctl netns: the seed scenario with netns add only; every option;
# rollback of a failure at each kind of step (nothing left: namespace, veth,
# mount); netns del removes what add made and only that; attach to an
# existing namespace and to a process's; clear errors.
UBT_ID=ns
. "$(dirname "$0")/lib.sh"
command -v unshare >/dev/null && command -v nsenter >/dev/null || fail "needs unshare and nsenter"

start_bridge "$P"
N1=${P}n1 N2=${P}n2 N3=${P}n3
UBT_NS+=("$N1" "$N2" "$N3" "${P}r1" "${P}r2" "${P}r3" "${P}x")

# own_netns_process: a process in a namespace of its own (a running
# container's), its PID in $cpid.
own_netns_process()
{
	unshare -n sleep 60 &
	UBT_BGPIDS+=($!)
	cpid=$!
	wait_until 5 "process $cpid to have its own namespace" \
		bash -c "[[ \$(readlink /proc/$cpid/ns/net) != \$(readlink /proc/self/ns/net) ]]"
}
port_of() { ubctl -j netns show | jq -r --arg n "$1" '.[] | select(.name == $n) | .port'; }
# Host ends this test made: "veth-" and the start of its namespace names
# (other tests running in parallel make links with other names).
our_links() { ip -o link | grep -c " veth-${P:0:5}" || true; }
# nothing_left NAME: no namespace, mount or port of NAME, no host end
# beyond those there before.
nothing_left()
{
	local name=$1
	! ns_exists "$name" || fail "namespace $name left behind"
	! ns_mounted "$name" || fail "mount of $name left behind"
	[[ -z $(port_of "$name") ]] || fail "$name still listed by netns show"
	expect_eq "host ends in the root namespace" "$LINKS0" "$(our_links)"
}

step "the seed scenario with netns add only"
ubctl netns add "$N1" --addr 172.16.1.1/16
ubctl netns add "$N2" --addr 172.16.1.2/16
ns_exists "$N1" && ns_exists "$N2" || fail "ip netns list does not show $N1 and $N2: $(ip netns list)"
ping_addr "$N1" 172.16.1.2 2 || fail "ping $N1 -> $N2"
ping_addr "$N2" 172.16.1.1 2 || fail "ping $N2 -> $N1"
mac1=$(ip netns exec "$N1" cat /sys/class/net/eth0/address)
expect_eq "MAC of $N1 in netns show" "$mac1" "$(ubctl -j netns show | jq -r --arg n "$N1" '.[] | select(.name == $n) | .mac')"
ubctl -j netns show | jq -e --arg n "$N1" '.[] | select(.name == $n) | .addrs | split(",") | index("172.16.1.1/16")' >/dev/null ||
	fail "netns show: $N1 lacks 172.16.1.1/16: $(ubctl netns show)"
port1=$(port_of "$N1")
port_listed "$port1" || fail "port $port1 of $N1 is not a port of the bridge"
expect_fdb "$mac1" "$port1"

step "every option: --mac --mtu --ifname --gw, and a second address"
ubctl netns add "$N3" --addr 172.16.1.3/16 --addr fd00::3/64 --gw 172.16.0.254 \
	--mac 02:00:00:aa:bb:03 --mtu 9000 --ifname lan0
expect_eq "MAC inside" 02:00:00:aa:bb:03 "$(ip netns exec "$N3" cat /sys/class/net/lan0/address)"
expect_eq "MTU inside" 9000 "$(ip netns exec "$N3" cat /sys/class/net/lan0/mtu)"
expect_eq "MTU of the host end" 9000 "$(cat "/sys/class/net/$(port_of "$N3")/mtu")"
expect_eq "default route" "default via 172.16.0.254 dev lan0" "$(ip -n "$N3" route show default | xargs)"
ip -n "$N3" -6 addr show dev lan0 | matches "fd00::3/64" || fail "fd00::3/64 missing in $N3: $(ip -n "$N3" addr; ip -n "$N3" -d link show lan0)"
ip -n "$N3" link show lo | matches '<[^>]*\bUP\b' || fail "loopback in $N3 is not up: $(ip -n "$N3" link show lo)"
ping_addr "$N3" 172.16.1.1 3 || fail "ping $N3 -> $N1"

LINKS0=$(our_links)
expect_eq "host ends so far" 3 "$LINKS0"
step "rollback: duplicate address (fails at the address step)"
out=$(ubctl netns add "${P}r1" --addr 172.16.1.4/16 --addr 172.16.1.4/16 2>&1) && fail "duplicate address accepted"
[[ $out == "ubctl: netns add ${P}r1: address 172.16.1.4/16: "* ]] || fail "unexpected message: $out"
info "$out"
nothing_left "${P}r1"

step "rollback: interface name taken inside (fails at the veth step)"
out=$(ubctl netns add "${P}r2" --ifname lo 2>&1) && fail "peer named lo accepted"
[[ $out == *"create the veth: "* ]] || fail "unexpected message: $out"
info "$out"
nothing_left "${P}r2"

step "rollback: unreachable gateway (fails at the route step)"
out=$(ubctl netns add "${P}r3" --addr 172.16.1.5/16 --gw 10.99.0.1 2>&1) && fail "unreachable gateway accepted"
[[ $out == *"default route via 10.99.0.1: "* ]] || fail "unexpected message: $out"
info "$out"
nothing_left "${P}r3"

step "rollback in a namespace made by ip netns add: it stays, the veth goes"
ip netns add "${P}x"
out=$(ubctl netns add "${P}x" --addr 172.16.1.6/16 --gw 10.99.0.1 2>&1) && fail "unreachable gateway accepted"
ns_exists "${P}x" || fail "a failed netns add removed a namespace it did not make"
expect_eq "links in ${P}x" 1 "$(ip -n "${P}x" -o link | wc -l)"
expect_eq "host ends in the root namespace" "$LINKS0" "$(our_links)"

step "errors: bad CIDR, bad MAC, name too long, interface name too long, unknown option"
for args in "${P}e --addr 172.16.1.300/16" "${P}e --addr 172.16.1.1" "${P}e --mac 01:00:00:00:00:01" \
	"$(printf 'n%.0s' {1..300})" "${P}e --ifname abcdefghijklmnop" "${P}e --colour blue" \
	"$N1 --addr 172.16.1.7/16"; do
	# shellcheck disable=SC2086
	out=$(ubctl netns add $args 2>&1) && fail "netns add $args accepted"
	[[ $out == ubctl:* && $(wc -l <<<"$out") == 1 ]] || fail "netns add $args: expected one 'ubctl:' line, saw: $out"
	info "$out"
done
! ns_exists "${P}e" || fail "a refused netns add left ${P}e"
out=$(ubctl netns attach "${P}missing" --addr 172.16.1.7/16 2>&1) && fail "attach to a missing namespace succeeded"
[[ $out == "ubctl: netns attach: open the namespace: No such file or directory" ]] || fail "attach to a missing namespace: $out"
out=$(ubctl netns attach --pid 999999999 2>&1) && fail "attach to a missing process succeeded"
info "$out"

step "attach to the existing namespace ${P}x, then del: the namespace stays"
ubctl netns attach "${P}x" --addr 172.16.1.6/16
ping_addr "${P}x" 172.16.1.1 3 || fail "ping ${P}x -> $N1"
portx=$(port_of "${P}x")
ubctl netns del "${P}x"
ns_exists "${P}x" || fail "netns del removed ${P}x, which ip netns add made"
! link_exists "$portx" || fail "netns del left $portx"

step "attach --pid: a process's namespace (a running container)"
own_netns_process
ubctl netns attach --pid "$cpid" --addr 172.16.1.8/16
nsenter -t "$cpid" -n ping -q -c 3 -i 0.2 -W 1 172.16.1.2 >/dev/null || fail "ping from pid $cpid -> $N2"
portp=$(port_of "pid:$cpid")
[[ -n $portp ]] || fail "netns show does not list pid:$cpid: $(ubctl netns show)"
ubctl netns del "pid:$cpid"
! link_exists "$portp" || fail "netns del pid:$cpid left $portp"

step "attach PATH --container: the namespace file is passed, the port is the container's"
own_netns_process
cid=0123456789${P}
# By path, without a name under /run/netns: labelled as /proc names it.
out=$(ubctl netns attach "/proc/$cpid/ns/net" --container "$cid" --ifname eth3 --addr 172.16.1.9/16)
portc=${out#port=}
link_exists "$portc" || fail "netns attach PATH printed \"$out\", no such link"
nsenter -t "$cpid" -n ping -q -c 3 -i 0.2 -W 1 172.16.1.2 >/dev/null || fail "ping from the container -> $N2"
row=$(ubctl -j netns show | jq -c --arg p "$portc" '.[] | select(.port == $p)')
expect_eq "the container's id, a string" "\"$cid\"" "$(jq -c .container <<<"$row")"
expect_eq "its label" "$(readlink "/proc/$cpid/ns/net")" "$(jq -r .name <<<"$row")"
expect_eq "its peer" eth3 "$(jq -r .ifname <<<"$row")"
wait_until 5 "the state file to record the container" \
	grep -q "^port add $portc netns .* peer eth3 made no container $cid\$" "$UBT_TMP/$P.state"
out=$(ubctl netns attach "/proc/$cpid/ns/net" --container "$cid" --ifname eth3 2>&1) &&
	fail "a second eth3 for the container was attached"
[[ $out == *"has eth3 on bridge"* ]] || fail "duplicate attach: unexpected error: $out"
out=$(ubctl netns attach /etc/hostname 2>&1) && fail "a plain file was taken for a namespace"
[[ $out == *"not a network namespace"* ]] || fail "plain file: unexpected error: $out"
out=$(ubctl netns attach "/proc/$cpid/ns/net" --container 'a;b' 2>&1) && fail "container id a;b accepted"
info "$out"
out=$(ubctl netns del --container "$cid" --ifname eth0 2>&1) && fail "del of the container's eth0 (it has eth3) succeeded"
ubctl netns del --container "$cid"
! link_exists "$portc" || fail "netns del --container left $portc"
out=$(ubctl netns del --container "$cid" 2>&1) && fail "second netns del --container succeeded"
info "$out"

step "netns del leaves nothing of what add made"
ubctl netns del "$N1"
! link_exists "$port1" || fail "netns del $N1 left $port1"
! ns_exists "$N1" || fail "netns del $N1 left the namespace"
! ns_mounted "$N1" || fail "netns del $N1 left its mount"
! port_listed "$port1" || fail "netns del $N1 left port $port1"
out=$(ubctl netns del "$N1" 2>&1) && fail "second netns del $N1 succeeded"
info "$out"
ping_addr "$N2" 172.16.1.3 3 || fail "ping $N2 -> $N3 after the deletions"

bridge_alive
test_done
