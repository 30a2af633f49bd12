#!/bin/bash
# SPDX-License-Identifier: MIT
# control/'s netlink library against the real kernel, through ubt-nl (no
# daemon): two namespaces made by the library and seen by `ip netns`, veth
# peers created inside them, addresses, links up, a kernel bridge joining
# the host ends, ping both ways (IPv4 and IPv6), default routes, link
# changes read back, namespaces by pid and by `ip netns add`, the errors
# callers rely on, and a `netns del` that leaves no mount and no file.
UBT_ID=nl
. "$(dirname "$0")/lib.sh"

[[ -n ${UBT_NL:-} && -x $UBT_NL ]] || fail "\$UBT_NL is not set to an executable (run through ctest)"

nl() { "$UBT_NL" "$@"; }

# expect_err ERRNO CMD...: CMD fails, exiting with ERRNO (ubt-nl's convention).
expect_err()
{
	local want=$1 rc=0
	shift
	"$@" 2>"$UBT_TMP/err" || rc=$?
	((rc == want)) ||
		fail "$*: expected errno $want, exit status was $rc: $(cat "$UBT_TMP/err")"
	info "$* -> $(cat "$UBT_TMP/err")"
}

link_gone() { ! link_exists "$1"; }

NS1=${P}a NS2=${P}b NS3=${P}c
H1=${P}h1 H2=${P}h2 BRK=${P}br

step "netns add $NS1 $NS2 (library)"
UBT_NS+=("$NS1" "$NS2" "$NS3")
nl netns-add "$NS1"
nl netns-add "$NS2"
ns_exists "$NS1" || fail "ip netns list does not show $NS1: $(ip netns list)"
ns_exists "$NS2" || fail "ip netns list does not show $NS2: $(ip netns list)"
ns_mounted "$NS1" || fail "/run/netns/$NS1 is not a mount point"
nl netns-exists "$NS1" || fail "netns-exists $NS1 says no"

step "ip netns exec runs in each, and they are distinct namespaces"
own=$(readlink /proc/self/ns/net)
in1=$(in_ns "$NS1" readlink /proc/self/ns/net)
in2=$(in_ns "$NS2" readlink /proc/self/ns/net)
[[ $in1 != "$own" && $in2 != "$own" && $in1 != "$in2" ]] ||
	fail "namespaces not distinct: host $own, $NS1 $in1, $NS2 $in2"
links=$(in_ns "$NS1" ip -o link show | wc -l)
expect_eq "links in a new namespace" 1 "$links"

step "veth pairs, the peers created inside the namespaces"
UBT_LINKS+=("$H1" "$H2")
nl veth "$H1" eth0 "$NS1"
nl veth "$H2" eth0 "$NS2" 9000
link_exists eth0 "$NS1" || fail "eth0 missing in $NS1"
mtu=$(in_ns "$NS2" cat /sys/class/net/eth0/mtu)
expect_eq "peer MTU in $NS2" 9000 "$mtu"
expect_eq "host end MTU of $H2" 9000 "$(cat "/sys/class/net/$H2/mtu")"
nl mtu "$H2" 1500
nl mtu eth0 1500 "$NS2"
expect_eq "MTU after set" 1500 "$(in_ns "$NS2" cat /sys/class/net/eth0/mtu)"

step "addresses and links up"
nl addr eth0 172.16.1.1/16 "$NS1"
nl addr eth0 172.16.1.2/16 "$NS2"
nl addr eth0 fd00:db8::1/64 "$NS1"
nl addr eth0 fd00:db8::2/64 "$NS2"
for ns in "$NS1" "$NS2"; do
	nl up lo "$ns"
	nl up eth0 "$ns"
done
got=$(in_ns "$NS1" ip -o -4 addr show dev eth0 | awk '{ print $4, $5, $6 }')
expect_eq "ip's view of $NS1 eth0" "172.16.1.1/16 brd 172.16.255.255" "$got"
got=$(nl addrs eth0 "$NS2" | grep -v '^fe80:' | sort | tr '\n' ' ')
expect_eq "addrs of $NS2 eth0" "172.16.1.2/16 fd00:db8::2/64 " "$got"

step "a kernel bridge $BRK joins $H1 and $H2"
ip link add "$BRK" type bridge
UBT_LINKS+=("$BRK")
ip link set "$H1" master "$BRK"
ip link set "$H2" master "$BRK"
ip link set "$BRK" up
nl up "$H1"
nl up "$H2"
nl show "$H1" | matches ' up=1$' || fail "$H1 not up: $(nl show "$H1")"

step "ping both ways, IPv4 and IPv6"
in_ns "$NS1" ping -q -c 3 -i 0.2 -W 2 172.16.1.2 >/dev/null || fail "ping $NS1 -> $NS2 failed"
in_ns "$NS2" ping -q -c 3 -i 0.2 -W 2 172.16.1.1 >/dev/null || fail "ping $NS2 -> $NS1 failed"
# Duplicate address detection holds new IPv6 addresses back for a moment.
wait_until 10 "IPv6 ping $NS1 -> $NS2" \
	in_ns "$NS1" ping -q -c 1 -W 1 "fd00:db8::2" >/dev/null
