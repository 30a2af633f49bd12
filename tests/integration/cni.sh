#!/bin/bash
# SPDX-License-Identifier: MIT
# ubridge-cni (issue 14): the CNI plugin driven directly, the way a runtime
# drives it (CNI_* variables, the configuration on stdin, the answer on
# stdout), with the real host-local IPAM and a real daemon:
# - VERSION; ADD's result matches the namespace and `netns show`; two
#   containers ping each other through the bridge, their MACs in the FDB;
#   isGateway makes the gateway and the host reaches a container;
# - CHECK passes, then fails with the right code once an address or the
#   port is not there; DEL removes the port, twice is fine, a namespace
#   already gone is fine, a daemon not running is fine (the interface
#   inside goes all the same);
# - errors as the specification numbers them (decode 6, version 1,
#   environment 4, configuration 7, try again 11), and a failure after the
#   attach (IPAM, the gateway) leaves nothing: no port, no veth, no lease;
# - a 0.4.0 configuration gets a 0.4.0 result; CNI_ARGS MAC= sets the MAC.
UBT_ID=cn
. "$(dirname "$0")/lib.sh"

[[ -x ${UBCNI:-} ]] || fail "UBCNI (the ubridge-cni binary) is not set (run through ctest)"
CNI_DIR=/usr/lib/cni
[[ -x $CNI_DIR/host-local ]] ||
	skip "needs the host-local IPAM plugin in $CNI_DIR (apt-get install containernetworking-plugins)"

start_bridge "$P"
C1=${P}c1 C2=${P}c2 C3=${P}c3
UBT_NS+=("$C1" "$C2" "$C3")
for ns in "$C1" "$C2" "$C3"; do
	ip netns add "$ns"
done
SUB=$(free_subnet 150)
IPAM=$UBT_TMP/ipam
info "subnet $SUB.0/24, leases in $IPAM"

