#!/bin/bash
# SPDX-License-Identifier: MIT
# VXLAN across "hosts": each host a network namespace on an underlay, with
# a ubridge daemon inside it and a VXLAN port (ubctl vxlan add), or Linux's
# own vxlan driver and a kernel bridge; containers (MTU 1450, default
# offloads) behind each. See overlay_lib.sh for the topology.
#
# Parts (UBT_VXLAN_PARTS, default all, in this order):
#   kk     two kernel hosts: ping and 20 MiB over TCP both ways; the
#          malformed datagrams of "bad" against the kernel driver (none
#          gets through, a well-formed one does). No ubridge at all: it
#          proves the scaffolding.
#   kk3    three kernel hosts on an underlay bridge: the checks of "three"
#          that apply to a kernel bridge (floods once each, where the MACs
#          are, a MAC that moves).
#   local  a ubridge daemon inside a host namespace, two containers made
#          by ubctl netns add (host ends in the host namespace): ping. No
#          VXLAN port.
#   uu     ubridge <-> ubridge: ping and 20 MiB over TCP both ways,
#          content checked; each learned the other's container with dst=.
#   uk     ubridge <-> kernel vxlan + bridge: the same (interoperability).
#   uu6, uk6  uu and uk over an IPv6 underlay.
#   three  two ubridge hosts and a kernel one: a broadcast and an unknown
#          unicast from any container reach every other container exactly
#          once and never come back; fdb show on the ubridge hosts gives
#          each remote container's MAC with dst= its host's underlay
#          address; a MAC that moves from host B to a local port of host A
#          follows it on every host.
#   bad    malformed datagrams at the ubridge host's UDP port 4789 (too
#          short, no I flag, reserved bits, wrong VNI, inner frame shorter
#          than 14 bytes): each counted in its rx_drop_vxlan_* counter,
#          nothing forwarded, ping works afterwards.
#   cli    vxlan add/show/del, vxlan remote add/del, fdb add ... dst,
#          the options shown back, and errors (VNI 16777216, bad
#          addresses, a duplicate name) refused with a message and a
#          non-zero status.
#
#   UBT_VXLAN_PARTS="kk uk" bash tests/integration/vxlan.sh   (with
#   UBRIDGE, UBCTL and UBT_FRAME set, as ctest does)
UBT_ID=vx
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/overlay_lib.sh"

# ---- pieces the parts share ----

# pair_traffic X Y: offloads on, ping both ways, TCP both ways.
pair_traffic()
{
	local x=$1 y=$2
	step "offloads are on (the defaults) in $x and $y"
	ov_offloads "$x" "$y"
	ov_ping "$x" "$y"
	ov_ping "$y" "$x"
	ov_tcp "$x" "$y"
	ov_tcp "$y" "$x"
}

# two_hosts KIND1 KIND2 KEY1 KEY2: hosts KEY1 and KEY2 on a veth underlay,
# each with a VTEP of its KIND (ubridge or kernel) toward the other.
two_hosts()
{
	ov_host "$3"
	ov_host "$4"
	ov_underlay "$OV_NET" "$3" "$4"
	ov_vtep "$3" "$1" "$4"
	ov_vtep "$4" "$2" "$3"
}