in_ns "$NS2" ping -q -c 2 -i 0.2 -W 2 "fd00:db8::1" >/dev/null || fail "IPv6 ping $NS2 -> $NS1 failed"

step "default routes via a gateway"
nl route-default 172.16.1.2 "$NS1"
got=$(in_ns "$NS1" ip -4 route show default)
[[ $got == "default via 172.16.1.2 dev eth0"* ]] || fail "IPv4 default route in $NS1: '$got'"
nl route-default "fd00:db8::2" "$NS1" eth0
got=$(in_ns "$NS1" ip -6 route show default)
[[ $got == "default via fd00:db8::2 dev eth0"* ]] || fail "IPv6 default route in $NS1: '$got'"
expect_err 17 nl route-default 172.16.1.2 "$NS1"
expect_err 101 nl route-default 10.99.0.1 "$NS2"

step "link changes read back: MAC, rename, delete"
nl mac eth0 02:00:5e:00:53:01 "$NS1"
expect_eq "MAC of eth0 in $NS1" 02:00:5e:00:53:01 "$(in_ns "$NS1" cat /sys/class/net/eth0/address)"
nl show eth0 "$NS1" | matches ' mac=02:00:5e:00:53:01 ' || fail "show: $(nl show eth0 "$NS1")"
UBT_LINKS+=("${P}t1" "${P}t2" "${P}t3")
nl veth "${P}t1" "${P}t2"
nl rename "${P}t1" "${P}t3"
nl show "${P}t3" >/dev/null
expect_err 19 nl show "${P}t1"
nl del "${P}t3"
link_gone "${P}t2" || fail "deleting ${P}t3 left its peer ${P}t2"
expect_err 19 nl del "${P}t3"

step "a namespace by pid, and one made by ip netns add"
bg_ns b sleep 60
# ip netns exec enters the namespace only after the fork: wait for it.
pid_in_ns2() { [[ $(readlink "/proc/$UBT_LASTPID/ns/net") == "$in2" ]]; }
wait_until 5 "pid $UBT_LASTPID to enter $NS2" pid_in_ns2
nl veth "${P}p1" eth9 "pid:$UBT_LASTPID"
UBT_LINKS+=("${P}p1")
link_exists eth9 "$NS2" || fail "eth9 not created in $NS2 by pid"
ip netns add "$NS3"
nl up lo "$NS3"
in_ns "$NS3" ip -o link show dev lo | matches '[<,]UP[,>]' || fail "lo not up in $NS3"

step "errors: taken, missing, malformed"
expect_err 17 nl netns-add "$NS1"
expect_err 17 nl netns-add "$NS3"
expect_err 17 nl veth "$H1" eth1 "$NS1"
expect_err 17 nl veth "${P}h9" eth0 "$NS1"
link_gone "${P}h9" || fail "a failed veth add left ${P}h9"
expect_err 17 nl addr eth0 172.16.1.1/16 "$NS1"
expect_err 2 nl veth "${P}h9" eth0 "${P}none"
expect_err 2 nl up lo "${P}none"
expect_err 2 nl netns-del "${P}none"
expect_err 3 nl veth "${P}h9" eth0 pid:2147483646
expect_err 22 nl addr eth0 172.16.1.300/16 "$NS1"
expect_err 22 nl addr eth0 172.16.1.3 "$NS1"
expect_err 22 nl addr eth0 172.16.1.3/33 "$NS1"
expect_err 22 nl cidr 172.16.1.3/16x
expect_err 36 nl veth "${P}-sixteen-chars" eth0 "$NS1"
expect_err 22 nl netns-add "../${P}x"
[[ $(nl cidr 2001:DB8::1/64) == "inet6 2001:db8::1/64" ]] || fail "cidr round trip: $(nl cidr 2001:DB8::1/64)"

step "netns del leaves no mount and no file; ip netns del works on ours"
nl netns-del "$NS1"
! ns_mounted "$NS1" || fail "/run/netns/$NS1 still mounted"
[[ ! -e /run/netns/$NS1 ]] || fail "/run/netns/$NS1 still exists"
! ns_exists "$NS1" || fail "ip netns list still shows $NS1"
! nl netns-exists "$NS1" || fail "netns-exists still says yes for $NS1"
# The namespace goes with its last user; its veth with it.
wait_until 10 "$H1 to go with $NS1" link_gone "$H1"
nl netns-del "$NS3"
if [[ -e /run/netns/$NS3 ]] || ns_mounted "$NS3"; then fail "$NS3 left behind"; fi
ip netns del "$NS2"
if [[ -e /run/netns/$NS2 ]] || ns_mounted "$NS2"; then fail "ip netns del left $NS2 behind"; fi

test_done
