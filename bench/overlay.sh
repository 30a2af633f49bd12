#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/overlay.sh: measures the VXLAN overlay of ubridge against Linux's
# vxlan driver behind a kernel bridge, on two "hosts" (namespaces) joined
# by an underlay veth, with one container namespace behind each host. The
# runs are interleaved (kernel, ubridge, kernel, ...) and it reports the
# median, min and max of each figure and the ratio ubridge/kernel. See
# bench/README.md ("overlay.sh") for what each scenario means.
#
#   bench/overlay.sh [--rounds N] [--seconds S] [--only S1,S2,..] [--quick]
#                    [--build-dir DIR] [--no-build] [--keep-log DIR]
#
# Needs root, network namespaces, veth, vxlan and bridge support,
# iproute2, nsenter, taskset, iperf3, jq, cmake.

set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

usage()
{
	cat <<EOF
Usage: $0 [OPTIONS]

  --rounds N       interleaved rounds per scenario (default 5)
  --seconds S      length of each traffic run (default 4)
  --only LIST      comma-separated scenarios out of: $ALL_SCENARIOS
                   (default: all)
  --quick          1 round of 2 s: a smoke test
  --build-dir DIR  CMake build directory (default: <repo>/build)
  --no-build       use the binaries already in the build directory
  --keep-log DIR   copy the raw per-run results and logs (the daemons'
                   included) to DIR
  --ubridge-args ARGS
                   more options for both daemons (e.g. "--packet-tx ring")
  --daemon-cpus A,B  pin host A's daemon to CPU A and host B's to CPU B
                   (default 1,1: both beside the sender's CPU 0; 0,1
                   gives each "host" a CPU of its own, the sender's host
                   the sender's)
  -h, --help       this help
EOF
}

ALL_SCENARIOS="tcp tcp_rev pps64"
ROUNDS=5
SECS=4
ONLY=
declare -A DCPU=([A]=1 [B]=1)
UBARGS=
BUILD=1
KEEP=
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$REPO/build
CMDLINE=$(printf '%q ' "$0" "$@")
CMDLINE=${CMDLINE% }

while (($#)); do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--quick) ROUNDS=1; SECS=2; shift ;;
	--build-dir) BUILD_DIR=$2; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	--keep-log) KEEP=$2; shift 2 ;;
	--daemon-cpus) DCPU[A]=${2%,*}; DCPU[B]=${2#*,}; shift 2 ;;
	--ubridge-args) UBARGS=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $SECS =~ ^[1-9][0-9]*$ &&
   ${DCPU[A]} =~ ^[0-9]+$ && ${DCPU[B]} =~ ^[0-9]+$ ]] || { usage >&2; exit 2; }
