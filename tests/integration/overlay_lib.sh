# SPDX-License-Identifier: MIT
#
# Sourced after lib.sh by the overlay (VXLAN) tests: "hosts" on one
# machine, each a network namespace, joined by an underlay, with a VTEP
# in each: a ubridge daemon with a VXLAN port, or Linux's own vxlan driver
# and a kernel bridge; "containers" (namespaces with a veth, MTU 1450)
# behind each host.
#
#   ov_host KEY                  host namespace ${P}hKEY (IPv6 off, lo up)
#   ov_underlay NET KEY...       the underlay: a veth pair (two hosts) or a
#                                kernel bridge in namespace ${P}ul (three
#                                or more); host i gets NET.i/24 on "ul0"
#                                (OV_UL[KEY])
#   ov_ubridge_start KEY         a ubridge daemon inside the host's
#                                namespace (bridge ${P}KEY, OV_BRN[KEY])
#   ov_vtep KEY ubridge|kernel REMOTE_KEY... [-- VXLAN-ADD-OPTIONS]
#                                the host's VTEP (VNI $OV_VNI, port vx0,
#                                dstport 4789) flooding to the remotes
#   ov_container KEY NAME CIDR [MAC]
#                                container namespace ${P}NAME behind the
#                                host (ubctl netns add, or a veth into the
#                                kernel bridge); sets IP, MAC, HOSTIF
#   ubh KEY ARGS...              ubctl for the host's bridge
#   ov_offloads NAME...          asserts TSO and checksum offload on
#   ov_ping FROM TO              ping between containers (bounded)
#   ov_tcp FROM TO               20 MiB over TCP, size and sha256 checked
#   ov_where KEY MAC / ov_expect_where KEY MAC WANT
#                                where a host's bridge has MAC: "PORT" or,
#                                for a ubridge entry with a remote VTEP,
#                                "PORT dst=IP"
#   ov_malformed SENDER TARGET WATCH
#                                malformed VXLAN datagrams at TARGET's UDP
#                                port 4789 from SENDER's namespace: none
#                                reaches container WATCH, a well-formed one
#                                does, and a ubridge TARGET counts each
#   ov_teardown                  stops the daemons and removes the
#                                namespaces made since the last teardown
#                                (lib.sh's cleanup does the same on exit)
#
# Why nsenter and not "ip netns exec" for the daemon: ip netns exec also
# gives the command a mount namespace of its own, a slave of the host's,
# and "ubctl netns add" bind-mounts the namespaces it makes under
# /run/netns from inside the daemon: from there the mounts would not
# propagate back, and "ip netns exec CONTAINER" outside would find an
# empty file. nsenter --net changes the network namespace only. The
# daemon needs nothing of /sys; its control socket under /run/ubridge is
# shared by every namespace.
#
# Interface names inside the test's own namespaces (ul0, vx0, br0, c-NAME)
# need no prefix: nothing else can see them. Nothing is made in the root
# namespace.

for t in nsenter python3 ethtool bridge sha256sum; do
	command -v "$t" >/dev/null || fail "needs '$t' installed"
done

# Docker's overlay does the same: 1500 on the underlay less 50 bytes of
# VXLAN, UDP, IPv4 and the inner Ethernet header.
OV_MTU=1450
: "${OV_VNI:=4242}"
OV_PORT=4789
declare -A OV_KIND=() OV_BRN=() OV_UL=() OV_HOSTOF=()
declare -a OV_MADE_NS=() OV_MADE_BR=() OV_HOSTS=()
OV_TCP_N=0

ov_host_ns() { echo "${P}h$1"; }

# ov_ns_new NS: a namespace of this test, registered for cleanup, with
# IPv6 off (no router solicitations or MLD in the counts) and lo up.
ov_ns_new()
{
	local ns=$1
	ip netns add "$ns"
	UBT_NS+=("$ns")
	OV_MADE_NS+=("$ns")
	in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	in_ns "$ns" ip link set lo up
}

ov_host()
{
	local key=$1
	step "host $key: namespace $(ov_host_ns "$key")"
	ov_ns_new "$(ov_host_ns "$key")"
	OV_HOSTS+=("$key")
	OV_KIND[$key]=plain
}

