#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/ports.sh: what a port costs in time and memory, ubridge against the
# kernel bridge, in one run. It makes N veth pairs of its own and prints:
#   - ubridge, ports added with "ubctl port add", one by one or (--batch K)
#     K names per call: the wall time for all of them, how many the daemon
#     refused (and the first refusal), the daemon's resident memory (VmRSS)
#     and open descriptors before and after and per port, what a ubctl
#     round trip costs alone; then, with every port that could be attached,
#     whether frames cross: known unicast from the first port's peer to
#     the last's and back, and broadcast from the first to a third port's
#     peer, each as frames counted out of frames sent; and the time from
#     SIGTERM to its exit;
#   - ubridge, the first 64 of them (the most it takes) given with -p at
#     start: the time until "port show" lists them all, VmRSS, and the
#     time to stop;
#   - the kernel bridge: "ip link set ... master" for every port (one ip
#     -batch; 1023 at most, its limit), and "ip link del" of the bridge
#     (which releases them).
# With --trace, one more "ubctl port add" runs under strace -f -T attached
# to the daemon and the slowest system calls of that attach are printed.
# It measures and prints; it asserts nothing.
#
#   bench/ports.sh [--ports N] [--batch K] [--build-dir DIR] [--only LIST]
#                  [--trace] [--daemon-args ARGS]
#
# Needs root, iproute2, jq (and strace for --trace).

set -euo pipefail

usage()
{
	cat <<EOF
Usage: $0 [OPTIONS]

  --ports N          veth pairs to attach (default 1024)
  --batch K          names per "ubctl port add" call, 1 to 28 (default 1:
                     one by one); K > 1 needs a daemon that takes several
  --build-dir DIR    where ubridge and ubctl were built (default:
                     <repo>/build)
  --only LIST        comma-separated out of: add,start,kernel (default all)
  --trace            also strace one attach (needs strace)
  --daemon-args ARGS more options for every ubridge started
  -h, --help         this help
EOF
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
NPORTS=1024
BATCH=1
ONLY=add,start,kernel
TRACE=0
DARGS=

while (($#)); do
	case $1 in
	--ports) NPORTS=$2; shift ;;
	--batch) BATCH=$2; shift ;;
	--build-dir) BUILD=$2; shift ;;
	--only) ONLY=$2; shift ;;
	--trace) TRACE=1 ;;
	--daemon-args) DARGS=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

# 9999 pairs at most: the interface names below have room for 4 digits.
[[ $NPORTS =~ ^[1-9][0-9]{0,3}$ ]] || { echo "$0: --ports takes 1 to 9999" >&2; exit 2; }
# A request is 32 words at most: "port add" and 28 names leave room.
if ! [[ $BATCH =~ ^[1-9][0-9]?$ ]] || ((BATCH > 28)); then
	echo "$0: --batch takes 1 to 28" >&2
	exit 2
fi

UBRIDGE=$BUILD/tools/ubridge
UBCTL=$BUILD/tools/ubctl
UBGEN=$BUILD/bench/ubgen
[[ $EUID -eq 0 ]] || { echo "$0: needs root" >&2; exit 1; }
[[ -x $UBRIDGE && -x $UBCTL ]] || { echo "$0: no ubridge/ubctl in $BUILD/tools" >&2; exit 1; }
[[ ,$ONLY, != *,add,* || -x $UBGEN ]] || { echo "$0: no ubgen in $BUILD/bench" >&2; exit 1; }
command -v jq >/dev/null || { echo "$0: needs jq" >&2; exit 1; }
((TRACE == 0)) || command -v strace >/dev/null || { echo "$0: --trace needs strace" >&2; exit 1; }

# "up" + PID (7 digits at most) + a/b + index (4 digits): within IFNAMSIZ.
PFX=up$$
BRNAME=${PFX}
KBR=${PFX}kb
TMP=$(mktemp -d "/tmp/ubports.XXXXXX")
DPID=
MADE=0