TARGETS="kernel ubridge"
SCENARIOS=$ALL_SCENARIOS
if [[ -n $ONLY ]]; then
	SCENARIOS=${ONLY//,/ }
	for s in $SCENARIOS; do
		[[ " $ALL_SCENARIOS " == *" $s "* ]] || { echo "unknown scenario '$s'" >&2; exit 2; }
	done
fi

prepare overlay.sh ip bridge nsenter iperf3 jq taskset ping awk ss
UBBIN=$(realpath -e -- "$UBRIDGE")

# ---- topology -------------------------------------------------------------
#
# One copy per target, so the runs can alternate without reconfiguring:
#
#   container A ns             host A ns                 host B ns             container B ns
#   eth0 (MTU 1450) ---- c0 [bridge + vx0] ul0 ======= ul0 [bridge + vx0] c0 ---- eth0 (MTU 1450)
#                                      underlay veth, MTU 1500
#
#   kernel:  br0 = Linux bridge with c0 and vx0 (Linux vxlan, VNI 42,
#            dstport 4789, nolearning, flood entry 00:00:00:00:00:00 to
#            the other host);
#   ubridge: one ubridge daemon per host (nsenter --net), ports c0 and
#            vx0 (ubctl vxlan add ... --remote the other host), on CPU 1 (--daemon-cpus).
#
#                   underlay        overlay (containers)
#   kernel          10.11.0.1/.2    10.21.0.1/.2
#   ubridge         10.12.0.1/.2    10.22.0.1/.2
#
# Everything lives in namespaces named after this shell's PID; deleting
# them removes every veth and vxlan device.

P=ob$$
declare -A HOST=([kernel.A]=${P}kA [kernel.B]=${P}kB [ubridge.A]=${P}uA [ubridge.B]=${P}uB)
declare -A CONT=([kernel.A]=${P}kcA [kernel.B]=${P}kcB [ubridge.A]=${P}ucA [ubridge.B]=${P}ucB)
declare -A UL=([kernel]=10.11.0 [ubridge]=10.12.0)
declare -A NET=([kernel]=10.21.0 [ubridge]=10.22.0)
declare -A BRNAME=([A]=${P}A [B]=${P}B)
declare -A UBPID=()
declare -A IDX=([A]=1 [B]=2)
VNI=42
VXPORT=4789
CMTU=1450
TMP=$(mktemp -d /tmp/ubovl.XXXXXX)
RES=$TMP/results.tsv
NS_MADE=()
PIDS=()

ub_stop() # A|B
{
	local pid=${UBPID[$1]:-} br=${BRNAME[$1]} f
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "ubridge $br (PID $pid) did not stop on SIGTERM: killed" | tee -a "$TMP/log" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	# A daemon that did not stop cleanly leaves its files (ours only:
	# the names carry this shell's PID).
	for f in "/run/ubridge/$br.sock" "/run/ubridge/$br.lock" "/run/ubridge/$br.ports"; do
		[[ -e $f ]] && rm -rf -- "$f"
	done
	UBPID[$1]=
}

stop_daemons()
{
	local x
	for x in A B; do
		ub_stop "$x"
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> topology (prefix $P)"
for t in $TARGETS; do
	for x in A B; do
		mkns "${HOST[$t.$x]}"
		mkns "${CONT[$t.$x]}"
	done
	# Underlay: default MTU (1500) and offloads.
	ip -n "${HOST[$t.A]}" link add ul0 type veth peer name ul0 netns "${HOST[$t.B]}"
	for x in A B; do
		h=${HOST[$t.$x]}
		c=${CONT[$t.$x]}
		ip -n "$h" addr add "${UL[$t]}.${IDX[$x]}/24" dev ul0
		ip -n "$h" link set ul0 up
		# The container: MTU 1450 on both ends, default offloads.
		ip -n "$h" link add c0 mtu "$CMTU" type veth peer name eth0 mtu "$CMTU" netns "$c"
		ip -n "$c" addr add "${NET[$t]}.${IDX[$x]}/24" dev eth0
		ip -n "$c" link set eth0 up
		ip -n "$h" link set c0 up
	done
done

# kernel: Linux vxlan + Linux bridge (STP off, the default) in each host.
for x in A B; do
	h=${HOST[kernel.$x]}
	o=$([[ $x == A ]] && echo B || echo A)
	ip -n "$h" link add vx0 type vxlan id "$VNI" dstport "$VXPORT" \
		local "${UL[kernel]}.${IDX[$x]}" nolearning
	ip -n "$h" link add br0 type bridge
	ip -n "$h" link set vx0 master br0
	ip -n "$h" link set c0 master br0
	ip -n "$h" link set vx0 up
	ip -n "$h" link set br0 up
	bridge -n "$h" fdb append 00:00:00:00:00:00 dev vx0 dst "${UL[kernel]}.${IDX[$o]}"
done

# ubridge: a daemon in each host's network namespace, on CPU 1 (--daemon-cpus). nsenter
# --net keeps the mount namespace (its control socket under /run/ubridge
# is visible here); nsenter, taskset and env all exec, so $! is the
# daemon's PID. A background job of a script starts with SIGINT ignored;
# give the daemon its default back.
ubctl() { local x=$1; shift; "$UBCTL" -n "${BRNAME[$x]}" "$@"; }
ub_start() # A|B
{
	local x=$1 h=${HOST[ubridge.$1]} br=${BRNAME[$1]} o pid
	o=$([[ $x == A ]] && echo B || echo A)
	nsenter --net="/run/netns/$h" taskset -c "${DCPU[$x]}" env --default-signal=INT,QUIT \
		"$UBBIN" -f --no-state -n "$br" -p c0 $UBARGS >>"$TMP/ubridge-$x.log" 2>&1 &
	pid=$!
	UBPID[$x]=$pid
	daemon_wait "$pid" "$UBBIN" "$br" "$TMP/ubridge-$x.log"
	ubctl "$x" vxlan add vx0 --vni "$VNI" --local "${UL[ubridge]}.${IDX[$x]}" \
		--remote "${UL[ubridge]}.${IDX[$o]}" --dstport "$VXPORT" >/dev/null
}
for x in A B; do
	ub_start "$x"
done

ub_alive()
{
	local x
	for x in A B; do
		kill -0 "${UBPID[$x]}" 2>/dev/null || {
			echo "ubridge ${BRNAME[$x]} died:" >&2
			cat "$TMP/ubridge-$x.log" >&2
			return 1
		}
	done
}

declare -A SINKMAC
for t in $TARGETS; do
	SINKMAC[$t]=$(mac_of "${CONT[$t.B]}" eth0)
done

# Teaches both bridges where the two containers are (and fills ARP).
prime() # TARGET
{
	local t=$1
	nsx "${CONT[$t.A]}" ping -q -c 1 -W 1 "${NET[$t]}.2" >/dev/null 2>&1 ||
		echo "    prime $t: no reply from ${NET[$t]}.2" | tee -a "$TMP/log" >&2
	nsx "${CONT[$t.B]}" ping -q -c 1 -W 1 "${NET[$t]}.1" >/dev/null 2>&1 ||
		echo "    prime $t: no reply from ${NET[$t]}.1" | tee -a "$TMP/log" >&2
}

# CPU time (user + system, clock ticks) of both daemons so far.
ub_ticks() { cat "/proc/${UBPID[A]}/stat" "/proc/${UBPID[B]}/stat" | awk '{ s += $14 + $15 } END { print s }'; }
HZ=$(getconf CLK_TCK)

# "busy softirq" ticks of CPU 1 (the daemons') so far, from /proc/stat.
cpu_ticks() { awk '$1 == "cpu1" { print $2 + $3 + $4 + $7 + $8 + $9, $8 }' /proc/stat; }

# Counters of a target's hosts as "HOST.name.key value" lines: the
# interfaces' packets and drops (ip -s), the UDP errors of the host's
# stack (/proc/net/snmp: a full socket receive queue is RcvbufErrors),
# for ubridge its ports', and the machine's backlog drops
# (/proc/net/softnet_stat, not per namespace).
counters() # TARGET
{
	local t=$1 x drop rest sd=0
	while read -r _ drop rest; do
		sd=$((sd + 16#$drop))
	done </proc/net/softnet_stat
	echo "sys.softnet_dropped $sd"
	for x in A B; do
		# shellcheck disable=SC2016 # awk's own $1, $i
		nsx "${HOST[$t.$x]}" awk -v h="h$x" '$1 == "Udp:" {
			if (!hdr) { split($0, k); hdr = 1; next }
			for (i = 2; i <= NF; i++)
				if (k[i] ~ /^(InErrors|RcvbufErrors|SndbufErrors|NoPorts)$/)
					print h ".udp." k[i], $i
		}' /proc/net/snmp
		ip -n "${HOST[$t.$x]}" -s -j link show | jq -r --arg h "h$x" '.[] |
			select(.ifname != "lo") | .ifname as $n | .stats64 as $s |
			(["rx", "tx"][] as $d | $s[$d] | to_entries[] |
			select(.key | test("^(packets|dropped|errors)$")) |
			"\($h).\($n).\($d)_\(.key) \(.value)")'
		if [[ $t == ubridge ]]; then
			ubctl "$x" -j -s port show | jq -r --arg h "h$x" '.[] | .name as $n |
				to_entries[] | select(.key | test("^(rx|tx)_")) |
				"\($h).ub:\($n).\(.key) \(.value)"'
		fi
	done
}

# The counters that moved between two snapshots, one line.
deltas() # FILE0 FILE1
{
	join <(sort "$1") <(sort "$2") | awk '$3 != $2 { printf " %s+%.0f", $1, $3 - $2 }'
}

# 64-byte IPv4/UDP frames (ubgen --udp: no protocol in container B takes
# them, it drops them at once), one flow, from container A to container
# B's MAC, as fast as ubgen can: the generator on CPU 0 starts, the
# counter in container B starts 1 s later and counts for SECS.
run_pps()
{
	local sc=$1 t=$2 r=$3 gpid gen cnt rx tx c0 c1 k0 k1 w0 w1 kb0 ks0 kb1 ks1
	prime "$t"
	counters "$t" >"$TMP/ctr0"
	ip netns exec "${CONT[$t.A]}" taskset -c 0 "$UBGEN" send eth0 --dst "${SINKMAC[$t]}" \
		--size 64 --udp --seconds $((SECS + 2)) >"$TMP/gen.out" 2>&1 &
	gpid=$!
	PIDS+=("$gpid")
	sleep 1
	if [[ $t == ubridge ]]; then
		c0=$(ub_ticks)
		k0=$(cpu_ticks)
	fi
	w0=$(date +%s.%N)
	nsx "${CONT[$t.B]}" "$UBGEN" count eth0 --seconds "$SECS" >"$TMP/cnt.out" 2>&1 ||
		{ cat "$TMP/cnt.out" >&2; return 1; }
	w1=$(date +%s.%N)
	if [[ $t == ubridge ]]; then
		c1=$(ub_ticks)
		k1=$(cpu_ticks)
	fi
	wait "$gpid" || { cat "$TMP/gen.out" >&2; return 1; }
	unset 'PIDS[-1]'
	counters "$t" >"$TMP/ctr1"
	gen=$(cat "$TMP/gen.out")
	cnt=$(cat "$TMP/cnt.out")
	{
		echo "    $sc $t r$r: gen: $gen"
		echo "    $sc $t r$r: sink: $cnt"
		echo "    $sc $t r$r: counter deltas (whole run):$(deltas "$TMP/ctr0" "$TMP/ctr1")"
	} >>"$TMP/log"
	tx=$(kv pps <<<"$gen")
	rx=$(kv pps <<<"$cnt")
	record "$sc" "$t" "$r" rx_pps "$rx"
	record "$sc" "$t" "$r" tx_pps "$tx"
	if [[ $t == ubridge ]]; then
		# Both daemons' CPU (s/s) over the counting window, and per
		# frame received in container B.
		record "$sc" "$t" "$r" daemon_ns_per_frame "$(awk -v c0="$c0" -v c1="$c1" \
			-v hz="$HZ" -v w0="$w0" -v w1="$w1" -v rx="$rx" 'BEGIN {
			cpu = (c1 - c0) / hz / (w1 - w0);
			printf "%.0f", (rx > 0 ? cpu / rx * 1e9 : 0) }')"
		record "$sc" "$t" "$r" daemon_cpu_util "$(awk -v c0="$c0" -v c1="$c1" \
			-v hz="$HZ" -v w0="$w0" -v w1="$w1" \
			'BEGIN { printf "%.2f", (c1 - c0) / hz / (w1 - w0) }')"
		read -r kb0 ks0 <<<"$k0"
		read -r kb1 ks1 <<<"$k1"
		record "$sc" "$t" "$r" cpu_busy "$(awk -v a="$kb0" -v b="$kb1" \
			-v hz="$HZ" -v w0="$w0" -v w1="$w1" \
			'BEGIN { printf "%.2f", (b - a) / hz / (w1 - w0) }')"
		record "$sc" "$t" "$r" cpu_softirq "$(awk -v a="$ks0" -v b="$ks1" \
			-v hz="$HZ" -v w0="$w0" -v w1="$w1" \
			'BEGIN { printf "%.2f", (b - a) / hz / (w1 - w0) }')"
	fi
}

# iperf3, one TCP stream, default offloads. tcp: container A sends to B;
# tcp_rev: B sends to A. Either way the client (the sender) runs on CPU 0
# and the server is not pinned.
IPERF_PORT=$((20000 + $$ % 20000))
run_tcp()
{
	local sc=$1 t=$2 r=$3 snd=A rcv=B spid out bps rtx
	[[ $sc == tcp_rev ]] && { snd=B; rcv=A; }
	prime "$t"
	counters "$t" >"$TMP/ctr0"
	IPERF_PORT=$((IPERF_PORT + 1))
	ip netns exec "${CONT[$t.$rcv]}" iperf3 -s -1 -B "${NET[$t]}.${IDX[$rcv]}" \
		-p "$IPERF_PORT" >/dev/null 2>&1 &
	spid=$!
	PIDS+=("$spid")
	wait_listening "${CONT[$t.$rcv]}" t "$IPERF_PORT"
	out=$(nsx "${CONT[$t.$snd]}" taskset -c 0 iperf3 -c "${NET[$t]}.${IDX[$rcv]}" \
		-p "$IPERF_PORT" -t "$SECS" -J 2>&1) || true
	wait "$spid" 2>/dev/null || true
	unset 'PIDS[-1]'
	counters "$t" >"$TMP/ctr1"
	bps=$(jq -r '.end.sum_received.bits_per_second // empty' <<<"$out" 2>/dev/null || true)
	rtx=$(jq -r '.end.sum_sent.retransmits // empty' <<<"$out" 2>/dev/null || true)
	if [[ -z $bps ]]; then
		echo "    $sc $t r$r: iperf3 failed: $(head -c 300 <<<"$out")" | tee -a "$TMP/log" >&2
		record "$sc" "$t" "$r" gbps 0
		return 0
	fi
	echo "    $sc $t r$r: $bps bit/s, $rtx retransmits" >>"$TMP/log"
	echo "    $sc $t r$r: counter deltas:$(deltas "$TMP/ctr0" "$TMP/ctr1")" >>"$TMP/log"
	record "$sc" "$t" "$r" gbps "$(awk -v b="$bps" 'BEGIN { printf "%.3f", b / 1e9 }')"
	record "$sc" "$t" "$r" retransmits "$rtx"
}

run_one()
{
	local sc=$1 t=$2 r=$3
	case $sc in
	pps64) run_pps "$sc" "$t" "$r" ;;
	tcp | tcp_rev) run_tcp "$sc" "$t" "$r" ;;
	esac
}

