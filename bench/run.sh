#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/run.sh: measures ubridge against a direct veth pair (the ceiling)
# and the Linux kernel bridge on one topology it builds for itself, with
# the runs interleaved (direct, kernel, ubridge, direct, ...) and reports
# the median, min and max of each figure and the ratio ubridge/kernel.
# See bench/README.md for what each scenario means.
#
#   bench/run.sh [--rounds N] [--seconds S] [--only S1,S2,..] [--quick]
#                [--sink count|udp|drop,..] [--build-dir DIR] [--no-build]
#                [--keep-log DIR]
#                [--variant LABEL=ARGS ...] [--variant-bin LABEL=PATH ...]
#                [--variant-setup LABEL=COMMANDS ...]
#
# Needs root, network namespaces, iproute2, ethtool, iperf3, jq, cmake.

set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

usage()
{
	cat <<EOF
Usage: $0 [OPTIONS]

  --rounds N       interleaved rounds per scenario (default 5)
  --seconds S      length of each traffic run (default 4)
  --only LIST      comma-separated scenarios out of:
                   $ALL_SCENARIOS
                   (default: all but $EXTRA_SCENARIOS)
  --quick          1 round of 2 s, 200 pings: a smoke test
  --sink LIST      comma-separated receivers for the pps scenarios
                   ($PPS_SCENARIOS),
                   each a row of its own (SCENARIO@MODE; plain SCENARIO
                   for count), measured in the same interleaved rounds:
                     count  (default) an AF_PACKET socket counts the frames
                            (a private EtherType no stack takes) at almost
                            no cost: today's figures
                     udp    the frames are IPv4/UDP to the sink's address,
                            read by a bound UDP socket: the receiver's stack
                            runs, on the CPU that delivers into the sink's
                            veth (the bridge's, for ubridge)
                     drop   the same frames are dropped at the sink's ingress
                            hook (tc clsact) before any stack: only the
                            bridge and the sender are measured
                   flood has no udp row (its frames are for another MAC,
                   which the sink's IP stack discards unread)
  --build-dir DIR  CMake build directory (default: <repo>/build)
  --no-build       use the binaries already in the build directory
  --keep-log DIR   copy the raw per-run results and logs to DIR
  --daemon-cpu N   pin ubridge to CPU N instead of 1 (for experiments)
  --perf DIR       record the daemon with 'perf record -g' during each
                   ubridge pps run (DIR/SCENARIO-TARGET-rROUND.data); this
                   costs some throughput, so do not mix with figures you
                   publish
  --variant LABEL=ARGS
                   (repeatable) measure ubridge started with ARGS as a
                   column of its own named LABEL, interleaved with the
                   others; the daemon is restarted when the variant
                   changes. Default: one variant, ubridge=""
  --variant-bin LABEL=PATH
                   (repeatable) start variant LABEL with the daemon
                   binary PATH instead of the one in the build directory,
                   e.g. the ubridge of an older commit; LABEL must be a
                   variant (with no --variant, the default one, ubridge).
                   ubctl stays the built one, so PATH must speak the same
                   control protocol
  --variant-setup LABEL=COMMANDS
                   (repeatable) ubctl commands, separated by ';', run once
                   variant LABEL's daemon is up, e.g. "set vlan-filtering
                   on; vlan add dev gu vid 10 pvid untagged" (its ports:
                   gu, su, fu1, fu2, fu3)
  -h, --help       this help
EOF
}

DEFAULT_SCENARIOS="pps64 pps64_cap pps64_1k pps1514 flood tcp tcp_nooff rtt"
# Only with --only: a default run is meant to stay near 10 minutes.
EXTRA_SCENARIOS="pps64_2in lat100k"
ALL_SCENARIOS="$DEFAULT_SCENARIOS $EXTRA_SCENARIOS"
# The scenarios that run once per --sink mode.
PPS_SCENARIOS="pps64 pps64_cap pps64_1k pps64_2in pps1514 flood"
SINKS=count
ROUNDS=5
SECS=4
PINGS=1000
ONLY=
BUILD=1
KEEP=
PERF=
DCPU=1
VARIANTS=()
declare -A VARGS=()
declare -A VBIN=()
declare -A VSETUP=()
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$REPO/build

while (($#)); do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--sink) SINKS=$2; shift 2 ;;
	--quick) ROUNDS=1; SECS=2; PINGS=200; shift ;;
	--build-dir) BUILD_DIR=$2; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	--keep-log) KEEP=$2; shift 2 ;;
	--perf) PERF=$2; shift 2 ;;
	--daemon-cpu) DCPU=$2; shift 2 ;;
	--variant)
		[[ $2 =~ ^[a-z][a-z0-9_-]*= ]] || { echo "--variant takes LABEL=ARGS" >&2; exit 2; }
		[[ $2 != direct=* && $2 != kernel=* ]] || { echo "--variant: reserved label" >&2; exit 2; }
		[[ -z ${VARGS[${2%%=*}]+set} ]] || { echo "--variant: '${2%%=*}' given twice" >&2; exit 2; }
		VARIANTS+=("${2%%=*}")
		VARGS[${2%%=*}]=${2#*=}
		shift 2 ;;
	--variant-bin)
		[[ $2 =~ ^[a-z][a-z0-9_-]*=. ]] || { echo "--variant-bin takes LABEL=PATH" >&2; exit 2; }
		[[ -z ${VBIN[${2%%=*}]:-} ]] || { echo "--variant-bin: '${2%%=*}' given twice" >&2; exit 2; }
		VBIN[${2%%=*}]=${2#*=}
		shift 2 ;;
	--variant-setup)
		[[ $2 =~ ^[a-z][a-z0-9_-]*=. ]] || { echo "--variant-setup takes LABEL=COMMANDS" >&2; exit 2; }
		VSETUP[${2%%=*}]=${2#*=}
		shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $SECS =~ ^[1-9][0-9]*$ ]] || { usage >&2; exit 2; }