ov_underlay()
{
	local net=$1 i=0 key ns ul
	shift
	(($# >= 2)) || fail "ov_underlay: needs two hosts at least"
	if (($# == 2)); then
		step "underlay: veth $1 <-> $2, $net.0/24 (or IPv6 with OV_UL6=1)"
		ip -n "$(ov_host_ns "$1")" link add ul0 mtu 1500 type veth \
			peer name ul0 mtu 1500 netns "$(ov_host_ns "$2")"
	else
		ul=${P}ul
		step "underlay: kernel bridge in $ul for $*, $net.0/24"
		ov_ns_new "$ul"
		ip -n "$ul" link add br0 type bridge stp_state 0
		ip -n "$ul" link set br0 up
	fi
	for key; do
		i=$((i + 1))
		ns=$(ov_host_ns "$key")
		if [[ -n ${ul:-} ]]; then
			ip -n "$ul" link add "p$i" mtu 1500 type veth peer name ul0 mtu 1500 netns "$ns"
			ip -n "$ul" link set "p$i" master br0 up
		fi
		# OV_UL6=1: an IPv6 underlay, fd00:99:X::i/64 for net A.B.X.
		if [[ ${OV_UL6:-0} == 1 ]]; then
			OV_UL[$key]=fd00:99:${net##*.}::$i
			in_ns "$ns" sysctl -qw net.ipv6.conf.ul0.disable_ipv6=0
			ip -n "$ns" addr add "${OV_UL[$key]}/64" dev ul0 nodad
		else
			OV_UL[$key]=$net.$i
			ip -n "$ns" addr add "$net.$i/24" dev ul0
		fi
		ip -n "$ns" link set ul0 up
	done
	# The underlay passes traffic before anything is built on it.
	for key in "${@:2}"; do
		poll_until 5 ping_addr "$(ov_host_ns "$1")" "${OV_UL[$key]}" 1 ||
			fail "underlay: $1 cannot ping $key (${OV_UL[$key]})"
	done
}

ubh() { "$UBCTL" -n "${OV_BRN[$1]}" "${@:2}"; }

ov_ubridge_start()
{
	local key=$1 ns
	local -a saved=("${UBT_DAEMON_WRAPPER[@]}")
	ns=$(ov_host_ns "$key")
	UBT_DAEMON_WRAPPER=(nsenter "--net=/run/netns/$ns" "${saved[@]}")
	start_bridge "${P}$key"
	UBT_DAEMON_WRAPPER=("${saved[@]}")
	OV_KIND[$key]=ubridge
	OV_BRN[$key]=$BR
	# Once, also when a test restarts the daemon.
	[[ " ${OV_MADE_BR[*]} " == *" $BR "* ]] || OV_MADE_BR+=("$BR")
	# The daemon lives in the host's namespace, not the root one.
	[[ $(readlink "/proc/${UBT_BRPID[$BR]}/ns/net") == "$(in_ns "$ns" readlink /proc/self/ns/net)" ]] ||
		fail "ubridge $BR is not in namespace $ns"
}

# ov_vtep KEY KIND REMOTE_KEY... [-- VXLAN-ADD-OPTIONS]
ov_vtep()
{
	local key=$1 kind=$2 ns r out
	local -a remotes=() extra=() args=()
	shift 2
	while (($#)); do
		[[ $1 == -- ]] && { shift; extra=("$@"); break; }
		remotes+=("${OV_UL[$1]:?no underlay address for host $1}")
		shift
	done
	ns=$(ov_host_ns "$key")
	case $kind in
	ubridge)
		ov_ubridge_start "$key"
		args=(vxlan add vx0 --vni "$OV_VNI" --local "${OV_UL[$key]}")
		for r in "${remotes[@]}"; do
			args+=(--remote "$r")
		done
		args+=("${extra[@]}")
		step "host $key: ubctl ${args[*]}"
		out=$(ubh "$key" "${args[@]}" 2>&1) || fail "host $key: ubctl vxlan add failed: $out"
		;;
	kernel)
		step "host $key: kernel vxlan vx0 (VNI $OV_VNI, local ${OV_UL[$key]}) in bridge br0, flooding to ${remotes[*]}"
		OV_KIND[$key]=kernel
		ip -n "$ns" link add vx0 type vxlan id "$OV_VNI" dstport "$OV_PORT" \
			local "${OV_UL[$key]}" dev ul0 nolearning
		ip -n "$ns" link add br0 type bridge stp_state 0
		ip -n "$ns" link set vx0 master br0
		ip -n "$ns" link set vx0 up
		ip -n "$ns" link set br0 up
		for r in "${remotes[@]}"; do
			in_ns "$ns" bridge fdb append 00:00:00:00:00:00 dev vx0 dst "$r"
		done
		# The underlay keeps the veth's default offloads: the
		# kernel VTEP hands a ubridge host on the same machine TSO
		# super-frames and partial checksums, which ubridge must
		# finish (ub_vxlan_rx_offload()).
		;;
	*) fail "ov_vtep: unknown kind '$kind'" ;;
	esac
}

# The port NAME's veth has on its host's bridge.
ov_netns_port()
{
	ubh "$1" -j netns show | jq -r --arg n "$2" '.[] | select(.name == $n) | .port'
}

ov_container()
{
	local key=$1 name=$2 cidr=$3 mac=${4:-} ns=$P$2 hns out
	local -a macopt=()
	hns=$(ov_host_ns "$key")
	step "container $name behind host $key: $cidr, mtu $OV_MTU${mac:+, mac $mac}"
	case ${OV_KIND[$key]} in
	ubridge)
		[[ -z $mac ]] || macopt=(--mac "$mac")
		UBT_NS+=("$ns")
		OV_MADE_NS+=("$ns")
		out=$(ubh "$key" netns add "$ns" --addr "$cidr" --mtu "$OV_MTU" "${macopt[@]}" 2>&1) ||
			fail "host $key: ubctl netns add $ns failed: $out"
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		in_ns "$ns" ip link set lo up
		HOSTIF[$name]=$(ov_netns_port "$key" "$ns")
		[[ -n ${HOSTIF[$name]} ]] || fail "netns show on host $key does not list $ns"
		link_exists "${HOSTIF[$name]}" "$hns" ||
			fail "the host end ${HOSTIF[$name]} of $ns is not in the host's namespace $hns"
		;;
	kernel)
		[[ -z $mac ]] || macopt=(address "$mac")
		ov_ns_new "$ns"
		HOSTIF[$name]=c-$name
		ip -n "$hns" link add "c-$name" mtu "$OV_MTU" type veth \
			peer name eth0 mtu "$OV_MTU" "${macopt[@]}" netns "$ns"
		ip -n "$hns" link set "c-$name" master br0 up
		in_ns "$ns" ip addr add "$cidr" dev eth0
		in_ns "$ns" ip link set eth0 up
		;;
	*) fail "ov_container: host $key has no VTEP" ;;
	esac
	IP[$name]=${cidr%/*}
	MAC[$name]=$(in_ns "$ns" cat /sys/class/net/eth0/address)
	[[ -z $mac || ${MAC[$name]} == "$mac" ]] || fail "$name: MAC ${MAC[$name]}, not $mac"
	expect_eq "MTU of $name's eth0" "$OV_MTU" "$(in_ns "$ns" cat /sys/class/net/eth0/mtu)"
	OV_HOSTOF[$name]=$key
}

# What the hosts' bridges say, for a failure's message (stderr).
ov_diag()
{
	local key ns
	{
		for key in "${OV_HOSTS[@]}"; do
			ns=$(ov_host_ns "$key")
			case ${OV_KIND[$key]} in
			ubridge)
				echo "---- host $key (ubridge ${OV_BRN[$key]}) ----"
				ubh "$key" vxlan show 2>&1
				ubh "$key" -s port show 2>&1
				ubh "$key" fdb show 2>&1
				;;
			kernel)
				echo "---- host $key (kernel vxlan) ----"
				ip -n "$ns" -s link show vx0 2>&1
				in_ns "$ns" bridge fdb show br br0 2>&1 | grep -v permanent
				;;
			esac
		done
	} >&2 || true
}

ov_fail()
{
	ov_diag
	fail "$@"
}

ov_offloads()
{
	local name line feat
	for name; do
		for feat in tcp-segmentation-offload tx-checksumming; do
			line=$(in_ns "$P$name" ethtool -k eth0 | grep -E "^$feat:")
			[[ $line == "$feat: on"* ]] || fail "$name eth0: expected '$feat: on', saw '$line'"
		done
		line=$(in_ns "$(ov_host_ns "${OV_HOSTOF[$name]}")" ethtool -k "${HOSTIF[$name]}" |
			grep -E '^tcp-segmentation-offload:')
		[[ $line == "tcp-segmentation-offload: on"* ]] ||
			fail "${HOSTIF[$name]} (host end of $name): expected TSO on, saw '$line'"
	done
}

# ov_ping FROM TO [COUNT]: the first answer within 5 s (ARP on the
# underlay and the overlay), then COUNT (default 3) pings.
ov_ping()
{
	local from=$1 to=$2
	poll_until 5 ping_addr "$P$from" "${IP[$to]}" 1 ||
		ov_fail "ping $from -> $to (${IP[$to]}): no answer in 5 s"
	ping_addr "$P$from" "${IP[$to]}" "${3:-3}" ||
		ov_fail "ping $from -> $to (${IP[$to]}) failed after a first answer"
	info "ping $from -> $to ok"
}

ov_tcp_listening() { in_ns "$1" ss -Hltn "sport = :$2" | matches .; }

# ov_tcp FROM TO: 20 MiB of random bytes from container FROM to container
# TO over TCP, as tcp.sh: the size and sha256 must match. When FROM is
# behind a ubridge, its frames must reach the bridge as GSO super-frames
# (so the VXLAN port has segmenting to do).
ov_tcp()
{
	local from=$1 to=$2 port server rc start want got size pkts bytes pkts0=0 bytes0=0 fromub=0
	local in=$UBT_TMP/ov-in out=$UBT_TMP/ov-out

	step "20 MiB over TCP, $from -> $to"
	if [[ ! -s $in ]]; then
		head -c $((20 << 20)) /dev/urandom >"$in"
		sha256sum <"$in" | cut -d' ' -f1 >"$in.sha"
	fi
	want=$(<"$in.sha")
	rm -f "$out"
	OV_TCP_N=$((OV_TCP_N + 1))
	port=$((20000 + ($$ + OV_TCP_N) % 20000))
	if [[ ${OV_KIND[${OV_HOSTOF[$from]}]} == ubridge ]]; then
		fromub=1
		BR=${OV_BRN[${OV_HOSTOF[$from]}]}
		read -r pkts0 bytes0 < <(port_stat "${HOSTIF[$from]}" rx_packets rx_bytes)
	fi
	bg_ns "$to" timeout 20 socat -u "TCP-LISTEN:$port,bind=${IP[$to]},reuseaddr" "CREATE:$out"
	server=$UBT_LASTPID
	wait_until 5 "TCP listener in $to" ov_tcp_listening "$P$to" "$port"
	start=$SECONDS
	rc=0
	in_ns "$P$from" timeout 20 socat -u "OPEN:$in" "TCP:${IP[$to]}:$port" || rc=$?
	((rc == 0)) || ov_fail "TCP $from -> $to: the sender failed (exit $rc)"
	rc=0
	wait "$server" || rc=$?
	((rc == 0)) || ov_fail "TCP $from -> $to: the receiver failed (exit $rc)"
	info "transfer took about $((SECONDS - start)) s"
	size=$(stat -c %s "$out")
	expect_eq "bytes received $from -> $to" $((20 << 20)) "$size"
	got=$(sha256sum <"$out" | cut -d' ' -f1)
	expect_eq "sha256 of what $to received from $from" "$want" "$got"
	if ((fromub)); then
		read -r pkts bytes < <(port_stat "${HOSTIF[$from]}" rx_packets rx_bytes)
		pkts=$((pkts - pkts0)) bytes=$((bytes - bytes0))
		info "${HOSTIF[$from]}: $pkts frames, $bytes bytes into the bridge"
		((pkts > 0 && bytes / pkts > 3000)) ||
			fail "average frame from $from is $((bytes / (pkts ? pkts : 1))) bytes: GSO frames did not reach the bridge whole"
	fi
	rm -f "$out"
}

# ov_where KEY MAC: where host KEY's bridge has MAC (see the top).
ov_where()
{
	local key=$1 mac=$2
	case ${OV_KIND[$key]} in
	ubridge)
		ubh "$key" -j fdb show | jq -r --arg m "$mac" '[.[] | select(.mac == $m) |
			.port + (if .dst == null or .dst == "" then "" else " dst=" + (.dst | tostring) end)] | join(",")'
		;;
	kernel)
		in_ns "$(ov_host_ns "$key")" bridge -j fdb show br br0 | jq -r --arg m "$mac" \
			'[.[] | select(.mac == $m and .master == "br0") | .ifname] | unique | join(",")'
		;;
	esac
}

ov_where_is() { [[ $(ov_where "$1" "$2") == "$3" ]]; }

ov_expect_where()
{
	local key=$1 mac=$2 want=$3
	poll_until 3 ov_where_is "$key" "$mac" "$want" ||
		ov_fail "host $key: $mac: expected '${want:-<none>}', saw '$(ov_where "$key" "$mac")'"
}

# ov_remote_where NAME KEY: what host KEY should say of container NAME
# behind another host: vx0, and with ubridge the other host's address.
ov_remote_where()
{
	local name=$1 key=$2
	if [[ ${OV_KIND[$key]} == ubridge ]]; then
		echo "vx0 dst=${OV_UL[${OV_HOSTOF[$name]}]}"
	else
		echo vx0
	fi
}

# The malformed datagrams: each KIND:ID argument is one datagram to
# DST:PORT, with the VXLAN header and inner frame KIND says (for VNI
# $OV_VNI when right). An inner frame is a broadcast ubt-frame test frame
# (EtherType 0x88b5, magic, ID, seq 0) from 02:00:00:00:ID, so that
# ubt-frame recv names whatever gets through.
ov_vxsend_py()
{
	cat >"$UBT_TMP/vxsend.py" <<'EOF'
import socket, struct, sys

dst, port, vni = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def frame(i):
    src = bytes([2, 0, 0, 0, (i >> 8) & 0xff, i & 0xff])
    f = b"\xff" * 6 + src + b"\x88\xb5" + struct.pack("!III", 0x55425431, i, 0)
    return f + bytes(64 - len(f))

def hdr(flags=0x08, v=vni, r123=b"\0\0\0", r7=0):
    return bytes([flags]) + r123 + (v & 0xffffff).to_bytes(3, "big") + bytes([r7])

kinds = {
    "short0": lambda i: b"",
    "short1": lambda i: b"\x08",
    "short7": lambda i: hdr()[:7],
    "flags00": lambda i: hdr(flags=0x00) + frame(i),
    "flags80": lambda i: hdr(flags=0x80) + frame(i),
    "resv04": lambda i: hdr(flags=0x0c) + frame(i),
    "resv1": lambda i: hdr(r123=b"\x01\0\0") + frame(i),
    "resv7": lambda i: hdr(r7=0x01) + frame(i),
    "vni1": lambda i: hdr(v=vni + 1) + frame(i),
    "vnihi": lambda i: hdr(v=vni ^ 0x800000) + frame(i),
    "runt0": lambda i: hdr(),
    "runt13": lambda i: hdr() + frame(i)[:13],
    "good": lambda i: hdr() + frame(i),
}

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for arg in sys.argv[4:]:
    kind, i = arg.split(":")
    s.sendto(kinds[kind](int(i)), (dst, port))
EOF
}

# The kinds, their ids, and the counter of each (ubridge).
declare -A OV_BAD_COUNTER=(
	[short0]=short [short1]=short [short7]=short
	[flags00]=flags [flags80]=flags
	[resv04]=reserved [resv1]=reserved [resv7]=reserved
	[vni1]=vni [vnihi]=vni
	[runt0]=runt [runt13]=runt
)
OV_BAD_KINDS="short0 short1 short7 flags00 flags80 resv04 resv1 resv7 vni1 vnihi runt0 runt13"

ov_vx_counters()
{
	local c v
	local -a names=()
	for c in short flags reserved vni runt; do
		names+=("rx_drop_vxlan_$c")
	done
	v=$(port_stat vx0 "${names[@]}")
	[[ $v =~ ^[0-9]+( [0-9]+){4}$ ]] ||
		fail "port show -s: vx0's ${names[*]}: expected five numbers, saw '${v:-<vx0 not listed>}'"
	echo "$v"
}

# The five counters have grown by OV_VX_WANT since OV_VX_BEFORE, at least.
ov_vx_counted()
{
	local -a now
	local c
	read -ra now < <(ov_vx_counters)
	for c in 0 1 2 3 4; do
		((now[c] - OV_VX_BEFORE[c] >= OV_VX_WANT[c])) || return 1
	done
}

# ov_malformed SENDER TARGET WATCH
ov_malformed()
{
	local sender=$1 target=$2 watch=$3 k i=0 ub=0 c
	local -a args=() before=() after=() want=(0 0 0 0 0)
	local -A idx=([short]=0 [flags]=1 [reserved]=2 [vni]=3 [runt]=4)

	step "malformed VXLAN datagrams from $sender (${OV_UL[$sender]}) to $target (${OV_UL[$target]}:$OV_PORT)"
	[[ -e $UBT_TMP/vxsend.py ]] || ov_vxsend_py
	for k in $OV_BAD_KINDS; do
		i=$((i + 1))
		args+=("$k:$((100 + i))")
		c=${OV_BAD_COUNTER[$k]}
		want[${idx[$c]}]=$((want[${idx[$c]}] + 1))
	done
	if [[ ${OV_KIND[$target]} == ubridge ]]; then
		ub=1
		BR=${OV_BRN[$target]}
		read -ra before < <(ov_vx_counters)
	fi
	# The malformed ones, then a well-formed one, which must arrive (so
	# the capture works): the capture ends with the first test frame,
	# the last sent unless a malformed one got through (one path, in
	# order). One python3 run, which may take a while to start.
	recv_start "$watch" "$UBT_TMP/bad-$watch" --timeout 5000 --count 1
	in_ns "$(ov_host_ns "$sender")" python3 "$UBT_TMP/vxsend.py" "${OV_UL[$target]}" "$OV_PORT" \
		"$OV_VNI" "${args[@]}" good:99 || fail "the datagram sender failed"
	recv_wait
	i=0
	for k in $OV_BAD_KINDS; do
		i=$((i + 1))
		expect_frames "inner frame of the $k datagram in $watch" "$UBT_TMP/bad-$watch" $((100 + i)) 0
	done
	expect_frames "inner frame of the well-formed datagram in $watch" "$UBT_TMP/bad-$watch" 99 1
	info "none of the malformed datagrams reached $watch, the well-formed one did"
	if ((ub)); then
		OV_VX_BEFORE=("${before[@]}") OV_VX_WANT=("${want[@]}")
		poll_until 3 ov_vx_counted || true
		read -ra after < <(ov_vx_counters)
		for c in short flags reserved vni runt; do
			i=${idx[$c]}
			expect_eq "rx_drop_vxlan_$c of vx0 on $target (by how much it grew)" \
				"${want[i]}" $((after[i] - before[i]))
		done
		info "rx_drop_vxlan_{short,flags,reserved,vni,runt} grew by ${want[*]}"
		bridge_alive "$BR"
	fi
}

# ov_teardown: what the part made, stopped and removed; a daemon that
# died or does not stop cleanly fails the test.
ov_teardown()
{
	local b st i
	for b in "${OV_MADE_BR[@]}"; do
		bridge_alive "$b"
		st=0
		stop_bridge "$b" || st=$?
		((st == 0)) || fail "ubridge $b exited with $st on SIGTERM"
	done
	for ((i = ${#OV_MADE_NS[@]} - 1; i >= 0; i--)); do
		ip netns del "${OV_MADE_NS[i]}" 2>/dev/null || true
	done
	OV_MADE_BR=() OV_MADE_NS=() OV_HOSTS=()
	OV_KIND=() OV_BRN=() OV_UL=() OV_HOSTOF=()
	HOSTIF=() MAC=() IP=()
	BR=
}