# Both topologies must carry a ping before anything is measured.
for t in $TARGETS; do
	nsx "${CONT[$t.A]}" ping -q -c 3 -i 0.2 -W 1 "${NET[$t]}.2" >/dev/null ||
		{ echo "no ping across the $t overlay" >&2; exit 1; }
done

echo "==> command: $CMDLINE"
echo "==> $(nproc) CPUs, kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "==> pinning: generator and iperf3 client (the sender) on CPU 0 (taskset -c 0);"
echo "    ubridge daemons: host A's on CPU ${DCPU[A]}, host B's on CPU ${DCPU[B]}; counter and iperf3 server unpinned"
echo "==> kernel: Linux vxlan (VNI $VNI, dstport $VXPORT, nolearning) + Linux bridge per host;"
echo "    ubridge: $UBBIN, one daemon per host, vxlan port VNI $VNI"
echo "==> container MTU $CMTU, underlay MTU $(nsx "${HOST[kernel.A]}" cat /sys/class/net/ul0/mtu), kernel vx0 MTU $(nsx "${HOST[kernel.A]}" cat /sys/class/net/vx0/mtu)"
echo "==> $ROUNDS rounds x {$SCENARIOS} x {$TARGETS}, ${SECS}s per traffic run"
start=$SECONDS
for ((r = 1; r <= ROUNDS; r++)); do
	echo "==> round $r/$ROUNDS ($((SECONDS - start)) s so far)"
	for sc in $SCENARIOS; do
		for t in $TARGETS; do
			ub_alive || exit 1
			run_one "$sc" "$t" "$r"
		done
	done
done

alive=yes
ub_alive 2>/dev/null || alive=NO
echo "==> done in $((SECONDS - start)) s; both ubridge daemons still running: $alive"
echo
echo "Per-run detail:"
cat "$TMP/log"
echo
echo "Command: $CMDLINE"
echo "Medians of $ROUNDS interleaved runs [min - max]; ratio = ubridge / kernel (medians)"
echo "Pinning: generator/iperf3 client on CPU 0, ubridge daemons on CPUs ${DCPU[A]},${DCPU[B]}."
echo
table "$SCENARIOS" "$TARGETS" "kernel vxlan+bridge" 2
echo
for x in A B; do
	n=$(grep -ciE 'warn|error|fail|drop' "$TMP/ubridge-$x.log" || true)
	echo "ubridge ${BRNAME[$x]} (host $x) log: $n warning/error line(s); last lines:"
	tail -n 5 "$TMP/ubridge-$x.log" | sed 's/^/    /' || true
done
