#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/run.sh: measures ubridge against a direct veth pair (the ceiling)
# and the Linux kernel bridge on one topology it builds for itself, with
# the runs interleaved (direct, kernel, ubridge, direct, ...) and reports
# the median, min and max of each figure and the ratio ubridge/kernel.
# With --peer, other userspace forwarders (Open vSwitch's userspace
# datapath, DPDK's testpmd) are measured in the same rounds, each from
# Debian's packages, run by hand, and skipped with a note when missing.
# See bench/README.md for what each scenario means.
#
#   bench/run.sh [--rounds N] [--seconds S] [--only S1,S2,..] [--quick]
#                [--sink count|udp|drop,..] [--build-dir DIR] [--no-build]
#                [--keep-log DIR]
#                [--variant LABEL=ARGS ...] [--variant-bin LABEL=PATH ...]
#                [--variant-setup LABEL=COMMANDS ...]
#                [--peer ovs|ovs-afxdp|testpmd-afxdp|testpmd-afpacket|all ...]
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
  --perf DIR       record with 'perf record -g' during each pps run: the
                   daemon (DIR/SCENARIO-TARGET-rROUND.data, ubridge and
                   peers) and CPU 0, the generators' (...-cpu0.data, every
                   target, the kernel bridge too); this costs some
                   throughput, so do not mix with figures you publish
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
  --peer NAME      (repeatable) also measure another userspace forwarder
                   as a column of its own, interleaved with the others,
                   on two veths of its own in the bridge namespace, pinned
                   to the daemon's CPU, started before its runs and
                   stopped after them (never as a system service). NAME:
                     ovs               Open vSwitch, userspace (netdev)
                                       datapath, NORMAL (learning) bridge,
                                       ports as system (AF_PACKET) ports
                     ovs-afxdp         the same with type=afxdp ports
                     testpmd-afxdp     DPDK testpmd, io forwarding port to
                                       port (learns nothing), AF_XDP PMD
                     testpmd-afpacket  the same with the AF_PACKET PMD
                     all               all four
                   A peer whose programs are not installed is skipped
                   with a note, as is one that fails to start (with why);
                   the run goes on. Peers have two ports only: no flood,
                   pps64_2in or pps64_cap rows. See bench/README.md
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
ALL_PEERS="ovs ovs-afxdp testpmd-afxdp testpmd-afpacket"
PEERS=()
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
		[[ $2 != direct=* && $2 != kernel=* && " $ALL_PEERS " != *" ${2%%=*} "* ]] ||
			{ echo "--variant: reserved label" >&2; exit 2; }
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
	--peer)
		if [[ $2 == all ]]; then
			for p in $ALL_PEERS; do
				[[ " ${PEERS[*]} " == *" $p "* ]] || PEERS+=("$p")
			done
			shift 2
			continue
		fi
		[[ " $ALL_PEERS " == *" $2 "* ]] ||
			{ echo "--peer: unknown peer '$2' (out of: $ALL_PEERS, all)" >&2; exit 2; }
		[[ " ${PEERS[*]} " != *" $2 "* ]] || { echo "--peer: '$2' given twice" >&2; exit 2; }
		PEERS+=("$2")
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
is_ub() { [[ -v "VARGS[$1]" ]]; }
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