if ((${#VARIANTS[@]} == 0)); then
	VARIANTS=(ubridge)
	VARGS[ubridge]=
fi
# A variant's own binary: checked now rather than when its daemon first
# starts, minutes into the run. Kept as an absolute path without
# symlinks, which is also what /proc/PID/exe of its daemon will show.
for v in "${!VSETUP[@]}"; do
	[[ -v "VARGS[$v]" ]] ||
		{ echo "--variant-setup: '$v' is not a variant (variants: ${VARIANTS[*]})" >&2; exit 2; }
done
for v in "${!VBIN[@]}"; do
	[[ -v "VARGS[$v]" ]] ||
		{ echo "--variant-bin: '$v' is not a variant (variants: ${VARIANTS[*]})" >&2; exit 2; }
	[[ -f ${VBIN[$v]} && -x ${VBIN[$v]} ]] ||
		{ echo "--variant-bin: '${VBIN[$v]}' (for $v) is not an executable file" >&2; exit 2; }
	VBIN[$v]=$(realpath -e -- "${VBIN[$v]}")
done
TARGETS="direct kernel ${VARIANTS[*]}"
is_ub() { [[ $1 != direct && $1 != kernel ]]; }
SCENARIOS=$DEFAULT_SCENARIOS
if [[ -n $ONLY ]]; then
	SCENARIOS=${ONLY//,/ }
	for s in $SCENARIOS; do
		[[ " $ALL_SCENARIOS " == *" $s "* ]] || { echo "unknown scenario '$s'" >&2; exit 2; }
	done
fi
[[ -n $SINKS ]] || { echo "--sink: no mode" >&2; exit 2; }
declare -A sink_seen=()
for m in ${SINKS//,/ }; do
	[[ $m == count || $m == udp || $m == drop ]] ||
		{ echo "--sink: unknown mode '$m' (count, udp, drop)" >&2; exit 2; }
	[[ -z ${sink_seen[$m]:-} ]] || { echo "--sink: '$m' given twice" >&2; exit 2; }
	sink_seen[$m]=1
done
# What each round runs: the pps scenarios once per sink mode, named
# SCENARIO@MODE but for count, which keeps the plain name so that its
# figures compare with those of runs before --sink; the others once.
# flood's frames are for an unknown MAC, so the sink's IP stack drops
# them as another host's before any socket: it has no udp row.
RUNS=
for s in $SCENARIOS; do
	if [[ " $PPS_SCENARIOS " != *" $s "* ]]; then
		RUNS+=" $s"
		continue
	fi
	for m in ${SINKS//,/ }; do
		[[ $s == flood && $m == udp ]] && continue
		if [[ $m == count ]]; then
			RUNS+=" $s"
		else
			RUNS+=" $s@$m"
		fi
	done
done
RUNS=${RUNS# }
[[ -n $RUNS ]] || { echo "nothing to run (flood has no udp row)" >&2; exit 2; }

[[ -z $PERF ]] || command -v perf >/dev/null || { echo "--perf needs perf" >&2; exit 1; }
prepare run.sh ip ethtool iperf3 jq taskset ping awk ss
[[ ",$SINKS," != *,drop,* ]] || command -v tc >/dev/null || { echo "--sink drop needs tc" >&2; exit 1; }
DEFBIN=$(realpath -e -- "$UBRIDGE")
for v in "${VARIANTS[@]}"; do
	[[ -n ${VBIN[$v]:-} ]] || VBIN[$v]=$DEFBIN
done

# ---- topology -------------------------------------------------------------
#
#  gen ns ($G)            bridge ns ($B)                      sink ns ($S)
#   d0 ------------------------------------------------------- d0   (a) direct
#   k0 ---- gk  [kbr: Linux bridge]  sk ---------------------- k0   (b) kernel
#   u0 ---- gu  [ubridge, CPU 1]     su ---------------------- u0   (c) ubridge
#             fk1..3 / fu1..3 -- k0 / u0 in flood namespaces $F1..$F3
#
# Everything lives in namespaces named after this shell's PID, so nothing
# in the root namespace is touched and deleting the namespaces removes
# every veth.

P=ubb$$
G=${P}gen
S=${P}sink
B=${P}br
F=("${P}f1" "${P}f2" "${P}f3")
BRNAME=${P}
TMP=$(mktemp -d /tmp/ubbench.XXXXXX)
RES=$TMP/results.tsv
NS_MADE=()
PIDS=()
UBPID=
UBVAR=

ub_stop()
{
	[[ -n $UBPID ]] || return 0
	kill -TERM "$UBPID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$UBPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$UBPID" 2>/dev/null || true
	wait "$UBPID" 2>/dev/null || true
	UBPID=
	UBVAR=
}

stop_daemons() { ub_stop; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# veth NS1 IF1 NS2 IF2: a veth pair between two namespaces, both ends up.
veth()
{
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

echo "==> topology (prefix $P)"
for ns in "$G" "$S" "$B" "${F[@]}"; do
	mkns "$ns"
done
veth "$G" d0 "$S" d0
veth "$G" k0 "$B" gk
veth "$S" k0 "$B" sk
veth "$G" u0 "$B" gu
veth "$S" u0 "$B" su
for i in 1 2 3; do
	veth "${F[i - 1]}" k0 "$B" "fk$i"
	veth "${F[i - 1]}" u0 "$B" "fu$i"
done
ip -n "$G" addr add 10.1.0.1/24 dev d0
ip -n "$S" addr add 10.1.0.2/24 dev d0
ip -n "$G" addr add 10.2.0.1/24 dev k0
ip -n "$S" addr add 10.2.0.2/24 dev k0
ip -n "$G" addr add 10.3.0.1/24 dev u0
ip -n "$S" addr add 10.3.0.2/24 dev u0

# (b) the Linux bridge: STP off (the default), so ports forward at once.
ip -n "$B" link add kbr type bridge
for p in gk sk fk1 fk2 fk3; do
	ip -n "$B" link set "$p" master kbr
done
ip -n "$B" link set kbr up

# (c) ubridge on CPU 1, started for one variant at a time. A background
# job of a script starts with SIGINT ignored; give the daemon its default
# back. ip netns exec, taskset and env all exec, so $! is the daemon's PID
# (background jobs call ip directly, not through a shell function, which
# would add a subshell). Each variant runs its own binary (VBIN).
ub_start() # VARIANT
{
	local bin=${VBIN[$1]}

	[[ $UBVAR == "$1" ]] && return 0
	ub_stop
	echo "== variant $1: $bin ${VARGS[$1]}" >>"$TMP/ubridge.log"
	# shellcheck disable=SC2086 # ARGS are words
	ip netns exec "$B" taskset -c "$DCPU" env --default-signal=INT,QUIT "$bin" -f -q --no-state \
		-n "$BRNAME" -p gu -p su -p fu1 -p fu2 -p fu3 ${VARGS[$1]} >>"$TMP/ubridge.log" 2>&1 &
	UBPID=$!
	UBVAR=$1
	daemon_wait "$UBPID" "$bin" "$BRNAME" "$TMP/ubridge.log"
	ub_setup "$1"
}
ubctl() { "$UBCTL" -n "$BRNAME" "$@"; }
# A variant's --variant-setup commands; one that fails ends the run.
ub_setup() # VARIANT
{
	local cmd words
	local -a cmds
	IFS=';' read -ra cmds <<<"${VSETUP[$1]:-}"
	for cmd in "${cmds[@]}"; do
		read -ra words <<<"$cmd"
		((${#words[@]})) || continue
		ubctl "${words[@]}" >>"$TMP/ubridge.log" ||
			{ echo "--variant-setup: '$cmd' failed for $1" >&2; exit 1; }
	done
}

declare -A IFN=([direct]=d0 [kernel]=k0 [ubridge]=u0)
declare -A NET=([direct]=10.1.0 [kernel]=10.2.0 [ubridge]=10.3.0)
declare -A SINKMAC
for t in direct kernel ubridge; do
	SINKMAC[$t]=$(mac_of "$S" "${IFN[$t]}")
done
# The path (direct, kernel, ubridge) a target's traffic takes.
path() { is_ub "$1" && echo ubridge || echo "$1"; }
UNKNOWN_MAC=02:ee:ee:00:00:01

# Offload state of the namespace ends, to restore after "tcp_nooff".
OFF_FEATS="tx sg tso gso gro rx"
declare -A OFFSAVE
save_offloads()
{
	local ns=$1 dev=$2 f line long
	declare -A longname=([tx]=tx-checksumming [sg]=scatter-gather
		[tso]=tcp-segmentation-offload [gso]=generic-segmentation-offload
		[gro]=generic-receive-offload [rx]=rx-checksumming)
	for f in $OFF_FEATS; do
		long=${longname[$f]}
		line=$(nsx "$ns" ethtool -k "$dev" | grep -E "^$long:" || true)
		OFFSAVE[$ns.$dev.$f]=$([[ $line == *": on"* ]] && echo on || echo off)
	done
}
set_offloads() # NS DEV on|off|saved
{
	local ns=$1 dev=$2 mode=$3 f args=()
	for f in $OFF_FEATS; do
		if [[ $mode == saved ]]; then
			args+=("$f" "${OFFSAVE[$ns.$dev.$f]}")
		else
			args+=("$f" "$mode")
		fi
	done
	nsx "$ns" ethtool -K "$dev" "${args[@]}" >/dev/null 2>&1 || true
}
for t in direct kernel ubridge; do
	save_offloads "$G" "${IFN[$t]}"
	save_offloads "$S" "${IFN[$t]}"
done

# Teaches a bridge where the gen and sink ends are (and fills ARP). The
# flood namespaces have no addresses to ping from; given one (NS) and a
# source MAC, one ubgen frame from NS to the sink teaches the bridge that
# MAC (the sink drops the frame).
prime() # TARGET [NS SRCMAC]
{
	local t
	t=$(path "$1")
	nsx "$S" ping -q -c 1 -W 1 "${NET[$t]}.1" >/dev/null 2>&1 || true
	nsx "$G" ping -q -c 1 -W 1 "${NET[$t]}.2" >/dev/null 2>&1 || true
	if (($# == 3)); then
		nsx "$2" "$UBGEN" send "${IFN[$t]}" --dst "${SINKMAC[$t]}" --src "$3" \
			--count 1 >/dev/null
	fi
}

# CPU time (user + system, clock ticks) of the daemon so far.
ub_ticks() { awk '{ print $14 + $15 }' "/proc/$UBPID/stat"; }
HZ=$(getconf CLK_TCK)

# "busy softirq" ticks of the daemon's CPU so far (from /proc/stat).
cpu_ticks() { awk -v c="cpu$DCPU" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9, $8 }' /proc/stat; }

# Port counters of ubridge as "name key value" lines.
ub_counters()
{
	ubctl -j -s port show | jq -r '.[] | .name as $n | to_entries[] |
		select(.key | test("^(rx|tx)_")) | "\($n) \(.key) \(.value)"'
}

# The UDP port of the udp sink's reader.
UDP_PORT=5999

# The drop sink's count over the counting window: the rx_packets of the
# sink's IFNAME, which a veth counts as it takes a frame in, before the
# ingress hook that drops it, and what the hook dropped (the clsact
# qdisc's drops; the same figure, give or take the frames between the
# reads). One line of key=value pairs, as ubgen prints.
drop_count() # IFNAME
{
	local ifn=$1 rx0 rx1 d0 d1 t0 t1
	d0=$(hook_drops "$ifn")
	rx0=$(nsx "$S" cat "/sys/class/net/$ifn/statistics/rx_packets")
	t0=$(date +%s.%N)
	sleep "$SECS"
	rx1=$(nsx "$S" cat "/sys/class/net/$ifn/statistics/rx_packets")
	t1=$(date +%s.%N)
	d1=$(hook_drops "$ifn")
	awk -v ifn="$ifn" -v rx0="$rx0" -v rx1="$rx1" -v d0="$d0" -v d1="$d1" \
		-v t0="$t0" -v t1="$t1" 'BEGIN {
		printf "mode=drop if=%s seconds=%.3f frames=%d pps=%.0f hook_drops=%d\n",
			ifn, t1 - t0, rx1 - rx0, (rx1 - rx0) / (t1 - t0), d1 - d0 }'
}
hook_drops() # IFNAME
{
	nsx "$S" tc -s -j qdisc show dev "$1" | jq '.[] | select(.kind == "clsact") | .drops'
}
# UDP datagrams the sink's stack found no socket for so far (NoPorts in
# its /proc/net/snmp), each answered by an ICMP port unreachable (rate
# limited): none of the sinks should cause any.
sink_noports()
{
	nsx "$S" cat /proc/net/snmp | awk '$1 == "Udp:" {
		if (!n) { for (i = 2; i <= NF; i++) if ($i == "NoPorts") n = i }
		else print $n }'
}

# pps SCENARIO TARGET ROUND SIZE FLOWS DSTKIND [NS2]
#
# With NS2 (a flood namespace), a second generator there sends the same
# kind of frames, to the same MAC, at the same time, from its own veth:
# the bridge takes them in on two ports. It is pinned to CPU 0 too, and
# sends from its interface's MAC, not ubgen's default source, which the
# first generator uses: one MAC on two ports would move between them all
# the time. The sink counts the frames of both; tx_pps is their sum.
#
# SCENARIO@MODE names the sink (see --sink; count without a suffix). For
# udp and drop the frames are IPv4/UDP to the sink's address and the
# reader's port, from the generator's address (the second generator's
# from .3 on the same subnet), so that the sink's stack takes them as
# its own and its reverse path filter, if on, lets them in. The reader
# is bound before the generators start and the hook stays until they
# stop, so that the sink's stack never answers a frame with an ICMP port
# unreachable.
run_pps()
{
	local sc=$1 t=$2 r=$3 size=$4 flows=$5 dst=$6 ns2=${7:-} ifn mac src2 net
	local gpid gpids=() gen gen2 cnt rx tx c0 c1 k0 k1 w0 w1 ns_per kb0 ks0 kb1 ks1
	local sink=count spid ga=() ga2=()
	[[ $sc == *@* ]] && sink=${sc#*@}
	ifn=${IFN[$(path "$t")]}
	mac=${SINKMAC[$(path "$t")]}
	net=${NET[$(path "$t")]}
	[[ $dst == unknown ]] && mac=$UNKNOWN_MAC
	if [[ -n $ns2 ]]; then
		src2=$(mac_of "$ns2" "$ifn")
		prime "$t" "$ns2" "$src2"
	else
		prime "$t"
	fi
	if [[ $sink != count ]]; then
		ga=(--dst-ip "$net.2" --dst-port "$UDP_PORT" --src-ip "$net.1")
		ga2=(--dst-ip "$net.2" --dst-port "$UDP_PORT" --src-ip "$net.3")
	fi
	case $sink in
	udp)
		ip netns exec "$S" "$UBGEN" udpsink "$UDP_PORT" --warmup 1 --seconds "$SECS" \
			--hold >"$TMP/cnt.out" 2>&1 &
		spid=$!
		PIDS+=("$spid")
		wait_listening "$S" u "$UDP_PORT"
		;;
	drop)
		# Classic BPF "return 2" (TC_ACT_SHOT) in direct-action mode:
		# drops every frame, and needs neither cls_matchall nor
		# act_gact, which not every kernel has.
		nsx "$S" tc qdisc add dev "$ifn" clsact
		nsx "$S" tc filter add dev "$ifn" ingress bpf da bytecode "1,6 0 0 2"
		;;
	esac
	ip netns exec "$G" taskset -c 0 "$UBGEN" send "$ifn" --dst "$mac" --size "$size" \
		--flows "$flows" --seconds $((SECS + 2)) "${ga[@]}" >"$TMP/gen.out" 2>&1 &
	gpids+=("$!")
	if [[ -n $ns2 ]]; then
		ip netns exec "$ns2" taskset -c 0 "$UBGEN" send "$ifn" --dst "$mac" --src "$src2" \
			--size "$size" --flows "$flows" --seconds $((SECS + 2)) "${ga2[@]}" \
			>"$TMP/gen2.out" 2>&1 &
		gpids+=("$!")
	fi
	PIDS+=("${gpids[@]}")
	sleep 1
	if is_ub "$t"; then
		ub_counters >"$TMP/ubc0"
		c0=$(ub_ticks)
		k0=$(cpu_ticks)
	fi
	local ppid=
	if [[ -n $PERF ]] && is_ub "$t"; then
		mkdir -p "$PERF"
		perf record -q -g -p "$UBPID" -o "$PERF/$sc-$t-r$r.data" \
			-- sleep "$SECS" >/dev/null 2>&1 &
		ppid=$!
		PIDS+=("$ppid")
	fi
	w0=$(date +%s.%N)
	case $sink in
	count)
		nsx "$S" "$UBGEN" count "$ifn" --seconds "$SECS" >"$TMP/cnt.out" 2>&1 ||
			{ cat "$TMP/cnt.out" >&2; return 1; } ;;
	# The reader, started 1 s before the generators' steady state,
	# counts this window by itself.
	udp) sleep "$SECS" ;;
	drop) drop_count "$ifn" >"$TMP/cnt.out" ;;
	esac
	w1=$(date +%s.%N)
	if is_ub "$t"; then
		c1=$(ub_ticks)
		k1=$(cpu_ticks)
		ub_counters >"$TMP/ubc1"
	fi
	if [[ -n $ppid ]]; then
		wait "$ppid" || true
		unset 'PIDS[-1]'
	fi
	for gpid in "${gpids[@]}"; do
		wait "$gpid" || { cat "$TMP/gen.out" ${ns2:+"$TMP/gen2.out"} >&2; return 1; }
		unset 'PIDS[-1]'
	done
	# What a bridge still holds drains into the reader or the hook first.
	[[ $sink == count ]] || sleep 0.2
	case $sink in
	udp)
		kill -TERM "$spid" 2>/dev/null || true
		wait "$spid" || { cat "$TMP/cnt.out" >&2; return 1; }
		unset 'PIDS[-1]' ;;
	drop) nsx "$S" tc qdisc del dev "$ifn" clsact ;;
	esac
	gen=$(cat "$TMP/gen.out")
	cnt=$(cat "$TMP/cnt.out")
	echo "    $sc $t r$r: gen: $gen" >>"$TMP/log"
	tx=$(kv pps <<<"$gen")
	if [[ -n $ns2 ]]; then
		gen2=$(cat "$TMP/gen2.out")
		echo "    $sc $t r$r: gen2 ($ns2): $gen2" >>"$TMP/log"
		tx=$((tx + $(kv pps <<<"$gen2")))
	fi
	echo "    $sc $t r$r: sink: $cnt" >>"$TMP/log"
	rx=$(kv pps <<<"$cnt")
	record "$sc" "$t" "$r" rx_pps "$rx"
	record "$sc" "$t" "$r" tx_pps "$tx"
	# Datagrams the reader's socket had no room for: when not ~0, the
	# reader, not the path, limited rx_pps.
	if [[ $sink == udp ]]; then
		record "$sc" "$t" "$r" rcvbuf_drop_pps "$(awk -v n="$(kv rcvbuf_errors <<<"$cnt")" \
			-v s="$(kv seconds <<<"$cnt")" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')"
	fi
	if is_ub "$t"; then
		# Daemon CPU (s/s) over the counting window / frames out per s.
		ns_per=$(awk -v c0="$c0" -v c1="$c1" -v hz="$HZ" -v w0="$w0" \
			-v w1="$w1" -v rx="$rx" 'BEGIN {
			cpu = (c1 - c0) / hz / (w1 - w0);
			printf "%.0f", (rx > 0 ? cpu / rx * 1e9 : 0) }')
		record "$sc" "$t" "$r" daemon_ns_per_frame "$ns_per"
		record "$sc" "$t" "$r" daemon_cpu_util "$(awk -v c0="$c0" -v c1="$c1" \
			-v hz="$HZ" -v w0="$w0" -v w1="$w1" \
			'BEGIN { printf "%.2f", (c1 - c0) / hz / (w1 - w0) }')"
		# The whole CPU of the daemon: busy share, and its softirq part
		# (the sink's receive, run after the daemon's sends; not in the
		# daemon's own utime+stime when IRQ time is accounted apart).
		read -r kb0 ks0 <<<"$k0"
		read -r kb1 ks1 <<<"$k1"
		record "$sc" "$t" "$r" cpu_busy "$(awk -v a="$kb0" -v b="$kb1" \
			-v hz="$HZ" -v w0="$w0" -v w1="$w1" \
			'BEGIN { printf "%.2f", (b - a) / hz / (w1 - w0) }')"
		record "$sc" "$t" "$r" cpu_softirq "$(awk -v a="$ks0" -v b="$ks1" \
			-v hz="$HZ" -v w0="$w0" -v w1="$w1" \
			'BEGIN { printf "%.2f", (b - a) / hz / (w1 - w0) }')"
		join <(sort "$TMP/ubc0" | awk '{ print $1 "." $2, $3 }') \
		     <(sort "$TMP/ubc1" | awk '{ print $1 "." $2, $3 }') |
			awk '$3 != $2 { printf " %s+%.0f", $1, $3 - $2 }' |
			sed "s/^/    $sc $t r$r: ubctl deltas:/" >>"$TMP/log"
		echo >>"$TMP/log"
	fi
}

IPERF_PORT=$((20000 + $$ % 20000))
run_tcp()
{
	local sc=$1 t=$2 r=$3 p ifn spid out bps rtx mode=saved
	p=$(path "$t")
	ifn=${IFN[$p]}
	[[ $sc == tcp_nooff ]] && mode=off
	set_offloads "$G" "$ifn" "$mode"
	set_offloads "$S" "$ifn" "$mode"
	local tso
	tso=$(nsx "$G" ethtool -k "$ifn" | awk '$1 == "tcp-segmentation-offload:" { print $2 }')
	echo "    $sc $t r$r: sender TSO $tso" >>"$TMP/log"
	if [[ $mode == off && $tso != off ]]; then
		echo "    $sc $t r$r: WARNING: offloads did not go off" | tee -a "$TMP/log" >&2
	fi
	prime "$t"
	IPERF_PORT=$((IPERF_PORT + 1))
	ip netns exec "$S" iperf3 -s -1 -B "${NET[$p]}.2" -p "$IPERF_PORT" >/dev/null 2>&1 &
	spid=$!
	PIDS+=("$spid")
	wait_listening "$S" t "$IPERF_PORT"
	out=$(nsx "$G" taskset -c 0 iperf3 -c "${NET[$p]}.2" -p "$IPERF_PORT" \
		-t "$SECS" -J 2>&1) || true
	wait "$spid" 2>/dev/null || true
	unset 'PIDS[-1]'
	set_offloads "$G" "$ifn" saved
	set_offloads "$S" "$ifn" saved
	bps=$(jq -r '.end.sum_received.bits_per_second // empty' <<<"$out" 2>/dev/null || true)
	rtx=$(jq -r '.end.sum_sent.retransmits // empty' <<<"$out" 2>/dev/null || true)
	if [[ -z $bps ]]; then
		echo "    $sc $t r$r: iperf3 failed: $(head -c 300 <<<"$out")" | tee -a "$TMP/log" >&2
		record "$sc" "$t" "$r" gbps 0
		return 0
	fi
	echo "    $sc $t r$r: $bps bit/s, $rtx retransmits" >>"$TMP/log"
	record "$sc" "$t" "$r" gbps "$(awk -v b="$bps" 'BEGIN { printf "%.3f", b / 1e9 }')"
	record "$sc" "$t" "$r" retransmits "$rtx"
}

run_rtt()
{
	local sc=$1 t=$2 r=$3 times
	prime "$t"
	# One ping every 2 ms; per-packet times in ms, to µs.
	times=$(nsx "$G" taskset -c 0 ping -i 0.002 -c "$PINGS" -W 1 "${NET[$(path "$t")]}.2" |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -g)
	local n
	n=$(wc -l <<<"$times")
	if ((n < PINGS / 2)); then
		echo "    $sc $t r$r: only $n ping replies" | tee -a "$TMP/log" >&2
	fi
	record "$sc" "$t" "$r" rtt_p50_us "$(awk -v n="$n" 'NR == int(n * 0.50 + 0.5) { print $1 * 1000 }' <<<"$times")"
	record "$sc" "$t" "$r" rtt_p99_us "$(awk -v n="$n" 'NR == int(n * 0.99 + 0.5) { print $1 * 1000 }' <<<"$times")"
	echo "    $sc $t r$r: $n replies" >>"$TMP/log"
}

# pps64 through ubridge with a capture of every port, both directions
# (each frame written twice): the cost of capturing, against pps64's
# ubridge row of the same round. The writer thread inherits the daemon's
# CPU pinning, so it competes with forwarding for CPU $DCPU.
run_cap()
{
	local sc=$1 t=$2 r=$3 st
	ubctl capture start all "$TMP/cap.pcap" --dir both >/dev/null
	run_pps "$sc" "$t" "$r" 64 1 known
	st=$(ubctl -j capture show)
	ubctl capture stop all
	record "$sc" "$t" "$r" cap_frames "$(jq '.[0].frames' <<<"$st")"
	record "$sc" "$t" "$r" cap_dropped "$(jq '.[0].dropped' <<<"$st")"
	echo "    $sc $t r$r: capture: $(stat -c %s "$TMP/cap.pcap") bytes" >>"$TMP/log"
	rm -f "$TMP/cap.pcap"
}

# Latency at 100,000 frames/s of 64 bytes: the generator stamps each
# frame with the wall clock, the sink takes the kernel's receive time
# stamp (one machine, one clock). With --variant-setup "impair set su
# delay 10ms" it measures an impaired port's delay under load.
run_lat()
{
	local sc=$1 t=$2 r=$3 ifn mac gpid cnt k
	ifn=${IFN[$(path "$t")]}
	mac=${SINKMAC[$(path "$t")]}
	prime "$t"
	ip netns exec "$G" taskset -c 0 "$UBGEN" send "$ifn" --dst "$mac" --rate 100000 \
		--stamp --seconds $((SECS + 2)) >"$TMP/gen.out" 2>&1 &
	gpid=$!
	PIDS+=("$gpid")
	sleep 1
	nsx "$S" "$UBGEN" count "$ifn" --seconds "$SECS" --latency >"$TMP/cnt.out" 2>&1 ||
		{ cat "$TMP/cnt.out" >&2; return 1; }
	wait "$gpid" || { cat "$TMP/gen.out" >&2; return 1; }
	unset 'PIDS[-1]'
	cnt=$(cat "$TMP/cnt.out")
	echo "    $sc $t r$r: gen: $(cat "$TMP/gen.out")" >>"$TMP/log"
	echo "    $sc $t r$r: sink: $cnt" >>"$TMP/log"
	record "$sc" "$t" "$r" rx_pps "$(kv pps <<<"$cnt")"
	for k in lat_p50_us lat_p99_us lat_max_us; do
		record "$sc" "$t" "$r" "$k" "$(kv "$k" <<<"$cnt")"
	done
}

run_one()
{
	local sc=$1 t=$2 r=$3
	case ${sc%@*} in
	pps64) run_pps "$sc" "$t" "$r" 64 1 known ;;
	pps64_cap) run_cap "$sc" "$t" "$r" ;;
	pps64_1k) run_pps "$sc" "$t" "$r" 64 1024 known ;;
	pps64_2in) run_pps "$sc" "$t" "$r" 64 1 known "${F[0]}" ;;
	pps1514) run_pps "$sc" "$t" "$r" 1514 1 known ;;
	flood) run_pps "$sc" "$t" "$r" 64 1 unknown ;;
	tcp | tcp_nooff) run_tcp "$sc" "$t" "$r" ;;
	rtt) run_rtt "$sc" "$t" "$r" ;;
	lat100k) run_lat "$sc" "$t" "$r" ;;
	esac
}