# conf [JQ]: the network configuration, changed by the jq filter JQ.
conf()
{
	jq -nc --arg br "$P" --arg net "${P}net" --arg sub "$SUB.0/24" --arg dd "$IPAM" \
		"{cniVersion: \"1.0.0\", name: \$net, type: \"ubridge\", bridge: \$br,
		  ipam: {type: \"host-local\", subnet: \$sub, dataDir: \$dd}} | ${1:-.}"
}

# cni COMMAND ID NETNS IFNAME STDIN: runs the plugin as a runtime does
# (NETNS empty: CNI_NETNS not set; CNI_ARGS from $ARGS if set). Its stdout
# goes to OUT, its exit status to RC; its stderr to cni.log, which cleanup
# searches for sanitizer reports.
cni()
{
	local -a e=(CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_IFNAME="$4"
		CNI_PATH="$UBT_TMP/none:$CNI_DIR" CNI_ARGS="${ARGS:-IgnoreUnknown=1;K8S_POD_NAME=$2}")
	[[ -z $3 ]] || e+=(CNI_NETNS="$3")
	RC=0
	OUT=$(env -u CNI_NETNS "${e[@]}" timeout 20 "$UBCNI" <<<"$5" 2>>"$UBT_TMP/cni.log") || RC=$?
}

# expect_ok WHAT: the last call succeeded.
expect_ok()
{
	((RC == 0)) || fail "$1: exit status $RC, stdout: $OUT, stderr: $(tail -n 3 "$UBT_TMP/cni.log")"
}

# expect_error WHAT CODE: the last call failed with an error object of
# CODE (one line of JSON, nothing else), in the configuration's version.
expect_error()
{
	((RC == 1)) || fail "$1: exit status $RC (expected 1), stdout: $OUT"
	[[ $(wc -l <<<"$OUT") == 1 ]] || fail "$1: more than one line on stdout: $OUT"
	jq -e 'type == "object" and (.msg | type == "string" and length > 0) and
		(.cniVersion | type == "string")' <<<"$OUT" >/dev/null ||
		fail "$1: not an error object: $OUT"
	expect_eq "$1: error code" "$2" "$(jq -r .code <<<"$OUT")"
	info "$1: $OUT"
}

# port_of ID [IFNAME]: the host end of container ID's interface (default
# eth0), as `netns show` lists it; nothing when there is none.
port_of()
{
	ubctl -j netns show | jq -r --arg id "$1" --arg ifn "${2:-eth0}" \
		'.[] | select(.container == $id and .ifname == $ifn) | .port'
}

# nothing_of ID NS IFNAME: no port of container ID, no IFNAME in NS, no
# lease of ID.
nothing_of()
{
	[[ -z $(port_of "$1" "$3") ]] || fail "port of $1 left behind: $(ubctl netns show)"
	! link_exists "$3" "$2" || fail "$3 left behind in $2: $(ip -n "$2" -br link)"
	! grep -rqs -- "$1" "$IPAM" || fail "lease of $1 left behind: $(grep -rs -- "$1" "$IPAM")"
}

mac_in() { ip netns exec "$1" cat "/sys/class/net/$2/address"; }

step "VERSION, without a configuration to speak of"
cni VERSION "" dummy dummy '{"cniVersion":"1.0.0"}'
expect_ok VERSION
jq -e '.cniVersion == "1.0.0" and .supportedVersions == ["0.3.0","0.3.1","0.4.0","1.0.0"]' <<<"$OUT" >/dev/null ||
	fail "VERSION: $OUT"
cni VERSION "" dummy dummy 'not json'
expect_ok "VERSION with garbage on stdin"

step "ADD with isGateway: the result matches the namespace and netns show"
[[ -z $(ubctl -j gateway show | jq -r '.addr // empty') ]] || fail "a gateway before the first ADD"
CONF=$(conf '.isGateway = true')
ID1=${P}id1 ID2=${P}id2
cni ADD "$ID1" "/run/netns/$C1" eth0 "$CONF"
expect_ok "ADD $ID1"
R1=$OUT
info "$R1"
port1=$(port_of "$ID1")
[[ -n $port1 ]] || fail "netns show does not list container $ID1: $(ubctl netns show)"
mac1=$(mac_in "$C1" eth0)
ip1=$(jq -r '.ips[0].address' <<<"$R1")
jq -e --arg p "$port1" --arg pm "$(cat "/sys/class/net/$port1/address")" \
	--arg m "$mac1" --arg ns "/run/netns/$C1" --arg gw "$SUB.1" '
	.cniVersion == "1.0.0" and (.interfaces | length) == 2 and
	.interfaces[0] == {name: $p, mac: $pm} and
	.interfaces[1] == {name: "eth0", mac: $m, sandbox: $ns} and
	(.ips | length) == 1 and .ips[0].interface == 1 and
	.ips[0].gateway == $gw and (.ips[0] | has("version") | not)' <<<"$R1" >/dev/null ||
	fail "ADD's result does not match port $port1 and eth0 ($mac1) in $C1: $R1"
[[ $ip1 == "$SUB".*/24 ]] || fail "address $ip1 not in $SUB.0/24"
ip -n "$C1" -4 -o addr show dev eth0 | matches " inet $ip1 " ||
	fail "$ip1 is not on eth0 in $C1: $(ip -n "$C1" addr)"
ip -n "$C1" link show eth0 | matches '<[^>]*\bUP\b' || fail "eth0 in $C1 is not up"
expect_eq "the bridge's gateway" "$SUB.1/24" "$(ubctl -j gateway show | jq -r '.addr')"

step "a second container: the two ping each other, their MACs in the FDB"
cni ADD "$ID2" "/run/netns/$C2" eth0 "$CONF"
expect_ok "ADD $ID2"
R2=$OUT
port2=$(port_of "$ID2")
mac2=$(mac_in "$C2" eth0)
ip2=$(jq -r '.ips[0].address' <<<"$R2")
[[ -n $port2 && $ip2 != "$ip1" ]] || fail "second ADD: port '$port2', address $ip2 (first $ip1)"
ping_addr "$C1" "${ip2%/*}" 3 || fail "ping $C1 -> $C2 (${ip2%/*})"
ping_addr "$C2" "${ip1%/*}" 2 || fail "ping $C2 -> $C1 (${ip1%/*})"
expect_fdb "$mac1" "$port1"
expect_fdb "$mac2" "$port2"
ping -q -c 2 -i 0.2 -W 1 "${ip1%/*}" >/dev/null || fail "ping host -> $C1 (${ip1%/*}) through the gateway"
ping_addr "$C2" "$SUB.1" 2 || fail "ping $C2 -> the gateway $SUB.1"

step "CHECK: passes after ADD; code 3 for an unknown container; 999 once the address is gone"
CHECK1=$(jq -c --argjson r "$R1" '.prevResult = $r' <<<"$CONF")
cni CHECK "$ID1" "/run/netns/$C1" eth0 "$CHECK1"
expect_ok "CHECK $ID1"
[[ -z $OUT ]] || fail "CHECK printed something: $OUT"
cni CHECK "${P}nobody" "/run/netns/$C1" eth0 "$CHECK1"
expect_error "CHECK of an unknown container" 3
cni CHECK "$ID1" "/run/netns/$C1" eth0 "$(conf '.cniVersion = "0.3.1"')"
expect_error "CHECK in 0.3.1" 1
cni CHECK "$ID1" "/run/netns/$C1" eth0 "$CONF"
expect_error "CHECK without prevResult" 7
ip -n "$C1" addr del "$ip1" dev eth0
cni CHECK "$ID1" "/run/netns/$C1" eth0 "$CHECK1"
expect_error "CHECK after the address was removed" 999
[[ $(jq -r .details <<<"$OUT") == *"$ip1"* ]] || fail "CHECK's details do not name $ip1: $OUT"

step "DEL removes the port; DEL again is fine; DEL of a namespace already gone is fine"
cni DEL "$ID1" "/run/netns/$C1" eth0 "$CHECK1"
expect_ok "DEL $ID1"
[[ -z $OUT ]] || fail "DEL printed something: $OUT"
nothing_of "$ID1" "$C1" eth0
! link_exists "$port1" || fail "DEL left $port1"
cni DEL "$ID1" "/run/netns/$C1" eth0 "$CHECK1"
expect_ok "second DEL $ID1"
cni DEL "$ID1" "" eth0 "$CONF"
expect_ok "DEL $ID1 without CNI_NETNS"
ip netns del "$C2"
cni DEL "$ID2" "/run/netns/$C2" eth0 "$CONF"
expect_ok "DEL $ID2 after its namespace went"
[[ -z $(port_of "$ID2") ]] || fail "port of $ID2 left behind: $(ubctl netns show)"
! grep -rqs -- "$ID2" "$IPAM" || fail "lease of $ID2 left behind"

step "errors: malformed JSON 6, cniVersion 9.9.9 1, no CNI_NETNS 4, bad mac 7, bad mtu 7, bad vlan 7, bad CNI_COMMAND 4"
cni ADD "${P}e" "/run/netns/$C3" eth0 '{"cniVersion": "1.0.0", "name": '
expect_error "malformed JSON" 6
cni ADD "${P}e" "/run/netns/$C3" eth0 "$(conf '.cniVersion = "9.9.9"')"
expect_error "cniVersion 9.9.9" 1
cni ADD "${P}e" "" eth0 "$CONF"
expect_error "ADD without CNI_NETNS" 4
cni ADD "${P}e" "/run/netns/$C3" eth0 "$(conf '.mac = "01:00:5e:00:00:01"')"
expect_error "multicast mac" 7
cni ADD "${P}e" "/run/netns/$C3" eth0 "$(conf '.mtu = 20')"
expect_error "mtu 20" 7
cni ADD "${P}e" "/run/netns/$C3" eth0 "$(conf '.vlan = 4095')"
expect_error "vlan 4095" 7
cni ADD "${P}e" "/run/netns/$C3" eth0 "$(conf '.ipam = {}')"
expect_error "ipam without type" 7
cni FOO "${P}e" "/run/netns/$C3" eth0 "$CONF"
expect_error "CNI_COMMAND FOO" 4
expect_eq "error version of a 0.4.0 configuration" 0.4.0 \
	"$(cni ADD "${P}e" "" eth0 "$(conf '.cniVersion = "0.4.0"')"; jq -r .cniVersion <<<"$OUT")"
nothing_of "${P}e" "$C3" eth0

step "\"vlan\": 10 makes the container's port an access port of VLAN 10"
cni ADD "${P}v" "/run/netns/$C3" eth0 "$(conf '.vlan = 10')"
expect_ok "ADD with vlan 10"
expect_eq "the port's VLANs (pvid vids untagged)" "10 10 10" \
	"$(ubctl -j vlan show | jq -r --arg p "$(port_of "${P}v")" '.[] | select(.port == $p) | "\(.pvid) \(.vids) \(.untagged)"')"
cni DEL "${P}v" "/run/netns/$C3" eth0 "$(conf '.vlan = 10')"
expect_ok "DEL ${P}v"
nothing_of "${P}v" "$C3" eth0

step "a failure after the attach leaves nothing: IPAM missing, range exhausted, another gateway"
cni ADD "${P}f1" "/run/netns/$C3" eth0 "$(conf '.ipam.type = "no-such-ipam"')"
expect_error "IPAM type that does not exist" 999
nothing_of "${P}f1" "$C3" eth0
ONE=$(conf '.ipam = {type: "host-local", dataDir: (.ipam.dataDir + "-one"),
	ranges: [[{subnet: .ipam.subnet, rangeStart: "'"$SUB"'.200", rangeEnd: "'"$SUB"'.200"}]]}')
cni ADD "${P}f2" "/run/netns/$C3" eth0 "$ONE"
expect_ok "ADD with a range of one address"
cni ADD "${P}f3" "/run/netns/$C3" eth1 "$ONE"
((RC == 1)) || fail "ADD with the range exhausted: exit status $RC, stdout: $OUT"
# host-local's own error (code 999, its msg), passed on as it is.
expect_error "ADD with the range exhausted" 999
[[ $(jq -r .msg <<<"$OUT") == "failed to allocate for range 0: no IP addresses available in range set: $SUB.200-$SUB.200" ]] ||
	fail "not host-local's error: $OUT"
nothing_of "${P}f3" "$C3" eth1
cni DEL "${P}f2" "/run/netns/$C3" eth0 "$ONE"
expect_ok "DEL ${P}f2"
nothing_of "${P}f2" "$C3" eth0
cni ADD "${P}f4" "/run/netns/$C3" eth0 "$(conf '.isGateway = true | .ipam.gateway = "'"$SUB"'.254"')"
expect_error "ADD with a gateway other than the bridge's" 999
[[ $OUT == *"gateway is $SUB.1/24"*"$SUB.254/24"* ]] || fail "the mismatch is not told: $OUT"
nothing_of "${P}f4" "$C3" eth0

step "0.4.0: version in ips, CHECK; CNI_ARGS MAC= sets the MAC; isDefaultGateway routes"
C04=$(conf '.cniVersion = "0.4.0" | .isDefaultGateway = true')
ARGS="IgnoreUnknown=1;K8S_POD_NAME=x;MAC=02:00:00:c0:ff:ee" cni ADD "${P}v4" "/run/netns/$C3" eth2 "$C04"
expect_ok "ADD in 0.4.0"
jq -e '.cniVersion == "0.4.0" and .ips[0].version == "4" and .interfaces[1].mac == "02:00:00:c0:ff:ee"' \
	<<<"$OUT" >/dev/null || fail "0.4.0 result: $OUT"
expect_eq "MAC of eth2" 02:00:00:c0:ff:ee "$(mac_in "$C3" eth2)"
expect_eq "default route in $C3" "default via $SUB.1 dev eth2" "$(ip -n "$C3" route show default | xargs)"
cni CHECK "${P}v4" "/run/netns/$C3" eth2 "$(jq -c --argjson r "$OUT" '.prevResult = $r' <<<"$C04")"
expect_ok "CHECK in 0.4.0"

step "the daemon stopped: ADD is 'try again later' (11), DEL still removes the interface inside"
stop_bridge "$P" || fail "ubridge exited with $? on SIGTERM"
cni ADD "${P}d" "/run/netns/$C3" eth3 "$CONF"
expect_error "ADD with the daemon stopped" 11
[[ $(jq -r .msg <<<"$OUT") == "ubridge daemon not running" && $(jq -r .details <<<"$OUT") == *"/run/ubridge/$P.sock"* ]] ||
	fail "ADD with the daemon stopped: $OUT"
! link_exists eth3 "$C3" || fail "ADD with the daemon stopped left eth3"
link_exists eth2 "$C3" || fail "eth2 in $C3 went with the daemon"
cni DEL "${P}v4" "/run/netns/$C3" eth2 "$C04"
expect_ok "DEL with the daemon stopped"
! link_exists eth2 "$C3" || fail "DEL with the daemon stopped left eth2 in $C3"
! grep -rqs -- "${P}v4" "$IPAM" || fail "DEL with the daemon stopped left the lease"

test_done