# three_hosts KIND_A KIND_B KIND_C: hosts A, B and C on an underlay
# bridge, containers a1 and a2 behind A, b1 behind B, c1 behind C.
three_hosts()
{
	local -a names=(a1 a2 b1 c1)
	local n s i key x moved want line

	ov_host A
	ov_host B
	ov_host C
	ov_underlay "$OV_NET" A B C
	ov_vtep A "$1" B C
	ov_vtep B "$2" A C
	ov_vtep C "$3" A B
	ov_container A a1 172.16.42.1/24
	ov_container A a2 172.16.42.2/24
	ov_container B b1 172.16.42.11/24
	ov_container C c1 172.16.42.21/24
	ov_ping a1 b1
	ov_ping a1 c1
	ov_ping b1 c1

	step "floods: a broadcast from each container, an unknown unicast from a1"
	for n in "${names[@]}"; do
		recv_start "$n" "$UBT_TMP/fl-$n" --timeout 2500
	done
	i=0
	for n in "${names[@]}"; do
		i=$((i + 1))
		send "$n" --src "${MAC[$n]}" --dst ff:ff:ff:ff:ff:ff --id $((10 + i)) --count 3
	done
	send a1 --src "${MAC[a1]}" --dst 02:00:00:de:ad:01 --id 20 --count 3
	recv_wait
	step "each reached every other container exactly once, none came back to its sender"
	for n in "${names[@]}"; do
		i=0
		for s in "${names[@]}"; do
			i=$((i + 1))
			if [[ $s == "$n" ]]; then
				expect_frames "$s's broadcast seen by $s itself" "$UBT_TMP/fl-$n" $((10 + i)) 0
			else
				expect_frames "$s's broadcast in $n" "$UBT_TMP/fl-$n" $((10 + i)) 3
			fi
		done
		if [[ $n == a1 ]]; then
			expect_frames "a1's unknown unicast seen by a1 itself" "$UBT_TMP/fl-$n" 20 0
		else
			expect_frames "a1's unknown unicast in $n" "$UBT_TMP/fl-$n" 20 3
		fi
	done
	info "every flood crossed once to each container"

	step "each host has each container where it is: its local port, or vx0 (and on ubridge, dst= its host)"
	for key in A B C; do
		for x in "${names[@]}"; do
			if [[ ${OV_HOSTOF[$x]} == "$key" ]]; then
				want=${HOSTIF[$x]}
			else
				want=$(ov_remote_where "$x" "$key")
			fi
			ov_expect_where "$key" "${MAC[$x]}" "$want"
		done
		info "host $key (${OV_KIND[$key]}): ok"
		[[ ${OV_KIND[$key]} == ubridge ]] || continue
		# The text form says it too (dst=IP, or "dst IP" as fdb show
		# prints a key it does not know).
		for x in "${names[@]}"; do
			[[ ${OV_HOSTOF[$x]} != "$key" ]] || continue
			line=$(ubh "$key" fdb show | grep -iF -- "${MAC[$x]}" || true)
			[[ $line =~ dst[=\ ]${OV_UL[${OV_HOSTOF[$x]}]//./\\.}([[:space:]]|$) ]] ||
				ov_fail "host $key: fdb show for ${MAC[$x]} ($x): expected dst=${OV_UL[${OV_HOSTOF[$x]}]}, saw '$line'"
		done
	done

	step "a MAC moves: b1's leaves host B (link down) and comes back behind host A (a3)"
	moved=${MAC[b1]}
	ip -n "${P}b1" link set eth0 down
	ov_container A a3 "${IP[b1]}/24" "$moved"
	ov_ping a3 c1
	# Every host hears of it, whatever ARP did.
	send a3 --src "$moved" --dst ff:ff:ff:ff:ff:ff --id 30
	ov_expect_where A "$moved" "${HOSTIF[a3]}"
	ov_expect_where B "$moved" "$(ov_remote_where a3 B)"
	ov_expect_where C "$moved" "$(ov_remote_where a3 C)"
	info "A has $moved on ${HOSTIF[a3]}, B and C on vx0 (toward ${OV_UL[A]})"
	ov_ping c1 a3
	ov_ping a2 a3
}

# ---- the parts ----

part_kk()
{
	two_hosts kernel kernel K1 K2
	ov_container K1 k1 172.16.42.1/24
	ov_container K2 k2 172.16.42.2/24
	pair_traffic k1 k2
	ov_malformed K2 K1 k1
	ov_ping k2 k1
}

part_kk3() { three_hosts kernel kernel kernel; }

part_local()
{
	ov_host A
	ov_ubridge_start A
	ov_container A a1 172.16.42.1/24
	ov_container A a2 172.16.42.2/24
	ov_offloads a1 a2
	ov_ping a1 a2
	ov_ping a2 a1
	! link_exists "${HOSTIF[a1]}" || fail "${HOSTIF[a1]} is in the root namespace"
	BR=${OV_BRN[A]}
	expect_fdb "${MAC[a1]}" "${HOSTIF[a1]}"
	expect_fdb "${MAC[a2]}" "${HOSTIF[a2]}"
}

part_uu()
{
	two_hosts ubridge ubridge A B
	ov_container A a1 172.16.42.1/24
	ov_container B b1 172.16.42.2/24
	BR=${OV_BRN[A]}
	port_listed vx0 || ov_fail "port show on A does not list vx0"
	pair_traffic a1 b1
	ov_expect_where A "${MAC[b1]}" "vx0 dst=${OV_UL[B]}"
	ov_expect_where B "${MAC[a1]}" "vx0 dst=${OV_UL[A]}"
}

part_uk()
{
	two_hosts ubridge kernel A K
	ov_container A a1 172.16.42.1/24
	ov_container K k1 172.16.42.2/24
	pair_traffic a1 k1
	ov_expect_where A "${MAC[k1]}" "vx0 dst=${OV_UL[K]}"
	ov_expect_where K "${MAC[a1]}" vx0
}

part_three() { three_hosts ubridge ubridge kernel; }

# The same over an IPv6 underlay.
part_uu6() { OV_UL6=1 part_uu; }
part_uk6() { OV_UL6=1 part_uk; }

part_bad()
{
	two_hosts ubridge kernel A K
	ov_container A a1 172.16.42.1/24
	ov_container K k1 172.16.42.2/24
	ov_ping a1 k1
	ov_malformed K A a1
	step "the bridge still forwards"
	ov_ping a1 k1
	ov_ping k1 a1
}

# vx_field KEY PORT FIELD: FIELD of PORT in `vxlan show -j` on host KEY,
# as text ("missing" when absent; an array joined with commas).
vx_field()
{
	ubh "$1" -j vxlan show | jq -r --arg n "$2" --arg f "$3" '.[] | select(.name == $n) | .[$f] |
		if . == null then "missing" elif type == "array" then join(",") else tostring end'
}

# vx_remotes KEY PORT: the flood list (field "flood"), sorted, one line,
# space-separated (nothing for an empty list, shown "-").
vx_remotes()
{
	local v
	v=$(vx_field "$1" "$2" flood)
	[[ $v != missing ]] || fail "vxlan show $2: no field flood: $(ubh "$1" -j vxlan show)"
	tr -c '0-9a-fA-F.:' '\n' <<<"$v" | grep -E '^[0-9a-fA-F.:]+$' | sort | paste -sd' ' || true
}

# vx_learning KEY PORT: on or off, however the field spells it.
vx_learning()
{
	case $(vx_field "$1" "$2" learning) in
	on | yes | true | 1) echo on ;;
	off | no | false | 0) echo off ;;
	*) vx_field "$1" "$2" learning ;;
	esac
}