# ---- peers: what each needs -----------------------------------------------
#
# Each peer runs from Debian's packages, by hand (never as a service):
# a peer whose programs are not there is skipped with a note, and so is
# one that fails to start (peer_fail, below), and the run goes on.
OVS_SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
declare -A TP_PMDLIB=()
# peer_missing PEER: what PEER lacks, as a note, in PEER_WHY (empty when
# nothing).
PEER_WHY=
peer_missing()
{
	local t lib pkg miss=()
	PEER_WHY=
	case $1 in
	ovs | ovs-afxdp)
		for t in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl; do
			command -v "$t" >/dev/null || miss+=("$t")
		done
		[[ -f $OVS_SCHEMA ]] || miss+=("$OVS_SCHEMA")
		((${#miss[@]} == 0)) ||
			PEER_WHY="not installed (no ${miss[*]}; apt-get install openvswitch-switch)"
		;;
	testpmd-afxdp | testpmd-afpacket)
		lib=librte_net_af_xdp pkg=librte-net-af-xdp23
		[[ $1 == testpmd-afpacket ]] && lib=librte_net_af_packet pkg=librte-net-af-packet23
		command -v dpdk-testpmd >/dev/null || miss+=(dpdk-testpmd)
		# The EAL loads every PMD in its plugin directory by itself;
		# one found elsewhere is named with -d.
		if ! compgen -G "/usr/lib/*/dpdk/pmds-*/$lib.so*" >/dev/null; then
			t=$(compgen -G "/usr/lib/*/$lib.so.*" | head -n 1 || true)
			if [[ -n $t ]]; then
				TP_PMDLIB[$1]=$t
			else
				miss+=("$lib.so")
			fi
		fi
		((${#miss[@]} == 0)) ||
			PEER_WHY="not installed (no ${miss[*]}; apt-get install dpdk-dev $pkg)"
		;;
	esac
	return 0
}
PEERS_ON=()
NOTES=()
for p in "${PEERS[@]}"; do
	peer_missing "$p"
	if [[ -n $PEER_WHY ]]; then
		NOTES+=("peer $p: skipped, $PEER_WHY")
		echo "==> peer $p: skipped, $PEER_WHY"
	else
		PEERS_ON+=("$p")
	fi
done
is_peer() { [[ " ${PEERS_ON[*]} " == *" $1 "* ]]; }
TARGETS="direct kernel ${VARIANTS[*]}${PEERS_ON[*]:+ ${PEERS_ON[*]}}"

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

# Waits up to 5 s for process PID to end.
wait_gone() # PID
{
	for _ in $(seq 50); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
}
# Ends process PID of ours: SIGTERM, SIGKILL after 5 s (it may be gone
# already: no failure under set -e).
stop_pid() # PID
{
	kill -TERM "$1" 2>/dev/null || true
	wait_gone "$1"
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

ub_stop()
{
	[[ -n $UBPID ]] || return 0
	stop_pid "$UBPID"
	UBPID=
	UBVAR=
}

# ---- the peers ------------------------------------------------------------
#
# One peer runs at a time, and only for its own runs: testpmd's
# forwarding lcore and OVS's PMD thread poll without sleeping and would
# take CPU $DCPU from every other target (ubridge is stopped for a peer's
# runs too). Peer N has two veths of its own in the bridge namespace,
# gpN and spN, like ubridge's gu and su. What the peers write besides
# their logs (OVS's databases, sockets and pid files) goes under PRUN,
# removed at exit; their logs go to TMP (kept with --keep-log).
declare -A PEERIDX=()
for i in "${!PEERS_ON[@]}"; do
	PEERIDX[${PEERS_ON[i]}]=$((i + 1))
done
PRUN=
((${#PEERS_ON[@]} == 0)) || PRUN=$(mktemp -d /tmp/ubpeer.XXXXXX)
PEERPID=
PEERNAME=
PEERSTARTS=0
declare -A OVSDB=()
declare -A PEER_DEAD=()
OVS_VSWITCHD=
TESTPMD=
if is_peer ovs || is_peer ovs-afxdp; then
	OVS_VSWITCHD=$(realpath -e -- "$(command -v ovs-vswitchd)")
fi
if is_peer testpmd-afxdp || is_peer testpmd-afpacket; then
	TESTPMD=$(realpath -e -- "$(command -v dpdk-testpmd)")
fi

# What a peer is, for the header.
peer_desc() # PEER
{
	local n=${PEERIDX[$1]} v
	case $1 in
	ovs | ovs-afxdp)
		v=$(ovs-vswitchd --version 2>/dev/null | awk 'NR == 1 { print $NF }')
		echo -n "Open vSwitch $v (ovs-vswitchd --disable-system, own ovsdb-server), userspace"
		echo -n " datapath (netdev), bridge ovsbr$n with its default NORMAL flow (learns),"
		if [[ $1 == ovs ]]; then
			echo -n " gp$n/sp$n as system ports (AF_PACKET),"
		else
			echo -n " gp$n/sp$n as type=afxdp ports (xdp-mode best-effort),"
		fi
		echo " one PMD thread (pmd-cpu-mask) and the process on CPU $DCPU, userspace TSO on" ;;
	testpmd-afxdp | testpmd-afpacket)
		v=$(dpkg-query -W -f '${Version}' dpdk-dev 2>/dev/null || true)
		echo -n "DPDK dpdk-testpmd ${v:-(version unknown)}, --no-huge --no-pci,"
		if [[ $1 == testpmd-afxdp ]]; then
			echo -n " --vdev net_af_xdp (AF_XDP PMD, libxdp without its dispatcher)"
		else
			echo -n " --vdev net_af_packet (AF_PACKET PMD)"
		fi
		echo " on gp$n and sp$n, --forward-mode=io port to port (learns nothing), main and forwarding lcore on CPU $DCPU" ;;
	esac
}

# PEER's last error lines (else its last lines), on one line.
peer_lastlog() # PEER
{
	local f=$TMP/$1.log
	[[ $1 == ovs* && -s $TMP/$1-ovs-vswitchd.log ]] && f=$TMP/$1-ovs-vswitchd.log
	{ grep -E 'ERR|EMER|WARN|[Ee]rror|[Ff]ail|[Cc]annot|[Uu]nable' "$f" 2>/dev/null ||
		tail -n 3 "$f" 2>/dev/null; } | tail -n 3 | tr -s '\n\t' '  ' | cut -c 1-400
}

# The peer started in the background as PEERPID runs BIN (the commands in
# front of it exec in turn: its executable tells).
peer_exe() # BIN
{
	for _ in $(seq 50); do
		[[ $(readlink "/proc/$PEERPID/exe" 2>/dev/null) == "$1" ]] && return 0
		kill -0 "$PEERPID" 2>/dev/null || break
		sleep 0.1
	done
	PEER_WHY="${1##*/} did not start: $(peer_lastlog "$PEERNAME")"
	return 1
}

vsctl() # PEER ARGS...: ovs-vsctl on PEER's own database
{
	local p=$1
	shift
	ovs-vsctl --db="unix:$PRUN/$p/db.sock" --timeout=20 "$@"
}

# An OVS peer's database and its ovsdb-server, which runs until exit (it
# only answers ovs-vsctl and ovs-vswitchd: idle during the runs), and in
# it the bridge: userspace datapath (datapath_type=netdev; ovs-vswitchd
# runs with --disable-system, so there is no other), its PMD thread on
# CPU $DCPU, userspace TSO on, the bridge's default flow NORMAL (a
# learning switch), and the two veths as its ports.
ovs_setup() # PEER
{
	local p=$1 d=$PRUN/$1 n=${PEERIDX[$1]} ports=()
	mkdir -p "$d"
	ovsdb-tool create "$d/conf.db" "$OVS_SCHEMA" >>"$TMP/$p.log" 2>&1 ||
		{ PEER_WHY="ovsdb-tool create failed: $(peer_lastlog "$p")"; return 1; }
	taskset -c "$DCPU" ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" \
		--pidfile="$d/ovsdb-server.pid" --unixctl="$d/ovsdb-server.ctl" \
		--log-file="$TMP/$p-ovsdb-server.log" --no-chdir -vconsole:off -vsyslog:off \
		>>"$TMP/$p.log" 2>&1 &
	OVSDB[$p]=$!
	for _ in $(seq 50); do
		[[ -S $d/db.sock ]] && break
		kill -0 "${OVSDB[$p]}" 2>/dev/null || break
		sleep 0.1
	done
	[[ -S $d/db.sock ]] || { PEER_WHY="ovsdb-server did not start: $(peer_lastlog "$p")"; return 1; }
	[[ $p == ovs-afxdp ]] &&
		ports=(-- set Interface "gp$n" type=afxdp -- set Interface "sp$n" type=afxdp)
	vsctl "$p" --no-wait init -- set Open_vSwitch . \
		"other_config:pmd-cpu-mask=$(printf '%x' $((1 << DCPU)))" \
		other_config:userspace-tso-enable=true \
		-- add-br "ovsbr$n" -- set Bridge "ovsbr$n" datapath_type=netdev \
		-- add-port "ovsbr$n" "gp$n" -- add-port "ovsbr$n" "sp$n" "${ports[@]}" \
		>>"$TMP/$p.log" 2>&1 ||
		{ PEER_WHY="ovs-vsctl failed: $(tail -n 1 "$TMP/$p.log")"; return 1; }
}

# ovs-vswitchd in the bridge namespace, on CPU $DCPU, until peer_stop.
# libxdp (type=afxdp ports) finds no BPF file system in the namespace
# (ip netns exec mounts a sysfs of its own) to pin its dispatcher to:
# LIBXDP_SKIP_DISPATCHER makes it attach the one program directly.
ovs_start() # PEER
{
	local p=$1 d=$PRUN/$1 n=${PEERIDX[$1]} ifc ofp
	[[ -n ${OVSDB[$p]:-} ]] || ovs_setup "$p" || return 1
	PEERSTARTS=$((PEERSTARTS + 1))
	echo "== start $PEERSTARTS" >>"$TMP/$p.log"
	ip netns exec "$B" taskset -c "$DCPU" env --default-signal=INT,QUIT LIBXDP_SKIP_DISPATCHER=1 \
		"$OVS_VSWITCHD" "unix:$d/db.sock" --pidfile="$d/ovs-vswitchd.pid" \
		--unixctl="$d/ovs-vswitchd.ctl" --log-file="$TMP/$p-ovs-vswitchd.log" \
		--disable-system --no-chdir -vconsole:off -vsyslog:off >>"$TMP/$p.log" 2>&1 &
	PEERPID=$!
	PEERNAME=$p
	peer_exe "$OVS_VSWITCHD" || return 1
	# A change makes ovs-vsctl wait until ovs-vswitchd has applied the
	# whole configuration (its cur_cfg), the ports included.
	vsctl "$p" set Open_vSwitch . "external_ids:ub-start=$PEERSTARTS" >>"$TMP/$p.log" 2>&1 ||
		{ PEER_WHY="ovs-vswitchd did not apply its configuration: $(peer_lastlog "$p")"; return 1; }
	for ifc in "gp$n" "sp$n"; do
		ofp=$(vsctl "$p" get Interface "$ifc" ofport 2>&1)
		[[ $ofp =~ ^[1-9][0-9]*$ ]] || {
			PEER_WHY="port $ifc not attached (ofport $ofp): $(vsctl "$p" get Interface "$ifc" error 2>&1)"
			return 1
		}
	done
}

# testpmd in the bridge namespace: its main lcore (which sleeps) and its
# one forwarding lcore (which polls both ports without sleeping) both on
# CPU $DCPU; no hugepages, no PCI (--in-memory cannot go with --no-huge
# in DPDK 22.11, so the EAL keeps its files in a directory for its file
# prefix under /var/run/dpdk, which peers_cleanup removes). Not interactive: it starts forwarding at once,
# and --stats-period keeps it running (instead of reading a line from
# stdin and exiting) until peer_stop's SIGTERM. stdbuf: its lines reach
# the log as written.
[[ -d /var/run/dpdk ]] && DPDK_RUNDIR_WAS=1 || DPDK_RUNDIR_WAS=0
tp_start() # PEER
{
	local p=$1 n=${PEERIDX[$1]} pmd=net_af_xdp log=$TMP/$1.log off eal=()
	[[ $p == testpmd-afpacket ]] && pmd=net_af_packet
	[[ -z ${TP_PMDLIB[$p]:-} ]] || eal=(-d "${TP_PMDLIB[$p]}")
	PEERSTARTS=$((PEERSTARTS + 1))
	echo "== start $PEERSTARTS" >>"$log"
	off=$(stat -c %s "$log")
	ip netns exec "$B" taskset -c "$DCPU" env --default-signal=INT,QUIT LIBXDP_SKIP_DISPATCHER=1 \
		stdbuf -oL -eL "$TESTPMD" --lcores "0@$DCPU,1@$DCPU" --no-huge -m 512 --no-pci \
		--no-telemetry --file-prefix "$P-$p" "${eal[@]}" \
		--vdev "${pmd}0,iface=gp$n" --vdev "${pmd}1,iface=sp$n" -- \
		--forward-mode=io --nb-cores=1 --total-num-mbufs=16384 --stats-period=86400 \
		</dev/null >>"$log" 2>&1 &
	PEERPID=$!
	PEERNAME=$p
	peer_exe "$TESTPMD" || return 1
	for _ in $(seq 200); do
		tail -c +$((off + 1)) "$log" | grep -q 'packet forwarding - ports=' && return 0
		kill -0 "$PEERPID" 2>/dev/null || break
		sleep 0.1
	done
	PEER_WHY="testpmd did not start forwarding: $(tail -c +$((off + 1)) "$log" |
		grep -Ev '^(EAL: (Detected|Selected)|TELEMETRY)' | tail -n 4 | tr -s '\n\t' '  ' | cut -c 1-400)"
	return 1
}

peer_start() # PEER
{
	PEER_WHY=
	case $1 in
	ovs | ovs-afxdp) ovs_start "$1" ;;
	testpmd-*) tp_start "$1" ;;
	esac
}

# Stops the running peer (SIGTERM, SIGKILL after 5 s), and takes off an
# XDP program it left on its ports (killed before it could), which would
# make its next start fail. Only this run's veths are touched.
peer_stop()
{
	local n ifc
	[[ -n $PEERPID ]] || return 0
	# ovs-vswitchd exits cleanly (ports closed, XDP programs off) when
	# told to; SIGTERM may leave that undone.
	if [[ $PEERNAME == ovs* ]]; then
		timeout 10 ovs-appctl --timeout=5 -t "$PRUN/$PEERNAME/ovs-vswitchd.ctl" exit --cleanup \
			>/dev/null 2>&1 || true
		wait_gone "$PEERPID"
	fi
	stop_pid "$PEERPID"
	n=${PEERIDX[$PEERNAME]}
	for ifc in "gp$n" "sp$n"; do
		if ip -n "$B" link show dev "$ifc" 2>/dev/null | grep -q ' xdp'; then
			echo "== $ifc: XDP program left attached, taken off" >>"$TMP/$PEERNAME.log"
			ip -n "$B" link set dev "$ifc" xdp off 2>/dev/null || true
			ip -n "$B" link set dev "$ifc" xdpgeneric off 2>/dev/null || true
		fi
	done
	PEERPID=
	PEERNAME=
}

# PEER runs (started now unless it already does), else a note and no
# more runs of it.
peer_up() # PEER
{
	[[ $PEERNAME == "$1" ]] && kill -0 "$PEERPID" 2>/dev/null && return 0
	peer_stop
	if ! peer_start "$1"; then
		peer_fail "$1" "could not start: $PEER_WHY"
		return 1
	fi
}
peer_fail() # PEER WHY
{
	peer_stop
	PEER_DEAD[$1]=$2
	NOTES+=("peer $1: skipped from then on, $2")
	echo "==> peer $1: skipped from now on, $2"
	echo "    peer $1: $2" >>"$TMP/log"
}

# The OVS peers' ovsdb-servers, PRUN, and testpmd's run directories.
peers_cleanup()
{
	local p
	for p in "${!OVSDB[@]}"; do
		stop_pid "${OVSDB[$p]}"
	done
	OVSDB=()
	[[ -z $PRUN ]] || rm -rf "$PRUN"
	[[ " ${PEERS_ON[*]} " == *" testpmd-"* ]] || return 0
	for p in "${PEERS_ON[@]}"; do
		[[ $p != testpmd-* ]] || rm -rf "/var/run/dpdk/$P-$p"
	done
	((DPDK_RUNDIR_WAS)) || rmdir /var/run/dpdk 2>/dev/null || true
}

stop_daemons() { peer_stop; ub_stop; peers_cleanup; }
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
# (d) peer N: pN -- gpN [peer, CPU 1] spN -- pN, subnet 10.(3+N).0.0/24.
for p in "${PEERS_ON[@]}"; do
	n=${PEERIDX[$p]}
	veth "$G" "p$n" "$B" "gp$n"
	veth "$S" "p$n" "$B" "sp$n"
	ip -n "$G" addr add "10.$((3 + n)).0.1/24" dev "p$n"
	ip -n "$S" addr add "10.$((3 + n)).0.2/24" dev "p$n"
done

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
for p in "${PEERS_ON[@]}"; do
	IFN[$p]=p${PEERIDX[$p]}
	NET[$p]=10.$((3 + PEERIDX[$p])).0
done
PATHS=(direct kernel ubridge "${PEERS_ON[@]}")
declare -A SINKMAC
for t in "${PATHS[@]}"; do
	SINKMAC[$t]=$(mac_of "$S" "${IFN[$t]}")
done
# The path (direct, kernel, ubridge, or the peer itself) a target's
# traffic takes.
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
for t in "${PATHS[@]}"; do
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

# CPU time (user + system, clock ticks, all its threads) of a daemon so far.
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# The process a target's CPU figures are taken from: the ubridge daemon,
# or the peer's (ovs-vswitchd, dpdk-testpmd); none for direct and kernel.
daemon_pid()
{
	if is_ub "$1"; then
		echo "$UBPID"
	elif is_peer "$1"; then
		echo "$PEERPID"
	fi
}
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
	local sink=count spid ga=() ga2=() dpid
	[[ $sc == *@* ]] && sink=${sc#*@}
	dpid=$(daemon_pid "$t")
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
	if [[ -n $dpid ]]; then
		if is_ub "$t"; then
			ub_counters >"$TMP/ubc0"
		fi
		c0=$(proc_ticks "$dpid")
		k0=$(cpu_ticks)
	fi
	local ppid ppids=()
	if [[ -n $PERF ]]; then
		mkdir -p "$PERF"
		# The generators' CPU, for every target: the sender's side of
		# the path (its send, and the receive into the bridge).
		perf record -q -g -C 0 -o "$PERF/$sc-$t-r$r-cpu0.data" \
			-- sleep "$SECS" >/dev/null 2>&1 &
		ppids+=("$!")
		if [[ -n $dpid ]]; then
			perf record -q -g -p "$dpid" -o "$PERF/$sc-$t-r$r.data" \
				-- sleep "$SECS" >/dev/null 2>&1 &
			ppids+=("$!")
		fi
		PIDS+=("${ppids[@]}")
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
	if [[ -n $dpid ]]; then
		c1=$(proc_ticks "$dpid")
		k1=$(cpu_ticks)
		if is_ub "$t"; then
			ub_counters >"$TMP/ubc1"
		fi
	fi
	for ppid in "${ppids[@]}"; do
		wait "$ppid" || true
		unset 'PIDS[-1]'
	done
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
	if [[ -n $dpid ]]; then
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
	fi
	if is_ub "$t"; then
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
((${#PEERS_ON[@]} == 0)) ||
	echo "    peers on CPU $DCPU too, each running only for its own runs (ubridge stopped meanwhile)"
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
for p in "${PEERS_ON[@]}"; do
	echo "    peer $p: $(peer_desc "$p")"
done
((${#PEERS_ON[@]} == 0)) ||
	echo "    peers have two ports (no flood, pps64_2in or pps64_cap rows); testpmd forwards port to port"
for n in "${NOTES[@]}"; do
	echo "    $n"
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
			# A peer has two ports: nothing to flood to, no second
			# way in.
			[[ ${sc%@*} == flood || ${sc%@*} == pps64_2in ]] && is_peer "$t" && continue
			if is_peer "$t"; then
				[[ -z ${PEER_DEAD[$t]:-} ]] || continue
				# Only one forwarder on CPU $DCPU at a time.
				if [[ -n $UBPID ]] && ! kill -0 "$UBPID" 2>/dev/null; then
					echo "ubridge died:" >&2
					cat "$TMP/ubridge.log" >&2
					exit 1
				fi
				ub_stop
				peer_up "$t" || continue
			else
				peer_stop
			fi
			if is_ub "$t"; then
				ub_start "$t"
				kill -0 "$UBPID" 2>/dev/null || { echo "ubridge died:" >&2; cat "$TMP/ubridge.log" >&2; exit 1; }
			fi
			run_one "$sc" "$t" "$r"
			if is_peer "$t" && ! kill -0 "$PEERPID" 2>/dev/null; then
				peer_fail "$t" "died during $sc: $(peer_lastlog "$t")"
			fi
		done
	done
done

peer_stop
if [[ -n $UBPID ]]; then
	echo "==> done in $((SECONDS - start)) s; ubridge ($UBVAR) still running: $(kill -0 "$UBPID" 2>/dev/null && echo yes || echo NO)"
else
	echo "==> done in $((SECONDS - start)) s; ubridge stopped for the peers' runs (it ran through its own)"
fi
echo
echo "Per-run detail:"
cat "$TMP/log"
echo
echo "Medians of $ROUNDS interleaved runs [min - max]; ratio = variant (or peer) / kernel (medians)"
echo "Pinning: generator(s)/iperf3 client/ping on CPU 0, ubridge daemon${PEERS_ON[*]:+ and peers} on CPU $DCPU."
for n in "${NOTES[@]}"; do
	echo "Note: $n"
done
echo
table "$RUNS" "$TARGETS" "kernel bridge" 3
[[ $SINKS == count ]] ||
	echo "Sink: $(sink_noports) UDP datagrams to no socket (ICMP port unreachable) in the whole run"
echo
echo "ubridge log (last lines):"
tail -n 5 "$TMP/ubridge.log" || true
for p in "${PEERS_ON[@]}"; do
	f=$TMP/$p.log
	[[ $p == ovs* && -s $TMP/$p-ovs-vswitchd.log ]] && f=$TMP/$p-ovs-vswitchd.log
	echo "peer $p log, ${f##*/} (last lines):"
	tail -n 3 "$f" 2>/dev/null || true
done