echo "==> $(nproc) CPUs, kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "==> pinning: generator (both in pps64_2in), iperf3 client and ping on CPU 0 (taskset -c 0);"
echo "    ubridge daemon on CPU $DCPU (taskset -c $DCPU); counter, UDP reader and iperf3 server unpinned"
echo "==> sinks: $SINKS (count: AF_PACKET counter; udp: a UDP socket reads, the stack runs;"
echo "    drop: dropped at the sink's ingress hook)"
echo "==> $ROUNDS rounds x {$RUNS} x {$TARGETS}, ${SECS}s per traffic run"
for v in "${VARIANTS[@]}"; do
	if [[ ${VBIN[$v]} == "$DEFBIN" ]]; then
		echo "    variant $v: ubridge ${VARGS[$v]}"
	else
		echo "    variant $v: ubridge${VARGS[$v]:+ ${VARGS[$v]}} (binary ${VBIN[$v]})"
	fi
	[[ -z ${VSETUP[$v]:-} ]] || echo "    variant $v setup: ${VSETUP[$v]}"
done
start=$SECONDS
for ((r = 1; r <= ROUNDS; r++)); do
	echo "==> round $r/$ROUNDS ($((SECONDS - start)) s so far)"
	for sc in $RUNS; do
		for t in $TARGETS; do
			# A direct pair has neither other ports to flood to
			# nor a second way in.
			[[ (${sc%@*} == flood || ${sc%@*} == pps64_2in) && $t == direct ]] && continue
			[[ ${sc%@*} == pps64_cap ]] && ! is_ub "$t" && continue
			if is_ub "$t"; then
				ub_start "$t"
				kill -0 "$UBPID" 2>/dev/null || { echo "ubridge died:" >&2; cat "$TMP/ubridge.log" >&2; exit 1; }
			fi
			run_one "$sc" "$t" "$r"
		done
	done
done

echo "==> done in $((SECONDS - start)) s; ubridge ($UBVAR) still running: $(kill -0 "$UBPID" 2>/dev/null && echo yes || echo NO)"
echo
echo "Per-run detail:"
cat "$TMP/log"
echo
echo "Medians of $ROUNDS interleaved runs [min - max]; ratio = variant / kernel (medians)"
echo "Pinning: generator(s)/iperf3 client/ping on CPU 0, ubridge daemon on CPU $DCPU."
echo
table "$RUNS" "$TARGETS" "kernel bridge" 3
[[ $SINKS == count ]] ||
	echo "Sink: $(sink_noports) UDP datagrams to no socket (ICMP port unreachable) in the whole run"
echo
echo "ubridge log (last lines):"
tail -n 5 "$TMP/ubridge.log" || true