vx_names() { ubh "$1" -j vxlan show | jq -r '[.[].name] | sort | join(" ")'; }

# udp_bound KEY ADDR:PORT: a UDP socket in host KEY is bound to ADDR:PORT.
udp_bound() { in_ns "$(ov_host_ns "$1")" ss -Huan | awk -v a="$2" '$4 == a { f = 1 } END { exit !f }'; }
udp_gone() { ! udp_bound A "$1"; }

# refused WHAT REGEX CMD...: CMD fails (status not 0) and says something
# matching the extended REGEX (case-insensitive).
refused()
{
	local what=$1 re=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	((rc != 0)) || fail "$what: accepted (exit 0): '$out'"
	[[ -n $out ]] || fail "$what: refused (exit $rc) without a message"
	shopt -s nocasematch
	if ! [[ $out =~ $re ]]; then
		shopt -u nocasematch
		fail "$what: refused (exit $rc), but the message does not say what is wrong (/$re/): '$out'"
	fi
	shopt -u nocasematch
	info "$what: exit $rc: $out"
}

part_cli()
{
	local a b c mac1=02:00:00:00:aa:01 mac2=02:00:00:00:aa:02 mac3=02:00:00:00:aa:03 net=$OV_NET
	ov_host A
	ov_host B
	ov_underlay "$net" A B
	ov_ubridge_start A
	a=${OV_UL[A]} b=${OV_UL[B]} c=$net.3

	step "vxlan add vx0: shown with its settings and defaults; bound to $a:4789"
	ubh A vxlan add vx0 --vni 4242 --local "$a" --remote "$b" || fail "vxlan add vx0 failed"
	ubh A vxlan show | sed 's/^/    /'
	expect_eq "vxlan show: names" vx0 "$(vx_names A)"
	expect_eq "vxlan show vx0: vni" 4242 "$(vx_field A vx0 vni)"
	expect_eq "vxlan show vx0: local" "$a" "$(vx_field A vx0 local)"
	expect_eq "vxlan show vx0: dstport (default)" 4789 "$(vx_field A vx0 dstport)"
	expect_eq "vxlan show vx0: learning (default)" on "$(vx_learning A vx0)"
	expect_eq "vxlan show vx0: remotes" "$b" "$(vx_remotes A vx0)"
	for f in srcport ttl; do
		[[ $(vx_field A vx0 $f) != missing ]] || fail "vxlan show vx0: no field $f"
	done
	ubh A vxlan show | matches -F vx0 || fail "vxlan show (text) does not name vx0"
	ubh A vxlan show | matches -F "$b" || fail "vxlan show (text) does not list remote $b"
	BR=${OV_BRN[A]}
	port_listed vx0 || fail "port show does not list vx0: $(ubctl port show)"
	poll_until 3 udp_bound A "$a:4789" ||
		fail "no UDP socket bound to $a:4789 in host A: $(in_ns "$(ov_host_ns A)" ss -Huan)"

	step "vxlan remote add / del"
	ubh A vxlan remote add vx0 "$c" || fail "vxlan remote add vx0 $c failed"
	expect_eq "remotes after remote add $c" "$(printf '%s\n' "$b" "$c" | sort | paste -sd' ')" "$(vx_remotes A vx0)"
	ubh A vxlan remote del vx0 "$b" || fail "vxlan remote del vx0 $b failed"
	expect_eq "remotes after remote del $b" "$c" "$(vx_remotes A vx0)"
	ubh A vxlan show | matches -F "$c" || fail "vxlan show (text) does not list remote $c"
	refused "vxlan remote add vx0 999.1.1.1" 'remote|999\.1\.1\.1|address' ubh A vxlan remote add vx0 999.1.1.1
	refused "vxlan remote add to a port that does not exist" 'nosuch|no such|not found|unknown|exist' \
		ubh A vxlan remote add nosuch "$b"

	step "fdb add MAC dev vx0 dst IP [vlan VID]"
	ubh A fdb add "$mac1" dev vx0 dst "$net.9" || fail "fdb add $mac1 dev vx0 dst $net.9 failed"
	ubh A fdb add "$mac2" dev vx0 dst "$c" vlan 7 || fail "fdb add $mac2 dev vx0 dst $c vlan 7 failed"
	ubh A fdb show | sed 's/^/    /'
	ov_expect_where A "$mac1" "vx0 dst=$net.9"
	ov_expect_where A "$mac2" "vx0 dst=$c"
	expect_eq "type of $mac1" static "$(fdb_type_of "$mac1")"
	expect_eq "vlan of $mac2" 7 "$(ubctl -j fdb show | jq -r --arg m "$mac2" '.[] | select(.mac == $m) | .vlan')"
	[[ $(ubctl fdb show | grep -iF "$mac1") =~ dst[=\ ]${net//./\\.}\.9([[:space:]]|$) ]] ||
		fail "fdb show (text) for $mac1: expected dst=$net.9, saw '$(ubctl fdb show | grep -iF "$mac1")'"
	refused "fdb add ... dst with a bad address" 'dst|300|address' ubh A fdb add "$mac3" dev vx0 dst "$net.300"
	expect_eq "entry for $mac3 after the refused fdb add" "" "$(ov_where A "$mac3")"

	step "vxlan add errors: a bad VNI, bad addresses, a duplicate name"
	refused "vxlan add with VNI 16777216" 'vni|16777216' \
		ubh A vxlan add vxbad --vni 16777216 --local "$a"
	refused "vxlan add with a bad local address" 'local|300|address' \
		ubh A vxlan add vxbad --vni 5 --local "$net.300" --dstport 4791
	refused "vxlan add with a bad remote" 'remote|not-an-ip|address' \
		ubh A vxlan add vxbad --vni 5 --local "$a" --remote not-an-ip --dstport 4791
	refused "vxlan add with a local address not on the host" '.' \
		ubh A vxlan add vxbad --vni 5 --local 192.0.2.1 --dstport 4791
	refused "vxlan add of a name taken" 'vx0|exist|taken|in use' \
		ubh A vxlan add vx0 --vni 4243 --local "$a" --dstport 4791
	refused "vxlan add without --vni" 'vni' ubh A vxlan add vxbad --local "$a" --dstport 4791
	refused "vxlan add without --local" 'local' ubh A vxlan add vxbad --vni 5 --dstport 4791
	refused "vxlan del of a port that does not exist" '.' ubh A vxlan del nosuch
	expect_eq "vxlan show after the refused commands" vx0 "$(vx_names A)"
	! port_listed vxbad || fail "a refused vxlan add left port vxbad"
	expect_eq "vx0's VNI after the refused duplicate" 4242 "$(vx_field A vx0 vni)"

	step "a second port with every option: VNI 16777215, --dstport, --srcport, --ttl, --no-learning"
	ubh A vxlan add vx1 --vni 16777215 --local "$a" --dstport 4790 --srcport 50000-50100 \
		--ttl 32 --no-learning || fail "vxlan add vx1 with every option failed"
	ubh A vxlan show | sed 's/^/    /'
	expect_eq "vxlan show: names" "vx0 vx1" "$(vx_names A)"
	expect_eq "vx1: vni" 16777215 "$(vx_field A vx1 vni)"
	expect_eq "vx1: dstport" 4790 "$(vx_field A vx1 dstport)"
	expect_eq "vx1: srcport" 50000-50100 "$(vx_field A vx1 srcport)"
	expect_eq "vx1: ttl" 32 "$(vx_field A vx1 ttl)"
	expect_eq "vx1: learning" off "$(vx_learning A vx1)"
	expect_eq "vx1: remotes" "" "$(vx_remotes A vx1)"
	poll_until 3 udp_bound A "$a:4790" || fail "no UDP socket bound to $a:4790 for vx1"

	step "a restart brings both ports back from the state file: options, flood lists, static entries"
	local vx_before fdb_before
	# Remotes only learned are not configuration: their count may differ.
	vx_before=$(ubh A -j vxlan show | jq -S 'map(del(.remotes_known))')
	fdb_before=$(ubh A -j fdb show | jq -S '[.[] | select(.type == "static")] | sort_by(.mac)')
	stop_bridge "${OV_BRN[A]}" || fail "stopping ubridge A failed"
	ov_ubridge_start A
	expect_eq "vxlan show after the restart" "$vx_before" \
		"$(ubh A -j vxlan show | jq -S 'map(del(.remotes_known))')"
	expect_eq "static entries after the restart" "$fdb_before" \
		"$(ubh A -j fdb show | jq -S '[.[] | select(.type == "static")] | sort_by(.mac)')"
	poll_until 3 udp_bound A "$a:4790" || fail "no UDP socket bound to $a:4790 after the restart"

	ubh A vxlan del vx1 || fail "vxlan del vx1 failed"
	expect_eq "vxlan show after del vx1" vx0 "$(vx_names A)"
	poll_until 3 udp_gone "$a:4790" || fail "$a:4790 still bound after vxlan del vx1"

	step "vxlan del vx0: the port, its entries and its socket go"
	ubh A vxlan del vx0 || fail "vxlan del vx0 failed"
	expect_eq "vxlan show after del vx0" "" "$(vx_names A)"
	! port_listed vx0 || fail "port show still lists vx0 after vxlan del"
	expect_eq "entry for $mac1 after vxlan del" "" "$(ov_where A "$mac1")"
	expect_eq "entry for $mac2 after vxlan del" "" "$(ov_where A "$mac2")"
	poll_until 3 udp_gone "$a:4789" || fail "$a:4789 still bound after vxlan del vx0"
	refused "vxlan remote add to a deleted port" '.' ubh A vxlan remote add vx0 "$b"
	bridge_alive "${OV_BRN[A]}"
}

# ---- run ----

PARTS=${UBT_VXLAN_PARTS:-kk kk3 local uu uk uu6 uk6 three bad cli}
for part in $PARTS; do
	declare -F "part_$part" >/dev/null ||
		fail "UBT_VXLAN_PARTS: no part '$part' (there are: kk kk3 local uu uk uu6 uk6 three bad cli)"
done
n=0
for part in $PARTS; do
	n=$((n + 1))
	# Each part has namespaces of its own; distinct underlays all the same,
	# for readable logs.
	OV_NET=10.99.$n
	step "---- part $part ----"
	t0=$SECONDS
	"part_$part"
	ov_teardown
	info "part $part passed in $((SECONDS - t0)) s"
done
test_done