cleanup()
{
	set +e
	if [[ -n $DPID ]] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID"
		wait "$DPID" 2>/dev/null
	fi
	ip link del "$KBR" 2>/dev/null
	# Deleting one end of a veth pair deletes both.
	for ((i = 0; i < MADE; i++)); do
		echo "link del ${PFX}a$i"
	done >"$TMP/del.batch"
	((MADE == 0)) || ip -force -batch "$TMP/del.batch" 2>/dev/null
	[[ -n ${KEEP:-} ]] && cp -r "$TMP" "$KEEP"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { echo "$EPOCHREALTIME"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
fds() { local f=("/proc/$1/fd/"*); echo "${#f[@]}"; }
mac() { cat "/sys/class/net/$1/address"; }
port_count() { "$UBCTL" -n "$BRNAME" -j port show 2>/dev/null | jq length 2>/dev/null || echo 0; }

step() { printf '==> %s\n' "$*"; }
say() { printf '    %-44s %s\n' "$1" "$2"; }

# The pairs: a<i> is the port, b<i> its peer; both up, with no IPv6
# address (no router solicitations flooding across the bridge).
step "making $NPORTS veth pairs ($PFX*)"
for ((i = 0; i < NPORTS; i++)); do
	echo "link add ${PFX}a$i type veth peer name ${PFX}b$i"
done >"$TMP/add.batch"
for ((i = 0; i < NPORTS; i++)); do
	echo "link set ${PFX}a$i addrgenmode none"
	echo "link set ${PFX}b$i addrgenmode none"
	echo "link set ${PFX}a$i up"
	echo "link set ${PFX}b$i up"
done >"$TMP/up.batch"
MADE=$NPORTS
ip -batch "$TMP/add.batch"
ip -batch "$TMP/up.batch"

# start_daemon ARGS...: ubridge in the foreground, its PID in DPID, once
# its socket answers.
start_daemon()
{
	# shellcheck disable=SC2086 # DARGS are words
	"$UBRIDGE" -f -q --no-state -n "$BRNAME" $DARGS "$@" 2>>"$TMP/daemon.log" &
	DPID=$!
	for ((j = 0; j < 600; j++)); do
		"$UBCTL" -n "$BRNAME" stats >/dev/null 2>&1 && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	echo "ubridge did not start: $(tail -n 3 "$TMP/daemon.log")" >&2
	exit 1
}

# stop_daemon: SIGTERM, and the seconds until it exited.
stop_daemon()
{
	local t0 rc=0

	t0=$(now)
	kill -TERM "$DPID"
	wait "$DPID" || rc=$?
	say "stop (SIGTERM to exit)" "$(secs "$t0" "$(now)") s (exit $rc)"
	DPID=
}

# attach_all: every a<i>, BATCH names per "ubctl port add". A refusal is
# counted (FAILED of CALLS) and the first one kept (FIRST_ERR), and the
# attaching goes on: past the daemon's port limit, or with --batch K > 1
# against a daemon that takes one name, every call fails, and that is
# what is reported.
attach_all()
{
	local i j names what

	CALLS=0 FAILED=0 FIRST_ERR=
	for ((i = 0; i < NPORTS; i += BATCH)); do
		names=()
		for ((j = i; j < i + BATCH && j < NPORTS; j++)); do
			names+=("${PFX}a$j")
		done
		CALLS=$((CALLS + 1))
		"$UBCTL" -n "$BRNAME" port add "${names[@]}" >/dev/null 2>"$TMP/add.err" && continue
		FAILED=$((FAILED + 1))
		[[ -z $FIRST_ERR ]] || continue
		what=${names[0]}
		((${#names[@]} == 1)) || what+="..${names[-1]}"
		FIRST_ERR="port add $what: $(head -n 1 "$TMP/add.err")"
	done
}

# attached_ports: the indices i of the a<i> the daemon lists, ascending,
# in ATTACHED.
attached_ports()
{
	mapfile -t ATTACHED < <("$UBCTL" -n "$BRNAME" -j port show |
		jq -r --arg p "${PFX}a" '.[].name | select(startswith($p)) | ltrimstr($p)' |
		sort -n)
}

# send_count FROM TO DST N RATE: N frames out of FROM to DST (with FROM's
# MAC as source) at RATE per second, counted as they come out of TO;
# "arrived / sent" in COUNTED. The counter runs for 3 s and is given
# 0.5 s to bind first.
send_count()
{
	local from=$1 to=$2 dst=$3 n=$4 rate=$5 cpid sent got

	"$UBGEN" count "$to" --seconds 3 >"$TMP/count.out" 2>&1 &
	cpid=$!
	sleep 0.5
	"$UBGEN" send "$from" --src "$(mac "$from")" --dst "$dst" --count "$n" \
		--rate "$rate" >"$TMP/send.out" 2>&1 || true
	wait "$cpid" || true
	sent=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' "$TMP/send.out")
	got=$(sed -n 's/.* frames=\([0-9]*\).*/\1/p' "$TMP/count.out")
	COUNTED="${got:-?} / ${sent:-?} arrived"
	[[ -n $sent && -n $got ]] ||
		COUNTED+=" ($(tail -qn 1 "$TMP/send.out" "$TMP/count.out" | tr '\n' ' '))"
}

# fwd_check: with every port attached, frames between the peers (b<i>)
# of the first and the last attached port, both ways, once each MAC is
# learned (known unicast), and broadcast from the first to the peer of
# one in the middle. Printed, not checked.
fwd_check()
{
	local na=${#ATTACHED[@]} first last mid

	if ((na < 3)); then
		step "forwarding: needs 3 attached ports, $na are"
		return
	fi
	first=${PFX}b${ATTACHED[0]}
	last=${PFX}b${ATTACHED[-1]}
	mid=${PFX}b${ATTACHED[na / 2]}
	step "forwarding with $na ports attached (printed, not checked)"
	# One frame each way first, so that the bridge learns both MACs
	# (the first one is flooded to every port).
	"$UBGEN" send "$last" --src "$(mac "$last")" --dst "$(mac "$first")" --count 1 >/dev/null 2>&1 || true
	"$UBGEN" send "$first" --src "$(mac "$first")" --dst "$(mac "$last")" --count 1 >/dev/null 2>&1 || true
	sleep 0.2
	send_count "$first" "$last" "$(mac "$last")" 1000 10000
	say "unicast $first -> $last" "$COUNTED"
	send_count "$last" "$first" "$(mac "$first")" 1000 10000
	say "unicast $last -> $first" "$COUNTED"
	# Each one copied to every other port: few, and slowly.
	send_count "$first" "$mid" ff:ff:ff:ff:ff:ff 100 100
	say "broadcast $first, seen on $mid" "$COUNTED"
}

# trace_one: the last attached port again, attached under strace, its
# slowest calls.
trace_one()
{
	local ifc

	((${#ATTACHED[@]})) || { step "--trace: no port attached to trace"; return; }
	ifc=${PFX}a${ATTACHED[-1]}

	"$UBCTL" -n "$BRNAME" port del "$ifc" >/dev/null
	strace -f -T -tt -qq -o "$TMP/strace" -p "$DPID" &
	local spid=$!
	sleep 0.5
	"$UBCTL" -n "$BRNAME" port add "$ifc" >/dev/null
	sleep 0.2
	kill -INT "$spid"
	wait "$spid" 2>/dev/null || true
	step "the slowest system calls of one attach (strace -f -T)"
	grep -E '<[0-9.]+>$' "$TMP/strace" |
		sed -E 's/^([0-9]+ +)?[0-9:.]+ (.{0,70}).*<([0-9.]+)>$/\3 \2/' |
		sort -rn | sed -n '1,12s/^/    /p'
	awk '{ if (match($0, /<[0-9.]+>$/)) s += substr($0, RSTART + 1, RLENGTH - 2) }
	     END { printf "    total in system calls: %.1f ms\n", s * 1000 }' "$TMP/strace"
}

if [[ ,$ONLY, == *,add,* ]]; then
	if ((BATCH == 1)); then
		step "ubridge: $NPORTS x ubctl port add"
	else
		step "ubridge: $NPORTS ports, $BATCH per ubctl port add"
	fi
	start_daemon
	rss0=$(rss_kb "$DPID")
	fds0=$(fds "$DPID")
	t0=$(now)
	attach_all
	t1=$(now)
	rss1=$(rss_kb "$DPID")
	fds1=$(fds "$DPID")
	attached_ports
	na=${#ATTACHED[@]}
	say "attach $NPORTS ports" "$(secs "$t0" "$t1") s ($(awk -v s="$(secs "$t0" "$t1")" -v n="$NPORTS" 'BEGIN { printf "%.2f", s * 1000 / n }') ms per port asked)"
	say "ports listed by the daemon" "$na of $NPORTS"
	if ((FAILED)); then
		say "ubctl port add calls that failed" "$FAILED of $CALLS"
		say "first failure" "$FIRST_ERR"
	fi
	say "VmRSS before / after" "$rss0 kB / $rss1 kB"
	say "open descriptors before / after" "$fds0 / $fds1"
	if ((na)); then
		say "VmRSS per port" "$(((rss1 - rss0) / na)) kB"
		say "descriptors per port" "$(awk -v a="$fds0" -v b="$fds1" -v n="$na" 'BEGIN { printf "%.2f", (b - a) / n }')"
	fi
	# What a ubctl round trip costs without an attach, for comparison.
	t0=$(now)
	for ((i = 0; i < 50; i++)); do
		"$UBCTL" -n "$BRNAME" stats >/dev/null
	done
	say "ubctl stats (a round trip, no attach)" "$(awk -v s="$(secs "$t0" "$(now)")" 'BEGIN { printf "%.2f", s * 1000 / 50 }') ms"
	fwd_check
	((TRACE == 0)) || trace_one
	stop_daemon
fi

if [[ ,$ONLY, == *,start,* ]]; then
	# The daemon takes at most 64 -p options.
	np=$((NPORTS < 64 ? NPORTS : 64))
	step "ubridge: $np x -p at start (at most 64)"
	args=()
	for ((i = 0; i < np; i++)); do
		args+=(-p "${PFX}a$i")
	done
	t0=$(now)
	start_daemon "${args[@]}"
	while (($(port_count) < np)); do
		kill -0 "$DPID" 2>/dev/null || { echo "ubridge exited" >&2; exit 1; }
		sleep 0.05
	done
	t1=$(now)
	say "start with $np ports, all listed" "$(secs "$t0" "$t1") s"
	say "VmRSS, open descriptors" "$(rss_kb "$DPID") kB, $(fds "$DPID")"
	stop_daemon
fi

if [[ ,$ONLY, == *,kernel,* ]]; then
	# A Linux bridge has at most 1023 ports (BR_MAX_PORTS 1024, port
	# number 0 unused).
	nk=$((NPORTS < 1023 ? NPORTS : 1023))
	step "kernel bridge: $nk x ip link set ... master (one ip -batch)"
	ip link add "$KBR" type bridge
	ip link set "$KBR" up
	for ((i = 0; i < nk; i++)); do
		echo "link set ${PFX}a$i master $KBR"
	done >"$TMP/master.batch"
	t0=$(now)
	ip -batch "$TMP/master.batch"
	t1=$(now)
	say "attach $nk ports" "$(secs "$t0" "$t1") s ($(awk -v s="$(secs "$t0" "$t1")" -v n="$nk" 'BEGIN { printf "%.2f", s * 1000 / n }') ms per port)"
	t0=$(now)
	ip link del "$KBR"
	say "ip link del (releases the ports)" "$(secs "$t0" "$(now)") s"
fi
